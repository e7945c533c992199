"""Every edit of the case being read: lesions (create, role, site, nodal flag, delete), target lines and
states, non-target states, new lesions, criteria, cleared findings and confirmed short-axis proposals.

:class:`CaseEdits` is a part of :class:`napari_recist._controller.CaseController`: each edit works on the
case as a JSON dict (``self._data()``), then hands it to ``self._commit`` (validation, undo, autosave,
listeners). Editing choices are listed in :mod:`napari_recist._controller`.
"""

from __future__ import annotations

from typing import Any

from napari_recist._case_queries import _midpoint
from recist.errors import RecistError
from recist.measure.geometry import line_length_mm
from recist.model.case import Case, ImageRef, Line
from recist.model.enums import LesionRole, NonTargetState, TargetState

__all__ = ["CaseEdits"]


class CaseEdits:
    """Edits of ``self.case`` (mixed into :class:`napari_recist._controller.CaseController`)."""

    case: Case
    _plane_normals: dict[str, tuple[float, float, float]]

    def _data(self) -> dict:
        return self.case.model_dump(mode="json", exclude_none=True)

    @staticmethod
    def _timepoint(data: dict, label: str) -> dict:
        for tp in data["timepoints"]:
            if tp["label"] == label:
                return tp
        raise RecistError(f"no timepoint {label!r} in the case (timepoints: "
                          f"{', '.join(t['label'] for t in data['timepoints'])})")

    @staticmethod
    def _lesion(data: dict, lesion_id: str) -> dict | None:
        return next((lesion for lesion in data["lesions"] if lesion["id"] == lesion_id), None)

    def _ensure_lesion(self, data: dict, lesion_id: str, role: str | None, site: str | None,
                       nodal: bool | None) -> dict:
        lesion = self._lesion(data, lesion_id)
        if lesion is None:
            if not (site or "").strip():
                raise RecistError(f"lesion {lesion_id} is new: choose its site (organ) first; the site counts "
                                  "(at most two targets per organ, RECIST 1.1 §4.3.1)")
            lesion = {"id": lesion_id, "role": role or "target", "site": site.strip(), "nodal": bool(nodal)}
            data["lesions"].append(lesion)
        return lesion

    def set_lesion(self, lesion_id: str, *, role: str | None = None, site: str | None = None,
                   nodal: bool | None = None) -> None:
        """Create a baseline lesion or change its role, site or nodal flag.

        A role change moves the lesion's entries: target -> non-target keeps sizes with state "present"
        ("absent" for a disappeared lesion, "not_evaluated" otherwise); non-target -> target turns sizes
        into measurements and drops entries without one.
        """
        lesion_id = self.resolve_id(lesion_id)
        data = self._data()
        lesion = self._lesion(data, lesion_id)
        if lesion is None:
            self._ensure_lesion(data, lesion_id, role, site, nodal)
            self._commit(data)
            return
        if site is not None:
            lesion["site"] = site
        if nodal is not None:
            lesion["nodal"] = bool(nodal)
        if role is not None and role != lesion["role"]:
            LesionRole(role)
            lesion["role"] = role
            for tp in data["timepoints"]:
                if role == LesionRole.NON_TARGET.value and lesion_id in tp.get("targets", {}):
                    tp.setdefault("non_targets", {})[lesion_id] = self._as_non_target(tp["targets"].pop(lesion_id))
                elif role == LesionRole.TARGET.value and lesion_id in tp.get("non_targets", {}):
                    entry = tp["non_targets"].pop(lesion_id)
                    sizes = {k: entry[k] for k in ("long_axis_mm", "short_axis_mm", "image") if k in entry}
                    if "long_axis_mm" in sizes or "short_axis_mm" in sizes:
                        tp.setdefault("targets", {})[lesion_id] = sizes
        self._commit(data)

    @staticmethod
    def _as_non_target(entry: dict) -> dict:
        state = entry.get("state")
        if state is None or state == TargetState.TOO_SMALL.value:
            out = {"state": NonTargetState.PRESENT.value}
        elif state == TargetState.DISAPPEARED.value:
            out = {"state": NonTargetState.ABSENT.value}
        else:
            out = {"state": NonTargetState.NOT_EVALUATED.value}
        for key in ("long_axis_mm", "short_axis_mm", "image"):
            if key in entry:
                out[key] = entry[key]
        if "long_axis_line" in entry:
            out["point_mm"] = list(_midpoint(entry["long_axis_line"]))
        return out

    def set_long_axis(self, timepoint: str, lesion_id: str, start_mm, end_mm, *, image: ImageRef | None = None,
                      plane_normal=None, site: str | None = None, nodal: bool | None = None) -> float:
        """Record a target's long axis (LPS mm endpoints); returns its length in mm.

        A lesion not in the case yet is created as a target with ``site`` and ``nodal``. A node's short
        axis recorded at this timepoint is kept; none is recorded here (see :meth:`proposed_short_axis`).
        ``plane_normal`` (the image plane's normal, LPS) is kept for the proposal.
        """
        lesion_id = self.resolve_id(lesion_id)
        if plane_normal is not None:
            self._plane_normals[timepoint] = tuple(float(v) for v in plane_normal)
        line = Line(start_mm=tuple(map(float, start_mm)), end_mm=tuple(map(float, end_mm)))
        length = float(line_length_mm(line.start_mm, line.end_mm))
        data = self._data()
        lesion = self._ensure_lesion(data, lesion_id, LesionRole.TARGET.value, site, nodal)
        if lesion["role"] != LesionRole.TARGET.value:
            raise RecistError(f"lesion {lesion_id} is a non-target: make it a target before measuring it "
                              "(non-targets are followed by state)")
        tp = self._timepoint(data, timepoint)
        old = tp.setdefault("targets", {}).get(lesion_id, {})
        entry = {"long_axis_mm": round(length, 3), "long_axis_line": line.model_dump(mode="json")}
        if image is not None:
            entry["image"] = image.model_dump(mode="json", exclude_none=True)
        if lesion.get("nodal") and "short_axis_line" in old and "state" not in old:
            entry["short_axis_line"], entry["short_axis_mm"] = old["short_axis_line"], old["short_axis_mm"]
        tp["targets"][lesion_id] = entry
        self._commit(data)
        return length

    def set_short_axis(self, timepoint: str, lesion_id: str, start_mm, end_mm) -> float:
        """Record (adjust) a target's short axis, LPS mm endpoints; returns its length in mm. A new lesion
        at ``timepoint`` takes it too (iRECIST: a nodal new-lesion target is measured by its short axis)."""
        lesion_id = self.resolve_id(lesion_id)
        line = Line(start_mm=tuple(map(float, start_mm)), end_mm=tuple(map(float, end_mm)))
        length = float(line_length_mm(line.start_mm, line.end_mm))
        data = self._data()
        tp = self._timepoint(data, timepoint)
        entry = tp.get("targets", {}).get(lesion_id)
        if entry is not None and "state" in entry:
            entry = None  # a target recorded by its state (too small, gone, ...): no axes to add to
        if entry is None:
            entry = next((n for n in tp.get("new_lesions", []) if n["id"] == lesion_id and "long_axis_mm" in n), None)
        if entry is None:
            raise RecistError(f"timepoint {timepoint!r}, lesion {lesion_id}: draw the long axis first; the "
                              "short axis is measured perpendicular to it")
        entry["short_axis_line"] = line.model_dump(mode="json")
        entry["short_axis_mm"] = round(length, 3)
        self._commit(data)
        return length

    def set_target_state(self, timepoint: str, lesion_id: str, state: str, *,
                         fragments_mm: list[float] | None = None, merged_into: str | None = None) -> None:
        """Mark a target too small, disappeared, not evaluated, split (``fragments_mm``) or merged."""
        state = TargetState(state).value
        lesion_id = self.resolve_id(lesion_id)
        data = self._data()
        lesion = self._lesion(data, lesion_id)
        if lesion is None or lesion["role"] != LesionRole.TARGET.value:
            raise RecistError(f"lesion {lesion_id} is not a target lesion of the case")
        entry: dict[str, Any] = {"state": state}
        if fragments_mm is not None:
            entry["fragments_mm"] = [float(v) for v in fragments_mm]
        if merged_into is not None:
            entry["merged_into"] = merged_into
        self._timepoint(data, timepoint).setdefault("targets", {})[lesion_id] = entry
        self._commit(data)

    def set_non_target(self, timepoint: str, lesion_id: str, state: str, *, point_mm=None,
                       image: ImageRef | None = None, site: str | None = None, nodal: bool | None = None,
                       increased_since_previous: bool | None = None) -> None:
        """Record a non-target lesion's state (creating the lesion as a non-target when new); iRECIST:
        ``increased_since_previous`` True/False sets or clears "grew since the previous assessment" (None
        keeps it)."""
        state = NonTargetState(state).value
        lesion_id = self.resolve_id(lesion_id)
        data = self._data()
        lesion = self._ensure_lesion(data, lesion_id, LesionRole.NON_TARGET.value, site, nodal)
        if lesion["role"] != LesionRole.NON_TARGET.value:
            raise RecistError(f"lesion {lesion_id} is a target: its findings are measurements or target states")
        tp = self._timepoint(data, timepoint)
        entry = dict(tp.setdefault("non_targets", {}).get(lesion_id, {}))
        entry["state"] = state
        if increased_since_previous is not None:
            entry.pop("increased_since_previous", None)
            if increased_since_previous:
                entry["increased_since_previous"] = True
        if point_mm is not None:
            entry["point_mm"] = [float(v) for v in point_mm]
        if image is not None:
            entry["image"] = image.model_dump(mode="json", exclude_none=True)
        tp["non_targets"][lesion_id] = entry
        self._commit(data)

    def set_new_lesion(self, timepoint: str, lesion_id: str, *, site: str, equivocal: bool = False,
                       start_mm=None, end_mm=None, point_mm=None, image: ImageRef | None = None,
                       role: str | None = None, state: str | None = None,
                       increased_since_previous: bool | None = None, nodal: bool | None = None) -> None:
        """Record (or update) a new lesion at a follow-up, equivocal or not, optionally with its line or
        its location (``point_mm``, LPS); ``nodal`` a lymph node (None keeps the recorded flag), whose
        short axis :meth:`set_short_axis` records (a re-drawn long axis keeps it).

        iRECIST: ``role`` makes it a new-lesion target (``"target"``, NLT) or non-target (``"non_target"``,
        NLNT), ``state`` and ``increased_since_previous`` follow it at later assessments (case-format.md);
        left None they keep their recorded value.
        """
        lesion_id = self.resolve_id(lesion_id)
        if lesion_id in self.lesion_ids():
            raise RecistError(f"{lesion_id} is a baseline lesion of the case: a new lesion needs its own id "
                              "(New lesion id gives the next N..)")
        if not (site or "").strip():
            raise RecistError(f"new lesion {lesion_id}: choose its site (organ) first")
        data = self._data()
        tp = self._timepoint(data, timepoint)
        entry: dict[str, Any] = {"id": lesion_id, "site": site.strip(), "equivocal": bool(equivocal)}
        if nodal:
            entry["nodal"] = True
        if start_mm is not None and end_mm is not None:
            line = Line(start_mm=tuple(map(float, start_mm)), end_mm=tuple(map(float, end_mm)))
            entry["long_axis_line"] = line.model_dump(mode="json")
            entry["long_axis_mm"] = round(float(line_length_mm(line.start_mm, line.end_mm)), 3)
        if point_mm is not None:
            entry["point_mm"] = [float(v) for v in point_mm]
        if image is not None:
            entry["image"] = image.model_dump(mode="json", exclude_none=True)
        for key, value in (("role", role), ("state", state), ("increased_since_previous", increased_since_previous)):
            if value:
                entry[key] = value
        news = tp.setdefault("new_lesions", [])
        old = next((n for n in news if n["id"] == lesion_id), None)
        if old is not None:
            kept = ["long_axis_line", "long_axis_mm", "short_axis_line", "short_axis_mm", "point_mm", "image"]
            kept += [key for key, value in (("role", role), ("state", state), ("nodal", nodal),
                                            ("increased_since_previous", increased_since_previous)) if value is None]
            for key in kept:
                if key in old and key not in entry:
                    entry[key] = old[key]
            news[news.index(old)] = entry
        else:
            news.append(entry)
        self._commit(data)

    def set_criteria(self, criteria: str) -> None:
        """Read the case by ``"RECIST 1.1"`` or ``"iRECIST"`` (its ``protocol.criteria``; a review charter's
        criteria replace it when the read is assessed centrally)."""
        data = self._data()
        data.setdefault("protocol", {})["criteria"] = criteria
        self._commit(data)

    def clear_entry(self, timepoint: str, lesion_id: str) -> None:
        """Remove a lesion's finding at a timepoint (it becomes not evaluated there)."""
        lesion_id = self.resolve_id(lesion_id)
        data = self._data()
        tp = self._timepoint(data, timepoint)
        tp.get("targets", {}).pop(lesion_id, None)
        tp.get("non_targets", {}).pop(lesion_id, None)
        tp["new_lesions"] = [n for n in tp.get("new_lesions", []) if n["id"] != lesion_id]
        self._commit(data)

    def delete_lesion(self, lesion_id: str) -> None:
        """Remove a lesion from the case: its baseline entry and its findings at every timepoint."""
        lesion_id = self.resolve_id(lesion_id)
        data = self._data()
        found = self._lesion(data, lesion_id) is not None
        data["lesions"] = [lesion for lesion in data["lesions"] if lesion["id"] != lesion_id]
        for tp in data["timepoints"]:
            found |= tp.get("targets", {}).pop(lesion_id, None) is not None
            found |= tp.get("non_targets", {}).pop(lesion_id, None) is not None
            news = tp.get("new_lesions", [])
            found |= any(n["id"] == lesion_id for n in news)
            tp["new_lesions"] = [n for n in news if n["id"] != lesion_id]
        if not found:
            raise RecistError(f"there is no lesion {lesion_id} in the case")
        self._commit(data)

    def confirm_short_axis(self, timepoint: str, lesion_id: str) -> float:
        """Record the proposed short axis as measured (the reader agrees with it); returns its length, mm."""
        lesion_id = self.resolve_id(lesion_id)
        line = self.proposed_short_axis(timepoint, lesion_id)
        if line is None:
            raise RecistError(f"timepoint {timepoint!r}, lesion {lesion_id}: no proposed short axis to confirm "
                              "(draw the node's long axis first)")
        return self.set_short_axis(timepoint, lesion_id, line.start_mm, line.end_mm)
