"""Atomic file writes: temp file in the same folder, fsync, rename (and fsync of the folder)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "dumps_stable",
    "in_private_tree", "register_private_tree", "make_folders", "make_private_folder", "new_file_mode",
    "write_temp", "fsync_paths",
]


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once at import: os.umask can only be read by setting it


_PRIVATE_ROOTS: set[Path] = set()  # folders of this process whose whole tree is private


def make_private_folder(path: str | os.PathLike[str]) -> None:
    """Create ``path`` 0700 (missing parents get ordinary modes) and make everything written under it private.

    Called for a review project's folder, a reader package's folder and the server home: from then on
    (in this process) :func:`new_file_mode` gives 0600 and :func:`make_folders` 0700 anywhere under it.
    """
    Path(path).mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask, and the folder may have existed
    register_private_tree(path)


def register_private_tree(path: str | os.PathLike[str]) -> None:
    """Make what this process writes under ``path`` private, without touching the folder's own mode."""
    _PRIVATE_ROOTS.add(Path(path).resolve())


def in_private_tree(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` is, or lies under, a folder given to :func:`make_private_folder`."""
    if not _PRIVATE_ROOTS:
        return False
    resolved = Path(folder).resolve()
    return resolved in _PRIVATE_ROOTS or any(parent in _PRIVATE_ROOTS for parent in resolved.parents)


def new_file_mode(folder: str | os.PathLike[str]) -> int:
    """The permission bits of a new file in ``folder``: 0600 in a private tree, else what ``open()`` gives.

    Everything a review project, a reader package or the server home holds is private whatever the
    umask, while a user's ordinary outputs (reports, exports into their own folders) keep the modes
    their umask gives, as a plain ``open()`` would.
    """
    return 0o600 if in_private_tree(folder) else 0o666 & ~_UMASK


def make_folders(path: str | os.PathLike[str]) -> list[Path]:
    """``mkdir -p path``; each folder created inside a private tree is 0700 whatever the umask.

    Returns the folders created, outermost first (their parents need an fsync for them to last).
    """
    target = Path(path)
    missing: list[Path] = []
    while not target.exists():
        missing.append(target)
        if target.parent == target:
            break
        target = target.parent
    created = []
    for folder in reversed(missing):
        private = in_private_tree(folder.parent)
        try:
            folder.mkdir(mode=0o700 if private else 0o777)
        except FileExistsError:
            continue
        created.append(folder)
        if private:
            folder.chmod(0o700)
    return created


def write_temp(path: str | os.PathLike[str], data: bytes, mode: int | None = None,
               folder: str | os.PathLike[str] | None = None) -> Path:
    """Write ``data`` to a new temporary file (not fsynced) for ``path``; returns the temporary's path.

    The first half of an atomic write whose fsync is shared with other files (:func:`fsync_paths`),
    after which the caller renames the temporary over ``path``. The temporary (``.NAME.*.tmp``) is made
    in ``folder`` (default: beside ``path``; it must be on the same file system). ``mode`` defaults
    to the mode :func:`atomic_write_bytes` would give. Missing folders are created (:func:`make_folders`).
    """
    target = Path(path)
    make_folders(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                               dir=target.parent if folder is None else folder)
    try:
        if mode is None:
            try:
                mode = target.stat().st_mode & 0o777
            except FileNotFoundError:
                mode = new_file_mode(target.parent)
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Path(tmp)


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _fsync_one(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        if path.is_dir():
            return  # a folder that cannot be opened cannot be synced either (as in atomic_write_bytes)
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not path.is_dir():  # some file systems refuse to fsync a folder: nothing more can be done
            raise
    finally:
        os.close(fd)


def fsync_paths(paths: Iterable[str | os.PathLike[str]]) -> None:
    """fsync every file and folder of ``paths`` at the same time, and return when all are on disk.

    The fsyncs run in parallel threads: a journaling file system (ext4, XFS) commits the ones that
    arrive together in one journal commit, so syncing twenty files costs about what one costs, where
    twenty in a row cost twenty times as much. An error of any file is raised.
    """
    unique = list(dict.fromkeys(Path(p) for p in paths))
    if len(unique) <= 1:
        for path in unique:
            _fsync_one(path)
        return
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="recist-fsync")
        pool = _POOL
    for _ in pool.map(_fsync_one, unique):
        pass


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new content, never a mix.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, then the file is
    renamed over ``path`` (atomic on POSIX) and the folder is fsynced so the rename survives a crash.
    Missing folders are created by :func:`make_folders`; a new file's mode is :func:`new_file_mode`.
    """
    target = Path(path)
    tmp = write_temp(target, data)
    try:
        _fsync_one(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_one(target.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def dumps_stable(obj: Any) -> str:
    """Serialise ``obj`` as JSON with sorted keys and two-space indent, ending in a newline.

    A stable order makes a diff of two files show exactly what changed.
    """
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as stable JSON (see :func:`dumps_stable`), atomically."""
    atomic_write_text(path, dumps_stable(obj))
