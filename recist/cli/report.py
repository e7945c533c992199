"""``recist report SOURCE --subjects subjects.csv --out OUT``: endpoints report of a folder of case files.

Each case file (one subject's final read) is assessed by RECIST 1.1; PFS follows the FDA 2018 censoring
table (``--rules ema`` for the EMA 2012 primary analysis) on the charter's visit schedule; the report
(``OUT/report.html``) and CSV tables are written to OUT. The report path and the headline figures are
printed. Every case must assess cleanly and belong to a subject of the subjects table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path

from recist.cli._output import add_force_argument, output_folder
from recist.errors import RecistValidationError

__all__ = ["register"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="PFS, ORR/DCR and figures of a trial: HTML report and CSV tables",
        description="Assess every case file of SOURCE, compute PFS and per-arm response summaries and "
                    "write an HTML report with CSV tables to OUT.",
    )
    parser.add_argument("source", metavar="SOURCE", help="folder of case files (*.json), one per subject")
    parser.add_argument("--subjects", required=True, metavar="CSV",
                        help="subjects table: subject, randomisation_date, arm, death_date, new_therapy_date")
    parser.add_argument("--out", required=True, metavar="OUT", help="output folder (created; must be new or empty)")
    parser.add_argument("--rules", choices=("fda", "ema"), default="fda",
                        help="PFS censoring rules: FDA 2018 table (default) or EMA 2012 primary analysis")
    parser.add_argument("--interval-days", type=int, required=True, metavar="DAYS",
                        help="charter: days between scheduled tumour assessments (e.g. 56 = every 8 weeks)")
    parser.add_argument("--window-days", type=int, default=7, metavar="DAYS",
                        help="visit window either side of the due day (default 7)")
    parser.add_argument("--control", metavar="ARM", help="control arm for HR and log-rank (default: first by name)")
    parser.add_argument("--title", default="RECIST 1.1 trial report", help="report title")
    add_force_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import recist
    from recist.cli._output import progress
    from recist.cli.assess import collect_case_files
    from recist.endpoints.pfs import EMA_2012, FDA_2018, VisitSchedule, pfs_outcomes, subject_assessments
    from recist.endpoints.subjects import read_subjects
    from recist.endpoints.summary import summarise
    from recist.export.report import ReportInputs, headline, write_report

    source = Path(args.source)
    if not source.is_dir():
        raise RecistValidationError("SOURCE must be a folder of case files (*.json)", source=str(source))
    subjects = read_subjects(args.subjects)
    output_folder(args.out, force=args.force, option="--out")
    schedule = VisitSchedule(args.interval_days, args.window_days)
    rules = FDA_2018 if args.rules == "fda" else EMA_2012
    reads = {}
    origin: dict[str, Path] = {}
    files = collect_case_files([str(source)])
    for path in progress(files, total=len(files), desc="assess", unit="case"):
        try:
            read = subject_assessments(recist.assess(path))
        except RecistValidationError as exc:
            if exc.source:
                raise
            raise exc.with_source(str(path)) from None
        if read.subject in reads:
            raise RecistValidationError(
                f"subject {read.subject!r} also has case file {origin[read.subject]}; keep one final read "
                "per subject in SOURCE", source=str(path))
        reads[read.subject] = read
        origin[read.subject] = path
    known = {s.subject for s in subjects}
    stray = sorted(set(reads) - known)
    if stray:
        raise RecistValidationError(
            "case file(s) for subject(s) missing from the subjects table: "
            + ", ".join(f"{s} ({origin[s].name})" for s in stray), source=str(args.subjects))
    outcomes = pfs_outcomes(subjects, reads, schedule=schedule, rules=rules)
    summary = summarise(subjects, reads, outcomes, control_arm=args.control)
    files_written = write_report(args.out, ReportInputs(
        subjects=subjects, reads=reads, outcomes=outcomes, summary=summary, rules=rules, schedule=schedule,
        generated=dt.datetime.now(dt.timezone.utc), version=recist.__version__, title=args.title,
    ))
    unread = len(known - set(reads))
    print(f"report: {files_written.html}")
    print(f"tables: {files_written.pfs_csv}, {files_written.summary_csv}, {files_written.bor_csv}")
    print(f"{len(subjects)} subjects, {len(reads)} case files"
          + (f", {unread} subject(s) without a case file (censored at randomisation, BOR NE)" if unread else ""))
    for line in headline(summary):
        print(line)
    return 0
