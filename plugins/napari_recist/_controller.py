"""The reading session without Qt: the case being read, its edits, undo, autosave and the table.

:class:`CaseController` holds one :class:`recist.model.Case` (frozen; every edit builds a new one),
calls :func:`recist.assess` after every change and :func:`recist.write_case` (atomic) when the case has
a file, and tells its listeners. It holds no clinical rule: responses come from ``recist.assess``,
lengths from :func:`recist.measure.geometry.line_length_mm`, the short-axis proposal from
:func:`recist.measure.lines.perpendicular_line`. The Qt widgets bind to it; the tests drive it directly.

Editing choices (docs/plugin.md):

- A lesion is created by its first finding (a line, a state, a non-target state), with the role, site
  and nodal flag chosen in the widget; changing a role moves the lesion's entries between ``targets`` and
  ``non_targets`` (a measured target becomes a "present" non-target keeping its size, a non-target with a
  size becomes a measured target).
- For a node, drawing the long axis does not record a short axis: a short axis is *proposed*
  (perpendicular, through its middle, half its length: :meth:`CaseController.proposed_short_axis`) and
  shown, but it is not in the case and does not count until the reader adjusts it or confirms it
  (:meth:`CaseController.confirm_short_axis`); until then the timepoint is incomplete (the case cannot
  be assessed: a node is measured by its short axis, RECIST 1.1 §4.2). A re-drawn long axis keeps a
  short axis the reader recorded.
- Lesion ids are matched without regard to case: "t1" typed for an existing "T1" is T1, never a second
  lesion (:meth:`CaseController.resolve_id`).
- Edits are accepted even when the case is not yet complete (a target without baseline measurement):
  object-level checks run at once (a bad value raises ``RecistValidationError``); whole-case problems
  are reported by :attr:`CaseController.problems` and shown in the table instead of responses.
- With ``background_save`` (set by the napari session) the autosave is written off the UI thread
  (:class:`napari_recist._autosave.AutosaveWriter`): call :meth:`CaseController.flush` to wait for the file.
- Undo restores the case as it was before the last edit, redo brings the edit back (any number of
  steps); both survive reopening: the history is kept beside the autosave (:mod:`napari_recist._history`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import recist
from napari_recist._history import History
from napari_recist._listeners import WeakListeners
from napari_recist._table_model import CaseTable, TableCell, TableRow, case_table
from recist.errors import RecistError
from recist.measure.geometry import line_length_mm
from recist.measure.lines import perpendicular_line
from recist.model.case import Case, ImageRef, Line
from recist.model.enums import LesionRole, NonTargetState, TargetState
from recist.model.validate import check_case, parse_case

__all__ = ["CaseController", "CaseTable", "TableRow", "TableCell", "SITES"]  # table types: _table_model

logger = logging.getLogger(__name__)

#: Organ sites offered in the widget (free text is accepted too).
SITES = (
    "liver", "lung", "lymph node", "mesenteric lymph node", "retroperitoneal lymph node", "pancreas",
    "peritoneum", "mesentery", "bone", "adrenal", "kidney", "spleen", "small bowel", "brain", "pleura",
    "soft tissue", "other",
)

def _midpoint(line: dict | None) -> tuple[float, float, float] | None:
    if not line:
        return None
    start, end = line["start_mm"], line["end_mm"]
    return tuple((a + b) / 2 for a, b in zip(start, end))  # type: ignore[return-value]



def read_draft(path: str | os.PathLike[str]) -> Case:
    """A case file read with object-level checks only: an autosaved reading in progress (a node whose
    short axis is not confirmed yet, a target without its baseline) opens again."""
    from recist.io.case_json import load_json

    return parse_case(load_json(path), str(path), whole_case=False)


@dataclass
class CaseController:
    """The case being read, with undo, autosave and listeners.

    Parameters
    ----------
    case
        The case to start from.
    path
        Where to autosave after every change (None: not saved until :meth:`save` gets a path).
    """

    case: Case
    path: Path | None = None
    autosave: bool = True
    background_save: bool = False
    on_save_error: Callable[[Exception], None] | None = field(default=None, repr=False)
    _writer: Any = field(default=None, repr=False)
    history: History = field(default_factory=History, repr=False)
    _listeners: WeakListeners = field(default_factory=WeakListeners, repr=False)
    _assessment: Any = field(default=None, repr=False)
    _problem: str | None = field(default=None, repr=False)
    _plane_normals: dict[str, tuple[float, float, float]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.path is not None:
            self.path = Path(self.path)
        self._reassess()

    # ---------------------------------------------------------------- construction
    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> CaseController:
        """Open a case file, complete or not (a reading in progress: object-level checks only, the
        whole-case problems are shown in the table), with the undo history kept beside it. Raises
        :class:`recist.RecistValidationError` naming the file."""
        case = read_draft(path)
        controller = cls(case, Path(path))
        controller.history = History.load(Path(path), case)
        return controller

    @classmethod
    def new(cls, subject: str, timepoints: list[dict], path: str | os.PathLike[str] | None = None) -> CaseController:
        """A new, empty reading: ``timepoints`` are ``{"label", "date"}`` dicts, the first the baseline."""
        case = Case.model_validate({"subject": subject, "lesions": [], "timepoints": timepoints})
        return cls(case, Path(path) if path else None)

    # ---------------------------------------------------------------- state and events
    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change (edit, undo, reload). A bound method is held weakly: a
        widget listening to the case is not kept alive by it (the session, global per viewer, holds the
        controller; a strong reference would keep a closed viewer's widgets and window alive)."""
        self._listeners.add(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    @property
    def assessment(self) -> recist.Assessment | None:
        """The result of :func:`recist.assess` for the current case (None while it cannot be assessed)."""
        return self._assessment

    @property
    def problems(self) -> str | None:
        """Why the case cannot be assessed yet (the validation message), or None."""
        return self._problem

    @property
    def can_undo(self) -> bool:
        """Whether there is an edit to undo."""
        return bool(self.history.undo)

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone edit to redo."""
        return bool(self.history.redo)

    @property
    def timepoint_labels(self) -> list[str]:
        """Timepoint labels in order (the first is the baseline)."""
        return [tp.label for tp in self.case.timepoints]

    def replace_case(self, case: Case, path: str | os.PathLike[str] | None = None) -> None:
        """Start reading another case (clears undo)."""
        self.case = case
        if path is not None:
            self.path = Path(path)
        self.history.clear()
        self._changed(save=False)

    def _reassess(self) -> None:
        try:
            check_case(self.case)
            self._assessment, self._problem = recist.assess(self.case), None
        except RecistError as exc:
            self._assessment, self._problem = None, str(exc)

    def _changed(self, *, save: bool = True) -> None:
        self._reassess()
        if save and self.autosave and self.path is not None:
            if self.background_save:
                if self._writer is None:
                    from napari_recist._autosave import AutosaveWriter

                    self._writer = AutosaveWriter(self._write_snapshot, self.on_save_error)
                self._writer.submit((self.case, self.history.snapshot()), self.path)
            else:
                self.save()
        self._listeners()

    def _commit(self, data: dict) -> None:
        """Validate the edited dict into a Case (object-level checks), push undo, save, notify."""
        case = parse_case(data, str(self.path) if self.path else None, whole_case=False)
        if case == self.case:
            return  # nothing changed: no undo step, no write
        self.history.push(self.case)
        self.case = case
        self._changed()

    def undo(self) -> bool:
        """Restore the case as it was before the last edit; False when there is nothing to undo."""
        if not self.history.undo:
            return False
        self.history.redo.append(self.case)
        self.case = self.history.undo.pop()
        self._changed()
        return True

    def redo(self) -> bool:
        """Bring back the last undone edit; False when there is nothing to redo."""
        if not self.history.redo:
            return False
        self.history.undo.append(self.case)
        self.case = self.history.redo.pop()
        self._changed()
        return True

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the case atomically (``recist.write_case``) to ``path`` or the controller's path."""
        if path is not None:
            self.path = Path(path)
        if self.path is None:
            raise RecistError("no file to save the case to: choose one with 'Save as'")
        if self._writer is not None:
            try:
                self._writer.flush()
            except (RecistError, OSError) as exc:  # superseded by the write below, which raises its own
                logger.warning("an earlier autosave failed (%s); writing the case now", exc)
        self._write_snapshot((self.case, self.history.snapshot()), self.path)
        return self.path

    def _write_snapshot(self, state: tuple, path: Path) -> None:
        """Write a case and then its undo history (``(case, (undo, redo))``) beside it, atomically each."""
        case, snapshot = state
        recist.write_case(case, path)
        self.history.save(path, case, snapshot)

    def flush(self) -> None:
        """Wait until the autosave written in the background holds the current case (raises the error of a
        failed write); returns at once without background saving."""
        if self._writer is not None:
            self._writer.flush()

    # ---------------------------------------------------------------- editing helpers
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

    # ---------------------------------------------------------------- edits
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

    def confirm_short_axis(self, timepoint: str, lesion_id: str) -> float:
        """Record the proposed short axis as measured (the reader agrees with it); returns its length, mm."""
        lesion_id = self.resolve_id(lesion_id)
        line = self.proposed_short_axis(timepoint, lesion_id)
        if line is None:
            raise RecistError(f"timepoint {timepoint!r}, lesion {lesion_id}: no proposed short axis to confirm "
                              "(draw the node's long axis first)")
        return self.set_short_axis(timepoint, lesion_id, line.start_mm, line.end_mm)

    # ---------------------------------------------------------------- queries
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

    # ---------------------------------------------------------------- the table
    def table(self) -> CaseTable:
        """Lesions x timepoints with measurements, sums, % change and responses (from recist.assess)."""
        return case_table(self)
