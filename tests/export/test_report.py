"""The HTML report and CSV tables: self-contained, escaped, with headline, methods and agreement."""

from __future__ import annotations

import csv
import datetime as dt
from html.parser import HTMLParser

from recist.endpoints.pfs import EMA_2012, FDA_2018, VisitSchedule, pfs_outcomes
from recist.endpoints.subjects import Subject
from recist.endpoints.summary import summarise
from recist.export.report import ReportInputs, headline, render_html, write_report

from .test_plots import synthetic_trial

GENERATED = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
SCHEDULE = VisitSchedule(56, 7)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Collector:
    parser = _Collector()
    parser.feed(page)
    return parser


def _inputs():
    subjects, reads, outcomes = synthetic_trial()
    return subjects, reads, outcomes, summarise(subjects, reads, outcomes)


def test_write_report_files_and_csv_tables(tmp_path):
    subjects, reads, outcomes, summary = _inputs()
    files = write_report(tmp_path / "out", ReportInputs(
        subjects, reads, outcomes, summary, FDA_2018, SCHEDULE, GENERATED, "9.9.9",
        agreement={"BOR kappa": 0.6123, "progression date": {"agreement": 0.8, "n": 20}}))
    page = files.html.read_text(encoding="utf-8")
    parsed = _parse(page)
    images = [attrs for tag, attrs in parsed.tags if tag == "img"]
    assert len(images) == 4 and all(a["src"].startswith("data:image/png;base64,") for a in images)
    assert not [a for tag, a in parsed.tags if tag in ("link", "script")]  # self-contained
    text = " ".join(parsed.text)
    assert "recist 9.9.9" in text and "2025-01-02T03:04:05+00:00" in text
    assert "FDA 2018" in text and "Clinical Trial Endpoints" in text
    assert "every 56 days" in text and "+/-7 days" in text
    assert "Reader agreement" in text and "0.612" in text and "progression date / agreement" in text
    for line in headline(summary):
        assert line in text
    assert page.index("Headline figures") < page.index("Methods")

    with files.pfs_csv.open(newline="", encoding="utf-8") as handle:
        pfs = list(csv.DictReader(handle))
    assert [r["subject"] for r in pfs] == [s.subject for s in subjects]
    assert {r["event"] for r in pfs} <= {"0", "1"}
    assert [int(r["pfs_days"]) for r in pfs] == [o.days for o in outcomes]
    with files.summary_csv.open(newline="", encoding="utf-8") as handle:
        arms = list(csv.DictReader(handle))
    assert [a["arm"] for a in arms] == ["control", "experimental"]
    assert arms[0]["hazard_ratio"] == "" and float(arms[1]["hazard_ratio"]) > 0
    assert arms[1]["control_arm"] == "control"
    assert int(arms[1]["n"]) == 13
    with files.bor_csv.open(newline="", encoding="utf-8") as handle:
        bor = list(csv.DictReader(handle))
    assert len(bor) == 12
    assert sum(int(r["n"]) for r in bor if r["arm"] == "experimental") == 13


def test_values_are_escaped_and_rules_named():
    subjects = [Subject("<b>S1</b>", dt.date(2024, 1, 1), "arm & co")]
    outcomes = pfs_outcomes(subjects, {}, schedule=SCHEDULE, rules=EMA_2012)
    inputs = ReportInputs(subjects, {}, outcomes, summarise(subjects, {}, outcomes), EMA_2012, SCHEDULE, GENERATED,
                          "1", title="<script>x</script>")
    page = render_html(inputs, include_figures=False)
    assert "<b>S1</b>" not in page and "&lt;b&gt;S1&lt;/b&gt;" in page
    assert "<script>" not in page and "arm &amp; co" in page
    assert "EMA 2012" in page and "One arm only" in page
    assert "Reader agreement" not in page


def test_larger_trial_states_the_swimmer_selection_and_caps_the_listing():
    subjects, reads, outcomes = synthetic_trial(n_per_arm=60, seed=3)  # 121 subjects: more than the swimmer shows
    inputs = ReportInputs(subjects, reads, outcomes, summarise(subjects, reads, outcomes), FDA_2018, SCHEDULE,
                          GENERATED, "1")
    parsed = _parse(render_html(inputs, listing_max_rows=50))
    images = [attrs for tag, attrs in parsed.tags if tag == "img"]
    assert len(images) == 4
    swimmer = images[3]["alt"]
    assert swimmer.startswith("Time on study") and "(100 of 121 subjects shown: an equal share per arm" in swimmer
    text = " ".join(parsed.text)
    assert "The first 50 of 121 subjects (subjects-table order); pfs_subjects.csv lists every subject." in text
    listing_rows = [t for t in parsed.text if t in {s.subject for s in subjects}]
    assert listing_rows == [s.subject for s in subjects[:50]]


def test_small_trial_lists_every_subject_without_a_note():
    subjects, reads, outcomes, summary = _inputs()
    parsed = _parse(render_html(ReportInputs(subjects, reads, outcomes, summary, FDA_2018, SCHEDULE, GENERATED, "1"),
                                include_figures=False))
    assert [t for t in parsed.text if t in {s.subject for s in subjects}] == [s.subject for s in subjects]
    assert "lists every subject" not in " ".join(parsed.text)
