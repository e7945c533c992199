"""Benchmark: ``recist batch`` over N simulated subjects (default 10,000), per stage and per executor.

Generates N case files (one target lesion or more, 5-8 visits every 84 days, some progressing by size
or a new lesion: the shape of the simulated NCT04954820 reads, made directly because the full simulator
with its reader model takes ~30 ms a subject) and the subjects table in a temporary folder, then times

1. the assessment of every subject in this process (``--workers 1``): the baseline;
2. the same with 2 worker processes (``--workers 2``);
3. the same on a Dask ``LocalCluster(n_workers=2, processes=True, threads_per_worker=1)``
   (``--scheduler ADDRESS``), cluster start-up excluded;
4. the endpoints (PFS of every subject, per-arm summaries) and the report (figures, HTML, CSV tables),
   once: they run in the main process whatever the executor;
5. with ``--full``, the whole ``recist batch ... --workers 2`` command as a subprocess.

Goal (issue 6): the whole batch of 10,000 subjects in under 60 s with 2 workers. Run:
``.venv/bin/python benchmarks/bench_batch.py [N] [--full]``. Figures seen: docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recist.endpoints.pfs import FDA_2018, VisitSchedule, pfs_outcome
from recist.endpoints.summary import summarise
from recist.export.report import ReportInputs, write_report
from recist.trial.pipeline import folder_items, load_subjects, run_items

INTERVAL_DAYS = 84
ARMS = ("active surveillance", "lutathera")


def synthetic_trial(folder: Path, n: int, seed: int = 20210701) -> Path:
    """Write ``n`` case files into ``folder/cases`` and ``folder/subjects.csv``; return the CSV path."""
    rnd = random.Random(seed)
    cases = folder / "cases"
    cases.mkdir(parents=True)
    rows = ["subject,randomisation_date,arm,death_date,new_therapy_date"]
    start = dt.date(2022, 1, 3)
    for i in range(n):
        subject, arm = f"SIM-{i + 1:05d}", ARMS[i % 2]
        randomised = start + dt.timedelta(days=rnd.randint(0, 540))
        n_targets = rnd.randint(1, 4)
        lesions = [{"id": f"T{k + 1}", "role": "target", "site": ("liver", "liver", "lymph node", "bone")[k],
                    "nodal": k == 2} for k in range(n_targets)]
        lesions.append({"id": "NT1", "role": "non_target", "site": "peritoneum"})
        sizes = [rnd.uniform(15, 50) for _ in range(n_targets)]
        slope = rnd.uniform(-0.25, 0.3) * (0.7 if arm == "lutathera" else 1.0)
        timepoints = []
        for visit in range(rnd.randint(5, 8)):
            factor = max(0.1, 1 + slope * visit / 2)
            targets = {les["id"]: {("short_axis_mm" if les["nodal"] else "long_axis_mm"): round(s * factor, 1)}
                       for les, s in zip(lesions, sizes)}
            tp = {"label": "baseline" if visit == 0 else f"week {12 * visit}",
                  "date": (randomised + dt.timedelta(days=max(1, INTERVAL_DAYS * visit) - 1)).isoformat(),
                  "targets": targets, "non_targets": {"NT1": "present"}}
            if visit >= 3 and rnd.random() < 0.05:
                tp["new_lesions"] = [{"id": "N1", "site": "bone", "equivocal": False}]
            timepoints.append(tp)
        case = {"format": "recist.case/1", "subject": subject, "lesions": lesions, "timepoints": timepoints}
        (cases / f"{subject}.json").write_text(json.dumps(case), encoding="utf-8")
        rows.append(f"{subject},{randomised.isoformat()},{arm},,")
    subjects = folder / "subjects.csv"
    subjects.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return subjects


def timed(label: str, func, n: int, table: list) -> object:
    t0 = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - t0
    table.append((label, seconds, n / seconds if n else None))
    print(f"  {label}: {seconds:.2f} s", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000, help="subjects (default 10000)")
    parser.add_argument("--full", action="store_true", help="also time the whole `recist batch --workers 2` command")
    args = parser.parse_args()
    n = args.n
    table: list[tuple[str, float, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        subjects_csv = synthetic_trial(root, n)
        print(f"generated {n} case files in {time.perf_counter() - t0:.1f} s", flush=True)
        items = folder_items(root / "cases")
        table_subjects = load_subjects(subjects_csv)

        serial = timed("assessment, 1 process (baseline)", lambda: run_items(items, workers=1), n, table)
        two = timed("assessment, 2 worker processes", lambda: run_items(items, workers=2), n, table)
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
            dask = timed("assessment, Dask LocalCluster 2 workers",
                         lambda: run_items(items, scheduler=cluster.scheduler_address), n, table)
        assert [r.reads for r in serial] == [r.reads for r in two] == [r.reads for r in dask], "executors differ"
        assert not any(r.problem for r in serial), "synthetic cases must assess cleanly"

        reads = {r.subject: r.reads for r in serial}
        schedule = VisitSchedule(INTERVAL_DAYS, 7)

        def endpoints():
            outcomes = [pfs_outcome(s, reads[s.subject], schedule=schedule) for s in table_subjects.subjects]
            return outcomes, summarise(table_subjects.subjects, reads, outcomes)

        outcomes, summary = timed("endpoints (PFS + per-arm summaries)", endpoints, n, table)
        timed("report (4 figures, HTML, CSV tables)", lambda: write_report(root / "out", ReportInputs(
            subjects=table_subjects.subjects, reads=reads, outcomes=outcomes, summary=summary, rules=FDA_2018,
            schedule=schedule, generated=dt.datetime.now(dt.timezone.utc), version="bench")), n, table)
        if args.full:
            command = [sys.executable, "-m", "recist", "batch", str(root / "cases"), "--subjects", str(subjects_csv),
                       "--out", str(root / "cli_out"), "--interval-days", str(INTERVAL_DAYS), "--workers", "2",
                       "--arms", ",".join(ARMS), "--control", ARMS[0]]
            timed("whole `recist batch --workers 2` (process)",
                  lambda: subprocess.run(command, check=True, capture_output=True), n, table)

    base = table[0][1]
    print(f"\n{n} subjects\n")
    print("| stage | seconds | subjects/s | vs baseline |")
    print("|---|---|---|---|")
    for label, seconds, rate in table:
        print(f"| {label} | {seconds:.2f} | {rate:,.0f} | {base / seconds:.2f}x |")
    stages = {label: seconds for label, seconds, _ in table}
    total = stages["assessment, 2 worker processes"] + stages["endpoints (PFS + per-arm summaries)"] \
        + stages["report (4 figures, HTML, CSV tables)"]
    print(f"\nbatch with 2 workers (assessment + endpoints + report): {total:.1f} s (goal < 60 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
