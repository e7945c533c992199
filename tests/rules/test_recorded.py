"""Timepoints assessed from recorded responses, and discrepancies (case-file contract, "recorded")."""

from casebuilder import target_case

from recist import assess
from recist.model.enums import Response as R


def test_follow_up_without_measurements_uses_the_recorded_responses():
    case = target_case({"T1": 50.0}, [
        {"recorded": {"target": "PR", "non_target": "NON-CR/NON-PD", "new_lesions": "NO", "overall": "PR"}},
        {"recorded": {"overall": "PD"}},
    ])
    result = assess(case)
    first, second = result.timepoints
    assert first.source == "recorded" and first.overall_response == R.PR and first.sum_mm is None
    assert second.overall_response == R.PD
    assert result.best_overall_response == R.PR
    assert result.progression.label == "FU2" and result.progression.trigger.value == "recorded"


def test_recorded_components_without_overall_go_through_table_1():
    case = target_case({"T1": 50.0}, [{"recorded": {"target": "CR", "non_target": "NON-CR/NON-PD"}}],
                       non_targets={"NT1": "present"})
    assert assess(case).timepoints[0].overall_response == R.PR


def test_measurements_win_and_disagreements_are_reported():
    case = target_case({"T1": 50.0}, [{"targets": {"T1": 30.0}, "recorded": {"target": "SD", "overall": "SD"}}])
    result = assess(case)
    assert result.timepoints[0].overall_response == R.PR
    found = {(d.timepoint, d.field, d.recorded, d.computed) for d in result.discrepancies}
    assert found == {("FU1", "target", "SD", "PR"), ("FU1", "overall", "SD", "PR")}


def test_target_missing_from_a_measured_timepoint_is_not_evaluated():
    case = target_case({"T1": 50.0, "T2": 30.0}, [{"targets": {"T1": 45.0}}])
    tp = assess(case).timepoints[0]
    assert tp.target_response == R.NE and tp.not_evaluated == ("T2",)


def test_empty_follow_up_is_ne():
    """R18: no imaging at a timepoint: NE."""
    case = target_case({"T1": 50.0}, [{}], non_targets={"NT1": "present"})
    tp = assess(case).timepoints[0]
    assert tp.overall_response == R.NE and tp.non_target_response == R.NE
