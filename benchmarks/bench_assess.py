"""Benchmark: RECIST assessment throughput against JSON parsing alone, in one run.

Generates N synthetic cases (8 timepoints, up to 5 targets and 3 non-targets) in a temporary folder,
then measures:

1. ``json.loads`` alone on the same files (read + parse, each result dropped): the baseline;
2. the same keeping every dict in a list, to show what the garbage collector adds (not the baseline:
   re-scanning 20,000 live dicts costs more than parsing them, and nothing in recist keeps them);
3. pydantic validation alone (``Case.model_validate_json`` on each file's bytes): the floor of any
   assessment that validates its input with the case model;
4. the rules alone: ``assess_case`` on cases already validated, no I/O;
5. everything but the rules: read + validate (case model and whole-case checks) + write each case's result
   (computed beforehand) as a JSON line. This is the floor of any assessment that validates its input
   with the case model and writes its result, whatever its rules cost; shown also without the
   whole-case checks (model validation and writing only);
6. ``recist.assess`` on the already-decoded dicts (validation + rules);
7. ``recist assess FOLDER`` as a whole process (read, parse, validate, assess, write JSON lines), on one
   core and with ``--workers 2``.

Goal (issue 2): the whole assessment (7, one core) within 3x of parsing alone (1). Run:
``.venv/bin/python benchmarks/bench_assess.py [N]`` (default 20000).
"""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

import recist
from recist.model.case import Case
from recist.model.validate import check_case
from recist.rules.assess import assess_case

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


def time_cli(folder: Path, out: Path, *options: str) -> float | None:
    """Wall time of ``recist assess FOLDER -o OUT --force [options]`` as a whole process (OUT is replaced
    run after run); None if it failed."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "recist", "assess", str(folder), "-o", str(out), "--force", *options],
                          capture_output=True, text=True, check=False, env=ENV)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return None
    return seconds


def time_floor(files: list[Path], lines: list[bytes], out: Path, *, whole_case_checks: bool) -> float:
    """Seconds to read and validate every file and write its result line (computed beforehand): all of
    an assessment but the rules."""
    t0 = time.perf_counter()
    with open(out, "wb") as out_file:
        for path, line in zip(files, lines):
            case = Case.model_validate_json(path.read_bytes())
            if whole_case_checks:
                check_case(case)
            out_file.write(line)
    return time.perf_counter() - t0


def main(n: int = 20_000) -> int:
    rnd = random.Random(20261125)
    with tempfile.TemporaryDirectory(prefix="bench_assess_") as tmp:
        folder = Path(tmp) / "cases"
        folder.mkdir()
        for i in range(n):
            (folder / f"case_{i:05d}.json").write_text(json.dumps(synthetic_case(i, rnd)))
        files = sorted(folder.glob("*.json"))

        for path in files:  # page cache warm for every reader below
            path.read_bytes()
        t0 = time.perf_counter()
        for path in files:
            json.loads(path.read_bytes())
        t_parse = time.perf_counter() - t0

        # The same, keeping every dict: the garbage collector then re-scans the growing list again and
        # again, which costs more than the parsing. Shown, not used as the baseline.
        t0 = time.perf_counter()
        dicts = [json.loads(path.read_bytes()) for path in files]
        t_keep = time.perf_counter() - t0
        gc.collect()
        gc.freeze()  # the decoded dicts stay out of the collector's scans while they are assessed

        t0 = time.perf_counter()
        for path in files:
            Case.model_validate_json(path.read_bytes())
        t_validate = time.perf_counter() - t0

        t0 = time.perf_counter()
        for d in dicts:
            recist.assess(d)
        t_dicts = time.perf_counter() - t0
        del dicts
        gc.unfreeze()

        cases = [Case.model_validate_json(path.read_bytes()) for path in files]
        gc.collect()
        gc.freeze()
        t0 = time.perf_counter()
        for case in cases:
            assess_case(case)
        t_rules = time.perf_counter() - t0
        lines = [orjson.dumps(assess_case(case).to_dict()) + b"\n" for case in cases]
        del cases
        gc.collect()
        gc.freeze()

        t_floor_model = time_floor(files, lines, Path(tmp) / "floor.jsonl", whole_case_checks=False)
        t_floor = time_floor(files, lines, Path(tmp) / "floor.jsonl", whole_case_checks=True)
        del lines
        gc.unfreeze()

        out = Path(tmp) / "out.jsonl"
        subprocess.run([sys.executable, "-m", "recist", "assess", str(files[0]), "-o", str(out)], env=ENV,
                       check=True)  # warm-up: page cache and bytecode
        t_cli = time_cli(folder, out)
        t_cli2 = time_cli(folder, out, "--workers", "2")
        if t_cli is None or t_cli2 is None:
            return 1
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import recist.cli; recist.cli.build_parser()"], check=True, env=ENV)
        t_start = time.perf_counter() - t0

    rows = [
        ("json.loads alone (read + parse): baseline", t_parse),
        ("json.loads, all dicts kept in a list", t_keep),
        ("pydantic validation alone (read + validate)", t_validate),
        ("rules alone (validated cases, no I/O)", t_rules),
        ("read + validate (model only) + write", t_floor_model),
        ("all but the rules: read+validate+write", t_floor),
        ("recist.assess on decoded dicts", t_dicts),
        ("`recist assess FOLDER` whole process", t_cli),
        ("`recist assess FOLDER --workers 2`", t_cli2),
        ("  of which process start-up", t_start),
    ]
    print(f"{n} cases, 8 timepoints, up to 5 targets and 3 non-targets\n")
    print(f"{'what':44} {'seconds':>9} {'cases/s':>10} {'x parse':>8}")
    for name, seconds in rows:
        print(f"{name:44} {seconds:9.2f} {n / seconds:10.0f} {seconds / t_parse:8.2f}")
    whole = t_cli / t_parse
    print(f"\ngoal: the whole assessment (`recist assess FOLDER` on one core: read, validate, assess, write)"
          f" within 3x of parsing alone: {whole:.2f}x ({'met' if whole <= 3 else 'NOT met'}); with 2 workers "
          f"{t_cli2 / t_parse:.2f}x.\nfloor: without any rule, reading, validating and writing take {t_floor / t_parse:.2f}x; "
          f"the rules alone {t_rules / t_parse:.2f}x.")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
