"""The batch engine: case folders and review projects, processes and Dask, bad subjects collected."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recist.endpoints.pfs import EMA_2012
from recist.errors import RecistValidationError
from recist.synthetic.trial_sim import ARMS
from recist.trial.pipeline import (
    Problem,
    WorkItem,
    assess_item,
    chunk_size,
    load_subjects,
    run_batch,
    run_items,
)

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
HEADER = "subject,randomisation_date,arm,death_date,new_therapy_date\n"
AB = {"arms": ("A", "B"), "control_arm": "A"}
OUTPUTS = ("report.html", "pfs_subjects.csv", "arm_summary.csv", "bor_table.csv", "problems.csv")


def _case(subject: str, sizes: list[float], new_at: int | None = None) -> dict:
    """One target lesion measured at baseline (2024-01-02) and every 56 days after."""
    start = dt.date(2024, 1, 2)
    timepoints = []
    for k, size in enumerate(sizes):
        tp = {"label": "baseline" if k == 0 else f"week {8 * k}",
              "date": (start + dt.timedelta(days=56 * k)).isoformat(), "targets": {"T1": {"long_axis_mm": size}}}
        if k == new_at:
            tp["new_lesions"] = [{"id": "N1", "site": "bone", "equivocal": False}]
        timepoints.append(tp)
    return {"format": "recist.case/1", "subject": subject,
            "lesions": [{"id": "T1", "role": "target", "site": "liver"}], "timepoints": timepoints}


def _write_cases(folder, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    ids = []
    for i in range(n):
        subject = f"S{i:03d}"
        sizes = [40.0]
        for _ in range(4):
            sizes.append(round(sizes[-1] * float(rng.uniform(0.7, 1.25)), 1))
        (folder / f"{subject}.json").write_text(json.dumps(_case(subject, sizes)), encoding="utf-8")
        ids.append(subject)
    return ids


def _subjects_csv(path, ids, *, extra: str = "") -> None:
    rows = "".join(f"{s},2024-01-01,{'AB'[i % 2]},,\n" for i, s in enumerate(ids))
    path.write_text(HEADER + rows + extra, encoding="utf-8")


@pytest.fixture()
def case_trial(tmp_path):
    ids = _write_cases(tmp_path / "cases", 24)
    _subjects_csv(tmp_path / "subjects.csv", ids)
    return tmp_path / "cases", tmp_path / "subjects.csv"


def _outputs(folder) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def _rows(path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {r["subject"]: r for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A simulated 12-subject trial filed into a review project, with its final reads as case files."""
    from recist.synthetic.review_sim import run_central_review
    from recist.synthetic.trial_sim import simulate_trial, write_trial

    root = tmp_path_factory.mktemp("sim")
    trial = simulate_trial(12, rng=np.random.default_rng(11))
    files = write_trial(trial, root / "trial")
    summary = run_central_review(trial, root / "review", now=NOW, final_cases_dir=root / "final")
    return root, files["subjects"], summary


def test_case_folder_batch_writes_the_report(case_trial, tmp_path):
    cases, subjects = case_trial
    result = run_batch(cases, subjects, tmp_path / "out", now=NOW, version="test", interval_days=56, **AB)
    assert result.problems == () and result.source_kind == "cases" and result.agreement is None
    assert len(result.subjects) == 24
    assert (tmp_path / "out" / "problems.csv").read_text() == "subject,file,row,field,problem\n"
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "DRAFT" not in html and "Reader agreement" not in html
    assert sum(r.n for r in result.summary.responses) == 24


def test_review_project_uses_final_reads_calendar_dates_and_charter_schedule(simulated, tmp_path):
    root, subjects, summary = simulated
    from_review = run_batch(summary.project_dir, subjects, tmp_path / "review_out", now=NOW, version="test")
    # the same final reads as plain case files (true dates), with the charter's 84 +/- 7 day schedule
    from_cases = run_batch(root / "final", subjects, tmp_path / "case_out", now=NOW, version="test",
                           interval_days=84, window_days=7, arms=ARMS, control_arm=ARMS[0])
    assert from_review.problems == () == from_cases.problems and from_review.source_kind == "review"
    assert len(from_review.subjects) == 12
    for name in ("pfs_subjects.csv", "arm_summary.csv", "bor_table.csv"):
        assert (tmp_path / "review_out" / name).read_bytes() == (tmp_path / "case_out" / name).read_bytes()
    assert from_review.agreement["adjudication"]["needed"] == summary.adjudicated
    html = (tmp_path / "review_out" / "report.html").read_text(encoding="utf-8")
    assert "Reader agreement" in html and "Reader agreement" not in (tmp_path / "case_out" / "report.html").read_text()


def test_review_project_takes_the_charters_arms_and_gives_agreement_per_arm(simulated, tmp_path):
    _, subjects, summary = simulated
    result = run_batch(summary.project_dir, subjects, tmp_path / "out", now=NOW, version="test")
    assert result.arms.arms == ARMS and result.arms.control == ARMS[0]
    groups = result.agreement["by_group"]
    assert set(groups) == set(ARMS)
    assert sum(g["subjects_with_two_signed_reads"] for g in groups.values()) == \
        result.agreement["subjects_with_two_signed_reads"]
    assert sum(g["adjudication"]["needed"] for g in groups.values()) == result.agreement["adjudication"]["needed"]
    with (tmp_path / "out" / "agreement.csv").open(newline="", encoding="utf-8") as handle:
        rows = {r["measure"]: r for r in csv.DictReader(handle)}
    edr = rows["Site vs central: EDR"]
    assert f"{ARMS[1]} minus {ARMS[0]}" in edr and "Amit et al. 2011" in edr["meaning"]
    control, other = (groups[a]["site_vs_central"]["edr"] for a in ARMS)
    if control is not None and other is not None:
        assert edr[f"{ARMS[1]} minus {ARMS[0]}"] == f"{100 * (other - control):+.1f} percentage points"
    kappa = rows["Best overall response agreement"]["all subjects"]
    assert kappa.startswith("kappa ") and "(95% CI " in kappa and "%" in rows["Adjudicated"]["all subjects"]


def test_review_arm_typo_is_an_error_naming_the_row(simulated, tmp_path):
    _, subjects, summary = simulated
    lines = subjects.read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if f",{ARMS[0]}," in line)
    lines[row] = lines[row].replace(ARMS[0], ARMS[0].title())
    typo = tmp_path / "subjects.csv"
    typo.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RecistValidationError, match=f"row {row + 1}, column 'arm'.*did you mean '{ARMS[0]}'"):
        run_batch(summary.project_dir, typo, tmp_path / "out", now=NOW, version="test")
    assert not (tmp_path / "out").exists()


def test_review_project_refuses_another_schedule(simulated, tmp_path):
    _, subjects, summary = simulated
    with pytest.raises(RecistValidationError, match="charter's visit schedule"):
        run_batch(summary.project_dir, subjects, tmp_path / "out", now=NOW, version="test", interval_days=56)


def test_review_subject_without_final_read_is_a_problem(simulated, tmp_path):
    from recist.review.workflow import ReviewProject, SubjectTimepoint

    root, subjects, summary = simulated
    project_dir = tmp_path / "review"
    shutil.copytree(summary.project_dir, project_dir)
    project = ReviewProject.open(project_dir)
    project.add_subject("SIM-099", [SubjectTimepoint("baseline", dt.date(2022, 3, 1), ())], as_="PM1", now=NOW, check_images=False)
    result = run_batch(project_dir, subjects, tmp_path / "out", now=NOW, version="test")
    assert [(p.subject, p.field) for p in result.problems] == [("SIM-099", "status")]
    assert "awaiting reads" in result.problems[0].message
    assert len(result.subjects) == 12 and result.report is not None


def test_two_workers_give_identical_outputs(case_trial, tmp_path):
    cases, subjects = case_trial
    run_batch(cases, subjects, tmp_path / "w1", now=NOW, version="test", interval_days=56, **AB, workers=1)
    run_batch(cases, subjects, tmp_path / "w2", now=NOW, version="test", interval_days=56, **AB, workers=2)
    assert _outputs(tmp_path / "w1") == _outputs(tmp_path / "w2")


def test_dask_local_cluster_gives_identical_outputs(case_trial, tmp_path):
    from distributed import LocalCluster

    cases, subjects = case_trial
    run_batch(cases, subjects, tmp_path / "serial", now=NOW, version="test", interval_days=56, **AB, rules=EMA_2012)
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        run_batch(cases, subjects, tmp_path / "dask", now=NOW, version="test", interval_days=56, **AB, rules=EMA_2012,
                  scheduler=cluster.scheduler_address)
    assert _outputs(tmp_path / "serial") == _outputs(tmp_path / "dask")


def test_unreachable_scheduler_is_a_one_line_error(case_trial, monkeypatch):
    from recist.errors import RecistError
    from recist.export import batch

    monkeypatch.setattr(batch, "DASK_CONNECT_TIMEOUT_S", 1.0)
    cases, _ = case_trial
    with pytest.raises(RecistError, match="cannot connect to the Dask scheduler"):
        run_items([WorkItem("x", str(next(cases.glob("*.json"))))], scheduler="tcp://127.0.0.1:1")


def test_bad_subjects_are_reported_and_the_rest_finished(case_trial, tmp_path):
    cases, subjects = case_trial
    ids = sorted(p.stem for p in cases.glob("*.json"))
    # S000: bad date (row 2); S001: no read; S999: read without a subject row; S002: case that fails validation
    (cases / "S001.json").unlink()
    (cases / "S999.json").write_text(json.dumps(_case("S999", [40.0, 30.0])), encoding="utf-8")
    broken = _case("S002", [40.0, 30.0])
    broken["timepoints"][1]["targets"]["T1"]["long_axis_mm"] = -3.0
    (cases / "S002.json").write_text(json.dumps(broken), encoding="utf-8")
    text = subjects.read_text().replace("S000,2024-01-01", "S000,2024-13-01")
    subjects.write_text(text, encoding="utf-8")

    progress: list[tuple[int, int]] = []
    result = run_batch(cases, subjects, tmp_path / "out", now=NOW, version="test", interval_days=56, **AB,
                       progress=lambda done, total: progress.append((done, total)))
    found = {(p.subject, p.field) for p in result.problems}
    assert ("S000", "randomisation_date") in found
    assert ("S001", "subject") in found
    assert ("S999", "subject") in found
    date_problem = next(p for p in result.problems if p.subject == "S000")
    assert (date_problem.file, date_problem.row) == (str(subjects), 2)
    assert "YYYY-MM-DD" in date_problem.message
    no_read = next(p for p in result.problems if p.subject == "S001")
    assert no_read.row == 3
    bad_case = next(p for p in result.problems if p.file == str(cases / "S002.json"))
    assert "long_axis_mm" in (bad_case.field or "") + bad_case.message
    stray = next(p for p in result.problems if p.subject == "S999")
    assert stray.file == str(cases / "S999.json")
    # the rest finished: every other subject is analysed
    analysed = {s.subject for s in result.subjects}
    assert analysed == set(ids) - {"S000", "S001", "S002"}
    assert set(_rows(tmp_path / "out" / "pfs_subjects.csv")) == analysed
    problems = list(csv.DictReader((tmp_path / "out" / "problems.csv").open(encoding="utf-8")))
    assert len(problems) == len(result.problems)
    assert {"subject": "S000", "file": str(subjects), "row": "2", "field": "randomisation_date"}.items() <= \
        problems[0].items()
    assert "DRAFT" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert progress[-1] == (len(ids), len(ids))


def test_missing_column_stops_the_batch(case_trial, tmp_path):
    cases, subjects = case_trial
    subjects.write_text("subject,randomisation_date,arm,death_date\nS000,2024-01-01,A,\n", encoding="utf-8")
    with pytest.raises(RecistValidationError) as info:
        run_batch(cases, subjects, tmp_path / "out", now=NOW, version="test", interval_days=56, **AB)
    assert str(subjects) in str(info.value) and "row 1" in str(info.value) and "new_therapy_date" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_case_folder_needs_the_visit_schedule(case_trial, tmp_path):
    cases, subjects = case_trial
    with pytest.raises(RecistValidationError, match="--interval-days"):
        run_batch(cases, subjects, tmp_path / "out", now=NOW, version="test", **AB)


def test_duplicate_subject_rows_are_both_left_out(tmp_path):
    path = tmp_path / "subjects.csv"
    path.write_text(HEADER + "A1,2024-01-01,X,,\n\nA2,2024-01-01,X,,\nA1,2024-01-02,Y,,\n", encoding="utf-8")
    table = load_subjects(path)
    assert [s.subject for s in table.subjects] == ["A2"]
    assert table.rows == {"A2": 4}
    assert [(p.subject, p.row, p.field) for p in table.problems] == [("A1", 5, "subject")]


def test_good_table_gives_row_numbers(tmp_path):
    path = tmp_path / "subjects.csv"
    path.write_text(HEADER + "A1,2024-01-01,X,,\n\nA2,2024-01-01,X,,\n", encoding="utf-8")
    table = load_subjects(path)
    assert table.rows == {"A1": 2, "A2": 4} and table.problems == []


def test_assess_item_moves_shifted_dates_back_and_renames_the_subject():
    case = _case("S-0000ABCD", [40.0, 20.0, 50.0])
    result = assess_item(WorkItem("read", case, subject="REAL-1", date_shift_days=-400))
    assert result.problem is None and result.subject == "REAL-1"
    assert result.reads.timepoints[0].date == dt.date(2024, 1, 2) + dt.timedelta(days=56 + 400)
    assert result.reads.progression_date == dt.date(2024, 1, 2) + dt.timedelta(days=112 + 400)


def test_chunk_size_keeps_tasks_few_and_bounded():
    assert chunk_size(10, 2) == 1
    assert chunk_size(10_000, 2) == 256
    assert chunk_size(1000, 2) == 63


def test_problem_text_names_file_row_and_field():
    text = str(Problem("s.csv", "bad date", "S1", 4, "death_date"))
    assert text == "s.csv, row 4, field death_date: subject S1: bad date"


_cell = st.text(alphabet=st.sampled_from("AB1-,\"\n 20-01"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(_cell, min_size=0, max_size=6), max_size=6))
def test_load_subjects_never_fails_on_a_data_row(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("h") / "subjects.csv"
    body = "".join(",".join(cells) + "\n" for cells in rows)
    path.write_text(HEADER + body, encoding="utf-8")
    try:
        table = load_subjects(path)
    except RecistValidationError as exc:  # only whole-file problems may stop it
        assert "row 1" in str(exc) or "CSV" in str(exc)
        return
    assert all(p.row is not None and p.row >= 2 for p in table.problems)
    assert len({s.subject for s in table.subjects}) == len(table.subjects)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(_cell, min_size=0, max_size=7), max_size=6))
def test_load_subjects_with_arms_and_strata_never_crashes(tmp_path_factory, rows):
    from recist.endpoints.arms import ArmPlan

    path = tmp_path_factory.mktemp("h") / "subjects.csv"
    body = "".join(",".join(cells) + "\n" for cells in rows)
    path.write_text(HEADER.rstrip("\n") + ",region\n" + body, encoding="utf-8")
    try:
        table = load_subjects(path, plan=ArmPlan(("A", "B"), "A"), strata_columns=("region",))
    except RecistValidationError as exc:  # a whole-file problem, or an arm not in the plan (naming its row)
        assert "row 1" in str(exc) or "CSV" in str(exc) or "column 'arm'" in str(exc)
        return
    assert {s.arm for s in table.subjects} <= {"A", "B"}
    assert all(dict(s.strata)["region"] for s in table.subjects)
