"""Lesion uptake: SUVmax/mean, SUVpeak (checked against a brute-force loop) and the Krenning-like score."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from recist.errors import MeasurementError
from recist.measure.uptake import (
    PEAK_SPHERE_RADIUS_MM,
    krenning_like_score,
    lesion_uptake,
    spherical_kernel,
    suv_peak,
    uptake_score,
)


def brute_force_peak(suv, mask, spacing, radius):
    """SUVpeak by definition: for each lesion voxel, mean of image voxels whose centres are within radius."""
    best = -math.inf
    shape = suv.shape
    for centre in zip(*np.nonzero(mask)):
        values = []
        for idx in itertools.product(*(range(n) for n in shape)):
            d2 = sum(((i - c) * s) ** 2 for i, c, s in zip(idx, centre, spacing))
            if d2 <= radius**2:
                values.append(suv[idx])
        best = max(best, sum(values) / len(values))
    return best


def test_sphere_radius_is_one_millilitre():
    assert 4 / 3 * math.pi * PEAK_SPHERE_RADIUS_MM**3 == pytest.approx(1000.0)
    assert PEAK_SPHERE_RADIUS_MM == pytest.approx(6.2035, abs=1e-4)


def test_kernel_counts_voxel_centres_within_radius():
    # 4 mm voxels: centre + 6 face (4 mm) + 12 edge (5.66 mm) neighbours; corners (6.93 mm) are out.
    assert int(spherical_kernel((4.0, 4.0, 4.0)).sum()) == 19
    # 2 mm voxels: count integer offsets with (2i)^2+(2j)^2+(2k)^2 <= r^2.
    r = PEAK_SPHERE_RADIUS_MM
    expected = sum(1 for i, j, k in itertools.product(range(-4, 5), repeat=3) if 4 * (i * i + j * j + k * k) <= r * r)
    assert int(spherical_kernel((2.0, 2.0, 2.0)).sum()) == expected


def test_kernel_honours_anisotropic_spacing():
    kernel = spherical_kernel((5.0, 1.0, 1.0))
    assert kernel.shape == (3, 13, 13)
    assert kernel[1, 6, 0] and kernel[1, 6, 12]  # 6 mm in x is inside
    assert not kernel[0, 6, 0]  # 5 mm in z and 6 mm in x: 7.8 mm, outside


@pytest.mark.parametrize("spacing", [(3.0, 2.0, 2.5), (2.0, 2.0, 2.0), (4.0, 1.5, 1.5)])
def test_suv_peak_matches_brute_force(spacing):
    rng = np.random.default_rng(7)
    suv = rng.gamma(2.0, 1.5, size=(6, 9, 8))
    mask = np.zeros(suv.shape, bool)
    mask[1:4, 0:4, 3:7] = True  # touches the image border: the sphere is clipped there
    value, centre, count = suv_peak(suv, mask, spacing_mm=spacing)
    assert value == pytest.approx(brute_force_peak(suv, mask, spacing, PEAK_SPHERE_RADIUS_MM), rel=1e-9)
    assert mask[centre]
    assert count >= 1


def test_peak_centre_in_lesion_but_sphere_voxels_from_whole_image():
    suv = np.ones((7, 7, 7))
    suv[3, 3, 4] = 100.0  # hot voxel just outside the lesion
    suv[0, 0, 0] = 1000.0  # hotter voxel far from the lesion
    mask = np.zeros(suv.shape, bool)
    mask[3, 3, 3] = True
    value, centre, count = suv_peak(suv, mask, spacing_mm=(4.0, 4.0, 4.0))
    assert centre == (3, 3, 3)
    assert count == 19
    assert value == pytest.approx((18 * 1.0 + 100.0) / 19)


def test_lesion_uptake_max_mean_volume():
    suv = np.zeros((4, 4, 4))
    mask = np.zeros(suv.shape, bool)
    mask[1, 1, 1:3] = True
    suv[1, 1, 1], suv[1, 1, 2] = 2.0, 6.0
    result = lesion_uptake(suv, mask, spacing_mm=(2.0, 1.0, 0.5))
    assert (result.suv_max, result.suv_mean, result.voxel_count) == (6.0, 4.0, 2)
    assert result.volume_ml == pytest.approx(2 * 2.0 * 1.0 * 0.5 / 1000)
    assert result.suv_peak <= result.suv_max


def test_uniform_image_peak_equals_value():
    suv = np.full((10, 12, 12), 2.5)
    mask = np.zeros(suv.shape, bool)
    mask[2:8, 3:9, 3:9] = True
    assert lesion_uptake(suv, mask, spacing_mm=(3.27, 1.1, 1.1)).suv_peak == pytest.approx(2.5)


@pytest.mark.parametrize(
    ("suv", "mask", "spacing", "match"),
    [
        (np.ones((3, 3, 3)), np.zeros((3, 3, 3), bool), (1.0, 1.0, 1.0), "empty"),
        (np.ones((3, 3, 3)), np.ones((3, 3, 2), bool), (1.0, 1.0, 1.0), "shape"),
        (np.ones((3, 3, 3)), np.ones((3, 3, 3), bool), (1.0, 0.0, 1.0), "spacing_mm"),
        (np.full((3, 3, 3), np.nan), np.ones((3, 3, 3), bool), (1.0, 1.0, 1.0), "NaN"),
        (np.ones((3, 3)), np.ones((3, 3), bool), (1.0, 1.0, 1.0), "3-D"),
    ],
)
def test_bad_input_raises_measurement_error(suv, mask, spacing, match):
    with pytest.raises(MeasurementError, match=match):
        lesion_uptake(suv, mask, spacing_mm=spacing)


@pytest.mark.parametrize(
    ("lesion", "score"),
    # liver 6.0 -> "about liver" band 5.4..6.6 (+/-10 %); spleen 9.0.
    [(5.3, 1), (5.4, 2), (6.0, 2), (6.6, 2), (6.61, 3), (9.0, 3), (9.01, 4), (20.0, 4)],
)
def test_krenning_like_thresholds(lesion, score):
    assert krenning_like_score(lesion, 6.0, 9.0).score == score


def test_krenning_like_zero_needs_background_and_spleen_below_liver_band():
    assert krenning_like_score(1.0, 6.0, 9.0, background_suv_mean=1.2).score == 0
    assert krenning_like_score(1.0, 6.0, 9.0).score == 1
    # Spleen (6.2) inside the liver band: above the band is then also above spleen.
    assert krenning_like_score(6.5, 6.0, 6.2).score == 2
    assert krenning_like_score(7.0, 6.0, 6.2).score == 4
    with pytest.raises(MeasurementError, match="liver"):
        krenning_like_score(3.0, 0.0, 9.0)


def test_uptake_score_from_masks():
    suv = np.ones((6, 6, 6))
    lesion = np.zeros(suv.shape, bool)
    liver = np.zeros(suv.shape, bool)
    spleen = np.zeros(suv.shape, bool)
    lesion[0, 0, 0] = True
    suv[0, 0, 0] = 8.0
    liver[3:, 3:, 3:] = True
    suv[liver] = 5.0
    spleen[0, 4:, 4:] = True
    suv[spleen] = 7.0
    result = uptake_score(suv, lesion, liver, spleen, spacing_mm=(2.0, 2.0, 2.0))
    assert (result.score, result.lesion_suv, result.liver_suv_mean, result.spleen_suv_mean) == (4, 8.0, 5.0, 7.0)
    peak = uptake_score(suv, lesion, liver, spleen, spacing_mm=(2.0, 2.0, 2.0), lesion_metric="SUVpeak")
    assert peak.lesion_metric == "SUVpeak" and peak.lesion_suv < 8.0
    with pytest.raises(MeasurementError, match="lesion_metric"):
        uptake_score(suv, lesion, liver, spleen, spacing_mm=(2.0, 2.0, 2.0), lesion_metric="SUVmean")
