"""Benchmark: ``recist review add-subject`` with its image check, as the administrator waits for it.

Writes one subject's timepoints (default 3 x 300 slices of 256 x 256, uncompressed CT, made with pydicom
by :func:`bench_dicom_load.write_ct`) and a project, then times whole commands as subprocesses (imports
included), best of ``--repeat`` rounds, each round running every command once:

1. ``recist review add-subject ... --no-image-check`` (a new project each time): the baseline without images;
2. ``recist series FOLDER`` over the timepoint folders: listing the series, what an administrator does by
   hand to check them (headers read, pixels not);
3. ``recist review add-subject ...`` with the image check.

Goal (issue 14 §3, "fast"): the check costs no more than listing the series by hand, i.e.
time(3) <= time(1) + 1.1 x time(2) (the headers are read once, by the same scanner). Run:
``.venv/bin/python benchmarks/bench_add_subject.py [--slices 300] [--size 256] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_dicom_load import write_ct  # noqa: E402 - a sibling benchmark script, not a package

CHARTER = {"format": "recist.charter/1", "trial": "BENCH", "readers": ["R1", "R2"], "adjudicators": ["ADJ1"],
           "administrators": ["PM1"]}
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def _run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "recist", *args], check=True, env=ENV, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--timepoints", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        timepoints = []
        for k in range(args.timepoints):
            day = dt.date(2024, 1, 10) + dt.timedelta(days=56 * k)
            folder = base / "images" / f"tp{k}"
            folder.mkdir(parents=True)
            write_ct(folder, args.slices, args.size, study_date=day.strftime("%Y%m%d"))
            timepoints += ["--timepoint", f"visit {k}", day.isoformat(), str(folder)]
        (base / "charter.json").write_text(json.dumps(CHARTER))
        runs = 0

        def add(extra: list[str]) -> float:
            nonlocal runs
            runs += 1
            project = base / f"review{runs}"
            _run(["review", "init", str(project), "--charter", str(base / "charter.json"), "--as", "PM1",
                  "--no-account"])
            return _run(["review", "add-subject", str(project), "NET-1", *timepoints, "--as", "PM1", *extra])

        commands = {"add-subject --no-image-check": lambda: add(["--no-image-check"]),
                    "recist series (the folders)": lambda: _run(["series", str(base / "images")]),
                    "add-subject (images checked)": lambda: add([])}
        for command in commands.values():  # warm-up: bytecode, page cache
            command()
        best = {name: min(command() for _ in range(args.repeat)) for name, command in commands.items()}
    files = args.timepoints * args.slices
    print(f"{args.timepoints} timepoint folders x {args.slices} slices of {args.size}x{args.size} ({files} files); "
          f"best of {args.repeat}; machine load average {os.getloadavg()[0]:.1f}")
    for name, seconds in best.items():
        print(f"  {name:32s} {seconds:6.2f} s")
    extra = best["add-subject (images checked)"] - best["add-subject --no-image-check"]
    listing = best["recist series (the folders)"]
    met = extra <= 1.1 * listing
    print(f"the image check adds {extra:.2f} s; listing the series by hand takes {listing:.2f} s: goal "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
