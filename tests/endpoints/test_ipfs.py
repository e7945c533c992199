"""iPFS beside PFS: the confirmed progression (iCPD) of the iRECIST reading, dated to the iUPD it confirmed
([iR17]; docs/rules.md section H), through the same PFS rules."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

import recist
from recist.endpoints.pfs import VisitSchedule, pfs_outcome, subject_assessments
from recist.endpoints.subjects import Subject
from recist.errors import RecistValidationError

CASES = Path(__file__).resolve().parents[2] / "sample_data" / "cases"
PSEUDO = json.loads((CASES / "NET-008_pseudo_progression.json").read_text())
SCHEDULE = VisitSchedule(interval_days=56, window_days=7)
SUBJECT = Subject("NET-008", dt.date(2024, 2, 5), "immunotherapy")


def test_pseudo_progression_is_a_pfs_event_but_no_ipfs_event():
    result = recist.assess(PSEUDO)
    pfs = pfs_outcome(SUBJECT, subject_assessments(result), schedule=SCHEDULE)
    ipfs = pfs_outcome(SUBJECT, subject_assessments(result, criteria="iRECIST"), schedule=SCHEDULE)
    assert (pfs.event, pfs.date) == (True, dt.date(2024, 4, 1))
    assert (ipfs.event, ipfs.date) == (False, dt.date(2024, 7, 8))  # censored at the last adequate read
    assert subject_assessments(result, criteria="iRECIST").best_overall_response == "iPR"


def test_confirmed_progression_dates_ipfs_to_the_confirmed_iupd():
    data = copy.deepcopy(PSEUDO)
    data["timepoints"][2]["targets"] = {"T1": {"long_axis_mm": 57.0}, "T2": {"long_axis_mm": 30.0}}
    reads = subject_assessments(recist.assess(data).to_dict(), criteria="iRECIST")
    assert reads.progression_date == dt.date(2024, 4, 1)  # week 8, the iUPD; iCPD at week 14
    assert [v.overall_response for v in reads.timepoints] == ["iUPD", "iCPD"]  # none after iCPD
    ipfs = pfs_outcome(SUBJECT, reads, schedule=SCHEDULE)
    assert (ipfs.event, ipfs.date, ipfs.event_type) == (True, dt.date(2024, 4, 1), "progression")


def test_ipfs_needs_an_irecist_reading():
    plain = recist.assess(CASES / "NET-003_target_progression.json")
    with pytest.raises(RecistValidationError, match="criteria 'iRECIST'"):
        subject_assessments(plain, criteria="iRECIST")
    with pytest.raises(RecistValidationError, match="criteria must be"):
        subject_assessments(plain, criteria="irRC")
