"""The geometry of a DICOM series: slices ordered along the normal, and every check that makes one volume.

Private to :mod:`recist.io.dicom` (see its docstring, "Geometry", for each check and tolerance): consistent
Rows/Columns, PixelSpacing and ImageOrientationPatient, copies dropped and clashing positions refused, gaps
and non-uniform steps refused, gantry tilt refused or read as a sheared stack. Fatal problems raise
:class:`~recist.errors.DicomLoadError` naming the series and its files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recist.io._dicom_slices import Slice, series_error

_ORIENTATION_TOL = 1e-4
_SPACING_TOL_MM = 1e-4
_DUPLICATE_TOL_MM = 0.01
_STEP_REL_TOL = 0.01
_STEP_ABS_TOL_MM = 0.005
_TILT_TOL = 1e-3


@dataclass(frozen=True)
class SeriesGeometry:
    """The slices of a series in array (z) order and the volume geometry they give.

    Attributes
    ----------
    spacing_mm
        (z, y, x) in mm.
    origin_mm
        LPS (x, y, z) in mm of the centre of voxel (0, 0, 0).
    direction
        3x3; its columns are the LPS unit vectors of the array's x, y and z index axes (the third is the
        unit step vector of a sheared tilted-gantry stack).
    warnings
        Geometry warnings accepted (see :mod:`recist.io.dicom`, "Geometry").
    """

    slices: tuple[Slice, ...]  # in array (z) order, duplicates removed
    spacing_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float]
    direction: np.ndarray
    warnings: tuple[str, ...]


def fallback_order(slices: Sequence[Slice]) -> list[Slice]:
    """Order for listing a series whose geometry is unusable: position along the normal, else number."""
    first = slices[0]
    if first.orientation is not None and all(s.position is not None for s in slices):
        normal = np.cross(first.orientation[:3], first.orientation[3:])
        return sorted(slices, key=lambda s: (float(np.dot(s.position, normal)), s.instance_number or 0))
    return sorted(slices, key=lambda s: (s.instance_number is None, s.instance_number or 0, str(s.path)))


def _unlike_first(slices: Sequence[Slice], attr: str, tolerance: float) -> tuple[np.ndarray, list[Path]]:
    """The first slice's ``attr`` (a vector) and the files whose ``attr`` differs from it by more than
    ``tolerance`` in any component."""
    values = np.array([getattr(s, attr) for s in slices])
    odd = np.flatnonzero(np.abs(values - values[0]).max(axis=1) > tolerance)
    return values[0], [slices[k].path for k in odd]


def _check_consistent(uid: str, slices: Sequence[Slice]) -> None:
    sizes: dict[tuple[int, int], list[Path]] = {}
    for s in slices:
        sizes.setdefault((s.rows, s.columns), []).append(s.path)
    if len(sizes) > 1:
        detail = "; ".join(f"{len(p)} files of {r}x{c}" for (r, c), p in sizes.items())
        by_count = sorted(sizes.values(), key=len, reverse=True)
        odd = [p for paths in by_count[1:] for p in paths]  # the minority sizes
        raise series_error(uid, slices, f"inconsistent Rows/Columns between slices ({detail})", odd,
                           "Remove the odd-sized files (often a scout or dose report) or load them as their own series.")
    for keyword in ("PixelSpacing", "ImageOrientationPatient", "ImagePositionPatient"):
        attr = {"PixelSpacing": "pixel_spacing", "ImageOrientationPatient": "orientation"}.get(keyword, "position")
        missing = [s.path for s in slices if getattr(s, attr) is None]
        if missing:
            raise series_error(uid, slices, f"missing {keyword}", missing,
                               "The slices cannot be placed in patient coordinates; this series cannot be measured.")
    ref, odd = _unlike_first(slices, "pixel_spacing", _SPACING_TOL_MM)
    if odd:
        raise series_error(uid, slices, f"PixelSpacing differs from the first slice's {list(ref)}", odd,
                           "Remove the files that do not belong to this reconstruction.")
    ref_orientation, odd = _unlike_first(slices, "orientation", _ORIENTATION_TOL)
    if odd:
        raise series_error(uid, slices, f"mixed orientations: ImageOrientationPatient differs from the first slice's "
                           f"{[round(v, 5) for v in ref_orientation]}", odd,
                           "The series mixes image planes (e.g. axial and coronal); separate them before loading.")
    row, col = ref_orientation[:3], ref_orientation[3:]
    if (abs(np.linalg.norm(row) - 1) > 1e-3 or abs(np.linalg.norm(col) - 1) > 1e-3
            or abs(float(np.dot(row, col))) > 1e-3):
        raise series_error(uid, slices, f"invalid ImageOrientationPatient {list(ref_orientation)} (direction cosines "
                           "must be orthogonal unit vectors)", [slices[0].path], "The header is damaged.")


def _drop_copies(uid: str, ordered: list[Slice], depth: np.ndarray, warnings: list[str]) -> tuple[list, np.ndarray]:
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
        raise series_error(uid, ordered, f"duplicate positions: {len(clash)} different images at "
                           f"{depth[k]:.3f} mm along the slice normal", clash,
                           "The series holds several images per position (phases, echoes or a repeated "
                           "acquisition); split it, e.g. by AcquisitionNumber or TemporalPositionIdentifier.")
    return [ordered[k] for k in keep], depth[keep]


def _check_steps(uid: str, ordered: list[Slice], depth: np.ndarray) -> float:
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
        raise series_error(uid, ordered, f"missing slices: a gap in positions ({'; '.join(gaps)}; usual step "
                           f"{typical:.4g} mm)", [p for k in bad for p in (ordered[k].path, ordered[k + 1].path)],
                           "Find the missing files (an incomplete transfer?) or re-export the whole series.")
    found = sorted({round(float(s), 3) for s in steps})
    raise series_error(uid, ordered, f"non-uniform slice spacing: steps of {found[:8]} mm between neighbouring slices",
                       [p for k in bad for p in (ordered[k].path, ordered[k + 1].path)],
                       "Variable-spacing stacks cannot be one regular volume; reconstruct with a constant increment.")


def series_geometry(uid: str, slices: Sequence[Slice], allow_gantry_tilt: bool) -> SeriesGeometry:
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
            raise series_error(uid, ordered, "single slice without SpacingBetweenSlices or SliceThickness",
                               [only.path], "Its z extent is unknown; add SliceThickness to the header.")
    else:
        z_spacing = _check_steps(uid, ordered, depth)
        offsets = positions - positions[0]
        along = depth - depth[0]
        lateral = offsets - np.outer(along, normal)
        shear = (lateral.T @ along) / float(along @ along)  # in-plane drift per mm along the normal
        residual = np.abs(lateral - np.outer(along, shear)).max()
        if residual > max(0.01, 0.05 * min(slices[0].pixel_spacing)):
            raise series_error(uid, ordered, f"slice positions do not lie on one line (off by up to {residual:.3f} mm)",
                               [s.path for s in ordered], "The series mixes stacks; separate them before loading.")
        tilt = float(np.linalg.norm(shear))
        if tilt > _TILT_TOL:
            degrees = math.degrees(math.atan(tilt))
            if not allow_gantry_tilt:
                raise series_error(uid, ordered, f"gantry tilt: the position steps lean {degrees:.2f} degrees from the "
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
    return SeriesGeometry(
        slices=tuple(ordered),
        spacing_mm=(float(z_spacing), float(row_spacing), float(col_spacing)),
        origin_mm=tuple(float(v) for v in positions[0]),  # type: ignore[arg-type]
        direction=np.column_stack([row, col, step_dir]),
        warnings=tuple(warnings),
    )
