"""The trial report: one self-contained HTML file plus CSV tables, SVG figures and an ADTTE dataset.

Written with the standard library only (``html.escape`` for every value, figures embedded as base64
PNG at :data:`FIGURE_DPI` dpi), so the HTML opens anywhere and can be archived as a single file. The
figures have a bounded size whatever the number of subjects (see :mod:`recist.export.plots`), so with the
capped listing the page stays under about 1 MB for a trial of any size. Files written to ``out_dir``:

- ``report.html``: headline figures, disposition per arm, BOR table, ORR/DCR, PFS (medians, events and
  censoring reasons per arm, landmark rates, median follow-up, HR and log-rank, stratified when
  stratification factors are given), the four figures, reader agreement (review projects), methods
  generated from what was done, and the per-subject PFS listing (the first :data:`LISTING_MAX_ROWS`
  subjects; ``pfs_subjects.csv`` has every row). With a data cut-off, its date heads the page and is
  repeated at the top of every printed page and on every figure;
- ``pfs_subjects.csv``, ``arm_summary.csv``, ``bor_table.csv`` (as before), ``disposition.csv``,
  ``censoring.csv``, ``landmarks.csv`` and, with reader agreement, ``agreement.csv``;
- ``adtte.csv`` and ``adtte.xpt``: the ADaM-like time-to-event dataset (:mod:`recist.export.adtte`);
- ``figures/*.svg``: the four figures as vector graphics.

Day numbering: PFS days count the randomisation day as day 1 (CDISC study day; ``pfs_days``, ADTTE
``AVAL``); the reads' day numbers (``recist assess``, ``lesions.csv``, ``responses.csv``) count the
baseline scan as day 0. The listing's header says so.
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
from recist.endpoints.disposition import ArmDisposition
from recist.endpoints.pfs import DAYS_PER_MONTH, PfsOutcome, PfsRules, SubjectAssessments, VisitSchedule
from recist.endpoints.subjects import Subject
from recist.endpoints.summary import BOR_CATEGORIES, TrialSummary
from recist.export.report_tables import (
    agreement_rows,
    arm_rows,
    bor_rows,
    censoring_rows,
    disposition_rows,
    fmt_months,
    fmt_p,
    headline,
    hr_text,
    landmark_rows,
    median_text,
    pfs_rows,
)

__all__ = ["ReportInputs", "ReportFiles", "write_report", "render_html", "pfs_rows", "arm_rows", "bor_rows", "headline",
           "report_figures", "FIGURE_DPI", "LISTING_MAX_ROWS"]

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
    tables: tuple[Path, ...] = ()
    """The further CSV tables (disposition, censoring, landmarks, agreement)."""
    adtte: tuple[Path, ...] = ()
    """``adtte.csv`` and ``adtte.xpt``."""
    figures: tuple[Path, ...] = ()
    """The SVG figures."""


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
.cutoff{background:#fff3cd;border:1px solid #e0c36a;padding:4px 8px;font-weight:600}
@media print{.cutoff{position:fixed;top:0;left:0;right:0}body{margin-top:3em}}
</style></head><body>
$cutoff_banner
<h1>$title</h1>
<p class="small">Generated $generated by recist $version. Rules: $rules_name.$cutoff_text</p>
<h2>Headline figures</h2><ul class="headline">$headline</ul>
<h2>Subject disposition</h2>$disposition
<h2>Best overall response (RECIST 1.1)</h2>$bor_table
<h2>Objective response and disease control</h2>$response_table
<h2>Progression-free survival</h2>$pfs_table
<h3>Events and censoring reasons</h3>$censoring_table
<h3>PFS rates at landmarks and follow-up</h3>$landmark_table
<h3>Comparison with the control arm</h3>$comparison_table
<h2>Figures</h2>$figures
$agreement
<h2>Methods</h2><ul>$methods</ul>
<h2>Per-subject PFS listing</h2>$listing
</body></html>
""")


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows.

    Attributes
    ----------
    subjects, reads, outcomes, summary
        The analysed subjects, final reads by subject, PFS outcomes and per-arm summary.
    rules, schedule
        The PFS censoring rules and visit schedule used (named in the methods).
    generated, version
        Time of generation (passed in: the library reads no clock) and recist version.
    title
        Report title.
    agreement
        Reader-agreement figures: a review project's report (formatted table, per arm when it has
        ``by_group``) or any other dict (name -> value, shown as it is).
    disposition
        Per-arm disposition (randomised, with a read, analysed, left out and why); ``None``: every
        subject of ``subjects`` was randomised and analysed.
    cutoff
        The data cut-off date, or ``None``.
    strata
        The stratification factors used.
    source_kind
        ``"cases"`` (a folder of case files) or ``"review"`` (a central-review project).
    without_read
        What was done with randomised subjects without a read: ``"leave out"`` or ``"censor"``.
    scans_after_cutoff
        Follow-up scans not used because they are after the cut-off.
    study_id
        STUDYID of the ADTTE dataset.
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
    disposition: Sequence[ArmDisposition] | None = None
    cutoff: dt.date | None = None
    strata: tuple[str, ...] = ()
    source_kind: str = "cases"
    without_read: str = "censor"
    scans_after_cutoff: int = 0
    study_id: str = "STUDY"


def _arms(inputs: ReportInputs) -> list[str]:
    return [r.arm for r in inputs.summary.responses]


def _disposition(inputs: ReportInputs) -> Sequence[ArmDisposition]:
    if inputs.disposition is not None:
        return inputs.disposition
    analysed = {s.subject for s in inputs.subjects}
    from recist.endpoints.disposition import disposition

    return disposition(_arms(inputs), {s.subject: s.arm for s in inputs.subjects},
                       {s for s in inputs.reads if s in analysed}, analysed, {})


def _disposition_html(flow: Sequence[ArmDisposition]) -> str:
    rows = []
    for d in flow:
        reasons = "; ".join(f"{reason}: {len(ids)} ({', '.join(ids[:10])}{', ...' if len(ids) > 10 else ''})"
                            for reason, ids in d.left_out.items()) or "none"
        rows.append([d.arm, d.randomised, d.with_read, d.analysed
                     if not d.analysed_without_read else f"{d.analysed} ({d.analysed_without_read} without a read)",
                     d.n_left_out, reasons])
    return _table(["Arm", "Randomised", "With a read", "Analysed", "Left out", "Left out: why (subjects)"], rows)


def _methods(inputs: ReportInputs, flow: Sequence[ArmDisposition]) -> list[str]:
    """The methods, generated from what was done (population, cut-off, rules, statistics)."""
    rules, schedule, summary = inputs.rules, inputs.schedule, inputs.summary
    randomised = sum(d.randomised for d in flow)
    analysed = sum(d.analysed for d in flow)
    left_out = randomised - analysed
    per_arm = ", ".join(f"{d.arm} {d.analysed} of {d.randomised}" for d in flow)
    source = ("the final reads of the blinded independent central review (Read A when the two readers agree, "
              "else the adjudicator's choice), re-assessed with the charter's protocol options"
              if inputs.source_kind == "review" else "one case file (final read) per subject")
    population = (f"Population: {analysed} of {randomised} randomised subjects analysed ({per_arm}); reads: "
                  f"{source}.")
    if left_out:
        population += (f" {left_out} randomised subject(s) were left out of every analysis (disposition table: "
                       "who and why); response rates and PFS are therefore NOT on the intention-to-treat "
                       "population, and the report is a draft until the problems are fixed.")
    without = sum(d.analysed_without_read for d in flow)
    if without:
        population += f" {without} analysed subject(s) had no read: BOR NE, PFS censored at randomisation."
    denominators = ("Denominators of ORR and DCR: the analysed subjects of each arm"
                    + (" (all randomised subjects: intention to treat)." if not left_out else
                       f" ({analysed} of {randomised} randomised)."))
    arms = ", ".join(f"{a!r} (control)" if a == summary.control_arm else repr(a) for a in _arms(inputs))
    methods = [population, f"Arms: {arms}; every subject's arm was checked against this list.", denominators]
    if inputs.cutoff is not None:
        methods.append(
            f"Data cut-off {inputs.cutoff.isoformat()}: scans, deaths, new therapies and other dates after it are "
            f"not used ({inputs.scans_after_cutoff} follow-up scan(s) after the cut-off ignored); reads are "
            "assessed on the scans up to the cut-off; subjects randomised after it are not analysed.")
    else:
        methods.append("No data cut-off date was given: every scan and date of the source is used.")
    methods += [
        f"PFS from randomisation to radiological progression (date of the read documenting it) or death; "
        f"censoring by {rules.name}: {rules.source}. Censoring at new anticancer therapy: "
        f"{'yes' if rules.censor_at_new_therapy else 'no'}; events after two or more missed visits censored: "
        f"{'yes' if rules.censor_after_missed_visits else 'no'}.",
        f"Visit schedule: every {schedule.interval_days} days from randomisation, window "
        f"+/-{schedule.window_days} days; a visit is missed when its whole window lies between the last "
        "adequate assessment and the event.",
        "Adequate assessment: a follow-up read with an overall response other than NE.",
        f"Time unit: months since randomisation (days / {DAYS_PER_MONTH}) throughout. Day numbering: PFS days "
        "(listing, pfs_subjects.csv, ADTTE AVAL) count the randomisation day as day 1; the reads' day numbers "
        "(recist assess, lesions.csv, responses.csv) count the baseline scan as day 0.",
        "Responses by RECIST 1.1 (recist rules engine); ORR = CR + PR, DCR = CR + PR + SD + NON-CR/NON-PD; "
        "exact Clopper-Pearson 95% CIs.",
        "Kaplan-Meier medians with Brookmeyer-Crowley 95% CIs (log(-log) band); PFS rates at 6, 12, 18 and 24 "
        "months with Greenwood log(-log) 95% CIs (not estimable when no subject was followed that long); median "
        "follow-up by the reverse Kaplan-Meier method (Schemper & Smith 1996).",
        f"Hazard ratios from a Cox model (Efron ties, Wald CI) vs the control arm {summary.control_arm!s}; "
        + (f"log-rank test unstratified and stratified by {', '.join(inputs.strata)} (stratified log-rank: "
           "sums over strata; stratified Cox: one baseline hazard per stratum)."
           if inputs.strata else "unstratified log-rank test (no stratification factors were given)."),
        "Waterfall and spider plots: change of the target sum from baseline; the dashed line is -30% (PR). PD is "
        "+20% from the nadir, so no PD line is drawn on these axes.",
        "Rule details and sources: docs/endpoints.md and docs/batch.md of the recist distribution.",
    ]
    return methods


def report_figures(inputs: ReportInputs) -> list[tuple[str, str, Any]]:
    """(file stem, caption, figure) of the report's four figures; the waterfall caption names the subjects
    without a bar and why, and with a data cut-off every figure carries its date."""
    from recist.export.plots import (
        SWIMMER_MAX_SUBJECTS,
        km_plot,
        spider_plot,
        swimmer_note,
        swimmer_plot,
        waterfall_missing,
        waterfall_plot,
    )

    subjects, reads, outcomes = inputs.subjects, inputs.reads, inputs.outcomes
    arm_of = {s.subject: s.arm for s in subjects}
    waterfall_reads = {k: v for k, v in reads.items() if k in arm_of}
    missing = waterfall_missing(waterfall_reads)
    no_read = [s.subject for s in subjects if s.subject not in reads]
    why = "; ".join(f"{subject} ({reason})" for subject, reason in sorted(missing.items()))
    if no_read:
        why = "; ".join(x for x in (why, ", ".join(no_read) + " (no read)") if x)
    n_shown = len(subjects) - len(missing) - len(no_read)
    waterfall_caption = (f"Best % change of the target sum from baseline, coloured by best overall response: "
                         f"{n_shown} shown of {len(subjects)} analysed"
                         + (f". Not shown: {why}" if why else ""))
    swimmer_selected = swimmer_note(min(len(subjects), SWIMMER_MAX_SUBJECTS), len(subjects))
    figures = [
        ("km", "Kaplan-Meier estimate of PFS with numbers at risk (months)", km_plot(outcomes)),
        ("waterfall", waterfall_caption, waterfall_plot(waterfall_reads, arms=arm_of)),
        ("spider", "% change of the target sum from baseline over time (months)", spider_plot(reads, subjects)),
        ("swimmer", "Time on study (months), responses and progression"
         + (f" ({swimmer_selected})" if swimmer_selected else ""),
         swimmer_plot(subjects, reads, outcomes, max_subjects=SWIMMER_MAX_SUBJECTS)),
    ]
    if inputs.cutoff is not None:
        for _, _, figure in figures:
            figure.text(0.99, 0.002, f"Data cut-off {inputs.cutoff.isoformat()}", ha="right", va="bottom",
                        fontsize=7, color="#555555")
    return figures


def _agreement_html(inputs: ReportInputs) -> str:
    agreement = inputs.agreement
    if not agreement:
        return ""
    if "subjects_with_two_signed_reads" not in agreement:  # a caller's own figures
        return "<h2>Reader agreement</h2>" + _table(["Measure", "Value"], _flatten("", agreement))
    rows = agreement_rows(agreement, _arms(inputs), inputs.summary.control_arm)
    header = list(rows[0]) if rows else ["measure"]
    return ("<h2>Reader agreement (blinded independent central review)</h2>"
            '<p class="small">Rates are percentages of the column\'s subjects. Site vs central compares the '
            "investigators' (site) reads with the final central reads: EDR and LDR by Amit et al. (2011); a "
            "difference between arms is the bias signal of BICR.</p>"
            + _table([h[:1].upper() + h[1:] for h in header], [[r[h] for h in header] for r in rows]))


def render_html(
    inputs: ReportInputs,
    *,
    include_figures: bool = True,
    listing_max_rows: int = LISTING_MAX_ROWS,
    figures: Sequence[tuple[str, str, Any]] | None = None,
) -> str:
    """The report as one HTML string (see module docstring).

    ``figures`` are :func:`report_figures` already built (else they are built here).

    ``listing_max_rows`` caps the per-subject listing (subjects-table order); when subjects are left out
    a note before the table gives the count and names ``pfs_subjects.csv``.
    """
    reads, outcomes, summary = inputs.reads, inputs.outcomes, inputs.summary
    esc = html.escape
    flow = _disposition(inputs)
    arms = _arms(inputs)
    bor_table = _table(
        ["Arm", "N"] + list(BOR_CATEGORIES),
        [[r.arm, r.n] + [f"{r.bor_counts[c]} ({100 * r.bor_counts[c] / r.n:.1f}%)" if r.n else "0"
                         for c in BOR_CATEGORIES] for r in summary.responses],
    )
    response_table = _table(["Arm", "N", "ORR (CR+PR)", "DCR (CR+PR+SD+NON-CR/NON-PD)"],
                            [[r.arm, r.n, r.orr.format(), r.dcr.format()] for r in summary.responses])
    pfs_table = _table(["Arm", "N", "Events", "Median PFS, months (95% CI)"],
                       [[a.arm, a.n, a.events, median_text(a)] for a in summary.pfs])
    censoring = censoring_rows(outcomes, arms)
    categories = list(dict.fromkeys((r["kind"], r["category"]) for r in censoring))
    cell = {(r["kind"], r["category"], r["arm"]): r for r in censoring}
    censoring_table = _table(
        ["", "Category"] + arms,
        [["event" if kind == "event" else "censored", category]
         + [f"{cell[kind, category, a]['n']} ({cell[kind, category, a]['pct']}%)"
            if cell[kind, category, a]["pct"] != "" else "0" for a in arms]
         for kind, category in categories],
    )
    landmark_table = _table(
        ["Arm"] + [f"PFS at {p.time:g} months, % (95% CI; at risk)" for p in summary.follow_up[0].landmarks]
        + ["Median follow-up, months (95% CI)"],
        [[f.arm] + [("not estimable (no follow-up that long)" if p.survival is None else
                     f"{100 * p.survival:.1f}" + (f" ({100 * p.ci_low:.1f}-{100 * p.ci_high:.1f}; {p.at_risk})"
                                                   if p.ci_low is not None else f" (CI not estimable; {p.at_risk})"))
                    for p in f.landmarks]
         + [f"{fmt_months(f.median_follow_up)} ({fmt_months(f.follow_up_ci_low)}-{fmt_months(f.follow_up_ci_high)})"]
         for f in summary.follow_up],
    ) if summary.follow_up else ""
    comparisons = [(c, "unstratified") for c in summary.comparisons] + [
        (c, "stratified by " + ", ".join(c.strata)) for c in summary.stratified]
    comparison_table = _table(
        ["Arm", "vs control", "Analysis", "Hazard ratio (95% CI)", "Log-rank chi-square", "Log-rank p"],
        [[c.arm, c.control_arm, kind, hr_text(c), "NA" if c.logrank_chi2 is None else f"{c.logrank_chi2:.3f}",
          fmt_p(c.logrank_p)] for c, kind in comparisons],
    ) if comparisons else "<p>One arm only: no comparison.</p>"
    figures_html = ""
    if include_figures:
        for stem, caption, figure in figures if figures is not None else report_figures(inputs):
            figures_html += (f'<figure><img alt="{esc(caption)}" src="{_png_data_uri(figure)}">'
                        f'<figcaption>{esc(caption)} <span class="small">(vector: figures/{stem}.svg)</span>'
                        "</figcaption></figure>")
    listed = pfs_rows(outcomes[:listing_max_rows], reads)
    listing = _table(
        ["Subject", "Arm", "Randomised (day 1)", "PFS date", "PFS days (randomisation = day 1)", "PFS months",
         "Event", "Type / censoring reason", "BOR"],
        [[r["subject"], r["arm"], r["randomisation_date"], r["pfs_date"], r["pfs_days"], f"{r['pfs_months']:.1f}",
          "yes" if r["event"] else "no", r["event_type"] or r["censoring_reason"], r["best_overall_response"]]
         for r in listed],
    )
    if len(outcomes) > len(listed):
        listing = (f'<p class="small">The first {len(listed):,} of {len(outcomes):,} subjects (subjects-table '
                   "order); pfs_subjects.csv lists every subject.</p>" + listing)
    cutoff = inputs.cutoff.isoformat() if inputs.cutoff else ""
    return _PAGE.substitute(
        title=esc(inputs.title),
        cutoff_banner=f'<div class="cutoff">{esc(inputs.title)}: data cut-off {cutoff}</div>' if cutoff else "",
        cutoff_text=f" Data cut-off: {cutoff}." if cutoff else " No data cut-off date given.",
        generated=esc(inputs.generated.isoformat(timespec="seconds")),
        version=esc(inputs.version),
        rules_name=esc(inputs.rules.name),
        headline="".join(f"<li>{esc(line)}</li>" for line in headline(summary)),
        disposition=_disposition_html(flow),
        bor_table=bor_table,
        response_table=response_table,
        pfs_table=pfs_table,
        censoring_table=censoring_table,
        landmark_table=landmark_table,
        comparison_table=comparison_table,
        figures=figures_html,
        methods="".join(f"<li>{esc(m)}</li>" for m in _methods(inputs, flow)),
        agreement=_agreement_html(inputs),
        listing=listing,
    )


def write_report(out_dir: str | os.PathLike[str], inputs: ReportInputs) -> ReportFiles:
    """Write ``report.html``, the CSV tables, the ADTTE dataset and the SVG figures to ``out_dir``
    (created if needed), atomically (see the module docstring for the list)."""
    from recist.export.adtte import adtte_rows, write_adtte

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pfs = pfs_rows(inputs.outcomes, inputs.reads)
    pfs_columns = list(pfs[0]) if pfs else list(
        PfsOutcome("", "", dt.date(2000, 1, 1), False, dt.date(2000, 1, 1)).to_row()) + ["best_overall_response"]
    pfs_csv, summary_csv, bor_csv = out / "pfs_subjects.csv", out / "arm_summary.csv", out / "bor_table.csv"
    atomic_write_text(pfs_csv, _csv_text(pfs, pfs_columns))
    arms = arm_rows(inputs.summary)
    atomic_write_text(summary_csv, _csv_text(arms, list(arms[0]) if arms else ["arm", "n"]))
    atomic_write_text(bor_csv, _csv_text(bor_rows(inputs.summary), ["arm", "best_overall_response", "n", "pct"]))
    tables = {
        "disposition.csv": (disposition_rows(_disposition(inputs)), ["arm", "status", "n", "subjects"]),
        "censoring.csv": (censoring_rows(inputs.outcomes, _arms(inputs)), ["arm", "kind", "category", "n", "pct"]),
        "landmarks.csv": (landmark_rows(inputs.summary), ["arm", "measure", "estimate_pct", "ci_low_pct",
                                                          "ci_high_pct", "at_risk", "months", "ci_low_months",
                                                          "ci_high_months"]),
    }
    if inputs.agreement and "subjects_with_two_signed_reads" in inputs.agreement:
        rows = agreement_rows(inputs.agreement, _arms(inputs), inputs.summary.control_arm)
        tables["agreement.csv"] = (rows, list(rows[0]))
    written = []
    for name, (rows, columns) in tables.items():
        atomic_write_text(out / name, _csv_text(rows, columns))
        written.append(out / name)
    adtte = write_adtte(adtte_rows(inputs.outcomes, inputs.subjects, study_id=inputs.study_id, arms=_arms(inputs),
                                   cutoff=inputs.cutoff), out, created=inputs.generated)
    figure_dir = out / "figures"
    figure_dir.mkdir(exist_ok=True)
    figures = report_figures(inputs)
    html_path = out / "report.html"
    html_text = render_html(inputs, figures=figures)  # draws each figure once, laying it out (PNG)
    import matplotlib

    svgs = []
    for stem, _, figure in figures:
        buffer = io.BytesIO()
        figure.set_layout_engine("none")  # keep the layout of the PNG: constrained layout is ~40% of a save
        # text stays text (searchable, editable); fixed ids and no date: the same input gives the same bytes
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "recist"}):
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        atomic_write_bytes(figure_dir / f"{stem}.svg", buffer.getvalue())
        svgs.append(figure_dir / f"{stem}.svg")
    atomic_write_bytes(html_path, html_text.encode("utf-8"))
    return ReportFiles(html_path, pfs_csv, summary_csv, bor_csv, tuple(written), adtte, tuple(svgs))
