"""Shared helpers of the CLI: output destinations and progress bars."""

from __future__ import annotations

import gc
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, TypeVar

T = TypeVar("T")

__all__ = ["output_stream", "progress", "throughput_mode"]


@contextmanager
def output_stream(path: str | None) -> Iterator[TextIO]:
    """Yield stdout, or a temporary file beside ``path`` that is fsynced and renamed over ``path`` when the
    block ends without error (atomic: readers never see half an output; on error the temp file goes)."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
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
