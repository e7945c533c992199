"""Subjects of a review project: their timepoints, the manifest CSV that lists them, and their reads in
the sponsor's calendar.

A subject record (``subjects/<pseudonym>/subject.json``) holds the subject id, the pseudonym, the date
shift and the timepoints (label, true date, DICOM folders). :func:`read_manifest` reads the CSV an
administrator adds subjects from; :func:`calendar_case` turns a central read (pseudonym, shifted dates,
package labels) back into the sponsor's terms.
"""

from __future__ import annotations

import copy
import csv
import datetime as _dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recist.errors import RecistValidationError

__all__ = ["ManifestRow", "SubjectTimepoint", "calendar_case", "load_manifest", "load_manifest_rows", "read_manifest"]


@dataclass(frozen=True)
class SubjectTimepoint:
    """One imaging timepoint of a subject: its label, its (true) scan date and its DICOM folders."""

    label: str
    date: _dt.date
    folders: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "date": self.date.isoformat(), "folders": list(self.folders)}



def calendar_case(case: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """A central read as the sponsor's data: subject id, true calendar dates and the recorded labels.

    Readers write on the pseudonym, shifted dates and package labels; ``record`` is the subject record
    (``subject.json``: ``subject``, ``date_shift_days``, ``timepoints``). The read was checked to list the
    subject's timepoints in order, so labels are restored by position; days since baseline are unchanged.
    """
    data = copy.deepcopy(dict(case))
    data["subject"] = record["subject"]
    shift = _dt.timedelta(days=int(record["date_shift_days"]))
    recorded = list(record.get("timepoints") or [])
    for number, tp in enumerate(data.get("timepoints") or []):
        if tp.get("date"):
            tp["date"] = (_dt.date.fromisoformat(str(tp["date"])) - shift).isoformat()
        if number < len(recorded) and recorded[number].get("label"):
            tp["label"] = recorded[number]["label"]
    return data



def load_manifest(path: str | Path) -> dict[str, list[SubjectTimepoint]]:
    """Read a manifest CSV of subjects and series (see :func:`read_manifest`)."""
    return read_manifest(path)[0]


def load_manifest_rows(path: str | Path) -> tuple[dict[str, list[SubjectTimepoint]], dict[str, int]]:
    """:func:`read_manifest`, with per subject the line where it first appears (instead of every row)."""
    subjects, rows = read_manifest(path)
    first: dict[str, int] = {}
    for row in rows:
        first.setdefault(row.subject, row.line)
    return subjects, first


@dataclass(frozen=True)
class ManifestRow:
    """One row of a manifest CSV: its line in the file (the header is line 1) and its values."""

    line: int
    subject: str
    timepoint: str
    date: _dt.date
    folder: str


def read_manifest(path: str | Path) -> tuple[dict[str, list[SubjectTimepoint]], list[ManifestRow]]:
    """Read a manifest CSV of subjects and series: columns ``subject,timepoint,date,folder``.

    One row per DICOM folder; several rows with the same subject and timepoint add several series.
    Timepoints are ordered by date (the earliest is the baseline). Folders are made absolute relative
    to the manifest's folder.

    Returns the subjects and every row with its line number (the line where the row ends, as
    :attr:`csv.DictReader.line_num` counts; a quoted value spanning lines makes rows span lines).

    Raises
    ------
    RecistValidationError
        Naming the file, line and column of a missing column, empty value or bad date.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecistValidationError(f"cannot read the manifest: {exc}", source=str(path)) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    required = ("subject", "timepoint", "date", "folder")
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise RecistValidationError(f"line 1: not a CSV header ({exc})", source=str(path)) from None
    missing = [c for c in required if c not in fieldnames]
    if missing:
        raise RecistValidationError(
            f"missing column(s) {', '.join(missing)}; the header must be {','.join(required)}", source=str(path)
        )
    found: dict[str, dict[str, tuple[_dt.date, list[str]]]] = {}
    rows: list[ManifestRow] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise RecistValidationError(f"line {reader.line_num}: not valid CSV ({exc})", source=str(path)) from None
        line = reader.line_num
        values = {c: (row.get(c) or "").strip() for c in required}
        for column, value in values.items():
            if not value:
                raise RecistValidationError(f"line {line}: empty {column!r}", source=str(path), field=column)
        try:
            date = _dt.date.fromisoformat(values["date"])
        except ValueError:
            raise RecistValidationError(
                f"line {line}: date {values['date']!r} is not an ISO date (YYYY-MM-DD)", source=str(path), field="date"
            ) from None
        folder = Path(values["folder"])
        folder = folder if folder.is_absolute() else (path.parent / folder)
        tps = found.setdefault(values["subject"], {})
        if values["timepoint"] in tps and tps[values["timepoint"]][0] != date:
            raise RecistValidationError(
                f"line {line}: timepoint {values['timepoint']!r} of {values['subject']!r} has two dates",
                source=str(path), field="date",
            )
        tps.setdefault(values["timepoint"], (date, []))[1].append(str(folder))
        rows.append(ManifestRow(line, values["subject"], values["timepoint"], date, str(folder)))
    return {
        subject: [SubjectTimepoint(label, date, tuple(folders)) for label, (date, folders) in
                  sorted(tps.items(), key=lambda item: item[1][0])]
        for subject, tps in found.items()
    }, rows
