"""The batch: assess every subject of a trial, compute the endpoints and write the report in one run.

``recist batch SOURCE --subjects subjects.csv --out OUT`` (see ``docs/batch.md``). SOURCE is either

- a folder of case files (``*.json``, one final read per subject), or
- a blinded central-review project (recognised by its ``project.json`` marker,
  :class:`recist.review.workflow.ReviewProject`): each subject's FINAL read is the read
  :meth:`ReviewProject.results` names (Read A when the two readers agree, else the adjudicator's
  choice); its signed case is re-assessed with the charter's protocol options, its dates are moved back
  from the readers' shifted calendar to the true one, and the reader-agreement figures
  (:meth:`ReviewProject.report`) go into the report. PFS then uses the charter's visit schedule.

Steps: assessment of every subject (serially, in worker processes, or on a Dask cluster: the same
:func:`assess_chunk` everywhere, over chunks of subjects so that per-task overhead stays small), PFS per
subject, per-arm summaries, figures and the HTML report with its CSV tables
(:func:`recist.export.report.write_report`).

The arms are named (``arms`` and ``control_arm``, or a review charter's): an arm value of the subjects
table outside them stops the run before anything is written, naming the row
(:func:`recist.trial.sources.load_subjects`). An optional data cut-off cuts every read to its scans up to
that date before assessment (:mod:`recist.endpoints.cutoff`). ``recist report`` runs the same pipeline
with ``on_problem="stop"`` and ``without_read="censor"``.

Bad input is collected, not fatal, when it concerns one subject: a row of the subjects table that does
not parse (bad date, empty arm, duplicate id ...), a case that does not validate, a subject without a
read, a read without a subject, two reads of one subject, a review subject still awaiting reads or
adjudication, a read dated before randomisation. Each becomes a :class:`Problem` naming the file, the
row (subjects table) and the field; the subject is left out of the analysis, the rest is finished, and
the problems are written to ``OUT/problems.csv`` (always written, header only when there is none). A
report with problems is titled as a draft. Problems with the whole input (a missing column, an
unreadable subjects file, a SOURCE that is neither a folder of cases nor a review project) raise
:class:`~recist.errors.RecistValidationError` before anything is written.

Choices where the workflow is silent:

- Subjects left out are left out of every denominator (they are not counted as NE): the batch cannot
  tell a data-entry error from a real subject without reads, so the report is a draft until the
  problems are fixed; its disposition table and methods say who was left out and why, per arm.
- A re-assessment of a review read that disagrees with the assessment stored at signing (best overall
  response or progression date) is a problem: the recist version changed since signing and the read
  must be re-signed (amended) before its result is used.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from recist._atomic import atomic_write_text
from recist.endpoints.arms import ArmPlan, arm_plan
from recist.endpoints.cutoff import subject_at_cutoff
from recist.endpoints.disposition import disposition
from recist.endpoints.pfs import (
    FDA_2018,
    PfsOutcome,
    PfsRules,
    SubjectAssessments,
    VisitSchedule,
    pfs_outcome,
)
from recist.endpoints.subjects import Subject
from recist.endpoints.summary import TrialSummary, summarise
from recist.errors import RecistError, RecistValidationError
from recist.export.report import ReportFiles, ReportInputs, headline, write_report
from recist.trial.sources import (
    LEFT_OUT_AFTER_CUTOFF,
    LEFT_OUT_BAD_READ,
    LEFT_OUT_BEFORE_RANDOMISATION,
    LEFT_OUT_CHANGED,
    LEFT_OUT_NO_READ,
    LEFT_OUT_TWO_READS,
    PROJECT_MARKER,
    ItemResult,
    Problem,
    SubjectsTable,
    WorkItem,
    assess_chunk,
    assess_item,
    folder_items,
    is_review_project,
    load_subjects,
    review_charter,
    review_source,
)

__all__ = [
    "PROJECT_MARKER",
    "Problem",
    "WorkItem",
    "ItemResult",
    "BatchResult",
    "SubjectsTable",
    "load_subjects",
    "is_review_project",
    "folder_items",
    "assess_item",
    "assess_chunk",
    "chunk_size",
    "run_items",
    "run_batch",
    "batch_headline",
    "problems_csv",
]

logger = logging.getLogger(__name__)

PROBLEM_COLUMNS = ("subject", "file", "row", "field", "problem")

DASK_CONNECT_TIMEOUT_S = 20.0
"""Seconds to wait for a Dask scheduler to answer before giving up."""

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` with the number of subjects assessed so far."""

@dataclass(frozen=True)
class BatchResult:
    """What :func:`run_batch` did.

    Attributes
    ----------
    report
        The files of the report (``None`` when no subject was usable).
    problems_csv
        ``OUT/problems.csv``.
    problems
        Every bad subject, in the order found.
    subjects
        The subjects analysed (table order).
    summary
        The per-arm summary (``None`` without a report).
    agreement
        The reader-agreement figures of a review project, else ``None``.
    source_kind
        ``"cases"`` or ``"review"``.
    arms
        The arm plan used.
    disposition
        Per-arm :class:`~recist.endpoints.disposition.ArmDisposition`.
    """

    report: ReportFiles | None
    problems_csv: Path
    problems: tuple[Problem, ...]
    subjects: tuple[Subject, ...]
    summary: TrialSummary | None
    agreement: Mapping[str, Any] | None
    source_kind: str
    arms: ArmPlan | None = None
    disposition: tuple[Any, ...] = ()

def chunk_size(n_items: int, parallelism: int) -> int:
    """Items per task: about 8 tasks per worker (for balance and progress), at most 256 items each."""
    return max(1, min(256, math.ceil(n_items / max(1, parallelism * 8))))


def _chunks(items: Sequence[WorkItem], size: int) -> list[list[WorkItem]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _run_processes(chunks: list[list[WorkItem]], workers: int, done: Callable[[int, list[ItemResult]], None]) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(assess_chunk, chunk): index for index, chunk in enumerate(chunks)}
        for future in as_completed(futures):
            done(futures[future], future.result())


def _run_dask(chunks: list[list[WorkItem]], address: str, done: Callable[[int, list[ItemResult]], None]) -> None:
    from distributed import Client, as_completed

    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise RecistError(f"cannot connect to the Dask scheduler at {address} ({exc}); start one "
                          "(`dask scheduler` and `dask worker ADDRESS`) or check the address") from None
    with client:
        futures = client.map(assess_chunk, chunks, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        for future in as_completed(futures):
            done(index[future.key], future.result())


def run_items(
    items: Sequence[WorkItem], *, workers: int = 1, scheduler: str | None = None, progress: Progress | None = None,
) -> list[ItemResult]:
    """Assess every item; results in item order, whatever ran them.

    Parameters
    ----------
    items
        The reads to assess.
    workers
        Number of worker processes (``concurrent.futures.ProcessPoolExecutor``); 1 runs in this process.
    scheduler
        Address of a Dask distributed scheduler (``tcp://host:8786``); the chunks run there instead.
    progress
        Called with ``(done, total)`` after each chunk.
    """
    if workers < 1:
        raise RecistValidationError(f"--workers must be at least 1, not {workers}", field="workers")
    total = len(items)
    chunks = _chunks(items, chunk_size(total, 1 if scheduler is None and workers == 1 else max(workers, 2)))
    results: list[list[ItemResult] | None] = [None] * len(chunks)
    finished = 0

    def done(index: int, chunk_results: list[ItemResult]) -> None:
        nonlocal finished
        results[index] = chunk_results
        finished += len(chunk_results)
        if progress is not None:
            progress(finished, total)

    if scheduler is not None:
        _run_dask(chunks, scheduler, done)
    elif workers > 1 and len(chunks) > 1:
        _run_processes(chunks, workers, done)
    else:
        for index, chunk in enumerate(chunks):
            done(index, assess_chunk(chunk))
    return [result for chunk_results in results for result in chunk_results or ()]


# ---------------------------------------------------------------------------------------- the batch
def run_batch(
    source: str | os.PathLike[str],
    subjects_csv: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    now: dt.datetime,
    version: str,
    interval_days: int | None = None,
    window_days: int | None = None,
    rules: PfsRules = FDA_2018,
    arms: Sequence[str] | None = None,
    control_arm: str | None = None,
    cutoff: dt.date | None = None,
    strata: Sequence[str] = (),
    study_id: str | None = None,
    title: str = "RECIST 1.1 trial report",
    workers: int = 1,
    scheduler: str | None = None,
    as_: str | None = None,
    progress: Progress | None = None,
    on_problem: Literal["leave out", "stop"] = "leave out",
    without_read: Literal["leave out", "censor"] = "leave out",
    ignore_verify: bool = False,
) -> BatchResult:
    """Assess, compute endpoints and write the report of every subject of ``source`` (see module docstring).

    Parameters
    ----------
    source
        A folder of case files or a review project.
    subjects_csv
        The subjects table (:mod:`recist.endpoints.subjects`).
    out
        Output folder: ``report.html``, the CSV tables, ``adtte.csv``/``adtte.xpt``, ``figures/*.svg`` and
        ``problems.csv``.
    now
        Generation time shown in the report (the library reads no clock).
    version
        The recist version named in the report.
    interval_days, window_days
        The visit schedule. Required (interval) for a folder of cases; a review project uses its charter's
        and refuses a different one. ``window_days`` defaults to 7 days for a folder.
    rules
        PFS censoring rules (:data:`~recist.endpoints.pfs.FDA_2018` or ``EMA_2012``).
    arms, control_arm
        The randomised arms and the control (:class:`~recist.endpoints.arms.ArmPlan`); a review project
        may take them from its charter. Required: a subject whose arm is not listed is an error naming
        its row.
    cutoff
        Data cut-off date: scans, deaths and other dates after it are not used; subjects randomised
        after it are left out (:mod:`recist.endpoints.cutoff`).
    strata
        Stratification-factor columns of the subjects table: adds the stratified log-rank test and Cox
        model.
    study_id
        STUDYID of the ADTTE dataset (default: a review project's trial name, else SOURCE's folder name).
    title
        Report title.
    workers, scheduler
        Worker processes, or a Dask scheduler address (see :func:`run_items`).
    as_
        The administrator who exports a review project's results (default: the charter's first one).
    ignore_verify
        Take results from a review project that fails ``recist review verify`` (forensic use; each
        verify problem is listed as a problem of the batch). Without it such a project is refused.
    progress
        Progress callback of the assessment step.
    on_problem
        ``"leave out"`` (``recist batch``): a bad subject is left out and listed; ``"stop"``
        (``recist report``): the first problem raises :class:`RecistValidationError`.
    without_read
        A randomised subject without a read: ``"leave out"`` (a problem) or ``"censor"`` (analysed:
        BOR NE, PFS censored at randomisation, FDA 2018 "no baseline tumour assessment").

    Raises
    ------
    RecistValidationError
        Problems with the whole input (see the module docstring).
    """
    root = Path(source)
    review = is_review_project(root)
    given_arms = tuple(arms) if arms else ()
    charter = review_charter(root) if review else None
    if charter is not None and not given_arms and control_arm is None:
        given_arms, control_arm = charter.arms, charter.control_arm
    if study_id is None:
        study_id = charter.trial if charter is not None else root.resolve().name
    if charter is not None and charter.data_cutoff is not None:
        if cutoff is not None and cutoff > charter.data_cutoff:
            raise RecistValidationError(
                f"--cutoff {cutoff.isoformat()} is after the charter's data cut-off "
                f"{charter.data_cutoff.isoformat()}: give an earlier date or none", source=str(root))
        cutoff = cutoff or charter.data_cutoff
    found = () if given_arms and control_arm is not None else load_subjects(subjects_csv, strata_columns=strata).arm_of
    plan = arm_plan(given_arms, control_arm, found=list(found.values()) if isinstance(found, dict) else found)
    table = load_subjects(subjects_csv, plan=plan, strata_columns=strata)
    problems = list(table.problems)

    def stop_at_first_problem() -> None:
        if on_problem == "stop" and problems:
            first = problems[0]
            raise RecistValidationError(first.message, source=first.file,
                                        field=", ".join(x for x in (f"row {first.row}" if first.row else "",
                                                                    first.field or "") if x) or None)

    stop_at_first_problem()
    subjects_in, after_cutoff = [], []
    for subject in table.subjects:
        known = subject if cutoff is None else subject_at_cutoff(subject, cutoff)
        (subjects_in if known is not None else after_cutoff).append(known or subject)
    arm_of = {s: a for s, a in table.arm_of.items() if a in plan.arms}
    signed: dict[str, tuple[str | None, str | None]] = {}
    agreement = None
    if review:
        kind = "review"
        reviewed = review_source(root, as_=as_, now=now, arm_of=arm_of, cutoff=cutoff, ignore_verify=ignore_verify)
        visits = reviewed.schedule
        if interval_days is not None and interval_days != visits.interval_days:
            raise RecistValidationError(
                f"--interval-days {interval_days} differs from the charter's visit schedule "
                f"({visits.interval_days} days): leave it out for a review project", source=str(root))
        if window_days is not None and window_days != visits.window_days:
            raise RecistValidationError(
                f"--window-days {window_days} differs from the charter's visit window "
                f"({visits.window_days} days): leave it out for a review project", source=str(root))
        items, schedule, agreement, signed = reviewed.items, visits, reviewed.agreement, reviewed.signed
        problems += reviewed.problems
    else:
        kind = "cases"
        if interval_days is None:
            raise RecistValidationError("a folder of case files needs the charter's visit schedule: give "
                                        "--interval-days DAYS (e.g. 56 = every 8 weeks)", source=str(root))
        items = folder_items(root, cutoff=cutoff)
        schedule = VisitSchedule(interval_days, 7 if window_days is None else window_days)
    stop_at_first_problem()

    results = run_items(items, workers=workers, scheduler=scheduler, progress=progress)
    by_subject: dict[str, list[ItemResult]] = {}
    for result in results:
        if result.problem is not None:
            problems.append(result.problem)
        else:
            by_subject.setdefault(result.subject or "", []).append(result)
    stop_at_first_problem()

    excluded = {p.subject for p in table.problems if p.subject}
    known = {s.subject for s in table.subjects}
    reads: dict[str, SubjectAssessments] = {}
    dropped: dict[str, int] = {}
    for subject, found in by_subject.items():
        if subject in excluded:
            continue
        if subject not in known:
            for result in found:
                problems.append(Problem(result.source, f"no row for this subject in the subjects table {subjects_csv}; "
                                        "add it (randomisation date, arm) or remove the read", subject, None, "subject"))
            continue
        if len(found) > 1:
            problems.append(Problem(", ".join(r.source for r in found), "more than one read of this subject; keep one "
                                    "final read per subject (all left out)", subject, None, "subject",
                                    LEFT_OUT_TWO_READS))
            continue
        read, whole = found[0].reads, found[0].full or found[0].reads
        assert read is not None and whole is not None
        if subject in signed:
            bor, progression = signed[subject]
            now_prog = None if whole.progression_date is None else whole.progression_date.isoformat()
            if (bor, progression) != (whole.best_overall_response, now_prog):
                problems.append(Problem(found[0].source, f"re-assessment gives BOR {whole.best_overall_response}, "
                                        f"progression {now_prog} but the signed read has BOR {bor}, progression "
                                        f"{progression}: amend and re-sign the read with this recist version",
                                        subject, None, "assessment", LEFT_OUT_CHANGED))
                continue
        reads[subject] = read
        dropped[subject] = found[0].dropped
    with_read = set(reads)
    failed = {p.subject for p in problems if p.subject}
    if without_read == "leave out":
        for subject in table.subjects:
            if subject.subject not in reads and subject.subject not in failed:
                problems.append(Problem(str(subjects_csv), f"no read of this subject in {root}", subject.subject,
                                        table.rows.get(subject.subject), "subject", LEFT_OUT_NO_READ))
    stop_at_first_problem()

    analysed: list[Subject] = []
    outcomes: list[PfsOutcome] = []
    failed = {p.subject for p in problems if p.subject}
    for subject in subjects_in:
        if subject.subject in failed or (subject.subject not in reads and without_read == "leave out"):
            continue
        try:
            outcomes.append(pfs_outcome(subject, reads.get(subject.subject), schedule=schedule, rules=rules,
                                        today=now.date(), data_cutoff=cutoff))
        except RecistValidationError as exc:
            if exc.field == "progression_date":
                problems.append(Problem(str(root), exc.message, subject.subject, None, "progression_date",
                                        LEFT_OUT_BAD_READ))
            else:
                problems.append(Problem(str(subjects_csv), exc.message, subject.subject,
                                        table.rows.get(subject.subject), "randomisation_date",
                                        LEFT_OUT_BEFORE_RANDOMISATION))
            stop_at_first_problem()
            continue
        analysed.append(subject)
    kept_reads = {s.subject: reads[s.subject] for s in analysed if s.subject in reads}

    left_out = {p.subject: p.reason for p in problems if p.subject and p.reason}
    left_out.update({s.subject: LEFT_OUT_AFTER_CUTOFF for s in after_cutoff})
    flow = disposition(plan.arms, arm_of, with_read, {s.subject for s in analysed}, left_out)

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    problems_path = out_dir / "problems.csv"
    atomic_write_text(problems_path, problems_csv(problems))
    if problems:
        title = f"{title} (DRAFT: {len(problems)} problem(s), see problems.csv)"
    report, summary = None, None
    if analysed:
        summary = summarise(analysed, kept_reads, outcomes, control_arm=plan.control, arms=plan.arms,
                            strata=bool(strata))
        report = write_report(out_dir, ReportInputs(
            subjects=analysed, reads=kept_reads, outcomes=outcomes, summary=summary, rules=rules,
            schedule=schedule, generated=now, version=version, title=title, agreement=agreement,
            disposition=flow, cutoff=cutoff, strata=tuple(strata), source_kind=kind, without_read=without_read,
            scans_after_cutoff=sum(dropped.get(s.subject, 0) for s in analysed), study_id=study_id,
        ))
    logger.info("batch of %s: %d subjects analysed, %d problem(s)", root, len(analysed), len(problems))
    return BatchResult(report, problems_path, tuple(problems), tuple(analysed), summary, agreement, kind, plan,
                       tuple(flow))


def problems_csv(problems: Sequence[Problem]) -> str:
    """The ``problems.csv`` text: one row per problem (subject, file, row, field, problem)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(PROBLEM_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(p.to_row() for p in problems)
    return buffer.getvalue()


def batch_headline(result: BatchResult) -> list[str]:
    """The headline lines of a batch: per arm N, ORR and median PFS with events; HR and log-rank; DCR;
    and for a review project the adjudication rate."""
    lines: list[str] = []
    if result.summary is not None:
        lines += headline(result.summary)
        lines += [f"{r.arm}: DCR {r.dcr.format()}" for r in result.summary.responses]
    if result.agreement is not None:
        adjudication = result.agreement["adjudication"]
        n = result.agreement["subjects_with_two_signed_reads"]
        rate = adjudication["rate"]
        lines.append(f"adjudication: {adjudication['needed']} of {n} subjects with two signed reads"
                     + ("" if rate is None else f" ({100 * rate:.1f}%)"))
    return lines
