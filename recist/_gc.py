"""The cyclic garbage collector paused while a loop builds many small objects that make no cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the ``with`` block, then restore it as it was.

    Building thousands of objects (the headers of a DICOM folder) triggers collections that re-scan
    every object alive, the imported modules included: in a 300-file scan that was 40 % of the time.
    Reference counting still frees everything at once; objects in cycles, if any, wait for the next
    collection after the block. The collector is process-wide: use this only around bounded work.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
