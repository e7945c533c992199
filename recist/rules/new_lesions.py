"""New lesions (RECIST 1.1 [E09] §4.3.5; RECIST_RULES R23-R26)."""

from __future__ import annotations

from collections.abc import Sequence

from recist.model.case import NewLesion
from recist.model.enums import NewLesionStatus, NonTargetState
from recist.rules._exact import to_um

__all__ = ["is_seen", "is_unequivocal", "new_lesion_status"]

_NODE_MALIGNANT_UM = to_um(10.0)
_SEEN = frozenset({NonTargetState.PRESENT, NonTargetState.UNEQUIVOCAL_PROGRESSION})


def is_seen(lesion: NewLesion) -> bool:
    """Whether a recorded new lesion is a finding at this timepoint: not recorded ``absent`` or
    ``not_evaluated`` (keys of iRECIST records, where a new lesion is followed up by its id, [iR17])."""
    return lesion.state is None or lesion.state in _SEEN


def is_unequivocal(lesion: NewLesion) -> bool:
    """Whether a new lesion counts as unequivocal new disease.

    RECIST 1.1 [E09] §4.3.5 (R23, R24): the finding must be unequivocal; an equivocal one is followed up.
    [EORTC-FAQ] "New lymph node lesions" (R26): a new node counts as malignant only from 10 mm short
    axis, so a node measured under 10 mm is treated as equivocal (re-evaluated at the next assessment; if
    later confirmed, progression dates back to the scan that first showed it, R24).
    """
    if lesion.equivocal:
        return False
    if lesion.nodal and lesion.short_axis_mm is not None and to_um(lesion.short_axis_mm) < _NODE_MALIGNANT_UM:
        return False
    return True


def new_lesion_status(lesions: Sequence[NewLesion]) -> NewLesionStatus:
    """YES if any new lesion is unequivocal (PD, R23), EQUIVOCAL if only equivocal ones (not PD yet, R24),
    else NO. A lesion recorded absent or not evaluated is no finding (:func:`is_seen`)."""
    lesions = [lesion for lesion in lesions if is_seen(lesion)]
    if not lesions:
        return NewLesionStatus.NO
    if any(is_unequivocal(lesion) for lesion in lesions):
        return NewLesionStatus.YES
    return NewLesionStatus.EQUIVOCAL
