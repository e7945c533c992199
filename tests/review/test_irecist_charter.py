"""A central review by iRECIST: the charter's criteria reach every read, and the triggers icpd, icpd_date
and ibor send to adjudication the subjects whose two reads disagree on iCPD, its date or the iBOR."""

from __future__ import annotations

import pytest

from recist.errors import RecistValidationError
from recist.review.charter import parse_charter
from recist.review.workflow import ReviewProject

from .conftest import CHARTER, NOW, package_case, timepoints

IRECIST_CHARTER = {
    **CHARTER,
    "criteria": "iRECIST",
    "adjudication": {"triggers": ["progression", "progression_date", "icpd", "icpd_date", "ibor"]},
}


def test_irecist_triggers_need_irecist_criteria():
    with pytest.raises(RecistValidationError, match="need \"criteria\": \"iRECIST\""):
        parse_charter({**IRECIST_CHARTER, "criteria": "RECIST 1.1"})
    assert parse_charter(IRECIST_CHARTER).criteria == "iRECIST"


def _review(tmp_path, charter, r1_sizes, r2_sizes):
    project = ReviewProject.init(tmp_path / "review", charter, as_="PM1", now=NOW)
    p = project.add_subject("NET-010", timepoints(len(r1_sizes)), as_="PM1", now=NOW, check_images=False)
    for reader, sizes in (("R1", r1_sizes), ("R2", r2_sizes)):  # written on the package's labels and dates
        project.save_read(p, package_case(project, p, sizes), as_=reader, now=NOW)
        project.sign(p, as_=reader, now=NOW)
    row = next(r for r in project.status(as_="PM1", now=NOW) if r["subject"] == "NET-010")
    return project, p, row


def test_reads_agreeing_by_recist_but_not_by_irecist_go_to_adjudication(tmp_path):
    """Both readers: PD at week 8 (30 -> 40 mm). R1 then sees shrinkage (iPR, iBOR iPR), R2 growth of 6 mm
    8 weeks later (iCPD): RECIST 1.1 agrees, iRECIST does not."""
    project, p, row = _review(tmp_path, IRECIST_CHARTER, [30, 40, 20], [30, 40, 46])
    assert row["needs_adjudication"] is True
    assert set(row["triggers"]) == {"icpd", "ibor"}
    r1 = project.show(p, as_="R1")["versions"][-1]["assessment"]
    assert r1["criteria"] == "iRECIST" and r1["irecist"]["best_overall_response"] == "iPR"


def test_icpd_dates_apart_trigger(tmp_path):
    """R1: iUPD at week 8, iCPD at week 16 (dated week 8); R2: SD at week 8, iUPD at week 16, iCPD at
    week 24 (dated week 16), with iSD at week 8 its iBOR (R1's is iCPD)."""
    _, _, row = _review(tmp_path, IRECIST_CHARTER, [30, 40, 46, 50], [30, 32, 40, 46])
    assert set(row["triggers"]) == {"progression_date", "icpd_date", "ibor"}
    charter = {**IRECIST_CHARTER, "adjudication": {"triggers": ["icpd_date"], "progression_date_tolerance_days": 56}}
    _, _, row = _review(tmp_path / "tolerant", charter, [30, 40, 46, 50], [30, 32, 40, 46])
    assert row["needs_adjudication"] is False


def test_recist_charter_keeps_reads_recist_only(tmp_path):
    """A RECIST 1.1 charter imposes RECIST 1.1 on a case that asks for iRECIST."""
    project = ReviewProject.init(tmp_path / "review", CHARTER, as_="PM1", now=NOW)
    p = project.add_subject("NET-011", timepoints(), as_="PM1", now=NOW, check_images=False)
    case = package_case(project, p, [30, 40, 20])
    case["protocol"] = {"criteria": "iRECIST"}
    project.save_read(p, case, as_="R1", now=NOW)
    project.sign(p, as_="R1", now=NOW)
    assessment = project.show(p, as_="R1")["versions"][-1]["assessment"]
    assert "irecist" not in assessment and "criteria" not in assessment
