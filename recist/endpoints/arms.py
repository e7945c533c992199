"""The arms of a trial: an explicit list with the control named, and the check of each subject's arm.

A report that takes its arms from whatever values the subjects table holds turns a data-entry slip into
an arm: "Active Surveillance" typed once for "active surveillance" makes a third arm of one subject, and
when the control is "the first arm by name" that one subject becomes the control (a hazard ratio of 0.16
on one subject, exit status 0). ICH E9 (1998) §5.2 and E3 (1995) §9.7.1 ask for the analysis to follow
the randomisation as planned: the arms and the control are part of the protocol, so they are given
(``--arms`` and ``--control``, or a review charter's ``arms`` and ``control_arm``), and a subject whose
arm is not one of them is an error naming the row, never a new arm.

Arm labels are compared exactly (case and spaces matter), because the subjects table is the sponsor's
record; the error message suggests the arm that differs only by case or spacing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recist.errors import RecistValidationError

__all__ = ["ArmPlan", "parse_arm_list", "arm_plan", "unknown_arm_message"]


@dataclass(frozen=True)
class ArmPlan:
    """The randomised arms in reporting order: the control first, then the others as given.

    Attributes
    ----------
    arms
        Every arm label, control first.
    control
        The control arm (comparator of every hazard ratio and log-rank test).
    """

    arms: tuple[str, ...]
    control: str

    def __post_init__(self) -> None:
        if not self.arms:
            raise RecistValidationError("the trial needs at least one arm", field="arms")
        if len(set(self.arms)) != len(self.arms):
            raise RecistValidationError("an arm is listed twice: " + ", ".join(map(repr, self.arms)), field="arms")
        if self.control not in self.arms:
            raise RecistValidationError(f"control arm {self.control!r} is not one of the arms "
                                        + ", ".join(map(repr, self.arms)), field="control")
        if self.arms[0] != self.control:
            object.__setattr__(self, "arms", (self.control, *(a for a in self.arms if a != self.control)))

    @property
    def others(self) -> tuple[str, ...]:
        """The arms compared with the control."""
        return self.arms[1:]

    def describe(self) -> str:
        """``"'placebo' (control), 'drug'"``."""
        return ", ".join(f"{a!r} (control)" if a == self.control else repr(a) for a in self.arms)


def parse_arm_list(text: str) -> tuple[str, ...]:
    """Split a comma-separated ``--arms`` value into labels (spaces around commas are dropped).

    Examples
    --------
    >>> parse_arm_list("active surveillance, lutathera")
    ('active surveillance', 'lutathera')
    """
    arms = tuple(part.strip() for part in text.split(","))
    if any(not a for a in arms):
        raise RecistValidationError(f"--arms {text!r} has an empty arm label; separate the labels by commas",
                                    field="arms")
    return arms


def arm_plan(arms: Sequence[str] | None, control: str | None, *, found: Iterable[str] = ()) -> ArmPlan:
    """The arm plan from the given list and control, or a one-line error saying what to give.

    Parameters
    ----------
    arms
        The arms of the protocol (any order; ``None`` when not given).
    control
        The control arm (``None`` when not given).
    found
        Arm values of the subjects table, named in the error when the plan is incomplete.

    Raises
    ------
    RecistValidationError
        When the list or the control is missing, or the control is not in the list.
    """
    seen = sorted(set(found))
    hint = (" (the subjects table has " + ", ".join(map(repr, seen)) + ")") if seen else ""
    if not arms or control is None:
        missing = "the arms and the control arm" if not arms and control is None else (
            "the list of arms" if not arms else "the control arm")
        raise RecistValidationError(
            f"{missing} must be named: give --arms 'ARM1,ARM2' --control ARM1 (a review project may set "
            f"'arms' and 'control_arm' in its charter){hint}", field="arms")
    return ArmPlan(tuple(arms), control)


def unknown_arm_message(value: str, plan: ArmPlan) -> str:
    """The error text for an arm value that is not in the plan, suggesting a near match.

    Examples
    --------
    >>> plan = ArmPlan(("active surveillance", "lutathera"), "active surveillance")
    >>> unknown_arm_message("Active Surveillance", plan).split(";")[0]
    "'Active Surveillance' is not an arm of the trial (did you mean 'active surveillance'?)"
    """
    def key(label: str) -> str:
        return " ".join(label.casefold().split())

    near = [a for a in plan.arms if key(a) == key(value)]
    guess = f" (did you mean {near[0]!r}?)" if near else ""
    return (f"{value!r} is not an arm of the trial{guess}; the arms are {plan.describe()}: correct the row "
            "or name the arm in --arms")
