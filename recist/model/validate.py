"""Whole-case checks and the translation of pydantic errors into :class:`RecistValidationError`.

:func:`parse_case` is the one way from outside data (a dict) to a :class:`~recist.model.case.Case`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from recist.errors import RecistValidationError, UnsupportedFormatError
from recist.model.case import (
    CASE_FORMAT,
    Case,
    ImageRef,
    Lesion,
    Line,
    NewLesion,
    NonTargetEntry,
    Protocol,
    Recorded,
    TargetEntry,
    Timepoint,
)
from recist.model.enums import LesionRole, NonTargetState, TargetState

__all__ = ["parse_case", "parse_protocol", "check_case", "timepoint_days", "SUPPORTED_CASE_FORMATS"]

SUPPORTED_CASE_FORMATS = (CASE_FORMAT,)
_FORMAT_FAMILY = "recist.case/"


def check_format(value: Any, *, source: str | None = None) -> None:
    """Reject a ``format`` key this release cannot read, saying which versions it supports."""
    if value is None:
        raise RecistValidationError(
            f'missing "format" key; add "format": "{CASE_FORMAT}"', source=source, field="format"
        )
    if not isinstance(value, str) or not value.startswith(_FORMAT_FAMILY):
        raise UnsupportedFormatError(
            f"{value!r} is not a recist case format; supported: {', '.join(SUPPORTED_CASE_FORMATS)}",
            source=source,
            field="format",
        )
    major = value[len(_FORMAT_FAMILY) :].split(".", 1)[0]
    if major != "1":
        raise UnsupportedFormatError(
            f"case format {value!r} (major version {major}) is not supported by this recist; "
            f"supported: {', '.join(SUPPORTED_CASE_FORMATS)} (upgrade recist to read newer files)",
            source=source,
            field="format",
        )


def _where(loc: tuple[Any, ...], data: Any) -> tuple[str | None, str | None, str]:
    """Return (timepoint label, lesion id, dotted field) for a pydantic error location."""
    timepoint = lesion = None
    parts: list[str] = []
    node = data
    for i, key in enumerate(loc):
        if isinstance(key, int):
            parts[-1:] = [f"{parts[-1]}[{key}]"] if parts else [f"[{key}]"]
        else:
            parts.append(str(key))
        prev = loc[i - 1] if i else None
        if isinstance(node, Mapping):
            node = node.get(key) if not isinstance(key, int) else None
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            node = None
        if prev == "timepoints" and isinstance(key, int):
            label = node.get("label") if isinstance(node, Mapping) else None
            timepoint = label if isinstance(label, str) else f"#{key}"
        if prev in ("targets", "non_targets") and isinstance(key, str):
            lesion = key
        if prev in ("lesions", "new_lesions") and isinstance(key, int):
            ident = node.get("id") if isinstance(node, Mapping) else None
            lesion = ident if isinstance(ident, str) else f"#{key}"
    return timepoint, lesion, ".".join(parts)


_KNOWN_KEYS = frozenset(
    name
    for model in (Case, Protocol, Lesion, ImageRef, Line, TargetEntry, NonTargetEntry, NewLesion, Recorded, Timepoint)
    for name in model.model_fields
)


def _suggestion(loc: tuple[Any, ...]) -> str:
    """", did you mean 'long_axis_mm'?" for a misspelt key, or nothing."""
    import difflib  # noqa: PLC0415

    key = loc[-1] if loc else None
    if not isinstance(key, str):
        return ""
    close = difflib.get_close_matches(key, sorted(_KNOWN_KEYS), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def _from_pydantic(exc: ValidationError, data: Any, source: str | None) -> RecistValidationError:
    first = exc.errors(include_url=False)[0]
    loc = tuple(k for k in first["loc"] if not (isinstance(k, str) and k.startswith(("function-", "str"))))
    timepoint, lesion, field = _where(loc, data)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key" + _suggestion(loc) + " (see docs/case-format.md or `recist schema`)"
    elif first["type"] == "missing":
        message = "required key is missing"
    elif first["type"] == "less_than_equal" and "_mm" in field and "le" in first.get("ctx", {}):
        limit = first["ctx"]["le"]
        message = (f"{first['input']!r} mm is above the physical bound of {limit:g} mm; check the value "
                   "and that it is in millimetres")
    elif first["type"] == "too_long":
        message = (f"{first.get('ctx', {}).get('actual_length', 'too many')} items, more than the "
                   f"{first.get('ctx', {}).get('max_length')} a case file may hold here; is this the right file?")
    more = exc.error_count() - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return RecistValidationError(message, source=source, field=field or None, lesion=lesion, timepoint=timepoint)


def parse_case(data: Any, source: str | None = None, *, whole_case: bool = True) -> Case:
    """Validate ``data`` (the decoded JSON of a case file) and return the :class:`Case`.

    Parameters
    ----------
    data
        A mapping in the case-file form of ARCHITECTURE.md.
    source
        Where the data came from (a file name), used in error messages.
    whole_case
        Also run :func:`check_case` (the checks that need the whole case). An editor holding a case
        that is still being built (a target without its baseline measurement yet) passes False and
        checks the whole case before assessing it.

    Raises
    ------
    RecistValidationError
        Naming the file, timepoint, lesion and field of the first problem found.
    """
    if isinstance(data, Case):
        return data
    if not isinstance(data, Mapping):
        raise RecistValidationError(
            f"a case must be a JSON object, got {type(data).__name__}", source=source
        )
    check_format(data.get("format"), source=source)
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        raise _from_pydantic(exc, data, source) from None
    if not whole_case:
        return case
    try:
        check_case(case)
    except RecistValidationError as exc:
        raise exc.with_source(source) if source else exc from None
    return case


def parse_protocol(data: Any, source: str | None = None) -> Protocol:
    """Validate protocol options (a mapping of :class:`~recist.model.case.Protocol` fields)."""
    if not isinstance(data, Mapping):
        raise RecistValidationError("protocol options must be a JSON object", source=source, field="protocol")
    try:
        return Protocol.model_validate(dict(data))
    except ValidationError as exc:
        raise _from_pydantic(exc, data, source) from None


def timepoint_days(case: Case) -> list[int]:
    """Days since baseline of every timepoint (baseline 0), from ``day`` or from ``date``.

    Raises
    ------
    RecistValidationError
        If a timepoint's day cannot be known (a date without a baseline date) or date and day disagree.
    """
    baseline = case.timepoints[0]
    days: list[int] = []
    for index, tp in enumerate(case.timepoints):
        from_date = None
        if tp.date is not None and baseline.date is not None:
            from_date = (tp.date - baseline.date).days
        if index == 0:
            if tp.day not in (None, 0):
                raise RecistValidationError(
                    "the baseline is day 0; remove 'day' or set it to 0", timepoint=tp.label, field="day"
                )
            days.append(0)
            continue
        if tp.day is not None and from_date is not None and tp.day != from_date:
            raise RecistValidationError(
                f"'day' {tp.day} disagrees with 'date' {tp.date.isoformat()} ({from_date} days after the "
                "baseline date); give one or make them agree",
                timepoint=tp.label,
                field="day",
            )
        day = tp.day if tp.day is not None else from_date
        if day is None:
            raise RecistValidationError(
                "has a date but the baseline has none; give the baseline a 'date' or this timepoint a 'day'",
                timepoint=tp.label,
                field="date",
            )
        days.append(day)
    return days


def _check_timepoint(targets: Mapping[str, Lesion], roles: Mapping[str, Lesion], tp: Timepoint, *, index: int) -> None:
    """Check one timepoint's entries against the case's lesions (``targets``: the target lesions by id,
    ``roles``: every lesion by id)."""
    is_baseline = index == 0
    at = f"timepoints[{index}]"
    for lesion_id, entry in tp.targets.items():
        lesion = targets.get(lesion_id)
        if lesion is None:
            what = "is not a lesion of the case" if lesion_id not in roles else "is a non-target lesion"
            raise RecistValidationError(
                f"{what}; list it in 'lesions' with role 'target' or move it to 'non_targets'",
                timepoint=tp.label, lesion=lesion_id, field=f"{at}.targets",
            )
        state = entry.state
        if state is None:
            if (entry.short_axis_mm if lesion.nodal else entry.long_axis_mm) is None:
                needed = "short_axis_mm" if lesion.nodal else "long_axis_mm"
                why = "a lymph node is measured by its short axis" if lesion.nodal else (
                    "a non-nodal lesion is measured by its longest diameter")
                raise RecistValidationError(
                    f"{needed} is required ({why}, RECIST 1.1 §4.2)",
                    timepoint=tp.label, lesion=lesion_id, field=f"{at}.targets.{lesion_id}.{needed}",
                )
            continue
        if state == TargetState.MERGED and (entry.merged_into == lesion_id or entry.merged_into not in targets):
            raise RecistValidationError(
                f"merged_into {entry.merged_into!r} must name another target lesion of the case",
                timepoint=tp.label, lesion=lesion_id, field=f"{at}.targets.{lesion_id}.merged_into",
            )
        if is_baseline:
            raise RecistValidationError(
                f"a target lesion needs a baseline measurement, not the state {state.value!r}; "
                "measure it or make it a non-target",
                timepoint=tp.label, lesion=lesion_id, field=f"{at}.targets.{lesion_id}.state",
            )
    for lesion_id in tp.non_targets:
        lesion = roles.get(lesion_id)
        if lesion is None or lesion.role != LesionRole.NON_TARGET:
            what = "is not a lesion of the case" if lesion is None else "is a target lesion"
            raise RecistValidationError(
                f"{what}; list it in 'lesions' with role 'non_target' or move it to 'targets'",
                timepoint=tp.label, lesion=lesion_id, field=f"{at}.non_targets",
            )
    if not tp.new_lesions:
        return
    if is_baseline:
        raise RecistValidationError(
            "the baseline cannot have new lesions; record them as baseline lesions",
            timepoint=tp.label, field=f"{at}.new_lesions",
        )
    seen: set[str] = set()
    for new in tp.new_lesions:
        if new.id in seen or new.id in roles:
            raise RecistValidationError(
                "new-lesion id is used twice at this timepoint or by a baseline lesion; give it its own id",
                timepoint=tp.label, lesion=new.id, field=f"{at}.new_lesions",
            )
        seen.add(new.id)


_NOT_SEEN = frozenset({NonTargetState.ABSENT, NonTargetState.NOT_EVALUATED})


def _check_new_lesion_records(case: Case) -> None:
    """The iRECIST new-lesion keys ([iR17]; docs/case-format.md): a new lesion keeps the role it was
    first given; a new-lesion target (NLT) is measured (long axis, short axis for a node) whenever it is
    seen; a lesion is first recorded present;
    ``increased_since_previous`` belongs to a non-target (baseline or new) after its first record. The
    choice of NLT (measurable, at most 5 in all and 2 per organ: RECIST_RULES I7) is a clinical rule,
    flagged by :mod:`recist.rules.irecist.selection` in the assessment."""
    first_role: dict[str, LesionRole] = {}
    for index, tp in enumerate(case.timepoints):
        at = f"timepoints[{index}]"
        if index == 0:
            for lesion_id, entry in tp.non_targets.items():
                if entry.increased_since_previous:
                    raise RecistValidationError(
                        "increased_since_previous needs a previous assessment; remove it from the baseline",
                        timepoint=tp.label, lesion=lesion_id, field=f"{at}.non_targets.{lesion_id}",
                    )
        for k, new in enumerate(tp.new_lesions):
            where = {"timepoint": tp.label, "lesion": new.id, "field": f"{at}.new_lesions[{k}]"}
            first = new.id not in first_role
            role = new.role or first_role.get(new.id, LesionRole.NON_TARGET)
            if first:
                if new.state in _NOT_SEEN:
                    raise RecistValidationError(
                        f"a new lesion is first recorded where it is seen, not as {new.state.value!r}; "
                        "remove the entry or give the state 'present'", **where)
                if new.increased_since_previous:
                    raise RecistValidationError(
                        "increased_since_previous needs a previous record of this new lesion; remove it", **where)
                first_role[new.id] = role
            elif new.role is not None and new.role != first_role[new.id]:
                raise RecistValidationError(
                    f"new lesion was first recorded as a {first_role[new.id].value} and keeps that role; "
                    f"remove 'role' or set it to {first_role[new.id].value!r}", **where)
            if role == LesionRole.TARGET:
                if new.increased_since_previous:
                    raise RecistValidationError(
                        "a new-lesion target's growth is measured: remove increased_since_previous and give "
                        "its size", **where)
                axis = "short_axis_mm" if new.nodal else "long_axis_mm"
                if new.state not in _NOT_SEEN and getattr(new, axis) is None:
                    raise RecistValidationError(
                        f"{axis} is required for a new-lesion target (iRECIST NLT are measured like targets, "
                        "RECIST 1.1 §4.2); measure it, or record it as absent or not_evaluated", **where)


def check_case(case: Case) -> None:
    """Check what needs the whole case; raise :class:`RecistValidationError` on the first problem.

    Checks: at least one lesion; unique lesion ids; every target has a baseline measurement of the right
    axis (long axis for non-nodal lesions, short axis for nodes, [E09] §4.2); entries refer to lesions of the
    right role; unique timepoint labels; days strictly increasing; no new lesions at baseline.
    """
    if not case.lesions:
        raise RecistValidationError(
            "a case needs at least one baseline lesion (target or non-target)", field="lesions"
        )
    ids: set[str] = set()
    for lesion in case.lesions:
        if lesion.id in ids:
            raise RecistValidationError("lesion id used twice; give each lesion its own id",
                                        lesion=lesion.id, field="lesions")
        ids.add(lesion.id)
    labels: set[str] = set()
    for tp in case.timepoints:
        if tp.label in labels:
            raise RecistValidationError("timepoint label used twice; give each timepoint its own label",
                                        timepoint=tp.label, field="label")
        labels.add(tp.label)
    roles = {lesion.id: lesion for lesion in case.lesions}
    targets = {lesion.id: lesion for lesion in case.lesions if lesion.role == LesionRole.TARGET}
    for index, tp in enumerate(case.timepoints):
        _check_timepoint(targets, roles, tp, index=index)
    _check_new_lesion_records(case)
    baseline = case.timepoints[0]
    for lesion in case.lesions:
        if lesion.role == LesionRole.TARGET and lesion.id not in baseline.targets:
            raise RecistValidationError(
                "target lesion has no baseline measurement; add it to the baseline's 'targets'",
                timepoint=baseline.label, lesion=lesion.id, field="targets",
            )
    days = timepoint_days(case)
    for index in range(1, len(days)):
        if days[index] <= days[index - 1]:
            before, tp = case.timepoints[index - 1], case.timepoints[index]

            def when(t: Timepoint, day: int) -> str:
                return t.date.isoformat() if t.date is not None else f"day {day}"

            raise RecistValidationError(
                f"timepoints must be in date order: {tp.label!r} ({when(tp, days[index])}) is not after "
                f"{before.label!r} ({when(before, days[index - 1])}); fix the dates or the order",
                timepoint=tp.label, field=f"timepoints[{index}].date",
            )
