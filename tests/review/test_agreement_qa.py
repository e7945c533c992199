"""Independent QA of reader agreement: kappa against a published example and the delta method,
progression-date classes at their boundaries, adjudication rate per trigger, EDR/LDR (Amit et al. 2011).

- Fleiss JL, Levin B, Paik MC, "Statistical Methods for Rates and Proportions", 3rd ed. (2003), ch. 18:
  two raters, 100 subjects, three diagnoses (psychotic / neurotic / organic); rows
  (75, 1, 4), (5, 4, 1), (0, 0, 10): p_o = 0.89, p_e = 0.8*0.8 + 0.1*0.05 + 0.1*0.15 = 0.66,
  kappa = 0.23 / 0.34 = 0.6765.
- Fleiss, Cohen & Everitt (1969): the large-sample (non-null) variance of kappa is the multinomial
  delta-method variance grad' (diag(p) - p p') grad / n, computed here numerically.
- Amit O, Mannino F, Stone AM, et al., Eur J Cancer 2011;47:1772-1778 (my reading of their Table 1):
  of subjects with investigator (site) PD, a = same timing as BICR, b = site PD earlier than BICR PD,
  c = site PD later, d = no BICR PD; e = BICR PD without site PD.
  EDR = (b + d) / (a + b + c + d): early discrepancies over all site PDs;
  LDR = (c + e) / (b + c + d + e): late discrepancies over all discrepancies.
"""

from __future__ import annotations

import numpy as np
import pytest

from recist.review.adjudication import fired_triggers
from recist.review.agreement import (
    agreement_report,
    cohen_kappa,
    discrepancy_rates,
    progression_date_agreement,
)

FLEISS = [[75, 1, 4], [5, 4, 1], [0, 0, 10]]


def _pairs(table, cats):
    return [(cats[i], cats[j]) for i, row in enumerate(table) for j, n in enumerate(row) for _ in range(n)]


def _delta_method_se(table) -> float:
    t = np.asarray(table, float)
    k, n = t.shape[0], t.sum()
    p = (t / n).ravel()

    def kappa(v):
        m = v.reshape(k, k) / v.sum()
        po, pe = np.trace(m), m.sum(1) @ m.sum(0)
        return (po - pe) / (1 - pe)

    h = 1e-7
    grad = np.array([(kappa(p + h * e) - kappa(p - h * e)) / (2 * h) for e in np.eye(k * k)])
    return float(np.sqrt(grad @ (np.diag(p) - np.outer(p, p)) @ grad / n))


def test_kappa_fleiss_levin_paik_example():
    r = cohen_kappa(_pairs(FLEISS, ["psychotic", "neurotic", "organic"]))
    assert r["observed_agreement"] == pytest.approx(0.89)
    assert r["expected_agreement"] == pytest.approx(0.66)
    assert r["kappa"] == pytest.approx(0.23 / 0.34)
    assert round(r["kappa"], 3) == 0.676
    assert r["se"] == pytest.approx(_delta_method_se(FLEISS), rel=1e-5)
    assert round(r["se"], 4) == 0.0877
    assert r["ci95"] == pytest.approx([r["kappa"] - 1.959964 * r["se"], r["kappa"] + 1.959964 * r["se"]])


def test_kappa_is_symmetric_and_ignores_unused_categories():
    cats = ["CR", "PR", "SD", "PD"]
    table = [[3, 1, 0, 0], [2, 12, 3, 1], [0, 4, 20, 2], [0, 0, 3, 15]]
    pairs = _pairs(table, cats)
    a = cohen_kappa(pairs, cats)
    b = cohen_kappa([(y, x) for x, y in pairs], cats)
    c = cohen_kappa(pairs, cats + ["NE"])  # a category nobody used changes nothing
    assert a["kappa"] == pytest.approx(b["kappa"]) == pytest.approx(c["kappa"])
    assert a["se"] == pytest.approx(b["se"]) == pytest.approx(c["se"])
    assert a["se"] == pytest.approx(_delta_method_se(table), rel=1e-5)


def test_kappa_below_chance_is_negative():
    # two raters who always disagree on a balanced binary call: p_o = 0, p_e = 0.5, kappa = -1
    r = cohen_kappa([("PD", "SD"), ("SD", "PD")] * 5)
    assert r["kappa"] == pytest.approx(-1.0) and r["ci95"][0] == -1.0


def test_progression_date_classes_at_their_boundaries():
    pd = lambda d: {"day": d}  # noqa: E731
    counts = progression_date_agreement([
        (pd(56), pd(56)),     # same date
        (pd(56), pd(112)),    # exactly one interval apart: within one visit
        (pd(112), pd(55)),    # 57 days apart, either order: discordant
        (None, pd(56)),       # only one read progressed: discordant
        (None, None),
    ], visit_interval_days=56)
    assert counts == {"same_date": 1, "within_one_visit": 1, "discordant": 2, "no_progression": 1}


def test_edr_ldr_amit_2011_worked_counts():
    pd = lambda d: {"date": d}  # noqa: E731
    # a = 2, b = 3, c = 1, d = 2, e = 4, plus 5 subjects without PD in either read
    pairs = (
        [(pd("2024-04-01"), pd("2024-04-01"))] * 2
        + [(pd("2024-02-01"), pd("2024-04-01"))] * 3
        + [(pd("2024-06-01"), pd("2024-04-01"))]
        + [(pd("2024-03-01"), None)] * 2
        + [(None, pd("2024-03-01"))] * 4
        + [(None, None)] * 5
    )
    r = discrepancy_rates(pairs)
    assert [r[k] for k in "abcde"] == [2, 3, 1, 2, 4]
    assert r["subjects"] == 17
    assert r["edr"] == pytest.approx((3 + 2) / (2 + 3 + 1 + 2))  # 5/8 = 0.625
    assert r["ldr"] == pytest.approx((1 + 4) / (3 + 1 + 2 + 4))  # 5/10 = 0.5


def test_edr_same_timing_window_boundary():
    pd = lambda d: {"day": d}  # noqa: E731
    r = discrepancy_rates([(pd(100), pd(107)), (pd(100), pd(108))], same_window_days=7)
    assert [r[k] for k in "abcde"] == [1, 1, 0, 0, 0]  # 7 days apart = same timing; 8 days: site earlier


def _subject(r1, r2, triggers, chosen=None):
    def read(bor, day):
        return {"best_overall_response": bor, "progression": None if day is None else {"day": day, "date": None}}

    return {"reads": {"R1": read(*r1), "R2": read(*r2)}, "triggers": triggers, "chosen_reader": chosen,
            "final": None, "site": None}


def test_adjudication_rate_per_trigger_counts_subjects_not_triggers():
    triggers = ["progression", "progression_date", "best_overall_response"]
    reads = [
        (("PD", 56), ("PD", 56)),      # agree
        (("PD", 56), ("SD", None)),    # progression + BOR
        (("PD", 56), ("PD", 112)),     # progression date only (BOR agrees)
        (("PR", None), ("SD", None)),  # BOR only
    ]
    subjects = []
    for (a, b), chosen in zip(reads, [None, "R1", "R2", "R1"]):
        fired = fired_triggers(_subject(a, b, [])["reads"]["R1"], _subject(a, b, [])["reads"]["R2"],
                               triggers=triggers, tolerance_days=0)
        subjects.append(_subject(a, b, fired, chosen if fired else None))
    report = agreement_report(subjects, readers=["R1", "R2"], triggers=triggers,
                              visit_interval_days=56, same_date_window_days=0)
    adj = report["adjudication"]
    assert (adj["needed"], adj["rate"]) == (3, 0.75)
    assert {t: v["count"] for t, v in adj["per_trigger"].items()} == {
        "progression": 1, "progression_date": 1, "best_overall_response": 2}
    assert adj["per_trigger"]["best_overall_response"]["rate"] == 0.5
    assert report["adjudicator_choice"]["per_reader"]["R1"] == {"count": 2, "rate": pytest.approx(2 / 3)}
    assert report["progression_date"] == {"same_date": 1, "within_one_visit": 1, "discordant": 1,
                                          "no_progression": 1}
    kappa = report["best_overall_response_kappa"]
    # BOR pairs PD/PD, PD/SD, PD/PD, PR/SD over categories PR, SD, PD: p_o = 0.5,
    # rows (PR .25, SD 0, PD .75), columns (PR 0, SD .5, PD .5): p_e = 0.375, kappa = 0.125 / 0.625 = 0.2
    assert kappa["kappa"] == pytest.approx(0.2)


def test_edr_direction_when_only_one_read_is_dated():
    # site read on dated images: PD at day 56 (2024-03-01); central final read on an undated case: PD at
    # day 112. The gap is measured in days (56 > window), and the site PD is the earlier one: b, not c.
    site = {"date": "2024-03-01", "day": 56}
    central = {"date": None, "day": 112}
    r = discrepancy_rates([(site, central)], same_window_days=7)
    assert [r[k] for k in "abcde"] == [0, 1, 0, 0, 0]
    r = discrepancy_rates([(central, site)], same_window_days=7)  # and the other way round
    assert [r[k] for k in "abcde"] == [0, 0, 1, 0, 0]
