"""``recist batch`` through recist.cli.main: case folders, review projects, workers, bad subjects, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recist.cli import main

from .test_report import _case as report_case

HEADER = "subject,randomisation_date,arm,death_date,new_therapy_date\n"


def _case(subject: str, follow_up_mm: list[float]) -> dict:
    """One target lesion of 40 mm at baseline (2024-01-02), then the given sizes every 8 weeks."""
    dates = ["2024-02-27", "2024-04-23", "2024-06-18"]
    return report_case(subject, "2024-01-02",
                       [(f"week {8 * (k + 1)}", dates[k], size, False) for k, size in enumerate(follow_up_mm)])


@pytest.fixture()
def trial(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    courses = [[25.0, 20.0, 21.0], [41.0, 52.0], [39.0, 38.0, 60.0], [30.0, 28.0, 27.0], [45.0, 44.0, 43.0],
               [20.0, 10.0, 9.0]]
    for i, course in enumerate(courses):
        (cases / f"S{i}.json").write_text(json.dumps(_case(f"S{i}", course)), encoding="utf-8")
    subjects = tmp_path / "subjects.csv"
    subjects.write_text(HEADER + "".join(f"S{i},2024-01-01,{'AB'[i % 2]},,\n" for i in range(len(courses))),
                        encoding="utf-8")
    return cases, subjects, tmp_path


def _batch(cases, subjects, out, *extra: str) -> int:
    return main(["batch", str(cases), "--subjects", str(subjects), "--out", str(out), "--arms", "A,B",
                 "--control", "A", *extra])


def test_batch_of_a_case_folder(trial, capsys):
    cases, subjects, tmp = trial
    assert _batch(cases, subjects, tmp / "out", "--interval-days", "56") == 0
    printed = capsys.readouterr()
    assert f"report: {tmp / 'out' / 'report.html'}" in printed.out
    assert "6 subjects analysed from the case folder: A 3 of 3 randomised, B 3 of 3 randomised" in printed.out
    assert "A [control] (n=3): ORR" in printed.out and "B vs A: HR" in printed.out and "A: DCR" in printed.out
    assert printed.err == ""
    assert (tmp / "out" / "problems.csv").read_text() == "subject,file,row,field,problem\n"


def test_two_workers_same_tables(trial):
    cases, subjects, tmp = trial
    assert _batch(cases, subjects, tmp / "w1", "--interval-days", "56") == 0
    assert _batch(cases, subjects, tmp / "w2", "--interval-days", "56", "--workers", "2") == 0
    for name in ("pfs_subjects.csv", "arm_summary.csv", "bor_table.csv", "problems.csv"):
        assert (tmp / "w1" / name).read_bytes() == (tmp / "w2" / name).read_bytes()


def test_bad_subjects_exit_1_and_are_listed(trial, capsys):
    cases, subjects, tmp = trial
    subjects.write_text(subjects.read_text().replace("S1,2024-01-01", "S1,01/01/2024") + "S9,2024-01-01,A,,\n")
    (cases / "S7.json").write_text(json.dumps(_case("S7", [30.0])), encoding="utf-8")
    assert _batch(cases, subjects, tmp / "out", "--interval-days", "56") == 1
    printed = capsys.readouterr()
    err = printed.err.splitlines()
    assert f"recist batch: {subjects}, row 3, field randomisation_date: subject S1: '01/01/2024' is not an ISO date" \
        in err[0]
    assert any(line.startswith(f"recist batch: {cases / 'S7.json'}, field subject: subject S7:") for line in err)
    assert any(f"{subjects}, row 8, field subject: subject S9: no read" in line for line in err)
    assert "3 problem(s)" in printed.out and "5 subjects analysed" in printed.out
    assert (tmp / "out" / "report.html").exists()
    assert len((tmp / "out" / "problems.csv").read_text().splitlines()) == 4


@pytest.mark.parametrize(("extra", "message"), [
    (["--interval-days", "56", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
    ([], "--interval-days"),
    (["--interval-days", "56", "--workers", "0"], "at least 1"),
])
def test_usage_errors_are_one_line(trial, capsys, extra, message):
    cases, subjects, tmp = trial
    assert _batch(cases, subjects, tmp / "out", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_missing_column_names_file_and_row(trial, capsys):
    cases, subjects, tmp = trial
    subjects.write_text("subject,randomisation_date,arm\nS0,2024-01-01,A\n", encoding="utf-8")
    assert _batch(cases, subjects, tmp / "out", "--interval-days", "56") == 2
    err = capsys.readouterr().err
    assert str(subjects) in err and "row 1" in err and "death_date" in err


def test_batch_of_a_review_project(tmp_path, capsys):
    import datetime as dt

    from recist.synthetic.review_sim import run_central_review
    from recist.synthetic.trial_sim import simulate_trial, write_trial

    trial = simulate_trial(8, rng=np.random.default_rng(3))
    files = write_trial(trial, tmp_path / "trial")
    review = run_central_review(trial, tmp_path / "review", now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    assert main(["batch", str(review.project_dir), "--subjects", str(files["subjects"]),
                 "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "8 subjects analysed from the review project (final reads)" in printed
    assert f"adjudication: {review.adjudicated} of 8 subjects with two signed reads" in printed
    assert "Reader agreement" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert main(["batch", str(review.project_dir), "--subjects", str(files["subjects"]),
                 "--out", str(tmp_path / "out2"), "--interval-days", "56"]) == 2


def test_progress_bar_on_a_terminal(monkeypatch):
    import io
    import sys

    from recist.cli.batch import progress_bar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    update, close = progress_bar()
    update(3, 10)
    update(10, 10)
    close()
    assert "assess:" in terminal.getvalue() and "/10 [" in terminal.getvalue()  # drawn with the total
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_bar()[0] is None
