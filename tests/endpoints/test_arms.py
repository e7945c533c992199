"""The arm plan: an explicit list with a named control; any other arm value is an error (ICH E9 §5.2)."""

from __future__ import annotations

import pytest

from recist.endpoints.arms import ArmPlan, arm_plan, parse_arm_list, unknown_arm_message
from recist.errors import RecistValidationError


def test_control_comes_first_whatever_the_order_given():
    plan = ArmPlan(("lutathera", "active surveillance"), "active surveillance")
    assert plan.arms == ("active surveillance", "lutathera") and plan.others == ("lutathera",)
    assert plan.describe() == "'active surveillance' (control), 'lutathera'"


@pytest.mark.parametrize(("arms", "control", "message"), [
    (("A", "B"), "C", "not one of the arms"),
    (("A", "A"), "A", "listed twice"),
    ((), "A", "at least one arm"),
])
def test_bad_plans_are_errors(arms, control, message):
    with pytest.raises(RecistValidationError, match=message):
        ArmPlan(arms, control)


def test_missing_list_or_control_says_what_to_give_and_what_the_table_has():
    with pytest.raises(RecistValidationError) as info:
        arm_plan(None, None, found=["B", "A", "a"])
    assert "--arms" in str(info.value) and "--control" in str(info.value) and "'A', 'B', 'a'" in str(info.value)
    with pytest.raises(RecistValidationError, match="the control arm must be named"):
        arm_plan(["A", "B"], None)
    assert arm_plan(["A", "B"], "B").control == "B"


def test_a_capitalisation_slip_is_named_with_the_arm_it_resembles():
    plan = ArmPlan(("active surveillance", "lutathera"), "active surveillance")
    message = unknown_arm_message("Active  Surveillance", plan)
    assert "'Active  Surveillance' is not an arm of the trial (did you mean 'active surveillance'?)" in message
    assert "did you mean" not in unknown_arm_message("placebo", plan)


def test_parse_arm_list():
    assert parse_arm_list(" a , b ") == ("a", "b")
    with pytest.raises(RecistValidationError, match="empty arm label"):
        parse_arm_list("a,,b")
