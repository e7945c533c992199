"""The subjects table of a trial: randomisation, arm, death, new therapy (a CSV from the sponsor's EDC).

The file is the outside input of the endpoint calculations that the reads cannot give: who was
randomised when and to which arm, and the clinical dates that end or censor progression-free survival.

Columns (header row required, names case-sensitive, order free):

==========================  ========  ==========================================================
column                      required  content
==========================  ========  ==========================================================
``subject``                 yes       subject id, as in the case files; unique
``randomisation_date``      yes       ISO date ``YYYY-MM-DD``
``arm``                     yes       arm label (free text, e.g. ``control``, ``experimental``)
``death_date``              yes       ISO date, empty if alive at data cut-off
``new_therapy_date``        yes       start of a new anticancer therapy, empty if none
``last_contact_date``       no        ISO date of last known alive, empty if unknown
``discontinuation_date``    no        end of study treatment, empty if still on treatment
``discontinuation_reason``  no        free text (``toxicity``, ``clinical progression``, ...)
==========================  ========  ==========================================================

Unknown columns are rejected (a misspelt ``deathdate`` must not silently lose every death), except the
stratification factors named by the caller (``strata_columns``, CLI ``--strata``): their values are kept
per subject for the stratified log-rank test and Cox model, and must not be empty.
Every error names the file, the row (1-based, the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from recist.errors import RecistValidationError

__all__ = ["Subject", "read_subjects", "parse_subjects", "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS"]

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS: tuple[str, ...] = ("subject", "randomisation_date", "arm", "death_date", "new_therapy_date")
OPTIONAL_COLUMNS: tuple[str, ...] = ("last_contact_date", "discontinuation_date", "discontinuation_reason")
_DATE_COLUMNS = ("randomisation_date", "death_date", "new_therapy_date", "last_contact_date", "discontinuation_date")


@dataclass(frozen=True)
class Subject:
    """One randomised subject: the clinical data PFS needs beside the tumour reads.

    Attributes
    ----------
    subject
        Subject id (matches ``Case.subject``).
    randomisation_date
        Date of randomisation: time zero of PFS.
    arm
        Arm label.
    death_date, new_therapy_date, last_contact_date, discontinuation_date
        Dates or ``None`` when not applicable / unknown.
    discontinuation_reason
        Free text or ``None``.
    strata
        ``(factor, level)`` pairs of the stratification factors, in the order asked for.
    """

    subject: str
    randomisation_date: dt.date
    arm: str
    death_date: dt.date | None = None
    new_therapy_date: dt.date | None = None
    last_contact_date: dt.date | None = None
    discontinuation_date: dt.date | None = None
    discontinuation_reason: str | None = None
    strata: tuple[tuple[str, str], ...] = ()


def _error(source: str, row: int, column: str | None, message: str) -> RecistValidationError:
    field = f"row {row}" + (f", column {column!r}" if column else "")
    return RecistValidationError(message, source=source, field=field)


def _parse_date(text: str, *, source: str, row: int, column: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _error(
            source, row, column, f"{text!r} is not an ISO date; write it as YYYY-MM-DD (e.g. 2024-03-06)"
        ) from None


def parse_subjects(
    lines: Iterable[str], *, source: str = "<subjects>", strata_columns: Sequence[str] = ()
) -> list[Subject]:
    """Parse the subjects table from CSV text lines.

    Parameters
    ----------
    lines
        The CSV text (e.g. an open file, or ``text.splitlines(keepends=True)``).
    source
        Name of the origin, used in error messages.
    strata_columns
        Columns holding stratification factors (required when given, values must not be empty).

    Returns
    -------
    list[Subject]
        In file order.

    Raises
    ------
    RecistValidationError
        Missing or unknown column, empty subject or arm, unparseable date, a date before
        randomisation, duplicate subject. The message names ``source``, the row and the column.

    Examples
    --------
    >>> text = "subject,randomisation_date,arm,death_date,new_therapy_date\\nS1,2024-01-02,A,,\\n"
    >>> parse_subjects(text.splitlines(keepends=True))[0].randomisation_date
    datetime.date(2024, 1, 2)
    """
    try:
        reader = csv.reader(lines, strict=True)
        rows = list(reader)
    except csv.Error as exc:
        raise RecistValidationError(f"not a readable CSV file ({exc}); save it as comma-separated UTF-8",
                                    source=source) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise RecistValidationError(
            "empty file: the first row must be the header " + ",".join(REQUIRED_COLUMNS), source=source
        )
    header = [cell.strip() for cell in rows[0]]
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    allowed = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | set(strata_columns)
    for column in header:
        if column not in allowed:
            raise _error(source, 1, column, "unknown column; allowed columns are " + ", ".join(
                REQUIRED_COLUMNS + OPTIONAL_COLUMNS) + " and the stratification factors named by --strata")
    seen_columns: set[str] = set()
    for column in header:
        if column in seen_columns:
            raise _error(source, 1, column, "column appears twice in the header; keep one")
        seen_columns.add(column)
    missing = [column for column in (*REQUIRED_COLUMNS, *strata_columns) if column not in header]
    if missing:
        raise _error(source, 1, None, "missing column(s) " + ", ".join(missing)
                     + "; the header must name " + ", ".join(REQUIRED_COLUMNS) + " (values may be empty)")

    subjects: list[Subject] = []
    first_row: dict[str, int] = {}
    for index, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise _error(source, index, None,
                         f"has {len(cells)} values but the header has {len(header)} columns")
        record = {column: cell.strip() for column, cell in zip(header, cells)}
        subject_id = record["subject"]
        if not subject_id:
            raise _error(source, index, "subject", "empty subject id")
        if subject_id in first_row:
            raise _error(source, index, "subject",
                         f"duplicate subject {subject_id!r} (first on row {first_row[subject_id]}); "
                         "keep one row per subject")
        first_row[subject_id] = index
        if not record["arm"]:
            raise _error(source, index, "arm", f"empty arm for subject {subject_id!r}")
        dates = {
            column: _parse_date(record.get(column, ""), source=source, row=index, column=column)
            for column in _DATE_COLUMNS
        }
        randomised = dates["randomisation_date"]
        if randomised is None:
            raise _error(source, index, "randomisation_date", f"empty randomisation date for {subject_id!r}")
        for column in _DATE_COLUMNS[1:]:
            value = dates[column]
            if value is not None and value < randomised:
                raise _error(source, index, column,
                             f"{value.isoformat()} is before the randomisation date {randomised.isoformat()}")
        reason = record.get("discontinuation_reason", "") or None
        for column in strata_columns:
            if not record[column]:
                raise _error(source, index, column, f"empty stratification factor for subject {subject_id!r}")
        subjects.append(
            Subject(
                subject=subject_id,
                randomisation_date=randomised,
                arm=record["arm"],
                death_date=dates["death_date"],
                new_therapy_date=dates["new_therapy_date"],
                last_contact_date=dates["last_contact_date"],
                discontinuation_date=dates["discontinuation_date"],
                discontinuation_reason=reason,
                strata=tuple((column, record[column]) for column in strata_columns),
            )
        )
    logger.info("read %d subjects from %s", len(subjects), source)
    return subjects


def read_subjects(path: str | os.PathLike[str], *, strata_columns: Sequence[str] = ()) -> list[Subject]:
    """Read the subjects CSV at ``path`` (UTF-8, a byte-order mark is accepted); see :func:`parse_subjects`."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise RecistValidationError(f"cannot read the subjects file ({exc.strerror})", source=str(file)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecistValidationError(
            f"not UTF-8 text (byte {exc.start}); save the CSV as UTF-8", source=str(file)
        ) from None
    return parse_subjects(io.StringIO(text, newline=""), source=str(file), strata_columns=strata_columns)
