"""The reading session without Qt: the case being read, its edits, undo, autosave and the table.

:class:`CaseController` holds one :class:`recist.model.Case` (frozen; every edit builds a new one),
calls :func:`recist.assess` after every change and :func:`recist.write_case` (atomic) when the case has
a file, and tells its listeners. It holds no clinical rule: responses come from ``recist.assess``,
lengths from :func:`recist.measure.geometry.line_length_mm`, the short-axis proposal from
:func:`recist.measure.lines.perpendicular_line`. The Qt widgets bind to it; the tests drive it directly.

This module keeps the state (the case, undo and redo, the autosave, listeners); the edits are in
:mod:`napari_recist._case_edits` and the read-only questions in :mod:`napari_recist._case_queries`, both
parts of :class:`CaseController`.

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
from napari_recist._case_edits import CaseEdits
from napari_recist._case_queries import CaseQueries
from napari_recist._history import History
from napari_recist._listeners import WeakListeners
from napari_recist._table_model import CaseTable, TableCell, TableRow, case_table
from recist.errors import RecistError
from recist.model.case import Case
from recist.model.validate import check_case, parse_case

__all__ = ["CaseController", "CaseTable", "TableRow", "TableCell", "SITES"]  # table types: _table_model

logger = logging.getLogger(__name__)

#: Organ sites offered in the widget (free text is accepted too).
SITES = (
    "liver", "lung", "lymph node", "mesenteric lymph node", "retroperitoneal lymph node", "pancreas",
    "peritoneum", "mesentery", "bone", "adrenal", "kidney", "spleen", "small bowel", "brain", "pleura",
    "soft tissue", "other",
)


def read_draft(path: str | os.PathLike[str]) -> Case:
    """A case file read with object-level checks only: an autosaved reading in progress (a node whose
    short axis is not confirmed yet, a target without its baseline) opens again."""
    from recist.io.case_json import load_json

    return parse_case(load_json(path), str(path), whole_case=False)


@dataclass
class CaseController(CaseEdits, CaseQueries):
    """The case being read, with undo, autosave and listeners; its edits (:class:`CaseEdits`) and
    queries (:class:`CaseQueries`).

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

    # ---------------------------------------------------------------- the table
    def table(self) -> CaseTable:
        """Lesions x timepoints with measurements, sums, % change and responses (from recist.assess)."""
        return case_table(self)
