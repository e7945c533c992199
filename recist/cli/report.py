"""``recist report SOURCE --subjects subjects.csv --out OUT``: the strict endpoints report of a case folder.

The same pipeline as ``recist batch`` (:func:`recist.trial.pipeline.run_batch`) with two differences that
make it the command for a final analysis of a clean folder of case files: the first problem stops the run
(one line, exit status 2) instead of leaving the subject out, and a randomised subject without a case file
is analysed (BOR NE, PFS censored at randomisation: intention to treat). See docs/batch.md.
"""

from __future__ import annotations

import argparse
import datetime as dt

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    from recist.cli.batch import WHEN_REPORT, add_analysis_options

    parser = subparsers.add_parser(
        "report", help="PFS, ORR/DCR and figures of a clean case folder: HTML report, CSV tables, ADTTE",
        description="Assess every case file of SOURCE, compute PFS and per-arm response summaries and "
                    "write an HTML report with CSV tables and the ADTTE dataset to OUT. " + WHEN_REPORT,
    )
    parser.add_argument("source", metavar="SOURCE", help="folder of case files (*.json), one per subject")
    add_analysis_options(parser, review=False)
    parser.add_argument("--interval-days", type=int, required=True, metavar="DAYS",
                        help="charter: days between scheduled tumour assessments (e.g. 56 = every 8 weeks)")
    parser.add_argument("--window-days", type=int, default=7, metavar="DAYS",
                        help="visit window either side of the due day (default 7)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import recist
    from recist.cli._output import output_folder
    from recist.cli.batch import analysis_arguments, print_result, progress_bar
    from recist.errors import RecistValidationError
    from recist.trial.pipeline import is_review_project, run_batch

    if is_review_project(args.source):
        raise RecistValidationError("SOURCE is a review project: use `recist batch` for it", source=args.source)
    output_folder(args.out, force=args.force, option="--out")
    progress, close = progress_bar()
    try:
        result = run_batch(
            args.source, args.subjects, args.out, now=dt.datetime.now(dt.timezone.utc), version=recist.__version__,
            interval_days=args.interval_days, window_days=args.window_days, on_problem="stop",
            without_read="censor", progress=progress, **analysis_arguments(args),
        )
    finally:
        close()
    print_result(result)
    unread = sum(d.analysed_without_read for d in result.disposition)
    if unread:
        print(f"{unread} subject(s) without a case file (censored at randomisation, BOR NE)")
    return 0
