"""The commands that read outside files, fed mutated and truncated copies of real ones (a case file, a
PET slice, a NIfTI mask): the exit status is 0, 1 or 2 with one-line errors, never a bug (status 70)
or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recist.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "assess": ("case.json", ROOT / "sample_data" / "cases" / "NET-003_target_progression.json"),
    "series": ("slice.dcm", ROOT / "sample_data" / "patient" / "baseline" / "PT" / "PT0001.dcm"),
    "suv": ("slice.dcm", ROOT / "sample_data" / "patient" / "baseline" / "PT" / "PT0001.dcm"),
    "measure": ("mask.nii.gz", ROOT / "sample_data" / "patient" / "baseline" / "lesions.nii.gz"),
}


def _mutated(data: st.DataObject, raw: bytes) -> bytes:
    out = bytearray(raw)
    for _ in range(data.draw(st.integers(0, 6), label="mutations")):
        out[data.draw(st.integers(0, len(out) - 1), label="offset")] = data.draw(st.integers(0, 255), label="byte")
    if data.draw(st.booleans(), label="truncate"):
        out = out[: data.draw(st.integers(0, len(out)), label="keep bytes")]
    return bytes(out)


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_inputs_give_one_line_errors(tmp_path_factory, capsys, data):
    command = data.draw(st.sampled_from(sorted(SOURCES)), label="command")
    name, source = SOURCES[command]
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / name).write_bytes(_mutated(data, source.read_bytes()))
    target = folder / name if command in ("assess", "measure") else folder
    formats = {"assess": ["json", "jsonl", "csv"], "series": ["table", "json"], "suv": ["text", "json"],
               "measure": ["table", "json"]}[command]
    status = main([command, str(target), "--format", data.draw(st.sampled_from(formats), label="format")])
    err = capsys.readouterr().err
    assert status in (0, 1, 2), err
    assert "internal error" not in err and "Traceback" not in err
    if status == 2:
        assert err.strip().count("\n") == 0 and ": error: " in err
