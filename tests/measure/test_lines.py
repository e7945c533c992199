"""Tests of recist.measure.lines (short axis proposal perpendicular to the long axis, RECIST 1.1 §3.1)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recist.errors import MeasurementError
from recist.measure.lines import angle_between_deg, perpendicular_line


def test_axial_proposal_is_centred_perpendicular_and_half_length_by_default():
    start, end = perpendicular_line((10, 20, -30), (30, 20, -30), plane_normal=(0, 0, 1))
    assert np.allclose(np.add(start, end) / 2, (20, 20, -30))
    assert math.dist(start, end) == pytest.approx(10.0)
    assert start[2] == end[2] == -30  # stays in the axial plane


def test_oblique_plane_proposal_stays_in_plane():
    normal = np.array([0.0, math.sin(0.3), math.cos(0.3)])
    in_plane = np.cross(normal, [1.0, 0, 0])
    start = np.array([5.0, 5.0, 5.0])
    end = start + 12 * in_plane
    a, b = perpendicular_line(start, end, plane_normal=normal * 3, length_mm=7)
    direction = np.subtract(b, a)
    assert abs(direction @ normal) < 1e-9
    assert abs(direction @ (end - start)) < 1e-9
    assert np.linalg.norm(direction) == pytest.approx(7)


@given(
    st.lists(st.floats(-500, 500), min_size=3, max_size=3),
    st.floats(0.5, 200),
    st.floats(0, 2 * math.pi),
    st.floats(0.1, 100),
)
def test_property_perpendicular_through_midpoint(origin, long_mm, angle, short_mm):
    start = np.array(origin)
    end = start + long_mm * np.array([math.cos(angle), math.sin(angle), 0.0])
    a, b = perpendicular_line(start, end, plane_normal=(0, 0, 1), length_mm=short_mm)
    assert angle_between_deg((start, end), (a, b)) == pytest.approx(90.0, abs=1e-6)
    assert np.allclose(np.add(a, b) / 2, (start + end) / 2, atol=1e-9)
    assert math.dist(a, b) == pytest.approx(short_mm, rel=1e-9)


@pytest.mark.parametrize(
    "start,end,normal",
    [((0, 0, 0), (0, 0, 0), (0, 0, 1)), ((0, 0, 0), (0, 0, 5), (0, 0, 1)), ((0, 0, 0), (1, 0, 0), (0, 0, 0))],
)
def test_degenerate_inputs_raise_measurement_error(start, end, normal):
    with pytest.raises(MeasurementError):
        perpendicular_line(start, end, plane_normal=normal)


def test_bad_length_and_points_raise():
    with pytest.raises(MeasurementError):
        perpendicular_line((0, 0, 0), (1, 0, 0), plane_normal=(0, 0, 1), length_mm=float("nan"))
    with pytest.raises(MeasurementError):
        perpendicular_line((0, 0), (1, 0, 0), plane_normal=(0, 0, 1))


def test_angle_between_ignores_direction():
    assert angle_between_deg(((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (-1, 0, 0))) == pytest.approx(0)
    assert angle_between_deg(((0, 0, 0), (1, 0, 0)), ((3, 3, 3), (3, 4, 3))) == pytest.approx(90)
    with pytest.raises(MeasurementError):
        angle_between_deg(((0, 0, 0), (0, 0, 0)), ((0, 0, 0), (1, 0, 0)))
