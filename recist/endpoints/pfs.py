"""Progression-free survival: the event or censoring date of each subject, with the rule that gave it.

PFS runs from randomisation to radiological progression (the date of the read that documents it) or
death from any cause, whichever comes first. Which dates count, and which subjects are censored where,
follows one of two published readings (the full table with sources is in ``docs/endpoints.md``):

- :data:`FDA_2018` (default): FDA guidance "Clinical Trial Endpoints for the Approval of Cancer Drugs
  and Biologics" (December 2018), PFS table "date of progression or censoring". New anticancer
  therapy before progression censors at the last adequate assessment before it; progression or
  death after two or more missed scheduled assessments is censored at the last adequate assessment
  before the missed visits.
- :data:`EMA_2012`: EMA "Guideline on the evaluation of anticancer medicinal products in man",
  Appendix 1 (EMA/CHMP/27994/2008/Rev.1, 2012), on PFS. The primary analysis counts events whatever
  the missed assessments and whatever further therapy was started (the FDA-style censorings are
  its sensitivity analyses).

Definitions used here (the charter decides in a real trial; these are the usual SAP wording):

- An *adequate assessment* is a follow-up timepoint whose overall response is anything other than
  ``NE`` (the read could evaluate the disease). The read showing PD is adequate.
- Scheduled assessments are due every ``interval_days`` from randomisation (day ``k * interval_days``,
  k = 1, 2, ...) with a window of ``+/- window_days``. A scheduled visit is *missed* when its whole
  window lies after the last adequate assessment and before the event: no assessment could have
  been done in it. "Two or more missed visits" therefore means the gap from the last adequate
  assessment (or randomisation) to the event spans two whole visit windows.
- Days are counted with the randomisation day as day 1 (CDISC study-day convention):
  ``pfs_days = date - randomisation_date + 1``; months are ``days / 30.4375``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from recist.endpoints.subjects import Subject
from recist.errors import RecistValidationError

__all__ = [
    "Visit",
    "SubjectAssessments",
    "VisitSchedule",
    "PfsRules",
    "FDA_2018",
    "EMA_2012",
    "CensoringReason",
    "PfsOutcome",
    "subject_assessments",
    "adequate_dates",
    "missed_visits",
    "pfs_outcome",
    "check_progression_date",
    "pfs_outcomes",
    "DAYS_PER_MONTH",
]

DAYS_PER_MONTH = 30.4375
"""Average days in a month (365.25 / 12): the usual divisor for PFS in months."""


class Visit(NamedTuple):
    """One follow-up read of one subject: its date and overall response (and % change, for plots)."""

    date: dt.date
    overall_response: str
    change_from_baseline_pct: float | None = None


@dataclass(frozen=True)
class SubjectAssessments:
    """What PFS and the response summaries need from one subject's final read.

    Attributes
    ----------
    subject
        Subject id.
    timepoints
        Follow-up reads (baseline excluded) as :class:`Visit` or ``(date, overall_response)`` tuples.
    progression_date
        Date of radiological progression from the read (``Assessment.progression.date``), or ``None``.
    best_overall_response
        ``CR``, ``PR``, ``SD``, ``NON-CR/NON-PD``, ``PD`` or ``NE``; ``None`` when not known.
    has_baseline
        Whether a baseline tumour assessment exists (a case file always has one).
    """

    subject: str
    timepoints: tuple[Visit, ...] = ()
    progression_date: dt.date | None = None
    best_overall_response: str | None = None
    has_baseline: bool = True

    def __post_init__(self) -> None:
        visits = tuple(Visit(*tp) for tp in self.timepoints)
        visits = tuple(v._replace(overall_response=_text(v.overall_response)) for v in visits)
        object.__setattr__(self, "best_overall_response", _text(self.best_overall_response))
        for visit in visits:
            if not isinstance(visit.date, dt.date):
                raise TypeError(f"subject {self.subject!r}: timepoint date must be a datetime.date, "
                                f"got {type(visit.date).__name__}")
        object.__setattr__(self, "timepoints", tuple(sorted(visits, key=lambda v: v.date)))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def subject_assessments(
    assessment: Any, *, baseline_date: dt.date | None = None, criteria: str = "RECIST 1.1"
) -> SubjectAssessments:
    """Convert a :class:`recist.Assessment` (or its ``to_dict()`` JSON) to :class:`SubjectAssessments`.

    Parameters
    ----------
    assessment
        The result of ``recist.assess(case)``, or the dict it serialises to.
    baseline_date
        Date of the baseline scan, needed only when the case gives follow-ups as ``day`` without
        ``date``. When a follow-up carries both, the baseline date is derived from it.
    criteria
        ``"RECIST 1.1"`` (default) or ``"iRECIST"``: the iRECIST reading of the assessment (a case
        assessed with ``criteria: "iRECIST"``), for iPFS and iBOR. Its progression is the confirmed
        progression, iCPD, dated to the iUPD it confirmed ([iR17]; docs/rules.md section H); an iUPD
        never confirmed is no event. Its visits are the i-responses up to iCPD (iUPD is an adequate
        assessment; none is assigned after iCPD).

    Raises
    ------
    RecistValidationError
        A follow-up without a date that cannot be dated (PFS needs calendar dates).
    """
    data = assessment if isinstance(assessment, Mapping) else assessment.to_dict()
    subject = str(data.get("subject", ""))
    timepoints = list(data.get("timepoints") or [])
    if criteria == "iRECIST":
        irecist = data.get("irecist")
        if not irecist:
            raise RecistValidationError(
                "has no iRECIST reading: assess it with protocol criteria 'iRECIST' (in the case file or the "
                "charter) for iPFS", source=f"subject {subject}")
        changes = {tp["label"]: tp.get("change_from_baseline_pct") for tp in timepoints}
        timepoints = [
            {**tp, "overall_response": tp["response"], "change_from_baseline_pct": changes.get(tp["label"])}
            for tp in irecist["timepoints"] if tp["response"] is not None
        ]
        confirmed = irecist.get("progression")
        data = {**data, "timepoints": timepoints, "best_overall_response": irecist["best_overall_response"],
                "progression": None if confirmed is None else confirmed["iupd"]}
    elif criteria != "RECIST 1.1":
        raise RecistValidationError(f"criteria must be 'RECIST 1.1' or 'iRECIST', not {criteria!r}")
    if baseline_date is None and data.get("baseline_date"):
        baseline_date = dt.date.fromisoformat(str(data["baseline_date"]))
    if baseline_date is None:
        for tp in timepoints:
            if tp.get("date") and tp.get("day") is not None:
                baseline_date = dt.date.fromisoformat(str(tp["date"])) - dt.timedelta(days=int(tp["day"]))
                break

    def _date_of(entry: Mapping[str, Any], what: str) -> dt.date:
        if entry.get("date"):
            return dt.date.fromisoformat(str(entry["date"]))
        if entry.get("day") is not None and baseline_date is not None:
            return baseline_date + dt.timedelta(days=int(entry["day"]))
        raise RecistValidationError(
            "has no date: PFS needs calendar dates; give the timepoint a `date` or pass baseline_date",
            source=f"subject {subject}", timepoint=str(entry.get("label") or what),
        )

    visits = [
        Visit(_date_of(tp, "follow-up"), str(tp.get("overall_response") or "NE"),
              tp.get("change_from_baseline_pct"))
        for tp in timepoints
    ]
    progression = data.get("progression")
    progression_date = _date_of(progression, "progression") if progression else None
    return SubjectAssessments(
        subject=subject,
        timepoints=tuple(visits),
        progression_date=progression_date,
        best_overall_response=_text(data.get("best_overall_response")),
    )


@dataclass(frozen=True)
class VisitSchedule:
    """The charter's tumour-assessment schedule, counted from randomisation (no default: a guessed
    schedule would silently change who is censored).

    Attributes
    ----------
    interval_days
        Days between scheduled assessments (e.g. 56 for every 8 weeks, 84 for every 12 weeks).
    window_days
        Allowed deviation either side of the due day (e.g. 7 for +/- 7 days).
    """

    interval_days: int
    window_days: int

    def __post_init__(self) -> None:
        if self.interval_days <= 0:
            raise RecistValidationError(f"interval_days must be positive, got {self.interval_days}",
                                        field="interval_days")
        if not 0 <= self.window_days * 2 < self.interval_days:
            raise RecistValidationError(
                f"window_days must be >= 0 and less than half the interval ({self.interval_days} days), "
                f"got {self.window_days}", field="window_days")


@dataclass(frozen=True)
class PfsRules:
    """Which censoring rules apply (the two readings differ only here)."""

    name: str
    censor_after_missed_visits: bool
    censor_at_new_therapy: bool
    source: str = ""


FDA_2018 = PfsRules(
    name="FDA 2018",
    censor_after_missed_visits=True,
    censor_at_new_therapy=True,
    source='FDA guidance "Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics" (2018), '
    'PFS table "date of progression or censoring"',
)
EMA_2012 = PfsRules(
    name="EMA 2012",
    censor_after_missed_visits=False,
    censor_at_new_therapy=False,
    source='EMA "Guideline on the evaluation of anticancer medicinal products in man", Appendix 1 '
    "(EMA/CHMP/27994/2008/Rev.1), primary analysis",
)


class CensoringReason(str, enum.Enum):
    """Why a subject is censored (values are the report's words)."""

    NO_BASELINE = "no baseline tumour assessment"
    NO_ADEQUATE_ASSESSMENT = "no adequate post-baseline assessment"
    NO_PROGRESSION = "no progression or death"
    DISCONTINUED = "treatment discontinued without documented progression"
    NEW_THERAPY = "new anticancer therapy before progression"
    MISSED_VISITS = "event after two or more missed visits"


@dataclass(frozen=True)
class PfsOutcome:
    """The PFS of one subject.

    Attributes
    ----------
    subject, arm, randomisation_date
        From the subjects table.
    event
        True for progression or death, False when censored.
    date
        Date of the event or of censoring.
    event_type
        ``"progression"`` or ``"death"`` for events, ``None`` when censored.
    censoring_reason
        Why censored; ``None`` for events.
    rule
        The row of the source table applied, in words (for the listing and the audit).
    """

    subject: str
    arm: str
    randomisation_date: dt.date
    event: bool
    date: dt.date
    event_type: str | None = None
    censoring_reason: CensoringReason | None = None
    rule: str = ""
    rules_name: str = field(default=FDA_2018.name)

    @property
    def days(self) -> int:
        """PFS in days, randomisation day = day 1."""
        return (self.date - self.randomisation_date).days + 1

    @property
    def months(self) -> float:
        """PFS in months (days / 30.4375)."""
        return self.days / DAYS_PER_MONTH

    def to_row(self) -> dict[str, Any]:
        """A flat dict for CSV listings."""
        return {
            "subject": self.subject,
            "arm": self.arm,
            "randomisation_date": self.randomisation_date.isoformat(),
            "pfs_date": self.date.isoformat(),
            "pfs_days": self.days,
            "pfs_months": round(self.months, 3),
            "event": int(self.event),
            "event_type": self.event_type or "",
            "censoring_reason": self.censoring_reason.value if self.censoring_reason else "",
            "rule": self.rule,
            "rules": self.rules_name,
        }


def adequate_dates(timepoints: Iterable[Visit], *, on_or_before: dt.date | None = None) -> list[dt.date]:
    """Dates of adequate assessments (overall response not ``NE``), sorted, optionally up to a date.

    FDA 2018 guidance (PFS analysis: "the protocol should define an adequate assessment visit");
    here an adequate assessment is a read whose overall response is evaluable (not NE).
    """
    dates = sorted(
        tp.date for tp in timepoints
        if tp.overall_response != "NE" and (on_or_before is None or tp.date <= on_or_before)
    )
    return dates


def missed_visits(
    last_adequate: dt.date, event_date: dt.date, *, randomisation_date: dt.date, schedule: VisitSchedule
) -> int:
    """Number of scheduled assessments whose whole window lies strictly between two dates.

    Visit k is due on ``randomisation_date + k * interval_days`` (k >= 1) with window
    ``+/- window_days``; it is missed when ``window start > last_adequate`` and
    ``window end < event_date`` (FDA 2018 guidance, PFS table: "death or progression after two or
    more missed visits").

    Examples
    --------
    >>> r = dt.date(2024, 1, 1)
    >>> missed_visits(r, r + dt.timedelta(days=200), randomisation_date=r,
    ...               schedule=VisitSchedule(interval_days=56, window_days=7))
    3
    """
    start = (last_adequate - randomisation_date).days
    end = (event_date - randomisation_date).days
    interval, window = schedule.interval_days, schedule.window_days
    # smallest k with k*interval - window > start; largest k with k*interval + window < end
    first = max(1, (start + window) // interval + 1)
    last = (end - window - 1) // interval
    return max(0, last - first + 1)


def _first_event(reads: SubjectAssessments, subject: Subject) -> tuple[dt.date, str] | None:
    """The earliest of radiological progression and death (PFS definition, FDA 2018 and EMA 2012)."""
    candidates = []
    if reads.progression_date is not None:
        candidates.append((reads.progression_date, "progression"))
    if subject.death_date is not None:
        candidates.append((subject.death_date, "death"))
    return min(candidates) if candidates else None


def check_progression_date(reads: SubjectAssessments, *, today: dt.date | None = None,
                           data_cutoff: dt.date | None = None) -> None:
    """Refuse a progression date that cannot be right.

    The date of progression is the date of the first time point that shows PD (rules R37 and, for an
    equivocal new lesion later confirmed, R24/R25: the date of the earlier scan, still a follow-up scan),
    so the date must be one of the subject's follow-up imaging dates; it cannot be in the future (``today``) nor after the data cut-off. A read
    written on other dates (the true dates of a blinded read, another subject's read) otherwise turns
    into a PFS of years (issue #14).

    Raises
    ------
    RecistValidationError
        Naming the subject, the progression date and the imaging dates.
    """
    date = reads.progression_date
    if date is None:
        return
    where = f"subject {reads.subject}"
    if today is not None and date > today:
        raise RecistValidationError(f"progression date {date.isoformat()} is in the future (today is "
                                    f"{today.isoformat()}): check the read's dates", source=where,
                                    field="progression_date")
    if data_cutoff is not None and date > data_cutoff:
        raise RecistValidationError(f"progression date {date.isoformat()} is after the data cut-off "
                                    f"{data_cutoff.isoformat()}: leave reads after the cut-off out of this analysis",
                                    source=where, field="progression_date")
    dates = [visit.date for visit in reads.timepoints]
    if date not in dates:
        span = f"{dates[0].isoformat()} to {dates[-1].isoformat()}" if dates else "none"
        raise RecistValidationError(f"progression date {date.isoformat()} is not one of the subject's follow-up "
                                    f"imaging dates ({span}): the read's dates do not fit its scans",
                                    source=where, field="progression_date")


def pfs_outcome(
    subject: Subject,
    reads: SubjectAssessments | None,
    *,
    schedule: VisitSchedule,
    rules: PfsRules = FDA_2018,
    today: dt.date | None = None,
    data_cutoff: dt.date | None = None,
) -> PfsOutcome:
    """The PFS event or censoring of one subject.

    Parameters
    ----------
    subject
        The subject's row of the subjects table.
    reads
        The subject's final tumour read, or ``None`` when the subject has no tumour assessment at all.
    schedule
        The charter's visit schedule (for missed visits).
    rules
        :data:`FDA_2018` (default) or :data:`EMA_2012`.
    today, data_cutoff
        When given, a progression date after either is refused (:func:`check_progression_date`).

    Returns
    -------
    PfsOutcome

    Raises
    ------
    RecistValidationError
        A read dated before randomisation, reads and subject that do not belong together, or a
        progression date that cannot be right (:func:`check_progression_date`).

    Notes
    -----
    The order of the checks is the order of the FDA 2018 table; see ``docs/endpoints.md``.
    """
    if reads is not None and reads.subject != subject.subject:
        raise RecistValidationError(
            f"reads of subject {reads.subject!r} passed for subject {subject.subject!r}", source="pfs"
        )
    rand = subject.randomisation_date

    def censored(date: dt.date, reason: CensoringReason, rule: str) -> PfsOutcome:
        return PfsOutcome(subject.subject, subject.arm, rand, False, date, None, reason, rule, rules.name)

    def event(date: dt.date, kind: str, rule: str) -> PfsOutcome:
        return PfsOutcome(subject.subject, subject.arm, rand, True, date, kind, None, rule, rules.name)

    if reads is None or not reads.has_baseline:
        return censored(rand, CensoringReason.NO_BASELINE,
                        "no baseline tumour assessment: censored at randomisation")
    check_progression_date(reads, today=today, data_cutoff=data_cutoff)
    for visit in reads.timepoints:
        if visit.date < rand:
            raise RecistValidationError(
                f"follow-up read dated {visit.date.isoformat()} is before randomisation "
                f"({rand.isoformat()}); check the case file dates or the subjects table",
                source=f"subject {subject.subject}",
            )
    adequate = adequate_dates(reads.timepoints)
    first = _first_event(reads, subject)

    if rules.censor_at_new_therapy and subject.new_therapy_date is not None:
        start = subject.new_therapy_date
        if first is None or first[0] > start:
            before = adequate_dates(reads.timepoints, on_or_before=start)
            return censored(before[-1] if before else rand, CensoringReason.NEW_THERAPY,
                            "new anticancer therapy started before progression: censored at the last "
                            "adequate assessment on or before its start")

    if first is None:
        if not adequate:
            return censored(rand, CensoringReason.NO_ADEQUATE_ASSESSMENT,
                            "no adequate post-baseline assessment: censored at randomisation")
        if subject.discontinuation_date is not None:
            return censored(adequate[-1], CensoringReason.DISCONTINUED,
                            "treatment discontinued without documented progression: censored at the "
                            "last adequate assessment")
        return censored(adequate[-1], CensoringReason.NO_PROGRESSION,
                        "no progression: censored at the last adequate assessment")

    event_date, kind = first
    # the reads before the event: a progression's own read is the event, but a scan on the day of a
    # death shows follow-up up to the death (FDA 2018 table: missed visits must precede the event)
    prior = [d for d in adequate if d < event_date or (kind == "death" and d == event_date)]
    last = prior[-1] if prior else rand
    if rules.censor_after_missed_visits:
        missed = missed_visits(last, event_date, randomisation_date=rand, schedule=schedule)
        if missed >= 2:
            return censored(last, CensoringReason.MISSED_VISITS,
                            f"{kind} after {missed} missed visits: censored at the last adequate "
                            "assessment before them" + ("" if prior else " (randomisation)"))
    if kind == "progression":
        return event(event_date, kind, "progression documented: event at the date of the read showing it")
    if not prior:
        return event(event_date, kind, "death before the first adequate assessment: event at death")
    return event(event_date, kind, "death between adequate assessment visits: event at death")


def pfs_outcomes(
    subjects: Sequence[Subject],
    reads: Mapping[str, SubjectAssessments],
    *,
    schedule: VisitSchedule,
    rules: PfsRules = FDA_2018,
    today: dt.date | None = None,
    data_cutoff: dt.date | None = None,
) -> list[PfsOutcome]:
    """PFS of every subject of the subjects table, in table order.

    Subjects without reads are censored at randomisation (no baseline). Reads of a subject that is
    not in the table raise :class:`RecistValidationError` (they cannot be assigned an arm).
    """
    known = {s.subject for s in subjects}
    stray = sorted(set(reads) - known)
    if stray:
        raise RecistValidationError(
            "reads for subject(s) missing from the subjects table: " + ", ".join(stray)
            + "; add them to the subjects CSV (with randomisation date and arm)", source="pfs")
    return [pfs_outcome(s, reads.get(s.subject), schedule=schedule, rules=rules, today=today, data_cutoff=data_cutoff)
            for s in subjects]
