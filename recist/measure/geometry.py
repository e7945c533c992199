"""Voxel index <-> patient coordinates (DICOM LPS, millimetres).

Conventions (the whole project uses them; see ``docs/measurement.md``):

- arrays are indexed ``(z, y, x)``; ``spacing_mm`` is ``(z, y, x)`` in the same order;
- ``origin_mm`` is the LPS position ``(x, y, z)`` of the *centre* of voxel ``(0, 0, 0)``
  (DICOM ImagePositionPatient of the first slice; SimpleITK ``GetOrigin()``);
- ``direction`` is a 3x3 array whose COLUMNS are the LPS unit vectors of the array's x, y and z index
  axes (DICOM ImageOrientationPatient row/column cosines and the slice normal; SimpleITK
  ``np.reshape(GetDirection(), (3, 3))``).

So a voxel at index ``(k, j, i)`` (z, y, x) lies at
``origin_mm + direction @ (i * sx, j * sy, k * sz)`` (DICOM PS3.3 C.7.6.2.1.1, "Image Position and
Image Orientation"; the same mapping as ITK's ``TransformIndexToPhysicalPoint``).

All functions are pure, accept float (sub-voxel) indices and are vectorised over N points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from recist.errors import MeasurementError

__all__ = [
    "ImageGeometry",
    "affine_from_geometry",
    "check_same_geometry",
    "index_to_patient",
    "line_length_mm",
    "patient_to_index",
    "validate_spacing_mm",
]

#: Tolerances of :func:`check_same_geometry`. Files written as NIfTI store float32 headers, so exact
#: equality with a DICOM-derived geometry is too strict; these allow rounding, not a different grid.
SPACING_REL_TOL = 1e-3  # relative difference of each spacing
ORIGIN_TOL_VOXELS = 0.01  # origin difference, as a fraction of the smallest spacing
DIRECTION_TOL = 1e-3  # absolute difference of each direction cosine


def validate_spacing_mm(spacing_mm: ArrayLike, *, what: str = "spacing_mm") -> NDArray[np.float64]:
    """Return ``spacing_mm`` as a float array of three positive finite values (z, y, x), in mm.

    Raises
    ------
    MeasurementError
        If it is not three positive finite numbers (names ``what``).
    """
    try:
        spacing = np.asarray(spacing_mm, dtype=float)
    except (TypeError, ValueError) as exc:
        raise MeasurementError(f"{what} must be three numbers (z, y, x) in mm, got {spacing_mm!r}") from exc
    if spacing.shape != (3,) or not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
        raise MeasurementError(
            f"{what} must be three positive finite numbers (z, y, x) in mm, got {spacing_mm!r}"
        )
    return spacing


def _validate_origin(origin_mm: ArrayLike) -> NDArray[np.float64]:
    origin = np.asarray(origin_mm, dtype=float)
    if origin.shape != (3,) or not np.all(np.isfinite(origin)):
        raise MeasurementError(f"origin_mm must be three finite numbers (LPS x, y, z) in mm, got {origin_mm!r}")
    return origin


def _validate_direction(direction: ArrayLike) -> NDArray[np.float64]:
    matrix = np.asarray(direction, dtype=float)
    if matrix.shape == (9,):
        matrix = matrix.reshape(3, 3)
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
        raise MeasurementError(
            "direction must be a 3x3 matrix whose columns are the LPS unit vectors of the x, y, z index "
            f"axes (SimpleITK GetDirection() reshaped to 3x3), got shape {np.shape(direction)}"
        )
    if abs(np.linalg.det(matrix)) < 1e-6:
        raise MeasurementError(f"direction matrix is singular (determinant ~0): {matrix.tolist()}")
    return matrix


def affine_from_geometry(
    *, origin_mm: ArrayLike, spacing_mm: ArrayLike, direction: ArrayLike
) -> NDArray[np.float64]:
    """Return the 4x4 affine mapping homogeneous index ``(z, y, x, 1)`` to LPS ``(x, y, z, 1)`` in mm.

    DICOM PS3.3 C.7.6.2.1.1 (equation of Image Position / Orientation), with the index in array order.

    Parameters
    ----------
    origin_mm
        LPS (x, y, z) of the centre of voxel (0, 0, 0), mm.
    spacing_mm
        Voxel spacing (z, y, x), mm.
    direction
        3x3, columns = LPS unit vectors of the x, y, z index axes.

    Examples
    --------
    >>> A = affine_from_geometry(origin_mm=(10, 20, 30), spacing_mm=(5, 0.5, 0.5), direction=np.eye(3))
    >>> (A @ [2, 4, 6, 1]).tolist()
    [13.0, 22.0, 40.0, 1.0]
    """
    origin = _validate_origin(origin_mm)
    spacing = validate_spacing_mm(spacing_mm)
    matrix = _validate_direction(direction)
    affine = np.eye(4)
    # Columns of direction are (x, y, z) axes; the index is (z, y, x): reverse the columns.
    affine[:3, :3] = (matrix * spacing[::-1][np.newaxis, :])[:, ::-1]
    affine[:3, 3] = origin
    return affine


def _as_points(points: ArrayLike, name: str) -> tuple[NDArray[np.float64], bool]:
    array = np.asarray(points, dtype=float)
    single = array.ndim == 1
    array = np.atleast_2d(array)
    if array.ndim != 2 or array.shape[1] != 3:
        raise MeasurementError(f"{name} must be one point of 3 coordinates or an (N, 3) array, got shape "
                               f"{np.shape(points)}")
    return array, single


def index_to_patient(
    index_zyx: ArrayLike, *, origin_mm: ArrayLike, spacing_mm: ArrayLike, direction: ArrayLike
) -> NDArray[np.float64]:
    """Map voxel indices (z, y, x), possibly fractional, to LPS (x, y, z) in mm.

    Parameters
    ----------
    index_zyx
        One index ``(3,)`` or ``(N, 3)`` indices in array order.

    Returns
    -------
    numpy.ndarray
        ``(3,)`` or ``(N, 3)`` LPS positions (x, y, z) in mm, matching the input's shape.

    Examples
    --------
    >>> index_to_patient([1, 0, 0], origin_mm=(0, 0, -50), spacing_mm=(2.5, 1, 1), direction=np.eye(3))
    array([  0. ,   0. , -47.5])
    """
    points, single = _as_points(index_zyx, "index_zyx")
    affine = affine_from_geometry(origin_mm=origin_mm, spacing_mm=spacing_mm, direction=direction)
    out = points @ affine[:3, :3].T + affine[:3, 3]
    return out[0] if single else out


def patient_to_index(
    point_lps_mm: ArrayLike, *, origin_mm: ArrayLike, spacing_mm: ArrayLike, direction: ArrayLike
) -> NDArray[np.float64]:
    """Map LPS (x, y, z) positions in mm to fractional voxel indices (z, y, x); inverse of
    :func:`index_to_patient`. Round the result yourself if you need the containing voxel.

    Examples
    --------
    >>> patient_to_index([0, 0, -47.5], origin_mm=(0, 0, -50), spacing_mm=(2.5, 1, 1), direction=np.eye(3))
    array([1., 0., 0.])
    """
    points, single = _as_points(point_lps_mm, "point_lps_mm")
    affine = affine_from_geometry(origin_mm=origin_mm, spacing_mm=spacing_mm, direction=direction)
    out = np.linalg.solve(affine[:3, :3], (points - affine[:3, 3]).T).T
    return out[0] if single else out


def line_length_mm(start_mm: ArrayLike, end_mm: ArrayLike) -> NDArray[np.float64] | float:
    """Euclidean length in mm of lines between patient positions (LPS mm); vectorised over N lines.

    Examples
    --------
    >>> line_length_mm([0, 0, 0], [3, 4, 0])
    5.0
    """
    start = np.asarray(start_mm, dtype=float)
    end = np.asarray(end_mm, dtype=float)
    if start.shape != end.shape or start.shape[-1:] != (3,):
        raise MeasurementError(
            f"line endpoints must both be (3,) or (N, 3) LPS positions, got {start.shape} and {end.shape}"
        )
    length = np.sqrt(np.sum((end - start) ** 2, axis=-1))
    return float(length) if length.ndim == 0 else length


@dataclass(frozen=True)
class ImageGeometry:
    """The grid of an image: array ``shape`` (z, y, x), ``spacing_mm`` (z, y, x), ``origin_mm`` (LPS x, y,
    z of voxel (0, 0, 0)) and ``direction`` (3x3, columns = LPS axes of index x, y, z)."""

    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float]
    direction: tuple[tuple[float, float, float], ...]

    @classmethod
    def from_arrays(
        cls, *, shape: Sequence[int], spacing_mm: ArrayLike, origin_mm: ArrayLike, direction: ArrayLike
    ) -> ImageGeometry:
        """Build from array-likes, validating each field."""
        matrix = _validate_direction(direction)
        return cls(
            shape=tuple(int(n) for n in shape),  # type: ignore[arg-type]
            spacing_mm=tuple(validate_spacing_mm(spacing_mm).tolist()),  # type: ignore[arg-type]
            origin_mm=tuple(_validate_origin(origin_mm).tolist()),  # type: ignore[arg-type]
            direction=tuple(tuple(row) for row in matrix.tolist()),
        )

    def differences(self, other: ImageGeometry) -> list[str]:
        """Describe every way ``other`` differs from this geometry beyond rounding (empty if none);
        each entry reads ``"<field> <other> vs <self>"``.

        Tolerances: spacing within 0.1 % (``SPACING_REL_TOL``), origin within 1 % of the smallest voxel
        side (``ORIGIN_TOL_VOXELS``), direction cosines within 1e-3 (``DIRECTION_TOL``).
        """
        out: list[str] = []
        if tuple(self.shape) != tuple(other.shape):
            out.append(f"size (z, y, x) {tuple(other.shape)} vs {tuple(self.shape)}")
        spacing_a, spacing_b = np.asarray(self.spacing_mm), np.asarray(other.spacing_mm)
        if np.any(np.abs(spacing_a - spacing_b) > SPACING_REL_TOL * spacing_a):
            out.append(f"spacing (z, y, x) mm {_fmt(spacing_b)} vs {_fmt(spacing_a)}")
        origin_tol = ORIGIN_TOL_VOXELS * float(min(spacing_a.min(), spacing_b.min()))
        if np.any(np.abs(np.asarray(self.origin_mm) - np.asarray(other.origin_mm)) > origin_tol):
            out.append(f"origin (LPS x, y, z) mm {_fmt(other.origin_mm)} vs {_fmt(self.origin_mm)}")
        if np.any(np.abs(np.asarray(self.direction) - np.asarray(other.direction)) > DIRECTION_TOL):
            out.append(
                f"direction {np.round(other.direction, 4).tolist()} vs {np.round(self.direction, 4).tolist()}"
            )
        return out


def _fmt(values: ArrayLike) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in np.asarray(values, dtype=float)) + ")"


def check_same_geometry(
    image: ImageGeometry, mask: ImageGeometry, *, image_source: str, mask_source: str
) -> None:
    """Raise :class:`MeasurementError` naming both sources and each difference unless ``mask`` lies on
    the same voxel grid as ``image`` (within the tolerances of :meth:`ImageGeometry.differences`)."""
    differences = image.differences(mask)
    if differences:
        raise MeasurementError(
            f"mask {mask_source} does not match the grid of image {image_source}: "
            + "; ".join(differences)
            + " (mask vs image)"
            + ". Resample the mask onto the image grid (or pass the image it was drawn on)."
        )
