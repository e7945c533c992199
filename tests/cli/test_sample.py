"""``recist sample OUT``."""

from __future__ import annotations

import json

import pytest

from recist.cli import main


def test_sample_writes_the_patient_and_says_what(tmp_path, capsys):
    out = tmp_path / "net"
    assert main(["sample", str(out), "--seed", "7"]) == 0
    printed = capsys.readouterr().out
    assert "wrote the small sample patient NET-001" in printed
    assert "N1   new" in printed and "short axis 18.0 mm" in printed
    for folder in ("baseline", "week12", "week24"):
        assert len(list((out / folder / "CT").glob("*.dcm"))) == 36
        assert len(list((out / folder / "PT").glob("*.dcm"))) == 36
        assert (out / folder / "lesions.nii.gz").is_file()
    assert json.loads((out / "case.json").read_text())["format"] == "recist.case/1"
    assert json.loads((out / "truth.json").read_text())["size"] == "small"


def test_sample_rejects_an_unknown_size(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sample", str(tmp_path), "--size", "huge"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
