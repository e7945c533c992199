"""RECIST long axis, short axis and volume of lesions segmented as masks.

Definitions (RECIST 1.1 [E09] section 3.1 and 4.2: the longest diameter in the plane of measurement,
axial for CT/MRI; lymph nodes by their short axis, "perpendicular to the long axis"). Full text, error
bounds and measured accuracy: ``docs/measurement.md``.

- **Outline.** In each axial slice (the (y, x) plane of one z index) a lesion's outline is the
  half-way contour: the points midway between a lesion pixel centre and a neighbouring (4-connected)
  background pixel centre, i.e. the midpoints of the outer edges of the boundary pixels. These are the
  vertices of the marching-squares iso-contour at level 0.5 of the binary mask (what
  ``skimage.measure.find_contours(mask, 0.5)`` traces). All lengths are measured in millimetres on the
  convex hull of that outline, with the in-plane spacing (y, x) honoured exactly.
- **Long axis.** The diameter of that hull (its largest vertex-to-vertex distance), maximised over all
  slices of the lesion: exact, not sampled over angles.
- **Short axis.** In the long axis's slice, the longest chord of the same hull perpendicular to the
  long axis (its width measured along lines perpendicular to the long axis; it crosses the long axis).
- **Ties.** Among equally long long axes (relative 1e-9; e.g. the symmetric diameters of a disc or the
  slices either side of a sphere's equator) the one with the longest short axis wins, then the lowest
  slice index, then the smallest direction angle; among equally long short axes the chord closest to
  the long axis's midpoint wins. So the reported lengths do not depend on how the array is flipped or
  transposed, and the endpoints move with the lesion.
- **Volume.** Voxel count times voxel volume (mm^3).

Speed: all slices of a lesion are screened at once with projections on 32 directions (a width in any
direction is a lower bound of the diameter, and the largest width over 32 directions divided by
cos(pi/64) an upper bound); only slices whose upper bound reaches the best lower bound are candidates,
visited by decreasing upper bound, and the exact hull is computed until the next upper bound falls
below the best exact long axis found.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from scipy.spatial import ConvexHull

from recist.errors import MeasurementError
from recist.measure.geometry import index_to_patient, validate_spacing_mm

__all__ = ["LesionAxes", "measure_lesions"]

logger = logging.getLogger(__name__)

Point = tuple[float, float, float]

_N_DIRECTIONS = 32
_ANGLES = np.arange(_N_DIRECTIONS) * (math.pi / _N_DIRECTIONS)
_DIRECTIONS_YX = np.stack([np.sin(_ANGLES), np.cos(_ANGLES)])  # (2, K): unit vectors in (y, x) mm
_UPPER_BOUND_FACTOR = 1.0 / math.cos(math.pi / (2 * _N_DIRECTIONS))
_REL_TIE = 1e-9
_BLOCK_ROWS = 8
_BLOCK_SLICES = 8


@dataclass(frozen=True)
class LesionAxes:
    """Long axis, short axis and volume of one lesion (one label of a mask).

    Attributes
    ----------
    label
        The label value in the label image (1 for a boolean mask).
    long_axis_mm, short_axis_mm
        RECIST long axis and the longest perpendicular chord in the same slice, mm.
    long_axis_endpoints_zyx, short_axis_endpoints_zyx
        Endpoints as fractional voxel indices (z, y, x); z is ``slice_index``.
    slice_index
        The z index of the axial slice holding both axes.
    voxel_count, volume_mm3
        Number of voxels and their volume (count x voxel volume), mm^3.
    long_axis_endpoints_lps_mm, short_axis_endpoints_lps_mm
        The endpoints in patient LPS (x, y, z) mm, when the geometry (origin, direction) was given.
    """

    label: int
    long_axis_mm: float
    long_axis_endpoints_zyx: tuple[Point, Point]
    short_axis_mm: float
    short_axis_endpoints_zyx: tuple[Point, Point]
    slice_index: int
    voxel_count: int
    volume_mm3: float
    long_axis_endpoints_lps_mm: tuple[Point, Point] | None = None
    short_axis_endpoints_lps_mm: tuple[Point, Point] | None = None

    @property
    def volume_ml(self) -> float:
        """Volume in millilitres (cm^3)."""
        return self.volume_mm3 / 1000.0

    def long_axis_endpoints_patient_mm(
        self, *, origin_mm: ArrayLike, spacing_mm: ArrayLike, direction: ArrayLike
    ) -> NDArray[np.float64]:
        """Long-axis endpoints as LPS (x, y, z) mm, shape (2, 3), for the given image geometry."""
        return index_to_patient(
            self.long_axis_endpoints_zyx, origin_mm=origin_mm, spacing_mm=spacing_mm, direction=direction
        )

    def short_axis_endpoints_patient_mm(
        self, *, origin_mm: ArrayLike, spacing_mm: ArrayLike, direction: ArrayLike
    ) -> NDArray[np.float64]:
        """Short-axis endpoints as LPS (x, y, z) mm, shape (2, 3), for the given image geometry."""
        return index_to_patient(
            self.short_axis_endpoints_zyx, origin_mm=origin_mm, spacing_mm=spacing_mm, direction=direction
        )


def measure_lesions(
    mask: ArrayLike,
    *,
    spacing_mm: ArrayLike,
    origin_mm: ArrayLike | None = None,
    direction: ArrayLike | None = None,
    source: str | None = None,
) -> tuple[LesionAxes, ...]:
    """Measure every lesion of a mask: RECIST long and short axes (exact on the half-way outline's convex
    hull, per axial slice) and volume. RECIST 1.1 [E09] sections 3.1, 4.2; definitions in the module
    docstring and ``docs/measurement.md``.

    Parameters
    ----------
    mask
        (z, y, x) boolean mask of one lesion (reported as label 1), or an integer label image (every
        positive label is a lesion; 0 is background).
    spacing_mm
        Voxel spacing (z, y, x) in mm. Required: there is no pixel = mm default.
    origin_mm, direction
        Optional image geometry (LPS origin of voxel (0, 0, 0); 3x3 direction whose columns are the index
        x, y, z axes). Give both to get the endpoints in patient mm as well; the in-plane axes must be
        orthogonal (as in every CT/MR/PET image).
    source
        Name of the mask (file path) used in error messages.

    Returns
    -------
    tuple of LesionAxes
        One per label present, by increasing label.

    Raises
    ------
    MeasurementError
        Mask not 3-D, not boolean/integer, negative labels, empty, or bad geometry.

    Examples
    --------
    >>> disc = np.zeros((1, 64, 64), bool)
    >>> yy, xx = np.mgrid[:64, :64]
    >>> disc[0] = (yy - 31.5) ** 2 + (xx - 31.5) ** 2 <= 20**2
    >>> (lesion,) = measure_lesions(disc, spacing_mm=(5.0, 0.5, 0.5))
    >>> round(lesion.long_axis_mm, 1), round(lesion.short_axis_mm, 1)  # a 20 mm disc, 0.5 mm pixels
    (20.4, 20.4)
    """
    where = f" {source}" if source else ""
    spacing = validate_spacing_mm(spacing_mm, what=f"spacing_mm of mask{where}")
    if (origin_mm is None) != (direction is None):
        raise MeasurementError(f"mask{where}: give both origin_mm and direction, or neither")
    array = np.asarray(mask)
    if array.ndim != 3:
        raise MeasurementError(
            f"mask{where} must be a 3-D (z, y, x) array, got shape {array.shape}; "
            "add a z axis (mask[np.newaxis]) for a single slice"
        )
    if array.dtype == bool:
        objects = _find_objects(array.view(np.uint8))
    elif np.issubdtype(array.dtype, np.integer):
        if array.size and np.issubdtype(array.dtype, np.signedinteger) and array.min() < 0:
            raise MeasurementError(f"label image{where} holds negative labels; labels must be >= 0")
        objects = _find_objects(array) if array.size else []
    else:
        raise MeasurementError(
            f"mask{where} must be boolean or an integer label image, got dtype {array.dtype}; "
            "convert integer-valued float masks with mask.astype(int)"
        )
    if not any(box is not None for box in objects):
        raise MeasurementError(f"mask{where} is empty: no voxel is labelled, nothing to measure")
    _check_in_plane_orthogonal(direction, where)
    results = []
    for index, box in enumerate(objects):
        if box is None:
            continue
        label = index + 1
        sub = array[box] if array.dtype == bool else array[box] == label
        offset = np.array([s.start for s in box], dtype=float)
        axes = _lesion_axes(sub, offset=offset, spacing=spacing, label=label)
        if origin_mm is not None:
            geometry = {"origin_mm": origin_mm, "spacing_mm": spacing, "direction": direction}
            axes = _with_patient_endpoints(axes, geometry)
        results.append(axes)
    logger.debug("measured %d lesion(s) in mask%s", len(results), where)
    return tuple(results)


def _find_objects(labels: NDArray[np.integer]) -> list[tuple[slice, ...] | None]:
    """``scipy.ndimage.find_objects`` (bounding box per label), faster on large sparse label images.

    find_objects visits every voxel in a scalar loop. Here the image is first screened 8 bytes at a time
    (one 64-bit word per 8 // itemsize voxels along x, OR-ed over runs of 8 slices, then over blocks
    of 8 rows, so that the grid to label is small): connected groups of occupied blocks are boxes that
    together hold every labelled voxel. Inside each group's box the exact box of its label(s) is found
    (``_region_objects``), so the coarse blocks only decide where to look, never the boxes' extent;
    the per-group boxes of a label are then merged.
    """
    nz, ny, nx = labels.shape
    row_bytes = nx * labels.itemsize
    if labels.size < 1_000_000 or not labels.flags.c_contiguous or row_bytes % 8:
        return ndimage.find_objects(labels)
    words = labels.view(np.uint8).reshape(nz, ny, row_bytes).view(np.uint64)
    per_word = 8 // labels.itemsize
    blocks = _or_over_rows(_or_over_slices(words)) != 0
    groups, _ = ndimage.label(blocks)
    merged: dict[int, list[list[int]]] = {}
    for zs, ys, ws in ndimage.find_objects(groups):
        start = (zs.start * _BLOCK_SLICES, ys.start * _BLOCK_ROWS, ws.start * per_word)
        region = (
            slice(start[0], min(zs.stop * _BLOCK_SLICES, nz)),
            slice(start[1], min(ys.stop * _BLOCK_ROWS, ny)),
            slice(start[2], ws.stop * per_word),
        )
        for index, local in _region_objects(labels[region]):
            bounds = [[s.start + o for s, o in zip(local, start)], [s.stop + o for s, o in zip(local, start)]]
            if index in merged:
                old = merged[index]
                bounds = [np.minimum(old[0], bounds[0]).tolist(), np.maximum(old[1], bounds[1]).tolist()]
            merged[index] = bounds
    size = max(merged, default=-1) + 1
    return [
        tuple(slice(int(a), int(b)) for a, b in zip(*merged[i])) if i in merged else None for i in range(size)
    ]


def _or_over_slices(words: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Bitwise OR of ``words`` (z, y, x) over runs of ``_BLOCK_SLICES`` slices (the last may be shorter).

    Each step ORs whole slices, contiguous in memory, so this single read of the image runs close to
    memory speed; labelling the runs instead of single slices makes the grid 8 times smaller. It only makes
    the groups' boxes coarser along z, and ``_region_objects`` makes them exact again.
    """
    runs = words[::_BLOCK_SLICES].copy()
    for first in range(1, _BLOCK_SLICES):
        slices = words[first::_BLOCK_SLICES]  # slice `first` of every run that has one
        runs[: len(slices)] |= slices
    return runs


def _or_over_rows(words: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Bitwise OR of ``words`` (z, y, x) over blocks of ``_BLOCK_ROWS`` rows (the last may be shorter)."""
    nz, ny, nw = words.shape
    whole = ny // _BLOCK_ROWS * _BLOCK_ROWS
    blocks = np.bitwise_or.reduce(words[:, :whole].reshape(nz, -1, _BLOCK_ROWS, nw), axis=2)
    if whole < ny:
        rest = np.bitwise_or.reduce(words[:, whole:], axis=1, keepdims=True)
        blocks = np.concatenate([blocks, rest], axis=1)
    return blocks


def _region_objects(region: NDArray[np.integer]) -> list[tuple[int, tuple[slice, ...]]]:
    """(label - 1, bounding box) of every label in ``region`` (a view of the label image).

    A region holding a single label (its largest value equals its smallest positive value: the usual
    case, lesions being apart) gets its box from three max-projections, which numpy vectorises;
    otherwise ``find_objects`` scans it. Labels must be >= 0.
    """
    plane = region.max(axis=0)  # (y, x); its largest value is the region's
    top = int(plane.max())
    if top == 0:
        return []
    unsigned = region.view(np.dtype(f"u{region.itemsize}"))  # labels are >= 0: same values
    smallest = int((unsigned - unsigned.dtype.type(1)).min()) + 1  # 0 wraps to the largest value
    if smallest != top:
        return [(i, box) for i, box in enumerate(ndimage.find_objects(region)) if box is not None]
    ys, xs = np.flatnonzero(plane.max(axis=1)), np.flatnonzero(plane.max(axis=0))
    zs = np.flatnonzero(region.max(axis=(1, 2)))
    box = tuple(slice(int(v[0]), int(v[-1]) + 1) for v in (zs, ys, xs))
    return [(top - 1, box)]


def _check_in_plane_orthogonal(direction: ArrayLike | None, where: str) -> None:
    if direction is None:
        return
    matrix = np.asarray(direction, dtype=float).reshape(3, 3)
    if abs(float(matrix[:, 0] @ matrix[:, 1])) > 1e-3:
        raise MeasurementError(
            f"mask{where}: the image's row and column axes are not orthogonal (direction columns 0 and 1); "
            "in-plane diameters need an orthogonal pixel grid"
        )


def _with_patient_endpoints(axes: LesionAxes, geometry: dict) -> LesionAxes:
    long_lps = axes.long_axis_endpoints_patient_mm(**geometry)
    short_lps = axes.short_axis_endpoints_patient_mm(**geometry)
    return LesionAxes(
        **{
            **axes.__dict__,
            "long_axis_endpoints_lps_mm": _point_pair(long_lps),
            "short_axis_endpoints_lps_mm": _point_pair(short_lps),
        }
    )


def _point_pair(points: NDArray[np.float64]) -> tuple[Point, Point]:
    first, second = (tuple(float(v) for v in row) for row in points)
    return first, second  # type: ignore[return-value]


def _outline_points(sub: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Half-way outline candidates of every slice of a lesion's bounding box.

    Returns the number of points of each slice of ``sub`` and the points (y, x) in index units, slice
    after slice (so one slice's points are a contiguous segment).

    The convex hull of these points is that of the half-way outline, from each row's first and last
    pixel only: every outline point of row y (an edge midpoint of one of its pixels) lies on the
    segment joining the same edge midpoints of the row's first and last pixel, and those midpoints lie
    on the outline or between two lesion pixel centres, so inside the outline's hull. Per slice this
    gives the left edge of each row's first pixel, the right edge of its last pixel and, on each line
    y - 1/2 between pixel rows, the leftmost and rightmost top/bottom edge midpoint of the rows beside it.
    """
    nz, ny, nx = sub.shape
    first_index = sub.argmax(axis=2)
    occupied = np.take_along_axis(sub, first_index[:, :, np.newaxis], axis=2)[:, :, 0]  # row has a pixel
    first = np.where(occupied, first_index - 0.5, np.inf)
    last = np.where(occupied, nx - 0.5 - sub[:, :, ::-1].argmax(axis=2), -np.inf)
    line_first = np.full((nz, ny + 1), np.inf)  # line k lies at y = k - 1/2
    np.minimum(first[:, 1:], first[:, :-1], out=line_first[:, 1:-1])
    line_first[:, 0], line_first[:, -1] = first[:, 0], first[:, -1]
    line_last = np.full((nz, ny + 1), -np.inf)
    np.maximum(last[:, 1:], last[:, :-1], out=line_last[:, 1:-1])
    line_last[:, 0], line_last[:, -1] = last[:, 0], last[:, -1]
    x = np.full((nz, ny + 1, 4), np.nan)
    x[:, :ny, 0], x[:, :ny, 1] = first, last  # row edges: the pixel's left/right edge, at y
    x[:, :, 2], x[:, :, 3] = line_first + 0.5, line_last - 0.5  # line edges: the pixel's centre x
    y = np.arange(ny + 1.0)[:, np.newaxis] - np.array([0.0, 0.0, 0.5, 0.5])  # (k, kind): row k or line k
    valid = np.isfinite(x)
    points = np.empty((int(np.count_nonzero(valid)), 2))
    points[:, 0] = np.broadcast_to(y, x.shape)[valid]  # z-major order, as np.nonzero
    points[:, 1] = x[valid]
    return np.count_nonzero(valid.reshape(nz, -1), axis=1), points


def _lesion_axes(
    sub: NDArray[np.bool_], *, offset: NDArray[np.float64], spacing: NDArray[np.float64], label: int
) -> LesionAxes:
    """Axes of one lesion given its bounding-box mask ``sub`` whose voxel (0, 0, 0) is ``offset``."""
    counts, points = _outline_points(sub)
    points_mm = (points + offset[1:]) * spacing[1:]
    z = np.flatnonzero(counts)  # the slices that hold the lesion, one segment of points each
    ends = np.cumsum(counts)[z]
    starts = ends - counts[z]
    projections = _DIRECTIONS_YX.T @ points_mm.T  # (directions, points): reduceat along rows is faster
    widths = np.maximum.reduceat(projections, starts, axis=1) - np.minimum.reduceat(projections, starts, axis=1)
    lower = widths.max(axis=0)
    upper = lower * _UPPER_BOUND_FACTOR
    candidates = np.flatnonzero(upper >= lower.max() * (1 - _REL_TIE))
    candidates = candidates[np.argsort(-upper[candidates], kind="stable")]
    best: tuple[float, float, int] | None = None
    chosen = None
    for segment in candidates:
        if best is not None and upper[segment] < best[0] - _REL_TIE * max(best[0], 1.0):
            break  # neither this slice nor any later one (smaller bounds) can reach or tie the best
        long_mm, long_ends, short_mm, short_ends = _slice_axes(points_mm[starts[segment] : ends[segment]])
        slice_index = int(z[segment] + offset[0])
        key = (long_mm, short_mm, -slice_index)
        if best is None or _better(key, best):
            best, chosen = key, (long_mm, long_ends, short_mm, short_ends, slice_index)
    assert chosen is not None  # the slice with the largest lower bound is always a candidate
    long_mm, long_ends, short_mm, short_ends, slice_index = chosen
    voxel_count = int(np.count_nonzero(sub))

    def to_index(pair: NDArray[np.float64]) -> tuple[Point, Point]:
        top, bottom = sorted(tuple(yx) for yx in (pair / spacing[1:]).tolist())  # top (then left) first
        return (float(slice_index), *top), (float(slice_index), *bottom)

    return LesionAxes(
        label=label,
        long_axis_mm=long_mm,
        long_axis_endpoints_zyx=to_index(long_ends),
        short_axis_mm=short_mm,
        short_axis_endpoints_zyx=to_index(short_ends),
        slice_index=slice_index,
        voxel_count=voxel_count,
        volume_mm3=float(voxel_count * np.prod(spacing)),
    )


def _better(key: tuple[float, float, int], best: tuple[float, float, int]) -> bool:
    """Lexicographic comparison of (long, short, -slice) with a relative tolerance on the lengths."""
    for value, reference in zip(key[:2], best[:2]):
        tolerance = _REL_TIE * max(abs(reference), 1.0)
        if value > reference + tolerance:
            return True
        if value < reference - tolerance:
            return False
    return key[2] > best[2]


def _slice_axes(
    points_mm: NDArray[np.float64],
) -> tuple[float, NDArray[np.float64], float, NDArray[np.float64]]:
    """Long axis (hull diameter) and perpendicular short axis of one slice's outline points (y, x) mm.

    Returns (long_mm, long endpoints (2, 2), short_mm, short endpoints (2, 2)), endpoints in (y, x) mm.
    """
    hull = ConvexHull(points_mm)
    vertices = points_mm[hull.vertices]  # counter-clockwise
    dy = vertices[:, np.newaxis, 0] - vertices[np.newaxis, :, 0]
    dx = vertices[:, np.newaxis, 1] - vertices[np.newaxis, :, 1]
    squared = dy * dy + dx * dx
    longest = squared.max()
    first, second = np.nonzero(squared >= longest * (1 - 2 * _REL_TIE))
    first, second = first[first < second], second[first < second]  # each pair once
    # visit tied diameters by direction angle in [0, pi) so the choice does not depend on hull order
    delta = vertices[second] - vertices[first]
    angle = np.mod(np.arctan2(delta[:, 0], delta[:, 1]), np.pi)
    best: tuple[float, NDArray, float, NDArray] | None = None
    for i, j in zip(first[np.argsort(angle)], second[np.argsort(angle)]):
        ends = vertices[[i, j]]
        length = float(np.sqrt(squared[i, j]))
        short_mm, short_ends = _perpendicular_chord(vertices, ends)
        if best is None or short_mm > best[2] + _REL_TIE * max(best[2], 1.0):
            best = (length, ends, short_mm, short_ends)
    assert best is not None
    return best


def _perpendicular_chord(
    vertices: NDArray[np.float64], long_ends: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64]]:
    """Longest chord of a convex polygon perpendicular to a given axis (RECIST short axis).

    The chord length along lines perpendicular to the axis is a concave piecewise-linear function of
    the position along the axis with breakpoints at the vertices, so its maximum is at a vertex's
    position: every vertex position is evaluated at once (vertices x edges). Among equal maxima the
    chord closest to the axis midpoint is returned.

    Parameters
    ----------
    vertices
        (K, 2) polygon vertices in order (either orientation), mm.
    long_ends
        (2, 2) endpoints of the axis, mm.

    Returns
    -------
    (length_mm, endpoints (2, 2))
    """
    axis = long_ends[1] - long_ends[0]
    u = axis / math.sqrt(axis @ axis)  # the Euclidean norm, as np.linalg.norm computes it
    w = np.array([-u[1], u[0]])
    t = vertices @ u
    s = vertices @ w
    t_next, s_next = np.concatenate((t[1:], t[:1])), np.concatenate((s[1:], s[:1]))  # np.roll's result
    query = t[:, np.newaxis]
    crossing = (query >= np.minimum(t, t_next)) & (query <= np.maximum(t, t_next)) & (t != t_next)
    span = np.where(t != t_next, t_next - t, 1.0)
    fraction = np.minimum(np.maximum((query - t) / span, 0.0), 1.0)  # np.clip's result, less overhead
    s_at = s + fraction * (s_next - s)
    s_high = np.where(crossing, s_at, -np.inf).max(axis=1)
    s_low = np.where(crossing, s_at, np.inf).min(axis=1)
    chords = s_high - s_low
    longest = chords.max()
    middle = float((long_ends[0] + long_ends[1]) / 2 @ u)
    tolerance = _REL_TIE * max(longest, 1.0)
    tied = np.flatnonzero(chords >= longest - tolerance)
    offset = np.abs(t[tied] - middle)
    nearest = tied[offset <= offset.min() + tolerance]
    k = nearest[np.argmin(t[nearest])]
    ends = np.array([t[k] * u + s_low[k] * w, t[k] * u + s_high[k] * w])
    return float(longest), ends
