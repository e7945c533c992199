"""Reading one DICOM file's header into the facts a series is built from (:class:`Slice`).

Private to :mod:`recist.io.dicom` and its parts (see its docstring for the choices; names without an
underscore are what the parts use): header parsing with the element
layout fast path (:class:`HeaderLayout`), the reasons a file is skipped (:class:`NotASlice` and its kinds) and the
messages that name a series and its files.
"""

from __future__ import annotations

import copy
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.charset import default_encoding
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from recist.errors import DicomLoadError

logger = logging.getLogger("recist.io.dicom")


_PIXEL_DATA = 0x7FE00010
_DEFER_BYTES = 4096
_HEAD_BYTES = 16384  # bytes read first from each file; the layout fast path needs the whole header in them
_MAX_LAYOUTS = 8  # layouts remembered during one scan (one per series is the usual need)
_CHARSET = 0x00080005
_NATIVE_LE = {ImplicitVRLittleEndian, ExplicitVRLittleEndian}
_MAX_FILES_NAMED = 6
_KEYWORDS = (
    "SeriesInstanceUID SOPInstanceUID InstanceNumber Rows Columns PixelSpacing ImageOrientationPatient "
    "ImagePositionPatient SliceThickness SpacingBetweenSlices GantryDetectorTilt RescaleSlope RescaleIntercept "
    "BitsAllocated BitsStored HighBit PixelRepresentation SamplesPerPixel NumberOfFrames"
).split()
_TAGS = {keyword: tag_for_keyword(keyword) for keyword in _KEYWORDS}
_VR = {keyword: dictionary_VR(tag) for keyword, tag in _TAGS.items()}


@dataclass(frozen=True, eq=False)
class Slice:
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


# --------------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------------
def _files_text(paths: Iterable[Path]) -> str:
    paths = list(paths)
    named = ", ".join(str(p) for p in paths[:_MAX_FILES_NAMED])
    more = len(paths) - _MAX_FILES_NAMED
    return f"{named} and {more} more" if more > 0 else named


def _series_text(series_uid: str, slices: Sequence[Slice]) -> str:
    head = slices[0].header
    folders = sorted({str(s.path.parent) for s in slices})
    return (
        f"series {series_uid} ({header_text(head, 'Modality') or '?'} {header_text(head, 'SeriesDescription')!r}, "
        f"{len(slices)} files in {', '.join(folders[:3])}{' ...' if len(folders) > 3 else ''})"
    )


def series_error(series_uid: str, slices: Sequence[Slice], problem: str, files: Iterable[Path], fix: str) -> DicomLoadError:
    """A DicomLoadError naming the series, the files, the problem and the fix; ``.problem`` is the short form."""
    error = DicomLoadError(f"{_series_text(series_uid, slices)}: {problem} (files: {_files_text(files)}). {fix}")
    error.problem = problem  # type: ignore[attr-defined]
    return error


# --------------------------------------------------------------------------------------------------
# Header reading
# --------------------------------------------------------------------------------------------------
class NotASlice(Exception):
    """A file that is not a usable image slice; the message is the reason."""


class UnattributedDamage(NotASlice):
    """A damaged DICOM file whose series cannot be read from it: it taints every series in its folder."""


class DamagedSlice(NotASlice):
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
    """A DS/IS element with ``count`` finite values; None when absent; NotASlice when invalid."""
    text = _text(ds, keyword)
    if not text:
        return None
    try:
        numbers = tuple(float(v) for v in text.split("\\"))
    except ValueError as exc:
        raise NotASlice(f"invalid {keyword} value {text!r}") from exc
    if len(numbers) != count or not all(math.isfinite(v) for v in numbers):
        raise NotASlice(f"invalid {keyword} value {text!r} (expected {count} finite numbers)")
    return numbers


def _float(ds: Mapping[int, Any], keyword: str, default: float | None) -> float | None:
    values = _floats(ds, keyword, 1)
    return default if values is None else values[0]


def _int(ds: Mapping[int, Any], keyword: str, default: int | None) -> int | None:
    """A US (binary) or IS (text) element as int; ``default`` when absent; NotASlice when invalid."""
    value, little_endian = _raw(ds, keyword)
    if value is None or value == b"" or value == "":
        return default
    if isinstance(value, bytes) and _VR[keyword] == "US":
        if len(value) != 2:
            raise NotASlice(f"invalid {keyword} value {value!r}")
        return int.from_bytes(value, "little" if little_endian else "big")
    numbers = _floats(ds, keyword, 1)
    if numbers is None:
        return default
    if not numbers[0].is_integer():
        raise NotASlice(f"invalid {keyword} value {numbers[0]!r} (expected an integer)")
    return int(numbers[0])


def _looks_like_raw_dicom(path: Path) -> bool:
    """True when a file without the DICM preamble starts with a group-0008 little-endian tag."""
    with open(path, "rb") as fp:
        start = fp.read(4)
    return len(start) == 4 and start[:2] == b"\x08\x00"


def read_slice(path: Path, layouts: list[HeaderLayout] | None = None) -> Slice:
    """Parse one file's header (pixel data deferred, never read) or raise :class:`NotASlice`.

    ``layouts`` (updated in place) remembers the element layout of files pydicom parsed; a file laid out
    byte for byte like one of them gets its header built from those elements (see :class:`HeaderLayout`).
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
                        raise NotASlice("not a DICOM file (no 'DICM' marker)") from None
                    fp.seek(0)
                    ds = pydicom.dcmread(fp, defer_size=_DEFER_BYTES, force=True)
                else:
                    learn = layouts is not None
    except NotASlice:
        raise
    except OSError as exc:
        raise UnattributedDamage(f"cannot read file: {exc.strerror or exc}") from exc
    except Exception as exc:  # pydicom raises many types on damaged input; the scan must go on
        raise UnattributedDamage(f"unreadable DICOM ({type(exc).__name__}: {exc})") from exc
    if learn:
        _learn_layout(layouts, ds, head, size)  # type: ignore[arg-type]
    try:
        return _slice_from_header(path, ds, size, elements)
    except NotASlice:
        raise
    except Exception as exc:  # a damaged element only fails when its value is converted
        raise NotASlice(f"unreadable DICOM header value ({type(exc).__name__}: {exc})") from exc


def _learn_layout(layouts: list[HeaderLayout], ds: FileDataset, head: bytes, size: int) -> None:
    """Remember the layout of a file pydicom read (most recent first), if it gives one."""
    try:
        layout = HeaderLayout.of(ds, head, size)
    except Exception:  # an unexpected pydicom data set: no shortcut, pydicom reads every file
        logger.debug("no layout learnt from %s", getattr(ds, "filename", "a file"), exc_info=True)
        return
    if layout is not None:
        layouts.insert(0, layout)
        del layouts[_MAX_LAYOUTS:]


class HeaderLayout:
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
    def of(cls, ds: FileDataset, head: bytes, size: int) -> HeaderLayout | None:
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


def _slice_from_header(path: Path, ds: Dataset, size: int, elements: Mapping[int, Any] | None = None) -> Slice:
    """The slice facts of header ``ds`` (``elements``: its elements by tag, when already at hand)."""
    if elements is None:
        elements = _header_elements(ds)
    element = ds.get_item(_PIXEL_DATA, keep_deferred=True)
    try:
        series_uid = _text(elements, "SeriesInstanceUID")
    except Exception:  # noqa: BLE001 - an undecodable UID: the file's series is unknown
        series_uid = ""
    if element is None:
        what = header_text(ds, "Modality") or "DICOM object"
        if _is_image_object(ds, elements):
            reason = f"no pixel data in an image ({what}): the file is truncated or damaged"
            raise DamagedSlice(series_uid, reason) if series_uid else UnattributedDamage(reason)
        raise NotASlice(f"no pixel data ({what}: not an image)")
    if not series_uid:
        raise UnattributedDamage("an image without SeriesInstanceUID")
    try:
        return _slice_facts(path, ds, size, elements, element, series_uid)
    except DamagedSlice:
        raise
    except NotASlice as exc:
        raise DamagedSlice(series_uid, str(exc)) from None
    except Exception as exc:  # a damaged element only fails when its value is converted
        raise DamagedSlice(series_uid, f"unreadable DICOM header value ({type(exc).__name__}: {exc})") from exc


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
                 series_uid: str) -> Slice:
    """The slice facts of a header whose pixel data element and SeriesInstanceUID were found."""
    value_tell = getattr(element, "value_tell", None)
    length = getattr(element, "length", None)
    transfer_syntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    encapsulated = length == 0xFFFFFFFF
    if value_tell is not None and length is not None and not encapsulated and value_tell + length > size:
        raise NotASlice(f"truncated: pixel data needs {value_tell + length} bytes, the file has {size}")
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
        raise NotASlice("missing or invalid Rows/Columns")
    spacing = _floats(elements, "PixelSpacing", 2)
    if spacing is not None and min(spacing) <= 0:
        raise NotASlice(f"invalid PixelSpacing {list(spacing)} (must be positive)")
    bits_allocated = _int(elements, "BitsAllocated", None)
    if bits_allocated is None:
        raise NotASlice("missing BitsAllocated")
    bits_stored = _int(elements, "BitsStored", bits_allocated)
    return Slice(
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


def files_under(root: Path) -> list[Path]:
    """Every file under ``root`` (recursively, hidden ones included, sorted), or ``root`` when it is a file."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise DicomLoadError(f"{root}: no such file or folder; give the folder that holds the DICOM files")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found.extend(Path(dirpath) / name for name in sorted(filenames))
    return found


def parse_date(value: object) -> date | None:
    """A DICOM DA value (YYYYMMDD) as a date; None when absent or not a date."""
    text = str(value or "").strip()
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
    except ValueError:
        return None


def header_text(ds: Dataset, keyword: str) -> str:
    """A descriptive element as text; '' when absent or undecodable (a damaged name must not stop a scan)."""
    try:
        return str(ds.get(keyword, "") or "").strip()
    except Exception as exc:  # pydicom raises several types for damaged values
        logger.info("unreadable %s (%s: %s)", keyword, type(exc).__name__, exc)
        return ""
