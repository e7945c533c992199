"""DICOM series discovery (:func:`find_series`) and loading into a :class:`Volume` (:func:`load_series`).

Reading happens once, at this edge: headers are parsed once per file (pixel data not read), files are
grouped by SeriesInstanceUID, sorted along the slice normal and their geometry is checked; pixels are
then read straight into one preallocated (z, y, x) array and rescaled in place. One file's header is
read by :mod:`recist.io._dicom_slices`, the geometry checked by :mod:`recist.io._dicom_geometry`, the
pixels read by :mod:`recist.io._dicom_pixels`; this module groups the files into series and loads them.

Choices (see also docs/dicom.md)
--------------------------------
Discovery
    Every file under the folder (recursively, hidden files included) is tried. Files without the
    ``DICM`` marker are still tried when they start like a raw DICOM stream (group 0008). Anything that
    cannot be parsed, has no pixel data (DICOMDIR, RTSTRUCT, SR ...), has a pixel data element longer
    than the file (truncated) or carries an unreadable geometry value is *skipped* with a reason: it never
    stops the scan. Series are keyed by SeriesInstanceUID only, so interleaved series separate. A skipped
    file that is a damaged image of a series (its SeriesInstanceUID read, or, when unreadable, any series
    of its folder) is listed in ``SeriesInfo.damaged`` and the series does not load: dropping it would
    give a silently shorter volume.
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
    The rescaled range of each slice must fit float32 (and int32 for an integer output); pixel data must
    hold exactly Rows x Columns pixels (plus a pad byte); slices over 2^30 pixels and volumes over the
    machine's memory are refused before allocating.
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

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from pydicom.dataset import Dataset

from recist._gc import collector_paused
from recist.errors import DicomLoadError
from recist.io._dicom_geometry import SeriesGeometry, fallback_order, series_geometry
from recist.io._dicom_pixels import check_pixel_format, read_pixels
from recist.io._dicom_slices import (
    DamagedSlice,
    HeaderLayout,
    NotASlice,
    Slice,
    UnattributedDamage,
    files_under,
    header_text,
    parse_date,
    read_slice,
    series_error,
)
from recist.measure.geometry import affine_from_geometry, index_to_patient, patient_to_index

__all__ = ["SeriesInfo", "SkippedFile", "SeriesScan", "Volume", "find_series", "load_series", "select_series"]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------------
# Public data
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SkippedFile:
    """A file the scan could not use, and why."""

    path: Path
    reason: str


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
    study_date, series_date, acquisition_date
        StudyDate, SeriesDate and AcquisitionDate of the first file (None when absent or not a date).
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
    series_date: date | None = None
    acquisition_date: date | None = None
    _slices: tuple[Slice, ...] = field(default=(), repr=False, compare=False)
    _geometry: SeriesGeometry | None = field(default=None, repr=False, compare=False)

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
            "series_date": self.series_date.isoformat() if self.series_date else None,
            "acquisition_date": self.acquisition_date.isoformat() if self.acquisition_date else None,
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
# Discovery
# --------------------------------------------------------------------------------------------------
def _damaged_error(uid: str, slices: Sequence[Slice], damaged: Sequence[SkippedFile]) -> DicomLoadError:
    reasons = "; ".join(f"{d.path.name}: {d.reason}" for d in damaged[:3])
    return series_error(uid, slices, f"{len(damaged)} file(s) of this series cannot be read ({reasons}"
                        f"{' ...' if len(damaged) > 3 else ''})", [d.path for d in damaged],
                        "Re-copy or re-export the damaged files; without them the volume would be silently shorter "
                        "or have a gap.")


def _series_info(uid: str, slices: list[Slice], damaged: Sequence[SkippedFile] = ()) -> SeriesInfo:
    head = slices[0].header
    problem, warnings, spacing, geometry = None, (), None, None
    try:
        if damaged:
            raise _damaged_error(uid, slices, damaged)
        geometry = series_geometry(uid, slices, allow_gantry_tilt=False)
        ordered, warnings = list(geometry.slices), geometry.warnings
        kept = {id(s) for s in geometry.slices}
        ordered += [s for s in slices if id(s) not in kept]  # dropped copies stay listed
        spacing = geometry.spacing_mm[0] if len(geometry.slices) > 1 else None
        check_pixel_format(uid, geometry.slices)
    except DicomLoadError as exc:
        problem, ordered = getattr(exc, "problem", str(exc)), fallback_order(slices)
    return SeriesInfo(
        patient_id=header_text(head, "PatientID"),
        patient_name=header_text(head, "PatientName"),
        study_uid=header_text(head, "StudyInstanceUID"),
        series_uid=uid,
        study_date=parse_date(header_text(head, "StudyDate")),
        modality=header_text(head, "Modality"),
        description=header_text(head, "SeriesDescription"),
        series_number=_safe_int(header_text(head, "SeriesNumber")),
        rows=slices[0].rows,
        columns=slices[0].columns,
        pixel_spacing_mm=slices[0].pixel_spacing,
        slice_thickness_mm=slices[0].slice_thickness,
        slice_spacing_mm=spacing,
        files=tuple(s.path for s in ordered),
        problem=problem,
        warnings=tuple(warnings),
        damaged=tuple(damaged),
        series_date=parse_date(header_text(head, "SeriesDate")),
        acquisition_date=parse_date(header_text(head, "AcquisitionDate")),
        _slices=tuple(ordered),
        _geometry=geometry,
    )


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
    groups: dict[str, list[Slice]] = {}
    skipped: list[SkippedFile] = []
    damaged: dict[str, list[SkippedFile]] = {}
    unattributed: dict[Path, list[SkippedFile]] = {}
    layouts: list[HeaderLayout] = []
    paths = files_under(root)
    if progress:
        from tqdm import tqdm

        paths = tqdm(paths, desc="reading DICOM headers", unit="file")
    with collector_paused():  # the headers make no reference cycles; collections only re-scan the heap
        for path in paths:
            try:
                item = read_slice(path, layouts)
            except NotASlice as exc:
                logger.info("skipped %s: %s", path, exc)
                skipped.append(SkippedFile(path, str(exc)))
                if isinstance(exc, DamagedSlice):
                    damaged.setdefault(exc.series_uid, []).append(skipped[-1])
                elif isinstance(exc, UnattributedDamage):
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
        geometry = series_geometry(info.series_uid, info._slices, allow_gantry_tilt)
    for warning in geometry.warnings:
        logger.warning("%s: %s", info.label(), warning)
    slices = geometry.slices
    array = read_pixels(info.series_uid, slices)
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
