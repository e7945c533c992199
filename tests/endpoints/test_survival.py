"""Landmark Kaplan-Meier rates with Greenwood log(-log) CIs, and median follow-up by reverse Kaplan-Meier.

Expected values are computed by hand from the published formulas (Kaplan & Meier 1958; Greenwood 1926;
Kalbfleisch & Prentice 1980 for the log(-log) interval; Schemper & Smith 1996 for reverse KM), and
cross-checked against lifelines, an independent implementation.
"""

from __future__ import annotations

import math

import pytest

from recist.endpoints.survival import km_at, km_table, landmark_rates, reverse_km_median
from recist.errors import RecistValidationError

# Freireich et al. (1963) 6-MP arm, weeks (Gehan 1965): events and censored times
SIX_MP = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
SIX_MP_EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]


def test_product_limit_table_by_hand():
    # 21 at risk at 6 with 3 events: 18/21; 17 at risk at 7 (one censored at 6): x 16/17; at 10: 15 at risk
    rows = km_table(SIX_MP, SIX_MP_EVENT)
    assert [(t, n, d) for t, n, d, _, _ in rows] == [(6, 21, 3), (7, 17, 1), (10, 15, 1), (13, 12, 1), (16, 11, 1),
                                                     (22, 7, 1), (23, 6, 1)]
    assert rows[2][3] == pytest.approx(18 / 21 * 16 / 17 * 14 / 15)  # 0.7529, the textbook value
    assert rows[2][3] == pytest.approx(0.7529, abs=1e-4)
    assert rows[-1][3] == pytest.approx(0.4482, abs=1e-4)


def test_landmark_rate_and_loglog_ci_by_hand():
    point = km_at(SIX_MP, SIX_MP_EVENT, 12.0)
    s = 18 / 21 * 16 / 17 * 14 / 15
    greenwood = 3 / (21 * 18) + 1 / (17 * 16) + 1 / (15 * 14)
    se = math.sqrt(greenwood) / abs(math.log(s))
    assert point.survival == pytest.approx(s)
    assert point.ci_low == pytest.approx(s ** math.exp(1.959964 * se), abs=1e-6)
    assert point.ci_high == pytest.approx(s ** math.exp(-1.959964 * se), abs=1e-6)
    assert point.at_risk == 12


def test_landmark_rates_agree_with_lifelines():
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter().fit(SIX_MP, SIX_MP_EVENT)
    for point in landmark_rates(SIX_MP, SIX_MP_EVENT, [6.5, 12, 20, 30]):
        assert point.survival == pytest.approx(float(km.survival_function_at_times(point.time).iloc[0]))
        band = km.confidence_interval_.loc[:point.time].iloc[-1]
        assert (point.ci_low, point.ci_high) == pytest.approx((band.iloc[0], band.iloc[1]), abs=1e-9)


def test_landmark_beyond_follow_up_is_not_estimable_but_zero_is():
    assert km_at([1, 2, 3], [1, 0, 0], 6).survival is None  # nobody followed 6 months
    zero = km_at([1, 2, 3], [1, 1, 1], 6)
    assert zero.survival == 0.0 and zero.ci_low is None and zero.at_risk == 0
    before = km_at([1, 2, 3], [1, 0, 0], 0.5)
    assert before.survival == 1.0 and before.ci_low is None and before.at_risk == 3


def test_reverse_km_median_follow_up_by_hand():
    # reversed: "events" are the censorings at 2, 4, 6; at 2: 4 at risk -> 3/4; at 4: 2 at risk -> 3/8 <= 0.5
    assert reverse_km_median([1, 2, 3, 4, 6], [1, 0, 1, 0, 0])[0] == 4
    # everyone censored: reverse KM is the ordinary KM of the follow-up times, median = 3rd of 5
    assert reverse_km_median([1, 2, 3, 4, 5], [0, 0, 0, 0, 0])[0] == 3
    # every subject had an event and none was censored: follow-up never "ends", median not reached
    assert reverse_km_median([1, 2, 3], [1, 1, 1]) == (None, None, None)


def test_reverse_km_agrees_with_lifelines_on_flipped_indicator():
    from lifelines import KaplanMeierFitter

    km = KaplanMeierFitter().fit(SIX_MP, [1 - e for e in SIX_MP_EVENT])
    assert reverse_km_median(SIX_MP, SIX_MP_EVENT)[0] == pytest.approx(km.median_survival_time_)


def test_bad_input_is_an_error():
    with pytest.raises(RecistValidationError):
        km_at([1, 2], [1], 1)
    with pytest.raises(RecistValidationError):
        km_at([-1, 2], [1, 0], 1)
