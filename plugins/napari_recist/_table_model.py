"""The case table's content (no Qt): lesions x timepoints, sums, % change and responses of recist.assess.

:func:`case_table` builds it from a :class:`napari_recist._controller.CaseController`; the Case table
widget shows it and the tests read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recist.model.enums import LesionRole, NonTargetState, TargetState

if TYPE_CHECKING:
    from napari_recist._controller import CaseController

__all__ = ["CaseTable", "TableRow", "TableCell", "case_table"]

_STATE_TEXT = {
    TargetState.TOO_SMALL.value: "too small",
    TargetState.DISAPPEARED.value: "disappeared",
    TargetState.NOT_EVALUATED.value: "NE",
}
_NT_TEXT = {
    NonTargetState.PRESENT.value: "present",
    NonTargetState.ABSENT.value: "absent",
    NonTargetState.UNEQUIVOCAL_PROGRESSION.value: "unequivocal PD",
    NonTargetState.NOT_EVALUATED.value: "NE",
}


@dataclass(frozen=True)
class TableCell:
    """One cell of the case table: its text and where it leads (lesion, timepoint, position)."""

    text: str
    timepoint: str | None = None
    lesion_id: str | None = None
    location_mm: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class TableRow:
    """A row: a lesion (``lesion_id``) or a summary (sum, responses); ``problem`` is shown beside it."""

    header: str
    cells: tuple[TableCell, ...]
    lesion_id: str | None = None
    problem: str = ""


@dataclass(frozen=True)
class CaseTable:
    """Lesions x timepoints with the sums and responses of :func:`recist.assess`."""

    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]
    best_overall_response: str
    notes: tuple[str, ...] = ()
    best_i_response: str = ""
    """The iBOR when the case is read by iRECIST, else empty."""


def _fmt_mm(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _fmt_pct(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f} %"



def case_table(controller: CaseController) -> CaseTable:
    """Lesions x timepoints with measurements, sums, % change and responses (from recist.assess)."""
    case, result = controller.case, controller.assessment
    labels = tuple(controller.timepoint_labels)
    per_tp = {tp.label: tp for tp in case.timepoints}
    problems_by_lesion: dict[str, list[str]] = {}
    notes: list[str] = []
    for label in labels:
        for lesion_id, _line in controller.proposals(label):
            notes.append(f"{label}: the short axis of node {lesion_id} is only proposed: adjust it or confirm "
                         f"it (Confirm short axis); {label} is incomplete until then")
    if controller.problems:
        notes.append(f"cannot assess yet: {controller.problems}")
    if result is not None:
        for lesion in result.baseline.lesions:
            if lesion.role == LesionRole.TARGET and not lesion.target_eligible:
                problems_by_lesion.setdefault(lesion.id, []).append(
                    f"{lesion.measurability.value.replace('_', '-')}: not eligible as target")
        for problem in result.baseline.problems:
            hit = [lid for lid in controller.lesion_ids() if _mentions(problem, lid)]
            for lid in hit:
                problems_by_lesion.setdefault(lid, []).append(problem)
            if not hit:
                notes.append(problem)
        if result.irecist is not None:
            notes.extend(result.irecist.problems)  # new-lesion targets: no baseline row to attach them to
    rows: list[TableRow] = []
    for lesion in case.lesions:
        cells = []
        for label in labels:
            tp = per_tp[label]
            text = ""
            if lesion.id in tp.targets:
                text = _target_text(tp.targets[lesion.id], lesion.nodal)
            elif lesion.id in tp.non_targets:
                text = _NT_TEXT.get(tp.non_targets[lesion.id].state.value, "")
            cells.append(TableCell(text, label, lesion.id, controller.location_mm(label, lesion.id)))
        role = "T" if lesion.role == LesionRole.TARGET else "NT"
        header = f"{lesion.id} ({role}, {lesion.site}{', node' if lesion.nodal else ''})"
        rows.append(TableRow(header, tuple(cells), lesion.id, "; ".join(problems_by_lesion.get(lesion.id, []))))
    new_ids = []
    for tp in case.timepoints:
        new_ids += [n.id for n in tp.new_lesions if n.id not in new_ids]
    for new_id in new_ids:
        cells = []
        role = None
        for label in labels:
            found = next((n for n in per_tp[label].new_lesions if n.id == new_id), None)
            role = role or (found.role if found is not None else None)
            cells.append(TableCell(_new_lesion_text(found), label, new_id, controller.location_mm(label, new_id)))
        kind = {LesionRole.TARGET: "new, NLT", LesionRole.NON_TARGET: "new, NLNT"}.get(role, "new")
        rows.append(TableRow(f"{new_id} ({kind})", tuple(cells), new_id))
    by_label = {tp.label: tp for tp in result.timepoints} if result is not None else {}
    baseline_sum = result.baseline_sum_mm if result is not None else None

    def summary(header: str, first: str, value: Callable[[Any], str]) -> TableRow:
        cells = [TableCell(first, labels[0])]
        cells += [TableCell(value(by_label[label]) if label in by_label else "", label) for label in labels[1:]]
        return TableRow(header, tuple(cells))

    rows += [
        summary("Sum (mm)", _fmt_mm(baseline_sum),
                lambda a: _fmt_mm(a.sum_mm) + (" (at least)" if a.sum_is_lower_bound else "")),
        summary("Change from baseline", "", lambda a: _fmt_pct(a.change_from_baseline_pct)),
        summary("Nadir (mm)", "", lambda a: _fmt_mm(a.nadir_mm)),
        summary("Change from nadir", "", lambda a: _fmt_pct(a.change_from_nadir_pct)),
        summary("Target response", "", lambda a: _enum(a.target_response)),
        summary("Non-target response", "", lambda a: _enum(a.non_target_response)),
        summary("New lesions", "", lambda a: _enum(a.new_lesions)),
        summary("Overall response", "", lambda a: _enum(a.overall_response)),
    ]
    irecist = result.irecist if result is not None else None
    if irecist is not None:  # the iRECIST reading beside RECIST 1.1 (case criteria "iRECIST")
        by_i = {tp.label: tp for tp in irecist.timepoints}
        cells = [TableCell("", labels[0])]
        cells += [TableCell(_enum(by_i[label].response) if label in by_i else "", label) for label in labels[1:]]
        rows.append(TableRow("iRECIST response", tuple(cells)))
    best = _enum(result.best_overall_response) if result is not None else ""
    best_i = _enum(irecist.best_overall_response) if irecist is not None else ""
    return CaseTable(labels, tuple(rows), best, tuple(notes), best_i)



def _mentions(problem: str, lesion_id: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(lesion_id)}(?![\w-])", problem) is not None


def _enum(value: Any) -> str:
    return "" if value is None else str(getattr(value, "value", value))


def _target_text(entry, nodal: bool) -> str:
    if entry.state is None:
        if nodal and entry.short_axis_mm is not None:
            return f"{entry.short_axis_mm:.1f} SA"
        if nodal:
            return "SA to confirm"
        return _fmt_mm(entry.long_axis_mm if entry.long_axis_mm is not None else entry.short_axis_mm)
    state = entry.state.value
    if state == TargetState.SPLIT.value:
        return "split " + " + ".join(f"{v:.1f}" for v in entry.fragments_mm or [])
    if state == TargetState.MERGED.value:
        return f"merged into {entry.merged_into}"
    return _STATE_TEXT[state]


def _new_lesion_text(found) -> str:
    """A new lesion's cell: equivocal / new / gone (iRECIST absent), its size, "grew" when increased."""
    if found is None:
        return ""
    if found.state is not None and found.state.value == NonTargetState.ABSENT.value:
        return "gone"
    text = "equivocal" if found.equivocal else "new"
    if found.state is not None and found.state.value == NonTargetState.NOT_EVALUATED.value:
        text = "not evaluated"
    elif found.state is not None and found.state.value == NonTargetState.UNEQUIVOCAL_PROGRESSION.value:
        text = "unequivocal PD"
    size = found.short_axis_mm if found.nodal and found.short_axis_mm is not None else found.long_axis_mm
    return text + (f" {size:.1f}" if size is not None else "") + (" grew" if found.increased_since_previous else "")
