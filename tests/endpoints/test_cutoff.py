"""The data cut-off: later dates removed, later scans dropped before assessment."""

from __future__ import annotations

import datetime as dt

from recist.endpoints.cutoff import subject_at_cutoff, truncate_case
from recist.endpoints.subjects import Subject

CUTOFF = dt.date(2024, 6, 30)


def test_subject_dates_after_the_cutoff_are_not_known():
    s = Subject("S1", dt.date(2024, 1, 1), "A", death_date=dt.date(2024, 7, 1), new_therapy_date=dt.date(2024, 6, 30),
                last_contact_date=dt.date(2024, 8, 1), discontinuation_date=dt.date(2024, 9, 1),
                discontinuation_reason="toxicity")
    known = subject_at_cutoff(s, CUTOFF)
    assert known.death_date is None and known.last_contact_date is None
    assert known.new_therapy_date == CUTOFF  # the cut-off day itself is data
    assert known.discontinuation_date is None and known.discontinuation_reason is None
    assert subject_at_cutoff(Subject("S2", dt.date(2024, 7, 1), "A"), CUTOFF) is None
    assert subject_at_cutoff(Subject("S3", CUTOFF, "A"), CUTOFF) is not None


def _case(timepoints):
    return {"format": "recist.case/1", "subject": "S1",
            "lesions": [{"id": "T1", "role": "target", "site": "liver"}], "timepoints": timepoints}


def test_truncate_case_by_date_and_by_day():
    tps = [{"label": "baseline", "date": "2024-01-02", "targets": {"T1": {"long_axis_mm": 40}}},
           {"label": "w8", "date": "2024-02-27", "targets": {"T1": {"long_axis_mm": 30}}},
           {"label": "w26", "day": 180, "targets": {"T1": {"long_axis_mm": 60}}},
           {"label": "w52", "date": "2024-12-31", "targets": {"T1": {"long_axis_mm": 70}}}]
    # day 180 after the baseline of 2024-01-02 is 2024-06-30
    case, removed = truncate_case(_case(tps), dt.date(2024, 6, 29))
    assert removed == 2 and [tp.label for tp in case.timepoints] == ["baseline", "w8"]
    case, removed = truncate_case(_case(tps), CUTOFF)  # a scan on the cut-off day is used
    assert removed == 1 and [tp.label for tp in case.timepoints] == ["baseline", "w8", "w26"]
    untouched, none = truncate_case(_case(tps), dt.date(2025, 1, 1))
    assert none == 0 and len(untouched.timepoints) == 4
