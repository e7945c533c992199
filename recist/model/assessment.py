"""The result of assessing a case: plain frozen dataclasses whose ``to_dict()`` is the JSON of
``recist assess`` (ARCHITECTURE.md, "recist assess prints JSON")."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from recist.model.enums import (
    IResponse,
    LesionRole,
    Measurability,
    NewLesionStatus,
    ProgressionTrigger,
    Response,
)

__all__ = [
    "ASSESSMENT_FORMAT",
    "BaselineLesionAssessment",
    "BaselineAssessment",
    "TimepointAssessment",
    "Progression",
    "Discrepancy",
    "IRecistTimepoint",
    "IRecistEvent",
    "IRecistProgression",
    "IRecistAssessment",
    "Assessment",
]

ASSESSMENT_FORMAT = "recist.assessment/1"


def _iso(date: _dt.date | None) -> str | None:
    """A date in its ISO form (None stays None)."""
    return None if date is None else date.isoformat()


# Enum members (Response, Measurability, ...) are ``str`` subclasses equal to their value and serialised
# by ``json`` and orjson as it, so ``to_dict`` passes them through: reading ``.value`` for every field cost
# more than the rules.


@dataclass(frozen=True)
class BaselineLesionAssessment:
    """A baseline lesion's measurability and whether it may be a target."""

    id: str
    role: LesionRole
    measurability: Measurability
    target_eligible: bool
    size_mm: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "measurability": self.measurability,
            "target_eligible": self.target_eligible,
            "size_mm": self.size_mm,
        }


@dataclass(frozen=True)
class BaselineAssessment:
    """Baseline lesions, their sum of diameters (mm) and the selection problems found."""

    lesions: tuple[BaselineLesionAssessment, ...]
    problems: tuple[str, ...]
    sum_mm: float | None
    proposed_targets: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesions": [lesion.to_dict() for lesion in self.lesions],
            "problems": list(self.problems),
            "sum_mm": self.sum_mm,
            "proposed_targets": list(self.proposed_targets),
        }


@dataclass(frozen=True)
class TimepointAssessment:
    """The responses at one follow-up timepoint. Undefined values are None (null in JSON)."""

    label: str
    date: _dt.date | None
    day: int
    sum_mm: float | None
    nadir_mm: float | None
    change_from_baseline_pct: float | None
    change_from_nadir_pct: float | None
    target_response: Response | None
    non_target_response: Response | None
    new_lesions: NewLesionStatus
    overall_response: Response
    sum_is_lower_bound: bool = False
    source: str = "measurements"
    not_evaluated: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "date": _iso(self.date),
            "day": self.day,
            "sum_mm": self.sum_mm,
            "nadir_mm": self.nadir_mm,
            "change_from_baseline_pct": self.change_from_baseline_pct,
            "change_from_nadir_pct": self.change_from_nadir_pct,
            "target_response": self.target_response,
            "non_target_response": self.non_target_response,
            "new_lesions": self.new_lesions,
            "overall_response": self.overall_response,
            "sum_is_lower_bound": self.sum_is_lower_bound,
            "source": self.source,
            "not_evaluated": list(self.not_evaluated),
        }


@dataclass(frozen=True)
class Progression:
    """When progression happened, at which timepoint, and what triggered it.

    ``trigger`` is the first of ``triggers`` (target, non-target, new lesion, recorded). For an equivocal
    new lesion confirmed later, the progression is the timepoint that first showed it and
    ``confirmed_at`` names the timepoint that confirmed it (R24).
    """

    label: str
    date: _dt.date | None
    day: int
    trigger: ProgressionTrigger
    triggers: tuple[ProgressionTrigger, ...]
    confirmed_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "date": _iso(self.date),
            "day": self.day,
            "trigger": self.trigger,
            "triggers": list(self.triggers),
            "confirmed_at": self.confirmed_at,
        }


@dataclass(frozen=True)
class Discrepancy:
    """A response recorded elsewhere that differs from the one computed from the measurements."""

    timepoint: str
    field: str
    recorded: str
    computed: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"timepoint": self.timepoint, "field": self.field, "recorded": self.recorded, "computed": self.computed}


@dataclass(frozen=True)
class IRecistTimepoint:
    """The iRECIST response at one follow-up ([iR17] Table 2), beside the RECIST 1.1 one.

    ``response`` is None after iCPD (progression is confirmed; [iR17] Table 3 "Any"). ``iupd_categories``
    lists the disease categories in unconfirmed progression at this timepoint (target, non_target,
    new_lesion); ``confirmed_by`` what confirmed iCPD here (RECIST_RULES I4 a-e); ``window`` where the
    timepoint falls against the confirmation window after the previous iUPD ("early", "in", "late";
    None without a pending iUPD); ``new_lesion_target_sum_mm`` the sum of the new-lesion targets (NLT,
    never added to the baseline sum, I7).
    """

    label: str
    date: _dt.date | None
    day: int
    response: IResponse | None
    iupd_categories: tuple[str, ...] = ()
    confirmed_by: tuple[str, ...] = ()
    window: str | None = None
    new_lesion_target_sum_mm: float | None = None
    additional_new_lesions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "date": _iso(self.date),
            "day": self.day,
            "response": self.response,
            "iupd_categories": list(self.iupd_categories),
            "confirmed_by": list(self.confirmed_by),
            "window": self.window,
            "new_lesion_target_sum_mm": self.new_lesion_target_sum_mm,
            "additional_new_lesions": list(self.additional_new_lesions),
        }


@dataclass(frozen=True)
class IRecistEvent:
    """A timepoint of the iRECIST record: its label, date and day since baseline; ``assigned_at`` the
    label of the assessment at which iUPD was assigned when the event is dated back to the first
    appearance of an equivocal new lesion (RECIST 1.1 §4.3.5, R24), else None."""

    label: str
    date: _dt.date | None
    day: int
    assigned_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "date": _iso(self.date), "day": self.day, "assigned_at": self.assigned_at}


@dataclass(frozen=True)
class IRecistProgression:
    """Confirmed progression (iCPD): dated to the iUPD it confirmed (RECIST_RULES I6), with the timepoint
    that confirmed it and what confirmed it."""

    iupd: IRecistEvent
    icpd: IRecistEvent
    confirmed_by: tuple[str, ...]

    @property
    def date(self) -> _dt.date | None:
        """The progression date: the date of the confirmed iUPD."""
        return self.iupd.date

    @property
    def day(self) -> int:
        """The progression day since baseline: that of the confirmed iUPD."""
        return self.iupd.day

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": _iso(self.iupd.date),
            "day": self.iupd.day,
            "iupd": self.iupd.to_dict(),
            "icpd": self.icpd.to_dict(),
            "confirmed_by": list(self.confirmed_by),
        }


@dataclass(frozen=True)
class IRecistAssessment:
    """The iRECIST reading of a case ([iR17]): time-point responses, iBOR, first iUPD and confirmed
    progression (None while unconfirmed); ``problems`` the new-lesion-target choices that break iRECIST's
    rules (not measurable, more than 5, more than 2 per organ: I7), flagged like baseline ``problems``."""

    timepoints: tuple[IRecistTimepoint, ...]
    best_overall_response: IResponse
    first_iupd: IRecistEvent | None
    progression: IRecistProgression | None
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "timepoints": [tp.to_dict() for tp in self.timepoints],
            "best_overall_response": self.best_overall_response,
            "first_iupd": None if self.first_iupd is None else self.first_iupd.to_dict(),
            "progression": None if self.progression is None else self.progression.to_dict(),
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class Assessment:
    """A whole case assessed: baseline, every follow-up, best overall response, progression."""

    subject: str
    baseline: BaselineAssessment
    timepoints: tuple[TimepointAssessment, ...]
    best_overall_response: Response
    progression: Progression | None
    discrepancies: tuple[Discrepancy, ...] = field(default_factory=tuple)
    baseline_date: _dt.date | None = None
    irecist: IRecistAssessment | None = None
    """The iRECIST reading when the protocol's criteria are iRECIST (RECIST 1.1 stays primary), else None."""

    @property
    def baseline_sum_mm(self) -> float | None:
        """The baseline sum of diameters, mm (None for a subject without target lesions)."""
        return self.baseline.sum_mm

    def to_dict(self) -> dict[str, Any]:
        """The JSON object printed by ``recist assess`` (``criteria`` and ``irecist`` only under iRECIST)."""
        data = {
            "format": ASSESSMENT_FORMAT,
            "subject": self.subject,
            "baseline_date": _iso(self.baseline_date),
            "baseline": self.baseline.to_dict(),
            "timepoints": [tp.to_dict() for tp in self.timepoints],
            "best_overall_response": self.best_overall_response,
            "progression": None if self.progression is None else self.progression.to_dict(),
            "discrepancies": [d.to_dict() for d in self.discrepancies],
        }
        if self.irecist is not None:
            data["criteria"] = "iRECIST"
            data["irecist"] = self.irecist.to_dict()
        return data
