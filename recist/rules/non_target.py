"""Non-target response (RECIST 1.1 [E09] §4.3.3-4.3.4; RECIST_RULES R19-R22)."""

from __future__ import annotations

from collections.abc import Mapping

from recist.model.case import NonTargetEntry
from recist.model.enums import NonTargetState, Response, TumourMarkers
from recist.rules._exact import to_um

__all__ = ["is_normal", "non_target_response", "non_target_nodes_normal", "non_target_reappeared"]

_NODE_NORMAL_UM = to_um(10.0)


def is_normal(entry: NonTargetEntry, *, nodal: bool) -> bool:
    """Whether a non-target lesion counts as gone for CR: absent, or a node under 10 mm short axis.

    RECIST 1.1 [E09] §4.3.3 (R19): "All lymph nodes must be non-pathological in size (<10 mm short axis)".
    """
    if entry.state == NonTargetState.ABSENT:
        return True
    return (
        nodal
        and entry.state == NonTargetState.PRESENT
        and entry.short_axis_mm is not None
        and to_um(entry.short_axis_mm) < _NODE_NORMAL_UM
    )


def non_target_response(
    entries: Mapping[str, NonTargetEntry | None],
    nodal: Mapping[str, bool],
    *,
    tumour_markers: TumourMarkers | None = None,
    markers_elevated_at_baseline: bool = False,
    ne_with_present: str = "NON-CR/NON-PD",
) -> Response | None:
    """The non-target response at a timepoint.

    RECIST 1.1 [E09] §4.3.3 (R19-R22):

    - PD: unequivocal progression of an existing non-target lesion;
    - CR: every non-target lesion gone (nodes < 10 mm short axis) and tumour markers normal. "If tumour
      markers are initially above the upper normal limit, they must normalise for a patient to be
      considered a complete responder" ([E09] §3.2.2): when ``markers_elevated_at_baseline``, a timepoint
      that does not report them has not shown normalisation, so it counts as not evaluated;
    - NON-CR/NON-PD: a lesion persists or markers stay above the upper normal limit;
    - NE: a lesion (or the markers) not evaluated and the rest gone, so CR cannot be claimed (R22). When
      something is not evaluated and a lesion is present, the category is ``ne_with_present``
      (RECIST_RULES H3: reading A "NON-CR/NON-PD", the default, or reading B "NE"); Table 1 gives the same
      overall response either way.

    Returns None for a subject without non-target lesions (convention C7: category "none"), unless its
    tumour markers were above normal at baseline: the markers are then its only non-target disease
    (CR when normal, NON-CR/NON-PD when above normal, NE when not reported).
    """
    markers_unknown = tumour_markers is None and markers_elevated_at_baseline
    markers_high = tumour_markers == TumourMarkers.ABOVE_ULN
    if not nodal:
        if not markers_elevated_at_baseline:
            return None
        return Response.NE if markers_unknown else (Response.NON_CR_NON_PD if markers_high else Response.CR)
    unevaluated = markers_unknown
    persisting = False
    for lesion_id, is_node in nodal.items():
        entry = entries.get(lesion_id)
        state = None if entry is None else entry.state
        if state == NonTargetState.UNEQUIVOCAL_PROGRESSION:
            return Response.PD
        if entry is None or state == NonTargetState.NOT_EVALUATED:
            unevaluated = True
        elif state == NonTargetState.PRESENT and not is_normal(entry, nodal=is_node):
            persisting = True
    if unevaluated:
        if persisting or markers_high:
            return Response(ne_with_present)
        return Response.NE
    if persisting or markers_high:
        return Response.NON_CR_NON_PD
    return Response.CR


def non_target_nodes_normal(entries: Mapping[str, NonTargetEntry | None], nodal: Mapping[str, bool]) -> bool:
    """Whether every non-target lymph node is known to be under 10 mm short axis (or absent).

    RECIST 1.1 [E09] §4.3.1, target CR (R9): "Any pathological lymph nodes (whether target or non-target)
    must have reduction in short axis to <10 mm". A node present without a measured short axis, or not
    evaluated, is not known to be normal.
    """
    for lesion_id, is_node in nodal.items():
        if is_node:
            entry = entries.get(lesion_id)
            if entry is None or not is_normal(entry, nodal=True):
                return False
    return True


def non_target_reappeared(entries: Mapping[str, NonTargetEntry | None], nodal: Mapping[str, bool]) -> bool:
    """Whether a non-nodal non-target lesion is present again (used after an overall CR).

    [EORTC-FAQ] "Does a new lesion always result in PD?" and [E09] Table 3 footnote a (R26): after a
    definitive CR the reappearance of any malignant lesion is PD. A non-target node has "reappeared" only
    through unequivocal progression ([EORTC-FAQ] "Abnormal lymph node"), which is PD anyway.
    """
    return any(
        e is not None and e.state == NonTargetState.PRESENT and not nodal[i] for i, e in entries.items() if i in nodal
    )
