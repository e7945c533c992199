"""Trial figures render, with the expected labels, legend entries and numbers of bars and lines."""

from __future__ import annotations

import datetime as dt
import random
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from recist.endpoints.pfs import PfsOutcome, SubjectAssessments, Visit, VisitSchedule, pfs_outcomes
from recist.endpoints.subjects import Subject
from recist.export.plots import (
    SWIMMER_MAX_SUBJECTS,
    WATERFALL_BAR_LIMIT,
    SwimmerRow,
    km_plot,
    spider_alpha,
    spider_plot,
    swimmer_note,
    swimmer_plot,
    swimmer_selection,
    waterfall_missing,
    waterfall_plot,
)

RAND = dt.date(2024, 1, 1)


def synthetic_trial(n_per_arm: int = 12, seed: int = 7):
    """A small two-arm trial: subjects, final reads (every 8 weeks) and FDA PFS outcomes."""
    rng = random.Random(seed)
    subjects, reads = [], {}
    for arm, drift in (("control", 4.0), ("experimental", -6.0)):
        for i in range(n_per_arm):
            sid = f"{arm[:3].upper()}-{i:02d}"
            rand = RAND + dt.timedelta(days=rng.randrange(0, 90))
            change, visits, progression, nadir = 0.0, [], None, 0.0
            for k in range(1, rng.randrange(2, 9)):
                change += drift + rng.gauss(0, 8)
                nadir = min(nadir, change)
                response = ("PD" if change - nadir >= 20 or change >= 20 else
                            "PR" if change <= -30 else "SD")
                date = rand + dt.timedelta(days=56 * k + rng.randrange(-5, 6))
                visits.append(Visit(date, response, round(change, 1)))
                if response == "PD":
                    progression = date
                    break
            responses = [v.overall_response for v in visits]
            bor = "PR" if "PR" in responses else "SD" if "SD" in responses else "PD"
            death = visits[-1].date + dt.timedelta(days=30) if i % 5 == 0 else None
            subjects.append(Subject(sid, rand, arm, death, None, visits[-1].date + dt.timedelta(days=10)))
            reads[sid] = SubjectAssessments(sid, tuple(visits), progression, bor)
    subjects.append(Subject("EXP-NR", RAND, "experimental"))  # randomised, never assessed
    outcomes = pfs_outcomes(subjects, reads, schedule=VisitSchedule(56, 7))
    return subjects, reads, outcomes


@pytest.fixture(scope="module")
def trial():
    return synthetic_trial()


def _legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _save(fig: Figure, path) -> None:
    fig.savefig(path, dpi=80)
    assert path.stat().st_size > 5000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_waterfall_has_one_bar_per_measured_subject_per_arm(trial, tmp_path):
    subjects, reads, _ = trial
    fig = waterfall_plot(reads, arms={s.subject: s.arm for s in subjects})
    _save(fig, tmp_path / "waterfall.png")
    axes = fig.get_axes()
    assert len(axes) == 2
    assert [len(ax.patches) for ax in axes] == [12, 12]
    heights = [p.get_height() for p in axes[0].patches]
    assert heights == sorted(heights, reverse=True)
    assert axes[0].get_ylabel() == "Best change in target sum from baseline (%)"
    # only the PR line: PD is +20% from the nadir, which a change-from-baseline axis cannot show
    assert {line.get_ydata()[0] for line in axes[0].lines} == {-30.0, 0}
    legend = _legend_texts(axes[-1])
    lines = {"-30% from baseline (PR)", "PD is +20% from the\nnadir: no line here"}
    assert lines <= set(legend)
    assert set(legend) - lines <= {"CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"}
    # bar colour follows the best overall response
    colours = {p.get_facecolor()[:3] for p in axes[1].patches}
    assert len(colours) == len(set(legend) - lines & {
        reads[s.subject].best_overall_response for s in subjects if s.arm == "experimental" and s.subject in reads})


def test_waterfall_without_arms_is_one_panel(trial):
    _, reads, _ = trial
    fig = waterfall_plot(reads)
    assert len(fig.get_axes()) == 1 and len(fig.get_axes()[0].patches) == 24


def _by_gid(ax, gid):
    (artist,) = [a for a in ax.get_children() if a.get_gid() == gid]
    return artist


def test_spider_has_one_line_per_subject(trial, tmp_path):
    subjects, reads, _ = trial
    fig = spider_plot(reads, subjects)
    _save(fig, tmp_path / "spider.png")
    (ax,) = fig.get_axes()
    segments = _by_gid(ax, "subjects").get_segments()  # one LineCollection: a segment per subject
    assert len(segments) == 24 and not _by_gid(ax, "subjects").get_rasterized()  # vector below the limit
    assert all(seg[0][0] == 0 and seg[0][1] == 0 for seg in segments)
    visits = sum(1 for r in reads.values() for v in r.timepoints if v.change_from_baseline_pct is not None)
    assert sum(len(seg) for seg in segments) == 24 + visits
    assert len(_by_gid(ax, "visits").get_offsets()) == 24 + visits
    first_pd = sum(any(v.overall_response == "PD" for v in r.timepoints) for r in reads.values())
    assert len(_by_gid(ax, "progression").get_offsets()) == first_pd > 0
    assert {line.get_ydata()[0] for line in ax.lines} == {-30.0, 0}
    assert ax.get_xlabel() == "Months since randomisation"
    assert ax.get_ylabel() == "Change in target sum from baseline (%)"
    assert _legend_texts(ax) == ["control", "experimental", "PD", "-30% from baseline (PR)",
                                 "PD is +20% from the\nnadir: no line here"]


def test_swimmer_has_one_bar_per_subject_and_markers(trial, tmp_path):
    subjects, reads, outcomes = trial
    fig = swimmer_plot(subjects, reads, outcomes)
    _save(fig, tmp_path / "swimmer.png")
    (ax,) = fig.get_axes()
    assert len(ax.patches) == len(subjects) == 25
    assert [t.get_text() for t in ax.get_yticklabels()].count("EXP-NR") == 1
    assert ax.get_xlabel() == "Months since randomisation"
    legend = _legend_texts(ax)
    assert legend[:2] == ["control", "experimental"]
    assert {"progression", "death", "ongoing (censored, alive)"} <= set(legend)
    assert ax.get_title() == "Swimmer plot"  # every subject shown: no selection note
    progressed = sum(r.progression_date is not None for r in reads.values())
    assert len(_by_gid(ax, "progression").get_offsets()) == progressed
    assert len(_by_gid(ax, "death").get_offsets()) == sum(s.death_date is not None for s in subjects)
    ongoing = sum(1 for o, s in zip(outcomes, subjects) if not o.event and s.death_date is None)
    assert _by_gid(ax, "ongoing").N == ongoing  # one arrow per ongoing subject, in one quiver


def test_km_plot_curves_and_numbers_at_risk(trial, tmp_path):
    subjects, _, outcomes = trial
    fig = km_plot(outcomes)
    _save(fig, tmp_path / "km.png")
    ax, table = fig.get_axes()
    assert ax.get_ylabel() == "Progression-free survival probability"
    assert ax.get_xlabel() == "Months since randomisation"
    legend = _legend_texts(ax)
    assert len(legend) == 2 and legend[0].startswith("control (n=12") and legend[1].startswith("experimental (n=13")
    # numbers at risk at time 0 are the arm sizes
    at_zero = {t.get_text() for t in table.texts if t.get_position()[0] == 0}
    assert at_zero == {"12", "13"}
    assert {"control", "experimental"} <= {t.get_text() for t in table.texts}


def test_plots_leave_pyplot_alone(trial):
    subjects, reads, outcomes = trial
    before = sys.modules.get("matplotlib.pyplot")
    if before is not None:
        figures_before = before.get_fignums()
    waterfall_plot(reads)
    km_plot(outcomes)
    swimmer_plot(subjects, reads, outcomes)
    if before is None:
        assert "matplotlib.pyplot" not in sys.modules
    else:
        assert before.get_fignums() == figures_before


# ---- large trials: one artist per series, bounded figures, the swimmer selection stated ----------------


@pytest.fixture(scope="module")
def large_trial():
    return synthetic_trial(n_per_arm=2500, seed=11)  # 5,001 subjects


def test_large_waterfall_is_one_step_artist_per_bor_and_bounded(large_trial, tmp_path):
    subjects, reads, _ = large_trial
    fig = waterfall_plot(reads, arms={s.subject: s.arm for s in subjects})
    assert tuple(fig.get_size_inches()) == (9.0, 4.5)
    for ax, arm in zip(fig.get_axes(), ("control", "experimental")):
        members = [s.subject for s in subjects if s.arm == arm and s.subject in reads]
        expected = sorted((min(v.change_from_baseline_pct for v in reads[m].timepoints) for m in members),
                          reverse=True)
        assert len(expected) > WATERFALL_BAR_LIMIT
        steps = [p for p in ax.patches if (p.get_gid() or "").startswith("waterfall ")]
        assert len(ax.patches) == len(steps) <= 6  # no per-subject rectangles
        values = [p.get_data().values for p in steps]
        assert all(len(v) == len(expected) for v in values)  # one step of width 1 per subject
        np.testing.assert_allclose(np.sum(values, axis=0), expected)  # each subject in exactly one category
        assert ax.get_title() == f"{arm}: {len(expected):,} shown of {len(members):,}"
        assert {line.get_ydata()[0] for line in ax.lines} == {-30.0, 0}
    fig.savefig(tmp_path / "waterfall.png", dpi=60)


def test_large_spider_is_one_line_collection(large_trial):
    subjects, reads, _ = large_trial
    fig = spider_plot(reads, subjects)
    (ax,) = fig.get_axes()
    assert tuple(fig.get_size_inches()) == (7.5, 4.8)
    lines = _by_gid(ax, "subjects")
    assert len(lines.get_segments()) == len(reads) == 5000
    assert lines.get_alpha() == spider_alpha(5000) < 0.15
    # dense layers are pixels in SVG/PDF (5,000 vector lines: 5 MB); axes, text and PD crosses stay vector
    assert lines.get_rasterized() and _by_gid(ax, "visits").get_rasterized()
    assert not _by_gid(ax, "progression").get_rasterized()
    assert len(ax.lines) == 2 and len(ax.collections) == 3  # -30% and 0 lines; segments, visits, PD crosses
    assert ax.get_title() == "Spider plot (5,000 subjects)"
    # arms alternate in drawing order, so neither arm covers the other
    colours = [tuple(c) for c in lines.get_colors()[:4]]
    assert colours[0] == colours[2] != colours[1] == colours[3]


def test_spider_alpha_falls_with_the_number_of_lines():
    assert spider_alpha(10) == spider_alpha(50) == 0.85
    assert spider_alpha(100) > spider_alpha(1000) > spider_alpha(10_000) >= 0.06


def test_large_swimmer_shows_a_stated_selection_in_a_bounded_figure(large_trial, tmp_path):
    subjects, reads, outcomes = large_trial
    fig = swimmer_plot(subjects, reads, outcomes)
    (ax,) = fig.get_axes()
    width, height = fig.get_size_inches()
    assert width == 8.0 and height <= 15.8
    assert len(ax.patches) == SWIMMER_MAX_SUBJECTS == len(ax.get_yticklabels())
    title = ax.get_title()
    assert title.startswith("Swimmer plot: 100 of 5,001 subjects shown:")
    assert "responders (CR/PR) first, then the longest time on study" in title.replace("\n", " ")
    legend = _legend_texts(ax)
    assert legend[:2] == ["control (50 of 2,500)", "experimental (50 of 2,501)"]
    shown = [t.get_text() for t in ax.get_yticklabels()]
    # responders come first within an arm: the experimental arm has more than 50, so all shown respond
    responders = {k for k, r in reads.items() if r.best_overall_response in ("CR", "PR")}
    assert sum(k.startswith("EXP") and k in responders for k in reads) > 50
    assert all(k in responders for k in shown if k.startswith("EXP"))
    fig.savefig(tmp_path / "swimmer.png", dpi=60)


def _rows(arm, n, responders=0):
    return [SwimmerRow(f"{arm}-{i:03d}", arm, float(i), i < responders) for i in range(n)]


def test_swimmer_selection_rule():
    rows = _rows("a", 10) + _rows("b", 300, responders=5) + _rows("c", 300)
    chosen = swimmer_selection(rows, 100)
    by_arm = {arm: [r for r in chosen if r.arm == arm] for arm in "abc"}
    # a small arm is shown whole and its unused share goes to the others (45 each)
    assert [len(by_arm[arm]) for arm in "abc"] == [10, 45, 45]
    # responders first, then the longest on study; displayed longest first within an arm
    assert {r.subject for r in by_arm["b"]} == {f"b-{i:03d}" for i in [*range(5), *range(299, 259, -1)]}
    assert [r.subject for r in by_arm["c"]] == [f"c-{i:03d}" for i in range(299, 254, -1)]
    assert [r.arm for r in chosen] == sorted(r.arm for r in chosen)
    assert swimmer_selection(rows, 1000) == sorted(rows, key=lambda r: (r.arm, -r.months_on_study, r.subject))
    assert swimmer_selection(rows[:3], 3) == sorted(rows[:3], key=lambda r: -r.months_on_study)


def test_swimmer_note():
    assert swimmer_note(25, 25) == ""
    assert swimmer_note(100, 10_000).startswith("100 of 10,000 subjects shown: an equal share per arm")


def test_swimmer_selection_refuses_a_zero_limit():
    with pytest.raises(ValueError, match="at least 1"):
        swimmer_selection(_rows("a", 3), 0)


def test_empty_trial_renders_empty_figures(tmp_path):
    figures = {"waterfall": waterfall_plot({}), "spider": spider_plot({}, []), "swimmer": swimmer_plot([], {}, [])}
    for name, fig in figures.items():
        fig.savefig(tmp_path / f"{name}.png", dpi=40)
    assert figures["waterfall"].get_axes()[0].get_title() == "0 shown of 0"
    assert len(figures["swimmer"].get_axes()[0].patches) == 0


def test_waterfall_missing_names_each_subject_without_a_bar_and_why():
    d = dt.date(2024, 3, 1)
    reads = {
        "S1": SubjectAssessments("S1", timepoints=[Visit(d, "PR", -40.0)]),
        "S2": SubjectAssessments("S2"),
        "S3": SubjectAssessments("S3", timepoints=[Visit(d, "NE", None)]),
        "S4": SubjectAssessments("S4", timepoints=[Visit(d, "NON-CR/NON-PD", None)]),
    }
    assert waterfall_missing(reads) == {
        "S2": "no follow-up read", "S3": "every follow-up not evaluable (NE)",
        "S4": "no target lesions (non-target disease only)"}


def _relative_luminance(rgb) -> float:
    def channel(x: float) -> float:
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(x) for x in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:
    """WCAG 2.1 contrast ratio (relative luminance, (L1 + 0.05) / (L2 + 0.05))."""
    low, high = sorted((_relative_luminance(a), _relative_luminance(b)))
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("n_subjects", [100, 1000])
def test_swimmer_is_readable_at_100_and_1000_subjects(n_subjects):
    """Labels of at least 6 points on rows at least 1.2 label heights apart (no overlap), and progression markers with 3:1 contrast
    (WCAG 2.1 SC 1.4.11, non-text contrast) against every arm's bar as drawn (its tint over white)."""
    rand = dt.date(2024, 1, 1)
    subjects = [Subject(f"S{i:04d}", rand, ("control", "experimental", "third")[i % 3]) for i in range(n_subjects)]
    reads = {s.subject: SubjectAssessments(s.subject, timepoints=[Visit(rand + dt.timedelta(days=60 + i % 300), "PD",
                                                                        25.0)],
                                           progression_date=rand + dt.timedelta(days=60 + i % 300),
                                           best_overall_response="PD") for i, s in enumerate(subjects)}
    outcomes = [PfsOutcome(s.subject, s.arm, rand, True, reads[s.subject].progression_date, "progression")
                for s in subjects]
    fig = swimmer_plot(subjects, reads, outcomes)
    (ax,) = fig.get_axes()
    assert len(ax.get_yticklabels()) == 100
    fig.draw_without_rendering()  # constrained layout places the axes
    label_pt = min(t.get_fontsize() for t in ax.get_yticklabels())
    rows_pt = 72 * ax.get_position().height * fig.get_size_inches()[1] / 100
    assert label_pt >= 6.0 and rows_pt >= 1.2 * label_pt
    marker = _by_gid(ax, "progression").get_facecolor()[0][:3]
    for bar in ax.patches:
        rgb, alpha = np.array(bar.get_facecolor()[:3]), bar.get_facecolor()[3]
        drawn = alpha * rgb + (1 - alpha) * np.ones(3)
        assert _contrast(marker, drawn) >= 3.0
