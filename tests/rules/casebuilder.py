"""Compact builders of case dicts for the rules tests (no recist logic here)."""

from __future__ import annotations

from typing import Any


def target_case(
    baseline: dict[str, float],
    follow_ups: list[dict[str, Any]],
    *,
    nodal: frozenset[str] = frozenset(),
    non_targets: dict[str, Any] | None = None,
    protocol: dict[str, Any] | None = None,
    step_days: int = 56,
) -> dict[str, Any]:
    """A case with target lesions named by ``baseline`` ({id: size_mm}).

    Each follow-up is {"targets": {id: mm or entry dict}, "non_targets": ..., "new_lesions": ..., "day": ...};
    a bare number is the lesion's long axis (short axis for ids in ``nodal``).
    """
    def entry(lesion_id: str, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        return {"short_axis_mm" if lesion_id in nodal else "long_axis_mm": value}

    lesions = [
        {"id": i, "role": "target", "site": f"organ {n}" if i not in nodal else "lymph node", "nodal": i in nodal}
        for n, i in enumerate(baseline)
    ]
    nts = non_targets or {}
    lesions += [{"id": i, "role": "non_target", "site": "peritoneum"} for i in nts]
    timepoints = [{
        "label": "baseline", "day": 0,
        "targets": {i: entry(i, v) for i, v in baseline.items()},
        "non_targets": dict(nts),
    }]
    for k, fu in enumerate(follow_ups, start=1):
        tp: dict[str, Any] = {"label": f"FU{k}", "day": fu.get("day", k * step_days)}
        if "targets" in fu:
            tp["targets"] = {i: entry(i, v) for i, v in fu["targets"].items()}
        for key in ("non_targets", "new_lesions", "recorded", "tumour_markers"):
            if key in fu:
                tp[key] = fu[key]
        timepoints.append(tp)
    case = {"format": "recist.case/1", "subject": "S", "lesions": lesions, "timepoints": timepoints}
    if protocol:
        case["protocol"] = protocol
    return case
