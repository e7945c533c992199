"""Group commit: the changes of a review project made durable in batches, one set of fsyncs per batch.

Every change to a project (a save, a signature, an audit entry for a view or a refusal) is made under
:meth:`GroupCommit.locked`: the change is computed, its files and its audit entry are *staged* in memory
(the next changes of the same batch read the staged contents, :func:`recist.review.store.staged_files`),
and the caller then waits, outside the lock, until its batch is on disk. The first waiter becomes the
batch's writer and writes every change staged at that moment; the others are answered when it is done.
While it writes, new changes queue for the next batch. A request is therefore acknowledged only once
its change is on disk and in the signed audit trail, and 20 concurrent saves cost one batch's fsyncs
instead of twenty times eight. A single caller (the CLI, a script) commits a batch of one.

Writing a batch (the project lock, ``DIR/.lock``, held from its first staged change to its end)::

    A  journal.json (start head, last entry, new SHA-256 of every file) and every file's new content as
       temporary files; all fsynced together (:func:`recist._atomic.fsync_paths`)
    B  the temporaries renamed to journal.json and <file>.pending; their folders fsynced together
    C  the batch's audit entries appended with one write and fsynced           <- the commit point
    D  the pending files renamed over the old ones; the new audit.head and the server's witness
       (:class:`recist.review.keys.AuditWitness`) written as temporaries; the temporaries and the
       changed folders fsynced together; the head and the witness renamed; the journal removed

A process killed (or a machine stopped) anywhere leaves what :func:`recover` completes or undoes at the
next change or ``verify``: when every entry of the batch is in the trail, the pending files are renamed
into place (roll forward); otherwise the pending files are removed and any entries of the batch that did
reach the trail are cut (roll back). Nothing of an unfinished batch was acknowledged, so nothing
acknowledged is lost. An audit head not renamed in time is rebuilt from the trail's complete lines.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recist._atomic import dumps_stable, fsync_paths, make_folders, write_temp
from recist.errors import AuditError, ReviewStateError
from recist.review.audit import AuditLog, Head
from recist.review.keys import AuditWitness
from recist.review.store import project_lock, staged_files

__all__ = ["JOURNAL_NAME", "PENDING_SUFFIX", "GroupCommit", "recover"]

log = logging.getLogger(__name__)

JOURNAL_NAME = "journal.json"
PENDING_SUFFIX = ".pending"


@dataclass(eq=False)
class _Batch:
    """The changes staged since the batch opened (their files; their entries are in the AuditLog)."""

    start: Head
    files: dict[Path, bytes] = field(default_factory=dict)  # absolute path -> newest staged content
    writers: set[int] = field(default_factory=set)  # threads that staged something and wait for it
    done: bool = False
    error: BaseException | None = None


class GroupCommit:
    """The lock, staging and batched durable writes of the project in ``root`` (see the module docstring).

    Parameters
    ----------
    root
        The project folder.
    audit
        Its audit trail (entries appended while a batch is open are staged).
    witness
        The server's witness of the trail's head, checked when a batch opens and updated after each
        batch (None: a project not served from this machine).
    """

    def __init__(self, root: Path, audit: AuditLog, witness: AuditWitness | None = None) -> None:
        self.root = root
        self.audit = audit
        self.witness = witness
        self.file_lock = project_lock(root)  # other processes (the CLI) wait here
        self.thread_lock = threading.RLock()  # threads of this process stage one at a time
        self._cond = threading.Condition(threading.Lock())
        self._writing = False
        self._batch: _Batch | None = None
        self._local = threading.local()

    # ------------------------------------------------------------------ the lock and the batch
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the project lock (re-entrant) with the open batch's staged files visible; on leaving the
        outermost level, wait until what this thread staged is on disk (raises when it could not be)."""
        depth = getattr(self._local, "depth", 0)
        ident = threading.get_ident()
        batch: _Batch | None = None
        failed = False
        try:
            with self.thread_lock:
                batch = self._open()
                staged_before = self.audit.staged_count()  # no other thread stages while this one holds the lock
                self._local.depth = depth + 1
                try:
                    with staged_files(batch.files):
                        yield
                except BaseException:
                    failed = True
                    raise
                finally:
                    self._local.depth = depth
                    if self.audit.staged_count() > staged_before:
                        batch.writers.add(ident)
                    elif depth == 0 and self._batch is batch and not batch.writers:
                        self._close(batch)  # nothing staged: let other processes in
        finally:
            if depth == 0 and batch is not None and ident in batch.writers:
                self._await(batch, quiet=failed)

    def stage_files(self, files: Mapping[Path, bytes]) -> None:
        """Stage new contents of project files (the caller holds :meth:`locked` and appends their entry)."""
        if self._batch is None:
            raise RuntimeError("stage files inside GroupCommit.locked()")
        self._batch.files.update(files)

    def staged(self) -> list[Path]:
        """The files staged in the open batch (empty when none is open)."""
        return list(self._batch.files) if self._batch is not None else []

    def _open(self) -> _Batch:
        """The open batch; a new one takes the project lock, completes an interrupted change and checks
        the witness (the caller holds the thread lock)."""
        if self._batch is not None:
            return self._batch
        self.file_lock.acquire()
        try:
            recover(self.root, self.audit)
            start = self.audit.begin_batch()
            if self.witness is not None:
                self.check_witness()
        except BaseException:
            self.audit.end_batch()
            self.file_lock.release()
            raise
        self._batch = _Batch(start=start)
        return self._batch

    def check_witness(self) -> None:
        """AuditRollbackError when the trail is older than the server's witness of it (no witness: no check)."""
        if self.witness is None:
            return
        witnessed = self.witness.read()
        if witnessed is not None:
            self.witness.check(self.root, self.audit.rollback_problem(Head(*witnessed)))

    def _close(self, batch: _Batch) -> None:
        self.audit.end_batch()
        self._batch = None
        batch.done = True
        self.file_lock.release()

    def _await(self, batch: _Batch, *, quiet: bool) -> None:
        """Wait until ``batch`` is written, writing it when no other thread is writing one."""
        with self._cond:
            while not batch.done and self._writing:
                self._cond.wait()
            lead = not batch.done
            if lead:
                self._writing = True
        if lead:
            try:
                with self.thread_lock:
                    self._write(batch)
            finally:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()
        if batch.error is not None:
            if quiet:  # the caller is already raising (a refusal): say what was not recorded, keep its error
                log.warning("a change that failed was not recorded either: %s", batch.error)
                return
            message = (f"the change could not be written to {self.root} ({batch.error}); it is not recorded: "
                       "run `recist review verify` and try again")
            if isinstance(batch.error, OSError):  # a disk error stays one (each waiter gets its own exception)
                raise OSError(batch.error.errno, message) from batch.error
            raise ReviewStateError(message) from batch.error

    # ------------------------------------------------------------------ writing a batch
    def _write(self, batch: _Batch) -> None:
        """Write ``batch`` (steps A-D of the module docstring); its waiters learn the outcome from it."""
        try:
            if batch is not self._batch:  # pragma: no cover - only the writer closes a batch with writers
                raise RuntimeError("the batch to write is not the open one")
            head = self._write_durably(batch)
            log.debug("batch of %d change(s) written (entry %d)", len(batch.writers), head.seq)
        except BaseException as exc:  # every waiter of the batch gets the error
            batch.error = exc
        finally:
            self._close(batch)

    def _write_durably(self, batch: _Batch) -> Head:
        audit = self.audit
        start = audit.batch_start
        head = audit.batch_head
        assert start is not None and head is not None
        files = dict(batch.files)
        journal = self.root / JOURNAL_NAME
        temps: dict[Path, Path] = {}  # final path -> temporary, every temporary of the project in its root
        try:
            if files:
                record = {"format": "recist.review.journal/2", "start": start.to_dict(), "first": start.seq + 1,
                          "seq": head.seq, "files": {path.relative_to(self.root).as_posix(): hashlib.sha256(data)
                                                     .hexdigest() for path, data in files.items()}}
                folders: set[Path] = {self.root}
                temps[journal] = write_temp(journal, dumps_stable(record).encode("utf-8"))
                for path, data in files.items():
                    folders.update(folder.parent for folder in make_folders(path.parent))
                    folders.add(path.parent)
                    temps[_pending(path)] = write_temp(_pending(path), data, mode=_mode_of(path), folder=self.root)
                fsync_paths(temps.values())  # A
                _rename_all(temps)  # the journal first: recover() then knows every pending file
                fsync_paths(sorted(folders))  # B
            new_head = audit.write_batch()  # C: the commit point
            temps[audit.head_path] = write_temp(audit.head_path, audit.head_bytes(new_head))
            if self.witness is not None:
                make_folders(self.witness.path.parent)
                temps[self.witness.path] = write_temp(
                    self.witness.path, self.witness.content(new_head.seq, new_head.hash, new_head.size), mode=0o600)
            for path in files:
                os.replace(_pending(path), path)
            fsync_paths([*temps.values(), *sorted({path.parent for path in files})])  # D
            _rename_all(temps)
        finally:
            for temp in temps.values():  # what an error left (recover() also removes the project's)
                with contextlib.suppress(OSError):
                    temp.unlink()
        if files:
            journal.unlink()
        return new_head


def _pending(path: Path) -> Path:
    return Path(str(path) + PENDING_SUFFIX)


def _rename_all(temps: dict[Path, Path]) -> None:
    """Rename each temporary over its final path, in order, and forget it."""
    for final in list(temps):
        os.replace(temps[final], final)
        del temps[final]


def _mode_of(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return None


def recover(root: Path, audit: AuditLog) -> None:
    """Complete or undo a batch a killed process left half written (see the module docstring).

    Also removes the temporary files of killed writes and rebuilds an audit head that lags the trail;
    a trail too damaged for that is left for ``verify`` to name. The caller holds the project lock.
    """
    for stray in root.glob(".*.tmp"):  # a temporary file of a write killed before its rename
        stray.unlink()
    journal_path = root / JOURNAL_NAME
    if not journal_path.exists():
        try:
            audit.head_seq()
        except AuditError:
            pass
        return
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
        seq, files = int(journal["seq"]), {str(k): v for k, v in dict(journal["files"]).items()}
        start = Head.from_dict(journal["start"]) if "start" in journal else None
        first = int(journal.get("first", seq))
    except (OSError, ValueError, KeyError, TypeError):
        raise ReviewStateError(f"{journal_path} is damaged: run `recist review verify` and restore it") from None
    head_seq = audit.head_seq()
    forward = False
    if head_seq >= seq:
        written: dict[str, Any] = {}
        seen = []
        entries = audit.entries_from(start.size) if start is not None else audit.entries()
        for entry in entries:
            if isinstance(entry.get("seq"), int) and first <= entry["seq"] <= seq:
                seen.append(entry["seq"])
                written.update(entry.get("files") or {})
        forward = seen == list(range(first, seq + 1)) and written == files
    elif start is not None and start.seq <= head_seq and audit.size() > start.size:
        audit.truncate_to(start)  # some entries of the batch reached the trail, not all: none was acknowledged
    for rel in files:
        pending = root / (rel + PENDING_SUFFIX)
        for stray in pending.parent.glob(f".{pending.name}.*.tmp"):
            stray.unlink()
        if pending.exists():
            if forward:
                os.replace(pending, root / rel)
            else:
                pending.unlink()
    log.warning("recovered an interrupted change (entries %d-%d): %s", first, seq, "completed" if forward else "undone")
    journal_path.unlink()
