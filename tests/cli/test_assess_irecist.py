"""``recist assess`` of iRECIST cases: the JSON, the CSV columns and the Python API, as a user runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import recist
from recist.cli import main
from recist.cli.assess import CSV_COLUMNS

CASES = Path(__file__).resolve().parents[2] / "sample_data" / "cases"
PSEUDO = CASES / "NET-008_pseudo_progression.json"


def test_sample_case_shows_pseudo_progression_in_the_json(capsys):
    """NET-008: targets +26 % and a new lesion at week 8 (RECIST 1.1 PD, iUPD), then shrinkage to -31 % at
    week 14, 6 weeks later (iPR: the bar is reset), and the new lesion gone at week 22 (iPR)."""
    assert main(["assess", str(PSEUDO)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["best_overall_response"] == "PD" and out["progression"]["label"] == "week 8"
    assert out["criteria"] == "iRECIST"
    assert [tp["response"] for tp in out["irecist"]["timepoints"]] == ["iUPD", "iPR", "iPR"]
    assert out["irecist"]["best_overall_response"] == "iPR"
    assert out["irecist"]["first_iupd"]["date"] == "2024-04-01"
    assert out["irecist"]["progression"] is None


def test_csv_carries_both_readings(tmp_path):
    out = tmp_path / "r.csv"
    assert main(["assess", str(CASES), "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == CSV_COLUMNS
    pseudo = [r for r in rows if r["subject"] == "NET-008"]
    assert [(r["overall_response"], r["irecist_response"]) for r in pseudo] == [
        ("PD", "iUPD"), ("PD", "iPR"), ("PR", "iPR")]
    assert {r["irecist_best_overall_response"] for r in pseudo} == {"iPR"}
    assert {r["irecist_first_iupd_date"] for r in pseudo} == {"2024-04-01"}
    assert {r["irecist_progression_date"] for r in pseudo} == {""}
    others = [r for r in rows if r["subject"] != "NET-008"]
    assert {r[c] for r in others for c in CSV_COLUMNS if c.startswith("irecist_")} == {""}


def test_csv_confirmed_progression_dates(tmp_path):
    data = json.loads(PSEUDO.read_text())
    data["timepoints"][2]["targets"] = {"T1": {"long_axis_mm": 57.0}, "T2": {"long_axis_mm": 30.0}}
    data["timepoints"] = data["timepoints"][:3]
    path = tmp_path / "confirmed.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "r.csv"
    assert main(["assess", str(path), "--format", "csv", "--output", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["irecist_response"] for r in rows] == ["iUPD", "iCPD"]
    assert rows[0]["irecist_progression_label"] == "week 8" and rows[0]["irecist_progression_date"] == "2024-04-01"
    assert rows[0]["irecist_icpd_label"] == "week 14" and rows[0]["irecist_icpd_date"] == "2024-05-13"
    assert rows[0]["irecist_best_overall_response"] == "iCPD"


def test_python_api_and_protocol_override():
    """``recist.assess`` carries ``irecist``; a charter's protocol can switch the criteria either way."""
    result = recist.assess(PSEUDO)
    assert isinstance(result.irecist, recist.IRecistAssessment)
    assert result.irecist.best_overall_response == recist.IResponse.IPR
    assert recist.assess(PSEUDO, {"criteria": "RECIST 1.1"}).irecist is None
    other = CASES / "NET-003_target_progression.json"
    switched = recist.assess(other, {"criteria": "iRECIST"})
    assert [tp.response.value for tp in switched.irecist.timepoints] == ["iSD", "iUPD"]


def test_bad_irecist_record_is_one_line_with_status_2(tmp_path, capsys):
    data = json.loads(PSEUDO.read_text())
    data["timepoints"][2]["new_lesions"][0]["role"] = "non_target"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert main(["assess", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and "week 14" in err[0] and "N1" in err[0]
    assert "keeps that role" in err[0]
