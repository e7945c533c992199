"""Central-review speed: status, verify and report on 500 subjects x 2 readers x 6 timepoints, and the
time to save a read into an empty project (the in-run baseline) versus the full project.

Goals: status, verify and report each under 5 s; a save under 100 ms however large the project (the
audit trail is appended through its head file, never re-read or re-hashed).

    .venv/bin/python benchmarks/bench_review.py [--subjects 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

from recist.review.workflow import ReviewProject, SubjectTimepoint

CHARTER = {"format": "recist.charter/1", "trial": "BENCH", "readers": ["R1", "R2"], "adjudicators": ["ADJ1"],
           "administrators": ["PM1"]}
N_TIMEPOINTS = 6


def _case(subject: str, start: dt.date, seed: int, reader: int) -> dict:
    sizes = [40.0 - (seed % 7) * k * (1 + reader) * 0.8 + (seed % 3) * k * 3 for k in range(N_TIMEPOINTS)]
    return {
        "format": "recist.case/1", "subject": subject,
        "lesions": [{"id": "T1", "role": "target", "site": "liver"}, {"id": "T2", "role": "target", "site": "lung"}],
        "timepoints": [{"label": "baseline" if k == 0 else f"week {8 * k}",
                        "date": (start + dt.timedelta(days=56 * k)).isoformat(),
                        "targets": {"T1": {"long_axis_mm": max(s, 0.0)}, "T2": {"long_axis_mm": 15.0}}}
                       for k, s in enumerate(sizes)],
    }


def _add(project: ReviewProject, subject: str) -> tuple[str, dt.date]:
    base = dt.date(2023, 1, 2)
    tps = [SubjectTimepoint("baseline" if k == 0 else f"week {8 * k}", base + dt.timedelta(days=56 * k), ("/data",))
           for k in range(N_TIMEPOINTS)]
    p = project.add_subject(subject, tps, as_="PM1", check_images=False)  # no images in the benchmark
    return p, base + dt.timedelta(days=project.date_shift_days(subject))


def _time_saves(project: ReviewProject, items: list[tuple[str, dt.date]], seed0: int) -> list[float]:
    # flush the page cache first: otherwise the fsyncs of the first saves wait for the write-back of
    # whatever was written before (the 25 s build), which measures the disk, not the save
    os.sync()
    times = []
    for i, (p, start) in enumerate(items):
        t0 = time.perf_counter()
        project.save_read(p, _case(p, start, seed0 + i, 0), as_="R1")
        times.append(time.perf_counter() - t0)
    return times


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = ReviewProject.init(Path(tmp) / "rev", CHARTER, as_="PM1")
        probes_empty = [_add(project, f"PROBE-E{i}") for i in range(20)]
        empty = _time_saves(project, probes_empty, 0)
        t0 = time.perf_counter()
        for i in range(args.subjects):
            p, start = _add(project, f"SUBJ-{i:04d}")
            for reader_no, reader in enumerate(("R1", "R2")):
                project.save_read(p, _case(p, start, i, reader_no), as_=reader)
                project.sign(p, as_=reader)
        build_s = time.perf_counter() - t0
        probes_full = [_add(project, f"PROBE-F{i}") for i in range(20)]
        full = _time_saves(project, probes_full, 100)
        log_lines = sum(1 for _ in project.audit.entries())
        status_s = _timed(lambda: project.status(as_="PM1"))
        verify_s = _timed(lambda: project.verify())
        report_s = _timed(lambda: project.report(as_="PM1"))
        assert project.verify() == []
    rows = [
        ("save a draft read, empty project (baseline)", statistics.median(empty), max(empty), 0.100),
        (f"save a draft read, {args.subjects} subjects, {log_lines} log entries", statistics.median(full), max(full),
         0.100),
        ("status (all subjects)", status_s, status_s, 5.0),
        ("verify (full hash-chain walk + every file)", verify_s, verify_s, 5.0),
        ("report (kappa, adjudication, EDR/LDR)", report_s, report_s, 5.0),
    ]
    print(f"built {args.subjects} subjects x 2 signed reads x {N_TIMEPOINTS} timepoints in {build_s:.1f} s")
    print(f"{'operation':<62} {'median s':>9} {'max s':>8} {'goal s':>7}  ok")
    for name, med, worst, goal in rows:
        print(f"{name:<62} {med:>9.4f} {worst:>8.4f} {goal:>7.3f}  {'yes' if worst < goal else 'NO'}")
    print(f"full/empty save ratio (median): {statistics.median(full) / statistics.median(empty):.2f}")


if __name__ == "__main__":
    main()
