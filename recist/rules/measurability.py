"""Measurability of lesions at baseline (RECIST 1.1 [E09] §3.1-3.2; RECIST_RULES R1-R4).

All thresholds are compared in integer micrometres (see :mod:`recist.rules._exact`), so 9.9 mm is
below 10 mm and 10.0 mm is not, without floating-point doubt.
"""

from __future__ import annotations

from recist.model.enums import Measurability, Method
from recist.rules._exact import to_um

__all__ = [
    "minimum_measurable_size_mm",
    "classify_non_nodal",
    "classify_node",
    "NODE_MEASURABLE_MM",
    "NODE_PATHOLOGICAL_MM",
]

NODE_MEASURABLE_MM = 15.0
"""Short axis at or above which a lymph node is measurable ([E09] §3.1.1)."""
NODE_PATHOLOGICAL_MM = 10.0
"""Short axis at or above which a lymph node is pathological ([E09] §3.1.1, §4.2)."""
_CT_SLICE_LIMIT_MM = 5.0


def minimum_measurable_size_mm(method: Method, slice_thickness_mm: float | None = None) -> float:
    """The smallest longest diameter of a measurable non-nodal lesion, in millimetres.

    RECIST 1.1 [E09] §3.1.1 (R1, R2): 10 mm by CT or MRI with slices of at most 5 mm, otherwise twice
    the slice thickness; 10 mm by caliper; 20 mm on chest X-ray. Without a slice thickness, CT/MRI are
    taken to have slices of at most 5 mm (give ``slice_thickness_mm`` to apply the 2x rule).

    >>> minimum_measurable_size_mm(Method.CT, 8.0)
    16.0
    """
    if method == Method.CHEST_XRAY:
        return 20.0
    if method == Method.CALIPER:
        return 10.0
    if slice_thickness_mm is not None and to_um(slice_thickness_mm) > to_um(_CT_SLICE_LIMIT_MM):
        return 2.0 * slice_thickness_mm
    return 10.0


def classify_non_nodal(
    long_axis_mm: float, *, method: Method = Method.CT, slice_thickness_mm: float | None = None
) -> Measurability:
    """Measurability of a non-nodal lesion from its longest diameter (RECIST 1.1 [E09] §3.1.1-3.1.2, R1-R4).

    >>> classify_non_nodal(9.9)
    <Measurability.NON_MEASURABLE: 'non_measurable'>
    """
    floor_mm = minimum_measurable_size_mm(method, slice_thickness_mm)
    if to_um(long_axis_mm) >= to_um(floor_mm):
        return Measurability.MEASURABLE
    return Measurability.NON_MEASURABLE


def classify_node(
    short_axis_mm: float,
    *,
    slice_thickness_mm: float | None = None,
    double_slice_thickness: bool = False,
) -> Measurability:
    """Measurability of a lymph node from its short axis (RECIST 1.1 [E09] §3.1.1, §4.2; R3).

    ``>= 15 mm`` measurable (a possible target); ``10 to < 15 mm`` pathological but non-measurable
    (non-target); ``< 10 mm`` normal (non-pathological). With ``double_slice_thickness`` (RECIST_RULES H2
    reading A) a node also needs a short axis of at least twice a slice thickness above 5 mm.

    >>> classify_node(14.9), classify_node(15.0)
    (<Measurability.NON_MEASURABLE: 'non_measurable'>, <Measurability.MEASURABLE: 'measurable'>)
    """
    short_um = to_um(short_axis_mm)
    if short_um < to_um(NODE_PATHOLOGICAL_MM):
        return Measurability.NON_PATHOLOGICAL
    floor_um = to_um(NODE_MEASURABLE_MM)
    if double_slice_thickness and slice_thickness_mm is not None and slice_thickness_mm > _CT_SLICE_LIMIT_MM:
        floor_um = max(floor_um, to_um(2.0 * slice_thickness_mm))
    return Measurability.MEASURABLE if short_um >= floor_um else Measurability.NON_MEASURABLE
