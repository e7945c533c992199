"""Is a drawn line a measurement a RECIST target can have? Checks that ask the reader to confirm.

A slip of the mouse (a line across the abdomen, or one that ends outside the patient) must not become a
measurement without the reader saying so. The checks are deliberately loose: they flag what no target
lesion can be, not what is merely unusual.

- **Length.** RECIST 1.1 sets no upper size, but the abdomen of an adult is about 300-350 mm wide
  (left-right), so a longest diameter over :data:`MAX_PLAUSIBLE_MM` (300 mm) spans the whole body.
- **Body outline.** On CT, the body is the largest connected region above :data:`BODY_HU` (-500 HU:
  between air, -1000, and fat, -100) on the slice, with its holes filled (lungs and bowel gas lie inside
  it). A target lesion lies inside the body, so a line with a point outside the outline is flagged (a
  slice with no body at all, such as a phantom or an empty slice, flags nothing).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

__all__ = ["MAX_PLAUSIBLE_MM", "BODY_HU", "body_mask", "line_leaves_body", "implausible_line"]

#: Longest plausible diameter of a target lesion, mm.
MAX_PLAUSIBLE_MM = 300.0
#: CT threshold between air and the body, HU.
BODY_HU = -500.0


def body_mask(slice_hu: ArrayLike, threshold_hu: float = BODY_HU) -> NDArray[np.bool_]:
    """The body on one CT slice (y, x): the largest region above ``threshold_hu``, holes filled."""
    above = np.asarray(slice_hu, dtype=np.float64) > threshold_hu
    labels, count = ndimage.label(above)
    if count == 0:
        return above
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return ndimage.binary_fill_holes(labels == int(np.argmax(sizes)))


def line_leaves_body(slice_hu: ArrayLike, start_yx: ArrayLike, end_yx: ArrayLike) -> bool:
    """Whether a line between two (y, x) pixel positions of a CT slice has a point outside the body
    (or outside the image). A slice without any body (nothing above :data:`BODY_HU`: a phantom, an
    empty slice) has no outline to cross: False."""
    body = body_mask(slice_hu)
    if not body.any():
        return False
    start, end = np.asarray(start_yx, dtype=float), np.asarray(end_yx, dtype=float)
    count = int(np.ceil(np.abs(end - start).max() * 2)) + 2
    points = np.rint(start + np.linspace(0.0, 1.0, count)[:, None] * (end - start)).astype(int)
    inside = (points >= 0).all(axis=1) & (points < np.array(body.shape)).all(axis=1)
    if not inside.all():
        return True
    return not bool(body[points[:, 0], points[:, 1]].all())


def implausible_line(length_mm: float, *, leaves_body: bool = False) -> list[str]:
    """Why a line cannot be a target's measurement (empty when it can); each reason is one sentence."""
    reasons = []
    if length_mm > MAX_PLAUSIBLE_MM:
        reasons.append(f"the line is {length_mm:.0f} mm long, more than any target lesion can be "
                       f"(> {MAX_PLAUSIBLE_MM:.0f} mm, wider than the abdomen)")
    if leaves_body:
        reasons.append("the line crosses the body outline (a point of it lies outside the patient)")
    return reasons
