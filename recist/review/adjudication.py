"""Adjudication of the "2 + 1" central review: which reads disagree, and which read is "A".

Two readers read every subject; where their signed reads disagree on what the charter names (its
adjudication triggers) an adjudicator sees both, labelled "Read A" and "Read B", and selects one with a
written reason (FDA, "Clinical Trial Imaging Endpoint Process Standards", guidance for industry, 2018,
section IV.C; the adjudicator does not re-measure).

All functions here are pure: an outcome is the small dict that :func:`outcome_of` takes from an assessment.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from recist.review.charter import Trigger

__all__ = ["outcome_of", "ab_readers", "fired_triggers", "progression_gap_days", "progression_offset_days"]


def outcome_of(assessment: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of an assessment (``Assessment.to_dict()``) that adjudication and results use.

    Returns ``{"best_overall_response": "PR", "progression": {"date", "day", "label", "trigger"} | None}``,
    and, for a read by iRECIST, ``"irecist": {"best_overall_response": "iPR", "progression": {"date", "day",
    "label", "icpd_label"} | None}`` (the confirmed progression dated to its iUPD, [iR17]).
    """
    progression = assessment.get("progression")
    if progression:
        progression = {k: progression.get(k) for k in ("date", "day", "label", "trigger")}
    outcome = {"best_overall_response": assessment.get("best_overall_response"), "progression": progression or None}
    irecist = assessment.get("irecist")
    if irecist:
        confirmed = irecist.get("progression")
        outcome["irecist"] = {
            "best_overall_response": irecist.get("best_overall_response"),
            "progression": None if not confirmed else {
                "date": confirmed["iupd"].get("date"), "day": confirmed["iupd"].get("day"),
                "label": confirmed["iupd"].get("label"), "icpd_label": confirmed["icpd"].get("label"),
            },
        }
    return outcome


def ab_readers(secret: bytes, subject: str, readers: Sequence[str]) -> dict[str, str]:
    """Which reader's read is "Read A" and which "Read B" for ``subject``.

    The order is the low bit of HMAC-SHA256(project secret, subject): fixed for a subject (the same
    labels every time), balanced over subjects, and not guessable without the project secret, so the
    labels do not tell the adjudicator who read what.
    """
    first, second = readers
    bit = hmac.new(secret, b"ab:" + subject.encode("utf-8"), hashlib.sha256).digest()[0] & 1
    return {"A": second, "B": first} if bit else {"A": first, "B": second}


def progression_offset_days(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> int | None:
    """Days from progression ``a`` to progression ``b`` (positive: ``b`` is later), by ``day`` when both
    have one, else by ``date``.

    None when either read has no progression or the two cannot be compared.
    """
    if not a or not b:
        return None
    if a.get("day") is not None and b.get("day") is not None:
        return int(b["day"]) - int(a["day"])
    if a.get("date") and b.get("date"):
        return (_dt.date.fromisoformat(str(b["date"])) - _dt.date.fromisoformat(str(a["date"]))).days
    return None


def progression_gap_days(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> int | None:
    """Absolute days between two progression events (:func:`progression_offset_days` without its sign)."""
    offset = progression_offset_days(a, b)
    return None if offset is None else abs(offset)


def fired_triggers(
    a: Mapping[str, Any], b: Mapping[str, Any], *, triggers: Sequence[Trigger], tolerance_days: int = 0
) -> list[str]:
    """The charter's triggers on which outcomes ``a`` and ``b`` disagree (empty: no adjudication).

    - ``progression``: one read has progression and the other has none;
    - ``progression_date``: both have progression, more than ``tolerance_days`` apart (a progression
      yes/no disagreement is not also counted as a date disagreement);
    - ``best_overall_response``: the best overall responses differ;
    - ``icpd``, ``icpd_date``, ``ibor``: the same for the iRECIST reading (confirmed progression, its
      date, the iBOR), between reads by iRECIST (``outcome["irecist"]``).
    """
    fired = []
    ia, ib = a.get("irecist") or {}, b.get("irecist") or {}
    for trigger in triggers:
        trigger = Trigger(trigger)
        if trigger in (Trigger.PROGRESSION, Trigger.PROGRESSION_DATE, Trigger.BEST_OVERALL_RESPONSE):
            first, second = a, b
        else:
            first, second = ia, ib
        pa, pb = first.get("progression"), second.get("progression")
        if trigger in (Trigger.PROGRESSION, Trigger.ICPD) and bool(pa) != bool(pb):
            fired.append(trigger.value)
        elif trigger in (Trigger.PROGRESSION_DATE, Trigger.ICPD_DATE) and pa and pb:
            gap = progression_gap_days(pa, pb)
            if gap is None or gap > tolerance_days:
                fired.append(trigger.value)
        elif (
            trigger in (Trigger.BEST_OVERALL_RESPONSE, Trigger.IBOR)
            and first.get("best_overall_response") != second.get("best_overall_response")
        ):
            fired.append(trigger.value)
    return fired
