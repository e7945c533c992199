"""What the case being read says, without changing it: lesion ids, a lesion's finding and location at a
timepoint, the lines to show, the proposed short axes of nodes, the comparison timepoint and the timepoint
of a series. :class:`CaseQueries` is a part of :class:`napari_recist._controller.CaseController` (it reads
``self.case``); no clinical rule here beyond what :mod:`recist` computes.
"""

from __future__ import annotations

from recist.measure.lines import perpendicular_line
from recist.model.case import Case, Line
from recist.model.enums import LesionRole

__all__ = ["CaseQueries"]


def _midpoint(line: dict | None) -> tuple[float, float, float] | None:
    if not line:
        return None
    start, end = line["start_mm"], line["end_mm"]
    return tuple((a + b) / 2 for a, b in zip(start, end))  # type: ignore[return-value]


class CaseQueries:
    """Read-only questions about ``self.case`` (mixed into :class:`napari_recist._controller.CaseController`)."""

    case: Case
    _plane_normals: dict[str, tuple[float, float, float]]

    @property
    def timepoint_labels(self) -> list[str]:
        """Timepoint labels in order (the first is the baseline)."""
        return [tp.label for tp in self.case.timepoints]

    def resolve_id(self, lesion_id: str) -> str:
        """The id as the case spells it when it names a lesion already there, whatever the letter case
        ("t1" -> "T1"); ``lesion_id`` itself (stripped) when it is new."""
        lesion_id = lesion_id.strip()
        known = [lesion.id for lesion in self.case.lesions] + [
            n.id for tp in self.case.timepoints for n in tp.new_lesions]
        if lesion_id in known:
            return lesion_id
        return next((k for k in known if k.casefold() == lesion_id.casefold()), lesion_id)

    def lesion_ids(self) -> list[str]:
        """Baseline lesion ids in case order."""
        return [lesion.id for lesion in self.case.lesions]

    def new_lesion_ids(self, timepoint: str) -> list[str]:
        """Ids of the new lesions recorded at ``timepoint``."""
        return [new.id for new in next(tp for tp in self.case.timepoints if tp.label == timepoint).new_lesions]

    def next_lesion_id(self, prefix: str = "T") -> str:
        """The next free id with ``prefix`` (T1, T2 ... / NT1 ... / N1 ...)."""
        used = {i.casefold() for i in self.lesion_ids()} | {
            n.id.casefold() for tp in self.case.timepoints for n in tp.new_lesions}
        number = 1
        while f"{prefix}{number}".casefold() in used:
            number += 1
        return f"{prefix}{number}"

    def proposed_short_axis(self, timepoint: str, lesion_id: str) -> Line | None:
        """The short axis proposed for a node measured at ``timepoint`` without one: perpendicular to
        its long axis through the middle, half as long (:func:`recist.measure.lines.perpendicular_line`,
        in the image plane). Not part of the case: it counts only once confirmed or adjusted."""
        lesion = next((x for x in self.case.lesions if x.id == lesion_id), None)
        entry = self.entry(timepoint, lesion_id)
        if (lesion is None or not lesion.nodal or lesion.role != LesionRole.TARGET or entry is None
                or getattr(entry, "state", None) is not None or entry.long_axis_line is None
                or entry.short_axis_mm is not None):
            return None
        line = entry.long_axis_line
        normal = self._plane_normals.get(timepoint, (0.0, 0.0, 1.0))
        start, end = perpendicular_line(line.start_mm, line.end_mm, plane_normal=normal)
        return Line(start_mm=tuple(map(float, start)), end_mm=tuple(map(float, end)))

    def proposals(self, timepoint: str) -> list[tuple[str, Line]]:
        """Every proposed (unconfirmed) short axis at a timepoint: (lesion id, Line)."""
        out = []
        for lesion in self.case.lesions:
            line = self.proposed_short_axis(timepoint, lesion.id)
            if line is not None:
                out.append((lesion.id, line))
        return out

    def entry(self, timepoint: str, lesion_id: str):
        """The TargetEntry / NonTargetEntry / NewLesion of a lesion at a timepoint, or None."""
        tp = next((t for t in self.case.timepoints if t.label == timepoint), None)
        if tp is None:
            return None
        if lesion_id in tp.targets:
            return tp.targets[lesion_id]
        if lesion_id in tp.non_targets:
            return tp.non_targets[lesion_id]
        return next((n for n in tp.new_lesions if n.id == lesion_id), None)

    def location_mm(self, timepoint: str, lesion_id: str) -> tuple[float, float, float] | None:
        """Where a lesion's finding is (midpoint of its long axis, or its point), LPS mm, or None."""
        entry = self.entry(timepoint, lesion_id)
        if entry is None:
            return None
        line = getattr(entry, "long_axis_line", None) or getattr(entry, "short_axis_line", None)
        if line is not None:
            return _midpoint(line.model_dump())
        return getattr(entry, "point_mm", None)

    def lines(self, timepoint: str) -> list[tuple[str, str, Line]]:
        """Every line recorded at a timepoint: (lesion id, "long" | "short", Line)."""
        tp = next(t for t in self.case.timepoints if t.label == timepoint)
        out = []
        for lesion_id, entry in list(tp.targets.items()) + [(n.id, n) for n in tp.new_lesions]:
            if entry.long_axis_line is not None:
                out.append((lesion_id, "long", entry.long_axis_line))
            if entry.short_axis_line is not None:
                out.append((lesion_id, "short", entry.short_axis_line))
        return out

    def reference_timepoint(self, current: str, kind: str = "baseline") -> str:
        """The timepoint to compare ``current`` with: the baseline, or the nadir (the timepoint with the
        smallest evaluable sum before ``current``, as :func:`recist.assess` reports it; baseline when
        none is smaller)."""
        labels = self.timepoint_labels
        if kind == "baseline" or self.assessment is None or current not in labels:
            return labels[0]
        index = labels.index(current)
        best_label, best_sum = labels[0], self.assessment.baseline_sum_mm
        for tp in self.assessment.timepoints:
            if labels.index(tp.label) >= index:
                break
            if tp.sum_mm is not None and best_sum is not None and tp.sum_mm < best_sum and not tp.sum_is_lower_bound:
                best_label, best_sum = tp.label, tp.sum_mm
        return best_label

    def timepoint_for_series(self, study_uid: str, series_uid: str, study_date=None) -> str | None:
        """The timepoint a series belongs to: by the case's image references, else by study date."""
        for tp in self.case.timepoints:
            refs = list(tp.images) + [e.image for e in tp.targets.values() if e.image] + [
                e.image for e in tp.non_targets.values() if e.image]
            if any(ref.series_uid == series_uid or ref.study_uid == study_uid for ref in refs):
                return tp.label
        if study_date is not None:
            for tp in self.case.timepoints:
                if tp.date == study_date:
                    return tp.label
        return None
