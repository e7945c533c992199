"""Trial figures render, with the expected labels, legend entries and numbers of bars and lines."""

from __future__ import annotations

import datetime as dt
import random
import sys

import pytest
from matplotlib.figure import Figure

from recist.endpoints.pfs import SubjectAssessments, Visit, VisitSchedule, pfs_outcomes
from recist.endpoints.subjects import Subject
from recist.export.plots import km_plot, spider_plot, swimmer_plot, waterfall_plot

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
    assert {-30.0, 20.0} <= {line.get_ydata()[0] for line in axes[0].lines}
    legend = _legend_texts(axes[-1])
    assert "-30% (PR)" in legend and "+20% (PD)" in legend
    assert set(legend) - {"-30% (PR)", "+20% (PD)"} <= {"CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"}
    # bar colour follows the best overall response
    colours = {p.get_facecolor()[:3] for p in axes[1].patches}
    assert len(colours) == len(set(legend) - {"-30% (PR)", "+20% (PD)"} & {
        reads[s.subject].best_overall_response for s in subjects if s.arm == "experimental" and s.subject in reads})


def test_waterfall_without_arms_is_one_panel(trial):
    _, reads, _ = trial
    fig = waterfall_plot(reads)
    assert len(fig.get_axes()) == 1 and len(fig.get_axes()[0].patches) == 24


def test_spider_has_one_line_per_subject(trial, tmp_path):
    subjects, reads, _ = trial
    fig = spider_plot(reads, subjects)
    _save(fig, tmp_path / "spider.png")
    (ax,) = fig.get_axes()
    subject_lines = [line for line in ax.lines if len(line.get_xdata()) > 1 and line.get_marker() == "o"]
    assert len(subject_lines) == 24
    assert all(line.get_xdata()[0] == 0 and line.get_ydata()[0] == 0 for line in subject_lines)
    assert ax.get_xlabel() == "Weeks since randomisation"
    assert ax.get_ylabel() == "Change in target sum from baseline (%)"
    assert _legend_texts(ax) == ["control", "experimental", "PD"]


def test_swimmer_has_one_bar_per_subject_and_markers(trial, tmp_path):
    subjects, reads, outcomes = trial
    fig = swimmer_plot(subjects, reads, outcomes)
    _save(fig, tmp_path / "swimmer.png")
    (ax,) = fig.get_axes()
    assert len(ax.patches) == len(subjects) == 25
    assert [t.get_text() for t in ax.get_yticklabels()].count("EXP-NR") == 1
    assert ax.get_xlabel() == "Weeks since randomisation"
    legend = _legend_texts(ax)
    assert legend[:2] == ["control", "experimental"]
    assert {"progression", "death", "ongoing (censored, alive)"} <= set(legend)
    progressed = sum(r.progression_date is not None for r in reads.values())
    assert sum(1 for line in ax.lines if line.get_marker() == "X") == progressed
    ongoing = sum(1 for o, s in zip(outcomes, subjects) if not o.event and s.death_date is None)
    assert len(ax.texts) == ongoing  # one arrow annotation per ongoing subject


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
