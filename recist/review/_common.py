"""Small helpers shared by the modules of a review project (clock, canonical hash, case loading)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["utc", "sha", "case_dict"]


def utc(now: _dt.datetime | None) -> _dt.datetime:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return now if now.tzinfo else now.replace(tzinfo=_dt.timezone.utc)


def case_dict(case: Any) -> dict[str, Any]:
    """A case (model object, dict or path) as a validated, canonical dict."""
    import recist

    if isinstance(case, (str, Path)):
        case = recist.read_case(case)
    elif isinstance(case, Mapping):
        case = recist.parse_case(dict(case))
    if not hasattr(case, "to_dict"):
        raise TypeError(f"expected a case (recist.model.Case, dict or path), got {type(case).__name__}")
    return case.to_dict()


def sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
