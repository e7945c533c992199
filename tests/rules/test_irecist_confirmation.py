"""iRECIST confirmation, window, reset and new-lesion scenarios, from the published text ([iR17]; [iR-FAQ];
RECIST_RULES I2-I8, H7). Baseline target sum 80 mm; a sum of 100 mm is target iUPD."""

from __future__ import annotations

import pytest
from irecist_builder import irecist, nlnt, nlt, responses

from recist.rules.irecist.window import confirmation_window

FIRST_IUPD_DAY = 56


def _confirming_scan_after(days: int, protocol: dict | None = None) -> list[str | None]:
    """iUPD of the targets at day 56, then a scan ``days`` later with the sum 5 mm higher."""
    return responses({"sum": 100.0}, {"sum": 105.0, "day": FIRST_IUPD_DAY + days}, protocol=protocol)


@pytest.mark.parametrize(("days", "expected"), [(27, "iUPD"), (28, "iCPD"), (56, "iCPD"), (57, "iUPD")])
def test_window_of_4_to_8_weeks_without_variance(days, expected):
    """[iR17]: confirmation at the next assessment 4-8 weeks after iUPD; [iR-FAQ]: not before 4 weeks.
    With a variance of 0 days the window is exactly 28-56 days."""
    assert _confirming_scan_after(days, {"irecist_window_variance_days": 0}) == ["iUPD", expected]


@pytest.mark.parametrize(("days", "expected"), [(25, "iUPD"), (26, "iCPD"), (58, "iCPD"), (59, "iUPD")])
def test_window_with_the_recommended_variance_of_2_days(days, expected):
    """[iR-FAQ]: "a protocol defined variance permitted of a recommended +/- 2 days" (the default)."""
    assert _confirming_scan_after(days) == ["iUPD", expected]


def test_a_late_scan_confirms_when_the_protocol_says_so():
    assert _confirming_scan_after(57, {"irecist_window_variance_days": 0, "irecist_late_scan_confirms": True}) == [
        "iUPD", "iCPD"]


def test_window_function_boundaries():
    window = dict(min_days=28, max_days=56, variance_days=0)
    assert [confirmation_window(d, **window) for d in (27, 28, 56, 57)] == ["early", "in", "in", "late"]


def test_after_a_late_scan_the_window_restarts_from_it():
    """The late scan stays iUPD; the next one, 4-8 weeks after it, confirms; progression keeps the date of
    the first iUPD of the episode."""
    result = irecist({"sum": 100.0}, {"sum": 105.0, "day": 56 + 70}, {"sum": 105.0, "day": 56 + 70 + 42})
    assert [tp["response"] for tp in result["timepoints"]] == ["iUPD", "iUPD", "iCPD"]
    assert [tp["window"] for tp in result["timepoints"]] == [None, "late", "in"]
    assert result["progression"]["iupd"]["label"] == "FU1"


def test_early_scan_confirms_only_by_an_additional_new_lesion():
    """[iR-FAQ]: a scan under 4 weeks after iUPD confirms iCPD only through an (additional) new lesion."""
    first = {"sum": 100.0, "new": [nlt("N1", 10.0)]}
    assert responses(first, {"sum": 100.0, "day": 70, "new": [nlt("N1", 10.0), nlnt("N2")]}) == ["iUPD", "iCPD"]


def test_early_scan_growth_of_known_lesions_does_not_confirm():
    """[iR-FAQ]: "Increases in size of existing lesions (including new lesions identified at the time of
    iUPD) would not allow iCPD to be assigned"; the scan is repeated 4-8 weeks after the iUPD."""
    first = {"sum": 100.0, "new": [nlt("N1", 10.0)]}
    early = {"sum": 110.0, "day": 70, "new": [nlt("N1", 20.0)]}
    assert responses(first, early) == ["iUPD", "iUPD"]
    # the window still counts from the iUPD at day 56, not from the early scan (day 70)
    assert responses(first, early, {"sum": 110.0, "day": 56 + 30, "new": [nlt("N1", 20.0)]}) == [
        "iUPD", "iUPD", "iCPD"]


def test_new_lesion_growth_adds_up_4_then_2_mm():
    """[iR-FAQ] "How do new lesions define progression?": a 4 mm increase followed by a further 2 mm
    meets the 5 mm criterion; progression is dated to the iUPD."""
    result = irecist({"new": [nlt("N1", 10.0)]}, {"new": [nlt("N1", 14.0)]}, {"new": [nlt("N1", 16.0)]})
    assert [tp["response"] for tp in result["timepoints"]] == ["iUPD", "iUPD", "iCPD"]
    assert result["progression"]["iupd"]["label"] == "FU1"
    assert result["progression"]["confirmed_by"] == ["new_lesion_growth"]
    assert [tp["new_lesion_target_sum_mm"] for tp in result["timepoints"]] == [10.0, 14.0, 16.0]


@pytest.mark.parametrize(("reference", "third", "expected"), [
    ("first_iupd", 106.0, "iCPD"),  # 100 -> 103 -> 106: +6 mm over the first iUPD
    ("previous", 106.0, "iUPD"),    # +3 mm over the previous assessment
    ("previous", 108.0, "iCPD"),    # +5 mm over the previous assessment
])
def test_further_target_increase_reference_is_a_protocol_option(reference, third, expected):
    """RECIST_RULES H7: the "further >= 5 mm" counted from the first iUPD (default) or the previous one."""
    assert responses({"sum": 100.0}, {"sum": 103.0}, {"sum": third},
                     protocol={"irecist_further_increase_from": reference}) == ["iUPD", "iUPD", expected]


def test_reset_iupd_ipr_iupd_icpd_is_dated_to_the_second_iupd():
    """RECIST_RULES I6: after iUPD then iPR, a new iUPD (against the nadir) must be confirmed again; the
    progression date is that of the iUPD confirmed: the second one."""
    result = irecist({"sum": 100.0}, {"sum": 50.0}, {"sum": 62.0}, {"sum": 67.0})
    assert [tp["response"] for tp in result["timepoints"]] == ["iUPD", "iPR", "iUPD", "iCPD"]
    assert result["first_iupd"]["label"] == "FU1"
    assert result["progression"]["iupd"]["label"] == "FU3"
    assert result["progression"]["date"] is None and result["progression"]["day"] == 168


def test_decrease_without_reaching_isd_stays_iupd():
    """I5: disease decreasing without meeting iSD (the sum still >= 20 % over the nadir) stays iUPD."""
    assert responses({"sum": 110.0}, {"sum": 100.0}) == ["iUPD", "iUPD"]


def test_scenario_b_new_lesion_then_further_shrinkage_is_ipr():
    """[iR-FAQ] "Assigning response after the appearance of new lesions", scenario B (I8): iUPD by a new
    lesion, then the baseline lesions shrink further to PR: iPR, although the new lesion is still there."""
    assert responses({"sum": 70.0, "new": [nlt("N1", 10.0)]}, {"sum": 50.0, "new": [nlt("N1", 10.0)]}) == [
        "iUPD", "iPR"]


def test_scenario_f_pr_before_the_new_lesion_and_no_change_stays_iupd():
    """Scenario F (I8): PR met before the new-lesion iUPD, nothing changed since: iUPD."""
    assert responses({"sum": 50.0}, {"sum": 50.0, "new": [nlt("N1", 10.0)]},
                     {"sum": 50.0, "new": [nlt("N1", 10.0)]}) == ["iPR", "iUPD", "iUPD"]


def test_new_lesion_gone_allows_the_response_of_the_baseline_disease():
    assert responses({"sum": 50.0}, {"sum": 50.0, "new": [nlnt("N1")]},
                     {"sum": 50.0, "new": [nlnt("N1", state="absent")]}) == ["iPR", "iUPD", "iPR"]


def test_complete_response_needs_the_new_lesions_gone():
    """iCR is "new lesions: no" ([iR17] Table 2): a new lesion still there leaves iPR."""
    first = {"sum": 80.0, "new": [nlnt("N1")]}
    assert responses(first, {"sum": "CR", "nt": "absent", "new": [nlnt("N1")]}) == ["iUPD", "iPR"]
    assert responses(first, {"sum": "CR", "nt": "absent", "new": [nlnt("N1", state="absent")]}) == ["iUPD", "iCR"]


def test_after_reset_known_new_lesions_need_recist_progression_for_a_new_iupd():
    """[iR-FAQ] "How do new lesions define progression?" (I6): after iSD/iPR, a new iUPD needs further new
    lesions, NLT meeting RECIST 1.1 PD (>= 20 % and >= 5 mm over their nadir) or NLNT unequivocally
    progressing; growth short of that is not iUPD."""
    first = {"sum": 70.0, "new": [nlt("N1", 20.0)]}
    reset = {"sum": 50.0, "new": [nlt("N1", 20.0)]}
    assert responses(first, reset, {"sum": 50.0, "new": [nlt("N1", 23.0)]}) == ["iUPD", "iPR", "iPR"]
    assert responses(first, reset, {"sum": 50.0, "new": [nlt("N1", 25.0)]}) == ["iUPD", "iPR", "iUPD"]
    nlnt_first = {"sum": 70.0, "new": [nlnt("N1")]}
    nlnt_reset = {"sum": 50.0, "new": [nlnt("N1")]}
    assert responses(nlnt_first, nlnt_reset, {"sum": 50.0, "new": [nlnt("N1", increased_since_previous=True)]}) == [
        "iUPD", "iPR", "iPR"]
    assert responses(nlnt_first, nlnt_reset, {"sum": 50.0, "new": [nlnt("N1", state="unequivocal_progression")]}) == [
        "iUPD", "iPR", "iUPD"]


def test_progression_in_another_category_confirms():
    """[iR-FAQ]: "'New' progression in other disease categories such as target disease ... can of course
    also confirm progression" (I4 e)."""
    result = irecist({"new": [nlnt("N1")]}, {"sum": 100.0, "new": [nlnt("N1")]})
    assert [tp["response"] for tp in result["timepoints"]] == ["iUPD", "iCPD"]
    assert result["progression"]["confirmed_by"] == ["new_category"]


def test_no_response_after_icpd():
    result = irecist({"sum": 100.0}, {"sum": 105.0}, {"sum": 50.0})
    assert [tp["response"] for tp in result["timepoints"]] == ["iUPD", "iCPD", None]
    assert result["best_overall_response"] == "iCPD"


def test_recist_1_1_stays_primary():
    """The RECIST 1.1 responses are unchanged by the iRECIST reading: PD at the first iUPD."""
    from irecist_builder import case

    import recist

    data = case({"sum": 100.0}, {"sum": 50.0})
    result = recist.assess(data).to_dict()
    assert [tp["overall_response"] for tp in result["timepoints"]] == ["PD", "PR"]
    assert result["best_overall_response"] == "PD"
    assert result["progression"]["label"] == "FU1"
    assert result["criteria"] == "iRECIST"
