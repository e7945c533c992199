"""``recist series PATH``: table and JSON listing, skipped files on stderr, exit status."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from recist.cli import main


def _write_series(*args, **kwargs) -> list[Path]:
    """tests/io/dicom_factory.write_series (loaded by path: tests/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "io" / "dicom_factory.py"
    spec = importlib.util.spec_from_file_location("recist_test_dicom_factory", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_series(*args, **kwargs)


def test_table_lists_series_and_reports_skipped(tmp_path, capsys):
    _write_series(tmp_path, shape=(6, 10, 12), spacing_mm=(2.5, 0.7, 0.9),
                  extra={"SeriesDescription": "CT abdomen", "PatientID": "NET-001"})
    gap = _write_series(tmp_path, shape=(4, 8, 8), modality="PT", extra={"SeriesDescription": "PET AC"})
    gap[2].unlink()
    (tmp_path / "notes.txt").write_text("not DICOM")
    assert main(["series", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    header, *rows = out.splitlines()
    assert header.split()[:6] == ["#", "patient", "date", "modality", "description", "slices"]
    ct = next(r for r in rows if "CT abdomen" in r)
    assert "NET-001" in ct and "2024-01-10" in ct and " 6 " in ct and "2.5 / 0.7x0.9" in ct and ct.endswith("ok")
    pet = next(r for r in rows if "PET AC" in r)
    assert "cannot load: missing slices" in pet
    assert "1 file(s) skipped" in err and "notes.txt: not a DICOM file" in err


def test_json_output(tmp_path, capsys):
    files = _write_series(tmp_path, shape=(3, 4, 5), modality="PT")
    assert main(["series", str(tmp_path), "--format", "json", "--files"]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert item["modality"] == "PT" and item["num_slices"] == 3 and item["rows"] == 4 and item["columns"] == 5
    assert item["study_date"] == "2024-01-10" and item["problem"] is None
    assert item["files"] == [str(p) for p in files]


def test_no_series_is_one_error_line(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("x")
    assert main(["series", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("recist series: error: no DICOM image series found")
    assert "1 file(s) skipped, e.g. a.txt" in err


def test_missing_folder_exits_2(tmp_path, capsys):
    assert main(["series", str(tmp_path / "absent")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
