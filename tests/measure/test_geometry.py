"""Index <-> patient mapping against SimpleITK (the reference implementation of the DICOM equation)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from scipy.spatial.transform import Rotation

from recist.errors import MeasurementError
from recist.measure.geometry import (
    ImageGeometry,
    affine_from_geometry,
    check_same_geometry,
    index_to_patient,
    line_length_mm,
    patient_to_index,
)

GEOMETRIES = [
    ((2.5, 0.7, 0.7), (-120.0, -150.5, 33.0), np.eye(3)),
    ((5.0, 0.8, 1.2), (10.0, 20.0, -300.0), np.diag([-1.0, -1.0, 1.0])),
    ((1.0, 0.5, 1.2), (1.0, 2.0, 3.0), Rotation.from_euler("zyx", [30, 10, -20], degrees=True).as_matrix()),
]


def _sitk_image(spacing_zyx, origin, direction) -> sitk.Image:
    image = sitk.Image(4, 5, 6, sitk.sitkUInt8)  # (x, y, z) sizes
    image.SetSpacing(tuple(float(s) for s in spacing_zyx[::-1]))
    image.SetOrigin(origin)
    image.SetDirection(tuple(np.asarray(direction, dtype=float).ravel()))
    return image


@pytest.mark.parametrize(("spacing", "origin", "direction"), GEOMETRIES)
def test_index_to_patient_matches_simpleitk(spacing, origin, direction):
    image = _sitk_image(spacing, origin, direction)
    indices = np.array([[0, 0, 0], [1, 2, 3], [5.5, -0.5, 2.25]])
    expected = np.array([image.TransformContinuousIndexToPhysicalPoint(tuple(i[::-1])) for i in indices])
    got = index_to_patient(indices, origin_mm=origin, spacing_mm=spacing, direction=direction)
    np.testing.assert_allclose(got, expected, atol=1e-9)
    back = patient_to_index(got, origin_mm=origin, spacing_mm=spacing, direction=direction)
    np.testing.assert_allclose(back, indices, atol=1e-9)


def test_single_point_keeps_shape_and_affine_is_homogeneous():
    spacing, origin, direction = GEOMETRIES[2]
    affine = affine_from_geometry(origin_mm=origin, spacing_mm=spacing, direction=direction)
    point = index_to_patient([2, 3, 4], origin_mm=origin, spacing_mm=spacing, direction=direction)
    assert point.shape == (3,)
    np.testing.assert_allclose(affine @ [2, 3, 4, 1], [*point, 1.0])
    np.testing.assert_allclose(affine[3], [0, 0, 0, 1])


def test_one_voxel_step_along_each_axis_moves_by_its_spacing():
    spacing, origin, direction = GEOMETRIES[2]
    steps = index_to_patient(np.eye(3), origin_mm=origin, spacing_mm=spacing, direction=direction) - origin
    np.testing.assert_allclose(np.linalg.norm(steps, axis=1), spacing)
    # the x index axis (third array axis) moves along the first direction column
    np.testing.assert_allclose(steps[2] / spacing[2], direction[:, 0])


def test_line_length_mm_scalar_and_vectorised():
    assert line_length_mm([0, 0, 0], [3, 4, 12]) == pytest.approx(13.0)
    lengths = line_length_mm(np.zeros((2, 3)), [[1, 0, 0], [0, 2, 0]])
    np.testing.assert_allclose(lengths, [1.0, 2.0])
    with pytest.raises(MeasurementError):
        line_length_mm([0, 0], [1, 1])


@pytest.mark.parametrize("spacing", [(1, 1), (0, 1, 1), (1, -1, 1), (1, np.nan, 1)])
def test_bad_spacing_is_refused(spacing):
    with pytest.raises(MeasurementError, match="spacing_mm"):
        index_to_patient([0, 0, 0], origin_mm=(0, 0, 0), spacing_mm=spacing, direction=np.eye(3))


def test_bad_direction_is_refused():
    with pytest.raises(MeasurementError, match="singular"):
        affine_from_geometry(origin_mm=(0, 0, 0), spacing_mm=(1, 1, 1), direction=np.zeros((3, 3)))
    with pytest.raises(MeasurementError, match="3x3"):
        affine_from_geometry(origin_mm=(0, 0, 0), spacing_mm=(1, 1, 1), direction=np.eye(2))


def test_check_same_geometry_names_both_sources_and_each_difference():
    image = ImageGeometry.from_arrays(shape=(10, 64, 64), spacing_mm=(2.5, 0.7, 0.7),
                                      origin_mm=(0, 0, 0), direction=np.eye(3))
    rounded = ImageGeometry.from_arrays(shape=(10, 64, 64), spacing_mm=(2.5, 0.7000001, 0.7),
                                        origin_mm=(0, 1e-5, 0), direction=np.eye(3))
    check_same_geometry(image, rounded, image_source="ct/", mask_source="m.nii")
    other = ImageGeometry.from_arrays(shape=(10, 64, 63), spacing_mm=(2.5, 0.8, 0.7),
                                      origin_mm=(0, 3, 0), direction=np.diag([1.0, -1.0, 1.0]))
    with pytest.raises(MeasurementError) as info:
        check_same_geometry(image, other, image_source="ct/", mask_source="m.nii")
    message = str(info.value)
    for word in ("m.nii", "ct/", "size", "spacing", "origin", "direction"):
        assert word in message
