"""The trial report: one self-contained HTML file plus CSV tables.

Written with the standard library only (``html.escape`` for every value, figures embedded as base64
PNG at :data:`FIGURE_DPI` dpi), so the HTML opens anywhere and can be archived as a single file. The
figures have a bounded size whatever the number of subjects (see :mod:`recist.export.plots`), so with the
capped listing the page stays under about 1 MB for a trial of any size. Files written to ``out_dir``:

- ``report.html``: headline figures, BOR table, ORR/DCR, PFS medians, HR and log-rank, the four
  figures, methods (rules, censoring choices, recist version), optional reader agreement, and the
  per-subject PFS listing (the first :data:`LISTING_MAX_ROWS` subjects of the subjects table; a larger
  trial's listing says how many are left out and points to ``pfs_subjects.csv``, which has every row);
- ``pfs_subjects.csv``: one row per subject (event or censoring date, reason, rule, BOR);
- ``arm_summary.csv``: one row per arm (N, ORR, DCR with CIs, PFS median with CI, HR, log-rank);
- ``bor_table.csv``: one row per arm and best-overall-response category (count, percent).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from recist._atomic import atomic_write_bytes, atomic_write_text
from recist.endpoints.pfs import DAYS_PER_MONTH, PfsOutcome, PfsRules, SubjectAssessments, VisitSchedule
from recist.endpoints.subjects import Subject
from recist.endpoints.summary import BOR_CATEGORIES, ArmComparison, ArmPfs, TrialSummary

__all__ = ["ReportInputs", "ReportFiles", "write_report", "render_html", "pfs_rows", "arm_rows", "bor_rows", "headline",
           "FIGURE_DPI", "LISTING_MAX_ROWS"]

FIGURE_DPI = 100
"""Resolution of the embedded PNG figures (an 8 x 12.8 inch swimmer plot is 800 x 1280 pixels)."""
LISTING_MAX_ROWS = 1000
"""Subjects listed in ``report.html``; ``pfs_subjects.csv`` always has every subject."""


@dataclass(frozen=True)
class ReportFiles:
    """Paths of the files :func:`write_report` wrote."""

    html: Path
    pfs_csv: Path
    summary_csv: Path
    bor_csv: Path


def _fmt_months(value: float | None) -> str:
    return "NR" if value is None else f"{value:.1f}"


def _fmt_p(p: float | None) -> str:
    if p is None:
        return "NA"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _median_text(arm: ArmPfs) -> str:
    return f"{_fmt_months(arm.median_months)} (95% CI {_fmt_months(arm.ci_low)}-{_fmt_months(arm.ci_high)})"


def _hr_text(c: ArmComparison) -> str:
    if c.hazard_ratio is None:
        return f"not estimable ({c.note})" if c.note else "not estimable"
    return f"{c.hazard_ratio:.2f} (95% CI {c.ci_low:.2f}-{c.ci_high:.2f})"


def pfs_rows(outcomes: Sequence[PfsOutcome], reads: Mapping[str, SubjectAssessments]) -> list[dict[str, Any]]:
    """Per-subject PFS listing rows (with the subject's best overall response)."""
    rows = []
    for o in outcomes:
        row = o.to_row()
        read = reads.get(o.subject)
        row["best_overall_response"] = (read.best_overall_response if read else None) or "NE"
        rows.append(row)
    return rows


def arm_rows(summary: TrialSummary) -> list[dict[str, Any]]:
    """One row per arm: N, ORR, DCR, PFS median and, for non-control arms, HR and log-rank vs control."""
    pfs = {a.arm: a for a in summary.pfs}
    comparisons = {c.arm: c for c in summary.comparisons}
    rows = []
    for r in summary.responses:
        p, c = pfs.get(r.arm), comparisons.get(r.arm)

        def num(value: float | None, digits: int = 4) -> Any:
            return "" if value is None else round(value, digits)

        rows.append({
            "arm": r.arm,
            "n": r.n,
            "orr_n": r.orr.count, "orr_pct": num(r.orr.estimate and 100 * r.orr.estimate, 2),
            "orr_ci_low_pct": num(r.orr.ci_low and 100 * r.orr.ci_low, 2),
            "orr_ci_high_pct": num(r.orr.ci_high and 100 * r.orr.ci_high, 2),
            "dcr_n": r.dcr.count, "dcr_pct": num(r.dcr.estimate and 100 * r.dcr.estimate, 2),
            "dcr_ci_low_pct": num(r.dcr.ci_low and 100 * r.dcr.ci_low, 2),
            "dcr_ci_high_pct": num(r.dcr.ci_high and 100 * r.dcr.ci_high, 2),
            "pfs_events": p.events if p else "",
            "pfs_median_months": num(p.median_months if p else None, 2),
            "pfs_median_ci_low_months": num(p.ci_low if p else None, 2),
            "pfs_median_ci_high_months": num(p.ci_high if p else None, 2),
            "control_arm": summary.control_arm if c else "",
            "hazard_ratio": num(c.hazard_ratio if c else None),
            "hr_ci_low": num(c.ci_low if c else None),
            "hr_ci_high": num(c.ci_high if c else None),
            "logrank_chi2": num(c.logrank_chi2 if c else None),
            "logrank_p": "" if c is None or c.logrank_p is None else f"{c.logrank_p:.4g}",
        })
    return rows


def bor_rows(summary: TrialSummary) -> list[dict[str, Any]]:
    """One row per arm and BOR category: count and percent of the arm (all randomised subjects)."""
    rows = []
    for r in summary.responses:
        for category in BOR_CATEGORIES:
            count = r.bor_counts[category]
            rows.append({"arm": r.arm, "best_overall_response": category, "n": count,
                         "pct": round(100 * count / r.n, 2) if r.n else ""})
    return rows


def headline(summary: TrialSummary) -> list[str]:
    """The key figures as short lines of text (for the report top and the CLI)."""
    pfs = {a.arm: a for a in summary.pfs}
    lines = []
    for r in summary.responses:
        p = pfs.get(r.arm)
        median = f"; median PFS {_median_text(p)} months ({p.events} event{'' if p.events == 1 else 's'})" if p else ""
        lines.append(f"{r.arm} (n={r.n}): ORR {r.orr.format()}{median}")
    for c in summary.comparisons:
        lines.append(
            f"{c.arm} vs {c.control_arm}: HR {_hr_text(c)} (< 1 favours {c.arm}); log-rank p {_fmt_p(c.logrank_p)}"
        )
    return lines


def _csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _png_data_uri(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        out: list[tuple[str, str]] = []
        for key in value:
            out += _flatten(f"{prefix} / {key}" if prefix else str(key), value[key])
        return out
    if isinstance(value, float):
        return [(prefix, f"{value:.3f}")]
    return [(prefix, str(value))]


_PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>$title</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #bbb;padding:3px 8px;text-align:left}
th{background:#eee}td{font-variant-numeric:tabular-nums}.headline li{font-size:1.05em;margin:0.2em 0}
img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}.small{font-size:0.85em;color:#555}
</style></head><body>
<h1>$title</h1>
<p class="small">Generated $generated by recist $version. Rules: $rules_name.</p>
<h2>Headline figures</h2><ul class="headline">$headline</ul>
<h2>Best overall response (RECIST 1.1)</h2>$bor_table
<h2>Objective response and disease control</h2>$response_table
<h2>Progression-free survival</h2>$pfs_table$comparison_table
<h2>Figures</h2>$figures
<h2>Methods</h2><ul>$methods</ul>
$agreement
<h2>Per-subject PFS listing</h2>$listing
</body></html>
""")


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows.

    Attributes
    ----------
    subjects, reads, outcomes, summary
        The subjects table, final reads by subject, PFS outcomes and per-arm summary.
    rules, schedule
        The PFS censoring rules and visit schedule used (named in the methods).
    generated, version
        Time of generation (passed in: the library reads no clock) and recist version.
    title
        Report title.
    agreement
        Optional reader-agreement figures (name -> value, nested dicts allowed) for their own section.
    """

    subjects: Sequence[Subject]
    reads: Mapping[str, SubjectAssessments]
    outcomes: Sequence[PfsOutcome]
    summary: TrialSummary
    rules: PfsRules
    schedule: VisitSchedule
    generated: dt.datetime
    version: str
    title: str = "RECIST 1.1 trial report"
    agreement: Mapping[str, Any] | None = None


def render_html(inputs: ReportInputs, *, include_figures: bool = True, listing_max_rows: int = LISTING_MAX_ROWS) -> str:
    """The report as one HTML string (see module docstring).

    ``listing_max_rows`` caps the per-subject listing (subjects-table order); when subjects are left out
    a note before the table gives the count and names ``pfs_subjects.csv``.
    """
    subjects, reads, outcomes, summary = inputs.subjects, inputs.reads, inputs.outcomes, inputs.summary
    rules, schedule, agreement = inputs.rules, inputs.schedule, inputs.agreement
    from recist.export.plots import (
        SWIMMER_MAX_SUBJECTS,
        km_plot,
        spider_plot,
        swimmer_note,
        swimmer_plot,
        waterfall_plot,
    )

    esc = html.escape
    bor_table = _table(
        ["Arm", "N"] + list(BOR_CATEGORIES),
        [[r.arm, r.n] + [f"{r.bor_counts[c]} ({100 * r.bor_counts[c] / r.n:.1f}%)" if r.n else "0"
                         for c in BOR_CATEGORIES] for r in summary.responses],
    )
    response_table = _table(["Arm", "N", "ORR (CR+PR)", "DCR (CR+PR+SD+NON-CR/NON-PD)"],
                            [[r.arm, r.n, r.orr.format(), r.dcr.format()] for r in summary.responses])
    pfs_table = _table(["Arm", "N", "Events", "Median PFS, months (95% CI)"],
                       [[a.arm, a.n, a.events, _median_text(a)] for a in summary.pfs])
    comparison_table = _table(
        ["Arm", "vs control", "Hazard ratio (95% CI)", "Log-rank chi-square", "Log-rank p"],
        [[c.arm, c.control_arm, _hr_text(c), "NA" if c.logrank_chi2 is None else f"{c.logrank_chi2:.3f}",
          _fmt_p(c.logrank_p)] for c in summary.comparisons],
    ) if summary.comparisons else "<p>One arm only: no comparison.</p>"
    figures = ""
    if include_figures:
        arm_of = {s.subject: s.arm for s in subjects}
        swimmer_selected = swimmer_note(min(len(subjects), SWIMMER_MAX_SUBJECTS), len(subjects))
        for caption, figure in (
            ("Kaplan-Meier estimate of PFS with numbers at risk", km_plot(outcomes)),
            ("Best % change of the target sum, coloured by best overall response",
             waterfall_plot({k: v for k, v in reads.items() if k in arm_of}, arms=arm_of)),
            ("% change of the target sum over time", spider_plot(reads, subjects)),
            ("Time on study, responses and progression" + (f" ({swimmer_selected})" if swimmer_selected else ""),
             swimmer_plot(subjects, reads, outcomes, max_subjects=SWIMMER_MAX_SUBJECTS)),
        ):
            figures += f'<figure><img alt="{esc(caption)}" src="{_png_data_uri(figure)}">' \
                       f"<figcaption>{esc(caption)}</figcaption></figure>"
    methods = [
        f"PFS from randomisation to radiological progression (date of the read documenting it) or death; "
        f"censoring by {rules.name}: {rules.source}. Censoring at new anticancer therapy: "
        f"{'yes' if rules.censor_at_new_therapy else 'no'}; events after two or more missed visits censored: "
        f"{'yes' if rules.censor_after_missed_visits else 'no'}.",
        f"Visit schedule: every {schedule.interval_days} days from randomisation, window "
        f"+/-{schedule.window_days} days; a visit is missed when its whole window lies between the last "
        "adequate assessment and the event.",
        "Adequate assessment: a follow-up read with an overall response other than NE.",
        f"PFS days count randomisation as day 1; months = days / {DAYS_PER_MONTH}.",
        "Responses by RECIST 1.1 (recist rules engine); ORR = CR + PR, DCR = CR + PR + SD + NON-CR/NON-PD; "
        "denominators are all randomised subjects, subjects without a read count as NE; exact "
        "Clopper-Pearson 95% CIs.",
        "Kaplan-Meier medians with Brookmeyer-Crowley 95% CIs (log(-log) band, lifelines); hazard ratios "
        f"from a Cox model (Efron ties, Wald CI) vs the control arm {summary.control_arm!s}; unstratified "
        "log-rank test.",
        "Rule details and sources: docs/endpoints.md of the recist distribution.",
    ]
    agreement_html = ""
    if agreement:
        agreement_html = "<h2>Reader agreement</h2>" + _table(["Measure", "Value"], _flatten("", agreement))
    listed = pfs_rows(outcomes[:listing_max_rows], reads)
    listing = _table(
        ["Subject", "Arm", "Randomised", "PFS date", "Days", "Event", "Type / censoring reason", "BOR"],
        [[r["subject"], r["arm"], r["randomisation_date"], r["pfs_date"], r["pfs_days"],
          "yes" if r["event"] else "no", r["event_type"] or r["censoring_reason"], r["best_overall_response"]]
         for r in listed],
    )
    if len(outcomes) > len(listed):
        listing = (f'<p class="small">The first {len(listed):,} of {len(outcomes):,} subjects (subjects-table '
                   "order); pfs_subjects.csv lists every subject.</p>" + listing)
    return _PAGE.substitute(
        title=esc(inputs.title),
        generated=esc(inputs.generated.isoformat(timespec="seconds")),
        version=esc(inputs.version),
        rules_name=esc(rules.name),
        headline="".join(f"<li>{esc(line)}</li>" for line in headline(summary)),
        bor_table=bor_table,
        response_table=response_table,
        pfs_table=pfs_table,
        comparison_table=comparison_table,
        figures=figures,
        methods="".join(f"<li>{esc(m)}</li>" for m in methods),
        agreement=agreement_html,
        listing=listing,
    )


def write_report(out_dir: str | os.PathLike[str], inputs: ReportInputs) -> ReportFiles:
    """Write ``report.html`` and the three CSV tables to ``out_dir`` (created if needed), atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out / "report.html", out / "pfs_subjects.csv", out / "arm_summary.csv",
                        out / "bor_table.csv")
    pfs = pfs_rows(inputs.outcomes, inputs.reads)
    pfs_columns = list(pfs[0]) if pfs else list(
        PfsOutcome("", "", dt.date(2000, 1, 1), False, dt.date(2000, 1, 1)).to_row()) + ["best_overall_response"]
    atomic_write_text(files.pfs_csv, _csv_text(pfs, pfs_columns))
    arms = arm_rows(inputs.summary)
    atomic_write_text(files.summary_csv, _csv_text(arms, list(arms[0]) if arms else ["arm", "n"]))
    atomic_write_text(files.bor_csv, _csv_text(bor_rows(inputs.summary), ["arm", "best_overall_response", "n", "pct"]))
    atomic_write_bytes(files.html, render_html(inputs).encode("utf-8"))
    return files
