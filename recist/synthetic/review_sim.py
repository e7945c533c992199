"""Run the blinded independent central review of a simulated trial (:mod:`recist.synthetic.trial_sim`).

:func:`run_central_review` files a :class:`~recist.synthetic.trial_sim.SimulatedTrial` into a review project
the way a real review goes: the administrator (PM1) creates the project from the trial's charter and
adds every subject with its scan dates (no DICOM series: the reads are already made); each reader saves
and signs their read, written on the pseudonym and the shifted dates they would see in their reader
package; the investigator reads are imported; then a scripted adjudicator (ADJ1) settles every subject
whose reads disagree on a charter trigger.

The scripted adjudicator sees only Read A and Read B (case and assessment), as a real one does, and
picks the read whose outcome is nearer the subject's true course, which a real adjudicator judges from
the images: first the progression status and date (days since baseline) against the true progression,
then the best overall response against the true one. Ties are broken by the reads' content, never by
their A/B label (which depends on the project secret): the read with the earlier progression, then the
smaller sum of diameters at the last timepoint, then the smaller SHA-256 of the case. The reason names
both reads' outcomes, like a written adjudication rationale.

Reproducibility: with ``seed``, the project secret (pseudonyms, date shifts, A/B labels, UIDs) is derived
from the seed (:func:`simulation_secret`; simulated projects only, marked ``"simulated": true``) and the
clock is the caller's ``now`` plus one second per action, so the same trial, seed and ``now`` give the
same project, byte for byte.

:func:`adjudication_triggers` predicts the same disagreements without a project (pure and fast), for
tuning and for the summary of ``recist simulate``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recist._atomic import atomic_write_json
from recist.model.validate import parse_case
from recist.review.adjudication import fired_triggers, outcome_of
from recist.review.charter import Charter, parse_charter
from recist.review.workflow import ReviewProject, SubjectTimepoint
from recist.rules.assess import assess_case
from recist.synthetic.trial_sim import READERS, SITE_READER, SimulatedSubject, SimulatedTrial

__all__ = [
    "ADMINISTRATOR",
    "ADJUDICATOR",
    "CentralReviewSummary",
    "adjudication_triggers",
    "choose_read",
    "run_central_review",
    "simulation_secret",
    "review_start",
]

log = logging.getLogger(__name__)

ADMINISTRATOR = "PM1"
ADJUDICATOR = "ADJ1"


@dataclass(frozen=True)
class CentralReviewSummary:
    """What :func:`run_central_review` did: the project, counts and where the final reads went."""

    project_dir: Path
    subjects: int
    adjudicated: int
    triggers: dict[str, int]
    final_cases_dir: Path | None

    @property
    def adjudication_rate(self) -> float:
        """Fraction of subjects that needed adjudication (0 for an empty trial)."""
        return self.adjudicated / self.subjects if self.subjects else 0.0


def _assessed_outcome(case: Mapping[str, Any], protocol: Mapping[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(dict(case))
    data["protocol"] = {**(data.get("protocol") or {}), **protocol}
    return outcome_of(assess_case(parse_case(data)).to_dict())


def adjudication_triggers(trial: SimulatedTrial) -> dict[str, list[str]]:
    """Per subject, the charter triggers on which R1's and R2's reads disagree (empty: no adjudication).

    The same rule the review project applies at signing (:func:`recist.review.adjudication.fired_triggers`
    on the assessments with the charter's protocol options), without writing a project.
    """
    charter = parse_charter(trial.charter)
    protocol = charter.protocol.overrides()
    out = {}
    for s in trial.subjects:
        a, b = (_assessed_outcome(s.reads[r].case, protocol) for r in READERS)
        out[s.subject] = fired_triggers(a, b, triggers=charter.adjudication.triggers,
                                        tolerance_days=charter.adjudication.progression_date_tolerance_days)
    return out


def _true_day(subject: SimulatedSubject) -> int | None:
    if subject.true_progression_date is None:
        return None
    return (subject.true_progression_date - subject.scans[0].date).days


def _distance(outcome: Mapping[str, Any], subject: SimulatedSubject) -> tuple[int, int]:
    """How far a read's outcome is from the true course: (progression days off, BOR differs)."""
    true_day = _true_day(subject)
    progression = outcome.get("progression")
    read_day = progression.get("day") if progression else None
    if true_day is None and read_day is None:
        off = 0
    elif true_day is None or read_day is None:
        # a progression the truth does not have, or a missed one: worse than any date difference
        off = 10_000
    else:
        off = abs(int(read_day) - true_day)
    return off, int(outcome.get("best_overall_response") != subject.true_best_overall_response)


def _describe(outcome: Mapping[str, Any]) -> str:
    progression = outcome.get("progression")
    where = (f"progression at {progression.get('label')} ({progression.get('trigger')})" if progression
             else "no progression")
    return f"{where}, best overall response {outcome.get('best_overall_response')}"


def review_start(trial: SimulatedTrial) -> dt.datetime:
    """When the simulated review starts: 09:00 UTC the day after the data cut-off (a fixed time, so that a
    seed gives the same audit trail and report every run)."""
    return dt.datetime.combine(trial.data_cutoff + dt.timedelta(days=1), dt.time(9, 0), tzinfo=dt.timezone.utc)


def simulation_secret(seed: int) -> bytes:
    """The project secret of a simulated review with ``seed`` (never used for a real project)."""
    return hashlib.sha256(f"recist simulated central review, seed {int(seed)}".encode()).digest()


def _content_key(read: Mapping[str, Any]) -> tuple[int, float, str]:
    """A tie-break from a read's content: earlier progression first, then smaller last sum, then case hash."""
    progression = read["assessment"].get("progression") or {}
    day = progression.get("day")
    timepoints = read["assessment"].get("timepoints") or []
    last_sum = timepoints[-1].get("sum_mm") if timepoints else None
    digest = hashlib.sha256(json.dumps(read["case"], sort_keys=True).encode()).hexdigest()
    return (int(day) if day is not None else 1 << 30, float(last_sum) if last_sum is not None else float("inf"), digest)


def choose_read(reads: Mapping[str, Mapping[str, Any]], subject: SimulatedSubject) -> tuple[str, str]:
    """The scripted adjudicator: ``("A" or "B", reason)`` for the read nearer the true course.

    ``reads`` is what an adjudicator is shown: ``{"A": {"case", "assessment"}, "B": {...}}``. The choice
    depends on the reads' content only: swapping the labels swaps the answer.
    """
    outcomes = {ab: outcome_of(read["assessment"]) for ab, read in reads.items()}
    distances = {ab: _distance(outcome, subject) for ab, outcome in outcomes.items()}
    keys = {ab: (distances[ab], _content_key(reads[ab])) for ab in ("A", "B")}
    choice = "B" if keys["B"] < keys["A"] else "A"
    other = "B" if choice == "A" else "A"
    if distances[choice][0] < distances[other][0]:
        why = "its progression assessment matches the images better"
    elif distances[choice][1] < distances[other][1]:
        why = "its best overall response matches the images better"
    else:
        why = "both are defensible; the earlier progression (or smaller tumour burden) kept"
    reason = (f"Read {choice} ({_describe(outcomes[choice])}) over Read {other} ({_describe(outcomes[other])}): "
              f"{why}")
    return choice, reason


def _shifted(case: Mapping[str, Any], pseudonym: str, shift_days: int, charter: Charter) -> dict[str, Any]:
    """The case as a reader writes it from the reader package: pseudonym, package labels, shifted dates."""
    data = copy.deepcopy(dict(case))
    data["subject"] = pseudonym
    for number, tp in enumerate(data["timepoints"]):
        tp["label"] = charter.package_label(number, tp["label"])
        tp["date"] = (dt.date.fromisoformat(tp["date"]) + dt.timedelta(days=shift_days)).isoformat()
    return data


class _Clock:
    """A scripted clock: one second per action from ``start`` (reproducible audit trails)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start if start.tzinfo else start.replace(tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


def _progress(items: list[SimulatedSubject], progress: Callable[[Iterable[Any]], Iterable[Any]] | None,
              ) -> Iterable[SimulatedSubject]:
    return progress(items) if progress else items


def run_central_review(
    trial: SimulatedTrial,
    project_dir: str | os.PathLike[str],
    *,
    now: dt.datetime,
    final_cases_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    seed: int | None = None,
) -> CentralReviewSummary:
    """Run the whole central review of ``trial`` in the new folder ``project_dir``.

    Parameters
    ----------
    trial
        The simulated trial (its charter names R1, R2, ADJ1 and PM1).
    project_dir
        A new or empty folder for the review project.
    now
        Time of the first action; each later action is one second after the one before.
    final_cases_dir
        If given, each subject's final read (the agreed Read A or the adjudicator's choice) is written
        there as ``<subject>.json`` with the subject id and calendar dates: the input of
        ``recist report SOURCE --subjects subjects.csv``.
    progress
        Wraps the subject list (e.g. a tqdm progress bar).
    seed
        Derive the project secret from this seed (:func:`simulation_secret`): with the same trial and
        ``now`` the project is the same byte for byte. Without it the secret is random, as in a real review.

    Returns
    -------
    CentralReviewSummary
    """
    clock = _Clock(now)
    project = ReviewProject.init(project_dir, trial.charter, as_=ADMINISTRATOR, now=clock(),
                                 simulation_secret=None if seed is None else simulation_secret(seed))
    by_id = {s.subject: s for s in trial.subjects}
    by_pseudonym: dict[str, SimulatedSubject] = {}
    for s in _progress(list(trial.subjects), progress):
        tps = [SubjectTimepoint(scan.label, scan.date, ()) for scan in s.scans]
        # simulated subjects have no images: recorded (and audited) as not checked
        pseudonym = project.add_subject(s.subject, tps, as_=ADMINISTRATOR, now=clock(), check_images=False)
        by_pseudonym[pseudonym] = s
        shift = project.date_shift_days(s.subject)
        for reader in READERS:
            project.save_read(pseudonym, _shifted(s.reads[reader].case, pseudonym, shift, project.charter), as_=reader,
                              now=clock())
            project.sign(pseudonym, as_=reader, now=clock())
        project.import_site_read(s.subject, s.reads[SITE_READER].case, as_=ADMINISTRATOR, now=clock())
    triggers: dict[str, int] = {}
    adjudicated = 0
    for row in project.status(as_=ADJUDICATOR, now=clock()):
        shown = project.show(row["subject"], as_=ADJUDICATOR, now=clock())
        choice, reason = choose_read(shown["reads"], by_pseudonym[row["subject"]])
        project.adjudicate(row["subject"], choose=choice, reason=reason, as_=ADJUDICATOR, now=clock())
        adjudicated += 1
        for trigger in row["triggers"]:
            triggers[trigger] = triggers.get(trigger, 0) + 1
    out_dir = None
    if final_cases_dir is not None:
        out_dir = Path(final_cases_dir)
        for result in project.results(as_=ADMINISTRATOR, now=clock()):
            case = by_id[result["subject"]].reads[result["reader"]].case
            atomic_write_json(out_dir / f"{result['subject']}.json", case)
    log.info("central review of %d subjects: %d adjudicated", len(trial.subjects), adjudicated)
    return CentralReviewSummary(Path(project_dir), len(trial.subjects), adjudicated, triggers, out_dir)

