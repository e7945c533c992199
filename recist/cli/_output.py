"""Shared helpers of the CLI: output destinations and progress bars."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

from recist._atomic import atomic_write_text

T = TypeVar("T")

__all__ = ["output_stream", "progress"]


@contextmanager
def output_stream(path: str | None) -> Iterator[TextIO]:
    """Yield stdout, or a buffer written atomically to ``path`` when the block ends without error."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    buffer = io.StringIO()
    yield buffer
    atomic_write_text(path, buffer.getvalue())


def progress(items: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "it") -> Iterable[T]:
    """Wrap ``items`` in a tqdm progress bar on stderr when stderr is a terminal; otherwise return them."""
    if not sys.stderr.isatty():
        return items
    from tqdm import tqdm  # noqa: PLC0415

    return tqdm(items, total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)
