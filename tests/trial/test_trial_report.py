"""The trial report a statistician can sign off: explicit arms, disposition, cut-off, strata, outputs.

Reproductions of issue 18: the "Active Surveillance" capitalisation slip (it made a one-subject control
arm and HR 0.16 with exit status 0) and the left-out subjects (arms of n=3 and n=5 of 100 randomised,
with Methods saying every randomised subject was in the denominators).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest

from recist.cli import main
from recist.trial.pipeline import run_batch

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
HEADER = "subject,randomisation_date,arm,death_date,new_therapy_date"
CONTROL, DRUG = "active surveillance", "lutathera"
ARMS = {"arms": (CONTROL, DRUG), "control_arm": CONTROL}


def _case(subject: str, sizes: list[float], start: dt.date = dt.date(2024, 1, 2)) -> dict:
    timepoints = [{"label": "baseline" if k == 0 else f"week {8 * k}",
                   "date": (start + dt.timedelta(days=56 * k)).isoformat(), "targets": {"T1": {"long_axis_mm": s}}}
                  for k, s in enumerate(sizes)]
    return {"format": "recist.case/1", "subject": subject,
            "lesions": [{"id": "T1", "role": "target", "site": "liver"}], "timepoints": timepoints}


def _trial(tmp_path, n: int, *, with_read=None, extra_columns: str = "", extra=lambda i: "") -> tuple:
    cases = tmp_path / "cases"
    cases.mkdir()
    rows = []
    for i in range(n):
        subject, arm = f"S{i:03d}", (CONTROL, DRUG)[i % 2]
        rows.append(f"{subject},2024-01-01,{arm},,{extra(i)}")
        if with_read is None or i in with_read:
            sizes = [40.0, 36.0 if arm == DRUG else 44.0, 30.0 if arm == DRUG else 50.0 + i % 7]
            (cases / f"{subject}.json").write_text(json.dumps(_case(subject, sizes)), encoding="utf-8")
    subjects = tmp_path / "subjects.csv"
    subjects.write_text(HEADER + extra_columns + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return cases, subjects


def test_arm_capitalisation_slip_is_exit_2_naming_the_row(tmp_path, capsys):
    cases, subjects = _trial(tmp_path, 20)
    text = subjects.read_text(encoding="utf-8").splitlines()
    text[7] = text[7].replace(CONTROL, "Active Surveillance")  # row 8 (the header is row 1)
    subjects.write_text("\n".join(text) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    for command in ("batch", "report"):
        status = main([command, str(cases), "--subjects", str(subjects), "--out", str(out), "--interval-days", "56",
                       "--arms", f"{CONTROL},{DRUG}", "--control", CONTROL])
        err = capsys.readouterr().err
        assert status == 2, command
        assert "row 8, column 'arm'" in err and "'Active Surveillance' is not an arm of the trial" in err
        assert "did you mean 'active surveillance'" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
        assert not out.exists() or not any(out.iterdir())  # nothing written, no HR of a one-subject "control" arm


def test_arms_must_be_named(tmp_path, capsys):
    cases, subjects = _trial(tmp_path, 4)
    assert main(["batch", str(cases), "--subjects", str(subjects), "--out", str(tmp_path / "o"),
                 "--interval-days", "56"]) == 2
    err = capsys.readouterr().err
    assert "--arms" in err and "--control" in err and f"'{CONTROL}', '{DRUG}'" in err
    assert main(["batch", str(cases), "--subjects", str(subjects), "--out", str(tmp_path / "o"),
                 "--interval-days", "56", "--arms", f"{CONTROL},{DRUG}"]) == 2
    assert "the control arm must be named" in capsys.readouterr().err


def test_left_out_subjects_show_in_the_disposition_and_the_methods(tmp_path):
    # 100 randomised (50 per arm); reads of 3 control and 5 experimental subjects only
    with_read = {0, 2, 4, 1, 3, 5, 7, 9}
    cases, subjects = _trial(tmp_path, 100, with_read=with_read)
    result = run_batch(cases, subjects, tmp_path / "out", now=NOW, version="t", interval_days=56, **ARMS)
    assert [(d.arm, d.randomised, d.with_read, d.analysed) for d in result.disposition] == [
        (CONTROL, 50, 3, 3), (DRUG, 50, 5, 5)]
    assert [len(d.left_out["no read"]) for d in result.disposition] == [47, 45]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Subject disposition" in html and "DRAFT: 92 problem(s)" in html
    assert "8 of 100 randomised subjects analysed (active surveillance 3 of 50, lutathera 5 of 50)" in html
    assert "NOT on the intention-to-treat population" in html
    assert "denominators are all randomised subjects" not in html.lower()
    assert "(all randomised subjects: intention to treat)" not in html
    with (tmp_path / "out" / "disposition.csv").open(newline="", encoding="utf-8") as handle:
        rows = {(r["arm"], r["status"]): r for r in csv.DictReader(handle)}
    assert rows[CONTROL, "randomised"]["n"] == "50" and rows[CONTROL, "analysed"]["n"] == "3"
    assert rows[DRUG, "left out: no read"]["n"] == "45" and "S011" in rows[DRUG, "left out: no read"]["subjects"]


def test_every_subject_analysed_says_intention_to_treat(tmp_path):
    cases, subjects = _trial(tmp_path, 6)
    run_batch(cases, subjects, tmp_path / "out", now=NOW, version="t", interval_days=56, **ARMS)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "6 of 6 randomised subjects analysed" in html and "(all randomised subjects: intention to treat)" in html
    assert "No data cut-off date was given" in html


def test_data_cutoff_drops_later_scans_and_later_subjects(tmp_path):
    cases, subjects = _trial(tmp_path, 6)
    # S000 (control) progresses at week 16 (50 mm >= 1.2 * 40 nadir... 44 -> 50 is +25% of baseline 40)
    late = subjects.read_text(encoding="utf-8") + "S006,2024-05-01,lutathera,,\n"
    subjects.write_text(late, encoding="utf-8")
    (cases / "S006.json").write_text(json.dumps(_case("S006", [40.0, 30.0], dt.date(2024, 5, 2))), encoding="utf-8")
    cutoff = dt.date(2024, 4, 1)  # after week 8 (2024-02-27), before week 16 (2024-04-23) and S006's randomisation
    result = run_batch(cases, subjects, tmp_path / "out", now=NOW, version="t", interval_days=56, cutoff=cutoff,
                       **ARMS)
    with (tmp_path / "out" / "pfs_subjects.csv").open(newline="", encoding="utf-8") as handle:
        rows = {r["subject"]: r for r in csv.DictReader(handle)}
    assert "S006" not in rows
    assert rows["S000"]["event"] == "0" and rows["S000"]["pfs_date"] == "2024-02-27"  # PD read ignored
    assert {r["pfs_date"] for r in rows.values()} == {"2024-02-27"}
    assert result.disposition[1].left_out == {"randomised after the data cut-off": ["S006"]}
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert '<div class="cutoff">' in html and "data cut-off 2024-04-01" in html
    assert "@media print{.cutoff{position:fixed" in html  # repeated at the top of every printed page
    assert "6 follow-up scan(s) after the cut-off ignored" in html
    svgs = sorted((tmp_path / "out" / "figures").glob("*.svg"))
    assert len(svgs) == 4 and all("Data cut-off 2024-04-01" in svg.read_text(encoding="utf-8") for svg in svgs)


def test_stratified_log_rank_and_cox_with_strata(tmp_path, capsys):
    cases, subjects = _trial(tmp_path, 12, extra_columns=",region", extra=lambda i: f",{'EU' if i < 6 else 'US'}")
    out = tmp_path / "out"
    assert main(["batch", str(cases), "--subjects", str(subjects), "--out", str(out), "--interval-days", "56",
                 "--arms", f"{CONTROL},{DRUG}", "--control", CONTROL, "--strata", "region"]) == 0
    printed = capsys.readouterr().out
    assert f"{DRUG} vs {CONTROL}, stratified by region: HR" in printed
    with (out / "arm_summary.csv").open(newline="", encoding="utf-8") as handle:
        drug = [r for r in csv.DictReader(handle) if r["arm"] == DRUG][0]
    assert drug["strata"] == "region" and drug["stratified_logrank_p"] != ""
    with (out / "adtte.csv").open(newline="", encoding="utf-8") as handle:
        adtte = list(csv.DictReader(handle))
    assert {(r["STRAT1"], r["STRAT1V"]) for r in adtte} == {("region", "EU"), ("region", "US")}
    # without --strata the column is an unknown column: a one-line error
    assert main(["batch", str(cases), "--subjects", str(subjects), "--out", str(tmp_path / "o2"),
                 "--interval-days", "56", "--arms", f"{CONTROL},{DRUG}", "--control", CONTROL]) == 2
    assert "unknown column" in capsys.readouterr().err


def test_report_files_tables_svg_and_adtte(tmp_path):
    cases, subjects = _trial(tmp_path, 8)
    result = run_batch(cases, subjects, tmp_path / "out", now=NOW, version="t", interval_days=56, **ARMS)
    files = result.report
    assert {p.name for p in files.tables} == {"disposition.csv", "censoring.csv", "landmarks.csv"}
    assert {p.name for p in files.adtte} == {"adtte.csv", "adtte.xpt"}
    assert {p.name for p in files.figures} == {"km.svg", "waterfall.svg", "spider.svg", "swimmer.svg"}
    for svg in files.figures:
        assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    html = files.html.read_text(encoding="utf-8")
    for heading in ("Events and censoring reasons", "PFS rates at landmarks and follow-up",
                    "Median follow-up, months", "PFS days (randomisation = day 1)",
                    "Time unit: months since randomisation"):
        assert heading in html
    assert "+20% (PD)" not in html


@pytest.mark.parametrize("command", ["batch", "report"])
def test_help_says_when_to_use_which(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    other = "report" if command == "batch" else "batch"
    assert f"Use `recist {command}` for" in text and f"`recist {other}`" in text
