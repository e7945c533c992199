"""Reader agreement in a central review: adjudication rates, Cohen's kappa, progression dates, EDR/LDR.

Pure functions over per-subject outcomes (``{"best_overall_response": "PR", "progression": {...} | None}``,
see :func:`recist.review.adjudication.outcome_of`).

References
----------
- Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas 1960;20:37-46.
- Fleiss JL, Cohen J, Everitt BS. Large sample standard errors of kappa and weighted kappa.
  Psychol Bull 1969;72(5):323-327 (the non-null asymptotic variance of kappa, their equation 13).
- Amit O, Mannino F, Stone AM, et al. Blinded independent central review of progression in cancer
  clinical trials: results from a meta-analysis. Eur J Cancer 2011;47(12):1772-1778 (EDR and LDR).
- Ford R, Schwartz L, Dancey J, et al. Lessons learned from independent central review.
  Eur J Cancer 2009;45(2):268-274.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from recist.review.adjudication import progression_gap_days, progression_offset_days

__all__ = [
    "BOR_CATEGORIES",
    "cohen_kappa",
    "progression_date_agreement",
    "discrepancy_rates",
    "agreement_report",
]

BOR_CATEGORIES = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")
Z_95 = 1.959963984540054


def cohen_kappa(pairs: Sequence[tuple[str, str]], categories: Sequence[str] | None = None) -> dict[str, Any]:
    """Cohen's kappa of two raters with its asymptotic standard error and 95 % confidence interval.

    kappa = (p_o - p_e) / (1 - p_e) (Cohen 1960). The standard error is the large-sample, non-null one
    of Fleiss, Cohen & Everitt (1969), equation 13::

        var = [ sum_i p_ii ((1 - p_e) - (p_i. + p_.i)(1 - p_o))^2
              + (1 - p_o)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
              - (p_o p_e - 2 p_e + p_o)^2 ] / (n (1 - p_e)^4)

    and the interval is kappa +/- 1.96 SE (Wald), clipped to [-1, 1].

    Parameters
    ----------
    pairs
        One (rater 1, rater 2) category pair per subject.
    categories
        The categories (default: those that occur).

    Returns
    -------
    dict
        ``n``, ``observed_agreement``, ``expected_agreement``, ``kappa``, ``se``, ``ci95`` ([low, high]).
        ``kappa`` is None when undefined (no subject, or p_e = 1: both raters used one single category).
    """
    n = len(pairs)
    cats = list(categories) if categories else sorted({c for pair in pairs for c in pair})
    empty = {"n": n, "observed_agreement": None, "expected_agreement": None, "kappa": None, "se": None, "ci95": None}
    if n == 0:
        return empty
    index = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    p = [[0.0] * k for _ in range(k)]
    for a, b in pairs:
        p[index[a]][index[b]] += 1.0 / n
    row = [sum(p[i]) for i in range(k)]
    col = [sum(p[i][j] for i in range(k)) for j in range(k)]
    p_o = sum(p[i][i] for i in range(k))
    p_e = sum(row[i] * col[i] for i in range(k))
    if math.isclose(p_e, 1.0):
        return {**empty, "observed_agreement": p_o, "expected_agreement": p_e}
    kappa = (p_o - p_e) / (1 - p_e)
    term1 = sum(p[i][i] * ((1 - p_e) - (row[i] + col[i]) * (1 - p_o)) ** 2 for i in range(k))
    term2 = (1 - p_o) ** 2 * sum(p[i][j] * (col[i] + row[j]) ** 2 for i in range(k) for j in range(k) if i != j)
    term3 = (p_o * p_e - 2 * p_e + p_o) ** 2
    var = max(term1 + term2 - term3, 0.0) / (n * (1 - p_e) ** 4)
    se = math.sqrt(var)
    ci = [max(-1.0, kappa - Z_95 * se), min(1.0, kappa + Z_95 * se)]
    return {"n": n, "observed_agreement": p_o, "expected_agreement": p_e, "kappa": kappa, "se": se, "ci95": ci}


def progression_date_agreement(
    pairs: Sequence[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]], *, visit_interval_days: int
) -> dict[str, int]:
    """Classify the progression events of two reads of each subject.

    ``same_date``: both progressed on the same day; ``within_one_visit``: both progressed, at most one
    scheduled visit interval apart (``visit_interval_days``); ``discordant``: both progressed further
    apart, or only one read has progression; ``no_progression``: neither read has progression.
    """
    counts = {"same_date": 0, "within_one_visit": 0, "discordant": 0, "no_progression": 0}
    for a, b in pairs:
        if not a and not b:
            counts["no_progression"] += 1
            continue
        gap = progression_gap_days(a, b)
        if gap == 0:
            counts["same_date"] += 1
        elif gap is not None and gap <= visit_interval_days:
            counts["within_one_visit"] += 1
        else:
            counts["discordant"] += 1
    return counts


def discrepancy_rates(
    pairs: Sequence[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]], *, same_window_days: int = 0
) -> dict[str, Any]:
    """Early and late discrepancy rates (EDR, LDR) of site (investigator) against central progression.

    Amit et al. (2011), Table 1: of subjects with investigator PD, ``a`` agree on the timing with BICR,
    ``b`` have the investigator PD earlier than the BICR PD, ``c`` later, ``d`` have no BICR PD; ``e``
    subjects have BICR PD but no investigator PD. Then

    - EDR = (b + d) / (a + b + c + d): the share of investigator PDs declared early relative to BICR
      (BICR later, or no BICR PD);
    - LDR = (c + e) / (b + c + d + e): the share of discrepancies where the investigator declared PD late
      relative to BICR (later, or not at all).

    Two progression dates within ``same_window_days`` of each other count as the same timing (``a``).
    The gap and its direction are measured on one basis (days since baseline when both reads give them,
    else calendar dates, :func:`recist.review.adjudication.progression_offset_days`); a pair that has
    neither in common is counted as ``timing_unknown`` and left out of ``a`` to ``e``.

    Parameters
    ----------
    pairs
        (site progression, central progression) per subject; each a progression dict or None.

    Returns
    -------
    dict
        The counts ``a`` to ``e`` and ``timing_unknown``, ``edr`` and ``ldr`` (None when the denominator
        is 0).
    """
    n = {"a": 0, "b": 0, "c": 0, "d": 0, "e": 0, "timing_unknown": 0}
    for site, central in pairs:
        if site and central:
            # one basis for both the gap and its direction (days since baseline, else dates)
            offset = progression_offset_days(site, central)
            if offset is None:
                n["timing_unknown"] += 1
            elif abs(offset) <= same_window_days:
                n["a"] += 1
            elif offset > 0:
                n["b"] += 1
            else:
                n["c"] += 1
        elif site:
            n["d"] += 1
        elif central:
            n["e"] += 1
    site_pd = n["a"] + n["b"] + n["c"] + n["d"]
    discordant = n["b"] + n["c"] + n["d"] + n["e"]
    return {
        **n,
        "subjects": len(pairs),
        "edr": (n["b"] + n["d"]) / site_pd if site_pd else None,
        "ldr": (n["c"] + n["e"]) / discordant if discordant else None,
    }


def agreement_report(
    subjects: Sequence[Mapping[str, Any]],
    *,
    readers: Sequence[str],
    triggers: Sequence[str],
    visit_interval_days: int,
    same_date_window_days: int,
) -> dict[str, Any]:
    """The reader-agreement report of a review.

    Parameters
    ----------
    subjects
        One dict per subject with both reads signed: ``reads`` (reader id -> outcome), ``triggers``
        fired, ``chosen_reader`` (after adjudication, else None), ``final`` (the final result row or
        None) and ``site`` (the site read's outcome or None).
    readers
        The two reader ids, in charter order.
    triggers
        The charter's adjudication triggers.
    visit_interval_days, same_date_window_days
        The visit schedule (for "within one visit" and for EDR/LDR timing agreement).
    """
    n = len(subjects)
    adjudicated = [s for s in subjects if s["triggers"]]
    per_trigger = {t: sum(1 for s in subjects if t in s["triggers"]) for t in triggers}
    r1, r2 = readers
    bor_pairs = [(s["reads"][r1]["best_overall_response"], s["reads"][r2]["best_overall_response"]) for s in subjects]
    prog_pairs = [(s["reads"][r1]["progression"], s["reads"][r2]["progression"]) for s in subjects]
    chosen = Counter(s["chosen_reader"] for s in adjudicated if s["chosen_reader"])
    done = sum(chosen.values())
    site_pairs = [
        (s["site"]["progression"], _final_progression(s["final"]))
        for s in subjects
        if s.get("site") is not None and s.get("final") is not None
    ]
    return {
        "subjects_with_two_signed_reads": n,
        "adjudication": {
            "needed": len(adjudicated),
            "rate": len(adjudicated) / n if n else None,
            "per_trigger": {t: {"count": c, "rate": c / n if n else None} for t, c in per_trigger.items()},
        },
        "best_overall_response_kappa": cohen_kappa(
            bor_pairs, [c for c in BOR_CATEGORIES if any(c in pair for pair in bor_pairs)] or None
        ),
        "progression_date": progression_date_agreement(prog_pairs, visit_interval_days=visit_interval_days),
        "adjudicator_choice": {
            "adjudicated": done,
            "per_reader": {r: {"count": chosen.get(r, 0), "rate": chosen.get(r, 0) / done if done else None}
                           for r in readers},
        },
        "site_vs_central": discrepancy_rates(site_pairs, same_window_days=same_date_window_days),
    }


def _final_progression(final: Mapping[str, Any]) -> dict[str, Any] | None:
    if final.get("progression_date") is None and final.get("progression_day") is None:
        return None
    return {"date": final.get("progression_date"), "day": final.get("progression_day")}
