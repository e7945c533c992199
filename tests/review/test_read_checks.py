"""A read must fit the subject it is for (issue #14 item 1): package timepoints, labels, dates, subject,
plausible diameters; results refuse impossible progression dates; site reads are checked the same way."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from recist.cli import main
from recist.errors import BlindingError, RecistValidationError
from recist.review.checks import large_diameters, progression_date_problem, read_mismatch
from recist.review.workflow import ReviewProject

from .conftest import CHARTER, NOW, make_case, package_case, timepoints


def _refusals(project: ReviewProject) -> list[tuple[str, str]]:
    return [(e["actor"], e["details"]["attempted"]) for e in project.audit.entries() if e["action"] == "refused"]


def test_a_read_on_the_true_dates_is_refused_and_cannot_make_a_2029_progression(project: ReviewProject) -> None:
    """The reproduction: both readers write the true (unshifted) dates and agree; it used to be signed and
    `results` shifted the dates back a second time (a 2024 scan became a 2029 progression)."""
    p = project.pseudonym("NET-001")
    shown = project._package_timepoints(p)  # noqa: SLF001
    true_start = dt.date(2024, 1, 8)  # the administrator's calendar, not the package's
    case = make_case(p, [30, 40, 40], start=true_start, labels=[tp["label"] for tp in shown])
    with pytest.raises(RecistValidationError) as refused:
        project.save_read(p, case, as_="R1", now=NOW)
    message = str(refused.value)
    assert "timepoint 'timepoint 1'" in message and "2024-01-08" in message
    assert shown[0]["date"] in message and "wrong date" in message
    assert project.status(as_="R1", now=NOW)[0]["status"] == "not started"
    assert ("R1", "save reads") in _refusals(project)
    assert project.verify() == []


@pytest.mark.parametrize("change, expected", [
    (lambda c: c["timepoints"].pop(), "the read stops after 2 timepoint(s)"),
    (lambda c: c["timepoints"][1].update(label="week 13"), "'timepoint 2' on"),
    (lambda c: c["timepoints"].append({**c["timepoints"][-1], "label": "extra", "date": "2030-01-01"}),
     "remove 'extra'"),
    (lambda c: [c["timepoints"][1].update(label="timepoint 3"), c["timepoints"][2].update(label="timepoint 2")],
     "wrong label"),
])
def test_missing_wrong_extra_or_reordered_timepoints_are_refused(project: ReviewProject, change, expected) -> None:
    p = project.pseudonym("NET-002")
    case = package_case(project, p, [30, 20, 18])
    change(case)
    with pytest.raises(RecistValidationError, match="reader package") as refused:
        project.save_read(p, case, as_="R2", now=NOW)
    assert expected in str(refused.value)


def test_a_read_of_another_subject_is_refused(project: ReviewProject) -> None:
    p1, p2 = project.pseudonym("NET-001"), project.pseudonym("NET-002")
    with pytest.raises(RecistValidationError, match=f"read is for subject '{p2}', but this is '{p1}'"):
        project.save_read(p1, package_case(project, p2, [30, 20, 18]), as_="R1", now=NOW)


def test_charter_label_mapping_and_a_wrong_week(tmp_path: Path) -> None:
    charter = {**CHARTER, "timepoint_labels": {"baseline": "baseline", "week 8": "week 12", "week 16": "week 24"}}
    project = ReviewProject.init(tmp_path / "r", charter, as_="PM1", now=NOW)
    p = project.add_subject("X-1", timepoints(), as_="PM1", now=NOW, check_images=False)
    case = package_case(project, p, [30, 20, 18])
    assert [tp["label"] for tp in case["timepoints"]] == ["baseline", "week 12", "week 24"]
    case["timepoints"][1]["label"] = "week 13"
    with pytest.raises(RecistValidationError, match="'week 13' .* but the reader package has 'week 12'"):
        project.save_read(p, case, as_="R1", now=NOW)


def test_sign_checks_the_draft_again(project: ReviewProject) -> None:
    p = project.pseudonym("NET-003")
    project.save_read(p, package_case(project, p, [30, 20, 18]), as_="R1", now=NOW)
    # the draft on disk is edited to another date (a damaged or hand-edited draft must not be signed)
    path = project.root / "subjects" / p / "reads" / "R1.json"
    read = json.loads(path.read_text())
    read["versions"][-1]["case"]["timepoints"][2]["date"] = "2029-01-01"
    path.write_text(json.dumps(read))
    with pytest.raises(RecistValidationError, match="2029-01-01"):
        project.sign(p, as_="R1", now=NOW)


def test_a_decimal_slip_needs_confirmation(project: ReviewProject) -> None:
    p = project.pseudonym("NET-001")
    slip = package_case(project, p, [25, 2500, 25])  # 25.0 mm typed as 2500 (the case model bounds 3000 mm)
    with pytest.raises(RecistValidationError, match=r"long_axis_mm = 2500 mm is above .* 300 mm"):
        project.save_read(p, slip, as_="R1", now=NOW)
    assert project.save_read(p, slip, as_="R1", now=NOW, confirm_large_diameters=True) == 1
    stored = project.show(p, as_="R1", now=NOW)["versions"][-1]
    assert stored["confirmed_large_diameters"] == ["timepoint 'timepoint 2' lesion 'T1' long_axis_mm = 2500 mm"]
    assert project.sign(p, as_="R1", now=NOW) == 1  # confirmed when saved
    with pytest.raises(RecistValidationError, match="2500"):
        project.amend(p, package_case(project, p, [25, 2500, 2500]), as_="R1", reason="re-read", now=NOW)


def test_a_larger_maximum_in_the_charter(tmp_path: Path) -> None:
    project = ReviewProject.init(tmp_path / "r", {**CHARTER, "plausibility": {"max_diameter_mm": 400}}, as_="PM1",
                                 now=NOW)
    p = project.add_subject("X-1", timepoints(), as_="PM1", now=NOW, check_images=False)
    assert project.save_read(p, package_case(project, p, [350, 350, 350]), as_="R1", now=NOW) == 1


def test_results_refuse_a_progression_after_the_data_cutoff(tmp_path: Path) -> None:
    charter = {**CHARTER, "data_cutoff": "2024-04-01"}  # between week 8 (2024-03-04) and week 16 (2024-04-29)
    project = ReviewProject.init(tmp_path / "r", charter, as_="PM1", now=NOW)
    p = project.add_subject("X-1", timepoints(), as_="PM1", now=NOW, check_images=False)
    for reader in ("R1", "R2"):
        project.save_read(p, package_case(project, p, [30, 30, 45]), as_=reader, now=NOW)  # PD at week 16
        project.sign(p, as_=reader, now=NOW)
    row = project.results(as_="PM1", now=NOW)[0]
    assert row["status"] == "invalid" and row["progression_date"] == "2024-04-29"
    assert "after the data cut-off 2024-04-01" in row["problem"]
    assert row["progression_label"] == "week 16"  # the recorded label, not the package's "timepoint 3"


def test_results_give_true_labels_and_dates(project: ReviewProject) -> None:
    p = project.pseudonym("NET-001")
    for reader in ("R1", "R2"):
        project.save_read(p, package_case(project, p, [30, 45, 45]), as_=reader, now=NOW)
        project.sign(p, as_=reader, now=NOW)
    row = next(r for r in project.results(as_="PM1", now=NOW) if r["subject"] == "NET-001")
    assert (row["status"], row["progression_date"], row["progression_label"]) == ("final", "2024-03-04", "week 8")


def test_progression_date_rules() -> None:
    dates = ["2024-01-08", "2024-03-04", "2024-04-29"]
    today = dt.date(2024, 6, 1)
    assert progression_date_problem("2024-03-04", dates, today=today, data_cutoff=None) is None
    assert progression_date_problem(None, dates, today=today, data_cutoff=None) is None
    assert "future" in progression_date_problem("2029-01-01", dates, today=today, data_cutoff=None)
    assert "cut-off" in progression_date_problem("2024-04-29", dates, today=today, data_cutoff=dt.date(2024, 4, 1))
    assert "not one of" in progression_date_problem("2024-03-05", dates, today=today, data_cutoff=None)
    assert "not one of" in progression_date_problem("2024-01-08", dates, today=today, data_cutoff=None)  # baseline
    assert "not an ISO date" in progression_date_problem("2024-13-01", dates, today=today, data_cutoff=None)


def test_read_mismatch_by_day_and_large_diameters() -> None:
    expected = [{"label": "timepoint 1", "date": "2020-01-01"}, {"label": "timepoint 2", "date": "2020-02-26"}]
    case = {"subject": "S-1", "timepoints": [{"label": "timepoint 1", "date": "2020-01-01"},
                                             {"label": "timepoint 2", "day": 56}]}
    assert read_mismatch(case, expected, subject="S-1") is None
    case["timepoints"][1]["day"] = 57
    assert "wrong day" in read_mismatch(case, expected, subject="S-1")
    split = {"timepoints": [{"label": "t", "targets": {"T1": {"state": "split", "fragments_mm": [10.0, 301.0]},
                                                      "T2": {"long_axis_mm": 300.0}}}]}
    assert large_diameters(split, 300.0) == ["timepoint 't' lesion 'T1' fragments_mm[1] = 301 mm"]


def test_pfs_refuses_impossible_progression_dates() -> None:
    from recist.endpoints.pfs import SubjectAssessments, VisitSchedule, pfs_outcome
    from recist.endpoints.subjects import Subject

    subject = Subject("S1", dt.date(2024, 1, 1), "A", None, None)
    schedule = VisitSchedule(56, 7)
    visits = ((dt.date(2024, 2, 26), "SD"), (dt.date(2024, 4, 22), "PD"))
    ok = SubjectAssessments("S1", visits, dt.date(2024, 4, 22), "SD")
    assert pfs_outcome(subject, ok, schedule=schedule, today=dt.date(2024, 6, 1)).event
    for date, today, cutoff, why in ((dt.date(2029, 1, 1), None, None, "not one of"),
                                     (dt.date(2024, 4, 22), dt.date(2024, 4, 1), None, "future"),
                                     (dt.date(2024, 4, 22), None, dt.date(2024, 4, 1), "cut-off")):
        bad = SubjectAssessments("S1", visits, date, "SD")
        with pytest.raises(RecistValidationError, match=why):
            pfs_outcome(subject, bad, schedule=schedule, today=today, data_cutoff=cutoff)


def test_site_read_checked_and_replacement_reported(project: ReviewProject, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    site = make_case("NET-001", [30, 20, 18], start=dt.date(2024, 1, 8))  # true labels and dates
    shifted = make_case("NET-001", [30, 20, 18], start=dt.date(2020, 1, 6))
    with pytest.raises(RecistValidationError, match="subject record has 'baseline' on 2024-01-08"):
        project.import_site_read("NET-001", shifted, as_="PM1", now=NOW)
    first = project.import_site_read("NET-001", site, as_="PM1", now=NOW)
    assert first == {"subject": "NET-001", "replaced": None}
    path = tmp_path / "site.json"
    path.write_text(json.dumps(site))
    assert main(["review", "import-site-read", str(project.root), "NET-001", str(path), "--as", "PM1"]) == 0
    assert f"replacing the one imported at {NOW.isoformat()}" in capsys.readouterr().out
    path.write_text(json.dumps(make_case("NET-001", [30, 20, 2500], start=dt.date(2024, 1, 8))))
    assert main(["review", "import-site-read", str(project.root), "NET-001", str(path), "--as", "PM1"]) == 2
    assert "2500" in capsys.readouterr().err
    assert main(["review", "import-site-read", str(project.root), "NET-001", str(path), "--as", "PM1",
                 "--confirm-large-diameters"]) == 0
    assert project.verify() == []


def test_subject_ids_from_readers_are_refused_without_telling_whether_they_exist(project: ReviewProject) -> None:
    messages = []
    for subject in ("NET-002", "NET-999", "S-00000000"):
        with pytest.raises(BlindingError) as refused:
            project.show(subject, as_="R2", now=NOW)
        messages.append(str(refused.value).replace(repr(subject), "<id>"))
    assert len(set(messages)) == 1 and "pseudonym" in messages[0]
    assert "S-" not in messages[0].split("<id>")[0]
    p = project.pseudonym("NET-002")
    assert project.show(p, as_="R2", now=NOW)["subject"] == p
    assert [a for a in _refusals(project) if a[0] == "R2"] == [("R2", "show reads")] * 3
    # views are audited: who read what, when
    views = [e for e in project.audit.entries() if e["action"] == "view"]
    assert (views[-1]["actor"], views[-1]["subject"], views[-1]["details"]["what"]) == ("R2", p, "show")


def test_review_state_refusals_are_audited(project: ReviewProject) -> None:
    from recist.errors import ReviewStateError

    p = project.pseudonym("NET-001")
    project.save_read(p, package_case(project, p, [30, 20, 18]), as_="R1", now=NOW)
    project.sign(p, as_="R1", now=NOW)
    with pytest.raises(ReviewStateError):
        project.save_read(p, package_case(project, p, [30, 21, 18]), as_="R1", now=NOW)
    with pytest.raises(ReviewStateError):
        project.amend(p, package_case(project, p, [30, 21, 18]), as_="R1", reason=" ", now=NOW)
    refused = [e for e in project.audit.entries() if e["action"] == "refused"]
    assert [e["details"]["attempted"] for e in refused] == ["save reads", "amend reads"]
    assert "signed" in refused[0]["details"]["why"] and "reason" in refused[1]["details"]["why"]
    assert project.verify() == []
