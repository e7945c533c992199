"""Measurability at baseline, from RECIST 1.1 §3.1 (RECIST_RULES R1-R4), both sides of every boundary."""

import pytest

from recist.model.enums import Measurability, Method
from recist.rules.measurability import classify_node, classify_non_nodal, minimum_measurable_size_mm

M, NM, NP = Measurability.MEASURABLE, Measurability.NON_MEASURABLE, Measurability.NON_PATHOLOGICAL


@pytest.mark.parametrize(
    ("size", "method", "slice_mm", "expected"),
    [
        (9.9, Method.CT, 5.0, NM),  # R1: 10 mm by CT with slices <= 5 mm
        (10.0, Method.CT, 5.0, M),
        (10.0, Method.CT, None, M),
        (9.9, Method.MRI, 3.0, NM),
        (10.0, Method.MRI, 3.0, M),
        (10.0, Method.CT, 8.0, NM),  # R2: slices > 5 mm need 2x the slice thickness
        (15.9, Method.CT, 8.0, NM),
        (16.0, Method.CT, 8.0, M),
        (11.9, Method.CT, 6.0, NM),
        (12.0, Method.CT, 6.0, M),
        (9.9, Method.CT, 2.5, NM),  # the floor never drops below 10 mm with thin slices
        (9.9, Method.CALIPER, None, NM),  # caliper 10 mm
        (10.0, Method.CALIPER, None, M),
        (19.9, Method.CHEST_XRAY, None, NM),  # chest X-ray 20 mm
        (20.0, Method.CHEST_XRAY, None, M),
    ],
)
def test_non_nodal_lesions(size, method, slice_mm, expected):
    assert classify_non_nodal(size, method=method, slice_thickness_mm=slice_mm) == expected


def test_slice_thickness_of_exactly_5_mm_keeps_the_10_mm_floor():
    assert minimum_measurable_size_mm(Method.CT, 5.0) == 10.0
    assert minimum_measurable_size_mm(Method.CT, 5.5) == 11.0


@pytest.mark.parametrize(
    ("short_axis", "expected"),
    [(9.9, NP), (10.0, NM), (14.9, NM), (15.0, M), (30.0, M), (0.0, NP)],
)
def test_lymph_nodes_by_short_axis(short_axis, expected):
    """R3: >= 15 mm measurable; 10 to < 15 mm pathological non-measurable; < 10 mm normal."""
    assert classify_node(short_axis) == expected


def test_node_double_slice_thickness_is_an_option():
    """RECIST_RULES H2: reading B (default) the 15 mm rule stands alone; reading A adds 2x slice."""
    assert classify_node(15.0, slice_thickness_mm=8.0) == M
    assert classify_node(15.0, slice_thickness_mm=8.0, double_slice_thickness=True) == NM
    assert classify_node(16.0, slice_thickness_mm=8.0, double_slice_thickness=True) == M
