"""DICOM series discovery (:func:`find_series`) and loading into a :class:`Volume` (:func:`load_series`).

Reading happens once, at this edge: headers are parsed once per file (pixel data not read), files are
grouped by SeriesInstanceUID, sorted along the slice normal and their geometry is checked; pixels are
then read straight into one preallocated (z, y, x) array and rescaled in place. One file's header is
read by :mod:`recist.io._dicom_slices`, the pixels by :mod:`recist.io._dicom_pixels`; this module
groups, checks the geometry and loads.

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
import math
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
from recist.io._dicom_pixels import _check_pixel_format, _read_pixels
from recist.io._dicom_slices import (
    _Damaged,
    _error,
    _header_text,
    _iter_files,
    _Layout,
    _parse_date,
    _read_slice,
    _Skip,
    _Slice,
    _Unattributed,
)
from recist.measure.geometry import affine_from_geometry, index_to_patient, patient_to_index

__all__ = ["SeriesInfo", "SkippedFile", "SeriesScan", "Volume", "find_series", "load_series", "select_series"]

logger = logging.getLogger(__name__)

_ORIENTATION_TOL = 1e-4
_SPACING_TOL_MM = 1e-4
_DUPLICATE_TOL_MM = 0.01
_STEP_REL_TOL = 0.01
_STEP_ABS_TOL_MM = 0.005
_TILT_TOL = 1e-3



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
        series_date=_parse_date(_header_text(head, "SeriesDate")),
        acquisition_date=_parse_date(_header_text(head, "AcquisitionDate")),
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
