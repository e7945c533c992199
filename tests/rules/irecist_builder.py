"""Compact iRECIST case dicts for the rules tests (no recist logic here).

Baseline: targets T1 (liver, 50 mm) and T2 (lung, 30 mm), sum 80 mm, and one non-target NT1 (present);
follow-ups every 56 days unless a ``day`` is given. Each follow-up is a dict with ``sum`` (mm, put on T1,
T2 kept at 30 mm, or "CR" for both gone, or "NE"), ``nt`` (a non-target entry) and ``new`` (new-lesion
records).
"""

from __future__ import annotations

from typing import Any

import recist

BASELINE_SUM = 80.0


def nlt(lesion_id: str, size: float, site: str = "liver", **extra: Any) -> dict[str, Any]:
    """A new-lesion target (NLT) record of ``size`` mm."""
    return {"id": lesion_id, "site": site, "role": "target", "long_axis_mm": size, **extra}


def nlnt(lesion_id: str, site: str = "bone", **extra: Any) -> dict[str, Any]:
    """A new-lesion non-target (NLNT) record."""
    return {"id": lesion_id, "site": site, "role": "non_target", **extra}


def case(*follow_ups: dict[str, Any], protocol: dict[str, Any] | None = None) -> dict[str, Any]:
    timepoints: list[dict[str, Any]] = [{
        "label": "baseline", "day": 0,
        "targets": {"T1": {"long_axis_mm": 50.0}, "T2": {"long_axis_mm": 30.0}},
        "non_targets": {"NT1": "present"},
    }]
    day = 0
    for k, fu in enumerate(follow_ups, start=1):
        day = fu.get("day", day + 56)
        tp: dict[str, Any] = {"label": f"FU{k}", "day": day}
        total = fu.get("sum", BASELINE_SUM)
        if total == "CR":
            tp["targets"] = {"T1": {"state": "disappeared"}, "T2": {"state": "disappeared"}}
        elif total == "NE":
            tp["targets"] = {"T1": {"state": "not_evaluated"}, "T2": {"long_axis_mm": 30.0}}
        else:
            tp["targets"] = {"T1": {"long_axis_mm": round(total - 30.0, 3)}, "T2": {"long_axis_mm": 30.0}}
        tp["non_targets"] = {"NT1": fu.get("nt", "present")}
        if fu.get("new"):
            tp["new_lesions"] = fu["new"]
        timepoints.append(tp)
    return {
        "format": "recist.case/1", "subject": "I", "protocol": {"criteria": "iRECIST", **(protocol or {})},
        "lesions": [
            {"id": "T1", "role": "target", "site": "liver"},
            {"id": "T2", "role": "target", "site": "lung"},
            {"id": "NT1", "role": "non_target", "site": "peritoneum"},
        ],
        "timepoints": timepoints,
    }


def irecist(*follow_ups: dict[str, Any], protocol: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``irecist`` block of the assessment of ``case(*follow_ups)``."""
    return recist.assess(case(*follow_ups, protocol=protocol)).to_dict()["irecist"]


def responses(*follow_ups: dict[str, Any], protocol: dict[str, Any] | None = None) -> list[str | None]:
    """The iRECIST time-point responses of ``case(*follow_ups)``."""
    return [tp["response"] for tp in irecist(*follow_ups, protocol=protocol)["timepoints"]]
