"""The inputs of the trial pipeline: the subjects table, the reads of a case folder or a review project,
and the assessment of one read (the task run in worker processes).

Split from :mod:`recist.trial.pipeline` (which re-exports every name); see its docstring and
``docs/batch.md`` for the behaviour.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recist.endpoints.arms import ArmPlan, unknown_arm_message
from recist.endpoints.pfs import SubjectAssessments, VisitSchedule, subject_assessments
from recist.endpoints.subjects import Subject, parse_subjects, read_subjects
from recist.errors import RecistError, RecistValidationError

LEFT_OUT_TABLE_ROW = "subjects-table row not usable"
LEFT_OUT_DUPLICATE = "subject on two rows of the subjects table"
LEFT_OUT_NO_READ = "no read"
LEFT_OUT_BAD_READ = "read cannot be assessed"
LEFT_OUT_TWO_READS = "more than one read"
LEFT_OUT_NOT_FINAL = "central review not finished"
LEFT_OUT_CHANGED = "re-assessment differs from the signed read"
LEFT_OUT_BEFORE_RANDOMISATION = "read dated before randomisation"
LEFT_OUT_AFTER_CUTOFF = "randomised after the data cut-off"

PROJECT_MARKER = "project.json"
"""The file that marks a folder as a central-review project (:class:`recist.review.workflow.ReviewProject`)."""


@dataclass(frozen=True)
class Problem:
    """One bad subject: where (file, row of the subjects table, field) and what is wrong."""

    file: str
    message: str
    subject: str | None = None
    row: int | None = None
    field: str | None = None
    reason: str = ""
    """Short category for the disposition table (one of the ``LEFT_OUT_*`` texts)."""

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
    cutoff
        Data cut-off date (true calendar), or ``None``.
    """

    source: str
    case: str | dict[str, Any]
    subject: str | None = None
    date_shift_days: int = 0
    cutoff: dt.date | None = None
    """The data cut-off (true calendar): follow-ups after it are dropped before assessment."""


@dataclass(frozen=True)
class ItemResult:
    """The outcome of one :class:`WorkItem`: the subject's reads for the endpoints, or a problem.

    ``reads`` is the read at the data cut-off (the whole read without one); ``full`` the whole read (for the
    comparison with the assessment stored at signing); ``dropped`` the follow-ups after the cut-off.
    """

    source: str
    subject: str | None
    reads: SubjectAssessments | None
    problem: Problem | None
    full: SubjectAssessments | None = None
    dropped: int = 0


@dataclass(frozen=True)
class SubjectsTable:
    """The usable rows of the subjects table, the row number of each subject and the bad rows.

    ``arm_of`` gives the arm of every randomised subject id of the table, bad rows included (the
    disposition counts them as randomised and left out).
    """

    subjects: list[Subject]
    rows: dict[str, int]
    problems: list[Problem]
    arm_of: dict[str, str] = dataclasses.field(default_factory=dict)


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


def load_subjects(
    path: str | os.PathLike[str], *, plan: ArmPlan | None = None, strata_columns: Sequence[str] = ()
) -> SubjectsTable:
    """Read the subjects table, keeping the good rows and collecting the bad ones.

    Problems with the whole file (unreadable, not UTF-8, not CSV, a missing or unknown column) raise
    :class:`RecistValidationError` naming the file, row 1 and the column. So does an arm that is not in
    ``plan`` (naming the first such row and suggesting the arm it resembles): a typing slip must not make
    a new arm, nor leave a subject out silently. A bad data row (unparseable or out-of-order date, empty
    arm, wrong number of values) becomes a :class:`Problem` with its row number (the header is row 1) and
    column; both rows of a duplicated subject id are left out.

    Parameters
    ----------
    path
        The subjects CSV.
    plan
        The arms of the trial (``None``: not checked, for callers that check later).
    strata_columns
        Stratification-factor columns (:func:`recist.endpoints.subjects.parse_subjects`).
    """
    source = str(path)
    try:
        good: list[Subject] | None = read_subjects(path, strata_columns=strata_columns)
    except RecistValidationError as exc:
        row = _row_of_error(exc)
        if row is None or row == 1:
            raise
        good = None
    # read_subjects decoded the file (or failed on a data row after decoding it): this cannot fail
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"), newline="")))
    header = [cell.strip() for cell in rows[0]]
    id_column, arm_column = header.index("subject"), header.index("arm")
    data_rows = [(number, cells) for number, cells in enumerate(rows[1:], start=2) if any(c.strip() for c in cells)]

    def cell(cells: list[str], column: int) -> str:
        return cells[column].strip() if column < len(cells) else ""

    arm_of: dict[str, str] = {}
    for _, cells in data_rows:
        if cell(cells, id_column) and cell(cells, arm_column):
            arm_of.setdefault(cell(cells, id_column), cell(cells, arm_column))
    if plan is not None:
        unknown = [(number, cell(cells, arm_column)) for number, cells in data_rows
                   if cell(cells, arm_column) and cell(cells, arm_column) not in plan.arms]
        if unknown:
            number, arm = unknown[0]
            more = f" ({len(unknown) - 1} more row(s) with an arm not in the list)" if len(unknown) > 1 else ""
            raise RecistValidationError(unknown_arm_message(arm, plan) + more, source=source,
                                        field=f"row {number}, column 'arm'")
    if good is not None:
        row_of = {cell(cells, id_column): number for number, cells in data_rows}
        return SubjectsTable(good, row_of, [], arm_of)

    head = _csv_line(header)
    parsed: list[tuple[int, Subject]] = []
    problems: list[Problem] = []
    for number, cells in data_rows:
        subject_id = cell(cells, id_column)
        try:
            (subject,) = parse_subjects([head, _csv_line(cells)], source=source, strata_columns=strata_columns)
        except RecistValidationError as exc:
            problems.append(Problem(source, exc.message, subject_id or None, number, _column_of_error(exc),
                                    LEFT_OUT_TABLE_ROW))
            continue
        parsed.append((number, subject))
    first: dict[str, int] = {}
    duplicated: set[str] = set()
    for number, subject in parsed:
        if subject.subject in first:
            duplicated.add(subject.subject)
            problems.append(Problem(
                source, f"duplicate subject {subject.subject!r} (first on row {first[subject.subject]}); keep one "
                "row per subject (both rows are left out)", subject.subject, number, "subject", LEFT_OUT_DUPLICATE))
        else:
            first[subject.subject] = number
    kept = [subject for _, subject in parsed if subject.subject not in duplicated]
    return SubjectsTable(kept, {s.subject: first[s.subject] for s in kept}, problems, arm_of)


# ---------------------------------------------------------------------------------------- sources
def is_review_project(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a central-review project folder (it holds the ``project.json`` marker)."""
    return (Path(path) / PROJECT_MARKER).is_file()


def folder_items(folder: str | os.PathLike[str], *, cutoff: dt.date | None = None) -> list[WorkItem]:
    """One work item per case file (``*.json``, sorted by name) of ``folder``."""
    root = Path(folder)
    if not root.is_dir():
        raise RecistValidationError("SOURCE must be a folder of case files (*.json) or a review project",
                                    source=str(root))
    files = sorted(p for p in root.glob("*.json") if p.is_file())
    if not files:
        raise RecistValidationError("folder holds no *.json case file", source=str(root))
    return [WorkItem(str(p), str(p), cutoff=cutoff) for p in files]


@dataclass(frozen=True)
class ReviewSource:
    """The final reads of a review project, the signed assessments, agreement figures and schedule."""

    items: list[WorkItem]
    problems: list[Problem]
    signed: dict[str, tuple[str | None, str | None]]  # subject -> (BOR, progression date) at signing
    agreement: dict[str, Any]
    schedule: VisitSchedule


def review_charter(root: Path) -> Any:
    """The :class:`recist.review.charter.Charter` of the review project at ``root`` (arms, trial name)."""
    from recist.review.workflow import ReviewProject

    return ReviewProject.open(root).charter


def review_source(root: Path, *, as_: str | None, now: dt.datetime, arm_of: Mapping[str, str],
                  cutoff: dt.date | None = None, ignore_verify: bool = False) -> ReviewSource:
    """Work items of the final reads of the review project at ``root`` (subject ids, true dates and labels:
    :func:`recist.review.workflow.calendar_case`), and its agreement report per arm.

    The project is verified first (:func:`recist.review.integrity.require_intact`): one that fails is
    refused, unless ``ignore_verify``, when each verify problem becomes a problem of the batch (the
    report is a draft that lists them).
    """
    from recist.review.integrity import require_intact
    from recist.review.workflow import ReviewProject, calendar_case

    project = ReviewProject.open(root)
    damaged = require_intact(project, ignore_verify=ignore_verify)
    admin = as_ or project.charter.administrators[0]
    overrides = project.charter.protocol.overrides()
    items, problems, signed = [], [], {}
    for damage in damaged:
        problems.append(Problem(str(root), f"--ignore-verify: the project fails verify: {damage}", None, None,
                                "verify", LEFT_OUT_BAD_READ))
    for row in project.results(as_=admin, now=now):
        subject = row["subject"]
        if row["status"] == "invalid":
            problems.append(Problem(str(root), f"final read refused: {row.get('problem')}", subject, None,
                                    "progression_date", LEFT_OUT_BAD_READ))
            continue
        if row["status"] != "final":
            problems.append(Problem(str(root), f"no final read ({row['status']}): finish the review of this subject",
                                    subject, None, "status", LEFT_OUT_NOT_FINAL))
            continue
        shown = project.show(row["pseudonym"], as_=admin, now=now)
        read = shown["reads"].get(row["reader"]) or {"versions": []}
        version = [v for v in read["versions"] if v["status"] == "signed"][-1]
        case = calendar_case(version["case"], shown["subject"])  # subject id, true dates and labels
        case["protocol"] = {**(case.get("protocol") or {}), **overrides}
        where = f"{root} (subject {subject}, final read {row['read']} by {row['reader']}, version {version['version']})"
        items.append(WorkItem(where, case, subject, 0, cutoff))
        signed[subject] = (row["best_overall_response"], row["progression_date"])
    agreement = project.report(as_=admin, now=now, groups=dict(arm_of))
    visits = project.charter.visit_schedule
    return ReviewSource(items, problems, signed, agreement, VisitSchedule(visits.interval_days, visits.window_days))


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
    """Assess one read by RECIST 1.1 and convert it for the endpoints; a bad read gives a :class:`Problem`.

    With a data cut-off the read is assessed twice when it has follow-ups after the cut-off: whole (for
    the check against the assessment stored at signing) and without them (for the endpoints,
    :func:`recist.endpoints.cutoff.truncate_case`).
    """
    from recist.api import assess
    from recist.endpoints.cutoff import truncate_case

    try:
        full = subject_assessments(assess(item.case))
        reads, dropped = full, 0
        if item.cutoff is not None:
            # a de-identified read's calendar is shifted by date_shift_days: shift the cut-off alike
            case, dropped = truncate_case(item.case, item.cutoff + dt.timedelta(days=item.date_shift_days))
            if dropped:
                reads = subject_assessments(assess(case))
    except RecistValidationError as exc:
        where = RecistValidationError(exc.message, timepoint=exc.timepoint, lesion=exc.lesion)
        return ItemResult(item.source, item.subject, None,
                          Problem(item.source, str(where), item.subject, None, exc.field, LEFT_OUT_BAD_READ))
    except (RecistError, OSError) as exc:
        return ItemResult(item.source, item.subject, None,
                          Problem(item.source, str(exc), item.subject, reason=LEFT_OUT_BAD_READ))
    reads = _unshift(reads, item.subject, item.date_shift_days)
    full = reads if not dropped else _unshift(full, item.subject, item.date_shift_days)
    return ItemResult(item.source, reads.subject, reads, None, full, dropped)


def assess_chunk(items: Sequence[WorkItem]) -> list[ItemResult]:
    """Assess a chunk of reads (the unit of work sent to a worker process or a Dask worker)."""
    return [assess_item(item) for item in items]


