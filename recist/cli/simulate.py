"""``recist simulate OUT [--subjects N] [--seed S] [--review]``: the synthetic demo trial.

Writes a trial shaped like NCT04954820 (see :mod:`recist.synthetic.trial_sim` and docs/simulation.md): the
subjects table, the review charter, the central and site reads and the true courses. With ``--review``
it also runs the blinded central review into ``OUT/review`` (two readers, scripted adjudicator; its secret
derived from the seed and its clock starting the day after the data cut-off, so that one seed gives the
same files byte for byte) and writes each subject's final read to ``OUT/final_reads``, ready for
``recist report OUT/final_reads --subjects OUT/subjects.csv --interval-days 84 --out OUT/report``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from recist.cli._output import add_force_argument, output_folder
from recist.errors import RecistValidationError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` subcommand."""
    parser = subparsers.add_parser(
        "simulate", help="write a synthetic randomised NET trial (reads, subjects, charter, truth)",
        description="Simulate a randomised phase II trial shaped like NCT04954820 (Lutathera retreatment vs "
                    "active surveillance, PFS by RECIST 1.1 by blinded central review): subjects.csv, "
                    "charter.json, reads/R1, reads/R2, site/, truth/. The same seed writes the same files.",
    )
    parser.add_argument("out", metavar="OUT", help="folder to write into (created; must be empty or absent)")
    parser.add_argument("--subjects", type=int, default=100, metavar="N", help="randomised subjects (default 100)")
    parser.add_argument("--seed", type=int, default=20210701, help="random seed (default %(default)s)")
    parser.add_argument("--review", action="store_true",
                        help="also run the central review into OUT/review and write OUT/final_reads")
    add_force_argument(parser)
    parser.set_defaults(func=_handle)


def _handle(args: argparse.Namespace) -> int:
    import numpy as np

    from recist.synthetic.review_sim import adjudication_triggers, review_start, run_central_review
    from recist.synthetic.trial_sim import ARMS, DAYS_PER_MONTH, simulate_trial, write_trial

    out = Path(args.out)
    if args.subjects < 2:
        raise RecistValidationError(f"--subjects must be at least 2, not {args.subjects}", field="--subjects")
    output_folder(out, force=args.force)
    started = time.perf_counter()
    trial = simulate_trial(args.subjects, rng=np.random.default_rng(args.seed))
    write_trial(trial, out)
    simulated_s = time.perf_counter() - started
    print(f"simulated {len(trial.subjects)} subjects (seed {args.seed}) into {out} in {simulated_s:.1f} s; "
          f"data cut-off {trial.data_cutoff.isoformat()}")
    for arm in ARMS:
        subjects = [s for s in trial.subjects if s.arm == arm]
        pfs = [s.true_pfs(trial.data_cutoff) for s in subjects]
        events = sum(event for _, event in pfs)
        deaths = sum(s.death_date is not None for s in subjects)
        print(f"  {arm}: {len(subjects)} subjects, {events} true PFS events, {deaths} deaths, "
              f"true median PFS {_km_median_months(pfs, DAYS_PER_MONTH)}")
    triggers = adjudication_triggers(trial)
    needed = sum(bool(t) for t in triggers.values())
    print(f"  reader disagreements needing adjudication: {needed}/{len(triggers)} "
          f"({100.0 * needed / len(triggers):.0f}%)")
    if args.review:
        progress = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            def progress(items):  # noqa: ANN001, ANN202
                return tqdm(items, desc="central review", unit="subject", file=sys.stderr, leave=False)
        started = time.perf_counter()
        summary = run_central_review(trial, out / "review", now=review_start(trial), seed=args.seed,
                                     final_cases_dir=out / "final_reads", progress=progress)
        print(f"central review in {out / 'review'} ({time.perf_counter() - started:.1f} s): "
              f"{summary.adjudicated}/{summary.subjects} subjects adjudicated "
              f"({100.0 * summary.adjudication_rate:.0f}%); final reads in {summary.final_cases_dir}")
    return 0


def _km_median_months(pfs: list[tuple[int, bool]], days_per_month: float) -> str:
    from lifelines import KaplanMeierFitter

    from recist.endpoints.summary import median_time

    if not pfs:
        return "NA"
    fit = KaplanMeierFitter().fit([d / days_per_month for d, _ in pfs], [e for _, e in pfs])
    median = median_time(fit.survival_function_.iloc[:, 0])
    return "not reached" if median is None else f"{median:.1f} months"
