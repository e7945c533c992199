"""'From mask': grow a lesion region from a click and propose its RECIST axes (no Qt).

The region is grown on the clicked axial slice with :func:`skimage.segmentation.flood` (pixels connected
to the seed within a tolerance of the seed's smoothed value), its holes filled; the axes come from
:func:`recist.measure.diameters.measure_lesions` (the same measurement as the CLI). The tolerance
defaults to 2.5 standard deviations of the 5x5 neighbourhood of the seed, at least 15 units (HU for CT),
so a lesion whose contrast to its organ exceeds that is separated from it. Choices in docs/plugin.md.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage
from skimage.segmentation import flood

from recist.errors import MeasurementError
from recist.measure.diameters import LesionAxes, measure_lesions

__all__ = ["grow_region", "axes_from_click"]

_MIN_TOLERANCE = 15.0


def grow_region(slice_yx: ArrayLike, seed_yx: tuple[int, int], tolerance: float | None = None) -> np.ndarray:
    """Boolean (y, x) region connected to ``seed_yx`` whose values lie within ``tolerance`` of the seed."""
    image = ndimage.uniform_filter(np.asarray(slice_yx, dtype=np.float32), size=3)
    y, x = seed_yx
    if not (0 <= y < image.shape[0] and 0 <= x < image.shape[1]):
        raise MeasurementError(f"the click ({y}, {x}) lies outside the image slice {image.shape}")
    if tolerance is None:
        patch = np.asarray(slice_yx, dtype=np.float32)[max(0, y - 2):y + 3, max(0, x - 2):x + 3]
        tolerance = max(_MIN_TOLERANCE, 2.5 * float(patch.std()))
    region = flood(image, (y, x), tolerance=tolerance)
    opened = ndimage.binary_opening(region)
    if opened[y, x]:
        region = opened  # drop one-pixel bridges into neighbouring tissue
    labels, _ = ndimage.label(ndimage.binary_fill_holes(region))
    return labels == labels[y, x]


def axes_from_click(volume: ArrayLike, *, affine: ArrayLike, point_lps_mm: ArrayLike,
                    tolerance: float | None = None, max_fraction: float = 0.25) -> LesionAxes:
    """RECIST axes of the region grown from a click (LPS mm) in a (z, y, x) volume with ``affine``.

    Raises
    ------
    MeasurementError
        The click is outside the image, or the region leaks over more than ``max_fraction`` of the
        slice (no lesion edge found: click inside the lesion or lower the tolerance).
    """
    array = np.asarray(volume)
    matrix = np.asarray(affine, dtype=float)
    index = np.linalg.solve(matrix[:3, :3], np.asarray(point_lps_mm, dtype=float) - matrix[:3, 3])
    k, j, i = (int(round(v)) for v in index)
    if not 0 <= k < array.shape[0]:
        raise MeasurementError(f"the click is outside the series (slice index {k} of {array.shape[0]})")
    region = grow_region(array[k], (j, i), tolerance)
    if region.sum() > max_fraction * region.size:
        raise MeasurementError("the grown region covers most of the slice: no lesion border found; click "
                               "inside the lesion or draw the axes by hand")
    mask = np.zeros(array.shape, dtype=bool)
    mask[k] = region
    spacing = np.linalg.norm(matrix[:3, :3], axis=0)
    direction = matrix[:3, :3] / spacing
    origin = matrix[:3, 3]
    (axes,) = measure_lesions(mask, spacing_mm=tuple(spacing), origin_mm=origin, direction=direction[:, ::-1])
    return axes
