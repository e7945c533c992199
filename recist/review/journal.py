"""Crash-safe changes of a review project: the project lock and the staging of each change.

Every change of a project (:class:`recist.review.workflow.ReviewProject`) writes its files and appends
one audit entry as one step that a killed process cannot leave half done (:meth:`JournalMixin._commit`).
The change is staged under the project lock and written, with every other change staged at that
moment, by the project's :class:`recist.review.commit.GroupCommit` (journal ``journal.json``, the new
contents as ``<file>.pending``, the audit entries, then the renames) before the caller's outermost
:meth:`JournalMixin._locked` returns. The next change, or ``verify``, completes a batch whose entries
were all logged and undoes one whose entries were not (:func:`recist.review.commit.recover`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from recist._atomic import dumps_stable
from recist.review.commit import JOURNAL_NAME, PENDING_SUFFIX, recover

__all__ = ["JOURNAL_NAME", "PENDING_SUFFIX", "JournalMixin"]


class JournalMixin:
    """The lock and crash-safe commits of a project (mixed into :class:`recist.review.workflow.ReviewProject`)."""

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the project lock (completing or undoing a change a killed process left half done); on
        leaving the outermost level, wait until the changes staged inside are on disk."""
        with self.committer.locked():
            yield

    def _recover(self) -> None:
        """Complete or undo a batch a killed process left half written (the caller holds the lock)."""
        recover(self.root, self.audit)

    def _commit(
        self, *, actor: str, action: str, now: _dt.datetime, subject: str | None, writes: Mapping[Path, dict[str, Any]],
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Stage files and their audit entry as one change (the caller holds :meth:`_locked`).

        Later changes under the same lock read the staged contents; all of them are written when the
        outermost :meth:`_locked` is left (:mod:`recist.review.commit`). A process killed at any point
        leaves the old files intact or the whole batch in place, never a part of it.
        """
        raw = {path: dumps_stable(data).encode("utf-8") for path, data in writes.items()}
        return self._commit_raw(actor=actor, action=action, now=now, subject=subject, raw=raw, details=details)

    def _commit_raw(
        self, *, actor: str, action: str, now: _dt.datetime, subject: str | None, raw: Mapping[Path, bytes],
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """:meth:`_commit` of files given as bytes."""
        self.audit.check_writable()  # before anything is staged
        files = {self._rel(path): hashlib.sha256(data).hexdigest() for path, data in raw.items()}
        entry = self.audit.append(actor=actor, action=action, now=now, subject=subject, details=details, files=files)
        self.committer.stage_files({Path(path): data for path, data in raw.items()})
        return entry
