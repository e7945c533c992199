"""Trial figures: waterfall, spider, swimmer and Kaplan-Meier plots.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so nothing leaks into
pyplot's global state and the figures render on any backend (``fig.savefig(path)``). Times on the x axes
are months since randomisation (days / 30.4375), the report's one time unit.

Reference lines: only the -30 % line (partial response, RECIST 1.1 §4.3.1, measured from baseline) is
drawn on the change-from-baseline axes. Progression is +20 % from the nadir, not from baseline, so a
+20 % line on these axes would mislabel subjects; it is not drawn and the legend says why.

The figures stay fast and readable from 10 to 10,000+ subjects: each series is one vectorised artist
(one ``bar``/``barh`` call, one ``scatter`` per marker kind, one ``LineCollection`` for the spider
lines), never one artist per subject, and every figure has a bounded size. Large trials change what is
drawn, and the figure says so:

- waterfall: one bar per subject up to :data:`WATERFALL_BAR_LIMIT` subjects per panel; beyond, the
  sorted bars touch and are drawn as one filled step outline per best overall response;
- spider: line opacity and marker size fall with the number of subjects (:func:`spider_alpha`);
- swimmer: at most :data:`SWIMMER_MAX_SUBJECTS` rows; beyond, a deterministic selection described in
  the title (:func:`swimmer_selection`, :func:`swimmer_note`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from recist.endpoints.pfs import DAYS_PER_MONTH, PfsOutcome, SubjectAssessments
from recist.endpoints.subjects import Subject
from recist.endpoints.summary import BOR_CATEGORIES, best_change_from_baseline_pct, fit_km

__all__ = [
    "BOR_COLOURS",
    "waterfall_plot",
    "spider_plot",
    "spider_alpha",
    "swimmer_plot",
    "swimmer_selection",
    "swimmer_note",
    "SwimmerRow",
    "waterfall_missing",
    "SWIMMER_BAR_ALPHA",
    "PROGRESSION_COLOUR",
    "km_plot",
    "PR_THRESHOLD_PCT",
    "PD_THRESHOLD_PCT",
    "WATERFALL_BAR_LIMIT",
    "SWIMMER_MAX_SUBJECTS",
    "SPIDER_VECTOR_LIMIT",
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
WATERFALL_BAR_LIMIT = 300
"""Subjects per waterfall panel drawn as separate bars; above it the bars touch (a filled step outline)."""
SWIMMER_MAX_SUBJECTS = 100
"""Rows of the swimmer plot; a larger trial shows a selection of this many subjects."""
SPIDER_VECTOR_LIMIT = 1000
"""Spider lines drawn as vectors in SVG/PDF; above it the lines and visit points are rasterised there (the
axes, text and progression crosses stay vector): 5,000 subjects took 5.5 s and 5.1 MB as vectors."""

_ARM_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#999933")
"""Arm colours (Okabe & Ito's colour-blind-safe palette; no red, which marks progression)."""
SWIMMER_BAR_ALPHA = 0.45
"""Opacity of the swimmer bars: light tints, so that the dark event markers stand out on every arm."""
PROGRESSION_COLOUR = "#8B0000"
"""Progression markers (dark red, white-edged): at least 3:1 contrast against every swimmer bar tint
(WCAG 2.1 success criterion 1.4.11, non-text contrast)."""
_NE_COLOUR = BOR_COLOURS["NE"]
_RESPONDERS = frozenset({"CR", "PR"})


def _arm_colours(arms: Sequence[str]) -> dict[str, str]:
    return {arm: _ARM_COLOURS[i % len(_ARM_COLOURS)] for i, arm in enumerate(sorted(set(arms)))}


def _months(date: dt.date, start: dt.date) -> float:
    return (date - start).days / DAYS_PER_MONTH


def _reference_lines(ax) -> None:
    ax.axhline(PR_THRESHOLD_PCT, color="#555555", linestyle="--", linewidth=0.9)
    ax.axhline(0, color="black", linewidth=0.6)


_PR_LINE_LABEL = "-30% from baseline (PR)"
_PD_NOTE = "PD is +20% from the\nnadir: no line here"


def waterfall_missing(reads: Mapping[str, SubjectAssessments]) -> dict[str, str]:
    """Subjects without a bar in the waterfall plot, and why (subject id -> reason).

    A bar needs a follow-up with an evaluable target sum (``change_from_baseline_pct``). Reasons: no
    follow-up read; every follow-up not evaluable (overall response NE); or no target sum at any
    evaluable follow-up (non-target disease only, RECIST 1.1 §3.3).

    Examples
    --------
    >>> waterfall_missing({"S1": SubjectAssessments("S1")})
    {'S1': 'no follow-up read'}
    """
    missing = {}
    for subject, read in reads.items():
        if best_change_from_baseline_pct(read.timepoints) is not None:
            continue
        if not read.timepoints:
            missing[subject] = "no follow-up read"
        elif all(v.overall_response == "NE" for v in read.timepoints):
            missing[subject] = "every follow-up not evaluable (NE)"
        else:
            missing[subject] = "no target lesions (non-target disease only)"
    return missing


def _bor_order(categories: set[str]) -> list[str]:
    """Categories in BOR_CATEGORIES order, unknown labels last (sorted)."""
    return [c for c in BOR_CATEGORIES if c in categories] + sorted(categories - set(BOR_CATEGORIES))


def _waterfall_panel(ax, changes_pct: np.ndarray, bors: np.ndarray) -> None:
    """Draw sorted best changes: one ``bar`` call, or touching filled steps per BOR above the limit."""
    n = len(changes_pct)
    if n <= WATERFALL_BAR_LIMIT:
        ax.bar(np.arange(n), changes_pct, color=[BOR_COLOURS.get(b, _NE_COLOUR) for b in bors], width=0.8,
               edgecolor="none")
        return
    edges = np.arange(n + 1) - 0.5
    for category in _bor_order(set(bors.tolist())):
        ax.stairs(np.where(bors == category, changes_pct, 0.0), edges, baseline=0.0, fill=True,
                  color=BOR_COLOURS.get(category, _NE_COLOUR), linewidth=0, gid=f"waterfall {category}")
    ax.set_xlim(edges[0], edges[-1])


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
    reads) have no bar; the panel title gives "n shown of N" and :func:`waterfall_missing` says which
    and why. Dashed line: -30% (PR). There is no +20% line: PD is measured from the nadir, so a bar
    above +20% from baseline is not necessarily PD (and PD may be below it).
    Up to :data:`WATERFALL_BAR_LIMIT` subjects a panel has one ``bar`` call with a gap between bars
    (``ax.patches`` holds one rectangle per subject). Above it, bars would be narrower than a pixel, so
    they are drawn touching, as one filled ``stairs`` artist per best overall response (the values of
    the other subjects are 0): every subject is still one step of width 1 at its sorted position.
    The figure is 4.5 inches tall and 4.5 inches wide per arm (at least 6) whatever the number of subjects.
    """
    groups: dict[str, list[str]] = {}
    for subject in reads:
        groups.setdefault(arms.get(subject, "") if arms else "", []).append(subject)
    names = sorted(groups) or [""]  # no reads: one empty panel, "0 shown of 0"
    groups.setdefault("", [])
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
        _waterfall_panel(ax, np.array([b[0] for b in bars], dtype=float), np.array([b[1] for b in bars], dtype=str))
        shown_bors.update(b[1] for b in bars)
        _reference_lines(ax)
        ax.set_xticks([])
        ax.set_xlabel("Subjects (sorted by best change)")
        title = f"{name}: " if name else ""
        ax.set_title(f"{title}{len(bars):,} shown of {len(groups[name]):,}", fontsize=10)
    axes[0].set_ylabel("Best change in target sum from baseline (%)")
    handles = [Patch(color=BOR_COLOURS.get(c, _NE_COLOUR), label=c) for c in _bor_order(shown_bors)]
    handles += [
        Line2D([], [], color="#555555", linestyle="--", label=_PR_LINE_LABEL),
        Line2D([], [], linestyle="none", label=_PD_NOTE),
    ]
    axes[-1].legend(handles=handles, title="Best overall response", fontsize=8, loc="upper left",
                    bbox_to_anchor=(1.01, 1.0))  # outside the bars
    fig.suptitle("Waterfall plot")
    return fig


def _interleaved_by_arm(subject_ids: Sequence[str], by_id: Mapping[str, Subject]) -> list[str]:
    """``subject_ids`` reordered to take one subject of each arm in turn (arms by name, ids in order)."""
    by_arm: dict[str, list[str]] = {}
    for subject_id in subject_ids:
        by_arm.setdefault(by_id[subject_id].arm, []).append(subject_id)
    columns = [by_arm[arm] for arm in sorted(by_arm)]
    return [ids[i] for i in range(max(map(len, columns), default=0)) for ids in columns if i < len(ids)]


def spider_alpha(n_lines: int) -> float:
    """Opacity of the spider plot's lines for ``n_lines`` subjects: 0.85 up to ~90, then 8 / sqrt(n),
    at least 0.06, so that 10 lines read as lines and 10,000 as a density."""
    return float(min(0.85, max(0.06, 8.0 / np.sqrt(max(n_lines, 1)))))


def spider_plot(reads: Mapping[str, SubjectAssessments], subjects: Sequence[Subject]) -> Figure:
    """% change of the target sum from baseline over time, one line per subject, coloured by arm.

    Each line starts at 0% at month 0 (randomisation: the baseline) and has one point per follow-up
    with an evaluable sum; subjects with none have no line. The first read documenting progression
    (overall response PD with an evaluable sum) is marked with a cross.

    All lines are one :class:`~matplotlib.collections.LineCollection`, drawn taking one subject of each
    arm in turn (ids in order within an arm) so that no arm covers the others; the points one ``scatter`` and the
    progression crosses another; opacity and sizes fall with the number of lines (:func:`spider_alpha`).
    Above :data:`SPIDER_VECTOR_LIMIT` lines the lines and points are rasterised in vector outputs.
    """
    by_id = {s.subject: s for s in subjects}
    colours = _arm_colours([s.arm for s in subjects])
    segments: list[np.ndarray] = []
    segment_colours: list[str] = []
    pd_points: list[tuple[float, float]] = []
    for subject_id in _interleaved_by_arm([s for s in sorted(reads) if s in by_id], by_id):
        read, subject = reads[subject_id], by_id[subject_id]
        visits = [v for v in read.timepoints if v.change_from_baseline_pct is not None]
        if not visits:
            continue
        months = [_months(v.date, subject.randomisation_date) for v in visits]
        segments.append(np.array([[0.0, 0.0]] + [[m, v.change_from_baseline_pct] for m, v in zip(months, visits)]))
        segment_colours.append(colours[subject.arm])
        first_pd = next(((m, v.change_from_baseline_pct) for m, v in zip(months, visits)
                         if v.overall_response == "PD"), None)
        if first_pd is not None:
            pd_points.append(first_pd)
    alpha = spider_alpha(len(segments))
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.add_subplot()
    dense = len(segments) > SPIDER_VECTOR_LIMIT
    ax.add_collection(LineCollection(segments, colors=segment_colours, linewidths=0.4 + 0.8 * alpha, alpha=alpha,
                                     gid="subjects", rasterized=dense))
    if segments:
        points = np.concatenate(segments)
        point_colours = np.repeat(segment_colours, [len(s) for s in segments])
        ax.scatter(points[:, 0], points[:, 1], s=9 * alpha, c=point_colours, alpha=alpha, linewidths=0,
                   gid="visits", rasterized=dense)
    if pd_points:
        crosses = np.array(pd_points)
        ax.scatter(crosses[:, 0], crosses[:, 1], marker="x", color="black", s=49 * alpha,
                   alpha=min(1.0, 1.5 * alpha), linewidths=1.0, gid="progression")
    ax.autoscale_view()
    _reference_lines(ax)
    ax.set_xlabel("Months since randomisation")
    ax.set_ylabel("Change in target sum from baseline (%)")
    handles = [Line2D([], [], color=c, marker="o", markersize=3, label=arm) for arm, c in colours.items()]
    handles += [Line2D([], [], color="black", marker="x", linestyle="none", label="PD"),
                Line2D([], [], color="#555555", linestyle="--", label=_PR_LINE_LABEL),
                Line2D([], [], linestyle="none", label=_PD_NOTE)]
    ax.legend(handles=handles, title="Arm", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"Spider plot ({len(segments):,} subjects)")
    return fig


@dataclass(frozen=True)
class SwimmerRow:
    """One subject of the swimmer plot: time on study (months) and whether the BOR is a response."""

    subject: str
    arm: str
    months_on_study: float
    responder: bool

    @property
    def weeks_on_study(self) -> float:
        """Time on study in weeks (compatibility: the swimmer plot was drawn in weeks before recist 0.2)."""
        return self.months_on_study * DAYS_PER_MONTH / 7.0


def _swimmer_rows(
    subjects: Sequence[Subject], reads: Mapping[str, SubjectAssessments], outcome_of: Mapping[str, PfsOutcome]
) -> list[SwimmerRow]:
    rows = []
    for s in subjects:
        read = reads.get(s.subject)
        ends = [d for d in (s.death_date, s.last_contact_date) if d is not None]
        if read is not None:
            ends += [v.date for v in read.timepoints]
        if s.subject in outcome_of:
            ends.append(outcome_of[s.subject].date)
        end = max(ends, default=s.randomisation_date)
        responder = read is not None and read.best_overall_response in _RESPONDERS
        rows.append(SwimmerRow(s.subject, s.arm, _months(end, s.randomisation_date), responder))
    return rows


def swimmer_selection(rows: Sequence[SwimmerRow], max_subjects: int = SWIMMER_MAX_SUBJECTS) -> list[SwimmerRow]:
    """The rows a swimmer plot shows: all of them up to ``max_subjects``, else a deterministic selection.

    Selection (a choice, as no guideline sets one): the ``max_subjects`` rows are shared equally between
    the arms (round robin in arm-name order; an arm with fewer subjects than its share gives the rest to
    the others), so every arm is shown whatever its size. Within an arm, subjects whose best overall
    response is CR or PR come first, longest time on study first, then the other subjects, longest time
    on study first; ties by subject id. This is the swimmer plot trial reports show for large trials
    (duration of response of the responders, then the longest on study); it is not a random sample, and
    the figure's title says so (:func:`swimmer_note`).

    Returns the selected rows sorted for display: by arm, then longest time on study first, then id.
    """
    if max_subjects < 1:
        raise ValueError(f"max_subjects must be at least 1, got {max_subjects}")
    by_arm: dict[str, list[SwimmerRow]] = {}
    for row in rows:
        by_arm.setdefault(row.arm, []).append(row)
    if len(rows) > max_subjects:
        quotas = dict.fromkeys(by_arm, 0)
        left = max_subjects
        while left:
            for arm in sorted(by_arm):
                if left and quotas[arm] < len(by_arm[arm]):
                    quotas[arm] += 1
                    left -= 1
        by_arm = {arm: sorted(members, key=lambda r: (not r.responder, -r.months_on_study, r.subject))[:quotas[arm]]
                  for arm, members in by_arm.items()}
    return sorted((r for members in by_arm.values() for r in members),
                  key=lambda r: (r.arm, -r.months_on_study, r.subject))


def swimmer_note(n_shown: int, n_total: int) -> str:
    """The selection sentence of a swimmer plot that does not show every subject ("" when it does)."""
    if n_shown >= n_total:
        return ""
    return (f"{n_shown:,} of {n_total:,} subjects shown: an equal share per arm, responders (CR/PR) first, "
            "then the longest time on study")


def _first_response(read: SubjectAssessments, start: dt.date) -> tuple[float, str] | None:
    for visit in read.timepoints:
        if visit.overall_response in _RESPONDERS:
            return _months(visit.date, start), visit.overall_response
    return None


def swimmer_plot(
    subjects: Sequence[Subject],
    reads: Mapping[str, SubjectAssessments],
    outcomes: Sequence[PfsOutcome],
    *,
    max_subjects: int = SWIMMER_MAX_SUBJECTS,
) -> Figure:
    """Time on study per subject (months), with first response, progression, death and ongoing markers.

    A bar runs from randomisation to the latest of: last read, death, last contact, PFS date. Markers:
    first CR / PR (star / triangle), progression (red cross), death (black square); an arrow at the end
    of the bar marks a subject without a PFS event and not known to have died (ongoing at data cut-off).
    Bars are light tints of the arm colours (:data:`SWIMMER_BAR_ALPHA`) sorted by length within arm; the
    progression marker is dark red with a white edge (:data:`PROGRESSION_COLOUR`) and death a black square,
    so both stand out on every arm's bar.

    At most ``max_subjects`` rows are drawn (:func:`swimmer_selection`); when subjects are left out the
    title states how many are shown and how they were chosen, and each arm's legend entry gives its
    count ("control (50 of 5,000)"). The bars are one ``barh`` call, each marker kind one ``scatter``
    (``gid`` "first PR", "first CR", "progression", "death") and the arrows one ``quiver`` (``gid``
    "ongoing"). The figure is 8 inches wide and at most 15.8 inches tall: at 100 rows each row has 10
    points and the subject labels are 6 points (the same at 1,000 subjects, which show 100 rows).
    """
    outcome_of = {o.subject: o for o in outcomes}
    colours = _arm_colours([s.arm for s in subjects])
    all_rows = _swimmer_rows(subjects, reads, outcome_of)
    rows = swimmer_selection(all_rows, max_subjects)
    n = len(rows)
    axes_height_in = min(0.28 * n, 14.0)
    pitch_pt = 72.0 * axes_height_in / max(n, 1)  # vertical space of one row, in points
    fig = Figure(figsize=(8.0, max(3.0, axes_height_in + 1.8)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)
    lengths = np.array([r.months_on_study for r in rows], dtype=float)
    ax.barh(y, lengths, color=[colours[r.arm] for r in rows], height=0.6, alpha=SWIMMER_BAR_ALPHA)

    by_id = {s.subject: s for s in subjects}
    marks: dict[str, list[tuple[float, int]]] = {"first PR": [], "first CR": [], "progression": [], "death": []}
    ongoing: list[tuple[float, int]] = []
    for row_y, row in enumerate(rows):
        s, read, outcome = by_id[row.subject], reads.get(row.subject), outcome_of.get(row.subject)
        if read is not None:
            first = _first_response(read, s.randomisation_date)
            if first is not None:
                marks[f"first {first[1]}"].append((first[0], row_y))
            if read.progression_date is not None:
                marks["progression"].append((_months(read.progression_date, s.randomisation_date), row_y))
        if s.death_date is not None:
            marks["death"].append((_months(s.death_date, s.randomisation_date), row_y))
        elif outcome is not None and not outcome.event:
            ongoing.append((row.months_on_study, row_y))
    marker_pt = min(1.0, pitch_pt / 10.0)  # markers shrink with the rows
    styles = {
        "first PR": {"marker": "^", "color": "white", "edgecolors": "black", "s": (7 * marker_pt) ** 2},
        "first CR": {"marker": "*", "color": "white", "edgecolors": "black", "s": (10 * marker_pt) ** 2},
        "progression": {"marker": "X", "color": PROGRESSION_COLOUR, "edgecolors": "white", "s": (9 * marker_pt) ** 2},
        "death": {"marker": "s", "color": "black", "s": (5 * marker_pt) ** 2},
    }
    for kind, points in marks.items():
        if points:
            xs, ys = np.array(points, dtype=float).T
            ax.scatter(xs, ys, linewidths=0.6, zorder=3, gid=kind, **styles[kind])
    longest = float(lengths.max(initial=0.0))
    arrow_months = 0.03 * longest + 0.25
    if ongoing:
        xs, ys = np.array(ongoing, dtype=float).T
        ax.quiver(xs, ys, np.full(len(xs), arrow_months), np.zeros(len(xs)), angles="xy", scale_units="xy",
                  scale=1.0, width=0.003, headwidth=4, headlength=4, headaxislength=3.5, zorder=3, gid="ongoing")
    ax.set_xlim(0, longest * 1.02 + arrow_months * 1.2)  # room for the arrows
    ax.set_ylim(max(n, 1) - 0.5, -0.5)  # first row on top
    ax.set_yticks(y, [r.subject for r in rows], fontsize=float(np.clip(0.6 * pitch_pt, 5.0, 7.0)))
    ax.set_xlabel("Months since randomisation")
    ax.set_ylabel("Subject")
    shown = {arm: sum(r.arm == arm for r in rows) for arm in colours}
    total = {arm: sum(r.arm == arm for r in all_rows) for arm in colours}
    handles = [Patch(color=c, alpha=SWIMMER_BAR_ALPHA, label=arm if shown[arm] == total[arm] else
                     f"{arm} ({shown[arm]:,} of {total[arm]:,})") for arm, c in colours.items()]
    handles += [
        Line2D([], [], linestyle="none", marker="^", color="white", markeredgecolor="black", label="first PR"),
        Line2D([], [], linestyle="none", marker="*", color="white", markeredgecolor="black", markersize=10,
               label="first CR"),
        Line2D([], [], linestyle="none", marker="X", color=PROGRESSION_COLOUR, markeredgecolor="white",
               markersize=8, label="progression"),
        Line2D([], [], linestyle="none", marker="s", color="black", label="death"),
        Line2D([], [], linestyle="none", marker=r"$\rightarrow$", color="black", markersize=10,
               label="ongoing (censored, alive)"),
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    note = swimmer_note(n, len(all_rows))
    if note:  # two lines that fit the axes width: "k of N subjects shown:" / the rule
        ax.set_title("Swimmer plot: " + note.replace(": ", ":\n", 1), fontsize=10)
    else:
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
