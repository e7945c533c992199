"""The confirmation window after iUPD ([iR17]; [iR-FAQ]; RECIST_RULES I2-I3)."""

from __future__ import annotations

from typing import Literal

__all__ = ["Window", "confirmation_window"]

Window = Literal["early", "in", "late"]


def confirmation_window(days_since_iupd: int, *, min_days: int, max_days: int, variance_days: int) -> Window:
    """Where an assessment falls against the window in which it may confirm an iUPD.

    [iR17]: iUPD is confirmed at the next assessment, 4-8 weeks later (``min_days`` 28 to ``max_days``
    56). [iR-FAQ] "Can imaging be used to confirm progression ... less than four weeks after the scans
    that showed iUPD": scans before 4 weeks, "with a protocol defined variance permitted of a recommended
    +/- 2 days" (``variance_days``), must not be used to assign iCPD (RECIST_RULES I3). The variance
    widens both ends.

    >>> confirmation_window(27, min_days=28, max_days=56, variance_days=0)
    'early'
    >>> confirmation_window(26, min_days=28, max_days=56, variance_days=2)
    'in'
    """
    if days_since_iupd < min_days - variance_days:
        return "early"
    if days_since_iupd > max_days + variance_days:
        return "late"
    return "in"
