"""Independent QA of the per-arm summaries against published tables and hand-written reference code.

- Clopper-Pearson: Newcombe RG, "Two-sided confidence intervals for the single proportion: comparison
  of seven methods", Stat Med 1998;17:857-872, Table II (method 5, exact): 81/263 -> 0.2527-0.3676,
  15/148 -> 0.0578-0.1617, 0/20 -> 0-0.1684, 1/29 -> 0.0009-0.1776, 29/29 -> 0.8806-1.
- Kaplan-Meier median and its CI: the median is the smallest time with S(t) <= 0.5 (lifelines'
  convention, documented in docs/endpoints.md); its 95% CI (Brookmeyer & Crowley 1982) is read from
  the pointwise log(-log) Greenwood band, S(t)^exp(+/-1.96 se), se^2 = sum d/(n(n-d)) / log(S)^2
  (Kalbfleisch & Prentice 1980), recomputed here with numpy.
- Log-rank (Mantel 1966): U = sum(O1 - E1), V = sum n1 n0 d (n - d) / (n^2 (n - 1)), chi2 = U^2 / V.
- Cox (1972) with one binary covariate and no tied times: the partial likelihood maximised by Newton's
  method here; HR is arm vs control, HR < 1 favours the arm.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy.stats import chi2 as chi2_dist

from recist.endpoints.pfs import DAYS_PER_MONTH, PfsOutcome, SubjectAssessments
from recist.endpoints.subjects import Subject
from recist.endpoints.summary import clopper_pearson, compare_arms, pfs_summary, response_summary

RAND = dt.date(2021, 6, 1)


def outcomes(arm: str, data: list[tuple[int, int]]) -> list[PfsOutcome]:
    """PFS outcomes whose ``days`` are the given integers (randomisation = day 1)."""
    return [PfsOutcome(f"{arm}-{i}", arm, RAND, bool(e), RAND + dt.timedelta(days=t - 1))
            for i, (t, e) in enumerate(data)]


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (81, 263, 0.2527, 0.3676), (15, 148, 0.0578, 0.1617), (0, 20, 0.0, 0.1684), (1, 29, 0.0009, 0.1776),
    (29, 29, 0.8806, 1.0),
])
def test_clopper_pearson_matches_newcombe_1998_table_ii(k, n, low, high):
    p = clopper_pearson(k, n)
    assert (round(p.ci_low, 4), round(p.ci_high, 4)) == (low, high)


def test_orr_dcr_denominator_is_every_randomised_subject():
    subjects = [Subject(f"E{i}", RAND, "experimental") for i in range(5)]
    reads = {
        "E0": SubjectAssessments("E0", best_overall_response="CR"),
        "E1": SubjectAssessments("E1", best_overall_response="PR"),
        "E2": SubjectAssessments("E2", best_overall_response="SD"),
        "E3": SubjectAssessments("E3", best_overall_response=None),  # read without a BOR -> NE
        # E4 randomised, never scanned -> NE
    }
    (arm,) = response_summary(subjects, reads)
    assert arm.n == 5 and arm.bor_counts["NE"] == 2
    assert (arm.orr.count, arm.orr.n, arm.dcr.count, arm.dcr.n) == (2, 5, 3, 5)
    ref = clopper_pearson(2, 5)
    assert (arm.orr.ci_low, arm.orr.ci_high) == (ref.ci_low, ref.ci_high)
    assert arm.orr.format() == "2/5 (40.0%; 95% CI 5.3-85.3%)"


def _km_loglog(data: list[tuple[float, int]]):
    """Reference KM with the log(-log) Greenwood 95% band, at each distinct event time."""
    times = sorted({t for t, e in data if e})
    s, g, rows = 1.0, 0.0, []
    for t in times:
        n = sum(1 for u, _ in data if u >= t)
        d = sum(1 for u, e in data if u == t and e)
        s *= 1 - d / n
        if n > d:
            g += d / (n * (n - d))
        if 0 < s < 1:
            se = math.sqrt(g) / abs(math.log(s))
            lo, hi = s ** math.exp(1.959963984540054 * se), s ** math.exp(-1.959963984540054 * se)
        else:
            lo = hi = s
        rows.append((t, s, lo, hi))
    return rows


def _first_at_or_below(rows, column: int, q: float = 0.5, eps: float = 1e-12):
    return next((r[0] for r in rows if r[column] <= q + eps), None)


# Freireich et al. 1963 remission times (weeks), as in tests/endpoints/test_summary.py
SIX_MP = [(6, 1), (6, 1), (6, 1), (6, 0), (7, 1), (9, 0), (10, 1), (10, 0), (11, 0), (13, 1), (16, 1), (17, 0),
          (19, 0), (20, 0), (22, 1), (23, 1), (25, 0), (32, 0), (32, 0), (34, 0), (35, 0)]
PLACEBO = [(t, 1) for t in (1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23)]


def test_km_median_ci_is_the_loglog_brookmeyer_crowley_interval():
    by_arm = {a.arm: a for a in pfs_summary(outcomes("6-MP", SIX_MP) + outcomes("placebo", PLACEBO))}
    for name, data in (("6-MP", SIX_MP), ("placebo", PLACEBO)):
        rows = _km_loglog(data)
        expected = [_first_at_or_below(rows, c) for c in (1, 2, 3)]  # median, lower, upper (weeks)
        got = [None if v is None else v * DAYS_PER_MONTH for v in
               (by_arm[name].median_months, by_arm[name].ci_low, by_arm[name].ci_high)]
        assert got == pytest.approx(expected, abs=1e-9) if None not in expected else (
            got[:2] == pytest.approx(expected[:2], abs=1e-9) and got[2] is None and expected[2] is None)
    # the figures themselves (weeks), worked by hand for placebo: upper band 0.578 at week 8, 0.482 at 11:
    # 6-MP 23 (13-NR), placebo 8 (4-11)
    assert [_first_at_or_below(_km_loglog(SIX_MP), c) for c in (1, 2, 3)] == [23, 13, None]
    assert [_first_at_or_below(_km_loglog(PLACEBO), c) for c in (1, 2, 3)] == [8, 4, 11]


def test_km_median_when_the_curve_sits_exactly_at_one_half():
    # six events at days 1..6, no censoring: S = 5/6, 4/6, 3/6, ... so S(3) = 0.5 exactly and the
    # median (smallest t with S(t) <= 0.5) is day 3. lifelines' float product gives 0.5000000000000001
    # at day 3 and reports day 4.
    (arm,) = pfs_summary(outcomes("A", [(t, 1) for t in range(1, 7)]))
    assert arm.median_months * DAYS_PER_MONTH == pytest.approx(3)
    # 12 events at days 1..12: S(6) = 0.5 exactly, lifelines' product 0.49999999999999994 -> day 6
    (arm,) = pfs_summary(outcomes("A", [(t, 1) for t in range(1, 13)]))
    assert arm.median_months * DAYS_PER_MONTH == pytest.approx(6)


def _logrank(a: list[tuple[int, int]], c: list[tuple[int, int]]) -> tuple[float, float]:
    data = [(t, e, 1) for t, e in a] + [(t, e, 0) for t, e in c]
    u = v = 0.0
    for t in sorted({t for t, e, _ in data if e}):
        at_risk = [(e, g) for s, e, g in data if s >= t]
        n, n1 = len(at_risk), sum(g for _, g in at_risk)
        d = sum(1 for s, e, _ in data if s == t and e)
        d1 = sum(1 for s, e, g in data if s == t and e and g)
        u += d1 - d * n1 / n
        if n > 1:
            v += n1 * (n - n1) * d * (n - d) / (n * n * (n - 1))
    stat = u * u / v
    return stat, float(chi2_dist.sf(stat, 1))


def _cox_hr(a: list[tuple[int, int]], c: list[tuple[int, int]]) -> float:
    """Newton-Raphson on the Cox partial likelihood, binary covariate x = 1 for ``a``, untied times."""
    t = np.array([s for s, _ in a + c], float)
    e = np.array([d for _, d in a + c], float)
    x = np.array([1.0] * len(a) + [0.0] * len(c))
    beta = 0.0
    for _ in range(50):
        score = info = 0.0
        for i in np.flatnonzero(e):
            risk = t >= t[i]
            w = np.exp(beta * x[risk])
            mean = (w * x[risk]).sum() / w.sum()
            score += x[i] - mean
            info += (w * x[risk] ** 2).sum() / w.sum() - mean ** 2
        beta += score / info
    return math.exp(beta)


def test_hazard_ratio_direction_and_value_against_hand_cox_and_logrank():
    rng = np.random.default_rng(2024)
    days = rng.permutation(np.arange(20, 900))[:60]  # 60 distinct days: no ties
    ctrl = [(int(d), int(rng.random() < 0.8)) for d in days[:30] // 2]  # control progresses sooner
    expt = [(int(d), int(rng.random() < 0.8)) for d in days[30:]]
    assert len({t for t, _ in ctrl + expt}) == 60
    outs = outcomes("control", ctrl) + outcomes("experimental", expt)
    (cmp,) = compare_arms(outs)  # default control: "control" sorts first
    assert (cmp.arm, cmp.control_arm) == ("experimental", "control")
    assert cmp.hazard_ratio == pytest.approx(_cox_hr(expt, ctrl), rel=1e-4)
    assert cmp.hazard_ratio < 1 and cmp.ci_low < cmp.hazard_ratio < cmp.ci_high
    stat, p = _logrank(expt, ctrl)
    assert (cmp.logrank_chi2, cmp.logrank_p) == (pytest.approx(stat, rel=1e-9), pytest.approx(p, rel=1e-6))
    # named control: the same HR whatever the labels sort to
    relabelled = outcomes("placebo", ctrl) + outcomes("drug", expt)
    (named,) = compare_arms(relabelled, control_arm="placebo")
    assert (named.arm, named.hazard_ratio) == ("drug", pytest.approx(cmp.hazard_ratio))
    # without --control the first arm by name ("drug") becomes the control and the HR is inverted
    (default,) = compare_arms(relabelled)
    assert default.control_arm == "drug"
    assert default.hazard_ratio == pytest.approx(1 / cmp.hazard_ratio, rel=1e-4)


def test_logrank_with_ties_against_hand_computation():
    stat, p = _logrank(PLACEBO, SIX_MP)
    (cmp,) = compare_arms(outcomes("6-MP", SIX_MP) + outcomes("placebo", PLACEBO))
    assert cmp.logrank_chi2 == pytest.approx(stat, rel=1e-9) and cmp.logrank_p == pytest.approx(p, rel=1e-6)
    assert round(stat, 3) == 16.793  # Kleinbaum & Klein, ch. 2
