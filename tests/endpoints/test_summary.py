"""Per-arm summaries checked against published values.

Survival: the Freireich et al. (1963) 6-MP vs placebo remission data as tabulated by Gehan (1965) and
Kleinbaum & Klein, "Survival Analysis: A Self-Learning Text" (3rd ed., 2012), ch. 1-2 (weeks):
- KM medians: 6-MP 23 weeks, placebo 8 weeks (Kleinbaum & Klein ch. 2);
- log-rank chi-square 16.793 (1 df), p = 0.0000417 (Kleinbaum & Klein ch. 2);
- Cox model, placebo vs 6-MP: Kleinbaum & Klein ch. 3 print coef 1.509 (HR 4.523) computed with
  Breslow's tie handling (Stata default). lifelines uses Efron's method, for which the reference
  figure is coef 1.572, HR 4.817, se 0.412, p = 0.00014: the output of R ``survival::coxph`` (Efron
  ties, its default) on the same data (``MASS::gehan``). The test therefore checks 4.817, not 4.523.
Clopper-Pearson (1934): the bounds are beta quantiles, lower = B(0.025; k, n-k+1), upper =
B(0.975; k+1, n-k): 0/10 -> (0, 0.3085) (closed form 1 - 0.025**(1/10)); 5/10 -> (0.1871, 0.8129);
10/10 -> (0.025**(1/10) = 0.6915, 1), the values of the usual exact binomial tables.
"""

from __future__ import annotations

import datetime as dt

import pytest

from recist.endpoints.pfs import DAYS_PER_MONTH, PfsOutcome, SubjectAssessments
from recist.endpoints.subjects import Subject
from recist.endpoints.summary import (
    clopper_pearson,
    compare_arms,
    is_disease_control,
    pfs_summary,
    response_summary,
    summarise,
)
from recist.errors import RecistValidationError

RAND = dt.date(2020, 1, 1)
SIX_MP = [(6, 1), (6, 1), (6, 1), (6, 0), (7, 1), (9, 0), (10, 1), (10, 0), (11, 0), (13, 1), (16, 1), (17, 0),
          (19, 0), (20, 0), (22, 1), (23, 1), (25, 0), (32, 0), (32, 0), (34, 0), (35, 0)]
PLACEBO = [(t, 1) for t in (1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23)]


def _outcomes() -> list[PfsOutcome]:
    """Freireich data with one 'day' per week (days = t), so months * 30.4375 = weeks."""
    out = []
    for arm, data in (("6-MP", SIX_MP), ("placebo", PLACEBO)):
        for i, (weeks, event) in enumerate(data):
            out.append(PfsOutcome(f"{arm}-{i}", arm, RAND, bool(event), RAND + dt.timedelta(days=weeks - 1)))
    return out


def test_km_medians_match_published_values():
    by_arm = {a.arm: a for a in pfs_summary(_outcomes())}
    assert by_arm["6-MP"].median_months * DAYS_PER_MONTH == pytest.approx(23)
    assert by_arm["placebo"].median_months * DAYS_PER_MONTH == pytest.approx(8)
    assert (by_arm["6-MP"].n, by_arm["6-MP"].events, by_arm["placebo"].events) == (21, 9, 21)
    for arm in by_arm.values():
        assert arm.ci_low <= arm.median_months
        assert arm.ci_high is None or arm.median_months <= arm.ci_high
    assert by_arm["6-MP"].ci_high is None  # upper bound not reached


def test_log_rank_and_cox_match_published_values():
    (cmp,) = compare_arms(_outcomes(), control_arm="6-MP")
    assert cmp.arm == "placebo"
    assert cmp.logrank_chi2 == pytest.approx(16.793, abs=5e-4)
    assert cmp.logrank_p == pytest.approx(4.17e-5, rel=1e-2)
    assert cmp.hazard_ratio == pytest.approx(4.817, abs=5e-3)
    assert cmp.ci_low < cmp.hazard_ratio < cmp.ci_high
    (reverse,) = compare_arms(_outcomes(), control_arm="placebo")
    assert reverse.hazard_ratio == pytest.approx(1 / 4.817, rel=2e-3)


def test_no_events_in_one_arm_gives_no_hazard_ratio():
    outcomes = [PfsOutcome("a", "A", RAND, False, RAND + dt.timedelta(days=30)),
                PfsOutcome("b", "B", RAND, True, RAND + dt.timedelta(days=20)),
                PfsOutcome("c", "B", RAND, True, RAND + dt.timedelta(days=40))]
    (cmp,) = compare_arms(outcomes)
    assert cmp.hazard_ratio is None and "no events in arm 'A'" in cmp.note
    assert cmp.logrank_p is not None
    with pytest.raises(RecistValidationError, match="control arm 'C'"):
        compare_arms(outcomes, control_arm="C")


@pytest.mark.parametrize(("count", "n", "low", "high"), [(0, 10, 0.0, 0.3085), (5, 10, 0.1871, 0.8129),
                                                         (10, 10, 0.6915, 1.0)])
def test_clopper_pearson_matches_published_table(count, n, low, high):
    p = clopper_pearson(count, n)
    assert (p.ci_low, p.ci_high) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_clopper_pearson_edge_cases():
    assert clopper_pearson(0, 0).ci_low is None
    assert clopper_pearson(5, 10).format() == "5/10 (50.0%; 95% CI 18.7-81.3%)"
    with pytest.raises(RecistValidationError):
        clopper_pearson(11, 10)


def test_response_summary_counts_itt_and_non_cr_non_pd_as_disease_control():
    subjects = [Subject(f"S{i}", RAND, "A" if i < 5 else "B") for i in range(8)]
    bors = {"S0": "CR", "S1": "PR", "S2": "SD", "S3": "NON-CR/NON-PD", "S5": "PD", "S6": "NE", "S7": None}
    reads = {k: SubjectAssessments(k, best_overall_response=v) for k, v in bors.items()}
    a, b = response_summary(subjects, reads)
    assert a.arm == "A" and a.n == 5
    assert a.bor_counts == {"CR": 1, "PR": 1, "SD": 1, "NON-CR/NON-PD": 1, "PD": 0, "NE": 1}  # S4 has no read
    assert (a.orr.count, a.dcr.count) == (2, 4)
    assert b.bor_counts["NE"] == 2 and b.dcr.count == 0
    assert is_disease_control("NON-CR/NON-PD") and not is_disease_control("NE")
    with pytest.raises(RecistValidationError, match="'XX'"):
        response_summary(subjects, {"S0": SubjectAssessments("S0", best_overall_response="XX")})


def test_summarise_defaults_control_to_first_arm_by_name():
    s = summarise([], {}, _outcomes())
    assert s.control_arm == "6-MP" and s.comparisons[0].arm == "placebo"
