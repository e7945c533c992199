"""``recist report``: case folder + subjects CSV -> HTML report and CSV tables, through recist.cli.main."""

from __future__ import annotations

import csv
import json

import pytest

from recist.cli import main

HEADER = "subject,randomisation_date,arm,death_date,new_therapy_date\n"
ARMS = ("--arms", "control,experimental", "--control", "control")


def _case(subject: str, baseline: str, follow_ups: list[tuple[str, str, float, bool]]) -> dict:
    """One target lesion; follow-ups as (label, date, long_axis_mm, new_lesion)."""
    timepoints = [{"label": "baseline", "date": baseline, "targets": {"T1": {"long_axis_mm": 40.0}}}]
    for label, date, size, new in follow_ups:
        tp = {"label": label, "date": date, "targets": {"T1": {"long_axis_mm": size}}}
        if new:
            tp["new_lesions"] = [{"id": "N1", "site": "bone", "equivocal": False}]
        timepoints.append(tp)
    return {"format": "recist.case/1", "subject": subject,
            "lesions": [{"id": "T1", "role": "target", "site": "liver"}], "timepoints": timepoints}


@pytest.fixture()
def trial(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    specs = {
        "S1": _case("S1", "2024-01-02", [("w8", "2024-03-01", 25.0, False), ("w16", "2024-04-26", 20.0, False)]),
        "S2": _case("S2", "2024-01-03", [("w8", "2024-03-01", 41.0, False), ("w16", "2024-04-26", 52.0, False)]),
        "S3": _case("S3", "2024-01-02", [("w8", "2024-03-01", 39.0, False), ("w16", "2024-04-26", 38.0, True)]),
        "S4": _case("S4", "2024-01-02", [("w8", "2024-03-01", 30.0, False)]),
    }
    for subject, case in specs.items():
        (cases / f"{subject}.json").write_text(json.dumps(case), encoding="utf-8")
    subjects = tmp_path / "subjects.csv"
    subjects.write_text(HEADER + "S1,2024-01-05,experimental,,\nS2,2024-01-05,control,,\n"
                        "S3,2024-01-05,control,2024-06-01,\nS4,2024-01-05,experimental,,2024-02-20\n"
                        "S5,2024-01-05,control,,\n", encoding="utf-8")
    return cases, subjects, tmp_path / "out"


def test_report_end_to_end(trial, capsys):
    cases, subjects, out = trial
    status = main(["report", str(cases), "--subjects", str(subjects), "--out", str(out), "--interval-days", "56",
                   *ARMS])
    printed = capsys.readouterr().out
    assert status == 0
    assert f"report: {out / 'report.html'}" in printed
    assert "control [control] (n=3): ORR 0/3" in printed
    assert "experimental (n=2): ORR 1/2" in printed
    assert "experimental vs control: HR" in printed
    assert "1 subject(s) without a case file" in printed
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with (out / "pfs_subjects.csv").open(newline="", encoding="utf-8") as handle:
        rows = {r["subject"]: r for r in csv.DictReader(handle)}
    # S1: PR, no progression -> censored at the last read; S2: target PD at week 16 (52 >= 1.2 * 40)
    assert (rows["S1"]["event"], rows["S1"]["pfs_date"]) == ("0", "2024-04-26")
    assert (rows["S2"]["event"], rows["S2"]["pfs_date"], rows["S2"]["event_type"]) == ("1", "2024-04-26",
                                                                                        "progression")
    assert (rows["S3"]["event"], rows["S3"]["pfs_date"]) == ("1", "2024-04-26")
    # S4: new therapy on 2024-02-20, before its only read: censored at randomisation (FDA 2018)
    assert (rows["S4"]["pfs_date"], rows["S4"]["censoring_reason"]) == (
        "2024-01-05", "new anticancer therapy before progression")
    assert rows["S5"]["censoring_reason"] == "no baseline tumour assessment"
    assert rows["S1"]["best_overall_response"] == "PR" and rows["S5"]["best_overall_response"] == "NE"


def test_ema_rules_option(trial, capsys):
    cases, subjects, out = trial
    assert main(["report", str(cases), "--subjects", str(subjects), "--out", str(out), "--interval-days", "56",
                 "--rules", "ema", "--arms", "control,experimental", "--control", "experimental"]) == 0
    assert "control vs experimental: HR" in capsys.readouterr().out
    with (out / "pfs_subjects.csv").open(newline="", encoding="utf-8") as handle:
        rows = {r["subject"]: r for r in csv.DictReader(handle)}
    assert rows["S4"]["censoring_reason"] == "no progression or death" and rows["S4"]["rules"] == "EMA 2012"


def test_errors_are_one_line_with_exit_2(trial, capsys):
    cases, subjects, out = trial
    base = ["report", str(cases), "--subjects", str(subjects), "--out", str(out), "--interval-days", "56",
            "--arms", "A", "--control", "A"]
    subjects.write_text(HEADER + "S1,2024-01-05,A,,\n", encoding="utf-8")
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "no row for this subject in the subjects table" in err and "S2.json" in err and "Traceback" not in err

    subjects.write_text("subject,arm\nS1,A\n", encoding="utf-8")
    assert main(base) == 2
    assert "missing column(s) randomisation_date" in capsys.readouterr().err

    subjects.write_text(HEADER + "S1,2024-01-05,A,,\n", encoding="utf-8")
    (cases / "S1-copy.json").write_text((cases / "S1.json").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(base) == 2
    assert "more than one read of this subject" in capsys.readouterr().err

    assert main(["report", str(cases / "S1.json"), "--subjects", str(subjects), "--out", str(out),
                 "--interval-days", "56", "--arms", "A", "--control", "A"]) == 2
    assert "SOURCE must be a folder" in capsys.readouterr().err
