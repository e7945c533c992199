"""Atomic file writes: temp file in the same folder, fsync, rename (and fsync of the folder)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "dumps_stable",
    "is_private_folder", "make_folders", "make_private_folder", "new_file_mode",
]


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once at import: os.umask can only be read by setting it


def is_private_folder(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` exists and only its owner may enter it (no group or other permission bits)."""
    try:
        return os.stat(folder).st_mode & 0o077 == 0
    except OSError:
        return False


def new_file_mode(folder: str | os.PathLike[str]) -> int:
    """The permission bits of a new file in ``folder``: 0600 in a private folder, else what ``open()`` gives.

    "A private folder stays private": this is how everything a review project or a server home writes
    (both are created 0700) gets 0600 whatever the umask, while a user's ordinary outputs (reports,
    exports into their own folders) keep the modes their umask gives. A file written straight into a
    private folder of the user's (a home folder that is 0700) is 0600 too: nobody else could reach it
    there anyway, so no one loses access.
    """
    return 0o600 if is_private_folder(folder) else 0o666 & ~_UMASK


def make_folders(path: str | os.PathLike[str]) -> None:
    """``mkdir -p path``, where each folder created inside a private folder is itself made 0700."""
    target = Path(path)
    missing: list[Path] = []
    while not target.exists():
        missing.append(target)
        if target.parent == target:
            break
        target = target.parent
    for folder in reversed(missing):
        private = is_private_folder(folder.parent)
        try:
            folder.mkdir(mode=0o700 if private else 0o777)
        except FileExistsError:
            continue
        if private:
            folder.chmod(0o700)  # mkdir's mode is filtered by the umask


def make_private_folder(path: str | os.PathLike[str]) -> None:
    """Create ``path`` (and missing parents, with ordinary modes) and make it 0700: the root of a private tree."""
    Path(path).mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new content, never a mix.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, then the file is
    renamed over ``path`` (atomic on POSIX) and the folder is fsynced so the rename survives a crash.
    Missing folders are created by :func:`make_folders`; a new file's mode is :func:`new_file_mode`.
    """
    target = Path(path)
    make_folders(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp creates 0600; keep the old file's mode, else 0600 in a private folder, else open()'s
        try:
            mode = target.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = new_file_mode(target.parent)
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


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
