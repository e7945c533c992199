"""Withdrawing a subject (issue #14 §3): administrators only, with a reason, audited, nothing deleted."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from recist.errors import BlindingError, RecistValidationError, ReviewStateError
from recist.review.workflow import ReviewProject, SubjectTimepoint

from .conftest import NOW, package_case, timepoints


def _entries(project: ReviewProject, action: str) -> list[dict]:
    return [e for e in project.audit.entries() if e["action"] == action]


def test_only_an_administrator_may_withdraw_and_the_refusal_is_audited(project: ReviewProject) -> None:
    p = project.pseudonym("NET-001")
    for who in ("R1", "ADJ1", "STRANGER"):
        with pytest.raises(BlindingError, match="only administrators may withdraw subjects"):
            project.withdraw_subject(p, reason="consent withdrawn", as_=who, now=NOW)
    refused = [e for e in _entries(project, "refused") if e["details"]["attempted"] == "withdraw subjects"]
    assert [e["actor"] for e in refused] == ["R1", "ADJ1", "STRANGER"]
    assert "withdrawn" not in json.loads((project.root / "subjects" / p / "subject.json").read_text())


def test_a_reason_is_required(project: ReviewProject) -> None:
    with pytest.raises(ReviewStateError, match="needs a reason"):
        project.withdraw_subject("NET-001", reason="  ", as_="PM1", now=NOW)
    assert _entries(project, "refused")[-1]["details"]["attempted"] == "withdraw subjects"
    assert not _entries(project, "withdraw-subject")


def test_withdrawn_subject_leaves_worklists_and_results_list_it(project: ReviewProject, tmp_path) -> None:
    p = project.pseudonym("NET-002")
    project.save_read(p, package_case(project, p, [30, 20, 18]), as_="R1", now=NOW)  # a draft: not signed
    done = project.withdraw_subject("NET-002", reason="consent withdrawn", as_="PM1", now=NOW)
    assert done == {"subject": "NET-002", "pseudonym": p, "reads_withdrawn": [],
                    "withdrawn": {"reason": "consent withdrawn", "by": "PM1", "time": NOW.isoformat()}}
    entry = _entries(project, "withdraw-subject")[-1]
    assert entry["actor"] == "PM1" and entry["subject"] == p
    assert entry["details"]["old"] == {"withdrawn": None}
    assert entry["details"]["new"]["withdrawn"]["reason"] == "consent withdrawn"
    assert p not in [r["subject"] for r in project.status(as_="R1", now=NOW)]
    admin = {r["pseudonym"]: r for r in project.status(as_="PM1", now=NOW)}
    assert admin[p]["withdrawn"]["reason"] == "consent withdrawn"
    with pytest.raises(BlindingError, match="in your worklist"):
        project.save_read(p, package_case(project, p, [30, 20, 18]), as_="R2", now=NOW)
    rows = {r["subject"]: r for r in project.results(as_="PM1", now=NOW)}
    assert rows["NET-002"]["status"] == "withdrawn" and "consent withdrawn" in rows["NET-002"]["problem"]
    assert rows["NET-001"]["status"] == "awaiting reads"
    with pytest.raises(ReviewStateError, match="withdrawn from the review"):
        project.package("R1", tmp_path / "pkg", as_="PM1", now=NOW, subjects=["NET-002"])
    with pytest.raises(BlindingError, match="in your worklist"):
        project.package("R1", tmp_path / "pkg", as_="R1", now=NOW, subjects=[p])
    assert project._active_pseudonyms() == sorted(project.pseudonym(s) for s in ("NET-001", "NET-003"))
    # the draft read is kept, untouched
    assert (project.root / "subjects" / p / "reads" / "R1.json").is_file()
    with pytest.raises(ReviewStateError, match="already withdrawn"):
        project.withdraw_subject(p, reason="again", as_="PM1", now=NOW)
    assert project.verify() == []


def test_signed_reads_refuse_withdrawal_unless_withdrawn_too(project: ReviewProject) -> None:
    p = project.pseudonym("NET-001")
    for reader, sizes in (("R1", [30, 20, 18]), ("R2", [30, 21, 18])):
        project.save_read(p, package_case(project, p, sizes), as_=reader, now=NOW)
        project.sign(p, as_=reader, now=NOW)
    before = {r: (project.root / "subjects" / p / "reads" / f"{r}.json").read_text() for r in ("R1", "R2")}
    with pytest.raises(ReviewStateError, match="signed reads by R1, R2.*--withdraw-reads"):
        project.withdraw_subject(p, reason="ineligible", as_="PM1", now=NOW)
    assert _entries(project, "refused")[-1]["details"]["attempted"] == "withdraw subjects"
    assert not _entries(project, "withdraw-subject")
    done = project.withdraw_subject(p, reason="ineligible", as_="PM1", withdraw_reads=True, now=NOW)
    assert done["reads_withdrawn"] == ["R1", "R2"]
    for reader in ("R1", "R2"):
        read = json.loads((project.root / "subjects" / p / "reads" / f"{reader}.json").read_text())
        assert read["withdrawn"]["reason"] == "ineligible"
        assert read["versions"] == json.loads(before[reader])["versions"]  # kept, signatures untouched
    rows = {r["subject"]: r for r in project.results(as_="PM1", now=NOW)}
    assert rows["NET-001"]["status"] == "withdrawn" and rows["NET-001"]["best_overall_response"] is None
    assert project.report(as_="PM1", now=NOW)["adjudication"]["needed"] == 0
    assert project.verify() == []


def _corrected(n: int = 3) -> list:
    tps = timepoints(n)
    return [SubjectTimepoint(tp.label, tp.date + dt.timedelta(days=7 * (k > 0)), tp.folders)
            for k, tp in enumerate(tps)]


def test_correct_timepoints_is_administrator_only_reasoned_and_audited(project: ReviewProject) -> None:
    p = project.pseudonym("NET-003")
    with pytest.raises(BlindingError, match="only administrators may correct timepoints"):
        project.correct_timepoints(p, _corrected(), reason="wrong visit date", as_="R1", now=NOW, check_images=False)
    assert _entries(project, "refused")[-1]["details"]["attempted"] == "correct timepoints"
    with pytest.raises(ReviewStateError, match="needs a reason"):
        project.correct_timepoints(p, _corrected(), reason="", as_="PM1", now=NOW, check_images=False)
    backwards = list(reversed(_corrected()))
    with pytest.raises(RecistValidationError, match="dates must increase"):
        project.correct_timepoints(p, backwards, reason="x", as_="PM1", now=NOW, check_images=False)
    old = json.loads((project.root / "subjects" / p / "subject.json").read_text())["timepoints"]
    done = project.correct_timepoints("NET-003", _corrected(), reason="wrong visit date", as_="PM1", now=NOW, check_images=False)
    new = json.loads((project.root / "subjects" / p / "subject.json").read_text())["timepoints"]
    assert done["old"] == old and done["new"] == new and new != old
    assert new[1]["date"] == (dt.date.fromisoformat(old[1]["date"]) + dt.timedelta(days=7)).isoformat()
    entry = _entries(project, "correct-timepoints")[-1]
    assert entry["actor"] == "PM1" and entry["details"]["reason"] == "wrong visit date"
    assert entry["details"]["old"] == {"timepoints": old} and entry["details"]["new"] == {"timepoints": new}
    with pytest.raises(ReviewStateError, match="nothing to correct"):
        project.correct_timepoints(p, _corrected(), reason="again", as_="PM1", now=NOW, check_images=False)
    assert project.verify() == []


def test_correct_timepoints_with_signed_reads_needs_withdraw_reads(project: ReviewProject) -> None:
    p = project.pseudonym("NET-001")
    project.save_read(p, package_case(project, p, [30, 20, 18]), as_="R1", now=NOW)
    project.sign(p, as_="R1", now=NOW)
    before = json.loads((project.root / "subjects" / p / "reads" / "R1.json").read_text())["versions"]
    with pytest.raises(ReviewStateError, match="signed reads by R1.*--withdraw-reads"):
        project.correct_timepoints(p, _corrected(), reason="wrong date", as_="PM1", now=NOW, check_images=False)
    assert not _entries(project, "correct-timepoints")
    done = project.correct_timepoints(p, _corrected(), reason="wrong date", as_="PM1", withdraw_reads=True, now=NOW, check_images=False)
    assert done["reads_withdrawn"] == ["R1"]
    read = json.loads((project.root / "subjects" / p / "reads" / "R1.json").read_text())
    assert read["versions"] == []
    assert read["withdrawn_reads"] == [{"withdrawn": {"reason": "wrong date", "by": "PM1", "time": NOW.isoformat()},
                                        "versions": before}]
    # the reader reads again from the corrected package: the old read no longer fits, the new one does
    with pytest.raises(RecistValidationError):
        project.save_read(p, before[0]["case"], as_="R1", now=NOW)
    again = package_case(project, p, [30, 20, 18])
    for tp, shown in zip(again["timepoints"], project._package_timepoints(p)):  # the corrected package's dates
        tp["date"] = shown["date"]
    assert project.save_read(p, again, as_="R1", now=NOW) == 1
    project.sign(p, as_="R1", now=NOW)
    assert project.verify() == []
    # the read file with its withdrawn versions stays under the audit trail: a change is caught
    path = project.root / "subjects" / p / "reads" / "R1.json"
    path.write_text(path.read_text().replace('"wrong date"', '"other"', 1))
    assert project.verify() != []


def test_correct_timepoints_refused_after_adjudication_or_withdrawal(project: ReviewProject) -> None:
    p = project.pseudonym("NET-002")
    for reader, sizes in (("R1", [30, 40, 40]), ("R2", [30, 29, 28])):
        project.save_read(p, package_case(project, p, sizes), as_=reader, now=NOW)
        project.sign(p, as_=reader, now=NOW)
    project.adjudicate(p, choose="A", reason="growth", as_="ADJ1", now=NOW)
    with pytest.raises(ReviewStateError, match="adjudicated"):
        project.correct_timepoints(p, _corrected(), reason="x", as_="PM1", withdraw_reads=True, now=NOW, check_images=False)
    q = project.pseudonym("NET-003")
    project.withdraw_subject(q, reason="consent withdrawn", as_="PM1", now=NOW)
    with pytest.raises(ReviewStateError, match="withdrawn"):
        project.correct_timepoints(q, _corrected(), reason="x", as_="PM1", now=NOW, check_images=False)
