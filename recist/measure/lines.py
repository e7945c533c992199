"""Geometry of measured lines in patient space (LPS, mm): the short axis proposed for a node.

RECIST 1.1 [E09] §3.1 / §4.2 measures a lymph node by its short axis, "perpendicular to the long axis"
and in the same (axial) plane of measurement. When a reader has drawn the long axis, the plugin proposes
the short axis as the segment through the long axis's midpoint, perpendicular to it within the image
plane; the reader then adjusts its endpoints to the node's borders. These are pure functions of the
endpoints and the image-plane normal (for an axial CT, the slice normal: the third column of the series'
``direction``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from recist.errors import MeasurementError

__all__ = ["perpendicular_line", "angle_between_deg", "Point3"]

Point3 = tuple[float, float, float]

_MIN_LENGTH_MM = 1e-6


def _vector(value: ArrayLike, name: str) -> NDArray[np.float64]:
    array = np.asarray(value, dtype=float)
    if array.shape != (3,) or not np.all(np.isfinite(array)):
        raise MeasurementError(f"{name} must be three finite numbers (LPS x, y, z) in mm, got {value!r}")
    return array


def perpendicular_line(
    start_mm: ArrayLike,
    end_mm: ArrayLike,
    *,
    plane_normal: ArrayLike,
    length_mm: float | None = None,
) -> tuple[Point3, Point3]:
    """The segment perpendicular to a long axis through its midpoint, in the plane of measurement.

    RECIST 1.1 [E09] §3.1 (lymph nodes: short axis perpendicular to the long axis, same plane).

    Parameters
    ----------
    start_mm, end_mm
        Long-axis endpoints, LPS (x, y, z) mm.
    plane_normal
        Normal of the image plane the long axis was drawn in (LPS; any length), e.g. the slice normal.
    length_mm
        Length of the proposed segment, mm; default half the long axis (a starting point the reader
        drags to the node's borders).

    Returns
    -------
    (start, end)
        Endpoints in LPS mm, centred on the long axis's midpoint; ``start`` lies on the side of
        ``normal x long-axis direction``'s negative half.

    Raises
    ------
    MeasurementError
        A zero-length long axis, a zero normal, or a long axis along the normal (not in the plane).

    Examples
    --------
    >>> perpendicular_line((0, 0, 5), (10, 0, 5), plane_normal=(0, 0, 1), length_mm=4)
    ((5.0, -2.0, 5.0), (5.0, 2.0, 5.0))
    """
    start, end = _vector(start_mm, "start_mm"), _vector(end_mm, "end_mm")
    normal = _vector(plane_normal, "plane_normal")
    axis = end - start
    long_mm = float(np.linalg.norm(axis))
    if long_mm < _MIN_LENGTH_MM:
        raise MeasurementError("the long axis has zero length: draw it from one border of the lesion to the other")
    norm = float(np.linalg.norm(normal))
    if norm < _MIN_LENGTH_MM:
        raise MeasurementError("plane_normal is the zero vector; pass the image plane's normal (slice normal)")
    across = np.cross(normal / norm, axis / long_mm)
    across_norm = float(np.linalg.norm(across))
    if across_norm < 1e-6:
        raise MeasurementError("the long axis runs along the plane normal: it must be drawn in the image plane")
    across /= across_norm
    half = 0.5 * (long_mm / 2.0 if length_mm is None else float(length_mm))
    if not math.isfinite(half) or half < 0:
        raise MeasurementError(f"length_mm must be a non-negative finite number of mm, got {length_mm!r}")
    middle = 0.5 * (start + end)
    first, second = middle - half * across, middle + half * across
    return tuple(float(v) for v in first), tuple(float(v) for v in second)  # type: ignore[return-value]


def angle_between_deg(first: tuple[ArrayLike, ArrayLike], second: tuple[ArrayLike, ArrayLike]) -> float:
    """The angle between two lines, degrees in [0, 90] (the direction of each line is ignored).

    Used to warn when an adjusted short axis is no longer perpendicular to the long axis
    (RECIST 1.1 [E09] §3.1).

    Examples
    --------
    >>> round(angle_between_deg(((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (1, 1, 0))), 6)
    45.0
    """
    a = _vector(first[1], "end") - _vector(first[0], "start")
    b = _vector(second[1], "end") - _vector(second[0], "start")
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < _MIN_LENGTH_MM or nb < _MIN_LENGTH_MM:
        raise MeasurementError("a line of zero length has no direction")
    cosine = min(1.0, abs(float(a @ b)) / (na * nb))
    return math.degrees(math.acos(cosine))
