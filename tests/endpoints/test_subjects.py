"""The subjects CSV loader: clear errors naming file, row and column; property tests on round trips."""

from __future__ import annotations

import datetime as dt
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recist.endpoints.subjects import Subject, parse_subjects, read_subjects
from recist.errors import RecistValidationError

HEADER = "subject,randomisation_date,arm,death_date,new_therapy_date"


def test_reads_required_and_optional_columns(tmp_path):
    path = tmp_path / "subjects.csv"
    path.write_text(
        "\ufeff" + HEADER + ",last_contact_date,discontinuation_date,discontinuation_reason\n"
        "S1,2024-01-02,control,2024-06-01,,2024-05-30,2024-03-01,toxicity\n"
        "S2,2024-01-05,experimental,,2024-04-01,,,\n"
        "\n",
        encoding="utf-8",
    )
    s1, s2 = read_subjects(path)
    assert s1 == Subject("S1", dt.date(2024, 1, 2), "control", dt.date(2024, 6, 1), None,
                         dt.date(2024, 5, 30), dt.date(2024, 3, 1), "toxicity")
    assert s2.new_therapy_date == dt.date(2024, 4, 1)
    assert s2.death_date is None and s2.discontinuation_reason is None


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("subject,randomisation_date,arm,death_date\nS1,2024-01-02,A,\n", ["row 1", "new_therapy_date"]),
        (HEADER + "\nS1,2024-13-02,A,,\n", ["row 2", "'randomisation_date'", "YYYY-MM-DD"]),
        (HEADER + "\nS1,2024-01-02,A,02/03/2024,\n", ["row 2", "'death_date'"]),
        (HEADER + "\nS1,2024-01-02,A,,\nS1,2024-01-03,B,,\n", ["row 3", "duplicate subject 'S1'", "row 2"]),
        (HEADER + "\nS1,2024-01-02,A,2023-12-31,\n", ["row 2", "'death_date'", "before the randomisation"]),
        (HEADER + "\nS1,,A,,\n", ["row 2", "'randomisation_date'", "empty"]),
        (HEADER + "\n,2024-01-02,A,,\n", ["row 2", "'subject'"]),
        (HEADER + "\nS1,2024-01-02,,,\n", ["row 2", "'arm'"]),
        (HEADER + "\nS1,2024-01-02,A,\n", ["row 2", "4 values", "5 columns"]),
        (HEADER + ",deathdate\nS1,2024-01-02,A,,,\n", ["row 1", "'deathdate'", "unknown column"]),
        ("", ["empty file"]),
    ],
)
def test_errors_name_file_row_and_column(tmp_path, text, fragments):
    path = tmp_path / "subjects.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RecistValidationError) as info:
        read_subjects(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(RecistValidationError, match="cannot read"):
        read_subjects(tmp_path / "absent.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\nS\xe9,2024-01-02,A,,\n").encode("latin-1"))
    with pytest.raises(RecistValidationError, match="UTF-8"):
        read_subjects(path)


_ids = st.text(alphabet=string.ascii_letters + string.digits + "-_ é", min_size=1, max_size=12).map(str.strip).filter(
    bool)
_dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 1, 1))


@st.composite
def _subjects(draw):
    ids = draw(st.lists(_ids, min_size=1, max_size=8, unique=True))
    out = []
    for subject_id in ids:
        rand = draw(_dates)
        later = st.none() | st.integers(0, 2000).map(lambda d, r=rand: r + dt.timedelta(days=d))
        out.append(Subject(subject_id, rand, draw(_ids), draw(later), draw(later), draw(later)))
    return out


@settings(max_examples=60, deadline=None)
@given(_subjects())
def test_round_trip_of_generated_tables(subjects):
    lines = [HEADER + ",last_contact_date\n"]
    for s in subjects:
        cells = [s.subject, s.randomisation_date.isoformat(), s.arm]
        cells += [d.isoformat() if d else "" for d in (s.death_date, s.new_therapy_date, s.last_contact_date)]
        lines.append(",".join(f'"{c}"' for c in cells) + "\n")
    assert parse_subjects(lines, source="generated.csv") == subjects


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_gives_a_table_or_a_validation_error(text):
    try:
        result = parse_subjects((HEADER + "\n" + text).splitlines(keepends=True), source="fuzz.csv")
    except RecistValidationError as exc:
        assert "fuzz.csv" in str(exc)
    else:
        assert all(isinstance(s, Subject) for s in result)
        assert len({s.subject for s in result}) == len(result)
