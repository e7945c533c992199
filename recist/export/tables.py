"""Tidy CSV tables for spreadsheets: one row per lesion per timepoint, and one row per timepoint.

Both tables take the same inputs as the SDTM builder (:class:`recist.export.sdtm.SdtmRead`: a case, its
assessment and the evaluator), so a case, a folder of cases and a review project give the same columns.
Lengths are millimetres, percentages are percent, days count from the baseline scan; an empty cell is a
value that does not apply (a state instead of a measurement, the sum of an NE timepoint ...).

``lesions.csv``: subject, evaluator, timepoint, date, day, lesion, kind (target / non_target / new),
site, nodal, long_axis_mm, short_axis_mm, state, fragments_mm (";"-separated), merged_into, equivocal.

``responses.csv``: subject, evaluator, timepoint, date, day, sum_mm, nadir_mm, change_from_baseline_pct,
change_from_nadir_pct, target_response, non_target_response, new_lesions, overall_response,
sum_is_lower_bound, best_overall_response (the subject's, repeated on each of its rows for filtering).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recist._atomic import atomic_write_text
from recist.export.sdtm import SdtmRead, format_mm

__all__ = ["LESION_COLUMNS", "RESPONSE_COLUMNS", "lesion_rows", "response_rows", "write_tables"]

LESION_COLUMNS = (
    "subject", "evaluator", "timepoint", "date", "day", "lesion", "kind", "site", "nodal", "long_axis_mm",
    "short_axis_mm", "state", "fragments_mm", "merged_into", "equivocal",
)  # fmt: skip
RESPONSE_COLUMNS = (
    "subject", "evaluator", "timepoint", "date", "day", "sum_mm", "nadir_mm", "change_from_baseline_pct",
    "change_from_nadir_pct", "target_response", "non_target_response", "new_lesions", "overall_response",
    "sum_is_lower_bound", "best_overall_response",
)  # fmt: skip


def _evaluator(read: SdtmRead) -> str:
    return read.evaluator_role or read.evaluator


def _days(read: SdtmRead) -> list[int | None]:
    """Days since baseline of every timepoint (baseline 0), from the assessment's follow-ups."""
    return [0, *(t.day for t in read.assessment.timepoints)]


def lesion_rows(read: SdtmRead) -> list[dict[str, Any]]:
    """One row per lesion per timepoint of one read (lesions in case order, then new lesions)."""
    case = read.case
    days = _days(read)
    rows = []
    for index, tp in enumerate(case.timepoints):
        base = {
            "subject": case.subject, "evaluator": _evaluator(read), "timepoint": tp.label,
            "date": tp.date.isoformat() if tp.date else None, "day": days[index],
        }  # fmt: skip
        for lesion in case.lesions:
            entry = tp.targets.get(lesion.id) or tp.non_targets.get(lesion.id)
            if entry is None:
                continue
            row = {
                **base,
                "lesion": lesion.id,
                "kind": lesion.role.value,
                "site": lesion.site,
                "nodal": lesion.nodal,
            }
            row["short_axis_mm"] = entry.short_axis_mm
            if lesion.id in tp.targets:
                target = tp.targets[lesion.id]
                row.update(
                    long_axis_mm=target.long_axis_mm,
                    state=target.state.value if target.state else None,
                    fragments_mm=";".join(format_mm(f) for f in target.fragments_mm)
                    if target.fragments_mm
                    else None,
                    merged_into=target.merged_into,
                )
            else:
                row["state"] = tp.non_targets[lesion.id].state.value
            rows.append(row)
        for new in tp.new_lesions:
            rows.append({
                **base, "lesion": new.id, "kind": "new", "site": new.site, "nodal": new.nodal,
                "long_axis_mm": new.long_axis_mm, "short_axis_mm": new.short_axis_mm, "equivocal": new.equivocal,
            })  # fmt: skip
    return rows


def response_rows(read: SdtmRead) -> list[dict[str, Any]]:
    """One row per timepoint of one read: the baseline (its sum) and each assessed follow-up."""
    case, assessment = read.case, read.assessment
    best = assessment.best_overall_response.value
    baseline = case.baseline
    rows: list[dict[str, Any]] = [{
        "subject": case.subject, "evaluator": _evaluator(read), "timepoint": baseline.label,
        "date": baseline.date.isoformat() if baseline.date else None, "day": 0,
        "sum_mm": assessment.baseline_sum_mm, "best_overall_response": best,
    }]  # fmt: skip
    for tp in assessment.timepoints:
        rows.append({
            "subject": case.subject, "evaluator": _evaluator(read), "timepoint": tp.label,
            "date": tp.date.isoformat() if tp.date else None, "day": tp.day, "sum_mm": tp.sum_mm,
            "nadir_mm": tp.nadir_mm, "change_from_baseline_pct": tp.change_from_baseline_pct,
            "change_from_nadir_pct": tp.change_from_nadir_pct,
            "target_response": tp.target_response.value if tp.target_response else None,
            "non_target_response": tp.non_target_response.value if tp.non_target_response else None,
            "new_lesions": tp.new_lesions.value, "overall_response": tp.overall_response.value,
            "sum_is_lower_bound": tp.sum_is_lower_bound, "best_overall_response": best,
        })  # fmt: skip
    return rows


def _csv(columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_mm(value)
    return str(value)


def write_tables(reads: Iterable[SdtmRead], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``lesions.csv`` and ``responses.csv`` for ``reads`` into ``out_dir``; return the paths."""
    reads = list(reads)
    out = Path(out_dir)
    lesions = out / "lesions.csv"
    responses = out / "responses.csv"
    atomic_write_text(lesions, _csv(LESION_COLUMNS, (row for read in reads for row in lesion_rows(read))))
    atomic_write_text(
        responses, _csv(RESPONSE_COLUMNS, (row for read in reads for row in response_rows(read)))
    )
    return [lesions, responses]
