"""Per-arm summaries: best overall response, ORR and DCR with exact CIs, PFS medians, HR and log-rank.

Choices (written down in ``docs/endpoints.md``):

- Denominators are every randomised subject of the arm (intention to treat). A subject without a
  read, or whose read gives no best overall response, counts as ``NE``.
- ORR = CR + PR; DCR = CR + PR + SD + NON-CR/NON-PD. NON-CR/NON-PD is the RECIST 1.1 response of a
  subject with non-target disease only that neither responded nor progressed, i.e. disease control;
  the BOR table shows it separately so a reader can recompute DCR without it.
- Proportions carry exact (Clopper-Pearson) two-sided 95% confidence intervals.
- PFS medians and their 95% CIs come from lifelines' Kaplan-Meier estimator: the CI of the median is
  read off the pointwise (log(-log), Greenwood) CI of the survival curve, the Brookmeyer-Crowley
  construction as lifelines implements it. Times are months (days / 30.4375).
- Each arm other than the control is compared with the control by a Cox model (lifelines
  ``CoxPHFitter``, Efron's method for ties, Wald CI) and a log-rank test
  (:func:`recist.endpoints.logrank.logrank`); when stratification factors are given, also by the
  stratified log-rank test and the stratified Cox model (one baseline hazard per stratum, lifelines
  ``strata=``), the primary analysis the FDA 2018 guidance expects for a stratified randomisation.
- Arms are reported in the order of the arm plan (control first) when one is given
  (:class:`recist.endpoints.arms.ArmPlan`), else sorted by name.
- Landmark PFS rates (6, 12, 18, 24 months) and the median follow-up (reverse Kaplan-Meier) come from
  :mod:`recist.endpoints.survival`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recist.endpoints.logrank import logrank
from recist.endpoints.pfs import PfsOutcome, SubjectAssessments, Visit
from recist.endpoints.subjects import Subject
from recist.endpoints.survival import LANDMARK_MONTHS, KmPoint, landmark_rates, reverse_km_median
from recist.errors import RecistValidationError

__all__ = [
    "BOR_CATEGORIES",
    "Proportion",
    "ArmResponse",
    "ArmPfs",
    "ArmComparison",
    "TrialSummary",
    "clopper_pearson",
    "is_objective_response",
    "is_disease_control",
    "response_summary",
    "fit_km",
    "median_time",
    "pfs_summary",
    "compare_arms",
    "summarise",
    "ArmFollowUp",
    "follow_up_summary",
    "best_change_from_baseline_pct",
]

logger = logging.getLogger(__name__)

BOR_CATEGORIES: tuple[str, ...] = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")
"""Best-overall-response categories in reporting order (CDISC RS controlled terms)."""


def is_objective_response(bor: str) -> bool:
    """CR or PR: an objective response (RECIST 1.1 [E09] §4.4; FDA 2018 guidance, ORR)."""
    return bor in ("CR", "PR")


def is_disease_control(bor: str) -> bool:
    """CR, PR, SD or NON-CR/NON-PD: disease control (RECIST 1.1 [E09] §4.4 and Table 2: NON-CR/NON-PD
    is the non-progression category of non-target-only disease; counted here, see module notes)."""
    return bor in ("CR", "PR", "SD", "NON-CR/NON-PD")


def best_change_from_baseline_pct(visits: Iterable[Visit]) -> float | None:
    """Best (most negative) % change of the target sum from baseline over the follow-up reads.

    The quantity of a waterfall plot: the maximum shrinkage, or the smallest growth when the sum never
    fell (RECIST 1.1 [E09] §4.3.1 measures response as % change from baseline). ``None`` when no
    follow-up has an evaluable sum.

    Examples
    --------
    >>> import datetime as dt
    >>> best_change_from_baseline_pct([Visit(dt.date(2024, 3, 1), "SD", 12.0), Visit(dt.date(2024, 5, 1), "PD", 25.0)])
    12.0
    """
    changes = [v.change_from_baseline_pct for v in visits if v.change_from_baseline_pct is not None]
    return min(changes) if changes else None


@dataclass(frozen=True)
class Proportion:
    """``count`` of ``n`` with its exact 95% CI (``None`` bounds when ``n`` is 0)."""

    count: int
    n: int
    ci_low: float | None
    ci_high: float | None

    @property
    def estimate(self) -> float | None:
        return self.count / self.n if self.n else None

    def format(self) -> str:
        """``"5/10 (50.0%; 95% CI 18.7-81.3%)"``."""
        if not self.n:
            return f"{self.count}/0"
        return (f"{self.count}/{self.n} ({100 * self.count / self.n:.1f}%; 95% CI "
                f"{100 * self.ci_low:.1f}-{100 * self.ci_high:.1f}%)")


def clopper_pearson(count: int, n: int, confidence: float = 0.95) -> Proportion:
    """Exact binomial (Clopper-Pearson 1934) CI for ``count`` successes of ``n``.

    Uses ``scipy.stats.binomtest(count, n).proportion_ci(method="exact")``.

    Examples
    --------
    >>> p = clopper_pearson(0, 10)
    >>> (p.ci_low, round(p.ci_high, 4))
    (0.0, 0.3085)
    """
    if n < 0 or not 0 <= count <= max(n, 0):
        raise RecistValidationError(f"cannot form a proportion of {count} out of {n}")
    if n == 0:
        return Proportion(0, 0, None, None)
    from scipy.stats import binomtest

    ci = binomtest(count, n).proportion_ci(confidence_level=confidence, method="exact")
    return Proportion(count, n, float(ci.low), float(ci.high))


@dataclass(frozen=True)
class ArmResponse:
    """Best overall responses of one arm."""

    arm: str
    n: int
    bor_counts: dict[str, int]
    orr: Proportion
    dcr: Proportion


def _arms(subjects: Iterable[Subject], arms: Sequence[str] | None = None) -> list[str]:
    return list(arms) if arms is not None else sorted({s.arm for s in subjects})


def response_summary(
    subjects: Sequence[Subject], reads: Mapping[str, SubjectAssessments], *, arms: Sequence[str] | None = None
) -> list[ArmResponse]:
    """BOR distribution, ORR and DCR per arm (``arms`` order, else sorted by name), every analysed subject
    counted."""
    out = []
    for arm in _arms(subjects, arms):
        members = [s for s in subjects if s.arm == arm]
        bors = []
        for s in members:
            r = reads.get(s.subject)
            bor = r.best_overall_response if r is not None and r.best_overall_response else "NE"
            if bor not in BOR_CATEGORIES:
                raise RecistValidationError(f"unknown best overall response {bor!r}; expected one of "
                                            + ", ".join(BOR_CATEGORIES), source=f"subject {s.subject}")
            bors.append(bor)
        counts = {c: bors.count(c) for c in BOR_CATEGORIES}
        n = len(members)
        out.append(ArmResponse(
            arm, n, counts,
            clopper_pearson(sum(map(is_objective_response, bors)), n),
            clopper_pearson(sum(map(is_disease_control, bors)), n),
        ))
    return out


def fit_km(outcomes: Sequence[PfsOutcome], label: str) -> Any:
    """A lifelines ``KaplanMeierFitter`` fitted to PFS in months (Kaplan & Meier 1958)."""
    from lifelines import KaplanMeierFitter

    return KaplanMeierFitter(label=label).fit(
        [o.months for o in outcomes], [o.event for o in outcomes], label=label
    )


@dataclass(frozen=True)
class ArmPfs:
    """Kaplan-Meier PFS of one arm, months; ``None`` medians/bounds are "not reached"."""

    arm: str
    n: int
    events: int
    median_months: float | None
    ci_low: float | None
    ci_high: float | None


_HALF_TOLERANCE = 1e-9
"""Slack when comparing a Kaplan-Meier product with 0.5: (5/6)(4/5)(3/4) is 0.5000000000000001 in floats."""


def median_time(curve: Any) -> float | None:
    """Smallest time at which a survival curve (a pandas Series indexed by time) is at or below 0.5.

    The Kaplan-Meier median (Kaplan & Meier 1958; lifelines' convention, inf{t: S(t) <= 0.5}); applied to
    the bounds of the pointwise CI band it gives the Brookmeyer & Crowley (1982) CI of the median. The
    comparison allows for floating-point rounding of the product-limit estimate, which otherwise moves
    the median to the next event time whenever S(t) is exactly 0.5 (lifelines' ``median_survival_time_``
    does). ``None`` when the curve never reaches 0.5 ("not reached").

    Examples
    --------
    >>> import pandas as pd
    >>> median_time(pd.Series([1.0, 5 / 6, (5 / 6) * (4 / 5) * (3 / 4), 0.25], index=[0, 1, 3, 4]))
    3.0
    """
    reached = curve.index[curve.to_numpy() <= 0.5 + _HALF_TOLERANCE]
    return float(reached[0]) if len(reached) else None


def pfs_summary(outcomes: Sequence[PfsOutcome], *, arms: Sequence[str] | None = None) -> list[ArmPfs]:
    """Median PFS per arm with its 95% CI (Brookmeyer & Crowley 1982, read from lifelines' log(-log) band)."""
    out = []
    for arm in arms if arms is not None else sorted({o.arm for o in outcomes}):
        members = [o for o in outcomes if o.arm == arm]
        if not members:
            out.append(ArmPfs(arm, 0, 0, None, None, None))
            continue
        km = fit_km(members, arm)
        band = km.confidence_interval_
        out.append(ArmPfs(arm, len(members), sum(o.event for o in members),
                          median_time(km.survival_function_.iloc[:, 0]),
                          median_time(band.iloc[:, 0]), median_time(band.iloc[:, 1])))
    return out


@dataclass(frozen=True)
class ArmComparison:
    """One arm against the control: Cox hazard ratio (arm vs control) and log-rank test."""

    arm: str
    control_arm: str
    hazard_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    logrank_chi2: float | None
    logrank_p: float | None
    note: str = ""
    strata: tuple[str, ...] = ()
    """Stratification factors of a stratified comparison (empty: unstratified)."""


def _stratum(outcome: PfsOutcome, strata_of: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    return strata_of.get(outcome.subject, ())


def _compare(arm: str, control: str, outcomes: Sequence[PfsOutcome],
             strata_of: Mapping[str, tuple[str, ...]] | None = None, factors: tuple[str, ...] = ()) -> ArmComparison:
    import pandas as pd
    from lifelines import CoxPHFitter

    a = [o for o in outcomes if o.arm == arm]
    c = [o for o in outcomes if o.arm == control]
    both = a + c
    events_a, events_c = sum(o.event for o in a), sum(o.event for o in c)
    if events_a + events_c == 0:
        return ArmComparison(arm, control, None, None, None, None, None, "no events in either arm", factors)
    labels = [_stratum(o, strata_of) for o in both] if strata_of is not None else None
    test = logrank([o.months for o in both], [o.event for o in both], [o.arm == arm for o in both], labels)
    chi2, p = test.chi2, test.p
    if events_a == 0 or events_c == 0:
        empty = arm if events_a == 0 else control
        return ArmComparison(arm, control, None, None, None, chi2, p, f"no events in arm {empty!r}", factors)
    frame = pd.DataFrame({
        "months": [o.months for o in both],
        "event": [int(o.event) for o in both],
        "arm": [1] * len(a) + [0] * len(c),
    })
    if labels is not None:
        frame["stratum"] = ["|".join(label) for label in labels]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cox = CoxPHFitter(strata=["stratum"] if labels is not None else None).fit(
                frame, duration_col="months", event_col="event")
        except Exception as exc:  # lifelines raises ConvergenceError and linear-algebra errors
            logger.warning("Cox model of %s vs %s failed: %s", arm, control, exc)
            return ArmComparison(arm, control, None, None, None, chi2, p, f"Cox model did not converge: {exc}",
                                 factors)
    row = cox.summary.loc["arm"]
    return ArmComparison(arm, control, float(row["exp(coef)"]), float(row["exp(coef) lower 95%"]),
                         float(row["exp(coef) upper 95%"]), chi2, p, "", factors)


def compare_arms(
    outcomes: Sequence[PfsOutcome],
    control_arm: str | None = None,
    *,
    arms: Sequence[str] | None = None,
    strata: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> list[ArmComparison]:
    """Each arm vs ``control_arm`` (default: the first arm by name): Cox HR (Cox 1972, Efron ties)
    with 95% CI, and the log-rank test (Mantel 1966; Peto & Peto 1972).

    ``arms`` gives the arms and their order (default: the arms of ``outcomes`` by name). With ``strata``
    (subject id -> ``(factor, level)`` pairs) the log-rank test is stratified (sums over the strata,
    :func:`recist.endpoints.logrank.logrank`) and the Cox model has one baseline hazard per stratum
    (lifelines ``CoxPHFitter(strata=...)``); the strata are the combinations of the factors' levels."""
    arms = list(arms) if arms is not None else sorted({o.arm for o in outcomes})
    if control_arm is None:
        if not arms:
            return []
        control_arm = arms[0]
    if control_arm not in arms:
        raise RecistValidationError(f"control arm {control_arm!r} is not an arm of the trial; arms are "
                                    + ", ".join(arms))
    strata_of, factors = None, ()
    if strata is not None:
        strata_of = {s: tuple(level for _, level in pairs) for s, pairs in strata.items()}
        factors = next((tuple(f for f, _ in pairs) for pairs in strata.values() if pairs), ())
    return [_compare(arm, control_arm, outcomes, strata_of, factors) for arm in arms if arm != control_arm]


@dataclass(frozen=True)
class ArmFollowUp:
    """Landmark PFS rates and median follow-up (reverse Kaplan-Meier) of one arm, months."""

    arm: str
    landmarks: list[KmPoint]
    median_follow_up: float | None
    follow_up_ci_low: float | None
    follow_up_ci_high: float | None


def follow_up_summary(
    outcomes: Sequence[PfsOutcome], arms: Sequence[str], landmarks: Sequence[float] = LANDMARK_MONTHS
) -> list[ArmFollowUp]:
    """Per arm: PFS rate with 95 % CI at each landmark (Kaplan-Meier, Greenwood log(-log)) and the median
    follow-up by reverse Kaplan-Meier (Schemper & Smith 1996); see :mod:`recist.endpoints.survival`."""
    out = []
    for arm in arms:
        members = [o for o in outcomes if o.arm == arm]
        times, events = [o.months for o in members], [o.event for o in members]
        median = reverse_km_median(times, events)
        out.append(ArmFollowUp(arm, landmark_rates(times, events, landmarks), *median))
    return out


@dataclass(frozen=True)
class TrialSummary:
    """Everything the report shows about the arms."""

    responses: list[ArmResponse]
    pfs: list[ArmPfs]
    comparisons: list[ArmComparison]
    control_arm: str | None
    stratified: list[ArmComparison] = field(default_factory=list)
    follow_up: list[ArmFollowUp] = field(default_factory=list)


def summarise(
    subjects: Sequence[Subject],
    reads: Mapping[str, SubjectAssessments],
    outcomes: Sequence[PfsOutcome],
    *,
    control_arm: str | None = None,
    arms: Sequence[str] | None = None,
    strata: bool = False,
) -> TrialSummary:
    """Responses, PFS, arm comparisons, landmark rates and follow-up in one object.

    ``arms`` fixes the arms and their order (control first, :class:`recist.endpoints.arms.ArmPlan`);
    default: the subjects' arms sorted by name. ``strata=True`` adds the stratified comparisons by the
    subjects' stratification factors (:attr:`Subject.strata`)."""
    order = list(arms) if arms is not None else sorted({s.arm for s in subjects} | {o.arm for o in outcomes})
    comparisons = compare_arms(outcomes, control_arm, arms=order)
    control = comparisons[0].control_arm if comparisons else control_arm
    stratified = []
    if strata and any(s.strata for s in subjects):
        stratified = compare_arms(outcomes, control_arm, arms=order, strata={s.subject: s.strata for s in subjects})
    return TrialSummary(response_summary(subjects, reads, arms=arms), pfs_summary(outcomes, arms=order),
                        comparisons, control, stratified, follow_up_summary(outcomes, order))
