"""Properties of the rules engine that must hold for every valid case (hypothesis)."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import cases

from recist import assess
from recist.model.enums import Response

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_lesion_order_never_changes_a_result(case, rnd):
    shuffled = copy.deepcopy(case)
    rnd.shuffle(shuffled["lesions"])
    for tp in shuffled["timepoints"]:
        for key in ("targets", "non_targets"):
            items = list(tp[key].items())
            rnd.shuffle(items)
            tp[key] = dict(items)
    assert _clinical(assess(case).to_dict()) == _clinical(assess(shuffled).to_dict())


def _clinical(result: dict) -> dict:
    """The result with its lists of lesions put in a canonical order (their order is presentation only)."""
    result["baseline"]["lesions"].sort(key=lambda les: les["id"])
    result["baseline"]["problems"].sort()
    for tp in result["timepoints"]:
        tp["not_evaluated"].sort()
    return result


@SETTINGS
@given(cases())
def test_nadir_never_increases(case):
    nadirs = [tp.nadir_mm for tp in assess(case).timepoints if tp.nadir_mm is not None]
    assert all(b <= a for a, b in zip(nadirs, nadirs[1:]))


@SETTINGS
@given(cases())
def test_a_sum_equal_to_the_nadir_is_never_target_pd(case):
    """R11 needs an increase; unless the reappearance-after-CR rule applies (nadir 0 after a CR)."""
    for tp in assess(case).timepoints:
        if tp.sum_mm is not None and tp.sum_mm == tp.nadir_mm and not tp.sum_is_lower_bound and tp.sum_mm > 0:
            assert tp.target_response != Response.PD


@SETTINGS
@given(cases(), st.data())
def test_adding_an_unequivocal_new_lesion_makes_the_timepoint_pd(case, data):
    index = data.draw(st.integers(min_value=1, max_value=len(case["timepoints"]) - 1))
    changed = copy.deepcopy(case)
    changed["timepoints"][index].setdefault("new_lesions", []).append({"id": "NEW-X", "site": "liver"})
    result = assess(changed)
    assert result.timepoints[index - 1].overall_response == Response.PD
    assert result.progression is not None and result.progression.day <= changed["timepoints"][index]["day"]


@SETTINGS
@given(cases())
def test_responses_are_consistent(case):
    result = assess(case)
    has_targets = any(les["role"] == "target" for les in case["lesions"])
    for tp in result.timepoints:
        if tp.overall_response == Response.PD:
            assert result.progression is not None and result.progression.day <= tp.day
        if not has_targets:
            assert tp.target_response is None and tp.sum_mm is None
        if tp.sum_mm is None and has_targets:
            assert tp.target_response in (Response.NE, None)
    if result.progression is None:
        assert all(tp.overall_response != Response.PD for tp in result.timepoints)
    assert result.best_overall_response in set(Response)


@SETTINGS
@given(cases())
def test_assessment_is_deterministic_and_json_ready(case):
    import json

    first = assess(case).to_dict()
    assert json.loads(json.dumps(first)) == first == assess(case).to_dict()
