"""The (stratified) log-rank test, from the textbook sums (Mantel 1966; Collett 2015 §2.6, §11.2)."""

from __future__ import annotations

import pytest

from recist.endpoints.logrank import logrank
from recist.errors import RecistValidationError

# Freireich et al. (1963) remission times in weeks (Gehan 1965): 6-MP and placebo
SIX_MP = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


def _freireich():
    times = SIX_MP + PLACEBO
    events = [bool(e) for e in SIX_MP_EVENT] + [True] * len(PLACEBO)
    arm = [False] * len(SIX_MP) + [True] * len(PLACEBO)
    return times, events, arm


def test_freireich_log_rank_matches_the_published_value():
    # placebo: O = 21, E = 10.75, chi-square 16.79 (Kleinbaum & Klein, Survival Analysis, 3rd ed., ch. 2)
    result = logrank(*_freireich())
    assert result.observed == 21
    assert result.expected == pytest.approx(10.75, abs=0.01)
    assert result.chi2 == pytest.approx(16.793, abs=1e-3)
    assert result.p == pytest.approx(4.17e-5, rel=1e-2)
    assert result.strata == 1


def test_one_stratum_is_the_unstratified_test():
    times, events, arm = _freireich()
    assert logrank(times, events, arm, ["x"] * len(times)) == logrank(times, events, arm)


def test_stratified_test_adds_the_strata_sums_by_hand():
    # stratum 1: the docstring example (O=1, E=5/6, V=17/36); stratum 2: two subjects, one event at t=1 in the
    # arm with both at risk: E = 1/2, V = 1 * 1/2 * 1/2 * 1/1 = 1/4
    times = [1, 3, 2, 4, 1, 5]
    events = [True, False, True, False, True, False]
    arm = [True, True, False, False, True, False]
    strata = ["s1", "s1", "s1", "s1", "s2", "s2"]
    result = logrank(times, events, arm, strata)
    assert result.observed == 2
    assert result.expected == pytest.approx(5 / 6 + 1 / 2)
    assert result.variance == pytest.approx(17 / 36 + 1 / 4)
    assert result.chi2 == pytest.approx((2 - 4 / 3) ** 2 / (17 / 36 + 1 / 4))
    # pooled, the same subjects give different sums (the strata are not mixed)
    assert logrank(times, events, arm).chi2 != pytest.approx(result.chi2)


def test_no_variance_gives_no_p_value():
    result = logrank([1, 2], [False, False], [True, False])
    assert result.chi2 is None and result.p is None


def test_lengths_must_match():
    with pytest.raises(RecistValidationError):
        logrank([1, 2], [True], [True, False])
