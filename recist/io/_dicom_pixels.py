"""Reading the pixels of a checked series into one preallocated (z, y, x) array, rescaled.

Private to :mod:`recist.io.dicom` (see its docstring, "Values", "Decoding" and "Sizes"): pixel format
and size checks made before anything is allocated, native little-endian reads straight into the output
(several threads for large series, reads looped past the per-call cap), pydicom and SimpleITK decoders.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pydicom

from recist.errors import DicomLoadError
from recist.io._dicom_slices import Slice, series_error

logger = logging.getLogger("recist.io.dicom")


_MAX_SLICE_PIXELS = 1 << 30  # 32768 x 32768: more than any single-frame image; a 65535 x 65535 header is damage
_READ_CHUNK = 0x7FFFF000  # the most one read() returns on Linux
_FLOAT32_MAX = float(np.finfo(np.float32).max)


# --------------------------------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------------------------------
def _stored_dtype(s: Slice) -> np.dtype:
    return np.dtype(f"<{'i' if s.signed else 'u'}{s.bits_allocated // 8}")


def _pixel_format_problem(s: Slice) -> tuple[str, str] | None:
    """(problem, fix) when the slice's pixel format is one this loader refuses, else None."""
    convert = "Convert the series to single-frame greyscale images (e.g. with dcmtk or gdcmconv)."
    if s.frames != 1:
        return f"multi-frame object ({s.frames} frames): enhanced multi-frame images are not supported", convert
    if s.samples_per_pixel != 1:
        return f"colour image (SamplesPerPixel {s.samples_per_pixel}): only greyscale is supported", convert
    if s.bits_allocated not in (8, 16, 32):
        return f"BitsAllocated {s.bits_allocated} is not supported (8, 16 or 32)", convert
    damaged = "The header is damaged; re-export the series."
    if not 0 < s.bits_stored <= s.bits_allocated or s.high_bit != s.bits_stored - 1:
        return f"invalid BitsStored {s.bits_stored} / HighBit {s.high_bit} for BitsAllocated {s.bits_allocated}", damaged
    if s.slope == 0:
        return "RescaleSlope is 0 (every value would be the intercept)", damaged
    if s.rows * s.columns > _MAX_SLICE_PIXELS:
        return (f"{s.rows}x{s.columns} pixels per slice is more than this loader accepts "
                f"({_MAX_SLICE_PIXELS:,} pixels)"), damaged
    expected = s.rows * s.columns * s.bits_allocated // 8
    if s.pixel_length >= 0 and s.pixel_length < expected:
        return (f"pixel data has {s.pixel_length} bytes, fewer than {s.rows}x{s.columns} pixels of "
                f"{s.bits_allocated} bits"), damaged
    if s.pixel_length >= 0 and s.pixel_length > expected + expected % 2:  # one pad byte makes the length even
        return (f"pixel data has {s.pixel_length} bytes, more than {s.rows}x{s.columns} pixels of "
                f"{s.bits_allocated} bits ({expected} bytes): Rows/Columns do not describe the image"), damaged
    low, high = _rescaled_range(s)
    if not (math.isfinite(low) and math.isfinite(high)) or max(-low, high) > _FLOAT32_MAX:
        return (f"RescaleSlope {s.slope:g} / RescaleIntercept {s.intercept:g} give values up to "
                f"{max(-low, high):g}, beyond what a float32 image holds ({_FLOAT32_MAX:.3g})"), damaged
    return None


def _stored_range(s: Slice) -> tuple[int, int]:
    """The smallest and largest stored value BitsStored and PixelRepresentation allow."""
    if s.signed:
        return -(1 << (s.bits_stored - 1)), (1 << (s.bits_stored - 1)) - 1
    return 0, (1 << s.bits_stored) - 1


def _rescaled_range(s: Slice) -> tuple[float, float]:
    """The smallest and largest rescaled value (slope x stored + intercept) the slice can hold."""
    ends = [s.slope * v + s.intercept for v in _stored_range(s)]
    return min(ends), max(ends)


def _check_memory(uid: str, slices: Sequence[Slice], nbytes: int) -> None:
    """Refuse a volume larger than the machine's memory before allocating it."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): no check
        return
    if nbytes > physical:
        raise series_error(uid, slices, f"the volume needs {nbytes / 2**30:.1f} GiB, more than this machine's "
                           f"{physical / 2**30:.1f} GiB of memory", [slices[0].path],
                           "Check Rows/Columns (a damaged header?) or load the series on a larger machine.")


def check_pixel_format(uid: str, slices: Sequence[Slice]) -> None:
    for s in slices:
        found = _pixel_format_problem(s)
        if found:
            raise series_error(uid, slices, found[0], [s.path], found[1])


def _output_dtype(slices: Sequence[Slice]) -> np.dtype:
    int32 = np.iinfo(np.int32)
    integer = all(s.slope == 1 and float(s.intercept).is_integer()
                  and int32.min <= _rescaled_range(s)[0] and _rescaled_range(s)[1] <= int32.max for s in slices)
    if not integer or any(s.bits_allocated == 32 for s in slices):
        return np.dtype(np.float32)
    return np.dtype(np.int16)


def _clean_bits(stored: np.ndarray, s: Slice) -> np.ndarray:
    """Mask (unsigned) or sign-extend (signed) the bits above BitsStored, in place (PS3.5 8.1.1)."""
    unused = s.bits_allocated - s.bits_stored
    if unused and stored.dtype.itemsize * 8 == s.bits_allocated:
        if s.signed:
            np.left_shift(stored, unused, out=stored)
            np.right_shift(stored, unused, out=stored)
        else:
            np.bitwise_and(stored, (1 << s.bits_stored) - 1, out=stored)
    return stored


class _MustWiden(Exception):
    """A rescaled value does not fit the output type while widening is not allowed (parallel reads)."""


class _Output:
    """The preallocated output array; widens int16 to int32 once if a rescaled value does not fit.

    While ``fixed`` is set (slices being written by several threads) it never widens: it raises
    :class:`_MustWiden` instead, and the caller reads the series again serially.
    """

    def __init__(self, shape: tuple[int, int, int], dtype: np.dtype) -> None:
        self.array = np.empty(shape, dtype=dtype)
        self.fixed = False

    def store(self, k: int, stored: np.ndarray, s: Slice) -> None:
        """Write stored values of slice ``k`` rescaled by the slice's slope and intercept."""
        out = self.array
        if out.dtype.kind == "f":
            np.multiply(stored, np.float32(s.slope), out=out[k], casting="unsafe")
            if s.intercept:
                out[k] += np.float32(s.intercept)
            return
        intercept = int(s.intercept)
        if not self._fits(stored, intercept):
            out = self._widen()
        np.add(stored, intercept, out=out[k], dtype=out.dtype, casting="unsafe")

    def rescale_in_place(self, k: int, s: Slice) -> None:
        """Add the integer intercept to slice ``k``, which already holds the stored values."""
        intercept = int(s.intercept)
        if intercept:
            if not self._fits(self.array[k], intercept):
                self._widen()
            self.array[k] += self.array.dtype.type(intercept)

    def _fits(self, stored: np.ndarray, intercept: int) -> bool:
        info = np.iinfo(self.array.dtype)
        return info.min <= int(stored.min()) + intercept and int(stored.max()) + intercept <= info.max

    def _widen(self) -> np.ndarray:
        if self.fixed:
            raise _MustWiden
        logger.info("rescaled values exceed int16; using int32")
        self.array = self.array.astype(np.int32)
        return self.array

    def direct_target(self, k: int, s: Slice) -> np.ndarray | None:
        """A view of output slice ``k`` (typed as the stored values) the file's bytes can be read into.

        Possible when the output is integer of the stored width and the stored values fit its type
        (signed, or unsigned with fewer than all bits used); the intercept is then added in place.
        """
        out = self.array
        if out.dtype.kind == "f" or out.dtype.itemsize * 8 != s.bits_allocated:
            return None
        if s.signed:
            return out[k]
        if s.bits_stored < s.bits_allocated:
            return out[k].view(_stored_dtype(s))
        return None


def _read_native(k: int, s: Slice, output: _Output, scratch: dict) -> None:
    target = output.direct_target(k, s)
    if target is None:
        key = (_stored_dtype(s), s.rows, s.columns)
        if key not in scratch:
            scratch[key] = np.empty((s.rows, s.columns), dtype=key[0])
        buffer = scratch[key]
    else:
        buffer = target
    with open(s.path, "rb", buffering=0) as fp:
        fp.seek(s.pixel_offset)  # type: ignore[arg-type]
        got = _read_into(fp, memoryview(buffer).cast("B"))
    if got != buffer.nbytes:
        raise DicomLoadError(f"{s.path}: pixel data ends after {got} of {buffer.nbytes} bytes (file truncated "
                             "after the scan?); re-copy the file")
    _clean_bits(buffer, s)
    if target is None:
        output.store(k, buffer, s)
    else:
        output.rescale_in_place(k, s)


def _read_into(fp: Any, view: memoryview) -> int:
    """Fill ``view`` from ``fp``; return the bytes read (fewer only at the end of the file).

    One ``readinto`` returns at most :data:`_READ_CHUNK` bytes on Linux (0x7ffff000), so a slice of 2 GiB
    or more needs several calls.
    """
    got = 0
    while got < len(view):
        n = fp.readinto(view[got : got + _READ_CHUNK])
        if not n:
            break
        got += n
    return got


def _read_with_pydicom(s: Slice) -> np.ndarray | None:
    """Decode one slice's stored values with pydicom; None when pydicom has no decoder for it."""
    from pydicom.pixels import get_decoder

    try:
        if s.transfer_syntax and not get_decoder(pydicom.uid.UID(s.transfer_syntax)).is_available:
            return None
    except NotImplementedError:  # pydicom's answer for a transfer syntax it has no decoder for: use GDCM
        return None
    try:
        ds = pydicom.dcmread(s.path)
        return np.asarray(ds.pixel_array)
    except Exception as exc:  # decoder errors come in many types; name the file instead
        raise DicomLoadError(f"{s.path}: pydicom cannot decode the pixel data ({type(exc).__name__}: {exc}); "
                             "the file may be damaged") from exc


def _read_with_simpleitk(s: Slice) -> np.ndarray:
    """Decode one slice with SimpleITK/GDCM and return its STORED values (GDCM applies the rescale)."""
    import SimpleITK as sitk

    try:
        image = sitk.ReadImage(str(s.path))
    except RuntimeError as exc:
        raise DicomLoadError(f"{s.path}: neither pydicom nor SimpleITK can decode transfer syntax "
                             f"{s.transfer_syntax} ({str(exc).strip().splitlines()[-1]})") from exc
    values = sitk.GetArrayFromImage(image).reshape(s.rows, s.columns).astype(np.float64)
    # Undo GDCM's modality LUT so every decoder feeds the same rescale code.
    return np.round((values - s.intercept) / s.slope).astype(np.int64)


_PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, starting threads costs more than it saves
_MAX_READ_THREADS = 4  # the copies are bound by memory bandwidth: more threads gain nothing


def _usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _read_native_in_parallel(slices: Sequence[Slice], output: _Output, threads: int) -> bool:
    """Read native slices into ``output`` with ``threads`` threads, each a contiguous run of slices.

    Returns False, with ``output`` unspecified, when a rescaled value does not fit the output type (the
    caller then reads serially, which widens); an error of any slice is raised after every thread ended.
    """
    bounds = [len(slices) * i // threads for i in range(threads + 1)]
    errors: list[BaseException] = []

    def read_run(start: int, stop: int) -> None:
        scratch: dict = {}
        try:
            for k in range(start, stop):
                _read_native(k, slices[k], output, scratch)
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread below
            errors.append(exc)

    workers = [threading.Thread(target=read_run, args=(bounds[i], bounds[i + 1]), daemon=True)
               for i in range(1, threads)]
    output.fixed = True
    try:
        for worker in workers:
            worker.start()
        read_run(bounds[0], bounds[1])
        for worker in workers:
            worker.join()
    finally:
        output.fixed = False
    for exc in errors:
        if not isinstance(exc, _MustWiden):
            raise exc
    return not errors


def read_pixels(uid: str, slices: Sequence[Slice]) -> np.ndarray:
    check_pixel_format(uid, slices)
    first = slices[0]
    dtype = _output_dtype(slices)
    _check_memory(uid, slices, len(slices) * first.rows * first.columns * dtype.itemsize)
    output = _Output((len(slices), first.rows, first.columns), dtype)
    threads = min(_MAX_READ_THREADS, _usable_cores(), len(slices))
    if (
        threads > 1 and output.array.nbytes >= _PARALLEL_MIN_BYTES
        and all(s.pixel_offset is not None for s in slices)
        and _read_native_in_parallel(slices, output, threads)
    ):
        return output.array
    scratch: dict = {}
    for k, s in enumerate(slices):
        if s.pixel_offset is not None:
            _read_native(k, s, output, scratch)
            continue
        stored = _read_with_pydicom(s)
        if stored is None:
            logger.info("pydicom has no decoder for %s (%s); reading with SimpleITK", s.path, s.transfer_syntax)
            stored = _read_with_simpleitk(s)
        if stored.shape != (s.rows, s.columns):
            raise series_error(uid, slices, f"decoded pixel data has shape {stored.shape}, the header says "
                               f"{s.rows}x{s.columns}", [s.path], "The file is damaged.")
        output.store(k, stored, s)
    return output.array
