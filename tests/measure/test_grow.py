"""Growing a lesion from a click: against the sample patient's known lesion sizes, and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recist.errors import MeasurementError
from recist.measure.grow import MAX_SLICE_FRACTION, grow_lesion, measure_grown, noise_sigma

PATIENT = Path(__file__).resolve().parents[2] / "sample_data" / "patient"


@pytest.fixture(scope="module")
def patient():
    if not (PATIENT / "truth.json").is_file():
        pytest.skip("sample_data/patient is not in this checkout (make it with `recist sample`)")
    from recist.io.dicom import find_series, load_series

    truth = json.loads((PATIENT / "truth.json").read_text())
    volumes = {tp["label"]: load_series(find_series(PATIENT / tp["ct_dir"]).series[0]) for tp in truth["timepoints"]}
    return truth, volumes


def test_every_sample_lesion_within_tolerance_or_refused(patient):
    """Each lesion clicked at its centre: the size that counts (short axis for nodes) within max(2 mm, half
    a voxel diagonal) of the truth, or refused; never silently wrong. The issue's leaks (T1 week 24
    195 mm, T4 18.2/12.2, T3 36-37) must not come back."""
    truth, volumes = patient
    spacing = truth["ct"]["spacing_mm_zyx"]
    allowed = max(2.0, 0.5 * float(np.linalg.norm(spacing)))
    measured = 0
    for tp in truth["timepoints"]:
        volume = volumes[tp["label"]]
        for lesion in tp["lesions"]:
            try:
                grown = measure_grown(volume.array, affine=volume.affine, point_lps_mm=lesion["centre_mm"],
                                      nodal=lesion["nodal"])
            except MeasurementError:
                continue
            measured += 1
            axes = grown.axes
            where = f"{tp['label']} {lesion['id']}"
            assert abs(axes.long_axis_mm - lesion["long_axis_mm"]) <= allowed, where
            if lesion["nodal"]:
                assert abs(axes.short_axis_mm - lesion["short_axis_mm"]) <= allowed, where
            # the axes lie on the lesion's own slice (largest extent: the centre slice of an ellipsoid)
            assert axes.slice_index == lesion["slice_index"], where
    assert measured >= 12  # the algorithm is useful, not refusing everything


def test_a_click_next_to_the_centre_is_within_tolerance_or_refused(patient):
    """A hand clicks near, not at, the centre: from each of the voxels around each lesion's centre (the
    centre's index rounded down or up on each in-plane axis) the size that counts is within max(2 mm, half
    a voxel diagonal) of the truth, or refused. T1 at week 24 (17 mm on 3 mm pixels) measured 12.4 mm from
    three of its four such voxels before the lesion and surround values were re-estimated."""
    truth, volumes = patient
    allowed = max(2.0, 0.5 * float(np.linalg.norm(truth["ct"]["spacing_mm_zyx"])))
    measured = refused = 0
    for tp in truth["timepoints"]:
        volume = volumes[tp["label"]]
        to_index = np.linalg.inv(volume.affine[:3, :3])
        for lesion in tp["lesions"]:
            centre = to_index @ (np.asarray(lesion["centre_mm"], float) - volume.affine[:3, 3])
            for j in {np.floor(centre[1]), np.ceil(centre[1])}:
                for i in {np.floor(centre[2]), np.ceil(centre[2])}:
                    point = volume.affine[:3, :3] @ np.array([round(centre[0]), j, i]) + volume.affine[:3, 3]
                    where = f"{tp['label']} {lesion['id']} at index {(round(centre[0]), j, i)}"
                    try:
                        axes = measure_grown(volume.array, affine=volume.affine, point_lps_mm=point,
                                             nodal=lesion["nodal"]).axes
                    except MeasurementError:
                        refused += 1
                        continue
                    measured += 1
                    assert abs(axes.long_axis_mm - lesion["long_axis_mm"]) <= allowed, (where, axes.long_axis_mm)
                    if lesion["nodal"]:
                        assert abs(axes.short_axis_mm - lesion["short_axis_mm"]) <= allowed, where
    assert measured >= 40 and refused <= 2, (measured, refused)


def test_a_click_outside_the_body_is_refused(patient):
    _truth, volumes = patient
    volume = volumes["baseline"]
    corner = volume.affine[:3, :3] @ np.array([18, 2, 2]) + volume.affine[:3, 3]
    with pytest.raises(MeasurementError, match="border"):
        measure_grown(volume.array, affine=volume.affine, point_lps_mm=corner)


def test_leak_over_the_slice_is_refused():
    rng = np.random.default_rng(1)
    image = 100.0 + rng.normal(0, 5, (5, 60, 60))
    image[:, 0, :] = image[:, -1, :] = image[:, :, 0] = image[:, :, -1] = -1000.0  # keep the border away
    affine = np.diag([1.0, 1.0, 1.0, 1.0])[[2, 1, 0, 3]]  # index (z, y, x) -> LPS (x, y, z)
    with pytest.raises(MeasurementError, match="covers|border"):
        measure_grown(image, affine=affine, point_lps_mm=(30.0, 30.0, 2.0))
    assert MAX_SLICE_FRACTION < 1


def test_lymph_node_larger_than_plausible_is_refused():
    image = np.full((9, 120, 120), -100.0)
    yy, xx = np.mgrid[:120, :120]
    image[2:7][:, ((yy - 60) / 15.0) ** 2 + ((xx - 60) / 55.0) ** 2 <= 1] = 45.0  # 110 x 30 mm at 1 mm
    affine = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], float)
    grown = measure_grown(image, affine=affine, point_lps_mm=(60.0, 60.0, 4.0), nodal=False)
    assert grown.axes.long_axis_mm == pytest.approx(110, abs=2)
    with pytest.raises(MeasurementError, match="lymph node"):
        measure_grown(image, affine=affine, point_lps_mm=(60.0, 60.0, 4.0), nodal=True)


def test_grown_region_is_three_dimensional_and_measured_on_its_largest_slice():
    zz, yy, xx = np.mgrid[:15, :64, :64]
    image = np.where(((zz - 7) / 5.0) ** 2 + ((yy - 32) / 10.0) ** 2 + ((xx - 32) / 14.0) ** 2 <= 1, 40.0, 120.0)
    mask, tolerance, seed_value = grow_lesion(image, (5, 32, 32))
    assert mask[3:12].any(axis=(1, 2)).all() and not mask[0].any()
    assert tolerance == pytest.approx(40.0) and seed_value == pytest.approx(40.0)
    affine = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [2, 0, 0, 0], [0, 0, 0, 1]], float)  # z spacing 2 mm
    grown = measure_grown(image, affine=affine, point_lps_mm=(32.0, 32.0, 10.0))  # clicked on slice 5
    assert grown.axes.slice_index == 7
    assert grown.axes.long_axis_mm == pytest.approx(28.0, abs=1.5)


def test_noise_sigma_is_robust_to_edges():
    rng = np.random.default_rng(3)
    image = rng.normal(0, 8, (128, 128))
    image[:, 64:] += 500.0
    assert noise_sigma(image) == pytest.approx(8.0, rel=0.1)
