"""``recist import sdtm DIR --out DIR`` and ``recist import sr FILES... --out DIR``: exchange files to cases.

``sdtm`` rebuilds one case per subject per evaluator from TU/TR/RS (Dataset-JSON, CSV or XPORT) and
writes ``<subject>_<evaluator>.json``; ``sr`` rebuilds one case per subject per observer from DICOM SR
Measurement Reports (TID 1500) and writes ``<subject>_<observer>.json``. ``recist assess`` of the files
gives the exchanged responses (SDTM: each RS response is kept as the timepoint's ``recorded`` block, so
any disagreement is reported).

Names come from the subject and reader with every character outside ``A-Za-z0-9._-`` replaced, cut to
100 characters; when two cases of one import would get the same name ("NET 002" and "NET-002", "READER"
and "READER?"), ``-2``, ``-3``, ... is added, and the count printed is the number of files written.
``--out`` follows the output rule of every command (:func:`recist.cli._output.output_folder`): a new or
empty folder, or a non-empty one with ``--force``, which replaces case files of the same name (so that
importing the same data again gives the same cases, not a second copy of each that a later ``assess
DIR`` or ``batch`` would count twice). Nothing is overwritten silently. Warnings (groups or documents skipped, lost
data) are printed one per line on stderr before the summary.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recist.cli._output import add_force_argument, output_folder
from recist.errors import ExchangeError

__all__ = ["register"]


_OUT_HELP = "new or empty folder for the case files (created); a non-empty one needs --force"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``import`` with its sub-verbs ``sdtm`` and ``sr``."""
    parser = subparsers.add_parser(
        "import", help="rebuild case files from SDTM TU/TR/RS or DICOM SR (TID 1500)",
        description="Rebuild case files (recist.case/1) from CDISC SDTM or DICOM SR Measurement Reports.",
    )  # fmt: skip
    verbs = parser.add_subparsers(dest="import_format", metavar="FORMAT", required=True)
    sdtm = verbs.add_parser("sdtm", help="cases from a folder of tu/tr/rs datasets (.json, .csv or .xpt)")
    sdtm.add_argument("folder", metavar="DIR", help="folder holding tu, tr and rs")
    sdtm.add_argument("--out", required=True, metavar="DIR", help=_OUT_HELP)
    add_force_argument(sdtm)
    sdtm.add_argument("--no-recorded", action="store_true", help="do not keep RS responses as 'recorded'")
    sdtm.set_defaults(func=_sdtm)
    sr = verbs.add_parser("sr", help="cases from DICOM SR Measurement Reports")
    sr.add_argument("files", nargs="+", metavar="FILE", help="SR files (or folders of them)")
    sr.add_argument("--out", required=True, metavar="DIR", help=_OUT_HELP)
    add_force_argument(sr)
    sr.add_argument("--images", nargs="+", metavar="SERIES", default=[],
                    help="folders of the referenced image series (to convert pixel coordinates and lengths)")  # fmt: skip
    sr.set_defaults(func=_sr)


_MAX_NAME = 100


def _name(*parts: str) -> str:
    text = "_".join(p for p in parts if p)
    return (re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "case")[:_MAX_NAME]


def _write_cases(out: Path, named: Iterable[tuple[str, Any]], *, force: bool) -> int:
    """Write each (name, case) into the output folder ``out`` (:func:`output_folder`), giving cases that
    would share a name distinct ones; return how many were written."""
    from recist.io.case_json import write_case

    output_folder(out, force=force, option="--out")
    taken: set[str] = set()
    count = 0
    for stem, case in named:
        candidate, k = stem, 1
        while candidate.lower() in taken:
            k += 1
            candidate = f"{stem}-{k}"
        taken.add(candidate.lower())
        write_case(case, out / f"{candidate}.json")
        count += 1
    return count


def _warn(lines: Iterable[str]) -> None:
    for line in lines:
        print(f"recist import: warning: {line}", file=sys.stderr)


def _sdtm(args: argparse.Namespace) -> int:
    from recist.io.sdtm_import import cases_from_sdtm, read_protocols, read_sdtm

    notes: list[str] = []
    datasets = read_sdtm(args.folder, warnings=notes)
    reads = cases_from_sdtm(
        datasets, recorded=not args.no_recorded, protocols=read_protocols(args.folder), warnings=notes
    )
    _warn(notes)
    out = Path(args.out)
    count = _write_cases(out, ((_name(r.case.subject, r.evaluator_role or r.evaluator), r.case) for r in reads), force=args.force)
    print(f"wrote {count} case files to {out}")
    return 0


def _sr(args: argparse.Namespace) -> int:
    from recist.io.sr_import import import_sr

    files: list[Path] = []
    for raw in args.files:
        path = Path(raw)
        if not path.exists():
            raise ExchangeError(f"{path}: no such file or folder")
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    if not files:
        raise ExchangeError(f"{', '.join(args.files)}: no file to import (empty folder)")
    headers = {}
    if args.images:
        from recist.export.dicom_sr import index_images

        headers = index_images(args.images).by_sop
    notes: list[str] = []
    try:
        folders = any(Path(raw).is_dir() for raw in args.files)
        imported = import_sr(files, images=headers, warnings=notes, skip_others=folders)
    finally:
        _warn(notes)
    out = Path(args.out)
    count = _write_cases(out, ((_name(r.case.subject, r.observer), r.case) for r in imported.results), force=args.force)
    print(f"wrote {count} case files to {out}")
    return 0
