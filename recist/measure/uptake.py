"""Lesion uptake on an SUV image: SUVmax, SUVmean, SUVpeak and a Krenning-like uptake score.

Pure functions: arrays in, numbers out. Arrays are (z, y, x); ``spacing_mm`` (z, y, x) is a required
keyword. The SUV image is whatever SUV the caller chose (normally SUVbw from
:func:`recist.io.pet.load_suv_volume`).

SUVpeak
    The highest mean SUV within a sphere of 1 cm^3 (radius 6.2035 mm), as in PERCIST 1.0 (Wahl et al.,
    J Nucl Med 2009;50:122S, "SUVpeak ... 1.0 cm^3 spherical VOI") and the EANM/EARL definition
    (Boellaard et al., EJNMMI 2015). Choices, stated because the definitions differ between software:
    the sphere's *centre* is restricted to voxels of the lesion mask; the voxels *averaged* are taken
    from the whole image (not only the lesion); a voxel belongs to the sphere when its centre is within
    the radius of the sphere's centre (no partial-volume weights), with the anisotropic spacing honoured;
    near the image border the mean is over the sphere voxels that exist. It is computed for all centres
    at once by a convolution with the spherical kernel (FFT or direct, whichever scipy finds faster) on
    the lesion's bounding box padded by the radius.

Uptake score (Krenning-like)
    The Krenning scale grades somatostatin-receptor uptake on planar scintigraphy against liver and
    spleen (Krenning et al., J Nucl Med 1993;34 / Ann N Y Acad Sci 1994: 1 < liver, 2 = liver,
    3 > liver, 4 > spleen); Hope et al. (J Nucl Med 2018;59:66, SNMMI procedure standard for SSTR PET)
    describe the same liver/spleen comparison on PET. This module adapts it to PET quantitatively:
    the lesion's SUVmax (or SUVpeak) is compared with the SUVmean of liver and spleen reference regions;
    "about liver" is within +/-10 % of liver SUVmean (``liver_tolerance``; roughly the test-retest
    repeatability of liver SUVmean, so smaller differences are not distinguishable). Score 0 ("no
    uptake") needs a background region: lesion value at or below the background SUVmean. See docs/pet.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recist.errors import MeasurementError

__all__ = [
    "PEAK_SPHERE_RADIUS_MM",
    "LesionUptake",
    "UptakeScore",
    "spherical_kernel",
    "suv_peak",
    "lesion_uptake",
    "krenning_like_score",
    "uptake_score",
]

#: Radius (mm) of a sphere of 1 cm^3: (3 * 1000 / (4 pi))^(1/3) [PERCIST 1.0].
PEAK_SPHERE_RADIUS_MM = (3.0 * 1000.0 / (4.0 * math.pi)) ** (1.0 / 3.0)

#: "About liver" band of the uptake score: +/- this fraction of liver SUVmean.
LIVER_TOLERANCE = 0.10


@dataclass(frozen=True)
class LesionUptake:
    """Uptake of one lesion (SUV units of the input image, volume in ml).

    ``peak_index`` is the (z, y, x) voxel index of the SUVpeak sphere centre; ``peak_voxels`` the number of
    voxels averaged there.
    """

    suv_max: float
    suv_mean: float
    suv_peak: float
    peak_index: tuple[int, int, int]
    peak_voxels: int
    voxel_count: int
    volume_ml: float


@dataclass(frozen=True)
class UptakeScore:
    """Krenning-like uptake score of one lesion against liver and spleen (0-4, see module docstring)."""

    score: int
    lesion_suv: float
    lesion_metric: str
    liver_suv_mean: float
    spleen_suv_mean: float
    background_suv_mean: float | None
    liver_tolerance: float
    reason: str


def _check_spacing(spacing_mm: tuple[float, float, float]) -> tuple[float, float, float]:
    spacing = tuple(float(s) for s in spacing_mm)
    if len(spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in spacing):
        raise MeasurementError(f"spacing_mm must be three positive (z, y, x) millimetres, got {spacing_mm!r}")
    return spacing  # type: ignore[return-value]


def _check_pair(suv: np.ndarray, mask: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    suv = np.asarray(suv)
    mask = np.asarray(mask).astype(bool)
    if suv.ndim != 3:
        raise MeasurementError(f"the SUV image must be 3-D (z, y, x), got shape {suv.shape}")
    if mask.shape != suv.shape:
        raise MeasurementError(f"{name} mask shape {mask.shape} differs from the SUV image shape {suv.shape}")
    if not mask.any():
        raise MeasurementError(f"{name} mask is empty: nothing to measure")
    if not np.isfinite(suv[mask]).all():
        raise MeasurementError(f"the SUV image has NaN or infinite values inside the {name} mask")
    return suv, mask


def spherical_kernel(spacing_mm: tuple[float, float, float], radius_mm: float = PEAK_SPHERE_RADIUS_MM) -> np.ndarray:
    """Boolean (z, y, x) kernel of the voxels whose centres lie within ``radius_mm`` of the centre voxel's.

    Examples
    --------
    >>> int(spherical_kernel((4.0, 4.0, 4.0)).sum())
    19
    """
    spacing = _check_spacing(spacing_mm)
    half = [int(math.floor(radius_mm / s)) for s in spacing]
    axes = [np.arange(-h, h + 1) * s for h, s in zip(half, spacing)]
    zz, yy, xx = np.meshgrid(*axes, indexing="ij")
    return (zz**2 + yy**2 + xx**2) <= radius_mm**2 * (1.0 + 1e-12)


def suv_peak(
    suv: np.ndarray,
    mask: np.ndarray,
    *,
    spacing_mm: tuple[float, float, float],
    radius_mm: float = PEAK_SPHERE_RADIUS_MM,
) -> tuple[float, tuple[int, int, int], int]:
    """SUVpeak: the highest mean within a sphere centred on a lesion voxel (module docstring).

    Returns
    -------
    (value, centre index (z, y, x), number of voxels averaged)
    """
    from scipy.signal import convolve

    suv, mask = _check_pair(suv, mask, "lesion")
    kernel = spherical_kernel(spacing_mm, radius_mm)
    half = np.array(kernel.shape) // 2
    where = np.argwhere(mask)
    low = np.maximum(where.min(axis=0) - half, 0)
    high = np.minimum(where.max(axis=0) + half + 1, suv.shape)
    box = tuple(slice(a, b) for a, b in zip(low, high))
    values = suv[box].astype(np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        raise MeasurementError("the SUV image has NaN or infinite values within the SUVpeak sphere of the lesion")
    weights = kernel.astype(np.float64)
    sums = convolve(values, weights, mode="same")
    counts = convolve(np.ones_like(values), weights, mode="same")
    counts = np.rint(counts)
    means = sums / counts
    inside = mask[box]
    candidates = np.where(inside, means, -np.inf)
    flat = int(np.argmax(candidates))
    local = np.unravel_index(flat, candidates.shape)
    centre = tuple(int(i + o) for i, o in zip(local, low))
    return float(means[local]), centre, int(counts[local])  # type: ignore[return-value]


def lesion_uptake(
    suv: np.ndarray,
    mask: np.ndarray,
    *,
    spacing_mm: tuple[float, float, float],
    peak_radius_mm: float = PEAK_SPHERE_RADIUS_MM,
) -> LesionUptake:
    """SUVmax, SUVmean (over the mask) and SUVpeak of one lesion.

    Raises
    ------
    MeasurementError
        Shapes differ, the mask is empty, the spacing is invalid or SUV values are not finite.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.ones((5, 5, 5)); lesion = np.zeros((5, 5, 5), bool); lesion[2, 2, 2] = True
    >>> lesion_uptake(image, lesion, spacing_mm=(4.0, 4.0, 4.0)).suv_peak
    1.0
    """
    spacing = _check_spacing(spacing_mm)
    suv, mask = _check_pair(suv, mask, "lesion")
    values = suv[mask].astype(np.float64)
    peak, centre, count = suv_peak(suv, mask, spacing_mm=spacing, radius_mm=peak_radius_mm)
    voxels = int(mask.sum())
    return LesionUptake(
        suv_max=float(values.max()),
        suv_mean=float(values.mean()),
        suv_peak=peak,
        peak_index=centre,
        peak_voxels=count,
        voxel_count=voxels,
        volume_ml=voxels * spacing[0] * spacing[1] * spacing[2] / 1000.0,
    )


def krenning_like_score(
    lesion_suv: float,
    liver_suv_mean: float,
    spleen_suv_mean: float,
    *,
    background_suv_mean: float | None = None,
    liver_tolerance: float = LIVER_TOLERANCE,
    lesion_metric: str = "SUVmax",
) -> UptakeScore:
    """Grade lesion uptake against liver and spleen in the manner of the Krenning scale.

    Krenning 1993 (planar somatostatin-receptor scintigraphy) adapted to PET as in Hope 2018 practice:
    0 lesion <= background SUVmean (only when a background is given); 1 lesion < (1 - tol) x liver;
    2 within +/- tol of liver; 3 above (1 + tol) x liver and not above spleen; 4 above (1 + tol) x liver
    and above spleen SUVmean.

    Examples
    --------
    >>> krenning_like_score(12.0, 6.0, 9.0).score
    4
    >>> krenning_like_score(6.3, 6.0, 9.0).score
    2
    """
    for name, value in (("lesion", lesion_suv), ("liver", liver_suv_mean), ("spleen", spleen_suv_mean)):
        if not math.isfinite(value) or value < 0:
            raise MeasurementError(f"{name} SUV must be finite and >= 0, got {value!r}")
    if liver_suv_mean <= 0:
        raise MeasurementError("liver SUVmean is 0: the liver reference region has no uptake; check the mask")
    if not 0 <= liver_tolerance < 1:
        raise MeasurementError(f"liver_tolerance must be in [0, 1), got {liver_tolerance!r}")
    low, high = (1 - liver_tolerance) * liver_suv_mean, (1 + liver_tolerance) * liver_suv_mean
    if background_suv_mean is not None and lesion_suv <= background_suv_mean:
        score, reason = 0, f"{lesion_metric} {lesion_suv:.3g} <= background SUVmean {background_suv_mean:.3g}"
    elif lesion_suv < low:
        score, reason = 1, f"{lesion_metric} {lesion_suv:.3g} below liver band {low:.3g}-{high:.3g}"
    elif lesion_suv <= high:
        score, reason = 2, f"{lesion_metric} {lesion_suv:.3g} within liver band {low:.3g}-{high:.3g}"
    elif lesion_suv <= spleen_suv_mean:
        score, reason = 3, (f"{lesion_metric} {lesion_suv:.3g} above liver band (>{high:.3g}), not above "
                            f"spleen SUVmean {spleen_suv_mean:.3g}")
    else:
        score, reason = 4, (f"{lesion_metric} {lesion_suv:.3g} above liver band (>{high:.3g}) and spleen "
                            f"SUVmean {spleen_suv_mean:.3g}")
    return UptakeScore(
        score=score,
        lesion_suv=float(lesion_suv),
        lesion_metric=lesion_metric,
        liver_suv_mean=float(liver_suv_mean),
        spleen_suv_mean=float(spleen_suv_mean),
        background_suv_mean=None if background_suv_mean is None else float(background_suv_mean),
        liver_tolerance=float(liver_tolerance),
        reason=reason,
    )


def uptake_score(
    suv: np.ndarray,
    lesion_mask: np.ndarray,
    liver_mask: np.ndarray,
    spleen_mask: np.ndarray,
    *,
    spacing_mm: tuple[float, float, float],
    background_mask: np.ndarray | None = None,
    lesion_metric: str = "SUVmax",
    liver_tolerance: float = LIVER_TOLERANCE,
) -> UptakeScore:
    """Krenning-like score of a lesion from masks: lesion SUVmax (or ``"SUVpeak"``) vs liver/spleen SUVmean.

    Raises
    ------
    MeasurementError
        A mask is empty or of the wrong shape, or ``lesion_metric`` is not SUVmax/SUVpeak.
    """
    if lesion_metric not in ("SUVmax", "SUVpeak"):
        raise MeasurementError(f"lesion_metric must be 'SUVmax' or 'SUVpeak', got {lesion_metric!r}")
    lesion = lesion_uptake(suv, lesion_mask, spacing_mm=spacing_mm)
    value = lesion.suv_max if lesion_metric == "SUVmax" else lesion.suv_peak
    liver = float(np.asarray(suv)[_check_pair(suv, liver_mask, "liver")[1]].mean())
    spleen = float(np.asarray(suv)[_check_pair(suv, spleen_mask, "spleen")[1]].mean())
    background = None
    if background_mask is not None:
        background = float(np.asarray(suv)[_check_pair(suv, background_mask, "background")[1]].mean())
    return krenning_like_score(
        value, liver, spleen, background_suv_mean=background, liver_tolerance=liver_tolerance,
        lesion_metric=lesion_metric,
    )
