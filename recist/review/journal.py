"""Crash-safe changes of a review project: the project lock, the change journal and its recovery.

Every change of a project (:class:`recist.review.workflow.ReviewProject`) writes its files and appends
one audit entry as one step that a killed process cannot leave half done (:meth:`JournalMixin._commit`):
a journal (``journal.json``) names the files and their new SHA-256 with the sequence number the audit
entry will get, the new contents go to ``<file>.pending``, the entry is appended, then the pending files
are renamed over the old ones and the journal removed. The next change, or ``verify``, completes a change
whose entry was logged and undoes one whose entry was not (:meth:`JournalMixin._recover`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from recist._atomic import atomic_write_bytes, atomic_write_json, dumps_stable
from recist.errors import AuditError, ReviewStateError

__all__ = ["JOURNAL_NAME", "PENDING_SUFFIX", "JournalMixin"]

log = logging.getLogger("recist.review.workflow")

JOURNAL_NAME = "journal.json"
PENDING_SUFFIX = ".pending"


class JournalMixin:
    """The lock and crash-safe commits of a project (mixed into :class:`recist.review.workflow.ReviewProject`)."""

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the project lock and finish (or undo) a change a killed process left half done."""
        with self._thread_lock, self._lock:
            self._recover()
            yield

    def _recover(self) -> None:
        """Roll an interrupted :meth:`_commit` forward (its audit entry was written) or back (it was not).

        Also completes an audit entry without a change (a view, a refusal) whose writer was killed between
        the log line and the head file (:meth:`AuditLog.head_seq` adopts or cuts the tail); a trail too
        damaged for that is left for :meth:`verify` to name.
        """
        for stray in self.root.glob(".*.tmp"):  # a temporary file of a write killed before its rename
            stray.unlink()
        journal_path = self.root / JOURNAL_NAME
        if not journal_path.exists():
            try:
                self.audit.head_seq()
            except AuditError:
                pass
            return
        try:
            journal = json.loads(journal_path.read_text(encoding="utf-8"))
            seq, files = int(journal["seq"]), dict(journal["files"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ReviewStateError(f"{journal_path} is damaged: run `recist review verify` and restore it") from None
        forward = False
        if self.audit.head_seq() >= seq:
            logged = next((e for e in self.audit.entries() if e.get("seq") == seq), None)
            forward = logged is not None and logged.get("files") == files
        for rel in files:
            pending = self.root / (rel + PENDING_SUFFIX)
            for stray in pending.parent.glob(f".{pending.name}.*.tmp"):
                stray.unlink()
            if pending.exists():
                if forward:
                    os.replace(pending, self.root / rel)
                else:
                    pending.unlink()
        log.warning("recovered an interrupted change (entry %d): %s", seq, "completed" if forward else "undone")
        journal_path.unlink()

    def _commit(
        self, *, actor: str, action: str, now: _dt.datetime, subject: str | None, writes: Mapping[Path, dict[str, Any]],
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write files and log them as one change (the caller holds the lock).

        Crash-safe in three steps: a journal names the files and their new hashes with the sequence
        number the audit entry will get, and the new contents go to ``<file>.pending``; the entry is
        appended; the pending files are
        renamed over the old ones and the journal removed. A process killed at any point leaves the old
        files intact, and the next change (or verify) completes the change when its entry was logged
        and discards it when not (:meth:`_recover`).
        """
        raw = {path: dumps_stable(data).encode("utf-8") for path, data in writes.items()}
        return self._commit_raw(actor=actor, action=action, now=now, subject=subject, raw=raw, details=details)

    def _commit_raw(
        self, *, actor: str, action: str, now: _dt.datetime, subject: str | None, raw: Mapping[Path, bytes],
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """:meth:`_commit` of files given as bytes."""
        self.audit.check_writable()  # before anything is written
        files = {self._rel(path): hashlib.sha256(data).hexdigest() for path, data in raw.items()}
        seq = self.audit.head_seq() + 1
        atomic_write_json(self.root / JOURNAL_NAME, {"seq": seq, "files": files})
        for path, data in raw.items():
            atomic_write_bytes(Path(str(path) + PENDING_SUFFIX), data)
        entry = self.audit.append(actor=actor, action=action, now=now, subject=subject, details=details, files=files)
        for rel in files:
            os.replace(self.root / (rel + PENDING_SUFFIX), self.root / rel)
        (self.root / JOURNAL_NAME).unlink()
        return entry
