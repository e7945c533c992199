"""Undo and redo of a reading, kept beside the autosave so that they survive closing napari.

The history of ``case.json`` is ``case.history.json`` in the same folder (format
``recist.case-history/1``): the cases before each edit (``undo``, oldest first), the cases undone
(``redo``) and the case they lead to (``current``). It is written atomically after every change,
after the case itself. When the case file no longer equals ``current`` (it was edited by another
tool, or the history file is from an older reading), the history is not used: undoing into a case
that was never on disk would be wrong, so the reading starts with an empty history (and a log line).
At most :data:`LIMIT` steps are kept.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from recist._atomic import atomic_write_json
from recist.errors import RecistError
from recist.model.case import Case
from recist.model.validate import parse_case

__all__ = ["History", "history_path", "LIMIT", "HISTORY_FORMAT"]

logger = logging.getLogger(__name__)

LIMIT = 200
HISTORY_FORMAT = "recist.case-history/1"


def history_path(case_path: Path) -> Path:
    """``case.history.json`` beside ``case.json``."""
    return case_path.with_name(f"{case_path.stem}.history.json")


def _dump(case: Case) -> dict:
    return case.model_dump(mode="json", exclude_none=True)


@dataclass
class History:
    """Cases before each edit (``undo``) and cases undone (``redo``)."""

    undo: list[Case] = field(default_factory=list)
    redo: list[Case] = field(default_factory=list)
    _dumps: dict[int, tuple[Case, dict]] = field(default_factory=dict, repr=False)

    def snapshot(self) -> tuple[list[Case], list[Case]]:
        """The undo and redo lists as they are now (for a write in another thread; cases are frozen)."""
        return list(self.undo), list(self.redo)

    def push(self, before: Case) -> None:
        """Remember the case before an edit; a new edit forgets what was undone."""
        self.undo.append(before)
        del self.undo[:-LIMIT]
        self.redo.clear()

    def clear(self) -> None:
        """Forget everything (another case is read)."""
        self.undo.clear()
        self.redo.clear()

    def save(self, case_path: Path, current: Case, snapshot: tuple[list[Case], list[Case]] | None = None) -> None:
        """Write the history (or a :meth:`snapshot` of it) beside ``case_path``, atomically. Each case is
        turned into JSON once (cached while it is in the history)."""
        undo, redo = snapshot if snapshot is not None else (self.undo, self.redo)
        dumps = dict(self._dumps)

        def dump(case: Case) -> dict:
            hit = dumps.get(id(case))
            if hit is None or hit[0] is not case:
                hit = (case, _dump(case))
                dumps[id(case)] = hit
            return hit[1]

        data = {"format": HISTORY_FORMAT, "current": dump(current),
                "undo": [dump(c) for c in undo], "redo": [dump(c) for c in redo]}
        kept = {id(c) for c in (*undo, *redo, current)}
        self._dumps = {key: value for key, value in dumps.items() if key in kept}
        atomic_write_json(history_path(case_path), data)

    @classmethod
    def load(cls, case_path: Path, current: Case) -> History:
        """The history kept beside ``case_path`` when it leads to ``current``; else an empty one."""
        path = history_path(case_path)
        if not path.is_file():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != HISTORY_FORMAT:
                raise RecistError(f"unknown format {data.get('format')!r} (expected {HISTORY_FORMAT})")
            if parse_case(data["current"], str(path), whole_case=False) != current:
                logger.info("%s: the case file changed since this history was written; starting a new history", path)
                return cls()
            undo = [parse_case(c, str(path), whole_case=False) for c in data.get("undo", [])]
            redo = [parse_case(c, str(path), whole_case=False) for c in data.get("redo", [])]
        except (OSError, ValueError, KeyError, TypeError, RecistError) as exc:
            logger.warning("%s: undo history not usable (%s); starting a new history", path, exc)
            return cls()
        return cls(undo[-LIMIT:], redo[-LIMIT:])
