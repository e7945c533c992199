"""The top-level entry points: ``recist.assess`` accepts a Case, a dict or a path."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from recist.io.case_json import read_case
from recist.model.assessment import Assessment
from recist.model.case import Case, Protocol
from recist.model.validate import parse_case, parse_protocol
from recist.rules.assess import assess_case

__all__ = ["assess", "as_case"]


def as_case(case: Case | Mapping[str, Any] | str | os.PathLike[str]) -> Case:
    """A :class:`Case` from a Case, a decoded case-file dict or the path of a case file."""
    if isinstance(case, Case):
        return case
    if isinstance(case, Mapping):
        return parse_case(case)
    if isinstance(case, (str, os.PathLike)):
        return read_case(case)
    raise TypeError(f"assess() takes a Case, a dict or a path, not {type(case).__name__}")


def assess(
    case: Case | Mapping[str, Any] | str | os.PathLike[str],
    protocol: Protocol | Mapping[str, Any] | None = None,
) -> Assessment:
    """Assess a case by RECIST 1.1 (and by iRECIST beside it when the protocol's ``criteria`` is
    ``"iRECIST"``: ``result.irecist``, docs/rules.md section H).

    Parameters
    ----------
    case
        A :class:`Case`, a dict in the case-file form, or the path of a case file.
    protocol
        Options overriding the case's ``protocol`` (a :class:`Protocol` or a dict of its fields),
        for example from a central-review charter.

    Returns
    -------
    Assessment
        ``result.to_dict()`` is the JSON that ``recist assess`` prints.

    Examples
    --------
    >>> import recist
    >>> result = recist.assess({
    ...     "format": "recist.case/1", "subject": "S1",
    ...     "lesions": [{"id": "T1", "role": "target", "site": "liver"}],
    ...     "timepoints": [
    ...         {"label": "baseline", "day": 0, "targets": {"T1": {"long_axis_mm": 100}}},
    ...         {"label": "week 8", "day": 56, "targets": {"T1": {"long_axis_mm": 120}}}]})
    >>> result.timepoints[0].overall_response.value, result.progression.label
    ('PD', 'week 8')
    """
    parsed = as_case(case)
    if protocol is not None and not isinstance(protocol, Protocol):
        protocol = parse_protocol(protocol, source="protocol")
    return assess_case(parsed, protocol)
