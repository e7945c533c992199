"""Reading SR content items: codes as (value, scheme), their description in messages, numbers, image geometry.

Helpers of :mod:`recist.io.sr_import`: plain functions over pydicom datasets, no SR template logic.
"""

from __future__ import annotations

import math
from typing import Any

from recist.errors import ExchangeError

__all__ = ["code_of", "meaning", "clean", "describe", "float32_text", "Geometry"]


def code_of(item: Any, keyword: str = "ConceptNameCodeSequence") -> tuple[str, str] | None:
    seq = item.get(keyword)
    if not seq:
        return None
    code = seq[0]
    return (str(code.get("CodeValue", code.get("LongCodeValue", code.get("URNCodeValue", "")))),
            str(code.get("CodingSchemeDesignator", "")))  # fmt: skip


def meaning(item: Any, keyword: str) -> str:
    seq = item.get(keyword)
    return str(seq[0].get("CodeMeaning", "")) if seq else ""


def clean(text: str) -> str:
    """Text from a file made safe for a one-line message (control characters escaped)."""
    return text if text.isprintable() else repr(text)[1:-1]


def describe(item: Any, keyword: str = "ConceptNameCodeSequence") -> str:
    """A code as people look it up: ``(SCT, 118565006, 'Volume')`` (scheme, value, meaning)."""
    code = code_of(item, keyword)
    if code is None:
        return f"(no {keyword})"
    return f"({clean(code[1])}, {clean(code[0])}, {meaning(item, keyword)!r})"


def float32_text(value: float) -> float:
    import numpy as np

    return float(str(np.float32(value)))


class Geometry:
    """The plane of one image: pixel (column, row) <-> patient LPS mm (PS3.3 C.7.6.2.1.1)."""

    def __init__(self, header: Any, sop_uid: str) -> None:
        try:
            self.origin = [float(v) for v in header.ImagePositionPatient]
            cosines = [float(v) for v in header.ImageOrientationPatient]
            spacing = [float(v) for v in header.PixelSpacing]
        except (AttributeError, TypeError, ValueError):
            raise ExchangeError(
                f"image {sop_uid} has no usable Image Position/Orientation (Patient) or Pixel Spacing"
            ) from None
        if len(self.origin) != 3 or len(cosines) != 6 or len(spacing) != 2 or min(spacing) <= 0:
            raise ExchangeError(f"image {sop_uid}: malformed image plane attributes")
        if not all(math.isfinite(v) for v in [*self.origin, *cosines, *spacing]):
            raise ExchangeError(f"image {sop_uid}: image plane attributes are not finite numbers")
        self.row_dir, self.col_dir = cosines[:3], cosines[3:]
        self.row_spacing, self.col_spacing = spacing  # between rows, between columns

    def to_patient(self, column: float, row: float) -> list[float]:
        """LPS mm of a SCOORD point (column, row); the centre of the top-left pixel is (0.5, 0.5)."""
        c, r = (column - 0.5) * self.col_spacing, (row - 0.5) * self.row_spacing
        return [self.origin[i] + c * self.row_dir[i] + r * self.col_dir[i] for i in range(3)]

    def length_mm(self, points: list[tuple[float, float]]) -> float:
        (c0, r0), (c1, r1) = points
        return math.hypot((c1 - c0) * self.col_spacing, (r1 - r0) * self.row_spacing)
