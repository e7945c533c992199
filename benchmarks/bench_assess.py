"""Benchmark: RECIST assessment throughput against JSON parsing alone, in one run.

Generates N synthetic cases (8 timepoints, up to 5 targets and 3 non-targets) in a temporary folder,
then measures:

1. ``json.loads`` alone on the same files (read + parse): the baseline;
2. ``recist.assess`` on the already-decoded dicts (validation + rules);
3. ``recist assess FOLDER`` as a whole process (read, parse, validate, assess, write JSON lines).

Goal (issue 2): the whole assessment within 3x of parsing alone. Run:
``.venv/bin/python benchmarks/bench_assess.py [N]`` (default 20000).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import recist

# The CLI runs as an installed program would, with compiled bytecode (written by a warm-up run): an
# environment that forbids .pyc files (PYTHONDONTWRITEBYTECODE) would recompile recist at every start.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def synthetic_case(i: int, rnd: random.Random) -> dict:
    n_targets = rnd.randint(1, 5)
    n_non = rnd.randint(0, 3)
    lesions = [{"id": f"T{k}", "role": "target", "site": f"organ {k // 2}", "nodal": k == 4}
               for k in range(n_targets)]
    lesions += [{"id": f"NT{k}", "role": "non_target", "site": "peritoneum"} for k in range(n_non)]
    sizes = {les["id"]: rnd.uniform(15, 60) for les in lesions if les["role"] == "target"}
    timepoints = []
    for t in range(8):
        growth = 1 + rnd.uniform(-0.3, 0.3) * t / 4
        targets = {}
        for les in lesions:
            if les["role"] != "target":
                continue
            key = "short_axis_mm" if les["nodal"] else "long_axis_mm"
            targets[les["id"]] = {key: round(sizes[les["id"]] * growth, 1)}
        tp = {"label": "baseline" if t == 0 else f"week {12 * t}", "date": f"2024-{1 + t:02d}-{10 + t:02d}",
              "targets": targets, "non_targets": {f"NT{k}": "present" for k in range(n_non)}}
        if t == 7 and rnd.random() < 0.2:
            tp["new_lesions"] = [{"id": "N1", "site": "bone", "equivocal": False}]
        timepoints.append(tp)
    return {"format": "recist.case/1", "subject": f"S{i:05d}", "lesions": lesions, "timepoints": timepoints}


def main(n: int = 20_000) -> int:
    rnd = random.Random(20261125)
    with tempfile.TemporaryDirectory(prefix="bench_assess_") as tmp:
        folder = Path(tmp) / "cases"
        folder.mkdir()
        for i in range(n):
            (folder / f"case_{i:05d}.json").write_text(json.dumps(synthetic_case(i, rnd)))
        files = sorted(folder.glob("*.json"))

        t0 = time.perf_counter()
        dicts = [json.loads(p.read_bytes()) for p in files]
        t_parse = time.perf_counter() - t0

        t0 = time.perf_counter()
        for d in dicts:
            recist.assess(d)
        t_dicts = time.perf_counter() - t0

        out = Path(tmp) / "out.jsonl"
        subprocess.run([sys.executable, "-m", "recist", "assess", str(files[0]), "-o", str(out)], env=ENV,
                       check=True)  # warm-up: page cache and bytecode
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "recist", "assess", str(folder), "-o", str(out)],
                              capture_output=True, text=True, check=False, env=ENV)
        t_cli = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "recist", "assess", str(folder), "-o", str(out), "--workers", "2"],
                              capture_output=True, text=True, check=False, env=ENV)
        t_cli2 = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import recist.cli; recist.cli.build_parser()"], check=True, env=ENV)
        t_start = time.perf_counter() - t0

    rows = [
        ("json.loads alone (read + parse)", t_parse, 1.0),
        ("recist.assess on dicts", t_dicts, t_dicts / t_parse),
        ("parse + recist.assess (in process)", t_parse + t_dicts, (t_parse + t_dicts) / t_parse),
        ("`recist assess FOLDER` whole process", t_cli, t_cli / t_parse),
        ("`recist assess FOLDER --workers 2`", t_cli2, t_cli2 / t_parse),
        ("  of which process start-up", t_start, t_start / t_parse),
    ]
    print(f"{n} cases, 8 timepoints, up to 5 targets and 3 non-targets\n")
    print(f"{'what':40} {'seconds':>9} {'cases/s':>10} {'x parse':>8}")
    for name, seconds, ratio in rows:
        print(f"{name:40} {seconds:9.2f} {n / seconds:10.0f} {ratio:8.2f}")
    ratio = (t_parse + t_dicts) / t_parse
    print(f"\ngoal: whole assessment within 3x of parsing alone (one core): {ratio:.2f}x in process "
          f"({'met' if ratio <= 3 else 'NOT met'}), {t_cli / t_parse:.2f}x as a process "
          f"({'met' if t_cli / t_parse <= 3 else 'NOT met'}); with 2 workers {t_cli2 / t_parse:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
