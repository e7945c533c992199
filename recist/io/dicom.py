"""DICOM series discovery (:func:`find_series`) and loading into a :class:`Volume` (:func:`load_series`).

Reading happens once, at this edge: headers are parsed once per file (pixel data not read), files are
grouped by SeriesInstanceUID, sorted along the slice normal and their geometry is checked; pixels are
then read straight into one preallocated (z, y, x) array and rescaled in place.

Choices (see also docs/dicom.md)
--------------------------------
Discovery
    Every file under the folder (recursively, hidden files included) is tried. Files without the
    ``DICM`` marker are still tried when they start like a raw DICOM stream (group 0008). Anything that
    cannot be parsed, has no pixel data (DICOMDIR, RTSTRUCT, SR ...), has a pixel data element longer
    than the file (truncated) or carries an unreadable geometry value is *skipped* with a reason: it never
    stops the scan. Series are keyed by SeriesInstanceUID only, so interleaved series separate.
Geometry (checked for every series; fatal problems raise :class:`~recist.errors.DicomLoadError` at
load time and are shown as ``SeriesInfo.problem`` by the scan)
    - inconsistent Rows/Columns, PixelSpacing or ImageOrientationPatient (tolerance 1e-4) between slices,
      or an invalid orientation (direction cosines not unit length / not orthogonal): error;
    - two slices at one position (within 0.01 mm): when they are the same SOP instance (a copied file)
      the copy is dropped with a warning; different instances at one position (several phases or
      echoes in one series) are an error, since no single volume is the right one;
    - a step between neighbouring slices that is a whole multiple (>= 2) of the typical step: missing
      slice(s), error naming the files either side of the gap; any other step differing from the
      typical one by more than 1 % (and 0.005 mm): non-uniform spacing, error. Within that tolerance the
      z spacing is the mean step (first to last position divided by n - 1);
    - slice positions that move within the slice plane as z increases (a tilted-gantry acquisition, the
      position steps not parallel to the slice normal; tolerance 1e-3 mm per mm): error unless
      ``allow_gantry_tilt=True``, which gives the exact sheared reading (the third column of
      ``direction`` is then the unit step vector, not the normal, and a warning is recorded). Positions
      that do not lie on one line at all are always an error;
    - a non-zero GantryDetectorTilt tag while the positions are consistent with the orientation: the
      scanner has already expressed the tilt in ImageOrientationPatient, the volume is an exact
      oblique stack; warning only;
    - a single-slice series takes its z spacing from SpacingBetweenSlices, else SliceThickness, else it
      is an error (there is no 1 mm default);
    - differing SliceThickness between slices: warning, the first slice's value is reported.
Values
    The modality LUT is RescaleSlope/RescaleIntercept of each slice (absent: 1 and 0, as PS3.3
    C.11.1 says). When every slope is 1 and every intercept a whole number the array is integer: int16
    when all rescaled values fit (CT in HU: half the memory of float32), else int32. Otherwise (PET,
    per-slice slopes) it is float32. Bits outside BitsStored are masked (unsigned) or sign-extended.
Decoding
    Native little-endian pixel data is read with ``readinto`` straight from the file into the output
    (or a one-slice scratch buffer when a conversion is needed). A large series whose slices are all
    native is read by up to four threads, each a contiguous run of slices (file reads and numpy's
    in-place rescale release the GIL, so the copies from the page cache overlap); if a rescaled value
    would not fit the output type there, the series is read again serially, which widens it. Other
    transfer syntaxes use pydicom's decoders; what pydicom cannot decode is read with SimpleITK (GDCM).
    Multi-frame objects, colour images and BitsAllocated other than 8/16/32 are refused with a
    :class:`DicomLoadError`.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from numpy.typing import ArrayLike
from pydicom.charset import default_encoding
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from recist._gc import collector_paused
from recist.errors import DicomLoadError
from recist.measure.geometry import affine_from_geometry, index_to_patient, patient_to_index

__all__ = ["SeriesInfo", "SkippedFile", "SeriesScan", "Volume", "find_series", "load_series", "select_series"]

logger = logging.getLogger(__name__)

_PIXEL_DATA = 0x7FE00010
_DEFER_BYTES = 4096
_HEAD_BYTES = 16384  # bytes read first from each file; the layout fast path needs the whole header in them
_MAX_LAYOUTS = 8  # layouts remembered during one scan (one per series is the usual need)
_CHARSET = 0x00080005
_NATIVE_LE = {ImplicitVRLittleEndian, ExplicitVRLittleEndian}
_ORIENTATION_TOL = 1e-4
_SPACING_TOL_MM = 1e-4
_DUPLICATE_TOL_MM = 0.01
_STEP_REL_TOL = 0.01
_STEP_ABS_TOL_MM = 0.005
_TILT_TOL = 1e-3
_MAX_FILES_NAMED = 6
_MAX_SLICE_PIXELS = 1 << 30  # 32768 x 32768: more than any single-frame image; a 65535 x 65535 header is damage
_READ_CHUNK = 0x7FFFF000  # the most one read() returns on Linux
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_KEYWORDS = (
    "SeriesInstanceUID SOPInstanceUID InstanceNumber Rows Columns PixelSpacing ImageOrientationPatient "
    "ImagePositionPatient SliceThickness SpacingBetweenSlices GantryDetectorTilt RescaleSlope RescaleIntercept "
    "BitsAllocated BitsStored HighBit PixelRepresentation SamplesPerPixel NumberOfFrames"
).split()
_TAGS = {keyword: tag_for_keyword(keyword) for keyword in _KEYWORDS}
_VR = {keyword: dictionary_VR(tag) for keyword, tag in _TAGS.items()}


# --------------------------------------------------------------------------------------------------
# Public data
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SkippedFile:
    """A file the scan could not use, and why."""

    path: Path
    reason: str


@dataclass(frozen=True, eq=False)
class _Slice:
    """One file's header and the facts taken from it (all validated at scan time)."""

    path: Path
    header: Dataset
    series_uid: str
    sop_uid: str
    instance_number: int | None
    rows: int
    columns: int
    pixel_spacing: tuple[float, float] | None
    orientation: tuple[float, ...] | None
    position: tuple[float, float, float] | None
    slice_thickness: float | None
    spacing_between_slices: float | None
    gantry_tilt: float
    slope: float
    intercept: float
    bits_allocated: int
    bits_stored: int
    high_bit: int
    signed: bool
    samples_per_pixel: int
    frames: int
    transfer_syntax: str
    pixel_offset: int | None  # file offset of native little-endian pixel bytes, else None
    pixel_length: int


@dataclass(frozen=True)
class SeriesInfo:
    """One series found by :func:`find_series`.

    Attributes
    ----------
    pixel_spacing_mm
        (y, x): DICOM PixelSpacing (row spacing, column spacing) in mm.
    slice_spacing_mm
        Mean distance between neighbouring slices along the stacking direction (mm); None for a single
        slice or when the geometry is unusable.
    files
        Sorted by position along the slice normal (InstanceNumber when positions are missing).
    problem
        Why :func:`load_series` would refuse this series, in short (None when it loads); loading
        gives the full message naming the files.
    warnings
        What :func:`load_series` would warn about.
    damaged
        Files of this series (their SeriesInstanceUID was read) that cannot be used as slices: a
        truncated file, unreadable geometry ... The series then does not load (``problem`` says so):
        dropping a first or last slice would give a silently shorter volume.
    """

    patient_id: str
    patient_name: str
    study_uid: str
    series_uid: str
    study_date: date | None
    modality: str
    description: str
    series_number: int | None
    rows: int
    columns: int
    pixel_spacing_mm: tuple[float, float] | None
    slice_thickness_mm: float | None
    slice_spacing_mm: float | None
    files: tuple[Path, ...]
    problem: str | None = None
    warnings: tuple[str, ...] = ()
    damaged: tuple[SkippedFile, ...] = ()
    _slices: tuple[_Slice, ...] = field(default=(), repr=False, compare=False)
    _geometry: _Geometry | None = field(default=None, repr=False, compare=False)

    @property
    def num_slices(self) -> int:
        """Number of files (slices) in the series."""
        return len(self.files)

    def label(self) -> str:
        """A short human name: ``series <uid> (CT 'desc', 120 files)``."""
        return f"series {self.series_uid} ({self.modality} {self.description!r}, {self.num_slices} files)"

    def to_dict(self) -> dict:
        """JSON-ready summary (paths as strings, date ISO)."""
        return {
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "study_uid": self.study_uid,
            "series_uid": self.series_uid,
            "study_date": self.study_date.isoformat() if self.study_date else None,
            "modality": self.modality,
            "description": self.description,
            "series_number": self.series_number,
            "num_slices": self.num_slices,
            "rows": self.rows,
            "columns": self.columns,
            "pixel_spacing_mm": list(self.pixel_spacing_mm) if self.pixel_spacing_mm else None,
            "slice_thickness_mm": self.slice_thickness_mm,
            "slice_spacing_mm": self.slice_spacing_mm,
            "problem": self.problem,
            "warnings": list(self.warnings),
            "damaged": [{"file": str(d.path), "reason": d.reason} for d in self.damaged],
            "files": [str(p) for p in self.files],
        }


@dataclass(frozen=True)
class SeriesScan:
    """Result of :func:`find_series`: the series found and the files skipped."""

    series: list[SeriesInfo]
    skipped: list[SkippedFile]


@dataclass(frozen=True, eq=False)
class Volume:
    """A loaded image series.

    Attributes
    ----------
    array
        (z, y, x) rescaled values: HU for CT (int16, or int32 if out of range), the stored unit after
        the per-slice RescaleSlope/Intercept for PET and others (float32).
    spacing_mm
        (z, y, x) in mm.
    origin_mm
        LPS (x, y, z) in mm of the centre of voxel (0, 0, 0).
    direction
        3x3; its columns are the LPS unit vectors of the array's x, y and z index axes (SimpleITK's
        direction reshaped to 3x3).
    sop_instance_uids, headers, files
        One per z slice in array order; headers are pydicom Datasets without pixel data.
    warnings
        Geometry warnings accepted while loading (see the module docstring).
    """

    array: np.ndarray
    spacing_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float]
    direction: np.ndarray
    slice_thickness_mm: float | None
    modality: str
    study_uid: str
    series_uid: str
    study_date: date | None
    sop_instance_uids: tuple[str, ...]
    headers: tuple[Dataset, ...]
    files: tuple[Path, ...]
    warnings: tuple[str, ...] = ()

    @property
    def affine(self) -> np.ndarray:
        """4x4 matrix mapping a homogeneous index (z, y, x, 1) to LPS (x, y, z, 1) in mm.

        Column j of the upper 3x3 is the direction of index axis j (z, y, x order) times its spacing;
        the last column is :attr:`origin_mm` (DICOM PS3.3 C.7.6.2.1.1).
        """
        return affine_from_geometry(origin_mm=self.origin_mm, spacing_mm=self.spacing_mm, direction=self.direction)

    def index_to_patient(self, index_zyx: ArrayLike) -> np.ndarray:
        """Voxel index (z, y, x), ``(3,)`` or ``(N, 3)``, possibly fractional -> LPS (x, y, z) in mm."""
        return index_to_patient(index_zyx, origin_mm=self.origin_mm, spacing_mm=self.spacing_mm,
                                direction=self.direction)

    def patient_to_index(self, point_lps_mm: ArrayLike) -> np.ndarray:
        """LPS (x, y, z) in mm, ``(3,)`` or ``(N, 3)`` -> fractional voxel index (z, y, x)."""
        return patient_to_index(point_lps_mm, origin_mm=self.origin_mm, spacing_mm=self.spacing_mm,
                                direction=self.direction)


# --------------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------------
def _files_text(paths: Iterable[Path]) -> str:
    paths = list(paths)
    named = ", ".join(str(p) for p in paths[:_MAX_FILES_NAMED])
    more = len(paths) - _MAX_FILES_NAMED
    return f"{named} and {more} more" if more > 0 else named


def _series_text(series_uid: str, slices: Sequence[_Slice]) -> str:
    head = slices[0].header
    folders = sorted({str(s.path.parent) for s in slices})
    return (
        f"series {series_uid} ({_header_text(head, 'Modality') or '?'} {_header_text(head, 'SeriesDescription')!r}, "
        f"{len(slices)} files in {', '.join(folders[:3])}{' ...' if len(folders) > 3 else ''})"
    )


def _error(series_uid: str, slices: Sequence[_Slice], problem: str, files: Iterable[Path], fix: str) -> DicomLoadError:
    """A DicomLoadError naming the series, the files, the problem and the fix; ``.problem`` is the short form."""
    error = DicomLoadError(f"{_series_text(series_uid, slices)}: {problem} (files: {_files_text(files)}). {fix}")
    error.problem = problem  # type: ignore[attr-defined]
    return error


# --------------------------------------------------------------------------------------------------
# Header reading
# --------------------------------------------------------------------------------------------------
class _Skip(Exception):
    """A file that is not a usable image slice; the message is the reason."""


class _Unattributed(_Skip):
    """A damaged DICOM file whose series cannot be read from it: it taints every series in its folder."""


class _Damaged(_Skip):
    """A file of a known series (its SeriesInstanceUID was read) that cannot be used as a slice."""

    def __init__(self, series_uid: str, reason: str) -> None:
        super().__init__(reason)
        self.series_uid = series_uid


def _header_elements(ds: Dataset) -> dict[int, Any]:
    """The (possibly still raw) elements of ``ds`` the slice facts are taken from, by tag."""
    found = ((tag, ds.get_item(tag, keep_deferred=True)) for tag in _TAGS.values())
    return {tag: element for tag, element in found if element is not None}


def _raw(elements: Mapping[int, Any], keyword: str) -> tuple[object, bool]:
    """The element's value without pydicom's conversion (bytes) when still raw, and its endianness.

    Header fields are read from the raw bytes because pydicom's per-element conversion dominates the
    scan time of a large series; the values are validated here instead.
    """
    element = elements.get(_TAGS[keyword])
    if element is None:
        return None, True
    return element.value, getattr(element, "is_little_endian", True)


def _text(ds: Mapping[int, Any], keyword: str) -> str:
    """A text element (UI, CS, DS, IS ...) as a stripped str; '' when absent or empty."""
    value, _ = _raw(ds, keyword)
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("ascii").strip(" \0")
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _floats(ds: Mapping[int, Any], keyword: str, count: int) -> tuple[float, ...] | None:
    """A DS/IS element with ``count`` finite values; None when absent; _Skip when invalid."""
    text = _text(ds, keyword)
    if not text:
        return None
    try:
        numbers = tuple(float(v) for v in text.split("\\"))
    except ValueError as exc:
        raise _Skip(f"invalid {keyword} value {text!r}") from exc
    if len(numbers) != count or not all(math.isfinite(v) for v in numbers):
        raise _Skip(f"invalid {keyword} value {text!r} (expected {count} finite numbers)")
    return numbers


def _float(ds: Mapping[int, Any], keyword: str, default: float | None) -> float | None:
    values = _floats(ds, keyword, 1)
    return default if values is None else values[0]


def _int(ds: Mapping[int, Any], keyword: str, default: int | None) -> int | None:
    """A US (binary) or IS (text) element as int; ``default`` when absent; _Skip when invalid."""
    value, little_endian = _raw(ds, keyword)
    if value is None or value == b"" or value == "":
        return default
    if isinstance(value, bytes) and _VR[keyword] == "US":
        if len(value) != 2:
            raise _Skip(f"invalid {keyword} value {value!r}")
        return int.from_bytes(value, "little" if little_endian else "big")
    numbers = _floats(ds, keyword, 1)
    if numbers is None:
        return default
    if not numbers[0].is_integer():
        raise _Skip(f"invalid {keyword} value {numbers[0]!r} (expected an integer)")
    return int(numbers[0])


def _looks_like_raw_dicom(path: Path) -> bool:
    """True when a file without the DICM preamble starts with a group-0008 little-endian tag."""
    with open(path, "rb") as fp:
        start = fp.read(4)
    return len(start) == 4 and start[:2] == b"\x08\x00"


def _read_slice(path: Path, layouts: list[_Layout] | None = None) -> _Slice:
    """Parse one file's header (pixel data deferred, never read) or raise :class:`_Skip`.

    ``layouts`` (updated in place) remembers the element layout of files pydicom parsed; a file laid out
    byte for byte like one of them gets its header built from those elements (see :class:`_Layout`).
    """
    try:
        with open(path, "rb") as fp:
            size = os.fstat(fp.fileno()).st_size
            head = fp.read(_HEAD_BYTES)
            elements, learn = None, False
            for k, layout in enumerate(layouts or ()):
                try:
                    built = layout.dataset_for(head, size, fp)
                except Exception:  # pydicom's constructors refused: never let the shortcut cost a slice
                    logger.debug("layout shortcut failed for %s; pydicom reads it", path, exc_info=True)
                    layouts.clear()  # type: ignore[union-attr]
                    built = None
                if built is not None:
                    ds, elements = built
                    layouts.insert(0, layouts.pop(k))  # type: ignore[union-attr]
                    break
            else:
                fp.seek(0)
                try:
                    ds = pydicom.dcmread(fp, defer_size=_DEFER_BYTES)
                except InvalidDicomError:
                    if not _looks_like_raw_dicom(path):
                        raise _Skip("not a DICOM file (no 'DICM' marker)") from None
                    fp.seek(0)
                    ds = pydicom.dcmread(fp, defer_size=_DEFER_BYTES, force=True)
                else:
                    learn = layouts is not None
    except _Skip:
        raise
    except OSError as exc:
        raise _Unattributed(f"cannot read file: {exc.strerror or exc}") from exc
    except Exception as exc:  # pydicom raises many types on damaged input; the scan must go on
        raise _Unattributed(f"unreadable DICOM ({type(exc).__name__}: {exc})") from exc
    if learn:
        _learn_layout(layouts, ds, head, size)  # type: ignore[arg-type]
    try:
        return _slice_from_header(path, ds, size, elements)
    except _Skip:
        raise
    except Exception as exc:  # a damaged element only fails when its value is converted
        raise _Skip(f"unreadable DICOM header value ({type(exc).__name__}: {exc})") from exc


def _learn_layout(layouts: list[_Layout], ds: FileDataset, head: bytes, size: int) -> None:
    """Remember the layout of a file pydicom read (most recent first), if it gives one."""
    try:
        layout = _Layout.of(ds, head, size)
    except Exception:  # an unexpected pydicom data set: no shortcut, pydicom reads every file
        logger.debug("no layout learnt from %s", getattr(ds, "filename", "a file"), exc_info=True)
        return
    if layout is not None:
        layouts.insert(0, layout)
        del layouts[_MAX_LAYOUTS:]


class _Layout:
    """The element layout of a file pydicom parsed, to build the same header for files laid out alike.

    The files of one series are usually written by one program: the same elements with the same value
    lengths at the same offsets; only values differ. pydicom's reading of a file depends on its bytes
    only through the element headers (tag, VR, length) it walks, the transfer syntax and the character
    set. So when another file has, at every byte position outside the element values, the same bytes as
    the parsed file (preamble marker, file meta and data set element headers), and the same values for
    the elements that steer the reading (specific character set, the file meta elements pydicom's reader
    converts at once: the group length and transfer syntax), pydicom would walk it identically: its header is then built
    from the same elements with this file's value bytes, through the same pydicom constructors
    (``Dataset``, ``FileMetaDataset``, ``FileDataset``). Anything else is read by pydicom.

    Only files that pydicom read without ``force``, in (implicit or explicit VR) little endian, whose
    elements all have defined lengths (no undefined-length sequence or item), with no command group and
    nothing after the pixel data, which ends the file, give a layout.
    """

    def __init__(self, ds: FileDataset, head: bytes, size: int) -> None:
        meta, pixel = ds.file_meta, ds.get_item(_PIXEL_DATA, keep_deferred=True)
        self.size = size
        self.implicit, self.little = ds.original_encoding
        self.encoding = ds.original_character_set
        self.meta = [self._spec(e) for e in meta._dict.values() if isinstance(e, RawDataElement)]
        # file meta elements pydicom's reader converted at once (group length, TransferSyntaxUID): their
        # bytes must match, and the file gets copies of them
        self.converted_meta = [e for e in meta._dict.values() if not isinstance(e, RawDataElement)]
        self.elements = [self._spec(e) for e in ds._dict.values() if isinstance(e, RawDataElement)]
        # the specific character set, converted while pydicom builds the data set: its bytes must match
        self.converted = [e for e in ds._dict.values() if not isinstance(e, RawDataElement)]
        self.pixel_end = pixel.value_tell + pixel.length
        # every byte outside the element values, plus the values that steer pydicom's reading
        fixed = np.ones(pixel.value_tell, dtype=bool)
        fixed[:128] = False  # the preamble is free
        for tag, _vr, length, tell, _from_file, _value in self.meta + self.elements:
            if tag != _CHARSET:
                fixed[tell : tell + length] = False
        self.index = np.flatnonzero(fixed)
        self.expected = np.frombuffer(head, dtype=np.uint8)[self.index]

    @staticmethod
    def _spec(element: RawDataElement) -> tuple[int, str | None, int, int, bool, bytes | None]:
        """(tag, VR, length, value_tell, whether the value is the file's bytes, else the value pydicom gave:
        empty or deferred)."""
        from_file = element.length > 0 and element.value is not None
        return int(element.tag), element.VR, element.length, element.value_tell, from_file, element.value

    @classmethod
    def of(cls, ds: FileDataset, head: bytes, size: int) -> _Layout | None:
        """The layout of ``ds`` (read from ``head``, the first bytes of a file of ``size`` bytes), or None."""
        pixel = ds.get_item(_PIXEL_DATA, keep_deferred=True)
        meta = getattr(ds, "file_meta", None)
        if (
            pixel is None or not isinstance(pixel, RawDataElement) or pixel.length == 0xFFFFFFFF
            or pixel.value_tell + pixel.length != size or pixel.value_tell > len(head)
            or ds.preamble is None or not meta or not ds.original_encoding[1]
            or str(meta.get("TransferSyntaxUID", "")) not in _NATIVE_LE
        ):
            return None
        elements = [e for e in [*meta._dict.values(), *ds._dict.values()] if isinstance(e, RawDataElement)]
        converted = [e.tag for e in ds._dict.values() if not isinstance(e, RawDataElement)]
        if any(tag != _CHARSET for tag in converted) or any(e.tag >> 16 == 0 for e in elements):
            return None
        if any(e.value is not None and e.value_tell + e.length > len(head) for e in elements):
            return None
        return cls(ds, head, size)

    def dataset_for(self, head: bytes, size: int, fp: object) -> tuple[FileDataset, dict] | None:
        """The header pydicom would read from a file starting with ``head`` and its raw data set elements by
        tag, or None if the file is laid out otherwise."""
        if size != self.size or len(head) <= self.index[-1] or len(head) < min(self.pixel_end, _HEAD_BYTES):
            return None
        if not np.array_equal(np.frombuffer(head, dtype=np.uint8)[self.index], self.expected):
            return None
        implicit, little = self.implicit, self.little
        meta_elements: dict = {element.tag: copy.copy(element) for element in self.converted_meta}
        for tag, vr, length, tell, from_file, value in self.meta:
            meta_elements[tag] = RawDataElement(tag, vr, length, head[tell : tell + length] if from_file else value,
                                                tell, False, True)
        meta = FileMetaDataset(meta_elements)
        meta.set_original_encoding(is_implicit_vr=False, is_little_endian=True, character_encoding=default_encoding)
        raw = {
            tag: RawDataElement(tag, vr, length, head[tell : tell + length] if from_file else value, tell,
                                implicit, little)
            for tag, vr, length, tell, from_file, value in self.elements
        }
        dataset = Dataset({**raw, **{e.tag: copy.copy(e) for e in self.converted}}, parent_encoding=default_encoding)
        encoding = self.encoding if isinstance(self.encoding, str) else list(self.encoding)
        dataset.set_original_encoding(implicit, little, encoding)
        ds = FileDataset(fp, dataset, head[:128], meta, implicit, little)  # type: ignore[arg-type]
        ds.set_original_encoding(implicit, little, dataset._character_set)
        return ds, raw


def _slice_from_header(path: Path, ds: Dataset, size: int, elements: Mapping[int, Any] | None = None) -> _Slice:
    """The slice facts of header ``ds`` (``elements``: its elements by tag, when already at hand)."""
    if elements is None:
        elements = _header_elements(ds)
    element = ds.get_item(_PIXEL_DATA, keep_deferred=True)
    try:
        series_uid = _text(elements, "SeriesInstanceUID")
    except Exception:  # noqa: BLE001 - an undecodable UID: the file's series is unknown
        series_uid = ""
    if element is None:
        what = _header_text(ds, "Modality") or "DICOM object"
        if _is_image_object(ds, elements):
            reason = f"no pixel data in an image ({what}): the file is truncated or damaged"
            raise _Damaged(series_uid, reason) if series_uid else _Unattributed(reason)
        raise _Skip(f"no pixel data ({what}: not an image)")
    if not series_uid:
        raise _Unattributed("an image without SeriesInstanceUID")
    try:
        return _slice_facts(path, ds, size, elements, element, series_uid)
    except _Damaged:
        raise
    except _Skip as exc:
        raise _Damaged(series_uid, str(exc)) from None
    except Exception as exc:  # a damaged element only fails when its value is converted
        raise _Damaged(series_uid, f"unreadable DICOM header value ({type(exc).__name__}: {exc})") from exc


def _is_image_object(ds: Dataset, elements: Mapping[int, Any]) -> bool:
    """Whether a header is that of an image (an image storage SOP class, or image pixel attributes)."""
    if _TAGS["Rows"] in elements or _TAGS["Columns"] in elements:
        return True
    meta = getattr(ds, "file_meta", None)
    for owner, keyword in ((meta, "MediaStorageSOPClassUID"), (ds, "SOPClassUID")):
        try:
            uid = owner.get(keyword) if owner is not None else None
            if uid and "Image Storage" in pydicom.uid.UID(str(uid)).name:
                return True
        except Exception:  # noqa: BLE001,S112 - a damaged UID says nothing either way
            continue
    return False


def _slice_facts(path: Path, ds: Dataset, size: int, elements: Mapping[int, Any], element: Any,
                 series_uid: str) -> _Slice:
    """The slice facts of a header whose pixel data element and SeriesInstanceUID were found."""
    value_tell = getattr(element, "value_tell", None)
    length = getattr(element, "length", None)
    transfer_syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    encapsulated = length == 0xFFFFFFFF
    if value_tell is not None and length is not None and not encapsulated and value_tell + length > size:
        raise _Skip(f"truncated: pixel data needs {value_tell + length} bytes, the file has {size}")
    native = (
        value_tell is not None
        and not encapsulated
        and getattr(element, "is_little_endian", False)
        and (transfer_syntax in _NATIVE_LE or not transfer_syntax)
    )
    del ds[_PIXEL_DATA]
    rows = _int(elements, "Rows", None)
    columns = _int(elements, "Columns", None)
    if not rows or not columns or rows < 0 or columns < 0:
        raise _Skip("missing or invalid Rows/Columns")
    spacing = _floats(elements, "PixelSpacing", 2)
    if spacing is not None and min(spacing) <= 0:
        raise _Skip(f"invalid PixelSpacing {list(spacing)} (must be positive)")
    bits_allocated = _int(elements, "BitsAllocated", None)
    if bits_allocated is None:
        raise _Skip("missing BitsAllocated")
    bits_stored = _int(elements, "BitsStored", bits_allocated)
    return _Slice(
        path=path,
        header=ds,
        series_uid=series_uid,
        sop_uid=_text(elements, "SOPInstanceUID"),
        instance_number=_int(elements, "InstanceNumber", None),
        rows=rows,
        columns=columns,
        pixel_spacing=spacing,  # type: ignore[arg-type]
        orientation=_floats(elements, "ImageOrientationPatient", 6),
        position=_floats(elements, "ImagePositionPatient", 3),  # type: ignore[arg-type]
        slice_thickness=_float(elements, "SliceThickness", None),
        spacing_between_slices=_float(elements, "SpacingBetweenSlices", None),
        gantry_tilt=_float(elements, "GantryDetectorTilt", 0.0) or 0.0,
        slope=_float(elements, "RescaleSlope", 1.0),  # type: ignore[arg-type]
        intercept=_float(elements, "RescaleIntercept", 0.0),  # type: ignore[arg-type]
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,  # type: ignore[arg-type]
        high_bit=_int(elements, "HighBit", bits_stored - 1),  # type: ignore[arg-type, operator]
        signed=_int(elements, "PixelRepresentation", 0) == 1,
        samples_per_pixel=_int(elements, "SamplesPerPixel", 1),  # type: ignore[arg-type]
        frames=_int(elements, "NumberOfFrames", 1) or 1,
        transfer_syntax=transfer_syntax,
        pixel_offset=value_tell if native else None,
        pixel_length=length if length is not None and not encapsulated else -1,
    )


def _iter_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise DicomLoadError(f"{root}: no such file or folder; give the folder that holds the DICOM files")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found.extend(Path(dirpath) / name for name in sorted(filenames))
    return found


def _parse_date(value: object) -> date | None:
    text = str(value or "").strip()
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Geometry:
    slices: tuple[_Slice, ...]  # in array (z) order, duplicates removed
    spacing_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float]
    direction: np.ndarray
    warnings: tuple[str, ...]


def _fallback_order(slices: Sequence[_Slice]) -> list[_Slice]:
    """Order for listing a series whose geometry is unusable: position along the normal, else number."""
    first = slices[0]
    if first.orientation is not None and all(s.position is not None for s in slices):
        normal = np.cross(first.orientation[:3], first.orientation[3:])
        return sorted(slices, key=lambda s: (float(np.dot(s.position, normal)), s.instance_number or 0))
    return sorted(slices, key=lambda s: (s.instance_number is None, s.instance_number or 0, str(s.path)))


def _unlike_first(slices: Sequence[_Slice], attr: str, tolerance: float) -> tuple[np.ndarray, list[Path]]:
    """The first slice's ``attr`` (a vector) and the files whose ``attr`` differs from it by more than
    ``tolerance`` in any component."""
    values = np.array([getattr(s, attr) for s in slices])
    odd = np.flatnonzero(np.abs(values - values[0]).max(axis=1) > tolerance)
    return values[0], [slices[k].path for k in odd]


def _check_consistent(uid: str, slices: Sequence[_Slice]) -> None:
    sizes: dict[tuple[int, int], list[Path]] = {}
    for s in slices:
        sizes.setdefault((s.rows, s.columns), []).append(s.path)
    if len(sizes) > 1:
        detail = "; ".join(f"{len(p)} files of {r}x{c}" for (r, c), p in sizes.items())
        by_count = sorted(sizes.values(), key=len, reverse=True)
        odd = [p for paths in by_count[1:] for p in paths]  # the minority sizes
        raise _error(uid, slices, f"inconsistent Rows/Columns between slices ({detail})", odd,
                     "Remove the odd-sized files (often a scout or dose report) or load them as their own series.")
    for keyword in ("PixelSpacing", "ImageOrientationPatient", "ImagePositionPatient"):
        attr = {"PixelSpacing": "pixel_spacing", "ImageOrientationPatient": "orientation"}.get(keyword, "position")
        missing = [s.path for s in slices if getattr(s, attr) is None]
        if missing:
            raise _error(uid, slices, f"missing {keyword}", missing,
                         "The slices cannot be placed in patient coordinates; this series cannot be measured.")
    ref, odd = _unlike_first(slices, "pixel_spacing", _SPACING_TOL_MM)
    if odd:
        raise _error(uid, slices, f"PixelSpacing differs from the first slice's {list(ref)}", odd,
                     "Remove the files that do not belong to this reconstruction.")
    ref_orientation, odd = _unlike_first(slices, "orientation", _ORIENTATION_TOL)
    if odd:
        raise _error(uid, slices, f"mixed orientations: ImageOrientationPatient differs from the first slice's "
                     f"{[round(v, 5) for v in ref_orientation]}", odd,
                     "The series mixes image planes (e.g. axial and coronal); separate them before loading.")
    row, col = ref_orientation[:3], ref_orientation[3:]
    if (abs(np.linalg.norm(row) - 1) > 1e-3 or abs(np.linalg.norm(col) - 1) > 1e-3
            or abs(float(np.dot(row, col))) > 1e-3):
        raise _error(uid, slices, f"invalid ImageOrientationPatient {list(ref_orientation)} (direction cosines "
                     "must be orthogonal unit vectors)", [slices[0].path], "The header is damaged.")


def _drop_copies(uid: str, ordered: list[_Slice], depth: np.ndarray, warnings: list[str]) -> tuple[list, np.ndarray]:
    keep = [0]
    for k in range(1, len(ordered)):
        if depth[k] - depth[keep[-1]] > _DUPLICATE_TOL_MM:
            keep.append(k)
            continue
        previous = ordered[keep[-1]]
        if ordered[k].sop_uid and ordered[k].sop_uid == previous.sop_uid:
            warnings.append(f"{ordered[k].path} is a copy of {previous.path} (same SOPInstanceUID); ignored")
            continue
        clash = [s.path for j, s in enumerate(ordered) if abs(depth[j] - depth[k]) <= _DUPLICATE_TOL_MM]
        raise _error(uid, ordered, f"duplicate positions: {len(clash)} different images at "
                     f"{depth[k]:.3f} mm along the slice normal", clash,
                     "The series holds several images per position (phases, echoes or a repeated "
                     "acquisition); split it, e.g. by AcquisitionNumber or TemporalPositionIdentifier.")
    return [ordered[k] for k in keep], depth[keep]


def _check_steps(uid: str, ordered: list[_Slice], depth: np.ndarray) -> float:
    """Return the mean step along the normal after checking for gaps and non-uniform steps."""
    steps = np.diff(depth)
    ordered_steps = np.sort(steps)  # the median, without np.median (which imports numpy.ma: 6 ms)
    typical = float((ordered_steps[(len(steps) - 1) // 2] + ordered_steps[len(steps) // 2]) / 2)
    smallest = float(steps.min())
    ratios = steps / smallest
    if np.all(np.abs(ratios - np.round(ratios)) * smallest <= max(_STEP_REL_TOL * smallest, _STEP_ABS_TOL_MM)):
        typical = smallest  # every step is a whole number of the smallest one: gaps, not irregular steps
    tolerance = max(_STEP_REL_TOL * typical, _STEP_ABS_TOL_MM)
    bad = np.flatnonzero(np.abs(steps - typical) > tolerance)
    if bad.size == 0:
        return float((depth[-1] - depth[0]) / (len(depth) - 1))
    ratios = steps[bad] / typical
    if np.all((np.abs(ratios - np.round(ratios)) * typical <= tolerance) & (np.round(ratios) >= 2)):
        gaps = [
            f"{int(round(r)) - 1} missing between {ordered[k].path.name} and {ordered[k + 1].path.name}"
            for k, r in zip(bad, ratios)
        ]
        raise _error(uid, ordered, f"missing slices: a gap in positions ({'; '.join(gaps)}; usual step "
                     f"{typical:.4g} mm)", [p for k in bad for p in (ordered[k].path, ordered[k + 1].path)],
                     "Find the missing files (an incomplete transfer?) or re-export the whole series.")
    found = sorted({round(float(s), 3) for s in steps})
    raise _error(uid, ordered, f"non-uniform slice spacing: steps of {found[:8]} mm between neighbouring slices",
                 [p for k in bad for p in (ordered[k].path, ordered[k + 1].path)],
                 "Variable-spacing stacks cannot be one regular volume; reconstruct with a constant increment.")


def _geometry(uid: str, slices: Sequence[_Slice], allow_gantry_tilt: bool) -> _Geometry:
    """Sort the slices and check the series geometry; raise DicomLoadError on a fatal problem."""
    _check_consistent(uid, slices)
    orientation = np.asarray(slices[0].orientation, dtype=float)
    row = orientation[:3] / np.linalg.norm(orientation[:3])
    col = orientation[3:] / np.linalg.norm(orientation[3:])
    normal = np.cross(row, col)
    normal /= np.linalg.norm(normal)
    ordered = sorted(slices, key=lambda s: (float(np.dot(s.position, normal)), s.instance_number or 0))
    positions = np.array([s.position for s in ordered], dtype=float)
    depth = positions @ normal
    warnings: list[str] = []
    ordered, depth = _drop_copies(uid, ordered, depth, warnings)
    positions = np.array([s.position for s in ordered], dtype=float)
    step_dir = normal
    if len(ordered) == 1:
        only = ordered[0]
        z_spacing = only.spacing_between_slices or only.slice_thickness
        if not z_spacing or z_spacing <= 0:
            raise _error(uid, ordered, "single slice without SpacingBetweenSlices or SliceThickness",
                         [only.path], "Its z extent is unknown; add SliceThickness to the header.")
    else:
        z_spacing = _check_steps(uid, ordered, depth)
        offsets = positions - positions[0]
        along = depth - depth[0]
        lateral = offsets - np.outer(along, normal)
        shear = (lateral.T @ along) / float(along @ along)  # in-plane drift per mm along the normal
        residual = np.abs(lateral - np.outer(along, shear)).max()
        if residual > max(0.01, 0.05 * min(slices[0].pixel_spacing)):
            raise _error(uid, ordered, f"slice positions do not lie on one line (off by up to {residual:.3f} mm)",
                         [s.path for s in ordered], "The series mixes stacks; separate them before loading.")
        tilt = float(np.linalg.norm(shear))
        if tilt > _TILT_TOL:
            degrees = math.degrees(math.atan(tilt))
            if not allow_gantry_tilt:
                raise _error(uid, ordered, f"gantry tilt: the position steps lean {degrees:.2f} degrees from the "
                             "slice normal (GantryDetectorTilt "
                             f"{ordered[0].gantry_tilt:g})", [ordered[0].path, ordered[-1].path],
                             "Resample to an orthogonal grid (e.g. dcm2niix) or pass allow_gantry_tilt=True for "
                             "the exact sheared geometry.")
            step = normal + shear
            z_spacing *= float(np.linalg.norm(step))
            step_dir = step / np.linalg.norm(step)
            warnings.append(f"gantry tilt of {degrees:.2f} degrees: the z axis is sheared (direction not orthogonal)")
        elif ordered[0].gantry_tilt:
            warnings.append(f"GantryDetectorTilt is {ordered[0].gantry_tilt:g} but the positions follow the slice "
                            "normal: read as an exact oblique stack")
    thicknesses = {s.slice_thickness for s in ordered}
    if len(thicknesses) > 1:
        warnings.append(f"SliceThickness differs between slices ({sorted(t for t in thicknesses if t)}); "
                        f"reporting {ordered[0].slice_thickness}")
    row_spacing, col_spacing = ordered[0].pixel_spacing  # type: ignore[misc]
    return _Geometry(
        slices=tuple(ordered),
        spacing_mm=(float(z_spacing), float(row_spacing), float(col_spacing)),
        origin_mm=tuple(float(v) for v in positions[0]),  # type: ignore[arg-type]
        direction=np.column_stack([row, col, step_dir]),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------------
def _damaged_error(uid: str, slices: Sequence[_Slice], damaged: Sequence[SkippedFile]) -> DicomLoadError:
    reasons = "; ".join(f"{d.path.name}: {d.reason}" for d in damaged[:3])
    return _error(uid, slices, f"{len(damaged)} file(s) of this series cannot be read ({reasons}"
                  f"{' ...' if len(damaged) > 3 else ''})", [d.path for d in damaged],
                  "Re-copy or re-export the damaged files; without them the volume would be silently shorter "
                  "or have a gap.")


def _series_info(uid: str, slices: list[_Slice], damaged: Sequence[SkippedFile] = ()) -> SeriesInfo:
    head = slices[0].header
    problem, warnings, spacing, geometry = None, (), None, None
    try:
        if damaged:
            raise _damaged_error(uid, slices, damaged)
        geometry = _geometry(uid, slices, allow_gantry_tilt=False)
        ordered, warnings = list(geometry.slices), geometry.warnings
        kept = {id(s) for s in geometry.slices}
        ordered += [s for s in slices if id(s) not in kept]  # dropped copies stay listed
        spacing = geometry.spacing_mm[0] if len(geometry.slices) > 1 else None
        _check_pixel_format(uid, geometry.slices)
    except DicomLoadError as exc:
        problem, ordered = getattr(exc, "problem", str(exc)), _fallback_order(slices)
    return SeriesInfo(
        patient_id=_header_text(head, "PatientID"),
        patient_name=_header_text(head, "PatientName"),
        study_uid=_header_text(head, "StudyInstanceUID"),
        series_uid=uid,
        study_date=_parse_date(_header_text(head, "StudyDate")),
        modality=_header_text(head, "Modality"),
        description=_header_text(head, "SeriesDescription"),
        series_number=_safe_int(_header_text(head, "SeriesNumber")),
        rows=slices[0].rows,
        columns=slices[0].columns,
        pixel_spacing_mm=slices[0].pixel_spacing,
        slice_thickness_mm=slices[0].slice_thickness,
        slice_spacing_mm=spacing,
        files=tuple(s.path for s in ordered),
        problem=problem,
        warnings=tuple(warnings),
        damaged=tuple(damaged),
        _slices=tuple(ordered),
        _geometry=geometry,
    )


def _header_text(ds: Dataset, keyword: str) -> str:
    """A descriptive element as text; '' when absent or undecodable (a damaged name must not stop a scan)."""
    try:
        return str(ds.get(keyword, "") or "").strip()
    except Exception as exc:  # pydicom raises several types for damaged values
        logger.info("unreadable %s (%s: %s)", keyword, type(exc).__name__, exc)
        return ""


def _safe_int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def find_series(folder: str | os.PathLike, *, progress: bool = False) -> SeriesScan:
    """Find every image series under ``folder`` (recursively); never stops on a bad file.

    Parameters
    ----------
    folder
        A folder (searched recursively) or a single file.
    progress
        Show a tqdm progress bar over the files.

    Returns
    -------
    SeriesScan
        ``.series``: :class:`SeriesInfo` sorted by patient, study date, study, series number;
        ``.skipped``: :class:`SkippedFile` for every file that is not a usable image slice.

    Raises
    ------
    DicomLoadError
        Only when ``folder`` does not exist.
    """
    root = Path(folder)
    groups: dict[str, list[_Slice]] = {}
    skipped: list[SkippedFile] = []
    damaged: dict[str, list[SkippedFile]] = {}
    unattributed: dict[Path, list[SkippedFile]] = {}
    layouts: list[_Layout] = []
    paths = _iter_files(root)
    if progress:
        from tqdm import tqdm

        paths = tqdm(paths, desc="reading DICOM headers", unit="file")
    with collector_paused():  # the headers make no reference cycles; collections only re-scan the heap
        for path in paths:
            try:
                item = _read_slice(path, layouts)
            except _Skip as exc:
                logger.info("skipped %s: %s", path, exc)
                skipped.append(SkippedFile(path, str(exc)))
                if isinstance(exc, _Damaged):
                    damaged.setdefault(exc.series_uid, []).append(skipped[-1])
                elif isinstance(exc, _Unattributed):
                    unattributed.setdefault(path.parent, []).append(skipped[-1])
                continue
            groups.setdefault(item.series_uid, []).append(item)
    for uid, slices in groups.items():  # a damaged file of unknown series taints every series of its folder
        for folder in sorted({s.path.parent for s in slices}):
            damaged.setdefault(uid, []).extend(unattributed.get(folder, ()))
    series = [_series_info(uid, slices, damaged.get(uid, ())) for uid, slices in groups.items()]
    series.sort(key=lambda s: (s.patient_id, s.study_date or date.min, s.study_uid, s.series_number or 0, s.series_uid))
    return SeriesScan(series=series, skipped=skipped)


# --------------------------------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------------------------------
def _stored_dtype(s: _Slice) -> np.dtype:
    return np.dtype(f"<{'i' if s.signed else 'u'}{s.bits_allocated // 8}")


def _pixel_format_problem(s: _Slice) -> tuple[str, str] | None:
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


def _stored_range(s: _Slice) -> tuple[int, int]:
    """The smallest and largest stored value BitsStored and PixelRepresentation allow."""
    if s.signed:
        return -(1 << (s.bits_stored - 1)), (1 << (s.bits_stored - 1)) - 1
    return 0, (1 << s.bits_stored) - 1


def _rescaled_range(s: _Slice) -> tuple[float, float]:
    """The smallest and largest rescaled value (slope x stored + intercept) the slice can hold."""
    ends = [s.slope * v + s.intercept for v in _stored_range(s)]
    return min(ends), max(ends)


def _check_memory(uid: str, slices: Sequence[_Slice], nbytes: int) -> None:
    """Refuse a volume larger than the machine's memory before allocating it."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): no check
        return
    if nbytes > physical:
        raise _error(uid, slices, f"the volume needs {nbytes / 2**30:.1f} GiB, more than this machine's "
                     f"{physical / 2**30:.1f} GiB of memory", [slices[0].path],
                     "Check Rows/Columns (a damaged header?) or load the series on a larger machine.")


def _check_pixel_format(uid: str, slices: Sequence[_Slice]) -> None:
    for s in slices:
        found = _pixel_format_problem(s)
        if found:
            raise _error(uid, slices, found[0], [s.path], found[1])


def _output_dtype(slices: Sequence[_Slice]) -> np.dtype:
    int32 = np.iinfo(np.int32)
    integer = all(s.slope == 1 and float(s.intercept).is_integer()
                  and int32.min <= _rescaled_range(s)[0] and _rescaled_range(s)[1] <= int32.max for s in slices)
    if not integer or any(s.bits_allocated == 32 for s in slices):
        return np.dtype(np.float32)
    return np.dtype(np.int16)


def _clean_bits(stored: np.ndarray, s: _Slice) -> np.ndarray:
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

    def store(self, k: int, stored: np.ndarray, s: _Slice) -> None:
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

    def rescale_in_place(self, k: int, s: _Slice) -> None:
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

    def direct_target(self, k: int, s: _Slice) -> np.ndarray | None:
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


def _read_native(k: int, s: _Slice, output: _Output, scratch: dict) -> None:
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


def _read_with_pydicom(s: _Slice) -> np.ndarray | None:
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


def _read_with_simpleitk(s: _Slice) -> np.ndarray:
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


def _read_native_in_parallel(slices: Sequence[_Slice], output: _Output, threads: int) -> bool:
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


def _read_pixels(uid: str, slices: Sequence[_Slice]) -> np.ndarray:
    _check_pixel_format(uid, slices)
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
            raise _error(uid, slices, f"decoded pixel data has shape {stored.shape}, the header says "
                         f"{s.rows}x{s.columns}", [s.path], "The file is damaged.")
        output.store(k, stored, s)
    return output.array


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------
def select_series(
    source: str | os.PathLike,
    *,
    series_uid: str | None = None,
    modality: str | None = None,
    fits: Callable[[SeriesInfo], bool] | None = None,
) -> SeriesInfo:
    """The one series of a folder a command needs: by UID, else the only one, else the only one that
    has ``modality`` (reader packages mix CT and PT) or that ``fits`` (e.g. the grid of a mask).

    Raises
    ------
    DicomLoadError
        No series, no series with that UID, or several candidates: the message lists them and says to
        choose with ``--series-uid`` (``series_uid=`` in Python).
    """
    scan = find_series(source)
    if series_uid is not None:
        match = [s for s in scan.series if s.series_uid == series_uid]
        if not match:
            raise DicomLoadError(f"{source}: no series {series_uid} here (found: "
                                 f"{', '.join(s.series_uid for s in scan.series) or 'none'})")
        return match[0]
    if len(scan.series) == 1:
        return scan.series[0]
    if not scan.series:
        reasons = "; ".join(f"{k.path.name}: {k.reason}" for k in scan.skipped[:3])
        raise DicomLoadError(f"{source}: no DICOM image series found ({len(scan.skipped)} files skipped"
                             f"{': ' + reasons if reasons else ''})")
    candidates = scan.series
    if modality is not None:
        candidates = [s for s in candidates if s.modality.upper() == modality.upper()]
    if fits is not None:
        candidates = [s for s in candidates if fits(s)]
    if len(candidates) == 1:
        logger.info("%s: chose %s", source, candidates[0].label())
        return candidates[0]
    names = "; ".join(s.label() for s in scan.series)
    which = f" ({len(candidates)} of them {modality or 'suitable'})" if modality or fits else ""
    raise DicomLoadError(f"{source}: {len(scan.series)} series found{which}: {names}; choose one with "
                         "--series-uid UID (series_uid= in Python, or a SeriesInfo from find_series)")


def _pick_series(source: str | os.PathLike, series_uid: str | None) -> SeriesInfo:
    return select_series(source, series_uid=series_uid)


def load_series(
    source: SeriesInfo | str | os.PathLike,
    *,
    series_uid: str | None = None,
    allow_gantry_tilt: bool = False,
) -> Volume:
    """Load one series into a :class:`Volume` after checking its geometry.

    Parameters
    ----------
    source
        A :class:`SeriesInfo` from :func:`find_series` (its headers are reused, not read again), or a
        folder / file holding exactly one series (else give ``series_uid``).
    series_uid
        Which series of the folder to load.
    allow_gantry_tilt
        Accept a tilted-gantry stack with a sheared (non-orthogonal) ``direction`` instead of raising.

    Raises
    ------
    DicomLoadError
        Naming the series, the files and the problem (see the module docstring for every check).

    Examples
    --------
    >>> volume = load_series("CT_folder")  # doctest: +SKIP
    >>> volume.array.shape, volume.spacing_mm  # doctest: +SKIP
    ((300, 512, 512), (1.25, 0.7, 0.7))
    """
    info = source if isinstance(source, SeriesInfo) else _pick_series(source, series_uid)
    if not info._slices:
        raise DicomLoadError(f"{info.label()}: this SeriesInfo carries no headers; build it with find_series")
    if info.damaged:
        raise _damaged_error(info.series_uid, info._slices, info.damaged)
    geometry = info._geometry
    if geometry is None or allow_gantry_tilt:
        geometry = _geometry(info.series_uid, info._slices, allow_gantry_tilt)
    for warning in geometry.warnings:
        logger.warning("%s: %s", info.label(), warning)
    slices = geometry.slices
    array = _read_pixels(info.series_uid, slices)
    return Volume(
        array=array,
        spacing_mm=geometry.spacing_mm,
        origin_mm=geometry.origin_mm,
        direction=geometry.direction,
        slice_thickness_mm=slices[0].slice_thickness,
        modality=info.modality,
        study_uid=info.study_uid,
        series_uid=info.series_uid,
        study_date=info.study_date,
        sop_instance_uids=tuple(s.sop_uid for s in slices),
        headers=tuple(s.header for s in slices),
        files=tuple(s.path for s in slices),
        warnings=geometry.warnings,
    )
