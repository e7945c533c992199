"""``recist demo [OUT]``: the main job of ``make demo``.

1. Assesses the hand-written example cases in ``sample_data/cases/`` and prints a readable table of their
   responses.
2. Runs a whole trial (unless ``--cases-only``): simulates a randomised trial shaped like NCT04954820
   (:mod:`recist.synthetic.trial_sim`, fixed seed) into ``OUT/trial``, files it into a blinded central review
   project ``OUT/review`` (two simulated readers, scripted adjudicator:
   :func:`recist.synthetic.review_sim.run_central_review`), runs the batch on the project's final reads
   (:func:`recist.trial.pipeline.run_batch`, arms from the charter, the simulation's data cut-off) into
   ``OUT/report`` and prints the report's path and the
   headline figures: subjects per arm, ORR and DCR, PFS events and medians with CIs, HR with CI,
   log-rank p and the adjudication rate.

OUT must be new, empty, or an earlier demo's folder (recognised by its ``.recist-demo`` marker), whose
``trial``, ``review`` and ``report`` folders are then replaced; another non-empty folder needs ``--force``
(the output rule of every command, :func:`recist.cli._output.output_folder`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from recist.cli._output import add_force_argument

__all__ = ["register", "response_table"]

_REPO_SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
_MARKER = ".recist-demo"
_PARTS = ("trial", "review", "report")
DEMO_SUBJECTS = 100
DEMO_SEED = 20210701


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the demonstration on sample_data/",
                                   description="Assess the example cases of sample_data/ and print their responses.")
    parser.add_argument("out", nargs="?", default="demo_out", help="folder for the demo's outputs")
    parser.add_argument("--sample-data", default=str(_REPO_SAMPLE), help="the sample_data folder")
    parser.add_argument("--cases-only", action="store_true",
                        help="only assess the example cases (skip the simulated trial)")
    parser.add_argument("--subjects", type=int, default=DEMO_SUBJECTS, metavar="N",
                        help="subjects of the simulated trial (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help="seed of the simulated trial (default %(default)s)")
    add_force_argument(parser)
    parser.set_defaults(func=run)


def response_table(results: list[dict]) -> str:
    """A plain-text table: one line per follow-up, then each subject's best response and progression."""
    header = ("subject", "timepoint", "day", "sum mm", "vs base", "vs nadir", "target", "non-target", "new",
              "overall")
    rows = [header]
    for result in results:
        for tp in result["timepoints"]:
            def pct(v: float | None) -> str:
                return "" if v is None else f"{v:+.1f}%"

            rows.append((
                result["subject"], tp["label"], str(tp["day"]),
                "" if tp["sum_mm"] is None else f"{tp['sum_mm']:g}" + ("+" if tp["sum_is_lower_bound"] else ""),
                pct(tp["change_from_baseline_pct"]), pct(tp["change_from_nadir_pct"]),
                tp["target_response"] or "-", tp["non_target_response"] or "-", tp["new_lesions"],
                tp["overall_response"],
            ))
        progression = result["progression"]
        when = "no progression" if progression is None else (
            f"progression at {progression['label']} ({progression['date']}, {progression['trigger']}"
            + (f", confirmed at {progression['confirmed_at']}" if progression["confirmed_at"] else "") + ")")
        rows.append((result["subject"], "=> best overall response " + result["best_overall_response"] + "; " + when,
                     "", "", "", "", "", "", "", ""))
    widths = [max(len(r[i]) for r in rows if not r[1].startswith("=>")) for i in range(len(header))]
    lines = []
    for row in rows:
        if row[1].startswith("=>"):
            lines.append(f"{row[0]:<{widths[0]}}  {row[1]}")
        else:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from recist.api import assess  # noqa: PLC0415

    cases = sorted((Path(args.sample_data) / "cases").glob("*.json"))
    results = [assess(path).to_dict() for path in cases]
    print(f"RECIST 1.1 responses of the {len(results)} example cases in {Path(args.sample_data) / 'cases'}:\n")
    print(response_table(results))
    if args.cases_only:
        return 0
    return _trial(Path(args.out), n_subjects=args.subjects, seed=args.seed, force=args.force)


def _prepare(out: Path, force: bool = False) -> None:
    """Make ``out`` ready: new or empty, or an earlier demo's folder whose parts are removed."""
    import shutil

    from recist.cli._output import output_folder

    earlier_demo = (out / _MARKER).is_file()
    output_folder(out, force=earlier_demo or force)  # the one output rule; an earlier demo's folder is reused
    if earlier_demo:
        for part in _PARTS:
            if (out / part).exists():
                shutil.rmtree(out / part)
    (out / _MARKER).write_text("written by `recist demo`; its trial/, review/ and report/ are replaced on rerun\n")


def _trial(out: Path, *, n_subjects: int, seed: int, force: bool = False) -> int:
    """Simulate -> central review -> batch -> report, printing the steps and the headline figures."""
    import datetime as dt
    import sys
    import time

    import numpy as np

    import recist
    from recist.cli.batch import progress_bar
    from recist.errors import RecistValidationError
    from recist.synthetic.review_sim import review_start, run_central_review
    from recist.synthetic.trial_sim import simulate_trial, write_trial
    from recist.trial.pipeline import batch_headline, run_batch

    if n_subjects < 2:
        raise RecistValidationError(f"--subjects must be at least 2, not {n_subjects}", field="--subjects")
    _prepare(out, force)
    started = time.perf_counter()
    print(f"\nSimulated trial (NCT04954820-shaped, {n_subjects} subjects, seed {seed}):")
    trial = simulate_trial(n_subjects, rng=np.random.default_rng(seed))
    files = write_trial(trial, out / "trial")
    print(f"  trial files (subjects, charter, reads of R1/R2, site reads): {out / 'trial'}")
    wrap = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        def wrap(items):  # noqa: ANN001, ANN202
            return tqdm(items, desc="central review", unit="subject", file=sys.stderr, leave=False)
    start = review_start(trial)  # a fixed clock: the same seed prints the same headline and writes the same files
    review = run_central_review(trial, out / "review", now=start, progress=wrap, seed=seed)
    print(f"  central review project: {review.project_dir} ({review.adjudicated} of {review.subjects} "
          "subjects adjudicated by the scripted adjudicator)")
    progress, close = progress_bar()
    try:
        result = run_batch(review.project_dir, files["subjects"], out / "report", now=start + dt.timedelta(days=1),
                           version=recist.__version__, title=f"{trial.charter['trial']}: demo trial report",
                           cutoff=trial.data_cutoff, progress=progress)
    finally:
        close()
    for problem in result.problems:
        print(f"recist demo: {problem}", file=sys.stderr)
    if result.report is None:
        print("no report: no subject could be analysed")
        return 1
    print(f"\nreport: {result.report.html}")
    print(f"{len(result.subjects)} subjects analysed (final reads of the central review) in "
          f"{time.perf_counter() - started:.1f} s. Headline figures:")
    for line in batch_headline(result):
        print(f"  {line}")
    return 1 if result.problems else 0
