"""Grow a lesion from a click in 3-D and decide whether the grown region can be a lesion at all.

"From mask" in the napari plugin calls these functions; they hold no GUI code. The region is the set of
voxels 6-connected to the seed whose smoothed value lies within a tolerance of the seed's value:

- **Smoothing.** A Gaussian of 0.7 voxel in-plane (each slice on its own): noise falls by ~2.5 while
  the half-way point of an edge stays in place.
- **Tolerance: the half-way boundary.** The tolerance is half the contrast between the lesion and what
  surrounds it, so the region ends where the value is half-way between lesion and background: the same
  half-way outline :func:`recist.measure.diameters.measure_lesions` measures on masks (and a reader's
  edge-to-edge calliper). It is found in two passes: a first region grown with ``2 x`` the image noise
  (at least 15 units) around the seed's value (median of the smoothed 3 x 3 patch); the lesion value
  becomes the median of that region (when it agrees with the seed within ``2 x`` noise) and the
  surrounding value the median of an in-plane shell 2-3 voxels outside it (beyond the partial-volume
  ring); the tolerance is ``|surround - lesion| / 2``, at least ``2 x`` noise. Both values are then
  re-estimated from the region grown with them, up to :data:`CALIBRATION_PASSES` times (until they move
  by less than half the noise): a click off the centre of a small lesion starts from a partial-volume
  value, and one pass from it stopped short of the lesion's edge (T1 of the sample patient at week 24,
  17 mm on 3 mm pixels, measured 12.4 mm). The noise is the robust standard deviation (median absolute
  deviation) of horizontal neighbour differences on the clicked slice, divided by sqrt(2).
- **Clean-up.** Each slice's holes are filled (necrosis, calcification) and a 2-D opening removes
  one-voxel bridges into neighbouring tissue; the outline voxels the opening also removed (the corners of
  a small or oblique lesion's staircase outline) are put back, so a bridge keeps at most its first voxel.

A region is refused (:class:`recist.errors.MeasurementError`, with the reason and what to do) when it
touches the border of the image (the lesion is not inside the scanned volume, or the region has leaked
into the body wall or the air), when it is implausibly large for a lesion (long axis over
:data:`MAX_LESION_MM`, or over :data:`MAX_NODE_MM` for a lymph node), or when it leaks over a large part of
the slice. Refusing is the point: a leak must never be measured silently.

Choices (not given by RECIST 1.1, which defines how to measure a lesion, not how to find it) are written
down in docs/plugin.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage
from skimage.segmentation import flood

from recist.errors import MeasurementError
from recist.measure.diameters import LesionAxes, measure_lesions

__all__ = ["GrownLesion", "grow_lesion", "check_region", "measure_grown", "noise_sigma", "MAX_LESION_MM", "MAX_NODE_MM",
           "MAX_SLICE_FRACTION", "MIN_TOLERANCE"]

#: Longest diameter, mm, above which a grown region is not taken for a lesion. RECIST 1.1 sets no upper
#: size; 200 mm is larger than any solid-tumour lesion a reader would measure as one target (and than
#: most livers are wide), so a larger region has leaked into an organ.
MAX_LESION_MM = 200.0
#: Longest diameter, mm, above which a grown region is not taken for a lymph node (bulky nodal masses
#: are rarely above 100 mm; a larger region has leaked into muscle or vessels of the same density).
MAX_NODE_MM = 100.0
#: A region covering more than this fraction of a slice's area has leaked (no lesion border found).
MAX_SLICE_FRACTION = 0.25
#: The smallest tolerance, image units (HU for CT): below it noise splits a lesion.
MIN_TOLERANCE = 15.0


@dataclass(frozen=True)
class GrownLesion:
    """A region grown from a click, with its RECIST axes.

    Attributes
    ----------
    mask
        (z, y, x) boolean region, the shape of the image.
    axes
        Long and short axes of the region (on its slice of largest extent), from
        :func:`recist.measure.diameters.measure_lesions`.
    tolerance
        The tolerance used (image units) and ``seed_value`` the seed's smoothed value.
    """

    mask: NDArray[np.bool_]
    axes: LesionAxes
    tolerance: float
    seed_value: float


def noise_sigma(slice_yx: ArrayLike) -> float:
    """Robust noise standard deviation of an image slice (image units).

    The median absolute deviation of horizontal neighbour differences, times 1.4826 (normal
    consistency) and divided by sqrt(2) (a difference of two independent values has twice the
    variance). Edges are rare among all neighbour pairs, so they do not move the median.
    """
    image = np.asarray(slice_yx, dtype=np.float64)
    if image.shape[-1] < 2:
        return 0.0
    diffs = np.diff(image, axis=-1).ravel()
    mad = np.median(np.abs(diffs - np.median(diffs)))
    return float(1.4826 * mad / np.sqrt(2.0))


#: In-plane Gaussian smoothing, voxels.
SMOOTH_SIGMA = 0.7


def _smooth(volume: NDArray) -> NDArray[np.float32]:
    return ndimage.gaussian_filter(np.asarray(volume, dtype=np.float32), sigma=(0, SMOOTH_SIGMA, SMOOTH_SIGMA),
                                   mode="nearest")


def _region(smoothed: NDArray[np.float32], seed: tuple[int, int, int], value: float, tolerance: float) -> NDArray:
    inside = np.abs(smoothed - value) <= tolerance
    if not inside[seed]:
        return np.zeros(smoothed.shape, bool)
    region = flood(inside.view(np.uint8), seed, connectivity=1).astype(bool)
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)
    opened = ndimage.binary_opening(region, structure=structure)
    if opened[seed]:  # the voxels the opening cut from the outline come back; a bridge keeps one voxel at most
        region = region & ndimage.binary_dilation(opened, structure=structure)
    filled = np.zeros_like(region)
    for k in np.flatnonzero(region.any(axis=(1, 2))):
        filled[k] = ndimage.binary_fill_holes(region[k])
    labels, _ = ndimage.label(filled, structure=ndimage.generate_binary_structure(3, 1))
    return labels == labels[seed]


#: Passes that re-estimate the lesion and surround values from the region grown with the previous ones.
CALIBRATION_PASSES = 3


def _calibrate(array: NDArray, region: NDArray, seed_value: float, sigma: float) -> tuple[float, float]:
    """The lesion value and the half-way tolerance from a grown ``region`` (see the module docstring)."""
    in_plane = np.zeros((3, 3, 3), bool)
    in_plane[1] = ndimage.generate_binary_structure(2, 1)
    near = ndimage.binary_dilation(region, structure=in_plane, iterations=1)
    shell = ndimage.binary_dilation(region, structure=in_plane, iterations=3) & ~near
    value = seed_value
    if region.any() and abs(float(np.median(array[region])) - seed_value) <= 2.0 * sigma:
        value = float(np.median(array[region]))
    if not shell.any():
        return value, max(MIN_TOLERANCE, 3.0 * sigma)
    surround = float(np.median(array[shell]))
    return value, max(abs(surround - value) / 2.0, 2.0 * sigma)


def grow_lesion(volume: ArrayLike, seed_zyx: tuple[int, int, int], *, tolerance: float | None = None) -> tuple[
        NDArray[np.bool_], float, float]:
    """The 3-D region of the lesion around ``seed_zyx`` (index) in a (z, y, x) image.

    Returns
    -------
    mask, tolerance, seed_value
        The region (boolean, the shape of ``volume``), the tolerance used and the seed's smoothed value.

    Raises
    ------
    MeasurementError
        The seed lies outside the image.
    """
    array = np.asarray(volume)
    if array.ndim != 3:
        raise MeasurementError(f"grow_lesion needs a (z, y, x) image, got shape {array.shape}")
    seed = tuple(int(v) for v in seed_zyx)
    if not all(0 <= s < n for s, n in zip(seed, array.shape)):
        raise MeasurementError(f"the click (index {seed}) lies outside the image {array.shape}")
    smoothed = _smooth(array)
    k, j, i = seed
    value = float(np.median(smoothed[k, max(0, j - 1):j + 2, max(0, i - 1):i + 2]))
    sigma = noise_sigma(array[k])
    if tolerance is None:
        seed_value = value
        region = _region(smoothed, seed, value, max(MIN_TOLERANCE, 2.0 * sigma))
        for _ in range(CALIBRATION_PASSES):
            new_value, new_tolerance = _calibrate(array, region, seed_value, sigma)
            if tolerance is not None and abs(new_value - value) < 0.5 * sigma and abs(new_tolerance - tolerance) < 0.5 * sigma:
                break
            value, tolerance = new_value, new_tolerance
            region = _region(smoothed, seed, value, tolerance)
        return region, float(tolerance), value
    return _region(smoothed, seed, value, float(tolerance)), float(tolerance), value


def check_region(mask: ArrayLike, axes: LesionAxes, *, nodal: bool = False) -> None:
    """Refuse a grown region that cannot be a lesion (docstring of the module: border, size, leak).

    Raises
    ------
    MeasurementError
        Naming the reason and what to do instead.
    """
    region = np.asarray(mask, dtype=bool)
    touches = (region[0].any() or region[-1].any() or region[:, 0].any() or region[:, -1].any()
               or region[:, :, 0].any() or region[:, :, -1].any())
    if touches:
        raise MeasurementError("the grown region touches the border of the image: the lesion is not inside the "
                               "scanned volume or the region leaked out of it; click nearer the lesion's centre "
                               "or draw the axes by hand")
    fraction = float(region.sum(axis=(1, 2)).max()) / (region.shape[1] * region.shape[2])
    if fraction > MAX_SLICE_FRACTION:
        raise MeasurementError(f"the grown region covers {fraction:.0%} of a slice: no lesion border found; click "
                               "inside the lesion or draw the axes by hand")
    limit = MAX_NODE_MM if nodal else MAX_LESION_MM
    if axes.long_axis_mm > limit:
        what = "a lymph node" if nodal else "a lesion"
        raise MeasurementError(f"the grown region is {axes.long_axis_mm:.0f} mm long, more than {what} can be "
                               f"(> {limit:.0f} mm): it leaked into neighbouring tissue; draw the axes by hand")


def measure_grown(volume: ArrayLike, *, affine: ArrayLike, point_lps_mm: ArrayLike, nodal: bool = False,
                  tolerance: float | None = None) -> GrownLesion:
    """Grow the lesion clicked at ``point_lps_mm`` in a (z, y, x) image with ``affine`` (index (z, y, x)
    -> LPS (x, y, z)), check it and measure it (the slice of largest extent carries the axes).

    Raises
    ------
    MeasurementError
        The click is outside the image, or the region is refused (:func:`check_region`).
    """
    array = np.asarray(volume)
    matrix = np.asarray(affine, dtype=float)
    index = np.linalg.solve(matrix[:3, :3], np.asarray(point_lps_mm, dtype=float) - matrix[:3, 3])
    seed = tuple(int(round(v)) for v in index)
    mask, used, value = grow_lesion(array, seed, tolerance=tolerance)  # type: ignore[arg-type]
    if not mask.any():
        raise MeasurementError("no region grows from the click: click inside the lesion")
    spacing = np.linalg.norm(matrix[:3, :3], axis=0)
    direction = matrix[:3, :3] / spacing
    # measure_lesions takes spacing (z, y, x) and a direction whose columns are the index x, y, z axes
    (axes,) = measure_lesions(mask, spacing_mm=tuple(spacing), origin_mm=matrix[:3, 3],
                              direction=direction[:, ::-1])
    check_region(mask, axes, nodal=nodal)
    return GrownLesion(mask=mask, axes=axes, tolerance=used, seed_value=value)
