"""Target-lesion sums and response (RECIST 1.1 §4.2-4.4.2; RECIST_RULES R7-R18), both sides of every
boundary, with exact arithmetic."""

import pytest
from casebuilder import target_case

from recist import assess
from recist.model.case import TargetEntry
from recist.model.enums import Response
from recist.rules.target import (
    lesion_diameter_um,
    meets_partial_response,
    meets_progression,
    target_sum,
)


def um(mm: float) -> int:
    return round(mm * 1000)


def test_diameters_by_state():
    """R7, R15-R17: long axis (nodes: short axis); too small 5 mm; disappeared 0; split summed; merged 0."""
    assert lesion_diameter_um(TargetEntry(long_axis_mm=32.0, short_axis_mm=20.0), nodal=False) == 32_000
    assert lesion_diameter_um(TargetEntry(long_axis_mm=32.0, short_axis_mm=20.0), nodal=True) == 20_000
    assert lesion_diameter_um(TargetEntry(state="too_small"), nodal=False) == 5_000
    assert lesion_diameter_um(TargetEntry(state="too_small"), nodal=True) == 5_000
    assert lesion_diameter_um(TargetEntry(state="disappeared"), nodal=False) == 0
    assert lesion_diameter_um(TargetEntry(state="split", fragments_mm=[12.0, 7.5]), nodal=False) == 19_500
    assert lesion_diameter_um(TargetEntry(state="merged", merged_into="T1"), nodal=False) == 0
    assert lesion_diameter_um(TargetEntry(state="not_evaluated"), nodal=False) is None


def test_sum_lists_missing_lesions():
    s = target_sum({"T1": TargetEntry(long_axis_mm=10.0)}, {"T1": False, "T2": False})
    assert s.sum_um == 10_000 and s.missing == ("T2",) and not s.complete


@pytest.mark.parametrize(
    ("follow_up", "is_pr"),
    [(70.1, False), (70.0, True), (69.9, True)],  # -29.9 % is not PR, -30.0 % is (R10)
)
def test_partial_response_boundary(follow_up, is_pr):
    assert meets_partial_response(um(follow_up), um(100.0)) is is_pr


@pytest.mark.parametrize(
    ("nadir", "follow_up", "is_pd"),
    [
        (100.0, 119.9, False),  # +19.9 %
        (100.0, 120.0, True),  # +20.0 % (naive floating point says 120/100 - 1 < 0.2)
        (20.0, 24.9, False),  # +24.5 % but +4.9 mm
        (20.0, 25.0, True),  # +25 % and +5.0 mm
        (30.0, 35.9, False),  # +5.9 mm but +19.7 %
        (30.0, 36.0, True),
        (0.0, 4.9, False),  # from a nadir of 0 only the 5 mm test can fail
        (0.0, 5.0, True),
        (10.1, 15.1, True),  # +5.0 mm exactly, though 15.1 - 10.1 in floats is 4.999999999999998
    ],
)
def test_progression_boundary(nadir, follow_up, is_pd):
    """R11: at least +20 % AND at least +5 mm over the nadir."""
    assert meets_progression(um(follow_up), um(nadir)) is is_pd


def overall(case, index=0):
    return assess(case).timepoints[index]


@pytest.mark.parametrize(("fu", "expected"), [(70.1, "SD"), (70.0, "PR"), (119.9, "SD"), (120.0, "PD")])
def test_target_response_one_lesion(fu, expected):
    tp = overall(target_case({"T1": 100.0}, [{"targets": {"T1": fu}}]))
    assert tp.target_response.value == expected


def test_sum_of_several_lesions_crosses_boundary_exactly():
    # 33.3 + 33.3 + 33.4 = 100.0; +20 % = 120.0 = 40.0 + 40.0 + 40.0
    case = target_case({"T1": 33.3, "T2": 33.3, "T3": 33.4}, [{"targets": {"T1": 40.0, "T2": 40.0, "T3": 40.0}}])
    tp = overall(case)
    assert tp.sum_mm == 120.0 and tp.target_response == Response.PD


def test_pd_is_judged_against_the_nadir_not_the_baseline():
    """R11/R13: a sum still 30 % under baseline is PD if it meets 20 % + 5 mm over a lower nadir."""
    case = target_case({"T1": 100.0}, [{"targets": {"T1": 40.0}}, {"targets": {"T1": 50.0}}])
    result = assess(case)
    second = result.timepoints[1]
    assert second.nadir_mm == 40.0 and second.change_from_baseline_pct == -50.0
    assert second.target_response == Response.PD


def test_nadir_counts_the_baseline_and_ignores_ne_timepoints():
    """R11 nadir includes baseline; C6: an NE timepoint does not update the nadir."""
    case = target_case(
        {"T1": 50.0, "T2": 50.0},
        [{"targets": {"T1": 10.0}}, {"targets": {"T1": 40.0, "T2": 40.0}}, {"targets": {"T1": 45.0, "T2": 50.0}}],
    )
    result = assess(case)
    assert [t.nadir_mm for t in result.timepoints] == [100.0, 100.0, 80.0]
    assert result.timepoints[0].target_response == Response.NE and result.timepoints[0].sum_mm is None


@pytest.mark.parametrize(("node", "expected"), [(9.9, "CR"), (10.0, "PR")])
def test_cr_needs_every_target_node_under_10_mm(node, expected):
    """R9, R14: CR with a non-zero sum when target nodes are < 10 mm short axis."""
    case = target_case({"T1": 20.0, "N1": 20.0}, [{"targets": {"T1": {"state": "disappeared"}, "N1": node}}],
                       nodal=frozenset({"N1"}))
    tp = overall(case)
    assert tp.target_response.value == expected
    assert tp.sum_mm == node


def test_too_small_non_nodal_lesion_is_not_cr():
    case = target_case({"T1": 20.0}, [{"targets": {"T1": {"state": "too_small"}}}])
    tp = overall(case)
    assert tp.sum_mm == 5.0 and tp.target_response == Response.PR


def test_missing_target_gives_ne_unless_the_evaluated_ones_already_meet_pd():
    """R18, [E09] §4.4.2 example: baseline 50 mm from three lesions, two measured at 80 mm: PD."""
    base = {"T1": 20.0, "T2": 15.0, "T3": 15.0}
    pd = overall(target_case(base, [{"targets": {"T1": 50.0, "T2": 30.0}}]))
    assert pd.target_response == Response.PD and pd.sum_mm == 80.0 and pd.sum_is_lower_bound
    ne = overall(target_case(base, [{"targets": {"T1": 20.0, "T2": {"state": "not_evaluated"}, "T3": 15.0}}]))
    assert ne.target_response == Response.NE and ne.sum_mm is None and ne.not_evaluated == ("T2",)
    assert ne.overall_response == Response.NE


def test_split_and_merged_lesions():
    case = target_case(
        {"T1": 30.0, "T2": 20.0},
        [{"targets": {"T1": {"state": "split", "fragments_mm": [15.0, 12.0]}, "T2": 20.0}},
         {"targets": {"T1": 55.0, "T2": {"state": "merged", "merged_into": "T1"}}}],
    )
    first, second = assess(case).timepoints
    assert first.sum_mm == 47.0 and second.sum_mm == 55.0
    assert second.target_response == Response.SD  # +17 % over the nadir of 47 mm


def test_continuing_pr_option():
    """RECIST_RULES H1: B 100 -> 70 (PR) -> 70 (PR) -> 80 (-20 % from baseline, +14 % from nadir)."""
    fus = [{"targets": {"T1": 70.0}}, {"targets": {"T1": 70.0}}, {"targets": {"T1": 80.0}}]
    literal = assess(target_case({"T1": 100.0}, fus))
    assert [t.target_response.value for t in literal.timepoints] == ["PR", "PR", "SD"]
    assert literal.best_overall_response == Response.PR
    continuing = assess(target_case({"T1": 100.0}, fus, protocol={"continuing_pr": True}))
    assert [t.target_response.value for t in continuing.timepoints] == ["PR", "PR", "PR"]


def test_reappearance_after_cr():
    """R26 / [E09] Table 3 footnote a: after a definitive CR any reappearing lesion is PD (H6 reading B);
    the literal 20 % / 5 mm test (reading A) is a protocol option."""
    fus = [{"targets": {"T1": 0.0}}, {"targets": {"T1": 4.0}}]
    strict = assess(target_case({"T1": 20.0}, fus))
    assert strict.timepoints[0].overall_response == Response.CR
    assert strict.timepoints[1].target_response == Response.PD
    literal = assess(target_case({"T1": 20.0}, fus, protocol={"reappearance_after_cr_is_pd": False}))
    assert literal.timepoints[1].target_response == Response.PR  # +4 mm over a nadir of 0: not PD by R11


def test_node_back_to_10_mm_after_cr_is_reappearance_but_9_mm_is_not():
    fus = [{"targets": {"N1": 8.0}}, {"targets": {"N1": 9.9}}, {"targets": {"N1": 10.0}}]
    result = assess(target_case({"N1": 20.0}, fus, nodal=frozenset({"N1"})))
    assert [t.target_response.value for t in result.timepoints] == ["CR", "CR", "PD"]
