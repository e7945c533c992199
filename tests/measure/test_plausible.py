"""Lines that no target can have: longer than the body is wide, or crossing the body outline."""

import numpy as np

from recist.measure.plausible import MAX_PLAUSIBLE_MM, body_mask, implausible_line, line_leaves_body


def _abdomen() -> np.ndarray:
    """Air (-1000) around an elliptic body (40 HU) with a gas-filled bowel loop (-1000) inside it."""
    yy, xx = np.mgrid[:100, :120]
    image = np.full((100, 120), -1000.0)
    image[((yy - 50) / 40.0) ** 2 + ((xx - 60) / 55.0) ** 2 <= 1] = 40.0
    image[(yy - 50) ** 2 + (xx - 40) ** 2 <= 36] = -1000.0
    return image


def test_body_mask_fills_gas_inside_the_body():
    body = body_mask(_abdomen())
    assert body[50, 40] and body[50, 60] and not body[2, 2]


def test_line_inside_the_body_even_across_bowel_gas():
    assert not line_leaves_body(_abdomen(), (50, 30), (50, 90))


def test_line_ending_outside_the_body_or_the_image():
    assert line_leaves_body(_abdomen(), (50, 60), (50, 119))
    assert line_leaves_body(_abdomen(), (50, 60), (50, 140))


def test_reasons():
    assert implausible_line(25.0) == []
    assert len(implausible_line(MAX_PLAUSIBLE_MM + 1)) == 1
    assert len(implausible_line(MAX_PLAUSIBLE_MM + 1, leaves_body=True)) == 2


def test_a_slice_without_body_flags_nothing():
    assert not line_leaves_body(np.full((20, 20), -1000.0), (2, 2), (15, 15))
