"""Worked cases built from the published RECIST 1.1 wording, checked through the public API.

Every expected value below was written from the rule text (RECIST_RULES.md R1-R37, C1-C7 and the readings
declared in docs/rules.md for the open points H1-H9) before the engine was run, as a clinical reader would
score the case by hand. Each test names the rule it exercises; the paper's own examples come first.
"""

from __future__ import annotations

from typing import Any

import pytest
from casebuilder import target_case

import recist
from recist.errors import RecistError


def run(case: dict[str, Any]) -> dict[str, Any]:
    """The JSON of ``recist assess`` for a case dict."""
    return recist.assess(case).to_dict()


def at(result: dict[str, Any], label: str) -> dict[str, Any]:
    """The assessed timepoint called ``label``."""
    return next(tp for tp in result["timepoints"] if tp["label"] == label)


def overalls(result: dict[str, Any]) -> list[str]:
    return [tp["overall_response"] for tp in result["timepoints"]]


def baseline_lesion(result: dict[str, Any], lesion_id: str) -> dict[str, Any]:
    return next(les for les in result["baseline"]["lesions"] if les["id"] == lesion_id)


def single_target(sizes: list[tuple[int, float | None]], **protocol: Any) -> dict[str, Any]:
    """One non-nodal target of 100 mm at baseline; follow-ups (day, mm), ``None`` = no imaging (NE)."""
    follow_ups: list[dict[str, Any]] = []
    for day, size in sizes:
        follow_ups.append({"day": day} if size is None else {"day": day, "targets": {"T1": size}})
    return target_case({"T1": 100.0}, follow_ups, protocol=protocol or None)


def make_nodal(case: dict[str, Any], lesion_id: str) -> dict[str, Any]:
    """Turn the non-target ``lesion_id`` of a casebuilder case into a lymph node."""
    lesion = next(les for les in case["lesions"] if les["id"] == lesion_id)
    lesion.update(nodal=True, site="mediastinal lymph node")
    return case


def recorded_sequence(responses: list[tuple[int, str]], **protocol: Any) -> dict[str, Any]:
    """A measured baseline, then follow-ups assessed from recorded overall responses."""
    follow_ups = [{"day": day, "recorded": {"overall": value}} for day, value in responses]
    return target_case({"T1": 100.0}, follow_ups, protocol=protocol or None)


# --------------------------------------------------------------------------------------------------
# A. Measurability at baseline (R1-R4, R6-R8)
# --------------------------------------------------------------------------------------------------

def measurability_case(lesion: dict[str, Any], entry: dict[str, Any], slice_mm: float | None = None) -> dict:
    """A subject with one measurable liver target plus the non-target lesion under test."""
    base: dict[str, Any] = {
        "label": "baseline", "day": 0,
        "targets": {"T1": {"long_axis_mm": 40.0}},
        "non_targets": {"X": {"state": "present", **entry}},
    }
    if slice_mm is not None:
        base["slice_thickness_mm"] = slice_mm
    return {
        "format": "recist.case/1", "subject": "M",
        "lesions": [{"id": "T1", "role": "target", "site": "liver"}, {"id": "X", "role": "non_target", **lesion}],
        "timepoints": [base],
    }


@pytest.mark.parametrize(
    ("lesion", "entry", "slice_mm", "expected"),
    [
        # R1: 10 mm by CT (slices <= 5 mm) is measurable, just under is not.
        ({"site": "lung"}, {"long_axis_mm": 10.0}, None, "measurable"),
        ({"site": "lung"}, {"long_axis_mm": 9.9}, None, "non_measurable"),
        ({"site": "lung"}, {"long_axis_mm": 10.0}, 5.0, "measurable"),
        # R2: slices > 5 mm -> twice the slice thickness; the 10 mm floor does not drop to 2 x slice.
        ({"site": "lung"}, {"long_axis_mm": 15.9}, 8.0, "non_measurable"),
        ({"site": "lung"}, {"long_axis_mm": 16.0}, 8.0, "measurable"),
        ({"site": "lung"}, {"long_axis_mm": 8.0}, 3.0, "non_measurable"),
        # R1: caliper 10 mm; chest X-ray 20 mm.
        ({"site": "skin", "method": "caliper"}, {"long_axis_mm": 10.0}, None, "measurable"),
        ({"site": "lung", "method": "chest_xray"}, {"long_axis_mm": 19.0}, None, "non_measurable"),
        ({"site": "lung", "method": "chest_xray"}, {"long_axis_mm": 20.0}, None, "measurable"),
        # R3: nodes by short axis: >= 15 measurable, 10 to < 15 pathological non-measurable, < 10 normal.
        ({"site": "axillary lymph node", "nodal": True}, {"short_axis_mm": 15.0}, None, "measurable"),
        ({"site": "axillary lymph node", "nodal": True}, {"short_axis_mm": 14.9}, None, "non_measurable"),
        ({"site": "axillary lymph node", "nodal": True}, {"short_axis_mm": 10.0}, None, "non_measurable"),
        ({"site": "axillary lymph node", "nodal": True}, {"short_axis_mm": 9.9}, None, "non_pathological"),
        # R3: a node's long axis does not make it measurable (short axis 12 mm, long 40 mm).
        ({"site": "axillary lymph node", "nodal": True}, {"short_axis_mm": 12.0, "long_axis_mm": 40.0}, None,
         "non_measurable"),
        # H2 default (reading B): the 15 mm node rule stands on its own with 8 mm slices.
        ({"site": "axillary lymph node", "nodal": True}, {"short_axis_mm": 15.0}, 8.0, "measurable"),
    ],
)
def test_measurability_thresholds(lesion, entry, slice_mm, expected):
    """R1-R4 (and H2 reading B): the minimum sizes of [E09] §3.1.1."""
    result = run(measurability_case(lesion, entry, slice_mm))
    lesion_out = baseline_lesion(result, "X")
    assert lesion_out["measurability"] == expected
    assert lesion_out["target_eligible"] is (expected == "measurable")


def test_nodes_double_slice_thickness_option():
    """H2 reading A (protocol option): with 8 mm slices a node needs >= 16 mm short axis."""
    case = measurability_case({"site": "iliac lymph node", "nodal": True}, {"short_axis_mm": 15.0}, 8.0)
    case["protocol"] = {"nodes_double_slice_thickness": True}
    assert baseline_lesion(run(case), "X")["measurability"] == "non_measurable"


def test_r3_paper_example_node_20_by_30_records_the_20mm_short_axis():
    """R3/R7: a node reported as 20 mm x 30 mm has a 20 mm short axis, and 20 mm is what is summed.

    Follow-up short axis 14 mm (long axis still 30): 20 -> 14 is exactly -30 % = PR, which is only true
    if the short axis (not the 30 mm long axis) is the recorded value.
    """
    case = target_case(
        {"N1": {"short_axis_mm": 20.0, "long_axis_mm": 30.0}},
        [{"targets": {"N1": {"short_axis_mm": 14.0, "long_axis_mm": 30.0}}}],
        nodal=frozenset({"N1"}),
    )
    result = run(case)
    assert baseline_lesion(result, "N1")["measurability"] == "measurable"
    fu = at(result, "FU1")
    assert fu["sum_mm"] == pytest.approx(14.0)
    assert fu["nadir_mm"] == pytest.approx(20.0)
    assert fu["change_from_baseline_pct"] == pytest.approx(-30.0)
    assert fu["target_response"] == "PR"


def test_r7_sum_uses_long_axis_of_non_nodal_and_short_axis_of_nodal_targets():
    """R7: liver 32 mm + node 18 x 25 mm = 50 mm (not 57)."""
    case = target_case(
        {"T1": 32.0, "N1": {"short_axis_mm": 18.0, "long_axis_mm": 25.0}},
        [{"targets": {"T1": 32.0, "N1": {"short_axis_mm": 18.0, "long_axis_mm": 25.0}}}],
        nodal=frozenset({"N1"}),
    )
    fu = at(run(case), "FU1")
    assert fu["sum_mm"] == pytest.approx(50.0)
    assert fu["nadir_mm"] == pytest.approx(50.0)
    assert fu["change_from_baseline_pct"] == pytest.approx(0.0)
    assert fu["target_response"] == "SD"


def _selection_case(sites: list[tuple[str, bool]]) -> dict[str, Any]:
    lesions = [{"id": f"T{k}", "role": "target", "site": site, "nodal": nodal}
               for k, (site, nodal) in enumerate(sites, start=1)]
    targets = {f"T{k}": ({"short_axis_mm": 20.0} if nodal else {"long_axis_mm": 20.0})
               for k, (_, nodal) in enumerate(sites, start=1)}
    return {"format": "recist.case/1", "subject": "SEL", "lesions": lesions,
            "timepoints": [{"label": "baseline", "day": 0, "targets": targets}]}


@pytest.mark.parametrize(
    ("sites", "has_problem"),
    [
        # R6: two per organ in two organs (4 targets) is allowed.
        ([("liver", False), ("liver", False), ("lung", False), ("lung", False)], False),
        # R6: five targets over five organs is allowed, six is not.
        ([(f"organ {k}", False) for k in range(5)], False),
        ([(f"organ {k}", False) for k in range(6)], True),
        # R6: three in one organ is too many (site compared case-insensitively).
        ([("Liver", False), ("liver", False), ("LIVER ", False)], True),
        # R6: all lymph nodes count as one organ, whatever the chain.
        ([("axillary lymph node", True), ("mediastinal lymph node", True), ("iliac lymph node", True)], True),
        ([("axillary lymph node", True), ("mediastinal lymph node", True), ("liver", False)], False),
    ],
)
def test_r6_target_selection_limits(sites, has_problem):
    """R6: at most 5 targets, at most 2 per organ, all nodes one organ ([E09] §4.2, [EORTC-FAQ])."""
    assert bool(run(_selection_case(sites))["baseline"]["problems"]) is has_problem


def test_r6_non_measurable_lesion_chosen_as_target_is_a_problem():
    """R6/R1: a 8 mm non-nodal lesion cannot be a target."""
    case = _selection_case([("liver", False)])
    case["timepoints"][0]["targets"]["T1"] = {"long_axis_mm": 8.0}
    result = run(case)
    assert baseline_lesion(result, "T1")["measurability"] == "non_measurable"
    assert result["baseline"]["problems"]


# --------------------------------------------------------------------------------------------------
# B. Target response (R9-R18, C5, C6)
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("follow_up_mm", "expected"),
    [
        (70.0, "PR"),    # R10: exactly -30 % is PR
        (70.1, "SD"),    # R12: -29.9 % is not
        (119.9, "SD"),   # R11: +19.9 % is not PD
        (120.0, "PD"),   # R11: +20 % and +20 mm is PD
        (0.0, "CR"),     # R9: the only (non-nodal) target disappeared
    ],
)
def test_r9_to_r12_boundaries_against_baseline_100(follow_up_mm, expected):
    fu = at(run(single_target([(56, follow_up_mm)])), "FU1")
    assert fu["target_response"] == expected
    assert fu["nadir_mm"] == pytest.approx(100.0)


def test_r11_both_conditions_relative_without_absolute_is_not_pd():
    """R11: 20 -> 24 mm is +20 % but only +4 mm, so not PD; 20 -> 25 mm meets both."""
    four = at(run(target_case({"T1": 20.0}, [{"targets": {"T1": 24.0}}])), "FU1")
    assert four["change_from_nadir_pct"] == pytest.approx(20.0)
    assert four["target_response"] == "SD"
    five = at(run(target_case({"T1": 20.0}, [{"targets": {"T1": 25.0}}])), "FU1")
    assert five["target_response"] == "PD"


def test_r11_both_conditions_absolute_without_relative_is_not_pd():
    """R11: 100 -> 110 mm is +10 mm but only +10 %: not PD."""
    fu = at(run(single_target([(56, 110.0)])), "FU1")
    assert fu["target_response"] == "SD"
    assert fu["change_from_nadir_pct"] == pytest.approx(10.0)


def test_r12_sd_definition_shrinkage_vs_baseline_growth_vs_nadir():
    """R12 (committee's SD clarification): 100 -> 60 (PR) -> 71 mm.

    71 is -29 % from baseline (not PR) and +18.3 % from the nadir 60 (not PD): SD (H1 default, reading A).
    """
    result = run(single_target([(56, 60.0), (112, 71.0)]))
    fu2 = at(result, "FU2")
    assert fu2["nadir_mm"] == pytest.approx(60.0)
    assert fu2["change_from_baseline_pct"] == pytest.approx(-29.0)
    assert fu2["change_from_nadir_pct"] == pytest.approx(18.33, abs=0.01)
    assert fu2["target_response"] == "SD"
    assert result["best_overall_response"] == "PR"


def test_r13_pd_against_a_lower_nadir_while_still_below_baseline():
    """R13: 100 -> 50 (PR) -> 60 mm: still -40 % from baseline, but +20 % and +10 mm over the nadir: PD."""
    result = run(single_target([(56, 50.0), (112, 60.0)]))
    fu2 = at(result, "FU2")
    assert fu2["change_from_baseline_pct"] == pytest.approx(-40.0)
    assert fu2["nadir_mm"] == pytest.approx(50.0)
    assert fu2["target_response"] == "PD"
    assert result["progression"]["label"] == "FU2"
    assert result["progression"]["trigger"] == "target"
    assert result["best_overall_response"] == "PR"


def test_r14_nodal_cr_with_non_zero_sum():
    """R9/R14: liver target gone and target node at 8 mm short axis: CR with a sum of 8 mm."""
    case = target_case({"T1": 30.0, "N1": 20.0}, [{"targets": {"T1": {"state": "disappeared"}, "N1": 8.0}}],
                       nodal=frozenset({"N1"}))
    fu = at(run(case), "FU1")
    assert fu["sum_mm"] == pytest.approx(8.0)
    assert fu["target_response"] == "CR"
    assert fu["non_target_response"] is None   # C7: no non-target lesions
    assert fu["overall_response"] == "CR"


def test_r14_node_at_10mm_is_not_cr_and_its_actual_size_is_summed():
    """R9/R14: a target node of exactly 10 mm is still pathological: not CR; 50 -> 10 mm = -80 % PR."""
    case = target_case({"T1": 30.0, "N1": 20.0}, [{"targets": {"T1": {"state": "disappeared"}, "N1": 10.0}}],
                       nodal=frozenset({"N1"}))
    fu = at(run(case), "FU1")
    assert fu["sum_mm"] == pytest.approx(10.0)
    assert fu["target_response"] == "PR"


def test_r9_non_target_node_at_or_above_10mm_prevents_overall_cr():
    """R9/R19: targets gone but a non-target node still at 12 mm short axis: overall PR (T1: CR + non-CR)."""
    case = target_case(
        {"T1": 30.0}, [{"targets": {"T1": 0.0}, "non_targets": {"NT1": {"state": "present", "short_axis_mm": 12.0}}}],
        non_targets={"NT1": {"state": "present", "short_axis_mm": 20.0}},
    )
    fu = at(run(make_nodal(case, "NT1")), "FU1")
    assert fu["non_target_response"] == "NON-CR/NON-PD"
    assert fu["overall_response"] == "PR"


def test_r15_too_small_counts_5mm_and_is_not_cr_for_a_non_nodal_lesion():
    """R15: a lesion believed present but too small to measure counts 5 mm; it is not 'disappeared'."""
    case = target_case({"T1": 30.0, "T2": 20.0},
                       [{"targets": {"T1": {"state": "disappeared"}, "T2": {"state": "too_small"}}}])
    fu = at(run(case), "FU1")
    assert fu["sum_mm"] == pytest.approx(5.0)
    assert fu["change_from_baseline_pct"] == pytest.approx(-90.0)
    assert fu["target_response"] == "PR"


def test_r15_actual_measurement_under_5mm_is_recorded_as_is():
    """R15: record the measurement the radiologist gives, even below 5 mm (3 mm, not 5)."""
    fu = at(run(target_case({"T1": 30.0}, [{"targets": {"T1": 3.0}}])), "FU1")
    assert fu["sum_mm"] == pytest.approx(3.0)
    assert fu["target_response"] == "PR"


def test_r15_default_does_not_change_with_slice_thickness():
    """R15 [M]: the 5 mm default is 5 mm even with 8 mm slices at the follow-up."""
    case = target_case({"T1": 30.0}, [{"targets": {"T1": {"state": "too_small"}}}])
    case["timepoints"][1]["slice_thickness_mm"] = 8.0
    assert at(run(case), "FU1")["sum_mm"] == pytest.approx(5.0)


def test_r15_too_small_node_counts_5mm_and_allows_cr():
    """R15/R14: a target node too small to measure counts 5 mm (< 10 mm: normal): target CR, sum 5 mm."""
    case = target_case({"N1": 20.0}, [{"targets": {"N1": {"state": "too_small"}}}], nodal=frozenset({"N1"}))
    fu = at(run(case), "FU1")
    assert fu["sum_mm"] == pytest.approx(5.0)
    assert fu["target_response"] == "CR"


def test_r16_split_lesion_fragments_are_summed():
    """R16: a 40 mm lesion fragmenting into 10 + 12 mm contributes 22 mm; with T2 20 mm: 42 of 60 = -30 %."""
    case = target_case({"T1": 40.0, "T2": 20.0},
                       [{"targets": {"T1": {"state": "split", "fragments_mm": [10.0, 12.0]}, "T2": 20.0}}])
    fu = at(run(case), "FU1")
    assert fu["sum_mm"] == pytest.approx(42.0)
    assert fu["target_response"] == "PR"


def test_r17_coalesced_lesions_counted_once():
    """R17/C4: T1 30 + T2 20 coalesce into one 55 mm mass recorded under T1; T2 counts 0: sum 55, +10 %: SD."""
    case = target_case({"T1": 30.0, "T2": 20.0},
                       [{"targets": {"T1": 55.0, "T2": {"state": "merged", "merged_into": "T1"}}}])
    fu = at(run(case), "FU1")
    assert fu["sum_mm"] == pytest.approx(55.0)
    assert fu["change_from_baseline_pct"] == pytest.approx(10.0)
    assert fu["target_response"] == "SD"


def test_r18_paper_example_two_of_three_measured_summing_80_is_pd():
    """R18 [E09] §4.4.2: baseline 50 mm from three lesions; two measured summing 80 mm: PD whatever the third.

    C5: the sum reported is the lower bound of the two evaluated lesions.
    """
    case = target_case({"T1": 20.0, "T2": 15.0, "T3": 15.0},
                       [{"targets": {"T1": 45.0, "T2": 35.0, "T3": {"state": "not_evaluated"}}}])
    result = run(case)
    fu = at(result, "FU1")
    assert fu["target_response"] == "PD"
    assert fu["overall_response"] == "PD"
    assert fu["sum_mm"] == pytest.approx(80.0)
    assert fu["sum_is_lower_bound"] is True
    assert result["progression"]["label"] == "FU1"
    assert result["progression"]["trigger"] == "target"


def test_r18_missing_target_without_pd_is_ne():
    """R18/C5: the two measured sum 30 mm (would be -40 %): the missing one could change it: NE, sum null."""
    case = target_case({"T1": 20.0, "T2": 15.0, "T3": 15.0}, [{"targets": {"T1": 15.0, "T2": 15.0}}])
    fu = at(run(case), "FU1")
    assert fu["target_response"] == "NE"
    assert fu["overall_response"] == "NE"
    assert fu["sum_mm"] is None


def test_r18_no_imaging_is_ne():
    """R18: no imaging at a timepoint: NE."""
    result = run(single_target([(56, None)]))
    assert at(result, "FU1")["overall_response"] == "NE"
    assert result["best_overall_response"] == "NE"
    assert result["progression"] is None


def test_c6_ne_timepoint_does_not_update_the_nadir():
    """C6: B 100 (60 + 40); FU1 only T1 measured at 30 (NE); FU2 50 + 30 = 80.

    The nadir at FU2 is the baseline 100 (not 30): -20 %, SD. Using the NE timepoint's 30 would give PD.
    """
    case = target_case({"T1": 60.0, "T2": 40.0},
                       [{"targets": {"T1": 30.0}}, {"targets": {"T1": 50.0, "T2": 30.0}}])
    result = run(case)
    assert at(result, "FU1")["overall_response"] == "NE"
    fu2 = at(result, "FU2")
    assert fu2["nadir_mm"] == pytest.approx(100.0)
    assert fu2["target_response"] == "SD"
    assert result["progression"] is None


# --------------------------------------------------------------------------------------------------
# C/D. Non-target (R19-R22) and new lesions (R23, R24, R26)
# --------------------------------------------------------------------------------------------------

def test_r19_to_r21_non_target_categories_with_target_pr():
    """R19-R21 through Table 1: target PR (100 -> 60) with each non-target finding."""
    def overall(nt: Any, markers: str | None = None) -> tuple[str, str]:
        fu: dict[str, Any] = {"targets": {"T1": 60.0}, "non_targets": {"NT1": nt}}
        if markers:
            fu["tumour_markers"] = markers
        tp = at(run(target_case({"T1": 100.0}, [fu], non_targets={"NT1": "present"})), "FU1")
        return tp["non_target_response"], tp["overall_response"]

    assert overall("absent") == ("CR", "PR")
    assert overall("absent", "normal") == ("CR", "PR")
    assert overall("absent", "above_uln") == ("NON-CR/NON-PD", "PR")   # R19/R20 markers
    assert overall("present") == ("NON-CR/NON-PD", "PR")
    assert overall("unequivocal_progression") == ("PD", "PD")          # R21, Table 1 "Any / PD"


def test_r19_non_target_node_under_10mm_is_normal():
    """R19: a non-target node now 8 mm short axis is non-pathological: with targets gone, overall CR."""
    case = target_case({"T1": 30.0}, [{"targets": {"T1": 0.0},
                                       "non_targets": {"NT1": {"state": "present", "short_axis_mm": 8.0}}}],
                       non_targets={"NT1": {"state": "present", "short_axis_mm": 14.0}})
    fu = at(run(make_nodal(case, "NT1")), "FU1")
    assert fu["non_target_response"] == "CR"
    assert fu["overall_response"] == "CR"


def test_r22_one_non_target_not_assessed_blocks_cr_but_not_pr_or_sd():
    """R22 and Table 1: CR + NT not evaluated -> PR; PR + NE -> PR; SD + NE -> SD."""
    def overall(t1: float) -> str:
        fu = {"targets": {"T1": t1}, "non_targets": {"NT1": "not_evaluated"}}
        return at(run(target_case({"T1": 100.0}, [fu], non_targets={"NT1": "present"})), "FU1")["overall_response"]

    assert overall(0.0) == "PR"
    assert overall(60.0) == "PR"
    assert overall(90.0) == "SD"


def test_h3_one_non_target_ne_another_present():
    """H3: default NON-CR/NON-PD; option "NE" gives NE; the overall response is PR either way."""
    fu = {"targets": {"T1": 60.0}, "non_targets": {"NT1": "not_evaluated", "NT2": "present"}}
    case = target_case({"T1": 100.0}, [fu], non_targets={"NT1": "present", "NT2": "present"})
    tp = at(run(case), "FU1")
    assert (tp["non_target_response"], tp["overall_response"]) == ("NON-CR/NON-PD", "PR")
    case["protocol"] = {"non_target_ne_with_present": "NE"}
    tp = at(run(case), "FU1")
    assert (tp["non_target_response"], tp["overall_response"]) == ("NE", "PR")


def test_r23_unequivocal_new_lesion_is_pd_even_with_shrinking_targets():
    """R23: targets -50 % but a new liver lesion: PD, triggered by the new lesion."""
    case = target_case({"T1": 100.0}, [{"targets": {"T1": 50.0},
                                        "new_lesions": [{"id": "N1", "site": "liver", "equivocal": False}]}])
    result = run(case)
    fu = at(result, "FU1")
    assert fu["target_response"] == "PR"
    assert fu["new_lesions"] == "YES"
    assert fu["overall_response"] == "PD"
    assert result["progression"]["trigger"] == "new_lesion"


def test_r24_equivocal_then_confirmed_dates_progression_to_the_first_scan():
    """R24: equivocal bone lesion at week 8, confirmed at week 16: PD dated to week 8."""
    case = {
        "format": "recist.case/1", "subject": "R24",
        "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
        "timepoints": [
            {"label": "baseline", "date": "2024-01-10", "targets": {"T1": {"long_axis_mm": 50.0}}},
            {"label": "week 8", "date": "2024-03-06", "targets": {"T1": {"long_axis_mm": 48.0}},
             "new_lesions": [{"id": "N1", "site": "bone", "equivocal": True}]},
            {"label": "week 16", "date": "2024-05-01", "targets": {"T1": {"long_axis_mm": 48.0}},
             "new_lesions": [{"id": "N1", "site": "bone", "equivocal": False}]},
        ],
    }
    result = run(case)
    wk8, wk16 = at(result, "week 8"), at(result, "week 16")
    assert wk8["new_lesions"] == "EQUIVOCAL"
    assert wk8["overall_response"] == "SD"          # not PD at the time (contract: not rewritten)
    assert wk16["new_lesions"] == "YES"
    assert wk16["overall_response"] == "PD"
    prog = result["progression"]
    assert (prog["label"], prog["date"], prog["day"]) == ("week 8", "2024-03-06", 56)
    assert prog["trigger"] == "new_lesion"
    assert prog["confirmed_at"] == "week 16"
    # Progression dated at week 8 (day 56): no SD documented before it, so the BOR is PD.
    assert result["best_overall_response"] == "PD"


def test_r24_equivocal_lesion_never_confirmed_is_not_progression():
    case = target_case({"T1": 50.0}, [
        {"targets": {"T1": 48.0}, "new_lesions": [{"id": "N1", "site": "bone", "equivocal": True}]},
        {"targets": {"T1": 48.0}},
    ])
    result = run(case)
    assert overalls(result) == ["SD", "SD"]
    assert result["progression"] is None
    assert result["best_overall_response"] == "SD"


def test_r26_target_reappearance_after_overall_cr_is_pd():
    """R26/T3 footnote a (H6 default B): after a CR, a target reappearing at 4 mm is PD."""
    result = run(target_case({"T1": 20.0}, [{"targets": {"T1": 0.0}}, {"targets": {"T1": 4.0}}]))
    assert overalls(result) == ["CR", "PD"]
    assert result["progression"]["label"] == "FU2"
    assert result["progression"]["trigger"] == "target"


def test_h6_literal_reading_reappearance_under_5mm_is_not_pd():
    """H6 reading A (option): +4 mm over a nadir of 0 fails R11's 5 mm: PR (20 -> 4 = -80 %)."""
    case = target_case({"T1": 20.0}, [{"targets": {"T1": 0.0}}, {"targets": {"T1": 4.0}}],
                       protocol={"reappearance_after_cr_is_pd": False})
    result = run(case)
    assert overalls(result) == ["CR", "PR"]
    assert result["progression"] is None


def test_r26_non_target_reappearance_after_cr_is_pd():
    """R26: overall CR, then the non-target lesion is seen again: PD (non-target)."""
    case = target_case({"T1": 20.0}, [
        {"targets": {"T1": 0.0}, "non_targets": {"NT1": "absent"}},
        {"targets": {"T1": 0.0}, "non_targets": {"NT1": "present"}},
    ], non_targets={"NT1": "present"})
    result = run(case)
    assert overalls(result) == ["CR", "PD"]
    assert result["progression"]["trigger"] == "non_target"


def test_r26_reappearance_without_prior_cr_is_not_automatically_pd():
    """R26: a target that disappeared while others remained (PR) and comes back at 4 mm: +4 mm, not PD."""
    case = target_case({"T1": 30.0, "T2": 30.0}, [
        {"targets": {"T1": 0.0, "T2": 20.0}},
        {"targets": {"T1": 4.0, "T2": 20.0}},
    ])
    result = run(case)
    assert overalls(result) == ["PR", "PR"]
    assert result["progression"] is None


# --------------------------------------------------------------------------------------------------
# E. Tables 1 and 2 through whole cases (R27, R28, C7)
# --------------------------------------------------------------------------------------------------

NEW = [{"id": "N1", "site": "bone", "equivocal": False}]


@pytest.mark.parametrize(
    ("t1", "nt", "new", "expected_target", "expected_overall"),
    [
        (0.0, "absent", [], "CR", "CR"),
        (0.0, "present", [], "CR", "PR"),
        (0.0, "not_evaluated", [], "CR", "PR"),
        (60.0, "present", [], "PR", "PR"),
        (60.0, "not_evaluated", [], "PR", "PR"),
        (90.0, "present", [], "SD", "SD"),
        (90.0, "not_evaluated", [], "SD", "SD"),
        ({"state": "not_evaluated"}, "present", [], "NE", "NE"),
        (130.0, "present", [], "PD", "PD"),
        (130.0, "unequivocal_progression", NEW, "PD", "PD"),
        (60.0, "unequivocal_progression", [], "PR", "PD"),
        (0.0, "absent", NEW, "CR", "PD"),
        (90.0, "not_evaluated", NEW, "SD", "PD"),
    ],
)
def test_r27_table_1_rows(t1, nt, new, expected_target, expected_overall):
    """R27 ([E09] Table 1), each row through a whole case with baseline T1 100 mm and NT1 present."""
    fu: dict[str, Any] = {"targets": {"T1": t1}, "non_targets": {"NT1": nt}, "new_lesions": new}
    tp = at(run(target_case({"T1": 100.0}, [fu], non_targets={"NT1": "present"})), "FU1")
    assert tp["target_response"] == expected_target
    assert tp["new_lesions"] == ("YES" if new else "NO")
    assert tp["overall_response"] == expected_overall


def test_c7_target_cr_without_non_target_lesions_is_cr():
    tp = at(run(target_case({"T1": 100.0}, [{"targets": {"T1": 0.0}}])), "FU1")
    assert tp["non_target_response"] is None
    assert tp["overall_response"] == "CR"


@pytest.mark.parametrize(
    ("nt", "markers", "new", "expected_nt", "expected_overall"),
    [
        ("absent", "normal", [], "CR", "CR"),
        ("present", None, [], "NON-CR/NON-PD", "NON-CR/NON-PD"),
        ("absent", "above_uln", [], "NON-CR/NON-PD", "NON-CR/NON-PD"),
        ("not_evaluated", None, [], "NE", "NE"),
        ("unequivocal_progression", None, [], "PD", "PD"),
        ("present", None, NEW, "NON-CR/NON-PD", "PD"),
    ],
)
def test_r28_table_2_rows_non_target_only(nt, markers, new, expected_nt, expected_overall):
    """R8/R28 ([E09] Table 2): a subject with non-measurable disease only; no target values at all."""
    fu: dict[str, Any] = {"non_targets": {"NT1": nt}, "new_lesions": new}
    if markers:
        fu["tumour_markers"] = markers
    tp = at(run(target_case({}, [fu], non_targets={"NT1": "present"})), "FU1")
    assert tp["target_response"] is None
    assert tp["sum_mm"] is None
    assert tp["non_target_response"] == expected_nt
    assert tp["overall_response"] == expected_overall


# --------------------------------------------------------------------------------------------------
# F. Best overall response, confirmation, progression (R30-R37, C1-C3)
# --------------------------------------------------------------------------------------------------

def test_r33_paper_example_sd_pr_pd_gives_pr():
    """R33 (no confirmation): SD, then PR, then PD gives PR; progression at the PD time point."""
    result = run(single_target([(56, 80.0), (112, 60.0), (168, 75.0)]))
    assert overalls(result) == ["SD", "PR", "PD"]
    assert result["best_overall_response"] == "PR"
    assert result["progression"]["label"] == "FU3"
    assert result["progression"]["day"] == 168


def test_r33_sd_too_early_then_pd_gives_pd():
    """R33: SD at day 28 (< 42) then PD: BOR PD."""
    result = run(single_target([(28, 80.0), (56, 100.0)]))
    assert overalls(result) == ["SD", "PD"]
    assert result["best_overall_response"] == "PD"


def test_r33_sd_too_early_then_lost_gives_ne():
    """R33: SD at day 28 (< 42) and lost to follow-up: NE."""
    assert run(single_target([(28, 80.0)]))["best_overall_response"] == "NE"
    assert run(single_target([(28, 80.0), (56, None)]))["best_overall_response"] == "NE"


def test_r32_sd_minimum_duration_boundary():
    """R32/C1: SD at day 42 meets the 42-day minimum; at day 41 it does not."""
    assert run(single_target([(42, 80.0)]))["best_overall_response"] == "SD"
    assert run(single_target([(41, 80.0)]))["best_overall_response"] == "NE"
    assert run(single_target([(14, 80.0)], sd_min_days=14))["best_overall_response"] == "SD"


def test_r30_bor_counts_only_until_progression():
    """R30: PR, PD, then a CR after progression: BOR PR (nothing after progression counts)."""
    result = run(single_target([(56, 60.0), (112, 80.0), (168, 0.0)]))
    assert overalls(result)[:2] == ["PR", "PD"]
    assert result["best_overall_response"] == "PR"
    assert result["progression"]["label"] == "FU2"


def test_r33_unconfirmed_cr_counts_when_confirmation_not_required():
    """R31: no confirmation needed by default (randomised): a single CR is the BOR."""
    assert run(single_target([(56, 0.0)]))["best_overall_response"] == "CR"
    assert run(single_target([(28, 60.0)]))["best_overall_response"] == "PR"


# R34 Table 3 (confirmation required), each row as a measured sequence on T1 = 100 mm.
# CR = 0 mm; PR = 60 mm; SD after PR 60 = 71 mm; PD after CR = 10 mm (reappearance, also +10 mm over 0);
# PD after PR 60 = 72 mm; NE = no imaging.
@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ([(56, 0.0), (112, 0.0)], "CR"),
        ([(56, 0.0), (112, 10.0)], "SD"),        # CR, PD: SD minimum met at the CR (day 56)
        ([(28, 0.0), (35, 10.0)], "PD"),         # CR, PD: minimum not met
        ([(56, 0.0), (112, None)], "SD"),        # CR, NE: minimum met
        ([(28, 0.0), (35, None)], "NE"),         # CR, NE: minimum not met
        ([(56, 60.0), (112, 0.0)], "PR"),        # PR, CR
        ([(56, 60.0), (112, 55.0)], "PR"),       # PR, PR
        ([(56, 60.0), (112, 71.0)], "SD"),       # PR, SD
        ([(56, 60.0), (112, 72.0)], "SD"),       # PR, PD: minimum met
        ([(28, 60.0), (35, 72.0)], "PD"),        # PR, PD: minimum not met
        ([(56, 60.0), (112, None)], "SD"),       # PR, NE: minimum met
        ([(28, 60.0), (35, None)], "NE"),        # PR, NE: minimum not met
        ([(56, None), (112, None)], "NE"),       # NE, NE
    ],
)
def test_r34_table_3_rows(sequence, expected):
    result = run(single_target(sequence, confirmation=True))
    assert result["best_overall_response"] == expected


def test_r34_cr_then_sd_from_recorded_responses():
    """R34 row CR/SD: SD if the minimum is met, otherwise PD (when progression follows)."""
    assert run(recorded_sequence([(56, "CR"), (112, "SD")], confirmation=True))["best_overall_response"] == "SD"
    seq = [(28, "CR"), (35, "SD"), (90, "PD")]
    assert run(recorded_sequence(seq, confirmation=True))["best_overall_response"] == "PD"


def test_r34_footnote_a_cr_then_pr_declared_reading():
    """R34 footnote a, reading declared in docs/rules.md: a recorded CR followed by PR is a confirmed PR."""
    result = run(recorded_sequence([(56, "CR"), (112, "PR")], confirmation=True))
    assert result["best_overall_response"] == "PR"


def test_r31_confirmation_needs_28_days():
    """R31/C2: PR at day 56 and PR at day 70 (14 days later) is not confirmed: SD (minimum met at 56)."""
    result = run(single_target([(56, 60.0), (70, 60.0)], confirmation=True))
    assert result["best_overall_response"] == "SD"
    result = run(single_target([(56, 60.0), (84, 60.0)], confirmation=True))
    assert result["best_overall_response"] == "PR"


def test_c2_early_repeat_neither_confirms_nor_breaks():
    """C2: PR 56, PR 70 (too early), PR 84 (28 days after 56): confirmed PR."""
    result = run(single_target([(56, 60.0), (70, 60.0), (84, 60.0)], confirmation=True))
    assert result["best_overall_response"] == "PR"


def test_c2_sd_between_breaks_confirmation():
    """C2 / H4: PR, SD, PR: the SD in between breaks the confirmation; BOR SD."""
    result = run(single_target([(56, 60.0), (84, 71.0), (140, 60.0)], confirmation=True))
    assert overalls(result) == ["PR", "SD", "PR"]
    assert result["best_overall_response"] == "SD"


def test_r35_paper_example_pr_ne_pr_is_confirmed():
    """R35: PR-NE-PR is a confirmed response."""
    result = run(single_target([(56, 60.0), (112, None), (168, 60.0)], confirmation=True))
    assert overalls(result) == ["PR", "NE", "PR"]
    assert result["best_overall_response"] == "PR"


def test_c3_pr_then_cr_gives_pr_and_cr_needs_its_own_confirmation():
    """C3: PR, CR -> PR; PR, CR, CR (28 days apart) -> CR."""
    assert run(single_target([(56, 60.0), (112, 0.0)], confirmation=True))["best_overall_response"] == "PR"
    seq = [(56, 60.0), (84, 0.0), (112, 0.0)]
    assert run(single_target(seq, confirmation=True))["best_overall_response"] == "CR"


def test_r36_h1_continuing_pr():
    """H1: B 100, 70, 70, 80. Default (reading A) the last is SD and BOR PR; option continuing_pr keeps PR."""
    seq = [(56, 70.0), (112, 70.0), (168, 80.0)]
    result = run(single_target(seq, confirmation=True))
    assert overalls(result) == ["PR", "PR", "SD"]
    assert result["best_overall_response"] == "PR"
    result = run(single_target(seq, confirmation=True, continuing_pr=True))
    assert overalls(result) == ["PR", "PR", "PR"]
    assert result["best_overall_response"] == "PR"


def test_r37_progression_date_is_the_first_pd_timepoint():
    """R37: the date of progression is the date of the first time point showing PD (not a later one)."""
    case = {
        "format": "recist.case/1", "subject": "R37",
        "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
        "timepoints": [
            {"label": "baseline", "date": "2024-01-10", "targets": {"T1": {"long_axis_mm": 50.0}}},
            {"label": "week 8", "date": "2024-03-06", "targets": {"T1": {"long_axis_mm": 40.0}}},
            {"label": "week 16", "date": "2024-05-01", "targets": {"T1": {"long_axis_mm": 50.0}}},
            {"label": "week 24", "date": "2024-06-26", "targets": {"T1": {"long_axis_mm": 70.0}}},
        ],
    }
    result = run(case)
    assert overalls(result) == ["SD", "PD", "PD"]
    prog = result["progression"]
    assert (prog["label"], prog["date"], prog["day"], prog["trigger"]) == ("week 16", "2024-05-01", 112, "target")
    assert result["best_overall_response"] == "SD"


def test_h8_sd_minimum_applies_to_non_cr_non_pd():
    """H8 default: NON-CR/NON-PD at day 28 only is NE; at day 56 it is the BOR; option switches it off."""
    early = target_case({}, [{"day": 28, "non_targets": {"NT1": "present"}}], non_targets={"NT1": "present"})
    assert run(early)["best_overall_response"] == "NE"
    late = target_case({}, [{"day": 56, "non_targets": {"NT1": "present"}}], non_targets={"NT1": "present"})
    assert run(late)["best_overall_response"] == "NON-CR/NON-PD"
    early["protocol"] = {"sd_min_applies_to_non_cr_non_pd": False}
    assert run(early)["best_overall_response"] == "NON-CR/NON-PD"


def test_r29_symptomatic_deterioration_is_not_a_response_category():
    """R29: symptomatic deterioration is not an objective response; a case file cannot record it as one."""
    case = recorded_sequence([(56, "SYMPTOMATIC DETERIORATION")])
    with pytest.raises(RecistError):
        run(case)
