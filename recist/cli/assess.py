"""``recist assess PATH... [--format json|jsonl|csv] [--output FILE]``: RECIST 1.1 (and iRECIST) responses
of case files.

One file prints the JSON object of ARCHITECTURE.md. Several files or a folder (its ``*.json`` files,
sorted by name, not recursive) print one result per case: JSON lines, or CSV with one row per timepoint.
``--format jsonl`` prints JSON lines for one file too. ``-`` as PATH reads one case file from standard
input. A bad case in a batch (or one that meets an unexpected error, which is a bug) is reported on
stderr naming its file and the rest assessed; the exit status is then 1.

The JSON is written by orjson: UTF-8, compact lines (or two-space indentation for one file), the same
text as ``json.dumps`` gives for these values, about ten times faster, which matters in a batch.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from recist.cli._output import add_force_argument
from recist.errors import RecistError, RecistValidationError

__all__ = ["register", "CSV_COLUMNS", "csv_rows", "collect_case_files", "STDIN"]

#: The PATH that stands for standard input.
STDIN = "-"

CSV_COLUMNS = (
    "subject", "label", "date", "day", "sum_mm", "nadir_mm", "change_from_baseline_pct", "change_from_nadir_pct",
    "target_response", "non_target_response", "new_lesions", "overall_response", "sum_is_lower_bound",
    "best_overall_response", "progression_label", "progression_date", "progression_trigger",
) + (
    # iRECIST ([iR17]), filled when the case's criteria are iRECIST (RECIST 1.1 stays the columns above):
    # the time-point i-response, iBOR, the first iUPD, the confirmed iUPD (the progression date) and the
    # timepoint that confirmed it (iCPD).
    "irecist_response", "irecist_best_overall_response", "irecist_first_iupd_label", "irecist_first_iupd_date",
    "irecist_progression_label", "irecist_progression_date", "irecist_icpd_label", "irecist_icpd_date",
)


_PRETTY = orjson.OPT_INDENT_2
_LINE = 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "assess", help="assess case files by RECIST 1.1",
        description="Assess case files (recist.case/1) by RECIST 1.1 and print the responses.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="case files or folders of case files; - reads one case file from standard input")
    parser.add_argument("--format", choices=("json", "jsonl", "csv"), default="json",
                        help="output format: json (one case: indented; several: JSON lines), jsonl (JSON lines "
                             "always) or csv (one row per follow-up); default json")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="write to FILE (atomically) instead of stdout; an existing FILE needs --force")
    add_force_argument(parser, file=True)
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="assess a batch in N processes (output order is kept; default 1)")
    parser.set_defaults(func=run)


def collect_case_files(paths: list[str]) -> list[Path]:
    """The case files named by ``paths``: files as given, folders expanded to their ``*.json`` sorted."""
    files: list[Path] = []
    for raw in paths:
        if raw == STDIN:
            files.append(Path(STDIN))
            continue
        if "\0" in raw:
            raise RecistValidationError("path holds a NUL character", source=repr(raw))
        path = Path(raw)
        if path.is_dir():
            with os.scandir(path) as entries:  # names sorted as strings: cheaper than sorting Paths
                names = sorted(e.name for e in entries
                               if e.name.endswith(".json") and not e.name.startswith(".") and e.is_file())
            found = [path / name for name in names]
            if not found:
                raise RecistValidationError("folder holds no *.json case file", source=str(path))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise RecistValidationError("no such file or folder", source=str(path))
    return files


def csv_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One CSV row per follow-up timepoint of an assessment dict."""
    progression = result.get("progression") or {}
    irecist = result.get("irecist")
    i_rows = irecist["timepoints"] if irecist else [{}] * len(result["timepoints"])
    i_case = _irecist_columns(irecist) if irecist else {}
    rows = []
    for tp, i_tp in zip(result["timepoints"], i_rows):
        row = {key: tp.get(key) for key in CSV_COLUMNS}
        row.update(
            subject=result["subject"],
            best_overall_response=result["best_overall_response"],
            progression_label=progression.get("label"),
            progression_date=progression.get("date"),
            progression_trigger=progression.get("trigger"),
            irecist_response=i_tp.get("response"),
            **i_case,
        )
        rows.append({k: ("" if v is None else v) for k, v in row.items()})
    return rows


def _irecist_columns(irecist: dict[str, Any]) -> dict[str, Any]:
    """The per-case iRECIST columns of the CSV from the ``irecist`` block of an assessment dict."""
    first = irecist.get("first_iupd") or {}
    progression = irecist.get("progression") or {"iupd": {}, "icpd": {}}
    return {
        "irecist_best_overall_response": irecist["best_overall_response"],
        "irecist_first_iupd_label": first.get("label"),
        "irecist_first_iupd_date": first.get("date"),
        "irecist_progression_label": progression["iupd"].get("label"),
        "irecist_progression_date": progression["iupd"].get("date"),
        "irecist_icpd_label": progression["icpd"].get("label"),
        "irecist_icpd_date": progression["icpd"].get("date"),
    }


def _read_stdin_case() -> Any:
    """The case file given on standard input, validated (errors name ``<stdin>``)."""
    from recist.io.case_json import parse_case_bytes  # noqa: PLC0415

    return parse_case_bytes(sys.stdin.buffer.read(), "<stdin>")


def _assess_one(path: Path, fmt: str, pretty: bool, batch: bool = True) -> tuple[str, str | None]:
    """Assess one case file; return (its output text, None) or ("", the error message).

    In a batch (``batch``) an unexpected error (a bug) is returned as the file's error so that the
    other files are still assessed; alone it propagates (the command line reports it as a bug).
    """
    from recist.api import assess  # noqa: PLC0415

    try:
        result = assess(_read_stdin_case() if str(path) == STDIN else path).to_dict()
    except RecistValidationError as exc:
        return "", str(exc)
    except RecistError as exc:
        return "", f"{path}: {exc}"
    except Exception as exc:  # noqa: BLE001 - one case's bug must not stop a batch
        if not batch:
            raise
        return "", f"{path}: internal error {type(exc).__name__}: {exc} (a bug in recist: please report it)"
    if fmt == "csv":
        buffer = io.StringIO()
        csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n").writerows(csv_rows(result))
        return buffer.getvalue(), None
    return orjson.dumps(result, option=_PRETTY if pretty else _LINE).decode() + "\n", None


def _assess_chunk(paths: list[Path], fmt: str) -> list[tuple[str, str | None]]:
    return [_assess_one(path, fmt, False) for path in paths]


def _results(files: list[Path], fmt: str, pretty: bool, workers: int) -> Iterator[tuple[str, str | None]]:
    """Yield (text, error) in the order of ``files``, from ``workers`` processes when > 1."""
    if workers <= 1 or len(files) < 2:
        for path in files:
            yield _assess_one(path, fmt, pretty, batch=len(files) > 1)
        return
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    size = max(1, min(256, len(files) // (workers * 8)))
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for outputs in pool.map(_assess_chunk, chunks, [fmt] * len(chunks)):
            yield from outputs


def run(args: argparse.Namespace) -> int:
    from recist.cli._output import output_stream, progress, throughput_mode  # noqa: PLC0415

    if args.workers < 1:
        raise RecistValidationError(f"--workers must be at least 1, got {args.workers}")
    files = collect_case_files(args.paths)
    if files.count(Path(STDIN)) > 1:
        raise RecistValidationError("- (standard input) can be given once")
    single = len(files) == 1 and not Path(args.paths[0]).is_dir() and len(args.paths) == 1
    if len(files) > 1:
        throughput_mode()
    failures = 0
    with output_stream(args.output, force=args.force) as out:
        if args.format == "csv":
            csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n").writeheader()
        workers = 1 if Path(STDIN) in files else args.workers  # standard input is read in this process
        results = _results(files, args.format, single and args.format == "json", workers)
        for text, error in progress(results, total=len(files), desc="assess", unit="case"):
            if error is not None:
                if single:
                    raise RecistValidationError(error)
                failures += 1
                print(f"recist assess: error: {error}", file=sys.stderr)
                continue
            out.write(text)
    if failures:
        print(f"recist assess: {failures} of {len(files)} case(s) could not be assessed", file=sys.stderr)
        return 1
    return 0
