"""Trial figures: waterfall, spider, swimmer and Kaplan-Meier plots.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing leaks into
pyplot's global state and the figures render on any backend (``fig.savefig(path)``). Times on the x axes
count from randomisation: weeks for the per-subject plots, months for Kaplan-Meier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from recist.endpoints.pfs import PfsOutcome, SubjectAssessments
from recist.endpoints.subjects import Subject
from recist.endpoints.summary import BOR_CATEGORIES, best_change_from_baseline_pct, fit_km

__all__ = [
    "BOR_COLOURS",
    "waterfall_plot",
    "spider_plot",
    "swimmer_plot",
    "km_plot",
    "PR_THRESHOLD_PCT",
    "PD_THRESHOLD_PCT",
]

BOR_COLOURS: dict[str, str] = {
    "CR": "#1b7837",
    "PR": "#5aae61",
    "SD": "#f1b62b",
    "NON-CR/NON-PD": "#c2a5cf",
    "PD": "#d6342b",
    "NE": "#9e9e9e",
}
PR_THRESHOLD_PCT = -30.0
"""RECIST 1.1 [E09] §4.3.1: PR is at least a 30% decrease of the target sum from baseline."""
PD_THRESHOLD_PCT = 20.0
"""RECIST 1.1 [E09] §4.3.1: PD is at least a 20% increase of the target sum (from the nadir)."""

_ARM_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_DAYS_PER_WEEK = 7.0


def _arm_colours(arms: Sequence[str]) -> dict[str, str]:
    return {arm: _ARM_COLOURS[i % len(_ARM_COLOURS)] for i, arm in enumerate(sorted(set(arms)))}


def _weeks(date: dt.date, start: dt.date) -> float:
    return (date - start).days / _DAYS_PER_WEEK


def _reference_lines(ax) -> None:
    ax.axhline(PR_THRESHOLD_PCT, color="#555555", linestyle="--", linewidth=0.9)
    ax.axhline(PD_THRESHOLD_PCT, color="#555555", linestyle=":", linewidth=0.9)
    ax.axhline(0, color="black", linewidth=0.6)


def waterfall_plot(
    reads: Mapping[str, SubjectAssessments], *, arms: Mapping[str, str] | None = None
) -> Figure:
    """Best % change of the target sum per subject, sorted, coloured by best overall response.

    Parameters
    ----------
    reads
        Final reads by subject id.
    arms
        Subject id -> arm; one panel per arm when given (a single panel otherwise).

    Notes
    -----
    Subjects without an evaluable target sum after baseline (non-target-only disease, only NE
    reads) have no bar; the panel title gives "n shown of N". Dashed line: -30% (PR); dotted: +20% (PD,
    which RECIST measures from the nadir, so a bar above +20% is not necessarily PD).
    """
    groups: dict[str, list[str]] = {}
    for subject in reads:
        groups.setdefault(arms.get(subject, "") if arms else "", []).append(subject)
    names = sorted(groups)
    fig = Figure(figsize=(max(6.0, 4.5 * len(names)), 4.5), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False, sharey=True)[0]
    shown_bors: set[str] = set()
    for ax, name in zip(axes, names):
        bars = []
        for subject in groups[name]:
            change = best_change_from_baseline_pct(reads[subject].timepoints)
            if change is not None:
                bars.append((change, reads[subject].best_overall_response or "NE", subject))
        bars.sort(key=lambda b: (-b[0], b[2]))
        ax.bar(
            range(len(bars)),
            [b[0] for b in bars],
            color=[BOR_COLOURS.get(b[1], "#9e9e9e") for b in bars],
            width=0.8,
            edgecolor="none",
        )
        shown_bors.update(b[1] for b in bars)
        _reference_lines(ax)
        ax.set_xticks([])
        ax.set_xlabel("Subjects (sorted by best change)")
        title = f"{name}: " if name else ""
        ax.set_title(f"{title}{len(bars)} shown of {len(groups[name])}", fontsize=10)
    axes[0].set_ylabel("Best change in target sum from baseline (%)")
    handles = [Patch(color=BOR_COLOURS[c], label=c) for c in BOR_CATEGORIES if c in shown_bors]
    handles += [
        Line2D([], [], color="#555555", linestyle="--", label="-30% (PR)"),
        Line2D([], [], color="#555555", linestyle=":", label="+20% (PD)"),
    ]
    axes[-1].legend(handles=handles, title="Best overall response", fontsize=8, loc="upper right")
    fig.suptitle("Waterfall plot")
    return fig


def spider_plot(reads: Mapping[str, SubjectAssessments], subjects: Sequence[Subject]) -> Figure:
    """% change of the target sum from baseline over time, one line per subject, coloured by arm.

    Each line starts at 0% at week 0 (randomisation: the baseline) and has one point per follow-up
    with an evaluable sum; subjects with none have no line. Progression is marked with a cross.
    """
    by_id = {s.subject: s for s in subjects}
    colours = _arm_colours([s.arm for s in subjects])
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    for subject_id in sorted(reads):
        read, subject = reads[subject_id], by_id.get(subject_id)
        if subject is None:
            continue
        points = [
            (_weeks(v.date, subject.randomisation_date), v.change_from_baseline_pct)
            for v in read.timepoints
            if v.change_from_baseline_pct is not None
        ]
        if not points:
            continue
        xs = [0.0] + [p[0] for p in points]
        ys = [0.0] + [p[1] for p in points]
        ax.plot(xs, ys, color=colours[subject.arm], marker="o", markersize=3, linewidth=1.2, alpha=0.85)
        pd_points = [
            (_weeks(v.date, subject.randomisation_date), v.change_from_baseline_pct)
            for v in read.timepoints
            if v.overall_response == "PD" and v.change_from_baseline_pct is not None
        ]
        if pd_points:
            ax.plot(
                [p[0] for p in pd_points[:1]],
                [p[1] for p in pd_points[:1]],
                linestyle="none",
                marker="x",
                color="black",
                markersize=7,
            )
    _reference_lines(ax)
    ax.set_xlabel("Weeks since randomisation")
    ax.set_ylabel("Change in target sum from baseline (%)")
    handles = [Line2D([], [], color=c, marker="o", markersize=3, label=arm) for arm, c in colours.items()]
    handles += [Line2D([], [], color="black", marker="x", linestyle="none", label="PD")]
    ax.legend(handles=handles, title="Arm", fontsize=8, loc="upper left")
    ax.set_title("Spider plot")
    return fig


def _first_response_date(read: SubjectAssessments) -> tuple[dt.date, str] | None:
    for visit in read.timepoints:
        if visit.overall_response in ("CR", "PR"):
            return visit.date, visit.overall_response
    return None


def swimmer_plot(
    subjects: Sequence[Subject], reads: Mapping[str, SubjectAssessments], outcomes: Sequence[PfsOutcome]
) -> Figure:
    """Time on study per subject (weeks), with first response, progression, death and ongoing markers.

    A bar runs from randomisation to the latest of: last read, death, last contact, PFS date. Markers:
    first CR / PR (triangles), progression (red cross), death (black square); an arrow at the end of
    the bar marks a subject without a PFS event and not known to have died (ongoing at data cut-off).
    Bars are coloured by arm and sorted by length within arm.
    """
    outcome_of = {o.subject: o for o in outcomes}
    colours = _arm_colours([s.arm for s in subjects])
    rows = []
    for s in subjects:
        read = reads.get(s.subject)
        ends = [d for d in (s.death_date, s.last_contact_date) if d is not None]
        if read is not None:
            ends += [v.date for v in read.timepoints]
        if s.subject in outcome_of:
            ends.append(outcome_of[s.subject].date)
        end = max(ends, default=s.randomisation_date)
        rows.append((s.arm, -_weeks(end, s.randomisation_date), s.subject))
    rows.sort()
    fig = Figure(figsize=(8.0, max(3.0, 0.28 * len(rows) + 1.6)), layout="constrained")
    ax = fig.add_subplot()
    by_id = {s.subject: s for s in subjects}
    for y, (arm, neg_weeks, subject_id) in enumerate(rows):
        s, read, outcome = by_id[subject_id], reads.get(subject_id), outcome_of.get(subject_id)
        length = -neg_weeks
        ax.barh(y, length, color=colours[arm], height=0.6, alpha=0.8)
        if read is not None:
            first = _first_response_date(read)
            if first is not None:
                ax.plot(
                    _weeks(first[0], s.randomisation_date),
                    y,
                    linestyle="none",
                    marker="^" if first[1] == "PR" else "*",
                    color="white",
                    markeredgecolor="black",
                    markersize=7 if first[1] == "PR" else 10,
                )
            if read.progression_date is not None:
                ax.plot(
                    _weeks(read.progression_date, s.randomisation_date),
                    y,
                    linestyle="none",
                    marker="X",
                    color="#d6342b",
                    markeredgecolor="black",
                    markersize=8,
                )
        if s.death_date is not None:
            ax.plot(
                _weeks(s.death_date, s.randomisation_date),
                y,
                linestyle="none",
                marker="s",
                color="black",
                markersize=5,
            )
        elif outcome is not None and not outcome.event:
            ax.annotate(
                "",
                xy=(length + 3, y),
                xytext=(length, y),
                arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.2},
            )
    longest = max((-r[1] for r in rows), default=0.0)
    ax.set_xlim(0, longest * 1.05 + 5)  # room for the ongoing arrows (annotations do not autoscale)
    ax.set_yticks(range(len(rows)), [r[2] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("Weeks since randomisation")
    ax.set_ylabel("Subject")
    handles = [Patch(color=c, alpha=0.8, label=arm) for arm, c in colours.items()]
    handles += [
        Line2D(
            [], [], linestyle="none", marker="^", color="white", markeredgecolor="black", label="first PR"
        ),
        Line2D(
            [],
            [],
            linestyle="none",
            marker="*",
            color="white",
            markeredgecolor="black",
            markersize=10,
            label="first CR",
        ),
        Line2D(
            [],
            [],
            linestyle="none",
            marker="X",
            color="#d6342b",
            markeredgecolor="black",
            label="progression",
        ),
        Line2D([], [], linestyle="none", marker="s", color="black", label="death"),
        Line2D(
            [],
            [],
            linestyle="none",
            marker=r"$\rightarrow$",
            color="black",
            markersize=10,
            label="ongoing (censored, alive)",
        ),
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Swimmer plot")
    return fig


def km_plot(outcomes: Sequence[PfsOutcome], *, tick_months: float = 3.0) -> Figure:
    """Kaplan-Meier PFS curves per arm with 95% bands, censoring ticks and a numbers-at-risk table.

    The table under the axes gives, for each arm and each x tick, the subjects still at risk
    (PFS time >= tick).
    """
    arms = sorted({o.arm for o in outcomes})
    colours = _arm_colours(arms)
    fig = Figure(figsize=(7.5, 5.2), layout="constrained")
    ax, table = fig.subplots(2, 1, height_ratios=[4, 0.35 + 0.3 * len(arms)], sharex=True)
    longest = max((o.months for o in outcomes), default=1.0)
    ticks = [i * tick_months for i in range(int(longest // tick_months) + 1)]
    for row, arm in enumerate(arms):
        members = [o for o in outcomes if o.arm == arm]
        km = fit_km(members, arm)
        sf = km.survival_function_[arm]
        ci = km.confidence_interval_
        colour = colours[arm]
        ax.step(
            sf.index,
            sf.values,
            where="post",
            color=colour,
            linewidth=1.6,
            label=f"{arm} (n={len(members)}, events={sum(o.event for o in members)})",
        )
        ax.fill_between(
            ci.index, ci.iloc[:, 0], ci.iloc[:, 1], step="post", color=colour, alpha=0.15, linewidth=0
        )
        censored = [o.months for o in members if not o.event]
        ax.plot(
            censored,
            km.survival_function_at_times(censored).values,
            linestyle="none",
            marker="|",
            color=colour,
            markersize=8,
        )
        y = len(arms) - 1 - row
        for t in ticks:
            table.text(
                t,
                y,
                str(sum(o.months >= t for o in members)),
                ha="center",
                va="center",
                fontsize=8,
                color=colour,
            )
        table.text(
            -0.01,
            y,
            arm,
            ha="right",
            va="center",
            fontsize=8,
            color=colour,
            transform=table.get_yaxis_transform(),
        )
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("Progression-free survival probability")
    ax.legend(title="Arm", fontsize=8, loc="lower left")
    ax.set_title("Kaplan-Meier estimate of PFS")
    ax.tick_params(labelbottom=True)
    ax.set_xlabel("Months since randomisation")
    table.set_ylim(-0.5, len(arms) - 0.5)
    table.set_xticks(ticks)
    table.set_yticks([])
    table.set_xlim(-0.02 * max(ticks[-1], 1.0), max(ticks[-1], longest) * 1.02)
    table.tick_params(labelbottom=False, bottom=False)
    for side in ("top", "right", "bottom", "left"):
        table.spines[side].set_visible(False)
    table.set_title("Number at risk", fontsize=9, loc="left")
    return fig
