"""Exact length arithmetic for the rules: millimetres as integer micrometres.

Every length entering a rule is converted once to an integer number of micrometres (0.001 mm, far below
any imaging precision). Sums and the percentage thresholds are then compared with integer
cross-multiplication, so a boundary such as 100 -> 120 mm (+20 %, PD) is decided exactly, where naive
floating point (120 / 100 - 1 = 0.19999999999999996) would say it is not.
"""

from __future__ import annotations

import math

from recist.errors import RecistValidationError

__all__ = ["to_um", "to_mm", "percent_change"]


def to_um(length_mm: float) -> int:
    """Millimetres to integer micrometres (rounded to the nearest micrometre).

    Raises
    ------
    RecistValidationError
        ``length_mm`` is not finite (the case model bounds every length far below this; a value built
        around it must not turn into an OverflowError deep in a rule).
    """
    scaled = length_mm * 1000
    if not math.isfinite(scaled):
        raise RecistValidationError(f"length {length_mm!r} mm is not a finite number of millimetres")
    return round(scaled)


def to_mm(length_um: int) -> float:
    """Integer micrometres back to millimetres."""
    return length_um / 1000


def percent_change(value_um: int, reference_um: int) -> float | None:
    """Percent change of ``value_um`` against ``reference_um``, for display (None when the reference is 0).

    Rounded to 2 decimals; the rules themselves never use this float, they compare integers.
    """
    if reference_um == 0:
        return None
    return round((value_um - reference_um) * 100 / reference_um, 2)
