"""iRECIST Table 2 ([iR17], Seymour et al. 2017, "Assignment of timepoint response using iRECIST"), row by
row, in both columns: "no previous iUPD in any category" and "previous iUPD in any category".

Expected values are the table's cells. Cases come from ``irecist_builder``: baseline target sum 80 mm;
"iUPD" of the targets is a sum of 100 mm (+25 %, +20 mm over the nadir, RECIST 1.1 PD); a non-target in
iUPD is recorded ``unequivocal_progression``; the follow-ups are 56 days apart (inside the 4-8 week window).
"""

from __future__ import annotations

import pytest
from irecist_builder import nlnt, nlt, responses

UNEQUIVOCAL = "unequivocal_progression"
GREW = {"state": UNEQUIVOCAL, "increased_since_previous": True}
TARGET_IUPD = {"sum": 100.0}

# Target and non-target categories of rows 1-4, as follow-up findings: (target, non-target, response).
RESPONSE_ROWS = [
    pytest.param({"sum": "CR"}, "absent", "iCR", id="row1-iCR-iCR-no"),
    pytest.param({"sum": "CR"}, "present", "iPR", id="row2-iCR-nonCR-no"),
    pytest.param({"sum": 50.0}, "present", "iPR", id="row3-iPR-nonCR-no"),
    pytest.param({"sum": 75.0}, "present", "iSD", id="row4-iSD-nonCR-no"),
]


@pytest.mark.parametrize(("target", "non_target", "expected"), RESPONSE_ROWS)
def test_rows_1_to_4_without_previous_iupd(target, non_target, expected):
    assert responses({**target, "nt": non_target}) == [expected]


@pytest.mark.parametrize(("target", "non_target", "expected"), RESPONSE_ROWS)
def test_rows_1_to_4_after_a_previous_iupd(target, non_target, expected):
    """The same categories after an iUPD give the same response: the bar is reset (I6)."""
    assert responses(TARGET_IUPD, {**target, "nt": non_target}) == ["iUPD", expected]


# Row 5: target iUPD with no change or a decrease, non-target iUPD with no change or a decrease, new lesions
# yes: "Not applicable" without a previous iUPD; after one, new lesions confirm iCPD if previously identified
# ones increased (>= 5 mm NLT sum, any NLNT increase) or in number; no change: iUPD.
ROW5_FIRST = {"sum": 100.0, "nt": UNEQUIVOCAL, "new": [nlt("N1", 10.0), nlnt("N2")]}


@pytest.mark.parametrize(("target_sum", "new", "expected"), [
    pytest.param(100.0, [nlt("N1", 15.0), nlnt("N2")], "iCPD", id="NLT-sum-plus-5mm"),
    pytest.param(98.0, [nlt("N1", 15.0), nlnt("N2")], "iCPD", id="NLT-plus-5mm-targets-decreased"),
    pytest.param(100.0, [nlt("N1", 14.9), nlnt("N2")], "iUPD", id="NLT-plus-4.9mm"),
    pytest.param(100.0, [nlt("N1", 10.0), nlnt("N2", increased_since_previous=True)], "iCPD", id="NLNT-any-increase"),
    pytest.param(100.0, [nlt("N1", 10.0), nlnt("N2"), nlnt("N3")], "iCPD", id="number-increased"),
    pytest.param(100.0, [nlt("N1", 10.0), nlnt("N2")], "iUPD", id="no-change"),
    pytest.param(98.0, [nlt("N1", 9.0), nlnt("N2")], "iUPD", id="decrease"),
])
def test_row_5_new_lesions_after_previous_iupd(target_sum, new, expected):
    assert responses(ROW5_FIRST, {"sum": target_sum, "nt": UNEQUIVOCAL, "new": new}) == ["iUPD", expected]


@pytest.mark.parametrize("target", [75.0, 50.0, "CR"], ids=["iSD", "iPR", "iCR"])
def test_row_6_non_target_iupd(target):
    """Row 6: target iSD/iPR/iCR, non-target iUPD, no new lesion: iUPD; then iUPD unless the non-target
    disease increases further (no need for unequivocal progression again)."""
    first = {"sum": target, "nt": UNEQUIVOCAL}
    assert responses(first) == ["iUPD"]
    assert responses(first, {"sum": target, "nt": GREW}) == ["iUPD", "iCPD"]
    assert responses(first, {"sum": target, "nt": UNEQUIVOCAL}) == ["iUPD", "iUPD"]


@pytest.mark.parametrize("non_target", ["present", "absent"], ids=["non-iCR/non-iUPD", "iCR"])
def test_row_7_target_iupd(non_target):
    """Row 7: target iUPD, non-target non-iCR/non-iUPD or iCR, no new lesion: iUPD; then iUPD unless the sum
    increases further by >= 5 mm."""
    first = {"sum": 100.0, "nt": non_target}
    assert responses(first) == ["iUPD"]
    assert responses(first, {"sum": 105.0, "nt": non_target}) == ["iUPD", "iCPD"]
    assert responses(first, {"sum": 104.9, "nt": non_target}) == ["iUPD", "iUPD"]


def test_row_8_target_and_non_target_iupd():
    """Row 8: target and non-target iUPD, no new lesion: iUPD; then iCPD by a further target increase of
    5 mm or more or a further non-target increase; otherwise iUPD."""
    first = {"sum": 100.0, "nt": UNEQUIVOCAL}
    assert responses(first) == ["iUPD"]
    assert responses(first, {"sum": 106.0, "nt": UNEQUIVOCAL}) == ["iUPD", "iCPD"]
    assert responses(first, {"sum": 100.0, "nt": GREW}) == ["iUPD", "iCPD"]
    assert responses(first, {"sum": 104.0, "nt": UNEQUIVOCAL}) == ["iUPD", "iUPD"]


@pytest.mark.parametrize(("second", "expected"), [
    pytest.param({"sum": 105.0, "nt": UNEQUIVOCAL, "new": [nlnt("N1")]}, "iCPD", id="target-plus-5mm"),
    pytest.param({"sum": 100.0, "nt": GREW, "new": [nlnt("N1")]}, "iCPD", id="non-target-increase"),
    pytest.param({"sum": 100.0, "nt": UNEQUIVOCAL, "new": [nlnt("N1", increased_since_previous=True)]}, "iCPD",
                 id="new-lesion-size"),
    pytest.param({"sum": 100.0, "nt": UNEQUIVOCAL, "new": [nlnt("N1"), nlnt("N9", site="liver")]}, "iCPD",
                 id="new-lesion-number"),
    pytest.param({"sum": 100.0, "nt": UNEQUIVOCAL, "new": [nlnt("N1")]}, "iUPD", id="no-change"),
])
def test_row_9_all_categories_iupd(second, expected):
    """Row 9: target iUPD, non-target iUPD, new lesions: iUPD; then iCPD on a further target increase of
    >= 5 mm, a further non-target increase, or an increase in size or number of the new lesions."""
    first = {"sum": 100.0, "nt": UNEQUIVOCAL, "new": [nlnt("N1")]}
    assert responses(first) == ["iUPD"]
    assert responses(first, second) == ["iUPD", expected]


@pytest.mark.parametrize("target", [75.0, 50.0, "CR"], ids=["target-SD", "target-PR", "target-CR"])
def test_row_10_new_lesions_only(target):
    """Row 10: whatever the targets and non-targets (short of their own progression), new lesions: iUPD;
    then iUPD unless the new lesions previously identified increase in size or number."""
    first = {"sum": target, "new": [nlt("N1", 10.0)]}
    assert responses(first) == ["iUPD"]
    assert responses(first, {"sum": target, "new": [nlt("N1", 15.0)]}) == ["iUPD", "iCPD"]
    assert responses(first, {"sum": target, "new": [nlt("N1", 12.0)]}) == ["iUPD", "iUPD"]
    assert responses(first, {"sum": target, "new": [nlt("N1", 10.0), nlnt("N2")]}) == ["iUPD", "iCPD"]


def test_not_evaluable_targets_give_ne():
    """Targets not all evaluated (and no progression anywhere): NE, as in RECIST 1.1 (Table 3 uses NE)."""
    assert responses({"sum": "NE"}) == ["NE"]


def test_non_target_only_subject_gives_non_icr_non_iupd():
    """[iR17] Table 3 note: with non-target disease only, iCR or non-iCR/non-iUPD is assigned."""
    import recist

    case = {
        "format": "recist.case/1", "subject": "N", "protocol": {"criteria": "iRECIST"},
        "lesions": [{"id": "NT1", "role": "non_target", "site": "bone"}],
        "timepoints": [
            {"label": "baseline", "day": 0, "non_targets": {"NT1": "present"}},
            {"label": "FU1", "day": 56, "non_targets": {"NT1": "present"}},
            {"label": "FU2", "day": 112, "non_targets": {"NT1": "absent"}},
        ],
    }
    result = recist.assess(case).irecist
    assert [tp.response for tp in result.timepoints] == ["NON-iCR/NON-iUPD", "iCR"]
