"""Kaplan-Meier estimates at fixed times: landmark PFS rates with CIs and median follow-up (reverse KM).

Small pure functions over ``(time, event)`` pairs; times in any unit (the report uses months).

Sources
-------
- Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. JASA 1958;53:457-481
  (product-limit estimator S(t) = prod_{t_i <= t} (1 - d_i / n_i)).
- Greenwood M. The natural duration of cancer. Reports on Public Health and Medical Subjects 33, HMSO
  1926 (variance of S(t): S(t)^2 sum d_i / (n_i (n_i - d_i))).
- Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data, Wiley 1980 (2nd ed. 2002
  §4.3): the log(-log) transformed CI, S(t)^exp(+/- z sigma / log S(t)) with sigma^2 the Greenwood sum;
  it stays within (0, 1). It is SAS PROC LIFETEST's default (CONFTYPE=LOGLOG) and R survival's
  ``conf.type="log-log"``.
- Schemper M, Smith TL. A note on quantifying follow-up in studies of failure time. Controlled Clinical
  Trials 1996;17:343-346: median follow-up by the "reverse" Kaplan-Meier estimator, in which the
  censoring is the event and the events are censored.
- FDA 2018 guidance (Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics) asks for
  the follow-up duration beside PFS; landmark rates (e.g. 6 and 12 months) are the usual secondary
  summaries of a KM curve in a clinical study report (ICH E3 §11.4.1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from recist.errors import RecistValidationError

__all__ = ["KmPoint", "km_table", "km_at", "landmark_rates", "reverse_km_median", "LANDMARK_MONTHS", "Z_95"]

Z_95 = 1.959963984540054
"""The 97.5 % normal quantile (two-sided 95 % CIs)."""
LANDMARK_MONTHS: tuple[float, ...] = (6.0, 12.0, 18.0, 24.0)
"""The landmark times of the report, months."""


@dataclass(frozen=True)
class KmPoint:
    """The Kaplan-Meier estimate at one time.

    Attributes
    ----------
    time
        The time asked for.
    survival
        S(time), or ``None`` when not estimable (follow-up ends before ``time`` with S > 0).
    ci_low, ci_high
        The log(-log) 95 % CI (``None`` when S is 1 or 0, or not estimable).
    at_risk
        Subjects with a time >= ``time``.
    """

    time: float
    survival: float | None
    ci_low: float | None
    ci_high: float | None
    at_risk: int


def _check(times: Sequence[float], events: Sequence[bool]) -> None:
    if len(times) != len(events):
        raise RecistValidationError(f"{len(times)} times but {len(events)} event flags")
    if any(t < 0 or math.isnan(t) for t in times):
        raise RecistValidationError("times must be non-negative numbers")


def km_table(times: Sequence[float], events: Sequence[bool]) -> list[tuple[float, int, int, float, float]]:
    """The product-limit table: one row per distinct event time.

    Returns ``(t_i, n_i, d_i, S(t_i), greenwood_sum(t_i))`` with ``n_i`` at risk (time >= t_i) and ``d_i``
    events at t_i (censorings at t_i are at risk at t_i, the usual convention). The Greenwood sum is
    sum d_j / (n_j (n_j - d_j)) up to t_i (``inf`` once S reaches 0).

    Examples
    --------
    >>> [(t, n, d, round(s, 4)) for t, n, d, s, _ in km_table([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])]
    [(1, 5, 1, 0.8), (2, 4, 1, 0.6), (3, 2, 1, 0.3)]
    """
    _check(times, events)
    order = sorted(zip(times, (bool(e) for e in events)))
    rows = []
    survival, greenwood = 1.0, 0.0
    at_risk, i = len(order), 0
    while i < len(order):  # one pass over the sorted times: O(n log n)
        t, j, d = order[i][0], i, 0
        while j < len(order) and order[j][0] == t:
            d += order[j][1]
            j += 1
        if d:
            survival *= 1.0 - d / at_risk
            greenwood = math.inf if at_risk == d else greenwood + d / (at_risk * (at_risk - d))
            rows.append((t, at_risk, d, survival, greenwood))
        at_risk -= j - i
        i = j
    return rows


def _loglog_ci(survival: float, greenwood: float, z: float) -> tuple[float | None, float | None]:
    if survival <= 0.0 or survival >= 1.0 or math.isinf(greenwood):
        return None, None
    se = math.sqrt(greenwood) / abs(math.log(survival))
    return survival ** math.exp(z * se), survival ** math.exp(-z * se)


def km_at(times: Sequence[float], events: Sequence[bool], time: float, *, z: float = Z_95) -> KmPoint:
    """S(time) with its log(-log) Greenwood 95 % CI (Kaplan & Meier 1958; Kalbfleisch & Prentice 1980).

    Not estimable (``survival`` None) when every subject's time is below ``time`` and the curve has not
    reached 0: nobody was followed that long.

    Examples
    --------
    Five subjects, events at 1, 2 and 3, censored at 2 and 4: S(2.5) = (4/5)(3/4) = 0.6, and the
    Greenwood sum is 1/(5*4) + 1/(4*3) = 0.1333.

    >>> p = km_at([1, 2, 2, 3, 4], [1, 1, 0, 1, 0], 2.5)
    >>> round(p.survival, 4), p.at_risk
    (0.6, 2)
    """
    _check(times, events)
    at_risk = sum(1 for t in times if t >= time)
    rows = [r for r in km_table(times, events) if r[0] <= time]
    survival, greenwood = (rows[-1][3], rows[-1][4]) if rows else (1.0, 0.0)
    if at_risk == 0 and survival > 0.0 and not any(t == time for t in times):
        return KmPoint(time, None, None, None, 0)
    low, high = _loglog_ci(survival, greenwood, z)
    return KmPoint(time, survival, low, high, at_risk)


def landmark_rates(
    times: Sequence[float], events: Sequence[bool], landmarks: Sequence[float] = LANDMARK_MONTHS
) -> list[KmPoint]:
    """The Kaplan-Meier estimate with 95 % CI at each landmark time (:func:`km_at`)."""
    return [km_at(times, events, t) for t in landmarks]


def reverse_km_median(times: Sequence[float], events: Sequence[bool]) -> tuple[float | None, float | None, float | None]:
    """Median follow-up by the reverse Kaplan-Meier method (Schemper & Smith 1996), with its 95 % CI.

    The censoring indicator is reversed (a censored subject is an "event" of follow-up ending, a PFS
    event censors follow-up) and the median of that Kaplan-Meier curve is the median potential
    follow-up. The median is the smallest time with S(t) <= 0.5; its CI is read off the log(-log) band
    (Brookmeyer & Crowley 1982). ``None`` for a bound that is never reached.

    Examples
    --------
    Censored at 2, 4 and 6, events at 1 and 3: the reversed curve drops at 2 (4 at risk: 3/4), at 4
    (2 at risk: 3/8 <= 0.5), so the median follow-up is 4.

    >>> reverse_km_median([1, 2, 3, 4, 6], [1, 0, 1, 0, 0])[0]
    4
    """
    reversed_events = [not e for e in events]
    rows = km_table(times, reversed_events)
    tolerance = 1e-9  # (5/6)(4/5)(3/4) is 0.5000000000000001 in floating point

    def first_at_or_below_half(values: Sequence[tuple[float, float | None]]) -> float | None:
        for t, s in values:
            if s is not None and s <= 0.5 + tolerance:
                return t
        return None

    median = first_at_or_below_half([(t, s) for t, _, _, s, _ in rows])
    bands = [(t, _loglog_ci(s, g, Z_95)) for t, _, _, s, g in rows]
    # where S is 0 the band is 0 too; where undefined (S = 1) it stays above 0.5
    low = first_at_or_below_half([(t, 0.0 if s == 0.0 else b[0]) for (t, b), (_, _, _, s, _) in zip(bands, rows)])
    high = first_at_or_below_half([(t, 0.0 if s == 0.0 else b[1]) for (t, b), (_, _, _, s, _) in zip(bands, rows)])
    return median, low, high
