"""An ADaM-like time-to-event dataset (ADTTE) of PFS, as CSV and as SAS transport (XPT) files.

One record per subject and parameter (PARAMCD ``PFS``), in the CDISC ADaM Basic Data Structure for
time-to-event analyses (CDISC, *ADaM Structure for Occurrence Data* / *ADaM Basic Data Structure for
Time-to-Event Analyses* v1.0, 2012): AVAL is the time from STARTDT to ADT, CNSR is 0 for an event and a
positive integer for a censoring (its reason in EVNTDESC and CNSDTDSC). With it a statistician can
reproduce the Kaplan-Meier curves and the Cox model in their own software (``AVAL``, ``1 - CNSR``,
``TRTP`` and the stratification factors).

Variables: STUDYID, USUBJID, SUBJID, TRTP, TRTPN (1 = control, then the arms in order), PARAMCD, PARAM,
AVAL (days, randomisation = day 1, as CDISC study days), AVALU, CNSR, EVNTDESC, CNSDTDSC (censored
records only), ADT, STARTDT (randomisation), DCUTDT (data cut-off, when set), AMONTHS (AVAL in months, days / 30.4375, for KM curves in months), and one ``STRATn``/``STRATnV``
pair per stratification factor (name, value).

Choices: the censoring codes follow :class:`recist.endpoints.pfs.CensoringReason` in declaration order
(1 = no baseline tumour assessment ... 6 = event after two or more missed visits), so that the code is
the same in every analysis. The XPT is version 5 (the FDA's required transport format; 8-character
names, 40-character labels, 200-byte character values), written with pyreadstat; dates are SAS dates
with the ``DATE9.`` format.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recist._atomic import atomic_write_bytes, atomic_write_text
from recist.endpoints.pfs import DAYS_PER_MONTH, CensoringReason, PfsOutcome
from recist.endpoints.subjects import Subject

__all__ = ["ADTTE_LABELS", "CENSORING_CODES", "adtte_rows", "adtte_csv", "write_adtte"]

CENSORING_CODES: dict[CensoringReason, int] = {reason: i for i, reason in enumerate(CensoringReason, start=1)}
"""CNSR value of each censoring reason (0 is an event)."""

ADTTE_LABELS: dict[str, str] = {
    "STUDYID": "Study Identifier",
    "USUBJID": "Unique Subject Identifier",
    "SUBJID": "Subject Identifier for the Study",
    "TRTP": "Planned Treatment",
    "TRTPN": "Planned Treatment (N)",
    "PARAMCD": "Parameter Code",
    "PARAM": "Parameter",
    "AVAL": "Analysis Value",
    "AVALU": "Analysis Value Unit",
    "AMONTHS": "Analysis Value in Months",
    "CNSR": "Censor",
    "EVNTDESC": "Event or Censoring Description",
    "CNSDTDSC": "Censor Date Description",
    "ADT": "Analysis Date",
    "STARTDT": "Time-to-Event Origin Date for Subject",
    "DCUTDT": "Data Cutoff Date",
}
"""Variable labels (at most 40 characters, for the XPT)."""

_EVENTS = {"progression": "DISEASE PROGRESSION (RECIST 1.1)", "death": "DEATH"}


def _censor_date_description(outcome: PfsOutcome) -> str:
    if outcome.event:
        return ""
    if outcome.date == outcome.randomisation_date:
        return "RANDOMIZATION DATE"
    return "DATE OF LAST ADEQUATE TUMOR ASSESSMENT"


def adtte_rows(
    outcomes: Sequence[PfsOutcome],
    subjects: Sequence[Subject],
    *,
    study_id: str,
    arms: Sequence[str],
    cutoff: dt.date | None = None,
) -> list[dict[str, Any]]:
    """One ADTTE record (PARAMCD PFS) per outcome; dates as :class:`datetime.date`.

    Examples
    --------
    >>> d = dt.date(2024, 1, 1)
    >>> o = PfsOutcome("S1", "A", d, True, d + dt.timedelta(days=9), "death")
    >>> row = adtte_rows([o], [Subject("S1", d, "A")], study_id="T1", arms=["A"])[0]
    >>> row["USUBJID"], row["AVAL"], row["CNSR"], row["EVNTDESC"]
    ('T1-S1', 10, 0, 'DEATH')
    """
    strata = {s.subject: s.strata for s in subjects}
    rows = []
    for o in outcomes:
        row: dict[str, Any] = {
            "STUDYID": study_id, "USUBJID": f"{study_id}-{o.subject}", "SUBJID": o.subject,
            "TRTP": o.arm, "TRTPN": list(arms).index(o.arm) + 1 if o.arm in arms else None,
            "PARAMCD": "PFS", "PARAM": "Progression-Free Survival (days)",
            "AVAL": o.days, "AVALU": "DAYS", "AMONTHS": round(o.days / DAYS_PER_MONTH, 4),
            "CNSR": 0 if o.event else CENSORING_CODES[o.censoring_reason] if o.censoring_reason else 99,
            "EVNTDESC": _EVENTS.get(o.event_type or "", o.event_type or "").upper() if o.event
            else (o.censoring_reason.value.upper() if o.censoring_reason else "CENSORED"),
            "CNSDTDSC": _censor_date_description(o),
            "ADT": o.date, "STARTDT": o.randomisation_date,
        }
        if cutoff is not None:
            row["DCUTDT"] = cutoff
        for i, (factor, level) in enumerate(strata.get(o.subject, ()), start=1):
            row[f"STRAT{i}"] = factor
            row[f"STRAT{i}V"] = level
        rows.append(row)
    return rows


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    return columns or list(ADTTE_LABELS)


def adtte_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The dataset as CSV text (ISO dates, empty cells for missing values)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_columns(rows), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()})
    return buffer.getvalue()


_XPT_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
_XPT_OBS = b"HEADER RECORD*******OBS     HEADER RECORD"


def stamp_xport(raw: bytes, created: dt.datetime) -> bytes:
    """``raw`` (an XPORT v5 file) with every created/modified time of its headers set to ``created``.

    The library that writes the file stamps the wall clock (``ddMMMyy:hh:mm:ss``) into the library and
    member headers; a report written twice from the same input must be the same bytes. Only the
    headers before the observations are touched.
    """
    end = raw.find(_XPT_OBS)
    end = len(raw) if end < 0 else end
    text = f"{created.day:02d}{created.strftime('%b').upper()}{created.year % 100:02d}:{created:%H:%M:%S}".encode()
    return _XPT_STAMP.sub(text, raw[:end]) + raw[end:]


def write_adtte(rows: Sequence[Mapping[str, Any]], out_dir: str | os.PathLike[str], *,
                created: dt.datetime | None = None) -> tuple[Path, Path]:
    """Write ``adtte.csv`` and ``adtte.xpt`` (SAS transport v5, pyreadstat) to ``out_dir``, atomically.

    ``created`` is the time stamped in the XPORT headers (default: the time of writing).
    """
    import tempfile

    import pandas as pd
    import pyreadstat

    out = Path(out_dir)
    csv_path, xpt_path = out / "adtte.csv", out / "adtte.xpt"
    atomic_write_text(csv_path, adtte_csv(rows))
    columns = _columns(rows)
    frame = pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)
    for column in columns:
        if column in ("ADT", "STARTDT", "DCUTDT"):
            continue  # datetime.date objects: pyreadstat writes SAS dates (days since 1960-01-01)
        if frame[column].dtype == object:
            frame[column] = frame[column].fillna("").astype(str)
    labels = [ADTTE_LABELS.get(c, f"Stratification factor {c[5:]}" if c.startswith("STRAT") else c)[:40]
              for c in columns]
    formats = {c: "DATE9." for c in ("ADT", "STARTDT", "DCUTDT") if c in columns}
    with tempfile.TemporaryDirectory() as scratch:
        temp = Path(scratch) / "adtte.xpt"
        pyreadstat.write_xport(frame, str(temp), file_label="PFS time-to-event (ADaM-like ADTTE)",
                               column_labels=labels, table_name="ADTTE", file_format_version=5,
                               variable_format=formats)
        raw = temp.read_bytes()
        atomic_write_bytes(xpt_path, raw if created is None else stamp_xport(raw, created))
    return csv_path, xpt_path
