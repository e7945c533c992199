"""The (stratified) log-rank test of two arms: a small pure function with the textbook sums.

For each stratum and each distinct event time t_j: n_j at risk, d_j events, n_1j and d_1j of them in the
tested arm. Then

    O - E = sum (d_1j - d_j n_1j / n_j)
    V     = sum d_j (n_1j / n_j) (1 - n_1j / n_j) (n_j - d_j) / (n_j - 1)

summed over the event times of every stratum (the stratified test adds the strata's O - E and V), and
chi-square = (O - E)^2 / V on 1 degree of freedom.

Sources
-------
- Mantel N. Evaluation of survival data and two new rank order statistics arising in its consideration.
  Cancer Chemother Rep 1966;50:163-170; Peto R, Peto J. Asymptotically efficient rank invariant test
  procedures. JRSS-A 1972;135:185-207.
- Collett D. Modelling Survival Data in Medical Research, 3rd ed., CRC 2015, §2.6 (the log-rank
  statistic, hypergeometric variance) and §3.3.2 / §11.2 (stratified log-rank test: sums over strata).
- FDA 2018 guidance (Clinical Trial Endpoints ...): the primary PFS analysis is usually a log-rank test
  stratified by the randomisation stratification factors, with a stratified Cox hazard ratio.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from recist.errors import RecistValidationError

__all__ = ["LogRank", "logrank"]


@dataclass(frozen=True)
class LogRank:
    """Result of :func:`logrank`.

    Attributes
    ----------
    observed, expected
        Events in the tested arm and their expectation under the null hypothesis.
    variance
        The (stratum-summed) hypergeometric variance of O - E.
    chi2, p
        Chi-square on 1 degree of freedom and its p value (``None`` when the variance is 0).
    strata
        Number of strata.
    """

    observed: float
    expected: float
    variance: float
    chi2: float | None
    p: float | None
    strata: int


def logrank(
    times: Sequence[float],
    events: Sequence[bool],
    in_arm: Sequence[bool],
    strata: Sequence[Hashable] | None = None,
) -> LogRank:
    """Log-rank test of the subjects with ``in_arm`` True against the others, optionally stratified.

    Parameters
    ----------
    times, events
        Time and event flag per subject.
    in_arm
        True for the tested arm, False for the comparator.
    strata
        Stratum label per subject; ``None`` for the unstratified test.

    Examples
    --------
    Two subjects per arm, events at 1 (tested arm) and 2 (comparator), censored at 3 and 4. At t=1 four
    are at risk, two in the arm: E = 1/2, V = 1/4. At t=2 three are at risk, one in the arm: E = 1/3,
    V = (1/3)(2/3)(2/2) = 2/9. O = 1, E = 5/6, V = 17/36, chi-square = (1/6)^2 / (17/36) = 1/17.

    >>> r = logrank([1, 3, 2, 4], [1, 0, 1, 0], [True, True, False, False])
    >>> r.observed, round(r.expected, 4), round(r.variance, 4), round(r.chi2, 4)
    (1.0, 0.8333, 0.4722, 0.0588)
    """
    n = len(times)
    if not (len(events) == len(in_arm) == n) or (strata is not None and len(strata) != n):
        raise RecistValidationError("times, events, arm flags and strata must have one value per subject")
    labels = list(strata) if strata is not None else [0] * n
    observed = expected = variance = 0.0
    for stratum in dict.fromkeys(labels):
        members = sorted((times[i], bool(events[i]), bool(in_arm[i])) for i in range(n) if labels[i] == stratum)
        n_j, n_1j = len(members), sum(arm for _, _, arm in members)
        i = 0
        while i < len(members):  # one pass over the sorted times, at-risk counts kept as it goes
            t, j, d_j, d_1j, leaving_1 = members[i][0], i, 0, 0, 0
            while j < len(members) and members[j][0] == t:
                _, event, arm = members[j]
                d_j += event
                d_1j += event and arm
                leaving_1 += arm
                j += 1
            if d_j:
                observed += d_1j
                expected += d_j * n_1j / n_j
                if n_j > 1:
                    share = n_1j / n_j
                    variance += d_j * share * (1.0 - share) * (n_j - d_j) / (n_j - 1)
            n_j -= j - i
            n_1j -= leaving_1
            i = j
    if variance <= 0.0:
        return LogRank(observed, expected, variance, None, None, len(set(labels)))
    from scipy.stats import chi2 as chi2_dist

    statistic = (observed - expected) ** 2 / variance
    return LogRank(observed, expected, variance, statistic, float(chi2_dist.sf(statistic, 1)), len(set(labels)))
