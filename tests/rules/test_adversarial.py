"""Cases a real reader produces that stress the RECIST 1.1 engine, and the errors bad input must give.

Expected values come from the published rules (RECIST_RULES.md R1-R37, C1-C7) and the readings declared in
docs/rules.md, written before the engine was run; each test says which rule decides it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from casebuilder import target_case
from test_published_examples import at, overalls, run, single_target

import recist
from recist.cli import main as cli_main
from recist.errors import RecistError, RecistValidationError

NODE = frozenset({"N1", "N2"})


# --------------------------------------------------------------------------------------------------
# A node that shrinks below 10 mm and grows back (R9, R11, R14, R26)
# --------------------------------------------------------------------------------------------------

def test_single_node_below_10_then_back_to_12_after_cr_is_pd():
    """20 -> 8 mm (target CR: node < 10 mm; overall CR, no non-targets) -> 12 mm.

    R26: after a definitive CR, a target node at >= 10 mm short axis has reappeared: PD (H6 default),
    even though +4 mm over the nadir of 8 mm fails R11's 5 mm on its own. R14: the actual 8 and 12 mm
    are recorded.
    """
    result = run(target_case({"N1": 20.0}, [{"targets": {"N1": 8.0}}, {"targets": {"N1": 12.0}}], nodal=NODE))
    fu1, fu2 = at(result, "FU1"), at(result, "FU2")
    assert (fu1["sum_mm"], fu1["target_response"], fu1["overall_response"]) == (8.0, "CR", "CR")
    assert fu2["sum_mm"] == pytest.approx(12.0)
    assert fu2["nadir_mm"] == pytest.approx(8.0)
    assert fu2["overall_response"] == "PD"
    assert result["progression"]["label"] == "FU2"
    assert result["progression"]["trigger"] == "target"
    assert result["best_overall_response"] == "CR"


def test_single_node_back_to_12_literal_reading_is_pr():
    """H6 reading A: +4 mm is not R11 PD; 12 mm is not CR (>= 10 mm); 20 -> 12 = -40 %: PR."""
    case = target_case({"N1": 20.0}, [{"targets": {"N1": 8.0}}, {"targets": {"N1": 12.0}}], nodal=NODE,
                       protocol={"reappearance_after_cr_is_pd": False})
    result = run(case)
    assert overalls(result) == ["CR", "PR"]
    assert result["progression"] is None


def test_single_node_below_10_stays_cr_while_under_10():
    """R14: 20 -> 8 -> 9 mm: still < 10 mm, target CR with a sum of 9 mm, no progression."""
    result = run(target_case({"N1": 20.0}, [{"targets": {"N1": 8.0}}, {"targets": {"N1": 9.0}}], nodal=NODE))
    assert overalls(result) == ["CR", "CR"]
    assert at(result, "FU2")["sum_mm"] == pytest.approx(9.0)
    assert result["progression"] is None


def test_node_regrowth_with_another_target_present_is_judged_on_the_sum():
    """Liver 30 + node 20 = 50; then 20 + 8 = 28 (PR); then 20 + 12 = 32: +4 mm over 28, still -36 %: PR.

    No overall CR was ever assigned (the liver lesion persists), so R26's reappearance rule does not apply.
    """
    case = target_case({"T1": 30.0, "N1": 20.0},
                       [{"targets": {"T1": 20.0, "N1": 8.0}}, {"targets": {"T1": 20.0, "N1": 12.0}}], nodal=NODE)
    result = run(case)
    fu2 = at(result, "FU2")
    assert fu2["sum_mm"] == pytest.approx(32.0)
    assert fu2["nadir_mm"] == pytest.approx(28.0)
    assert fu2["target_response"] == "PR"
    assert result["progression"] is None


def test_all_target_nodes_under_10_while_the_sum_meets_pd_default_reading_is_pd():
    """Node 20 -> 3 -> 9 mm. FU1: every target node < 10 mm, target CR (R9, R14). FU2: +6 mm and +200 %
    over the nadir of 3 mm meet R11 literally, and R13 tests PD first: reading A (default) is PD."""
    result = run(target_case({"N1": 20.0}, [{"targets": {"N1": 3.0}}, {"targets": {"N1": 9.0}}], nodal=NODE))
    assert overalls(result) == ["CR", "PD"]
    assert at(result, "FU2")["target_response"] == "PD"
    assert result["progression"]["label"] == "FU2"


def test_all_target_nodes_under_10_while_the_sum_meets_pd_faq_reading_is_cr():
    """Same node with protocol option ``normal_nodes_override_sum_pd``: every target node is still under
    10 mm, which is CR by §4.3.1/§4.3.2, and a node under 10 mm is normal ([EORTC-FAQ] "Abnormal lymph
    node"): reading B, CR, no progression."""
    case = target_case({"N1": 20.0}, [{"targets": {"N1": 3.0}}, {"targets": {"N1": 9.0}}], nodal=NODE,
                       protocol={"normal_nodes_override_sum_pd": True})
    result = run(case)
    assert overalls(result) == ["CR", "CR"]
    assert result["progression"] is None
    # the option changes nothing once a node is pathological again (>= 10 mm): 3 -> 12 is PD either way
    grown = target_case({"N1": 20.0}, [{"targets": {"N1": 3.0}}, {"targets": {"N1": 12.0}}], nodal=NODE,
                        protocol={"normal_nodes_override_sum_pd": True})
    assert overalls(run(grown)) == ["CR", "PD"]


def test_baseline_target_of_zero_mm_makes_every_follow_up_target_response_ne():
    """A target must be measurable at baseline (§4.2); 0 mm is a reading error. It is flagged, and the
    follow-ups are not judged against that baseline: target NE (R18), overall NE by Table 1 ("NE" row),
    not CR and not PD for 0 -> 5 mm."""
    case = target_case({"T1": 0.0, "T2": 20.0},
                       [{"targets": {"T1": 5.0, "T2": 20.0}}, {"targets": {"T1": 0.0, "T2": 0.0}}])
    result = run(case)
    assert [tp["target_response"] for tp in result["timepoints"]] == ["NE", "NE"]
    assert overalls(result) == ["NE", "NE"]
    assert result["progression"] is None and result["best_overall_response"] == "NE"
    assert any("T1" in p and "0 mm" in p and "NE" in p for p in result["baseline"]["problems"])


def test_baseline_target_of_zero_mm_still_progresses_by_a_new_lesion():
    """Table 1: a new lesion is PD whatever the target response (R27)."""
    case = target_case({"T1": 0.0}, [{"targets": {"T1": 0.0}, "new_lesions": [{"id": "NEW1", "site": "bone"}]}])
    result = run(case)
    assert overalls(result) == ["PD"]
    assert result["progression"]["trigger"] == "new_lesion"


# --------------------------------------------------------------------------------------------------
# A lesion split, then merged (R16, R17, C4)
# --------------------------------------------------------------------------------------------------

def test_split_then_coalesced():
    """T1 40 + T2 20 = 60. FU1: T1 splits into 15 + 10 -> 25 + 20 = 45 (-25 %, SD).

    FU2: the fragments and T2 coalesce into one 50 mm mass recorded under T1, T2 merged into T1: 50 mm,
    +11.1 % over the nadir 45: SD. FU3: the mass grows to 60 mm: +33 % and +15 mm over 45: PD.
    """
    case = target_case({"T1": 40.0, "T2": 20.0}, [
        {"targets": {"T1": {"state": "split", "fragments_mm": [15.0, 10.0]}, "T2": 20.0}},
        {"targets": {"T1": 50.0, "T2": {"state": "merged", "merged_into": "T1"}}},
        {"targets": {"T1": 60.0, "T2": {"state": "merged", "merged_into": "T1"}}},
    ])
    result = run(case)
    assert [tp["sum_mm"] for tp in result["timepoints"]] == [45.0, 50.0, 60.0]
    assert [tp["nadir_mm"] for tp in result["timepoints"]] == [60.0, 45.0, 45.0]
    assert overalls(result) == ["SD", "SD", "PD"]


def test_merged_into_an_unknown_lesion_is_refused():
    case = target_case({"T1": 40.0, "T2": 20.0},
                       [{"targets": {"T1": 50.0, "T2": {"state": "merged", "merged_into": "T9"}}}])
    with pytest.raises(RecistValidationError) as err:
        run(case)
    assert "T2" in str(err.value) and "T9" in str(err.value)


def test_merged_into_a_target_not_evaluated_is_ne():
    """R18: T2 merged into T1 but T1 was not measured: the coalesced mass is unknown, so NE."""
    case = target_case({"T1": 40.0, "T2": 20.0},
                       [{"targets": {"T1": {"state": "not_evaluated"}, "T2": {"state": "merged", "merged_into": "T1"}}}])
    assert overalls(run(case)) == ["NE"]


# --------------------------------------------------------------------------------------------------
# All targets "too small to measure" (R15)
# --------------------------------------------------------------------------------------------------

def test_all_non_nodal_targets_too_small_is_pr_not_cr():
    """R15: 30 + 20 -> 5 + 5 = 10 mm (-80 %): PR; lesions are believed present, so not CR."""
    case = target_case({"T1": 30.0, "T2": 20.0},
                       [{"targets": {"T1": {"state": "too_small"}, "T2": {"state": "too_small"}}}])
    fu = at(run(case), "FU1")
    assert (fu["sum_mm"], fu["target_response"]) == (10.0, "PR")


def test_all_nodal_targets_too_small_is_cr_with_sum_10():
    """R15/R14: nodes too small count 5 mm each, each < 10 mm short axis: CR with a 10 mm sum."""
    case = target_case({"N1": 20.0, "N2": 16.0},
                       [{"targets": {"N1": {"state": "too_small"}, "N2": {"state": "too_small"}}}], nodal=NODE)
    fu = at(run(case), "FU1")
    assert (fu["sum_mm"], fu["target_response"], fu["overall_response"]) == (10.0, "CR", "CR")


def test_regrowth_from_too_small_defaults_follows_r11():
    """R11 over a nadir of 10 mm (two 5 mm defaults): 10 + 5 = 15 mm is +50 % and +5 mm: PD."""
    case = target_case({"T1": 30.0, "T2": 20.0}, [
        {"targets": {"T1": {"state": "too_small"}, "T2": {"state": "too_small"}}},
        {"targets": {"T1": 10.0, "T2": {"state": "too_small"}}},
    ])
    result = run(case)
    assert at(result, "FU2")["nadir_mm"] == pytest.approx(10.0)
    assert overalls(result) == ["PR", "PD"]


# --------------------------------------------------------------------------------------------------
# Confirmation sequences with NE between (R31, R35, C2, H4)
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("sequence", "protocol", "expected"),
    [
        # Contract: any number of NE may lie between a PR and its confirmation.
        ([(56, 60.0), (84, None), (112, None), (140, 60.0)], {}, "PR"),
        # H4 reading A: at most one NE between: not confirmed; SD minimum met at day 56.
        ([(56, 60.0), (84, None), (112, None), (140, 60.0)], {"confirmation_max_ne_between": 1}, "SD"),
        ([(56, 60.0), (84, None), (112, 60.0)], {"confirmation_max_ne_between": 1}, "PR"),
        # The repeat comes 21 days after the PR: too early to confirm.
        ([(56, 60.0), (70, None), (77, 60.0)], {}, "SD"),
        # PR, NE, PD: unconfirmed PR counts as SD (met at day 56).
        ([(56, 60.0), (84, None), (112, 75.0)], {}, "SD"),
        # An NE before the first response changes nothing.
        ([(28, None), (56, 60.0), (84, 60.0)], {}, "PR"),
        # CR, NE, CR: confirmed CR.
        ([(56, 0.0), (84, None), (112, 0.0)], {}, "CR"),
        # CR (day 28), NE, NE: minimum never met, nothing confirms: NE.
        ([(28, 0.0), (56, None), (84, None)], {}, "NE"),
    ],
)
def test_confirmation_with_ne_between(sequence, protocol, expected):
    result = run(single_target(sequence, confirmation=True, **protocol))
    assert result["best_overall_response"] == expected


# --------------------------------------------------------------------------------------------------
# Dates and days (R32, R37, C1, contract)
# --------------------------------------------------------------------------------------------------

def dated_case(dates_mm: list[tuple[dict[str, Any], float]], **protocol: Any) -> dict[str, Any]:
    """One liver target; each timepoint is ({"date": ...} and/or {"day": ...}, mm); the first is the baseline."""
    timepoints = [
        {"label": "baseline" if k == 0 else f"FU{k}", **when, "targets": {"T1": {"long_axis_mm": mm}}}
        for k, (when, mm) in enumerate(dates_mm)
    ]
    case = {"format": "recist.case/1", "subject": "D",
            "lesions": [{"id": "T1", "role": "target", "site": "liver"}], "timepoints": timepoints}
    if protocol:
        case["protocol"] = protocol
    return case


def test_mixing_dates_and_days():
    """Baseline dated, FU1 given as day 56, FU2 dated: days count from the baseline scan."""
    result = run(dated_case([({"date": "2024-01-10"}, 100.0), ({"day": 56}, 80.0), ({"date": "2024-04-10"}, 80.0)]))
    fu1, fu2 = at(result, "FU1"), at(result, "FU2")
    assert fu1["day"] == 56
    assert fu1["date"] in (None, "2024-03-06")
    assert fu2["day"] == 91
    assert result["best_overall_response"] == "SD"


def test_sd_minimum_with_dates_across_a_leap_february():
    """C1: 2024-02-01 -> 2024-03-14 is 42 days (February 2024 has 29 days): SD met; 03-13 is 41: NE."""
    assert run(dated_case([({"date": "2024-02-01"}, 100.0), ({"date": "2024-03-14"}, 80.0)])
               )["best_overall_response"] == "SD"
    assert run(dated_case([({"date": "2024-02-01"}, 100.0), ({"date": "2024-03-13"}, 80.0)])
               )["best_overall_response"] == "NE"


def test_confirmation_interval_with_dates():
    """C2: PR on 2024-03-01 confirmed by PR on 2024-03-29 (28 days), not by one on 2024-03-28 (27 days)."""
    base = ({"date": "2024-01-01"}, 100.0)
    ok = dated_case([base, ({"date": "2024-03-01"}, 60.0), ({"date": "2024-03-29"}, 60.0)], confirmation=True)
    assert run(ok)["best_overall_response"] == "PR"
    early = dated_case([base, ({"date": "2024-03-01"}, 60.0), ({"date": "2024-03-28"}, 60.0)], confirmation=True)
    assert run(early)["best_overall_response"] == "SD"


def test_date_and_day_that_disagree_are_refused():
    case = dated_case([({"date": "2024-01-10"}, 100.0), ({"date": "2024-03-06", "day": 50}, 80.0)])
    with pytest.raises(RecistValidationError) as err:
        run(case)
    assert "FU1" in str(err.value)


def test_dated_follow_up_after_an_undated_baseline_is_refused_or_counted_correctly():
    """Baseline given only as day 0, follow-up only as a date: days since baseline cannot be computed.

    A reader expects either a clear error naming the follow-up, never a silently invented day.
    """
    case = dated_case([({"day": 0}, 100.0), ({"date": "2024-03-06"}, 80.0)])
    with pytest.raises(RecistValidationError) as err:
        run(case)
    assert "FU1" in str(err.value) or "baseline" in str(err.value)


# --------------------------------------------------------------------------------------------------
# A follow-up with only new lesions (R23, R27)
# --------------------------------------------------------------------------------------------------

def test_follow_up_with_only_a_new_lesion_is_pd():
    """R27 row "Any / Any / Yes": nothing else assessed, but an unequivocal new lesion: PD."""
    case = target_case({"T1": 50.0}, [{"new_lesions": [{"id": "N1", "site": "brain", "equivocal": False}]}],
                       non_targets={"NT1": "present"})
    result = run(case)
    fu = at(result, "FU1")
    assert fu["sum_mm"] is None
    assert fu["new_lesions"] == "YES"
    assert fu["overall_response"] == "PD"
    assert result["progression"]["trigger"] == "new_lesion"
    assert result["best_overall_response"] == "PD"


def test_follow_up_with_only_an_equivocal_new_lesion_is_ne():
    """R24 + R18: an equivocal lesion is not PD, and nothing else was assessed: NE."""
    case = target_case({"T1": 50.0}, [{"new_lesions": [{"id": "N1", "site": "brain", "equivocal": True}]}])
    fu = at(run(case), "FU1")
    assert (fu["new_lesions"], fu["overall_response"]) == ("EQUIVOCAL", "NE")


def test_new_node_under_10mm_is_not_progression_until_it_grows():
    """R26 [EORTC-FAQ] "New lymph node lesions": a new 8 mm node is not malignant (equivocal); at 12 mm
    it is, and progression dates back to the scan that first showed it (R24)."""
    new8 = [{"id": "N9", "site": "axillary lymph node", "nodal": True, "short_axis_mm": 8.0, "equivocal": False}]
    new12 = [{"id": "N9", "site": "axillary lymph node", "nodal": True, "short_axis_mm": 12.0, "equivocal": False}]
    case = target_case({"T1": 50.0}, [{"targets": {"T1": 50.0}, "new_lesions": new8},
                                      {"targets": {"T1": 50.0}, "new_lesions": new12}])
    result = run(case)
    assert at(result, "FU1")["new_lesions"] == "EQUIVOCAL"
    assert overalls(result) == ["SD", "PD"]
    assert result["progression"]["label"] == "FU1"


# --------------------------------------------------------------------------------------------------
# Recorded-only follow-ups mixed with measured ones (contract "recorded")
# --------------------------------------------------------------------------------------------------

def test_recorded_follow_up_between_measured_ones():
    """B 100; FU1 recorded PR (no sum); FU2 measured 60; FU3 measured 75.

    The recorded timepoint has no sum, so FU2's nadir is the baseline; PR at 56 is confirmed by the
    measured PR at 112; FU3 is +25 % and +15 mm over the nadir 60: PD by target.
    """
    case = target_case({"T1": 100.0}, [
        {"recorded": {"overall": "PR"}},
        {"targets": {"T1": 60.0}},
        {"targets": {"T1": 75.0}},
    ], protocol={"confirmation": True})
    result = run(case)
    fu1, fu2, fu3 = result["timepoints"]
    assert fu1["overall_response"] == "PR" and fu1["source"] == "recorded" and fu1["sum_mm"] is None
    assert fu2["nadir_mm"] == pytest.approx(100.0)
    assert fu3["nadir_mm"] == pytest.approx(60.0)
    assert overalls(result) == ["PR", "PR", "PD"]
    assert result["best_overall_response"] == "PR"
    assert (result["progression"]["label"], result["progression"]["trigger"]) == ("FU3", "target")


def test_recorded_pd_gives_progression_triggered_by_recorded():
    result = run(target_case({"T1": 100.0}, [{"recorded": {"overall": "SD"}}, {"recorded": {"overall": "PD"}}]))
    assert overalls(result) == ["SD", "PD"]
    assert (result["progression"]["label"], result["progression"]["trigger"]) == ("FU2", "recorded")
    assert result["best_overall_response"] == "SD"


def test_recorded_components_go_through_table_1():
    """Recorded target PR, non-target NON-CR/NON-PD, no new lesions, no overall: Table 1 gives PR."""
    case = target_case({"T1": 100.0}, [
        {"recorded": {"target": "PR", "non_target": "NON-CR/NON-PD", "new_lesions": "NO"}}],
        non_targets={"NT1": "present"})
    assert overalls(run(case)) == ["PR"]


def test_measured_follow_up_disagreeing_with_its_recorded_value_is_a_discrepancy():
    """Measurements decide (100 -> 60 = PR); the recorded "SD" is reported, not used."""
    result = run(target_case({"T1": 100.0}, [{"targets": {"T1": 60.0}, "recorded": {"overall": "SD"}}]))
    assert overalls(result) == ["PR"]
    assert result["discrepancies"]


# --------------------------------------------------------------------------------------------------
# Non-target-only subject with tumour markers (R19, R20, R28)
# --------------------------------------------------------------------------------------------------

def nt_only(follow_ups: list[dict[str, Any]], baseline_markers: str | None = "above_uln") -> dict[str, Any]:
    case = target_case({}, follow_ups, non_targets={"NT1": "present", "NT2": "present"})
    if baseline_markers:
        case["timepoints"][0]["tumour_markers"] = baseline_markers
    return case


def test_non_target_only_markers_must_normalise_for_cr():
    """R19: lesions gone but markers still above ULN: NON-CR/NON-PD; then normal: CR."""
    gone = {"NT1": "absent", "NT2": "absent"}
    result = run(nt_only([{"non_targets": gone, "tumour_markers": "above_uln"},
                          {"non_targets": gone, "tumour_markers": "normal"}]))
    assert [tp["non_target_response"] for tp in result["timepoints"]] == ["NON-CR/NON-PD", "CR"]
    assert overalls(result) == ["NON-CR/NON-PD", "CR"]
    assert result["best_overall_response"] == "CR"
    assert result["progression"] is None




def test_non_target_only_markers_elevated_at_baseline_and_not_reported_is_not_cr():
    """R19 ([E09] §3.2.2): markers above ULN at baseline must normalise before CR. Lesions gone but no
    marker result at the follow-up: normalisation is not shown, so CR cannot be claimed (R22: not all
    evaluated, NE)."""
    result = run(nt_only([{"non_targets": {"NT1": "absent", "NT2": "absent"}}]))
    fu = at(result, "FU1")
    assert fu["non_target_response"] != "CR"
    assert fu["overall_response"] != "CR"


def test_markers_elevated_at_baseline_and_not_reported_prevent_overall_cr_with_targets():
    """R19 + Table 1: target CR, every non-target gone, markers above ULN at baseline and not reported at
    the follow-up: the non-target category cannot be CR, so the overall response is PR (row CR / not all
    evaluated), not CR."""
    case = target_case({"T1": 30.0}, [{"targets": {"T1": 0.0}, "non_targets": {"NT1": "absent"}}],
                       non_targets={"NT1": "present"})
    case["timepoints"][0]["tumour_markers"] = "above_uln"
    assert at(run(case), "FU1")["overall_response"] == "PR"


def test_markers_normal_at_baseline_and_not_reported_allow_cr():
    """R19: markers were never elevated, so their absence at the follow-up does not block CR."""
    result = run(nt_only([{"non_targets": {"NT1": "absent", "NT2": "absent"}}], baseline_markers="normal"))
    assert at(result, "FU1")["overall_response"] == "CR"


def test_non_target_only_progression_and_markers():
    """R21/R28: rising markers alone are not PD; unequivocal progression of a non-target is."""
    result = run(nt_only([{"non_targets": {"NT1": "present", "NT2": "present"}, "tumour_markers": "above_uln"},
                          {"non_targets": {"NT1": "unequivocal_progression", "NT2": "present"}}]))
    assert overalls(result) == ["NON-CR/NON-PD", "PD"]
    assert (result["progression"]["label"], result["progression"]["trigger"]) == ("FU2", "non_target")
    assert result["best_overall_response"] == "NON-CR/NON-PD"


# --------------------------------------------------------------------------------------------------
# Nadir next to NE timepoints (C5, C6, R11)
# --------------------------------------------------------------------------------------------------

def test_nadir_skips_a_partially_measured_timepoint():
    """B 50 + 50; FU1 30 + 30 = 60 (PR); FU2 only T1 = 20 (NE); FU3 36 + 36 = 72.

    C6: FU2 is not a nadir, so FU3 is judged against 60: +20 % and +12 mm: PD.
    """
    case = target_case({"T1": 50.0, "T2": 50.0}, [
        {"targets": {"T1": 30.0, "T2": 30.0}},
        {"targets": {"T1": 20.0, "T2": {"state": "not_evaluated"}}},
        {"targets": {"T1": 36.0, "T2": 36.0}},
    ])
    result = run(case)
    assert overalls(result) == ["PR", "NE", "PD"]
    assert at(result, "FU3")["nadir_mm"] == pytest.approx(60.0)
    assert result["progression"]["label"] == "FU3"


def test_lower_bound_pd_against_the_nadir_next_to_ne():
    """C5: B 100, FU1 60, FU2 T1 80 with T2 missing: 80 >= 60 * 1.2 and +20 mm: PD, lower bound."""
    case = target_case({"T1": 50.0, "T2": 50.0}, [
        {"targets": {"T1": 30.0, "T2": 30.0}},
        {"targets": {"T1": 80.0}},
    ])
    fu2 = at(run(case), "FU2")
    assert (fu2["overall_response"], fu2["sum_mm"], fu2["sum_is_lower_bound"]) == ("PD", 80.0, True)
    assert fu2["nadir_mm"] == pytest.approx(60.0)


def test_nadir_after_a_leading_ne():
    """B 100; FU1 no imaging (NE); FU2 50 (nadir still 100); FU3 60 (+20 %, +10 mm over 50): PD."""
    result = run(single_target([(56, None), (112, 50.0), (168, 60.0)]))
    assert [tp["nadir_mm"] for tp in result["timepoints"]][1:] == [100.0, 50.0]
    assert overalls(result) == ["NE", "PR", "PD"]
    assert result["best_overall_response"] == "PR"


# --------------------------------------------------------------------------------------------------
# Error messages on realistic bad input (contract "Validation")
# --------------------------------------------------------------------------------------------------

def write(tmp_path: Path, case: dict[str, Any]) -> Path:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    return path


def node_case() -> dict[str, Any]:
    return target_case({"T1": 30.0, "N1": 20.0}, [{"targets": {"T1": 30.0, "N1": 18.0}}], nodal=NODE)


def assert_names(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} missing from the error message: {message}"


def test_error_nodal_target_with_only_long_axis(tmp_path):
    case = node_case()
    case["timepoints"][1]["targets"]["N1"] = {"long_axis_mm": 25.0}
    with pytest.raises(RecistValidationError) as err:
        recist.assess(write(tmp_path, case))
    assert_names(str(err.value), "case.json", "FU1", "N1", "short_axis_mm")


def test_error_typo_in_a_measurement_key(tmp_path):
    case = node_case()
    case["timepoints"][1]["targets"]["T1"] = {"long_axis_nm": 30.0}
    with pytest.raises(RecistValidationError) as err:
        recist.assess(write(tmp_path, case))
    assert_names(str(err.value), "case.json", "FU1", "T1", "long_axis_nm")


def test_error_dates_out_of_order(tmp_path):
    case = dated_case([({"date": "2024-01-10"}, 100.0), ({"date": "2024-04-01"}, 80.0),
                       ({"date": "2024-03-01"}, 80.0)])
    with pytest.raises(RecistValidationError) as err:
        recist.assess(write(tmp_path, case))
    assert_names(str(err.value), "case.json", "FU2")


def test_error_target_without_baseline_measurement(tmp_path):
    case = node_case()
    del case["timepoints"][0]["targets"]["T1"]
    with pytest.raises(RecistValidationError) as err:
        recist.assess(write(tmp_path, case))
    assert_names(str(err.value), "case.json", "baseline", "T1")


def test_cli_turns_bad_input_into_one_line_and_exit_2(tmp_path, capsys):
    case = node_case()
    case["timepoints"][1]["targets"]["T1"] = {"long_axis_nm": 30.0}
    status = cli_main(["assess", str(write(tmp_path, case))])
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    assert_names(err, "case.json", "FU1", "T1", "long_axis_nm")


def test_negative_length_is_refused():
    case = target_case({"T1": 30.0}, [{"targets": {"T1": -3.0}}])
    with pytest.raises(RecistError) as err:
        run(case)
    assert_names(str(err.value), "FU1", "T1")


# --------------------------------------------------------------------------------------------------
# Longer sequences a reader produces (R24, R26, R30, R33, R34, H1, H5, H6)
# --------------------------------------------------------------------------------------------------

def equivocal(lesion_id: str, is_equivocal: bool) -> list[dict[str, Any]]:
    return [{"id": lesion_id, "site": "bone", "equivocal": is_equivocal}]


def test_equivocal_then_target_pd_then_confirmed_dates_back_past_the_target_pd():
    """R24: equivocal N1 at FU1, target PD at FU2, N1 confirmed at FU3: progression is FU1."""
    case = target_case({"T1": 50.0}, [
        {"targets": {"T1": 50.0}, "new_lesions": equivocal("N1", True)},
        {"targets": {"T1": 70.0}, "new_lesions": equivocal("N1", True)},
        {"targets": {"T1": 70.0}, "new_lesions": equivocal("N1", False)},
    ])
    result = run(case)
    assert overalls(result) == ["SD", "PD", "PD"]
    prog = result["progression"]
    assert (prog["label"], prog["trigger"], prog["confirmed_at"]) == ("FU1", "new_lesion", "FU3")
    assert result["best_overall_response"] == "PD"


def test_equivocal_lesion_confirmed_later_keeps_an_earlier_sd():
    """R24/R30: SD at day 56, equivocal lesion at day 112 confirmed at 168: PD dated day 112; BOR SD."""
    case = target_case({"T1": 50.0}, [
        {"targets": {"T1": 45.0}},
        {"targets": {"T1": 45.0}, "new_lesions": equivocal("N1", True)},
        {"targets": {"T1": 45.0}, "new_lesions": equivocal("N1", False)},
    ])
    result = run(case)
    assert (result["progression"]["label"], result["progression"]["day"]) == ("FU2", 112)
    assert result["best_overall_response"] == "SD"


def test_a_different_unequivocal_lesion_does_not_date_back_to_an_equivocal_one():
    """R24 dates back only the same lesion: equivocal N1 at FU1, unequivocal N2 at FU2: progression FU2."""
    case = target_case({"T1": 50.0}, [
        {"targets": {"T1": 45.0}, "new_lesions": equivocal("N1", True)},
        {"targets": {"T1": 45.0}, "new_lesions": equivocal("N2", False)},
    ])
    result = run(case)
    assert result["progression"]["label"] == "FU2"
    assert result["best_overall_response"] == "SD"


def test_reappearance_after_cr_across_an_ne():
    """R26: CR, then no imaging (NE), then the target back at 3 mm: the last assessed response was CR: PD."""
    result = run(single_target([(56, 0.0), (112, None), (168, 3.0)]))
    assert overalls(result) == ["CR", "NE", "PD"]
    assert at(result, "FU3")["change_from_nadir_pct"] is None   # nadir 0 mm: undefined
    assert result["best_overall_response"] == "CR"


def test_non_target_node_growing_after_cr_without_unequivocal_progression_is_not_pd():
    """R26 [EORTC-FAQ] "Abnormal lymph node": target node CR (8 mm), non-target node 8 -> 12 mm "present":
    not a reappearance (needs unequivocal progression); non-target NON-CR/NON-PD, target CR: PR."""
    case = target_case(
        {"N1": 20.0},
        [{"targets": {"N1": 8.0}, "non_targets": {"NT1": {"state": "present", "short_axis_mm": 8.0}}},
         {"targets": {"N1": 8.0}, "non_targets": {"NT1": {"state": "present", "short_axis_mm": 12.0}}}],
        nodal=NODE, non_targets={"NT1": {"state": "present", "short_axis_mm": 14.0}},
    )
    next(les for les in case["lesions"] if les["id"] == "NT1").update(nodal=True, site="iliac lymph node")
    result = run(case)
    assert overalls(result) == ["CR", "PR"]
    assert result["progression"] is None


def test_measured_cr_then_pr_with_literal_reappearance_reading():
    """R34 CR/PR row, footnote a, with H6 reading A: node CR (8 mm) then 11 mm (+3 mm, not R11 PD; not CR;
    -78 %: PR). docs/rules.md counts CR followed by PR as a confirmed PR."""
    case = target_case({"T1": 30.0, "N1": 20.0},
                       [{"targets": {"T1": 0.0, "N1": 8.0}}, {"targets": {"T1": 0.0, "N1": 11.0}}],
                       nodal=NODE, protocol={"confirmation": True, "reappearance_after_cr_is_pd": False})
    result = run(case)
    assert overalls(result) == ["CR", "PR"]
    assert result["best_overall_response"] == "PR"


@pytest.mark.parametrize(
    ("sequence", "protocol", "expected"),
    [
        # R33: SD too early, NE, then PD: PD.
        ([(28, 80.0), (56, None), (84, 100.0)], {}, "PD"),
        # R31/R32: without confirmation a PR needs no minimum duration: PR at day 14 then SD or PD: PR.
        ([(14, 60.0), (28, 71.0)], {}, "PR"),
        ([(14, 60.0), (28, 72.0)], {}, "PR"),
        # H5 default: PR then SD both before day 42, lost: NE.
        ([(14, 60.0), (28, 71.0)], {"confirmation": True}, "NE"),
        # Confirmation: a CR at day 14 never repeated: NE.
        ([(14, 0.0)], {"confirmation": True}, "NE"),
        # R30: a PR after progression does not confirm the earlier PR: SD (met at day 56).
        ([(56, 60.0), (84, 72.0), (112, 60.0)], {"confirmation": True}, "SD"),
        # R36: confirmed PR, then SD, then PD: BOR stays PR.
        ([(56, 60.0), (84, 60.0), (112, 71.0), (168, 90.0)], {"confirmation": True}, "PR"),
        # C2/C3: PR, CR 14 days later, CR 28 days after that: the CR is confirmed.
        ([(56, 60.0), (70, 0.0), (98, 0.0)], {"confirmation": True}, "CR"),
    ],
)
def test_best_response_sequences(sequence, protocol, expected):
    assert run(single_target(sequence, **protocol))["best_overall_response"] == expected


def test_continuing_pr_still_progresses():
    """H1 reading B (continuing_pr) judges against the nadir: 100 -> 60 -> 72 mm is still PD; and a subject
    who never reached PR stays SD."""
    assert overalls(run(single_target([(56, 60.0), (112, 72.0)], continuing_pr=True))) == ["PR", "PD"]
    assert overalls(run(single_target([(56, 80.0), (112, 80.0)], continuing_pr=True))) == ["SD", "SD"]


def test_r11_boundary_is_exact_for_decimal_millimetres():
    """R11: 25.3 -> 30.36 mm is exactly +20 % (and +5.06 mm): PD, whatever floating point says."""
    fu = at(run(target_case({"T1": 25.3}, [{"targets": {"T1": 30.36}}])), "FU1")
    assert fu["change_from_nadir_pct"] == pytest.approx(20.0)
    assert fu["target_response"] == "PD"


def test_all_triggers_are_listed():
    """R37: target PD, non-target PD and a new lesion at once: trigger "target", all three listed."""
    case = target_case({"T1": 100.0}, [{"targets": {"T1": 130.0}, "new_lesions": equivocal("N1", False),
                                        "non_targets": {"NT1": "unequivocal_progression"}}],
                       non_targets={"NT1": "present"})
    prog = run(case)["progression"]
    assert prog["trigger"] == "target"
    assert set(prog["triggers"]) == {"target", "non_target", "new_lesion"}


def test_non_target_pd_while_targets_are_not_evaluated():
    """R27 row "Any / PD": targets not imaged, non-target unequivocal progression: PD by non-target."""
    case = target_case({"T1": 50.0}, [{"targets": {"T1": {"state": "not_evaluated"}},
                                       "non_targets": {"NT1": "unequivocal_progression"}}],
                       non_targets={"NT1": "present"})
    result = run(case)
    assert overalls(result) == ["PD"]
    assert result["progression"]["trigger"] == "non_target"


def test_non_target_only_sequences():
    """R28 + H8: NON-CR/NON-PD at day 28 then PD: PD; CR then CR 56 days later with confirmation: CR."""
    early = target_case({}, [{"day": 28, "non_targets": {"NT1": "present"}},
                             {"day": 56, "non_targets": {"NT1": "unequivocal_progression"}}],
                        non_targets={"NT1": "present"})
    assert run(early)["best_overall_response"] == "PD"
    cr = target_case({}, [{"non_targets": {"NT1": "absent"}}, {"non_targets": {"NT1": "absent"}}],
                     non_targets={"NT1": "present"}, protocol={"confirmation": True})
    assert run(cr)["best_overall_response"] == "CR"


def test_target_without_a_baseline_measurement_state_is_refused():
    """R1/R6: a target must be measured at baseline; 'too_small' there is refused with a hint."""
    case = target_case({"T1": {"state": "too_small"}}, [{"targets": {"T1": 10.0}}])
    with pytest.raises(RecistValidationError) as err:
        run(case)
    assert_names(str(err.value), "baseline", "T1", "too_small")
