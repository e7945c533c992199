"""New lesions under iRECIST: new-lesion targets (NLT) and non-targets (NLNT) ([iR17]; [iR-FAQ];
RECIST_RULES I4 c-d, I6, I7).

Lengths are integer micrometres (:mod:`recist.rules._exact`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from recist.model.case import NewLesion
from recist.model.enums import NonTargetState
from recist.rules._exact import to_um
from recist.rules.new_lesions import is_seen, is_unequivocal
from recist.rules.target import meets_progression

__all__ = [
    "additional_new_lesions",
    "new_lesion_target_sum_um",
    "new_lesion_targets_grew",
    "new_lesion_non_targets_increased",
    "new_lesion_non_targets_progressed",
    "new_lesion_targets_progressed",
    "new_lesions_present",
]

_CONFIRMING_GROWTH_UM = to_um(5.0)


def _recorded_size_um(
    lesions: Sequence[NewLesion], lesion_id: str, nodal: Mapping[str, bool]
) -> int | None:
    """A new lesion's size here, micrometres, by the axis RECIST 1.1 uses (short axis for a node): 0 when
    recorded absent, None when not recorded, not evaluated or not measured."""
    lesion = next((lesion for lesion in lesions if lesion.id == lesion_id), None)
    if lesion is None or lesion.state == NonTargetState.NOT_EVALUATED:
        return None
    if lesion.state == NonTargetState.ABSENT:
        return 0
    size = lesion.short_axis_mm if nodal.get(lesion_id) else lesion.long_axis_mm
    return None if size is None else to_um(size)


def additional_new_lesions(lesions: Sequence[NewLesion], identified: Collection[str]) -> tuple[str, ...]:
    """The ids of new lesions seen for the first time: unequivocal, present and not among ``identified``.

    [iR17] Table 2 ("an increase in the ... number of new lesions previously identified") and [iR-FAQ]
    "How do new lesions define progression?" ("another lesion appears"); RECIST_RULES I4 (d). A new lesion
    is unequivocal by RECIST 1.1 (R23-R26: a new node from 10 mm short axis).
    """
    return tuple(
        lesion.id for lesion in lesions
        if lesion.id not in identified and is_seen(lesion) and is_unequivocal(lesion)
    )


def new_lesion_target_sum_um(
    lesions: Sequence[NewLesion], nlt_ids: Collection[str], nodal: Mapping[str, bool]
) -> int | None:
    """The sum of diameters of the new-lesion targets ``nlt_ids`` at one timepoint, micrometres.

    [iR17] (RECIST_RULES I7): NLT are measured like RECIST 1.1 targets (long axis, short axis for a node)
    and summed separately, never added to the sum of the baseline targets. An NLT recorded absent counts
    0 mm; one not recorded or not evaluated makes the sum unknown (None). No NLT: 0.
    """
    total = 0
    for lesion_id in nlt_ids:
        size_um = _recorded_size_um(lesions, lesion_id, nodal)
        if size_um is None:
            return None
        total += size_um
    return total


def new_lesion_targets_grew(sum_um: int | None, reference_um: int | None) -> bool:
    """Whether the NLT sum has grown by >= 5 mm over ``reference_um`` (the sum at the iUPD).

    [iR17] Table 2 ("≥5 mm in sum of measures for new lesion target") and [iR-FAQ] "How do new lesions
    define progression?": "sequential increases are additive; thus a 4mm increase at one assessment,
    followed at the next assessment by a further 2mm increase meets the criteria for iCPD" (RECIST_RULES
    I4 c), hence the reference is the sum at the iUPD, not the previous assessment's.
    """
    if sum_um is None or reference_um is None:
        return False
    return sum_um - reference_um >= _CONFIRMING_GROWTH_UM


def new_lesion_non_targets_increased(lesions: Sequence[NewLesion], nlnt_ids: Collection[str]) -> bool:
    """Whether a previously identified new-lesion non-target grew, by any amount, since the previous
    assessment (``increased_since_previous``).

    [iR17] Table 2 ("any increase for new lesion non-target"); [iR-FAQ] "If iUPD is driven by non-target
    disease ...": "if the new lesions are non-target, any increase in size at the next assessment allows
    iCPD to be assigned – the increase does not need to be unequivocal" (RECIST_RULES I4 c).
    """
    return any(lesion.id in nlnt_ids and lesion.increased_since_previous for lesion in lesions)


def new_lesion_non_targets_progressed(lesions: Sequence[NewLesion], nlnt_ids: Collection[str]) -> bool:
    """Whether a previously identified NLNT shows unequivocal progression (state ``unequivocal_progression``).

    [iR-FAQ] "How do new lesions define progression?": after iSD or iPR, the new lesions result in a new
    iUPD when "the NLNT meet RECIST 1.1 criteria for PD (unequivocal increase ...)" (RECIST_RULES I6).
    """
    return any(
        lesion.id in nlnt_ids and lesion.state == NonTargetState.UNEQUIVOCAL_PROGRESSION for lesion in lesions
    )


def new_lesion_targets_progressed(sum_um: int | None, nadir_um: int | None) -> bool:
    """Whether the NLT sum meets RECIST 1.1 PD (>= 20 % and >= 5 mm) over its smallest value so far.

    [iR-FAQ] "How do new lesions define progression?": after iSD or iPR, a new iUPD follows when "the NLT
    meet RECIST 1.1 criteria for PD (20% or more increase in SOM from 'baseline' or nadir)" (RECIST_RULES
    I6); the NLT nadir includes their first sum, their "baseline". RECIST 1.1 [E09] §4.3.1 (R11).
    """
    if sum_um is None or nadir_um is None:
        return False
    return meets_progression(sum_um, nadir_um)


def new_lesions_present(
    lesions: Sequence[NewLesion], identified: Collection[str], nlt_ids: Collection[str], nodal: Mapping[str, bool]
) -> bool:
    """Whether any previously identified new lesion is still there: not recorded absent, nor an NLT
    measured 0 mm.

    iCR is the disappearance of all disease ([iR17] Table 2: "new lesions: no"; [E09] §4.3.1 CR), so a
    previously identified new lesion that has not gone prevents iCR. A lesion not re-recorded, or not
    evaluated, is not known to be gone and counts as present.
    """
    by_id = {lesion.id: lesion for lesion in lesions}
    for lesion_id in identified:
        lesion = by_id.get(lesion_id)
        if lesion is not None and lesion.state == NonTargetState.ABSENT:
            continue
        if lesion_id in nlt_ids and _recorded_size_um(lesions, lesion_id, nodal) == 0:
            continue
        return True
    return False
