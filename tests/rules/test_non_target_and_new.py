"""Non-target response (R19-R22) and new lesions (R23-R26)."""

import pytest
from casebuilder import target_case

from recist import assess
from recist.model.case import NewLesion, NonTargetEntry
from recist.model.enums import NewLesionStatus, Response
from recist.rules.new_lesions import new_lesion_status
from recist.rules.non_target import non_target_response


def nt(state, short=None):
    return NonTargetEntry(state=state, short_axis_mm=short)


@pytest.mark.parametrize(
    ("entries", "markers", "expected"),
    [
        ({"A": nt("absent"), "B": nt("absent")}, None, Response.CR),
        ({"A": nt("absent"), "B": nt("absent")}, "normal", Response.CR),
        ({"A": nt("absent"), "B": nt("absent")}, "above_uln", Response.NON_CR_NON_PD),  # R19/R20 markers
        ({"A": nt("present"), "B": nt("absent")}, None, Response.NON_CR_NON_PD),
        ({"A": nt("unequivocal_progression"), "B": nt("absent")}, None, Response.PD),
        ({"A": nt("unequivocal_progression"), "B": nt("not_evaluated")}, None, Response.PD),
        ({"A": nt("not_evaluated"), "B": nt("absent")}, None, Response.NE),  # R22: CR cannot be claimed
        ({"A": None, "B": nt("absent")}, None, Response.NE),  # missing = not evaluated
        ({"A": nt("not_evaluated"), "B": nt("present")}, None, Response.NON_CR_NON_PD),  # H3 reading A
    ],
)
def test_non_target_categories(entries, markers, expected):
    nodal = {"A": False, "B": False}
    assert non_target_response(entries, nodal, tumour_markers=markers) == expected


def test_non_target_ne_with_present_reading_b():
    entries = {"A": nt("not_evaluated"), "B": nt("present")}
    assert non_target_response(entries, {"A": False, "B": False}, ne_with_present="NE") == Response.NE


@pytest.mark.parametrize(("short", "expected"), [(9.9, Response.CR), (10.0, Response.NON_CR_NON_PD),
                                                 (None, Response.NON_CR_NON_PD)])
def test_non_target_node_under_10_mm_is_normal(short, expected):
    """R19: every lymph node must be non-pathological (< 10 mm short axis) for CR."""
    assert non_target_response({"N": nt("present", short)}, {"N": True}) == expected


def test_no_non_target_lesions_gives_none():
    assert non_target_response({}, {}) is None


def test_new_lesion_status():
    assert new_lesion_status([]) == NewLesionStatus.NO
    assert new_lesion_status([NewLesion(id="N1", site="bone", equivocal=True)]) == NewLesionStatus.EQUIVOCAL
    assert new_lesion_status([NewLesion(id="N1", site="bone", equivocal=True),
                              NewLesion(id="N2", site="liver")]) == NewLesionStatus.YES


@pytest.mark.parametrize(("short", "expected"), [(9.9, NewLesionStatus.EQUIVOCAL), (10.0, NewLesionStatus.YES)])
def test_new_node_counts_from_10_mm(short, expected):
    """R26 ([EORTC-FAQ] New lymph node lesions): a new node is malignant once its short axis >= 10 mm."""
    assert new_lesion_status([NewLesion(id="N1", site="node", nodal=True, short_axis_mm=short)]) == expected


def test_unequivocal_new_lesion_is_pd_even_with_shrinking_targets():
    case = target_case({"T1": 50.0}, [{"targets": {"T1": 20.0}, "new_lesions": [{"id": "N1", "site": "liver"}]}])
    result = assess(case)
    tp = result.timepoints[0]
    assert tp.target_response == Response.PR and tp.overall_response == Response.PD
    assert result.progression.trigger.value == "new_lesion"


def test_equivocal_new_lesion_then_confirmed_dates_progression_back():
    """R24: not PD while equivocal; once confirmed, progression takes the date of the first scan."""
    case = target_case(
        {"T1": 50.0},
        [{"targets": {"T1": 48.0}},
         {"targets": {"T1": 47.0}, "new_lesions": [{"id": "N1", "site": "bone", "equivocal": True}]},
         {"targets": {"T1": 46.0}, "new_lesions": [{"id": "N1", "site": "bone", "equivocal": True}]},
         {"targets": {"T1": 46.0}, "new_lesions": [{"id": "N1", "site": "bone"}]}],
    )
    result = assess(case)
    overall = [t.overall_response.value for t in result.timepoints]
    assert overall == ["SD", "SD", "SD", "PD"]  # earlier timepoint responses are not rewritten
    assert result.progression.label == "FU2" and result.progression.day == 112
    assert result.progression.confirmed_at == "FU4"
    assert result.best_overall_response == Response.SD  # SD at day 56 >= 42 before the progression


def test_equivocal_lesion_never_confirmed_is_not_progression():
    case = target_case(
        {"T1": 50.0},
        [{"targets": {"T1": 48.0}, "new_lesions": [{"id": "N1", "site": "bone", "equivocal": True}]},
         {"targets": {"T1": 47.0}}],
    )
    assert assess(case).progression is None


@pytest.mark.parametrize(("node", "target", "overall"), [(9.9, Response.CR, Response.CR),
                                                          (12.0, Response.PR, Response.PR)])
def test_target_cr_needs_non_target_nodes_under_10_mm_too(node, target, overall):
    """R9 ([E09] §4.3.1): "Any pathological lymph nodes (whether target or non-target) must have reduction
    in short axis to <10 mm" for a target CR."""
    case = target_case({"T1": 30.0}, [{"targets": {"T1": 0.0},
                                       "non_targets": {"NT1": {"state": "present", "short_axis_mm": node}}}],
                       non_targets={"NT1": {"state": "present", "short_axis_mm": 14.0}})
    case["lesions"][-1]["nodal"] = True
    tp = assess(case).timepoints[0]
    assert tp.target_response == target and tp.overall_response == overall


@pytest.mark.parametrize(("markers", "overall"), [("normal", Response.CR), ("above_uln", Response.PR), (None, Response.PR)])
def test_markers_elevated_at_baseline_without_non_target_lesions(markers, overall):
    """[E09] §3.2.2: markers above normal at baseline must normalise for CR, even without non-target
    lesions; until then target CR gives overall PR (Table 1, non-target not CR)."""
    follow_up = {"targets": {"T1": 0.0}}
    if markers:
        follow_up["tumour_markers"] = markers
    case = target_case({"T1": 30.0}, [follow_up])
    case["timepoints"][0]["tumour_markers"] = "above_uln"
    assert assess(case).timepoints[0].overall_response == overall
