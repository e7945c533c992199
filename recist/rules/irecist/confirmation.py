"""What confirms an unconfirmed progression (iUPD) as iCPD ([iR17] Table 2; [iR-FAQ]; RECIST_RULES I3-I5).

Lengths are integer micrometres (:mod:`recist.rules._exact`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from recist.model.case import NonTargetEntry
from recist.model.enums import Response
from recist.rules._exact import to_um
from recist.rules.irecist.window import Window

__all__ = [
    "TARGET", "NON_TARGET", "NEW_LESION", "NEW_LESION_GROWTH", "ADDITIONAL_NEW_LESIONS", "NEW_CATEGORY",
    "target_grew_further", "non_target_increased", "progressed_categories", "may_confirm",
]

TARGET, NON_TARGET, NEW_LESION = "target", "non_target", "new_lesion"
"""The disease categories that may be in unconfirmed progression."""

NEW_LESION_GROWTH, ADDITIONAL_NEW_LESIONS, NEW_CATEGORY = "new_lesion_growth", "additional_new_lesions", "new_category"
"""Reasons that confirm iCPD besides further target (``TARGET``) and non-target (``NON_TARGET``) growth."""

_FURTHER_INCREASE_UM = to_um(5.0)


def target_grew_further(sum_um: int | None, reference_um: int | None) -> bool:
    """Whether the target sum has increased further by >= 5 mm over ``reference_um``.

    [iR17] Table 2: iUPD of the target lesions "remains iUPD unless iCPD is confirmed on the basis of a
    further increase in sum of measures ≥5 mm" (RECIST_RULES I4 a). The reference (the sum at the first
    iUPD of the targets, or at the previous assessment) is the protocol's choice (RECIST_RULES H7). A
    lower-bound sum (targets missing) may confirm: the true sum is larger still.
    """
    if sum_um is None or reference_um is None:
        return False
    return sum_um - reference_um >= _FURTHER_INCREASE_UM


def non_target_increased(entries: Mapping[str, NonTargetEntry]) -> bool:
    """Whether a non-target lesion has increased further, by any amount, since the previous assessment.

    [iR17] Table 2: "a further increase in the size of non-target disease (does not need to meet RECIST 1.1
    criteria for unequivocal progression)"; [iR-FAQ] "If iUPD is driven by non-target disease ...": only a
    "further increase from last assessment" confirms; unequivocal progression recorded again with no
    further increase stays iUPD (RECIST_RULES I4 b). Read from ``increased_since_previous``.
    """
    return any(entry.increased_since_previous for entry in entries.values())


def progressed_categories(target: Response | None, non_target: Response | None) -> frozenset[str]:
    """The baseline-disease categories in RECIST 1.1 progression at a timepoint (target PD vs the nadir,
    unequivocal non-target progression): each is iUPD ([iR17]; RECIST_RULES I2)."""
    found = set()
    if target == Response.PD:
        found.add(TARGET)
    if non_target == Response.PD:
        found.add(NON_TARGET)
    return frozenset(found)


def may_confirm(window: Window, reasons: Collection[str], *, late_scan_confirms: bool) -> bool:
    """Whether an assessment with confirming ``reasons`` confirms iCPD, given its ``window``.

    [iR17]: confirmation at the next assessment 4-8 weeks after iUPD. [iR-FAQ] "Can imaging be used to
    confirm progression ... less than four weeks after ...": an earlier scan confirms only through an
    (additional) new lesion; growth of existing lesions, new lesions already seen included, does not
    (RECIST_RULES I3). A later assessment confirms only if the protocol says so
    (``irecist_late_scan_confirms``; docs/rules.md I2).
    """
    if not reasons:
        return False
    if window == "early":
        return ADDITIONAL_NEW_LESIONS in reasons
    if window == "late":
        return late_scan_confirms
    return True
