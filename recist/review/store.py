"""On-disk state of a review project: the project lock and schema-versioned JSON files.

Every change to a project happens while holding one lock file (``DIR/.lock``, via ``filelock``), so two
processes that save, sign or amend at the same time are serialised and neither update is lost; every
file is written atomically (temporary file, fsync, rename: :mod:`recist._atomic`), so a writer killed
mid-write leaves the previous version intact. Each stored file carries a ``format`` key
(``recist.review.<kind>/<major>``); readers refuse an unknown major version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from recist._atomic import atomic_write_bytes, dumps_stable
from recist.errors import ReviewStateError, UnsupportedFormatError

__all__ = ["LOCK_NAME", "project_lock", "read_json", "write_json"]

LOCK_NAME = ".lock"


def project_lock(root: Path, timeout_s: float = 60.0) -> FileLock:
    """The lock that serialises every change to the project in ``root``.

    Raises :class:`ReviewStateError` (through the context manager) when another process holds it for
    longer than ``timeout_s`` seconds.
    """
    return _Lock(str(root / LOCK_NAME), timeout=timeout_s)


class _Lock(FileLock):
    def __enter__(self) -> _Lock:  # type: ignore[override]
        try:
            return super().__enter__()  # type: ignore[return-value]
        except Timeout:
            raise ReviewStateError(
                f"{self.lock_file} is held by another process for more than {self.timeout} s: "
                "wait for it to finish, or remove the file if no recist process is running"
            ) from None


def read_json(path: Path, kind: str) -> dict[str, Any]:
    """Read a project file whose ``format`` must be ``recist.review.<kind>/1``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise ReviewStateError(f"{path}: unreadable project file ({exc}); run `recist review verify`") from None
    expected = f"recist.review.{kind}/1"
    if not isinstance(data, dict) or data.get("format") != expected:
        found = data.get("format") if isinstance(data, dict) else None
        raise UnsupportedFormatError(
            f"format is {found!r}, expected {expected!r} (a file of a newer recist release?)",
            source=str(path),
            field="format",
        )
    return data


def write_json(path: Path, data: dict[str, Any]) -> str:
    """Write ``data`` atomically as stable JSON and return the SHA-256 (hex) of the bytes written."""
    raw = dumps_stable(data).encode("utf-8")
    atomic_write_bytes(path, raw)
    return hashlib.sha256(raw).hexdigest()
