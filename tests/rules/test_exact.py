"""Exact micrometre arithmetic: a length that is not finite is a RecistValidationError, not an OverflowError."""

from __future__ import annotations

import pytest

from recist.errors import RecistValidationError
from recist.rules._exact import percent_change, to_mm, to_um


def test_round_trip_and_boundaries():
    assert to_um(12.3456) == 12346 and to_mm(to_um(100.0)) == 100.0
    assert percent_change(to_um(120.0), to_um(100.0)) == 20.0  # exactly +20 %, where 120/100 - 1 is not


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 1e306])
def test_non_finite_lengths_are_refused(value):
    with pytest.raises(RecistValidationError, match="not a finite number of millimetres"):
        to_um(value)
