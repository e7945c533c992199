"""Long/short axes and volume of analytic shapes (discs, rotated ellipses, spheres), properties, errors.

Tolerances follow docs/measurement.md: the half-way-outline diameter of a convex shape lies within one
in-plane pixel diagonal of the true one (guaranteed bound), and within half a diagonal on average; at
clinical voxel geometries every shape is within half a voxel diagonal (the issue's tolerance).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recist.errors import MeasurementError
from recist.measure.diameters import measure_lesions
from recist.measure.geometry import index_to_patient

IN_PLANE_SPACINGS = [(1.0, 1.0), (0.7, 0.7), (0.5, 1.2), (1.2, 0.5)]


def ellipse_slice(shape_yx, spacing_yx, centre_mm, long_mm, short_mm, angle_rad) -> np.ndarray:
    """Pixels whose centre lies inside an ellipse (diameters long_mm, short_mm) rotated by angle_rad."""
    yy, xx = np.indices(shape_yx, dtype=float)
    y = yy * spacing_yx[0] - centre_mm[0]
    x = xx * spacing_yx[1] - centre_mm[1]
    u = x * math.cos(angle_rad) + y * math.sin(angle_rad)
    v = -x * math.sin(angle_rad) + y * math.cos(angle_rad)
    return (u / (long_mm / 2)) ** 2 + (v / (short_mm / 2)) ** 2 <= 1.0


def diagonal(spacing_yx) -> float:
    return math.hypot(*spacing_yx)


@pytest.mark.parametrize("spacing_yx", IN_PLANE_SPACINGS)
def test_rotated_ellipses_long_and_short_axes(spacing_yx):
    rng = np.random.default_rng(7)
    errors = []
    for angle_deg in range(0, 180, 15):
        long_mm, short_mm = rng.uniform(22, 40), rng.uniform(8, 13)
        centre = rng.uniform(30, 31, size=2)
        shape = (int(62 / spacing_yx[0]), int(62 / spacing_yx[1]))
        mask = ellipse_slice(shape, spacing_yx, centre, long_mm, short_mm, math.radians(angle_deg))[None]
        (lesion,) = measure_lesions(mask, spacing_mm=(3.0, *spacing_yx))
        assert abs(lesion.long_axis_mm - long_mm) <= diagonal(spacing_yx), angle_deg
        assert abs(lesion.short_axis_mm - short_mm) <= diagonal(spacing_yx), angle_deg
        errors.append((lesion.long_axis_mm - long_mm, lesion.short_axis_mm - short_mm))
        # the long axis points along the ellipse's major axis
        (z0, y0, x0), (z1, y1, x1) = lesion.long_axis_endpoints_zyx
        direction = np.array([(x1 - x0) * spacing_yx[1], (y1 - y0) * spacing_yx[0]])
        cosine = abs(direction @ [math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))])
        assert cosine / np.linalg.norm(direction) > math.cos(math.radians(10))
    mean_abs = np.abs(np.array(errors)).mean(axis=0)
    assert np.all(mean_abs <= diagonal(spacing_yx) / 2), mean_abs


@pytest.mark.parametrize("spacing_yx", IN_PLANE_SPACINGS)
@pytest.mark.parametrize("diameter_mm", [10.0, 23.3, 41.0])
def test_discs(spacing_yx, diameter_mm):
    shape = (int(50 / spacing_yx[0]), int(50 / spacing_yx[1]))
    mask = ellipse_slice(shape, spacing_yx, (24.9, 25.3), diameter_mm, diameter_mm, 0.0)[None]
    (lesion,) = measure_lesions(mask, spacing_mm=(1.0, *spacing_yx))
    assert lesion.long_axis_mm == pytest.approx(diameter_mm, abs=diagonal(spacing_yx))
    assert lesion.short_axis_mm == pytest.approx(diameter_mm, abs=diagonal(spacing_yx))
    assert lesion.short_axis_mm <= lesion.long_axis_mm * (1 + 1e-12)
    area = lesion.voxel_count * spacing_yx[0] * spacing_yx[1]
    assert area == pytest.approx(math.pi * diameter_mm**2 / 4, rel=0.05)


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (5.0, 0.7, 0.7), (1.0, 0.5, 1.2), (2.5, 0.8, 0.8)])
@pytest.mark.parametrize("diameter_mm", [20.0, 37.0])
def test_spheres_axes_and_volume(spacing, diameter_mm):
    centre = np.array([30.3, 29.8, 30.6])  # (z, y, x) mm
    shape = tuple(int(61 / s) for s in spacing)
    zz, yy, xx = np.indices(shape, dtype=float)
    points = np.stack([zz * spacing[0], yy * spacing[1], xx * spacing[2]]) - centre[:, None, None, None]
    mask = np.sum(points**2, axis=0) <= (diameter_mm / 2) ** 2
    (lesion,) = measure_lesions(mask, spacing_mm=spacing)
    slice_offsets = np.arange(shape[0]) * spacing[0] - centre[0]
    sections = 2 * np.sqrt(np.clip((diameter_mm / 2) ** 2 - slice_offsets**2, 0, None))
    expected = sections.max()  # the largest axial cross-section that a slice actually samples
    tolerance = diagonal(spacing[1:])
    assert lesion.long_axis_mm == pytest.approx(expected, abs=tolerance)
    assert lesion.short_axis_mm == pytest.approx(expected, abs=tolerance)
    assert sections[lesion.slice_index] == pytest.approx(expected, abs=tolerance)
    # the voxels sample the sphere's sections: within 3 % of the slice-sampled volume, and of the true
    # volume within 4 % where slices are thin (5 mm slices through a 20 mm sphere sample it coarsely)
    sampled_volume = np.sum(math.pi / 4 * sections**2) * spacing[0]
    assert lesion.volume_mm3 == pytest.approx(sampled_volume, rel=0.03)
    true_tolerance = 0.04 if spacing[0] <= 2.5 else 0.10
    assert lesion.volume_mm3 == pytest.approx(math.pi / 6 * diameter_mm**3, rel=true_tolerance)
    assert lesion.volume_ml == pytest.approx(lesion.volume_mm3 / 1000)


# Clinical voxel geometries (z, y, x) mm: CT at 1.25-5 mm slices, MR at 3 mm slices with 0.5 mm pixels.
CLINICAL_SPACINGS = [(2.0, 0.75, 0.75), (5.0, 0.9, 0.9), (1.25, 0.5, 0.5), (3.0, 0.7, 0.7), (3.0, 0.5, 0.5)]


def half_voxel_diagonal(spacing) -> float:
    return 0.5 * math.sqrt(sum(s * s for s in spacing))


@pytest.mark.parametrize("spacing", CLINICAL_SPACINGS)
def test_analytic_shapes_within_half_a_voxel_diagonal(spacing):
    """Issue 3: discs, ellipses and spheres of known diameters, at several spacings and rotations, within
    half a voxel diagonal. At these geometries (slices at least 2.45x the pixel side) half the voxel
    diagonal exceeds the guaranteed bound of the half-way outline (one pixel diagonal, docs/measurement.md),
    so every shape must pass; near-isotropic voxels are covered by the tests above."""
    rng = np.random.default_rng(11)
    tolerance = half_voxel_diagonal(spacing)
    sy, sx = spacing[1:]
    shapes = []  # (mask, long_mm, short_mm)
    for diameter_mm in (10.0, 18.7, 33.3, 52.0):  # discs
        centre = rng.uniform(34, 35, size=2)
        size = (int(70 / sy), int(70 / sx))
        shapes.append((ellipse_slice(size, (sy, sx), centre, diameter_mm, diameter_mm, 0.0)[None], diameter_mm, diameter_mm))
    for angle_deg in range(0, 180, 15):  # ellipses at every 15 degrees
        long_mm = rng.uniform(10, 60)
        short_mm = long_mm * rng.uniform(0.4, 1.0)
        centre = rng.uniform(34, 35, size=2)
        size = (int(70 / sy), int(70 / sx))
        mask = ellipse_slice(size, (sy, sx), centre, long_mm, short_mm, math.radians(angle_deg))[None]
        shapes.append((mask, long_mm, short_mm))
    for diameter_mm in (15.0, 32.0):  # spheres: the reference is the largest section a slice samples
        centre = np.array([30.0, 30.0, 30.0]) + rng.uniform(0, 1, size=3)
        shape = tuple(int(61 / s) for s in spacing)
        zz, yy, xx = np.indices(shape, dtype=float)
        points = np.stack([zz * spacing[0], yy * spacing[1], xx * spacing[2]]) - centre[:, None, None, None]
        mask = np.sum(points**2, axis=0) <= (diameter_mm / 2) ** 2
        offsets = np.arange(shape[0]) * spacing[0] - centre[0]
        section = 2 * np.sqrt(np.clip((diameter_mm / 2) ** 2 - offsets**2, 0, None)).max()
        shapes.append((mask, section, section))
    for mask, long_mm, short_mm in shapes:
        (lesion,) = measure_lesions(mask, spacing_mm=spacing)
        assert abs(lesion.long_axis_mm - long_mm) <= tolerance, (long_mm, lesion.long_axis_mm)
        assert abs(lesion.short_axis_mm - short_mm) <= tolerance, (short_mm, lesion.short_axis_mm)


def test_endpoints_are_consistent_with_lengths_and_perpendicular():
    spacing = (2.0, 0.5, 1.2)
    mask = ellipse_slice((120, 60), spacing[1:], (30, 36), 40, 18, math.radians(35))[None].repeat(3, axis=0)
    (lesion,) = measure_lesions(mask, spacing_mm=spacing)
    long_pts = np.array(lesion.long_axis_endpoints_zyx) * spacing
    short_pts = np.array(lesion.short_axis_endpoints_zyx) * spacing
    assert np.linalg.norm(long_pts[1] - long_pts[0]) == pytest.approx(lesion.long_axis_mm)
    assert np.linalg.norm(short_pts[1] - short_pts[0]) == pytest.approx(lesion.short_axis_mm)
    long_dir, short_dir = long_pts[1] - long_pts[0], short_pts[1] - short_pts[0]
    assert abs(long_dir @ short_dir) < 1e-9 * lesion.long_axis_mm * lesion.short_axis_mm
    assert {p[0] for p in lesion.long_axis_endpoints_zyx + lesion.short_axis_endpoints_zyx} == {
        lesion.slice_index
    }
    assert lesion.slice_index == 0  # three equal slices: the lowest index wins the tie


def test_patient_endpoints_use_the_geometry():
    spacing, origin = (2.0, 0.5, 1.2), (-10.0, 20.0, 5.0)
    direction = np.diag([-1.0, -1.0, 1.0])
    mask = ellipse_slice((80, 40), spacing[1:], (20, 24), 25, 12, 0.3)[None]
    (lesion,) = measure_lesions(mask, spacing_mm=spacing, origin_mm=origin, direction=direction)
    expected = index_to_patient(lesion.long_axis_endpoints_zyx, origin_mm=origin, spacing_mm=spacing,
                                direction=direction)
    np.testing.assert_allclose(lesion.long_axis_endpoints_lps_mm, expected)
    np.testing.assert_allclose(
        lesion.short_axis_endpoints_patient_mm(origin_mm=origin, spacing_mm=spacing, direction=direction),
        lesion.short_axis_endpoints_lps_mm,
    )
    lps = np.array(lesion.long_axis_endpoints_lps_mm)
    assert np.linalg.norm(lps[1] - lps[0]) == pytest.approx(lesion.long_axis_mm)
    (plain,) = measure_lesions(mask, spacing_mm=spacing)
    assert plain.long_axis_endpoints_lps_mm is None


def test_label_image_reports_every_label_in_order():
    labels = np.zeros((4, 40, 40), np.uint16)
    labels[1, 5:10, 5:20] = 7
    labels[2:4, 20:30, 20:25] = 3
    result = measure_lesions(labels, spacing_mm=(1.0, 1.0, 1.0))
    assert [lesion.label for lesion in result] == [3, 7]
    # a 5 x 15 px rectangle: the half-way outline cuts its corners, from the middle of the first row's
    # left edge to the middle of the last row's right edge
    assert result[1].long_axis_mm == pytest.approx(math.hypot(4, 15))
    assert result[1].voxel_count == 75 and result[0].volume_mm3 == pytest.approx(100.0)


def test_single_pixel_measures_one_pixel():
    mask = np.zeros((1, 3, 3), bool)
    mask[0, 1, 1] = True
    (lesion,) = measure_lesions(mask, spacing_mm=(1.0, 0.8, 0.8))
    assert lesion.long_axis_mm == pytest.approx(0.8)
    assert lesion.short_axis_mm == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("mask", "match"),
    [
        (np.zeros((2, 4, 4), bool), "empty"),
        (np.zeros((2, 4, 4), np.uint8), "empty"),
        (np.ones((4, 4), bool), "3-D"),
        (np.ones((2, 4, 4), np.float32), "dtype"),
        (-np.ones((2, 4, 4), np.int16), "negative"),
    ],
)
def test_bad_masks_raise_measurement_error_naming_the_source(mask, match):
    with pytest.raises(MeasurementError, match=match) as info:
        measure_lesions(mask, spacing_mm=(1, 1, 1), source="lesions.nii.gz")
    assert "lesions.nii.gz" in str(info.value)


def test_spacing_is_required_and_validated():
    mask = np.ones((1, 2, 2), bool)
    with pytest.raises(TypeError):
        measure_lesions(mask)  # type: ignore[call-arg]
    with pytest.raises(MeasurementError, match="spacing_mm"):
        measure_lesions(mask, spacing_mm=(1, 0, 1))
    with pytest.raises(MeasurementError, match="origin_mm and direction"):
        measure_lesions(mask, spacing_mm=(1, 1, 1), origin_mm=(0, 0, 0))


# ---------------------------------------------------------------- properties
masks = arrays(bool, st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9))).filter(np.any)
spacings = st.tuples(*(st.floats(0.3, 5.0) for _ in range(3)))


def _lengths(lesion):
    return lesion.long_axis_mm, lesion.short_axis_mm, lesion.volume_mm3


@settings(max_examples=60, deadline=None)
@given(mask=masks, spacing=spacings, pad=st.tuples(*(st.integers(0, 3) for _ in range(6))))
def test_translation_invariance(mask, spacing, pad):
    (a,) = measure_lesions(mask, spacing_mm=spacing)
    padded = np.pad(mask, [(pad[0], pad[1]), (pad[2], pad[3]), (pad[4], pad[5])])
    (b,) = measure_lesions(padded, spacing_mm=spacing)
    np.testing.assert_allclose(_lengths(a), _lengths(b), rtol=1e-9)
    assert b.slice_index - a.slice_index == pad[0]
    np.testing.assert_allclose(
        np.array(b.long_axis_endpoints_zyx) - np.array(a.long_axis_endpoints_zyx),
        [[pad[0], pad[2], pad[4]]] * 2,
        atol=1e-9,
    )


@settings(max_examples=60, deadline=None)
@given(mask=masks, spacing=spacings)
def test_swapping_and_flipping_in_plane_axes_changes_nothing(mask, spacing):
    (a,) = measure_lesions(mask, spacing_mm=spacing)
    (swapped,) = measure_lesions(mask.transpose(0, 2, 1), spacing_mm=(spacing[0], spacing[2], spacing[1]))
    (flipped,) = measure_lesions(mask[:, ::-1, :], spacing_mm=spacing)
    for other in (swapped, flipped):
        np.testing.assert_allclose(_lengths(a), _lengths(other), rtol=1e-7)


@settings(max_examples=60, deadline=None)
@given(mask=masks, spacing=spacings)
def test_long_axis_is_at_least_the_short_axis(mask, spacing):
    (lesion,) = measure_lesions(mask, spacing_mm=spacing)
    assert lesion.long_axis_mm >= lesion.short_axis_mm - 1e-9


@settings(max_examples=40, deadline=None)
@given(labels=arrays(np.uint8, st.tuples(st.integers(1, 3), st.integers(1, 8), st.integers(1, 8)),
                     elements=st.integers(0, 3)).filter(np.any),
       spacing=spacings)
def test_label_image_equals_individual_masks(labels, spacing):
    together = measure_lesions(labels, spacing_mm=spacing)
    present = sorted(int(v) for v in np.unique(labels) if v)
    assert [lesion.label for lesion in together] == present
    for lesion in together:
        (alone,) = measure_lesions(labels == lesion.label, spacing_mm=spacing)
        assert _lengths(alone) == _lengths(lesion)
        assert alone.long_axis_endpoints_zyx == lesion.long_axis_endpoints_zyx


@pytest.mark.parametrize("shape", [(17, 259, 256), (41, 128, 200)])  # > 1e6 voxels; y or z not a multiple of 8
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, bool])
def test_fast_bounding_boxes_equal_find_objects_on_large_images(dtype, shape):
    """Exact boxes although the screening blocks span 8 rows and 8 slices (boxes cross block borders)."""
    from scipy import ndimage

    from recist.measure.diameters import _find_objects

    rng = np.random.default_rng(3)
    labels = np.zeros(shape, np.int64)
    for label in rng.integers(1, 12, 50):
        z, y, x = rng.integers(0, shape[0]), rng.integers(0, shape[1]), rng.integers(0, shape[2])
        labels[z : z + rng.integers(1, 4), y : y + rng.integers(1, 40), x : x + rng.integers(1, 40)] = label
    labels = (labels > 0) if dtype is bool else labels.astype(dtype)
    typed = labels.view(np.uint8) if dtype is bool else labels
    assert _find_objects(typed) == ndimage.find_objects(typed)


def _outline_hull_vertices(points_yx: np.ndarray) -> set[tuple[float, float]]:
    from scipy.spatial import ConvexHull

    return {tuple(v) for v in np.round(points_yx[ConvexHull(points_yx).vertices], 9)}


@settings(max_examples=80, deadline=None)
@given(mask=arrays(bool, st.tuples(st.integers(1, 3), st.integers(1, 10), st.integers(1, 10))).filter(np.any))
def test_outline_candidates_have_the_hull_of_the_whole_half_way_outline(mask):
    """The row-extreme candidates span the same convex hull as every edge midpoint of the outline."""
    from recist.measure.diameters import _outline_points

    counts, points = _outline_points(mask)
    assert counts.shape == mask.shape[:1] and counts.sum() == len(points)
    z = np.repeat(np.arange(mask.shape[0]), counts)
    padded = np.pad(mask, ((0, 0), (1, 1), (1, 1)))
    for k in range(mask.shape[0]):
        if not mask[k].any():
            assert not np.any(z == k)
            continue
        outline = []  # brute force: the midpoint of every lesion/background pixel pair, 4-connected
        for y, x in zip(*np.nonzero(mask[k])):
            for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                if not padded[k, y + 1 + dy, x + 1 + dx]:
                    outline.append((y + dy / 2, x + dx / 2))
        assert _outline_hull_vertices(points[z == k]) == _outline_hull_vertices(np.array(outline, float))
