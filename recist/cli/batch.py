"""``recist batch SOURCE --subjects subjects.csv --out OUT [--workers N] [--scheduler ADDRESS]``.

Assess every subject of a folder of case files or of a central-review project, compute PFS and the
per-arm summaries and write the HTML report, the CSV tables and ``problems.csv`` to OUT
(:func:`recist.trial.pipeline.run_batch`; docs/batch.md). Bad subjects are printed on stderr, written to
``OUT/problems.csv`` and left out; the rest is finished. Exit status 1 when any subject was bad, else 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable

from recist.cli._output import add_force_argument, output_folder

__all__ = ["register", "run", "progress_bar", "add_analysis_options", "analysis_arguments", "print_result",
           "WHEN_BATCH", "WHEN_REPORT"]


WHEN_BATCH = ("Use `recist batch` for a central-review project, a large trial (--workers, --scheduler) or to list "
              "every problem at once: bad subjects are left out and listed in problems.csv (exit status 1, report "
              "marked DRAFT). For the final analysis of a clean folder of case files use `recist report`, which "
              "stops at the first problem (exit 2) and keeps randomised subjects without a case file "
              "(BOR NE, censored at randomisation: intention to treat).")
WHEN_REPORT = ("Use `recist report` for the final analysis of a clean folder of case files: it stops at the first "
               "problem (exit 2) and keeps randomised subjects without a case file (BOR NE, censored at "
               "randomisation: intention to treat). Use `recist batch` for a central-review project, a large "
               "trial (worker processes, Dask) or to list every problem at once.")


def _date(text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write it as YYYY-MM-DD") from None


def add_analysis_options(parser: argparse.ArgumentParser, *, review: bool) -> None:
    """The options ``recist batch`` and ``recist report`` share (subjects, output, arms, cut-off, rules ...)."""
    parser.add_argument("--subjects", required=True, metavar="CSV",
                        help="subjects table: subject, randomisation_date, arm, death_date, new_therapy_date")
    parser.add_argument("--out", required=True, metavar="OUT", help="output folder (created; must be new or empty)")
    parser.add_argument("--arms", metavar="ARM,ARM",
                        help="the randomised arms, comma-separated (required" + (
                            "; a review project may name them in its charter" if review else "")
                        + "); any other arm in the subjects table is an error naming the row")
    parser.add_argument("--control", metavar="ARM",
                        help="the control arm, one of --arms: comparator of every hazard ratio and log-rank test")
    parser.add_argument("--cutoff", type=_date, metavar="YYYY-MM-DD",
                        help="data cut-off date: scans, deaths and other dates after it are not used (printed on "
                             "every page of the report)")
    parser.add_argument("--strata", metavar="COLUMN,COLUMN",
                        help="stratification factors (columns of the subjects table): adds the stratified log-rank "
                             "test and Cox model")
    parser.add_argument("--rules", choices=("fda", "ema"), default="fda",
                        help="PFS censoring rules: FDA 2018 table (default) or EMA 2012 primary analysis")
    parser.add_argument("--study-id", metavar="ID",
                        help="STUDYID of the ADTTE dataset (default: the charter's trial, else SOURCE's folder name)")
    parser.add_argument("--title", default="RECIST 1.1 trial report", help="report title")
    if review:
        parser.add_argument("--ignore-verify", action="store_true",
                            help="take results from a review project that fails `recist review verify` (forensic "
                                 "use: the report is a draft listing the verify problems)")
    add_force_argument(parser)


def analysis_arguments(args: argparse.Namespace) -> dict:
    """The keyword arguments of :func:`recist.trial.pipeline.run_batch` from the shared options."""
    from recist.endpoints.arms import parse_arm_list
    from recist.endpoints.pfs import EMA_2012, FDA_2018

    return {
        "arms": parse_arm_list(args.arms) if args.arms else None, "control_arm": args.control,
        "cutoff": args.cutoff, "strata": parse_arm_list(args.strata) if args.strata else (),
        "rules": FDA_2018 if args.rules == "fda" else EMA_2012, "title": args.title, "study_id": args.study_id,
        "ignore_verify": bool(getattr(args, "ignore_verify", False)),
    }


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch", help="assess a whole trial (case folder or review project), leaving bad subjects out",
        description="Assess every subject of SOURCE (a folder of case files, or a central-review project: "
                    "each subject's final read), compute PFS and per-arm summaries and write the HTML report, "
                    "CSV tables, ADTTE dataset and problems.csv to OUT. " + WHEN_BATCH,
    )
    parser.add_argument("source", metavar="SOURCE", help="folder of case files (*.json) or a review project folder")
    add_analysis_options(parser, review=True)
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="worker processes for the assessment (default 1: this process)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the assessment on a Dask distributed cluster (e.g. tcp://host:8786)")
    parser.add_argument("--interval-days", type=int, metavar="DAYS",
                        help="days between scheduled assessments; required for a case folder, a review project "
                             "uses its charter's")
    parser.add_argument("--window-days", type=int, metavar="DAYS",
                        help="visit window either side of the due day (case folder default 7; review: the charter's)")
    parser.add_argument("--as", dest="as_", metavar="ID",
                        help="review project: the administrator exporting results (default: the charter's first)")
    parser.set_defaults(func=run)


def progress_bar() -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A ``progress(done, total)`` callback drawing a tqdm bar on a terminal, and its closer."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar: list[tqdm] = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc="assess", unit="subject", file=sys.stderr, leave=False))
        bar[0].update(done - bar[0].n)

    return update, lambda: bar and bar[0].close()


def _need_dask() -> None:
    """Refuse ``--scheduler`` with one line naming the extra to install when dask.distributed is absent."""
    import importlib.util  # noqa: PLC0415

    from recist.errors import RecistError  # noqa: PLC0415

    if importlib.util.find_spec("distributed") is None:
        raise RecistError("--scheduler needs Dask distributed, which is not installed; install the extra: "
                          "pip install 'recist[dask]'")


def run(args: argparse.Namespace) -> int:
    import recist
    from recist.errors import RecistValidationError
    from recist.trial.pipeline import run_batch

    if args.scheduler and args.workers != 1:
        raise RecistValidationError("give --workers N or --scheduler ADDRESS, not both")
    if args.scheduler:
        _need_dask()
    output_folder(args.out, force=args.force, option="--out")
    progress, close = progress_bar()
    try:
        result = run_batch(
            args.source, args.subjects, args.out, now=dt.datetime.now(dt.timezone.utc), version=recist.__version__,
            interval_days=args.interval_days, window_days=args.window_days, workers=args.workers,
            scheduler=args.scheduler, as_=args.as_, progress=progress, **analysis_arguments(args),
        )
    finally:
        close()
    for problem in result.problems:
        print(f"recist batch: {problem}", file=sys.stderr)
    print_result(result)
    if result.problems:
        print(f"{len(result.problems)} problem(s) (left out of the analysis): {result.problems_csv}")
        return 1
    return 0


def print_result(result) -> None:  # noqa: ANN001 (BatchResult, imported lazily)
    """Print the report's files, the subjects per arm and the headline figures of a batch."""
    from recist.trial.pipeline import batch_headline

    if result.report is not None:
        print(f"report: {result.report.html}")
        print("tables: " + ", ".join(str(p) for p in (result.report.pfs_csv, result.report.summary_csv,
                                                      result.report.bor_csv, *result.report.tables)))
        print("ADTTE: " + ", ".join(map(str, result.report.adtte)))
    else:
        print("no report: no subject could be analysed")
    source = "review project (final reads)" if result.source_kind == "review" else "case folder"
    print(f"{len(result.subjects)} subjects analysed from the {source}: "
          + ", ".join(f"{d.arm} {d.analysed} of {d.randomised} randomised" for d in result.disposition))
    for line in batch_headline(result):
        print(line)
