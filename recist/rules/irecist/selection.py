"""Choosing new-lesion targets (NLT) under iRECIST: measurable by RECIST 1.1, at most 5 in all and 2 per
organ ([iR17]; RECIST_RULES I7).

The iRECIST analogue of baseline target selection (:mod:`recist.rules.selection`, R6). Problems are
flagged, like baseline selection problems, in ``Assessment.irecist.problems``: the RECIST 1.1 primary
assessment does not depend on the new lesions' roles and stays computed; the iRECIST reading is computed
as recorded and carries the flag for the reader or the central reviewer to correct (docs/rules.md H).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recist.model.enums import Measurability, Method
from recist.rules.measurability import classify_node, classify_non_nodal
from recist.rules.selection import MAX_TARGETS, MAX_TARGETS_PER_ORGAN, over_organ_limit

__all__ = ["NewLesionTargetCandidate", "new_lesion_target_measurability", "new_lesion_target_problems"]


@dataclass(frozen=True)
class NewLesionTargetCandidate:
    """A new lesion recorded as NLT, as first recorded: where, its size (mm; short axis for a node) and the
    slice thickness of that scan (mm, None if not given)."""

    id: str
    timepoint: str
    site: str
    nodal: bool
    size_mm: float
    slice_thickness_mm: float | None = None


def new_lesion_target_measurability(
    candidate: NewLesionTargetCandidate, *, double_slice_thickness: bool = False
) -> Measurability:
    """Whether a new lesion is measurable when it appears, by RECIST 1.1.

    [iR17] (RECIST_RULES I7): "New lesions should be assessed and measured as they appear using RECIST 1.1
    criteria", so only a measurable new lesion may be a new-lesion target: a longest diameter of at least
    10 mm, or twice the slice thickness above 5 mm slices; a node at least 15 mm short axis ([E09] §3.1.1,
    R1-R3; ``double_slice_thickness`` as the protocol's H2 reading). New lesions are read on the CT/MRI of
    the follow-up, so the CT/MRI thresholds apply.

    >>> new_lesion_target_measurability(NewLesionTargetCandidate("N1", "wk8", "liver", False, 9.9))
    <Measurability.NON_MEASURABLE: 'non_measurable'>
    """
    if candidate.nodal:
        return classify_node(
            candidate.size_mm, slice_thickness_mm=candidate.slice_thickness_mm,
            double_slice_thickness=double_slice_thickness,
        )
    return classify_non_nodal(candidate.size_mm, method=Method.CT, slice_thickness_mm=candidate.slice_thickness_mm)


def new_lesion_target_problems(
    candidates: Sequence[NewLesionTargetCandidate], *, double_slice_thickness: bool = False
) -> list[str]:
    """Every way the new-lesion targets break iRECIST's NLT rules, as sentences that say how to fix them.

    ``candidates`` are the NLT in the order they were first recorded. Checks ([iR17], RECIST_RULES I7):
    an NLT not measurable by RECIST 1.1 when it appeared; more than 5 NLT; more than 2 NLT in one organ,
    organs counted as for baseline targets (:func:`recist.rules.selection.organ_of`, via
    :func:`recist.rules.selection.over_organ_limit`: every lymph node is
    one organ, and so is each paired organ, [EORTC-FAQ] "Paired organs").
    """
    problems: list[str] = []
    for c in candidates:
        measurability = new_lesion_target_measurability(c, double_slice_thickness=double_slice_thickness)
        if measurability != Measurability.MEASURABLE:
            axis = "short axis" if c.nodal else "longest diameter"
            thickness = f" on {c.slice_thickness_mm:g} mm slices" if c.slice_thickness_mm is not None else ""
            problems.append(
                f"new lesion {c.id} ({c.timepoint}) is a new-lesion target but {measurability.value.replace('_', '-')}"
                f" ({c.size_mm:g} mm {axis}{thickness}): iRECIST new-lesion targets must be measurable by "
                "RECIST 1.1 (§3.1); record it as a new-lesion non-target (\"role\": \"non_target\")"
            )
    if len(candidates) > MAX_TARGETS:
        extra = ", ".join(c.id for c in candidates[MAX_TARGETS:])
        problems.append(
            f"{len(candidates)} new-lesion targets: iRECIST allows at most {MAX_TARGETS}; record {extra} as "
            "new-lesion non-targets (\"role\": \"non_target\")"
        )
    for organ, ids in over_organ_limit((c.id, c.site, c.nodal) for c in candidates).items():
        problems.append(
            f"{len(ids)} new-lesion targets in {organ} ({', '.join(ids)}): iRECIST allows at most "
            f"{MAX_TARGETS_PER_ORGAN} per organ (all lymph nodes count as one organ, a paired organ as one); "
            f"record {', '.join(ids[MAX_TARGETS_PER_ORGAN:])} as new-lesion non-targets"
        )
    return problems
