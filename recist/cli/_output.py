"""Shared helpers of the CLI: output destinations and progress bars.

Output rule (every command that writes files follows it)
--------------------------------------------------------
- An output *folder* (``sample OUT``, ``report --out``, ``batch --out`` ...) may be new or empty. A
  non-empty folder is refused unless ``--force`` is given (then files of the same name are replaced,
  others are left alone); a file where a folder is expected is refused. See :func:`output_folder`.
- An output *file* (``assess -o``, ``review results --out``) must be new: an existing file is refused
  unless ``--force`` is given (then it is replaced atomically); a folder where a file is expected is
  refused. See :func:`output_stream`.

Nothing is overwritten silently. ``import`` still gives two cases that would share a file name in one run
distinct names (``-2``, ``-3``); ``review init`` and ``review package`` keep their own stricter rule (a
project only in a new or empty folder; a package only in a new folder or the same reader's package).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, TypeVar

from recist.errors import RecistValidationError

T = TypeVar("T")

__all__ = ["output_stream", "output_folder", "check_output_file", "add_force_argument", "progress", "throughput_mode"]


def add_force_argument(parser: argparse.ArgumentParser, *, file: bool = False) -> None:
    """Add ``--force``: write into a non-empty output folder (:func:`output_folder`) or, with ``file``,
    replace an existing output file (:func:`output_stream`)."""
    if file:
        parser.add_argument("--force", action="store_true", help="replace the output file if it exists")
    else:
        parser.add_argument("--force", action="store_true",
                            help="write into a non-empty output folder (files of the same name are replaced)")


def output_folder(path: str | os.PathLike[str], *, force: bool = False, option: str = "OUT") -> Path:
    """Check and create an output folder by the one rule of every command.

    Parameters
    ----------
    path
        The folder the command writes into.
    force
        Accept a folder that already holds files (the command's ``--force``).
    option
        How the command line names the folder (``OUT``, ``--out``), for the message.

    Returns
    -------
    Path
        The folder, created (with its parents) when it did not exist.

    Raises
    ------
    RecistValidationError
        ``path`` is a file, is a non-empty folder without ``force``, or cannot be created.
    """
    folder = Path(path)
    source = str(folder)
    if folder.exists() and not folder.is_dir():
        raise RecistValidationError(f"{option} is a file, not a folder; name a new or empty folder", source=source)
    if folder.is_dir():
        try:
            occupied = next(os.scandir(folder), None) is not None
        except OSError as exc:
            raise RecistValidationError(f"{option} cannot be listed: {exc.strerror}", source=source) from None
        if occupied and not force:
            raise RecistValidationError(
                f"{option} is not empty; name a new or empty folder, or pass --force to write into it "
                "(files of the same name are replaced)", source=source)
        return folder
    for parent in folder.parents:
        if parent.exists() and not parent.is_dir():
            raise RecistValidationError(f"{option}: {parent} is a file, not a folder", source=source)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecistValidationError(f"{option} cannot be created: {exc.strerror}", source=source) from None
    return folder


def check_output_file(target: Path, *, force: bool = False) -> None:
    """Refuse an output file path that is a folder, lies under a file, or exists (unless ``force``)."""
    if target.is_dir():
        raise RecistValidationError("is a folder; give a file name for the output (e.g. results.json)",
                                    source=str(target))
    if target.exists() and not force:
        raise RecistValidationError("exists; give a new file name, or pass --force to replace it",
                                    source=str(target))
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            raise RecistValidationError(f"{parent} is a file, not a folder; give a path in a folder",
                                        source=str(target))


@contextmanager
def output_stream(path: str | None, *, force: bool = False) -> Iterator[TextIO]:
    """Yield stdout, or a temporary file beside ``path`` that is fsynced and renamed over ``path`` when the
    block ends without error (atomic: readers never see half an output; on error the temp file goes).

    An existing ``path`` is refused (:class:`RecistValidationError`) unless ``force``; the check is made
    before the block runs, so nothing is computed for an output that would be refused.
    """
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    check_output_file(target, force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def throughput_mode() -> None:
    """Tune the garbage collector for a long batch of independent small tasks.

    The objects alive at start-up (modules, schemas) are frozen out of collection and the young
    generation is collected less often: assessing one case makes no reference cycles worth chasing.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def progress(items: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "it") -> Iterable[T]:
    """Wrap ``items`` in a tqdm progress bar on stderr when stderr is a terminal; otherwise return them."""
    if not sys.stderr.isatty():
        return items
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(items, total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)
