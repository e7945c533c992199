"""Reading PET header attributes for :mod:`recist.measure.suv`: values, private tags and DICOM date/times.

Each reader returns None for an absent or empty attribute and raises :class:`~recist.errors.SuvError`
naming the file and the tag (keyword and group,element) with how to fix it for a malformed one. DICOM
value representations: PS3.5 6.2 (DA, TM, DT).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from pydicom.datadict import tag_for_keyword

from recist.errors import SuvError


def _tag_label(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    if tag is None:  # pragma: no cover - only called with standard keywords
        return keyword
    return f"{keyword} ({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def _error(source: str | None, message: str) -> SuvError:
    return SuvError(f"{_where(source)}{message}")


def _missing(source: str | None, keyword: str, purpose: str, fix: str = "") -> SuvError:
    fix = fix or "fix the header (or re-export the series from the scanner) and retry"
    return _error(source, f"{_tag_label(keyword)} is missing or empty; it is needed for {purpose}; {fix}")


def _value(ds: Any, keyword: str, source: str | None = None) -> Any:
    try:
        value = ds.get(keyword) if hasattr(ds, "get") else None
    except Exception as exc:  # pydicom raises while converting a malformed value (e.g. DS "abc", IS "inf")
        raise _error(source, f"{_tag_label(keyword)} has an unreadable value ({exc}); correct the header") from None
    if value is None or (isinstance(value, (str, bytes)) and not str(value).strip()):
        return None
    return value


def _private(ds: Any, tag: int) -> Any:
    try:
        element = ds.get(tag)
    except Exception:  # a malformed private element is treated as absent
        return None
    if element is None or element.value in (None, b"", ""):
        return None
    value = element.value
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace").strip("\x00 ")
    return value


def _private_number(ds: Any, tag: int, label: str, source: str | None) -> float | None:
    """A Philips private scale factor as a finite positive number; None when absent; SuvError when bad."""
    raw = _private(ds, tag)
    if raw is None:
        return None
    text = "\\".join(str(v) for v in raw) if isinstance(raw, (list, tuple)) else str(raw)
    try:
        number = float(text.strip())
    except ValueError:
        raise _error(source, f"{label} = {text!r} is not a number; correct the header or export the series "
                             "in BQML") from None
    if not math.isfinite(number) or number <= 0:
        raise _error(source, f"{label} = {text!r} is not a finite positive number; correct the header or "
                             "export the series in BQML")
    return number


def _shifted(when: dt.datetime, seconds: float, source: str | None, what: str) -> dt.datetime:
    """``when`` plus ``seconds``; SuvError (naming ``what``) when the result leaves years 1..9999."""
    try:
        return when + dt.timedelta(seconds=seconds)
    except OverflowError:
        raise _error(source, f"{what} falls outside the years 1..9999 ({when.isoformat()} "
                             f"{'+' if seconds >= 0 else '-'} {abs(seconds):g} s); check the dates and times") from None


def _checked_factor(factor: float, source: str | None, what: str) -> float:
    """The factor when finite and positive, else SuvError naming the tags it came from."""
    if not math.isfinite(factor) or factor <= 0:
        raise _error(source, f"the factor is {factor:g}, not a finite positive number: {what}; correct the header")
    return factor


def _number(ds: Any, keyword: str, source: str | None, purpose: str) -> float:
    raw = _value(ds, keyword, source)
    if raw is None:
        raise _missing(source, keyword, purpose)
    if isinstance(raw, (list, tuple)) or type(raw).__name__ == "MultiValue":
        raise _error(source, f"{_tag_label(keyword)} = {str(raw)!r} holds several values; one number is needed "
                             f"({purpose})")
    try:
        number = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise _error(source, f"{_tag_label(keyword)} = {raw!r} is not a number ({purpose})") from None
    if not math.isfinite(number):
        raise _error(source, f"{_tag_label(keyword)} = {raw!r} is not finite ({purpose})")
    return number


def _in_range(value: float, bounds: tuple[float, float], keyword: str, unit: str, source: str | None) -> float:
    low, high = bounds
    if not low <= value <= high:
        raise _error(
            source,
            f"{_tag_label(keyword)} = {value:g} {unit} is implausible (expected {low:g}..{high:g} {unit}); "
            "correct the header",
        )
    return value


def _text(ds: Any, keyword: str, source: str | None = None) -> str | None:
    raw = _value(ds, keyword, source)
    return None if raw is None else str(raw).strip().upper()


_DT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(\.\d{1,6})?([+-]\d{4})?$")
_TM_RE = re.compile(r"^(\d{2}):?(\d{2})?:?(\d{2})?(\.\d{1,6})?$")


def _parse_time(text: str) -> dt.time | None:
    match = _TM_RE.match(text.strip())
    if not match:
        return None
    hh, mm, ss, frac = match.groups()
    micro = int(round(float(frac) * 1e6)) if frac else 0
    try:
        return dt.time(int(hh), int(mm or 0), int(ss or 0), min(micro, 999999))
    except ValueError:
        return None


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text.strip().replace("-", ""), "%Y%m%d").date()
    except ValueError:
        return None


def _parse_datetime(text: str) -> dt.datetime | None:
    match = _DT_RE.match(text.strip())
    if not match:
        return None
    year, month, day, hh, mm, ss, frac, _offset = match.groups()
    micro = int(round(float(frac) * 1e6)) if frac else 0
    try:
        return dt.datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0),
                           min(micro, 999999))
    except ValueError:
        return None


def _parsed_attr(ds: Any, keyword: str, source: str | None, parse: Any, form: str) -> Any:
    """The element ``keyword`` parsed by ``parse``; None when absent; SuvError naming the tag when malformed."""
    raw = _value(ds, keyword, source)
    if raw is None:
        return None
    parsed = parse(str(raw))
    if parsed is None:
        raise _error(source, f"{_tag_label(keyword)} = {str(raw)!r} is not a DICOM {form}")
    return parsed


def _datetime_attr(ds: Any, keyword: str, source: str | None) -> dt.datetime | None:
    return _parsed_attr(ds, keyword, source, _parse_datetime, "date-time (YYYYMMDDHHMMSS)")


def _date_attr(ds: Any, keyword: str, source: str | None) -> dt.date | None:
    return _parsed_attr(ds, keyword, source, _parse_date, "date (YYYYMMDD)")


def _time_attr(ds: Any, keyword: str, source: str | None) -> dt.time | None:
    return _parsed_attr(ds, keyword, source, _parse_time, "time (HHMMSS.FFFFFF)")


def _series_datetime(ds: Any, source: str | None) -> dt.datetime:
    date = _date_attr(ds, "SeriesDate", source)
    if date is None:
        raise _missing(source, "SeriesDate", "the scan start time (DecayCorrection START)")
    time = _time_attr(ds, "SeriesTime", source)
    if time is None:
        raise _missing(source, "SeriesTime", "the scan start time (DecayCorrection START)")
    return dt.datetime.combine(date, time)


def acquisition_datetime(ds: Any, source: str | None = None) -> dt.datetime | None:
    """The instance's acquisition (frame start) date-time, or None when the header has none.

    AcquisitionDateTime (0008,002A) if present, else AcquisitionDate (0008,0022) (or, failing that,
    SeriesDate) with AcquisitionTime (0008,0032) [DICOM C.7.6.1].
    """
    combined = _datetime_attr(ds, "AcquisitionDateTime", source)
    if combined is not None:
        return combined
    time = _time_attr(ds, "AcquisitionTime", source)
    if time is None:
        return None
    date = _date_attr(ds, "AcquisitionDate", source) or _date_attr(ds, "SeriesDate", source)
    if date is None:
        return None
    return dt.datetime.combine(date, time)
