"""The tables of the trial report: one function per table, giving rows for the HTML page and the CSVs.

Formatting follows one style everywhere: proportions as ``k/n (x.x%; 95% CI a.a-b.b%)``, times in months
with one decimal, p values with four decimals (``<0.0001`` below), kappa with two decimals and its CI.
Each ``*_rows`` function returns plain dicts (CSV columns); the HTML page shows formatted cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from recist.endpoints.disposition import ArmDisposition, censoring_table
from recist.endpoints.pfs import PfsOutcome, SubjectAssessments
from recist.endpoints.summary import BOR_CATEGORIES, ArmComparison, ArmPfs, TrialSummary

__all__ = [
    "fmt_months", "fmt_p", "fmt_pct", "fmt_rate", "median_text", "hr_text", "headline",
    "pfs_rows", "arm_rows", "bor_rows", "disposition_rows", "censoring_rows", "landmark_rows",
    "agreement_rows", "AGREEMENT_NOTES",
]


def fmt_months(value: float | None) -> str:
    """Months with one decimal; ``NR`` (not reached) for ``None``."""
    return "NR" if value is None else f"{value:.1f}"


def fmt_p(p: float | None) -> str:
    """A p value with four decimals, ``<0.0001`` below, ``NA`` when not computed."""
    if p is None:
        return "NA"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    """A proportion (0-1) as a percentage, ``NA`` for ``None``."""
    return "NA" if value is None else f"{100 * value:.{digits}f}%"


def fmt_rate(count: int, n: int) -> str:
    """``"k of n (x.x%)"``; ``"0 of 0"`` when there is no denominator."""
    return f"{count} of {n}" + (f" ({100 * count / n:.1f}%)" if n else "")


def median_text(arm: ArmPfs) -> str:
    """``"12.0 (95% CI 6.6-NR)"``."""
    return f"{fmt_months(arm.median_months)} (95% CI {fmt_months(arm.ci_low)}-{fmt_months(arm.ci_high)})"


def hr_text(c: ArmComparison) -> str:
    """``"0.41 (95% CI 0.10-1.62)"`` or ``"not estimable (reason)"``."""
    if c.hazard_ratio is None:
        return f"not estimable ({c.note})" if c.note else "not estimable"
    return f"{c.hazard_ratio:.2f} (95% CI {c.ci_low:.2f}-{c.ci_high:.2f})"


def headline(summary: TrialSummary) -> list[str]:
    """The key figures as short lines of text (for the report top and the CLI)."""
    pfs = {a.arm: a for a in summary.pfs}
    lines = []
    for r in summary.responses:
        p = pfs.get(r.arm)
        median = f"; median PFS {median_text(p)} months ({p.events} event{'' if p.events == 1 else 's'})" if p else ""
        control = " [control]" if r.arm == summary.control_arm and summary.comparisons else ""
        lines.append(f"{r.arm}{control} (n={r.n}): ORR {r.orr.format()}{median}")
    for c in summary.comparisons:
        lines.append(f"{c.arm} vs {c.control_arm}: HR {hr_text(c)} (< 1 favours {c.arm}); log-rank p {fmt_p(c.logrank_p)}")
    for c in summary.stratified:
        lines.append(f"{c.arm} vs {c.control_arm}, stratified by {', '.join(c.strata)}: HR {hr_text(c)}; "
                     f"stratified log-rank p {fmt_p(c.logrank_p)}")
    return lines


def pfs_rows(outcomes: Sequence[PfsOutcome], reads: Mapping[str, SubjectAssessments]) -> list[dict[str, Any]]:
    """Per-subject PFS listing rows (with the subject's best overall response)."""
    rows = []
    for o in outcomes:
        row = o.to_row()
        read = reads.get(o.subject)
        row["best_overall_response"] = (read.best_overall_response if read else None) or "NE"
        rows.append(row)
    return rows


def _num(value: float | None, digits: int = 4) -> Any:
    return "" if value is None else round(value, digits)


def arm_rows(summary: TrialSummary) -> list[dict[str, Any]]:
    """One row per arm: N, ORR, DCR, PFS median and, for non-control arms, HR and log-rank vs control
    (unstratified, then stratified when stratification factors were given)."""
    pfs = {a.arm: a for a in summary.pfs}
    comparisons = {c.arm: c for c in summary.comparisons}
    stratified = {c.arm: c for c in summary.stratified}
    rows = []
    for r in summary.responses:
        p, c, sc = pfs.get(r.arm), comparisons.get(r.arm), stratified.get(r.arm)
        row = {
            "arm": r.arm,
            "n": r.n,
            "orr_n": r.orr.count, "orr_pct": _num(r.orr.estimate and 100 * r.orr.estimate, 2),
            "orr_ci_low_pct": _num(r.orr.ci_low and 100 * r.orr.ci_low, 2),
            "orr_ci_high_pct": _num(r.orr.ci_high and 100 * r.orr.ci_high, 2),
            "dcr_n": r.dcr.count, "dcr_pct": _num(r.dcr.estimate and 100 * r.dcr.estimate, 2),
            "dcr_ci_low_pct": _num(r.dcr.ci_low and 100 * r.dcr.ci_low, 2),
            "dcr_ci_high_pct": _num(r.dcr.ci_high and 100 * r.dcr.ci_high, 2),
            "pfs_events": p.events if p else "",
            "pfs_median_months": _num(p.median_months if p else None, 2),
            "pfs_median_ci_low_months": _num(p.ci_low if p else None, 2),
            "pfs_median_ci_high_months": _num(p.ci_high if p else None, 2),
            "control_arm": summary.control_arm if c else "",
            "hazard_ratio": _num(c.hazard_ratio if c else None),
            "hr_ci_low": _num(c.ci_low if c else None),
            "hr_ci_high": _num(c.ci_high if c else None),
            "logrank_chi2": _num(c.logrank_chi2 if c else None),
            "logrank_p": "" if c is None or c.logrank_p is None else f"{c.logrank_p:.4g}",
        }
        if summary.stratified:
            row.update({
                "strata": ";".join(sc.strata) if sc else "",
                "stratified_hazard_ratio": _num(sc.hazard_ratio if sc else None),
                "stratified_hr_ci_low": _num(sc.ci_low if sc else None),
                "stratified_hr_ci_high": _num(sc.ci_high if sc else None),
                "stratified_logrank_chi2": _num(sc.logrank_chi2 if sc else None),
                "stratified_logrank_p": "" if sc is None or sc.logrank_p is None else f"{sc.logrank_p:.4g}",
            })
        rows.append(row)
    return rows


def bor_rows(summary: TrialSummary) -> list[dict[str, Any]]:
    """One row per arm and BOR category: count and percent of the arm's analysed subjects."""
    rows = []
    for r in summary.responses:
        for category in BOR_CATEGORIES:
            count = r.bor_counts[category]
            rows.append({"arm": r.arm, "best_overall_response": category, "n": count,
                         "pct": round(100 * count / r.n, 2) if r.n else ""})
    return rows


def disposition_rows(flow: Sequence[ArmDisposition]) -> list[dict[str, Any]]:
    """One row per arm and status: randomised, with a read, analysed, and each left-out reason with the
    subject ids (``;``-separated)."""
    rows = []
    for d in flow:
        rows += [
            {"arm": d.arm, "status": "randomised", "n": d.randomised, "subjects": ""},
            {"arm": d.arm, "status": "with a read", "n": d.with_read, "subjects": ""},
            {"arm": d.arm, "status": "analysed", "n": d.analysed, "subjects": ""},
        ]
        if d.analysed_without_read:
            rows.append({"arm": d.arm, "status": "analysed without a read (BOR NE, censored at randomisation)",
                         "n": d.analysed_without_read, "subjects": ""})
        for reason, ids in d.left_out.items():
            rows.append({"arm": d.arm, "status": f"left out: {reason}", "n": len(ids), "subjects": ";".join(ids)})
    return rows


def censoring_rows(outcomes: Sequence[PfsOutcome], arms: Sequence[str]) -> list[dict[str, Any]]:
    """PFS events by type and censoring by reason, one row per category and arm, with % of the arm."""
    n = {a: sum(o.arm == a for o in outcomes) for a in arms}
    return [{"arm": a, "kind": row.kind, "category": row.category, "n": row.counts[a],
             "pct": round(100 * row.counts[a] / n[a], 2) if n[a] else ""}
            for row in censoring_table(outcomes, arms) for a in arms]


def landmark_rows(summary: TrialSummary) -> list[dict[str, Any]]:
    """PFS rate at each landmark per arm (percent, 95% CI, at risk), and the median follow-up."""
    rows = []
    for f in summary.follow_up:
        for point in f.landmarks:
            rows.append({
                "arm": f.arm, "measure": f"PFS rate at {point.time:g} months",
                "estimate_pct": _num(None if point.survival is None else 100 * point.survival, 2),
                "ci_low_pct": _num(None if point.ci_low is None else 100 * point.ci_low, 2),
                "ci_high_pct": _num(None if point.ci_high is None else 100 * point.ci_high, 2),
                "at_risk": point.at_risk, "months": "", "ci_low_months": "", "ci_high_months": "",
            })
        rows.append({
            "arm": f.arm, "measure": "median follow-up (reverse Kaplan-Meier)", "estimate_pct": "",
            "ci_low_pct": "", "ci_high_pct": "", "at_risk": "",
            "months": _num(f.median_follow_up, 2), "ci_low_months": _num(f.follow_up_ci_low, 2),
            "ci_high_months": _num(f.follow_up_ci_high, 2),
        })
    return rows


AGREEMENT_NOTES = {
    "adjudication": "subjects whose two central reads disagreed on a charter trigger and went to the adjudicator",
    "kappa": "Cohen's kappa of the two central readers' best overall responses (Fleiss-Cohen-Everitt SE, Wald CI)",
    "progression": "both readers' progression dates: same day, at most one visit interval apart, further apart "
                   "or only one read with progression, neither with progression",
    "choice": "whose read the adjudicator chose (a reader chosen far more often than 50% reads differently)",
    "edr": "site vs central, early discrepancy rate (Amit et al. 2011): of the site's (investigator's) "
           "progressions, the share the central review dated later or did not find (site early)",
    "ldr": "site vs central, late discrepancy rate (Amit et al. 2011): of the site-central discrepancies, the "
           "share where the site declared progression later than central review or not at all (site late)",
    "difference": "EDR or LDR of the arm minus that of the control arm: a difference between arms is the sign "
                  "of a biased site assessment (e.g. unblinded investigators declaring progression earlier in one arm)",
}
"""What each row of the reader-agreement table means (shown in the table)."""


def _kappa_text(kappa: Mapping[str, Any]) -> str:
    if kappa.get("kappa") is None:
        return f"not estimable (n={kappa.get('n', 0)})"
    low, high = kappa["ci95"]
    return f"kappa {kappa['kappa']:.2f} (95% CI {low:.2f}-{high:.2f}); observed agreement " \
           f"{fmt_pct(kappa['observed_agreement'])}"


def _agreement_cells(block: Mapping[str, Any]) -> dict[str, str]:
    """Formatted cells of one agreement report (overall or one arm), keyed by row name."""
    n = block["subjects_with_two_signed_reads"]
    adjudication = block["adjudication"]
    cells = {"subjects": str(n), "adjudication": fmt_rate(adjudication["needed"], n)}
    for trigger, value in adjudication["per_trigger"].items():
        cells[f"trigger {trigger}"] = fmt_rate(value["count"], n)
    cells["kappa"] = _kappa_text(block["best_overall_response_kappa"])
    dates = block["progression_date"]
    for key, label in (("same_date", "same day"), ("within_one_visit", "within one visit"),
                       ("discordant", "discordant"), ("no_progression", "neither progressed")):
        cells[f"progression {label}"] = fmt_rate(dates[key], n)
    choice = block["adjudicator_choice"]
    for reader, value in choice["per_reader"].items():
        cells[f"chose {reader}"] = fmt_rate(value["count"], choice["adjudicated"])
    site = block["site_vs_central"]
    site_pd = site["a"] + site["b"] + site["c"] + site["d"]
    discordant = site["b"] + site["c"] + site["d"] + site["e"]
    cells["site subjects"] = str(site["subjects"])
    cells["edr"] = fmt_rate(site["b"] + site["d"], site_pd)
    cells["ldr"] = fmt_rate(site["c"] + site["e"], discordant)
    return cells


def _difference(arm: Mapping[str, Any], control: Mapping[str, Any], key: str) -> str:
    a, c = arm["site_vs_central"][key], control["site_vs_central"][key]
    if a is None or c is None:
        return "NA"
    return f"{100 * (a - c):+.1f} percentage points"


def agreement_rows(agreement: Mapping[str, Any], arms: Sequence[str], control: str | None) -> list[dict[str, str]]:
    """The reader-agreement table: one row per measure, columns for all subjects, each arm, the
    difference of each arm from the control (EDR and LDR) and what the row means.

    ``agreement`` is :meth:`recist.review.workflow.ReviewProject.report`'s dict (with ``by_group`` per
    arm when available). Rates are percentages; kappa has its 95% CI.
    """
    groups = agreement.get("by_group") or {}
    shown = [a for a in arms if a in groups]
    columns = {"all subjects": _agreement_cells(agreement)} | {a: _agreement_cells(groups[a]) for a in shown}
    labels = [
        ("subjects", "Subjects with two signed central reads", ""),
        ("adjudication", "Adjudicated", AGREEMENT_NOTES["adjudication"]),
        *[(k, f"  trigger: {k.removeprefix('trigger ').replace('_', ' ')}", "")
          for k in columns["all subjects"] if k.startswith("trigger ")],
        ("kappa", "Best overall response agreement", AGREEMENT_NOTES["kappa"]),
        *[(k, f"Progression dates: {k.removeprefix('progression ')}", AGREEMENT_NOTES["progression"] if i == 0 else "")
          for i, k in enumerate(k for k in columns["all subjects"] if k.startswith("progression "))],
        *[(k, f"Adjudicator chose {k.removeprefix('chose ')}", AGREEMENT_NOTES["choice"] if i == 0 else "")
          for i, k in enumerate(k for k in columns["all subjects"] if k.startswith("chose "))],
        ("site subjects", "Site vs central: subjects with a site read and a final central read", ""),
        ("edr", "Site vs central: EDR", AGREEMENT_NOTES["edr"]),
        ("ldr", "Site vs central: LDR", AGREEMENT_NOTES["ldr"]),
    ]
    rows = []
    for key, label, note in labels:
        row = {"measure": label.strip(), **{name: cells.get(key, "") for name, cells in columns.items()}}
        if control in groups:
            for a in shown:
                if a == control:
                    continue
                row[f"{a} minus {control}"] = _difference(groups[a], groups[control], key) if key in ("edr", "ldr") \
                    else ""
        row["meaning"] = note
        rows.append(row)
    return rows
