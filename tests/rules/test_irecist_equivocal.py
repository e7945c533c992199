"""An equivocal new lesion later confirmed, under iRECIST. RECIST 1.1 [E09] §4.3.5 (R24): "If repeat scans
confirm there is definitely a new lesion, then progression should be declared using the date of the initial
scan"; iRECIST assesses new lesions by RECIST 1.1 (RECIST_RULES I7), and the date of confirmed progression
is that of the confirmed iUPD (I6). So the iUPD and the iCPD progression date go back to the first scan of
the lesion; the time-point responses and the 4-8 week window stay with the scan that assigned iUPD."""

from __future__ import annotations

import recist
from tests.rules.irecist_builder import case, nlnt

EQUIVOCAL = nlnt("N1", equivocal=True)
SEEN = nlnt("N1")


def test_iupd_and_progression_dated_to_the_equivocal_scan():
    data = case({"new": [EQUIVOCAL]}, {"new": [SEEN]}, {"day": 112 + 42, "new": [SEEN, nlnt("N2")]})
    result = recist.assess(data)
    assert [tp.response.value for tp in result.irecist.timepoints] == ["iSD", "iUPD", "iCPD"]
    # the window counts from FU2 (42 days), not from FU1 (98 days, beyond 8 weeks)
    assert result.irecist.timepoints[2].window == "in"
    first = result.irecist.first_iupd
    assert (first.label, first.day, first.assigned_at) == ("FU1", 56, "FU2")
    progression = result.irecist.progression
    assert (progression.day, progression.iupd.label, progression.iupd.assigned_at, progression.icpd.label) == (
        56, "FU1", "FU2", "FU3")
    assert result.progression.day == progression.day  # RECIST 1.1 R24 dates it to FU1 as well


def test_unequivocal_at_first_sight_is_not_dated_back():
    result = recist.assess(case({}, {"new": [SEEN]}, {"new": [SEEN, nlnt("N2")]}))
    first = result.irecist.first_iupd
    assert (first.label, first.assigned_at) == ("FU2", None)
    assert result.irecist.to_dict()["first_iupd"]["assigned_at"] is None


def test_not_dated_back_before_a_reset():
    """iUPD (targets, FU1), iPR (reset, FU2), the lesion equivocal since FU1 confirmed at FU3: the new iUPD
    is not dated inside the earlier episode; it starts after the reset."""
    data = case({"sum": 100.0, "new": [EQUIVOCAL]}, {"sum": 50.0, "new": [EQUIVOCAL]}, {"sum": 50.0, "new": [SEEN]})
    result = recist.assess(data)
    assert [tp.response.value for tp in result.irecist.timepoints] == ["iUPD", "iPR", "iUPD"]
    first = result.irecist.first_iupd
    assert first.label == "FU1" and first.assigned_at is None
    data = case({"sum": 100.0, "new": [EQUIVOCAL]}, {"sum": 50.0, "new": [EQUIVOCAL]}, {"sum": 50.0, "new": [SEEN]},
                {"sum": 50.0, "new": [SEEN, nlnt("N2")]})
    progression = recist.assess(data).irecist.progression
    assert (progression.iupd.label, progression.iupd.assigned_at) == ("FU3", None)
