"""The autosave, written off the UI thread: the newest version of the case goes to its file in a
background thread, so a measurement shows in the table at once and the disk (an fsync'd atomic write,
tens of ms) is not waited for.

Writes are coalesced: when edits come faster than the disk, only the newest pending case is written
(every write is a whole, valid case file, :func:`recist.write_case`, atomic). :meth:`AutosaveWriter.flush`
waits until the file holds the newest case (before an explicit save, on close, in tests); at interpreter
exit every writer is flushed. A failed write is kept (:attr:`AutosaveWriter.error`), reported through
``on_error`` (from the writer thread) and raised by the next :meth:`flush`. No Qt here.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["AutosaveWriter"]

logger = logging.getLogger(__name__)

_WRITERS: weakref.WeakSet[AutosaveWriter] = weakref.WeakSet()


class AutosaveWriter:
    """Writes ``(case, path)`` pairs in a background thread, newest only.

    Parameters
    ----------
    write
        ``write(case, path)``, e.g. :func:`recist.write_case` (atomic).
    on_error
        Called with the exception of a failed write, in the writer thread.
    """

    def __init__(self, write: Callable[[Any, Path], Any], on_error: Callable[[Exception], None] | None = None):
        self._write = write
        self.on_error = on_error
        self._cond = threading.Condition()
        self._pending: tuple[Any, Path] | None = None
        self._busy = False
        self._thread: threading.Thread | None = None
        self.error: Exception | None = None
        _WRITERS.add(self)

    def submit(self, case: Any, path: Path) -> None:
        """Write ``case`` to ``path`` soon (replacing a pending, not yet written, case)."""
        with self._cond:
            self._pending = (case, Path(path))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="recist-autosave", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    @property
    def idle(self) -> bool:
        """Whether every submitted case is written (or failed)."""
        with self._cond:
            return self._pending is None and not self._busy

    def flush(self, timeout: float | None = 30.0) -> None:
        """Wait until every submitted case is written; raise the error of the last write if it failed."""
        with self._cond:
            done = self._cond.wait_for(lambda: self._pending is None and not self._busy, timeout)
        if not done:
            raise TimeoutError(f"the autosave did not finish within {timeout} s")
        error, self.error = self.error, None
        if error is not None:
            raise error

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: self._pending is not None, timeout=5.0):
                    self._thread = None  # idle: the next submit starts a new thread
                    return
                case, path = self._pending
                self._pending, self._busy = None, True
            try:
                self._write(case, path)
            except Exception as exc:  # noqa: BLE001 (reported to the UI and raised by flush)
                logger.error("recist: autosave to %s failed: %s", path, exc)
                with self._cond:
                    self.error = exc
                if self.on_error is not None:
                    self.on_error(exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


@atexit.register
def _flush_all() -> None:
    for writer in list(_WRITERS):
        try:
            writer.flush(timeout=30.0)
        except Exception as exc:  # noqa: BLE001 (at exit: say it, do not hide it)
            logger.error("recist: the last autosave failed at exit: %s", exc)
