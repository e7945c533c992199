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
  problems are fixed.
- A re-assessment of a review read that disagrees with the assessment stored at signing (best overall
  response or progression date) is a problem: the recist version changed since signing and the read
  must be re-signed (amended) before its result is used.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import logging
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recist._atomic import atomic_write_text
from recist.endpoints.pfs import (
    FDA_2018,
    PfsOutcome,
    PfsRules,
    SubjectAssessments,
    VisitSchedule,
    pfs_outcome,
    subject_assessments,
)
from recist.endpoints.subjects import Subject, parse_subjects, read_subjects
from recist.endpoints.summary import TrialSummary, summarise
from recist.errors import RecistError, RecistValidationError
from recist.export.report import ReportFiles, ReportInputs, headline, write_report

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

PROJECT_MARKER = "project.json"
"""The file that marks a folder as a central-review project (:class:`recist.review.workflow.ReviewProject`)."""

PROBLEM_COLUMNS = ("subject", "file", "row", "field", "problem")

DASK_CONNECT_TIMEOUT_S = 20.0
"""Seconds to wait for a Dask scheduler to answer before giving up."""

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` with the number of subjects assessed so far."""


@dataclass(frozen=True)
class Problem:
    """One bad subject: where (file, row of the subjects table, field) and what is wrong."""

    file: str
    message: str
    subject: str | None = None
    row: int | None = None
    field: str | None = None

    def to_row(self) -> dict[str, Any]:
        """The ``problems.csv`` row (empty cells for unknown parts)."""
        return {"subject": self.subject or "", "file": self.file, "row": "" if self.row is None else self.row,
                "field": self.field or "", "problem": self.message}

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field {self.field}")
        who = f"subject {self.subject}: " if self.subject else ""
        return f"{', '.join(where)}: {who}{self.message}"


@dataclass(frozen=True)
class WorkItem:
    """One read to assess.

    Attributes
    ----------
    source
        Where the read comes from (a case file path or a description), for messages.
    case
        The path of a case file, or a case dict.
    subject
        The true subject id when the case names another (a review read names the pseudonym).
    date_shift_days
        Days the read's dates are shifted from the calendar (review reads: the de-identification
        shift); subtracted from every date of the assessment.
    """

    source: str
    case: str | dict[str, Any]
    subject: str | None = None
    date_shift_days: int = 0


@dataclass(frozen=True)
class ItemResult:
    """The outcome of one :class:`WorkItem`: the subject's reads for the endpoints, or a problem."""

    source: str
    subject: str | None
    reads: SubjectAssessments | None
    problem: Problem | None


@dataclass(frozen=True)
class SubjectsTable:
    """The usable rows of the subjects table, the row number of each subject and the bad rows."""

    subjects: list[Subject]
    rows: dict[str, int]
    problems: list[Problem]


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
    """

    report: ReportFiles | None
    problems_csv: Path
    problems: tuple[Problem, ...]
    subjects: tuple[Subject, ...]
    summary: TrialSummary | None
    agreement: Mapping[str, Any] | None
    source_kind: str


# ---------------------------------------------------------------------------------------- subjects table
def _row_of_error(exc: RecistValidationError) -> int | None:
    match = re.match(r"row (\d+)", exc.field or "")
    return int(match.group(1)) if match else None


def _column_of_error(exc: RecistValidationError) -> str | None:
    match = re.search(r"column '([^']*)'", exc.field or "")
    return match.group(1) if match else None


def _csv_line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def load_subjects(path: str | os.PathLike[str]) -> SubjectsTable:
    """Read the subjects table, keeping the good rows and collecting the bad ones.

    Problems with the whole file (unreadable, not UTF-8, not CSV, a missing or unknown column) raise
    :class:`RecistValidationError` naming the file, row 1 and the column. A bad data row (unparseable or
    out-of-order date, empty arm, wrong number of values) becomes a :class:`Problem` with its row
    number (the header is row 1) and column; both rows of a duplicated subject id are left out.
    """
    source = str(path)
    try:
        good: list[Subject] | None = read_subjects(path)
    except RecistValidationError as exc:
        row = _row_of_error(exc)
        if row is None or row == 1:
            raise
        good = None
    # read_subjects decoded the file (or failed on a data row after decoding it): this cannot fail
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"), newline="")))
    header = [cell.strip() for cell in rows[0]]
    id_column = header.index("subject")
    data_rows = [(number, cells) for number, cells in enumerate(rows[1:], start=2) if any(c.strip() for c in cells)]
    if good is not None:
        row_of = {cells[id_column].strip(): number for number, cells in data_rows}
        return SubjectsTable(good, row_of, [])

    head = _csv_line(header)
    parsed: list[tuple[int, Subject]] = []
    problems: list[Problem] = []
    for number, cells in data_rows:
        subject_id = cells[id_column].strip() if id_column < len(cells) else ""
        try:
            (subject,) = parse_subjects([head, _csv_line(cells)], source=source)
        except RecistValidationError as exc:
            problems.append(Problem(source, exc.message, subject_id or None, number, _column_of_error(exc)))
            continue
        parsed.append((number, subject))
    first: dict[str, int] = {}
    duplicated: set[str] = set()
    for number, subject in parsed:
        if subject.subject in first:
            duplicated.add(subject.subject)
            problems.append(Problem(
                source, f"duplicate subject {subject.subject!r} (first on row {first[subject.subject]}); keep one "
                "row per subject (both rows are left out)", subject.subject, number, "subject"))
        else:
            first[subject.subject] = number
    kept = [subject for _, subject in parsed if subject.subject not in duplicated]
    return SubjectsTable(kept, {s.subject: first[s.subject] for s in kept}, problems)


# ---------------------------------------------------------------------------------------- sources
def is_review_project(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a central-review project folder (it holds the ``project.json`` marker)."""
    return (Path(path) / PROJECT_MARKER).is_file()


def folder_items(folder: str | os.PathLike[str]) -> list[WorkItem]:
    """One work item per case file (``*.json``, sorted by name) of ``folder``."""
    root = Path(folder)
    if not root.is_dir():
        raise RecistValidationError("SOURCE must be a folder of case files (*.json) or a review project",
                                    source=str(root))
    files = sorted(p for p in root.glob("*.json") if p.is_file())
    if not files:
        raise RecistValidationError("folder holds no *.json case file", source=str(root))
    return [WorkItem(str(p), str(p)) for p in files]


@dataclass(frozen=True)
class _ReviewSource:
    items: list[WorkItem]
    problems: list[Problem]
    signed: dict[str, tuple[str | None, str | None]]  # subject -> (BOR, progression date) at signing
    agreement: dict[str, Any]
    schedule: VisitSchedule
    data_cutoff: dt.date | None


def _review_source(root: Path, *, as_: str | None, now: dt.datetime) -> _ReviewSource:
    from recist.review.workflow import ReviewProject, calendar_case

    project = ReviewProject.open(root)
    admin = as_ or project.charter.administrators[0]
    overrides = project.charter.protocol.overrides()
    items, problems, signed = [], [], {}
    for row in project.results(as_=admin, now=now):
        subject = row["subject"]
        if row["status"] == "invalid":
            problems.append(Problem(str(root), f"final read refused: {row.get('problem')}", subject, None,
                                    "progression_date"))
            continue
        if row["status"] != "final":
            problems.append(Problem(str(root), f"no final read ({row['status']}): finish the review of this subject",
                                    subject, None, "status"))
            continue
        shown = project.show(row["pseudonym"], as_=admin, now=now)
        read = shown["reads"].get(row["reader"]) or {"versions": []}
        version = [v for v in read["versions"] if v["status"] == "signed"][-1]
        case = calendar_case(version["case"], shown["subject"])  # subject id, true dates and labels
        case["protocol"] = {**(case.get("protocol") or {}), **overrides}
        where = f"{root} (subject {subject}, final read {row['read']} by {row['reader']}, version {version['version']})"
        items.append(WorkItem(where, case, subject, 0))
        signed[subject] = (row["best_overall_response"], row["progression_date"])
    agreement = project.report(as_=admin, now=now)
    visits = project.charter.visit_schedule
    return _ReviewSource(items, problems, signed, agreement, VisitSchedule(visits.interval_days, visits.window_days),
                         project.charter.data_cutoff)


# ---------------------------------------------------------------------------------------- the task
def _unshift(reads: SubjectAssessments, subject: str | None, days: int) -> SubjectAssessments:
    if not days and subject is None:
        return reads
    delta = dt.timedelta(days=days)
    return dataclasses.replace(
        reads,
        subject=subject if subject is not None else reads.subject,
        timepoints=tuple(v._replace(date=v.date - delta) for v in reads.timepoints),
        progression_date=None if reads.progression_date is None else reads.progression_date - delta,
    )


def assess_item(item: WorkItem) -> ItemResult:
    """Assess one read by RECIST 1.1 and convert it for the endpoints; a bad read gives a :class:`Problem`."""
    from recist.api import assess

    try:
        reads = subject_assessments(assess(item.case))
    except RecistValidationError as exc:
        where = RecistValidationError(exc.message, timepoint=exc.timepoint, lesion=exc.lesion)
        return ItemResult(item.source, item.subject, None,
                          Problem(item.source, str(where), item.subject, None, exc.field))
    except (RecistError, OSError) as exc:
        return ItemResult(item.source, item.subject, None, Problem(item.source, str(exc), item.subject))
    reads = _unshift(reads, item.subject, item.date_shift_days)
    return ItemResult(item.source, reads.subject, reads, None)


def assess_chunk(items: Sequence[WorkItem]) -> list[ItemResult]:
    """Assess a chunk of reads (the unit of work sent to a worker process or a Dask worker)."""
    return [assess_item(item) for item in items]


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
    control_arm: str | None = None,
    title: str = "RECIST 1.1 trial report",
    workers: int = 1,
    scheduler: str | None = None,
    as_: str | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Assess, compute endpoints and write the report of every subject of ``source`` (see module docstring).

    Parameters
    ----------
    source
        A folder of case files or a review project.
    subjects_csv
        The subjects table (:mod:`recist.endpoints.subjects`).
    out
        Output folder: ``report.html``, the CSV tables and ``problems.csv``.
    now
        Generation time shown in the report (the library reads no clock).
    version
        The recist version named in the report.
    interval_days, window_days
        The visit schedule. Required (interval) for a folder of cases; a review project uses its charter's
        and refuses a different one. ``window_days`` defaults to 7 days for a folder.
    rules, control_arm, title
        As for ``recist report``.
    workers, scheduler
        Worker processes, or a Dask scheduler address (see :func:`run_items`).
    as_
        The administrator who exports a review project's results (default: the charter's first one).
    progress
        Progress callback of the assessment step.

    Raises
    ------
    RecistValidationError
        Problems with the whole input (see the module docstring).
    """
    root = Path(source)
    table = load_subjects(subjects_csv)
    problems = list(table.problems)
    signed: dict[str, tuple[str | None, str | None]] = {}
    agreement = None
    data_cutoff = None
    if is_review_project(root):
        kind = "review"
        review = _review_source(root, as_=as_, now=now)
        charter = review.schedule
        if interval_days is not None and interval_days != charter.interval_days:
            raise RecistValidationError(
                f"--interval-days {interval_days} differs from the charter's visit schedule "
                f"({charter.interval_days} days): leave it out for a review project", source=str(root))
        if window_days is not None and window_days != charter.window_days:
            raise RecistValidationError(
                f"--window-days {window_days} differs from the charter's visit window "
                f"({charter.window_days} days): leave it out for a review project", source=str(root))
        items, schedule, agreement, signed = review.items, charter, review.agreement, review.signed
        data_cutoff = review.data_cutoff
        problems += review.problems
    else:
        kind = "cases"
        if interval_days is None:
            raise RecistValidationError("a folder of case files needs the charter's visit schedule: give "
                                        "--interval-days DAYS (e.g. 56 = every 8 weeks)", source=str(root))
        items = folder_items(root)
        schedule = VisitSchedule(interval_days, 7 if window_days is None else window_days)

    results = run_items(items, workers=workers, scheduler=scheduler, progress=progress)
    by_subject: dict[str, list[ItemResult]] = {}
    for result in results:
        if result.problem is not None:
            problems.append(result.problem)
        else:
            by_subject.setdefault(result.subject or "", []).append(result)

    excluded = {p.subject for p in table.problems if p.subject}
    known = {s.subject for s in table.subjects}
    reads: dict[str, SubjectAssessments] = {}
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
                                    "final read per subject (all left out)", subject, None, "subject"))
            continue
        read = found[0].reads
        assert read is not None
        if subject in signed:
            bor, progression = signed[subject]
            now_prog = None if read.progression_date is None else read.progression_date.isoformat()
            if (bor, progression) != (read.best_overall_response, now_prog):
                problems.append(Problem(found[0].source, f"re-assessment gives BOR {read.best_overall_response}, "
                                        f"progression {now_prog} but the signed read has BOR {bor}, progression "
                                        f"{progression}: amend and re-sign the read with this recist version",
                                        subject, None, "assessment"))
                continue
        reads[subject] = read
    failed = {p.subject for p in problems if p.subject}
    for subject in table.subjects:
        if subject.subject not in reads and subject.subject not in failed:
            problems.append(Problem(str(subjects_csv), f"no read of this subject in {root}", subject.subject,
                                    table.rows.get(subject.subject), "subject"))

    analysed: list[Subject] = []
    outcomes: list[PfsOutcome] = []
    for subject in table.subjects:
        if subject.subject not in reads:
            continue
        try:
            outcomes.append(pfs_outcome(subject, reads[subject.subject], schedule=schedule, rules=rules,
                                        today=now.date(), data_cutoff=data_cutoff))
        except RecistValidationError as exc:
            if exc.field == "progression_date":
                problems.append(Problem(str(root), exc.message, subject.subject, None, "progression_date"))
            else:
                problems.append(Problem(str(subjects_csv), exc.message, subject.subject,
                                        table.rows.get(subject.subject), "randomisation_date"))
            continue
        analysed.append(subject)
    kept_reads = {s.subject: reads[s.subject] for s in analysed}

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    problems_path = out_dir / "problems.csv"
    atomic_write_text(problems_path, problems_csv(problems))
    if problems:
        title = f"{title} (DRAFT: {len(problems)} problem(s), see problems.csv)"
    report, summary = None, None
    if analysed:
        summary = summarise(analysed, kept_reads, outcomes, control_arm=control_arm)
        report = write_report(out_dir, ReportInputs(
            subjects=analysed, reads=kept_reads, outcomes=outcomes, summary=summary, rules=rules,
            schedule=schedule, generated=now, version=version, title=title, agreement=agreement,
        ))
    logger.info("batch of %s: %d subjects analysed, %d problem(s)", root, len(analysed), len(problems))
    return BatchResult(report, problems_path, tuple(problems), tuple(analysed), summary, agreement, kind)


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
