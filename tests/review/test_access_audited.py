"""Who read what, when, and every refusal: the audit trail of reading records and of refused changes
(issue #14 §4: "reading records (show, status, results, report) is logged too"; "every refused operation is
logged, including those that raise ReviewStateError (... amend of a locked read)")."""

from __future__ import annotations

import pytest

from recist.errors import ReviewStateError
from recist.review.workflow import ReviewProject

from .conftest import NOW, package_case


def _sign_both(project: ReviewProject, subject: str, r1: list[float], r2: list[float]) -> str:
    p = project.pseudonym(subject)
    for reader, sizes in (("R1", r1), ("R2", r2)):
        project.save_read(p, package_case(project, p, sizes), as_=reader, now=NOW)
        project.sign(p, as_=reader, now=NOW)
    return p


def _since(project: ReviewProject, seq: int) -> list[dict]:
    return [e for e in project.audit.entries() if e["seq"] > seq]


def _last_seq(project: ReviewProject) -> int:
    return max(e["seq"] for e in project.audit.entries())


def test_each_reading_of_records_names_who_read_what(project: ReviewProject) -> None:
    p = _sign_both(project, "NET-001", [30, 40, 40], [30, 29, 28])
    reads = [
        ("R1", lambda: project.show(p, as_="R1", now=NOW), ("view", "show", p)),
        ("R2", lambda: project.status(as_="R2", now=NOW), ("view", "status", None)),
        ("ADJ1", lambda: project.show(p, as_="ADJ1", now=NOW), ("view", "show", p)),
        ("PM1", lambda: project.status(as_="PM1", now=NOW), ("view", "status", None)),
        ("PM1", lambda: project.results(as_="PM1", now=NOW), ("export", "results", None)),
        ("PM1", lambda: project.report(as_="PM1", now=NOW), ("export", "report", None)),
    ]
    for actor, call, (action, what, subject) in reads:
        before = _last_seq(project)
        call()
        (entry,) = _since(project, before)
        assert (entry["actor"], entry["action"], entry["details"]["what"], entry["subject"]) == (
            actor, action, what, subject), entry
        assert entry["time"] == NOW.isoformat()
    assert project.verify() == []


def test_amending_a_locked_read_and_adjudicating_twice_are_refused_and_logged(project: ReviewProject) -> None:
    p = _sign_both(project, "NET-002", [30, 40, 40], [30, 29, 28])
    project.adjudicate(p, choose="A", reason="A is right", as_="ADJ1", now=NOW)
    before = _last_seq(project)
    with pytest.raises(ReviewStateError, match="adjudicated"):
        project.amend(p, package_case(project, p, [30, 40, 41]), as_="R1", reason="late change", now=NOW)
    with pytest.raises(ReviewStateError, match="already"):
        project.adjudicate(p, choose="B", reason="again", as_="ADJ1", now=NOW)
    refused = [(e["actor"], e["subject"], e["details"]["attempted"]) for e in _since(project, before)
               if e["action"] == "refused"]
    assert refused == [("R1", p, "amend reads"), ("ADJ1", p, "adjudicate")]
    assert project.verify() == []
