"""On-disk state of a review project: the project lock and schema-versioned JSON files.

Every change to a project happens while holding one lock file (``DIR/.lock``, via ``filelock``), so two
processes that save, sign or amend at the same time are serialised and neither update is lost; every
file is written atomically (temporary file, fsync, rename: :mod:`recist._atomic`), so a writer killed
mid-write leaves the previous version intact. Each stored file carries a ``format`` key
(``recist.review.<kind>/<major>``); readers refuse an unknown major version.

Changes are made durable in batches (:mod:`recist.review.commit`): between a change and its batch's
write, the new contents are staged in memory, and :func:`read_json` and :func:`staged_exists` called
inside :func:`staged_files` (the project lock held) see them as if they were on disk.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from recist._atomic import atomic_write_bytes, dumps_stable, new_file_mode
from recist.errors import ReviewStateError, UnsupportedFormatError

__all__ = ["LOCK_NAME", "project_lock", "read_json", "write_json", "shape_problem", "PROJECT_FILES", "staged_files",
           "staged_exists"]

PROJECT_FILES = (
    ("project.json", "project"),
    ("subjects/*/subject.json", "subject"),
    ("subjects/*/reads/*.json", "read"),
    ("subjects/*/adjudication.json", "adjudication"),
    ("site_reads/*.json", "site_read"),
)
"""(glob pattern, kind) of every JSON file of a project that :func:`read_json` loads."""

LOCK_NAME = ".lock"


def project_lock(root: Path, timeout_s: float = 60.0) -> FileLock:
    """The lock that serialises every change to the project in ``root``.

    Raises :class:`ReviewStateError` (through the context manager) when another process holds it for
    longer than ``timeout_s`` seconds.
    """
    # waiters poll every 5 ms (filelock's default is 50 ms): a process that releases the lock and asks for it
    # again at once would otherwise win it over and over, starving the others past ``timeout_s`` under load
    return _Lock(str(root / LOCK_NAME), timeout=timeout_s, mode=new_file_mode(root), thread_local=False,
                 poll_interval=0.005)


class _Lock(FileLock):
    def __enter__(self) -> _Lock:  # type: ignore[override]
        try:
            return super().__enter__()  # type: ignore[return-value]
        except Timeout:
            raise ReviewStateError(
                f"{self.lock_file} is held by another process for more than {self.timeout} s: "
                "wait for it to finish, or remove the file if no recist process is running"
            ) from None


_STAGED = threading.local()


@contextlib.contextmanager
def staged_files(files: Mapping[Path, bytes]) -> Iterator[None]:
    """In this block, this thread's :func:`read_json` and :func:`staged_exists` see ``files`` (path -> new
    content staged for the next durable write, :mod:`recist.review.commit`) in place of the disk's."""
    previous = getattr(_STAGED, "files", None)
    _STAGED.files = files
    try:
        yield
    finally:
        _STAGED.files = previous


def _staged(path: Path) -> bytes | None:
    files = getattr(_STAGED, "files", None)
    return files.get(path) if files else None


def staged_exists(path: Path) -> bool:
    """Whether ``path`` is a file on disk or staged to be written (see :func:`staged_files`)."""
    return _staged(path) is not None or path.is_file()


def read_json(path: Path, kind: str) -> dict[str, Any]:
    """Read a project file whose ``format`` must be ``recist.review.<kind>/1`` and whose shape is checked.

    Inside :func:`staged_files`, a staged new content of ``path`` is read instead of the disk's.

    Raises
    ------
    FileNotFoundError
        When the file does not exist (callers treat that as "not there yet").
    ReviewStateError
        For a file that cannot be read, is not JSON, is nested too deep, or lacks what its kind needs
        (a damaged project file: the message names the file and the first problem found).
    UnsupportedFormatError
        For another ``format``.
    """
    staged = _staged(path)
    try:
        text = staged.decode("utf-8") if staged is not None else path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewStateError(f"{path}: unreadable project file ({exc}); run `recist review verify`") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        why = "nested too deep" if isinstance(exc, RecursionError) else f"not JSON: {exc}"
        raise ReviewStateError(f"{path}: damaged project file ({why}); run `recist review verify`") from None
    expected = f"recist.review.{kind}/1"
    if not isinstance(data, dict) or data.get("format") != expected:
        found = data.get("format") if isinstance(data, dict) else None
        raise UnsupportedFormatError(
            f"format is {found!r}, expected {expected!r} (a file of a newer recist release?)",
            source=str(path),
            field="format",
        )
    problem = shape_problem(kind, data)
    if problem:
        raise ReviewStateError(f"{path}: damaged project file ({problem}); run `recist review verify`")
    return data


def _iso_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _assessment_problem(assessment: Any, where: str) -> str | None:
    """What a stored assessment lacks for results and adjudication (None when usable)."""
    if not isinstance(assessment, dict):
        return f"{where}: the assessment is not an object"
    bor = assessment.get("best_overall_response")
    if bor is not None and not isinstance(bor, str):
        return f"{where}: best_overall_response is not text"
    progression = assessment.get("progression")
    if progression is None:
        return None
    if not isinstance(progression, dict):
        return f"{where}: progression is not an object"
    date, day = progression.get("date"), progression.get("day")
    if date is not None and not _iso_date(date):
        return f"{where}: progression date {date!r} is not an ISO date"
    if day is not None and (not isinstance(day, int) or isinstance(day, bool)):
        return f"{where}: progression day {day!r} is not a whole number"
    timepoints = assessment.get("timepoints")
    if timepoints is not None and not (isinstance(timepoints, list) and all(isinstance(t, dict) for t in timepoints)):
        return f"{where}: timepoints is not a list of objects"
    return None


def _read_problem(data: dict[str, Any]) -> str | None:
    versions = data.get("versions")
    if not isinstance(data.get("reader"), str) or not isinstance(data.get("subject"), str):
        return "'subject' or 'reader' missing"
    if not isinstance(versions, list):
        return "'versions' missing or not a list"
    for k, version in enumerate(versions, start=1):
        where = f"version {k}"
        if not isinstance(version, dict):
            return f"{where} is not an object"
        if version.get("version") != k:
            return f"{where} is numbered {version.get('version')!r}"
        if version.get("status") not in ("draft", "signed"):
            return f"{where}: status {version.get('status')!r} is neither draft nor signed"
        if not isinstance(version.get("case"), dict) or not isinstance(version.get("case_sha256"), str):
            return f"{where}: 'case' or 'case_sha256' missing"
        if version["status"] == "signed":
            problem = _assessment_problem(version.get("assessment"), where)
            if problem:
                return problem
    return None


def _subject_problem(data: dict[str, Any]) -> str | None:
    if not isinstance(data.get("subject"), str) or not isinstance(data.get("pseudonym"), str):
        return "'subject' or 'pseudonym' missing"
    shift = data.get("date_shift_days")
    if not isinstance(shift, int) or isinstance(shift, bool) or abs(shift) > 36500:
        return f"date_shift_days {shift!r} is not a whole number of days"
    timepoints = data.get("timepoints")
    if not isinstance(timepoints, list) or not timepoints:
        return "'timepoints' missing or empty"
    for k, tp in enumerate(timepoints, start=1):
        if not isinstance(tp, dict) or not isinstance(tp.get("label"), str) or not _iso_date(tp.get("date")):
            return f"timepoint {k}: label or ISO date missing"
        if not isinstance(tp.get("folders"), list) or not all(isinstance(f, str) for f in tp["folders"]):
            return f"timepoint {k}: 'folders' is not a list of paths"
    return None


def _adjudication_problem(data: dict[str, Any]) -> str | None:
    if data.get("choice") not in ("A", "B"):
        return f"choice {data.get('choice')!r} is neither A nor B"
    for key in ("reason", "adjudicator", "time", "subject"):
        if not isinstance(data.get(key), str):
            return f"{key!r} missing"
    if not isinstance(data.get("reads"), dict):
        return "'reads' missing"
    return None


def _site_read_problem(data: dict[str, Any]) -> str | None:
    if not isinstance(data.get("subject"), str) or not isinstance(data.get("case"), dict):
        return "'subject' or 'case' missing"
    return _assessment_problem(data.get("assessment"), "site read")


def _project_problem(data: dict[str, Any]) -> str | None:
    return None if isinstance(data.get("trial"), str) else "'trial' missing"


_SHAPES = {"read": _read_problem, "subject": _subject_problem, "adjudication": _adjudication_problem,
           "site_read": _site_read_problem, "project": _project_problem}


def shape_problem(kind: str, data: dict[str, Any]) -> str | None:
    """The first thing a project file of ``kind`` lacks for the workflow to use it (None when usable)."""
    check = _SHAPES.get(kind)
    return check(data) if check else None


def write_json(path: Path, data: dict[str, Any]) -> str:
    """Write ``data`` atomically as stable JSON and return the SHA-256 (hex) of the bytes written."""
    raw = dumps_stable(data).encode("utf-8")
    atomic_write_bytes(path, raw)
    return hashlib.sha256(raw).hexdigest()
