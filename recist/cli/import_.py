"""``recist import sdtm DIR --out DIR`` and ``recist import sr FILES... --out DIR``: exchange files to cases.

``sdtm`` rebuilds one case per subject per evaluator from TU/TR/RS (Dataset-JSON, CSV or XPORT) and
writes ``<subject>_<evaluator>.json``; ``sr`` rebuilds one case per subject per observer from DICOM SR
Measurement Reports (TID 1500) and writes ``<subject>_<observer>.json``. ``recist assess`` of the files
gives the exchanged responses (SDTM: each RS response is kept as the timepoint's ``recorded`` block, so
any disagreement is reported).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``import`` with its sub-verbs ``sdtm`` and ``sr``."""
    parser = subparsers.add_parser(
        "import", help="rebuild case files from SDTM TU/TR/RS or DICOM SR (TID 1500)",
        description="Rebuild case files (recist.case/1) from CDISC SDTM or DICOM SR Measurement Reports.",
    )  # fmt: skip
    verbs = parser.add_subparsers(dest="import_format", metavar="FORMAT", required=True)
    sdtm = verbs.add_parser("sdtm", help="cases from a folder of tu/tr/rs datasets (.json, .csv or .xpt)")
    sdtm.add_argument("folder", metavar="DIR", help="folder holding tu, tr and rs")
    sdtm.add_argument("--out", required=True, metavar="DIR", help="folder for the case files (created)")
    sdtm.add_argument("--no-recorded", action="store_true", help="do not keep RS responses as 'recorded'")
    sdtm.set_defaults(func=_sdtm)
    sr = verbs.add_parser("sr", help="cases from DICOM SR Measurement Reports")
    sr.add_argument("files", nargs="+", metavar="FILE", help="SR files (or folders of them)")
    sr.add_argument("--out", required=True, metavar="DIR", help="folder for the case files (created)")
    sr.set_defaults(func=_sr)


def _name(*parts: str) -> str:
    text = "_".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "case"


def _sdtm(args: argparse.Namespace) -> int:
    from recist.io.case_json import write_case
    from recist.io.sdtm_import import cases_from_sdtm, read_sdtm

    reads = cases_from_sdtm(read_sdtm(args.folder), recorded=not args.no_recorded)
    out = Path(args.out)
    for read in reads:
        write_case(read.case, out / f"{_name(read.case.subject, read.evaluator_role or read.evaluator)}.json")
    print(f"wrote {len(reads)} case files to {out}")
    return 0


def _sr(args: argparse.Namespace) -> int:
    from recist.io.case_json import write_case
    from recist.io.sr_import import cases_from_sr, read_sr_files

    files: list[Path] = []
    for raw in args.files:
        path = Path(raw)
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    results = cases_from_sr(read_sr_files(files))
    out = Path(args.out)
    for result in results:
        write_case(result.case, out / f"{_name(result.case.subject, result.observer)}.json")
    print(f"wrote {len(results)} case files to {out}")
    return 0
