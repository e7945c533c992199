"""Checks that a read fits the subject it is for, and that a result's dates are possible.

Pure functions over plain dicts (a case in its JSON form, the timepoints a reader package shows); the
review project (:mod:`recist.review.workflow`) calls them when a read is saved, signed, amended or
imported, and when results are made. Each returns the first problem as a one-line message that names
the timepoint and says what the package (or the subject record) has, or ``None`` when all is well.

Why: readers see de-identified images whose dates are shifted and whose labels may be neutral
(``timepoint 2``). A read written on the true dates, on another subject's package, or with a wrong label
was signed without complaint, agreed with the other reader and, with its dates shifted back a second
time, produced a progression date years after the scan (issue #14). A read must therefore list exactly
the package's timepoints, in order (baseline first), with the package's labels and dates.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = [
    "ExpectedTimepoint",
    "read_mismatch",
    "large_diameters",
    "progression_date_problem",
]

ExpectedTimepoint = Mapping[str, str]
"""``{"label": ..., "date": "YYYY-MM-DD"}``: one timepoint as the package (or the subject record) shows it."""


def _describe(tp: Mapping[str, Any]) -> str:
    when = tp.get("date") if tp.get("date") else f"day {tp.get('day')}"
    return f"{tp.get('label')!r} on {when}"


def read_mismatch(case: Mapping[str, Any], expected: Sequence[ExpectedTimepoint], *, subject: str,
                  what: str = "the package") -> str | None:
    """The first way ``case`` differs from the subject's timepoints, or None when it fits.

    Parameters
    ----------
    case
        The read, as a case dict (``recist.case/1`` JSON form, already validated).
    expected
        The subject's timepoints in order (baseline first), as ``what`` shows them: label and ISO date.
    subject
        The subject the read must name (the pseudonym for a central read, the subject id for a site read).
    what
        How to name the source of ``expected`` in the message (``"the package"``, ``"the subject record"``).

    Returns
    -------
    str or None
        A message naming the timepoint and what ``what`` says, or None.

    Notes
    -----
    A timepoint given by ``day`` (days since baseline) instead of ``date`` is compared by day; one with
    both must match on both.
    """
    if case.get("subject") != subject:
        return (f"the read is for subject {case.get('subject')!r}, but this is {subject!r}: "
                f"a read names its subject as {what} does")
    got = list(case.get("timepoints") or [])
    base = _dt.date.fromisoformat(expected[0]["date"]) if expected else None
    for number, want in enumerate(expected):
        want_date = _dt.date.fromisoformat(want["date"])
        if number >= len(got):
            missing = ", ".join(_describe(tp) for tp in expected[number:])
            return (f"timepoint {want['label']!r}: the read stops after {len(got)} timepoint(s); {what} has "
                    f"{len(expected)}: add {missing} (record a timepoint that cannot be evaluated as NE, do not "
                    "leave it out)")
        tp = got[number]
        problem = None
        if tp.get("label") != want["label"]:
            problem = "label"
        elif tp.get("date") and tp["date"] != want["date"]:
            problem = "date"
        elif tp.get("day") is not None and base is not None and int(tp["day"]) != (want_date - base).days:
            problem = "day"
        if problem:
            order = "baseline" if number == 0 else f"timepoint {number + 1} of {len(expected)}"
            return (f"timepoint {tp.get('label')!r}: the read's {order} is {_describe(tp)}, but {what} has "
                    f"{_describe(want)} (wrong {problem}): write the read on the labels and dates of {what}, "
                    "in order")
    if len(got) > len(expected):
        extra = ", ".join(_describe(tp) for tp in got[len(expected):])
        return (f"timepoint {got[len(expected)].get('label')!r}: the read has {len(got)} timepoints, {what} only "
                f"{len(expected)}: remove {extra}")
    return None


def _diameters(case: Mapping[str, Any]) -> Iterator[tuple[str, str, str, float]]:
    """(timepoint label, lesion id, field, value in mm) of every target diameter of a case."""
    for tp in case.get("timepoints") or []:
        for lesion, entry in (tp.get("targets") or {}).items():
            if not isinstance(entry, Mapping):
                continue
            for key in ("long_axis_mm", "short_axis_mm"):
                if isinstance(entry.get(key), (int, float)):
                    yield str(tp.get("label")), str(lesion), key, float(entry[key])
            for k, fragment in enumerate(entry.get("fragments_mm") or []):
                if isinstance(fragment, (int, float)):
                    yield str(tp.get("label")), str(lesion), f"fragments_mm[{k}]", float(fragment)


def large_diameters(case: Mapping[str, Any], max_diameter_mm: float) -> list[str]:
    """Every target diameter of ``case`` above ``max_diameter_mm``, described for a message.

    A target lesion larger than 30 cm is physically possible but rare; far more often it is a slip of
    the decimal point (3600 mm for 36.0 mm) that makes a silent progression. Values not finite count as
    too large.
    """
    return [f"timepoint {label!r} lesion {lesion!r} {key} = {value:g} mm"
            for label, lesion, key, value in _diameters(case)
            if not math.isfinite(value) or value > max_diameter_mm]


def progression_date_problem(progression_date: str | None, imaging_dates: Sequence[str], *,
                             today: _dt.date, data_cutoff: _dt.date | None) -> str | None:
    """Why a (true, calendar) progression date cannot be right, or None.

    RECIST dates progression at the scan that shows it, so the date must be one of the subject's
    imaging dates; it cannot lie in the future, nor after the trial's data cut-off.

    Parameters
    ----------
    progression_date
        ISO date of progression (None: no progression, nothing to check).
    imaging_dates
        ISO dates of the subject's scans (baseline first).
    today
        The date of the result (the clock of the caller).
    data_cutoff
        The charter's data cut-off, if any.
    """
    if not progression_date:
        return None
    try:
        date = _dt.date.fromisoformat(str(progression_date))
    except ValueError:
        return f"progression date {progression_date!r} is not an ISO date"
    if date > today:
        return f"progression date {date} is in the future (today is {today})"
    if data_cutoff is not None and date > data_cutoff:
        return f"progression date {date} is after the data cut-off {data_cutoff}"
    follow_ups = list(imaging_dates)[1:]
    if date.isoformat() not in follow_ups:
        span = f"{follow_ups[0]} to {follow_ups[-1]}" if follow_ups else "none"
        return (f"progression date {date} is not one of the subject's follow-up imaging dates ({span}): "
                "the read's dates do not belong to this subject")
    return None
