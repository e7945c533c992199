"""``recist export sdtm|sr|csv SOURCE --out DIR``: standard exchange files of cases or a review project.

SOURCE is a case file, a folder of case files (its ``*.json``, sorted) or, for ``sdtm`` and ``csv``, a
central-review project folder (read as administrator ``--as``: every reader's signed read, flagged with the
read that gives the final result).

- ``sdtm``: CDISC SDTM TU, TR and RS as CSV, Dataset-JSON v1.1 and SAS XPORT v5 (``--format``), and DM
  with ``--subjects`` (the subjects table, with ``--site-id`` and ``--country``); ``define.xml`` (v2.1)
  describes the datasets written;
- ``sr``: one DICOM Comprehensive 3D SR (TID 1500) per timepoint, in the study of the ``--images`` series;
- ``csv``: tidy ``lesions.csv`` (one row per lesion per timepoint) and ``responses.csv`` (one per timepoint).

``--out`` follows the output rule of every command (:func:`recist.cli._output.output_folder`): a new or
empty folder, or a non-empty one with ``--force`` (files of the same name are then replaced). The inputs
are read and checked first, so a refused input leaves no folder behind.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from recist.cli._output import add_force_argument, output_folder
from recist.errors import ExchangeError

__all__ = ["register", "load_reads"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export`` with its sub-verbs ``sdtm``, ``sr`` and ``csv``."""
    parser = subparsers.add_parser(
        "export", help="write SDTM (TU/TR/RS), DICOM SR or tidy CSV from cases or a review project",
        description="Write standard exchange files: CDISC SDTM, DICOM SR (TID 1500) or tidy CSV tables.",
    )  # fmt: skip
    verbs = parser.add_subparsers(dest="export_format", metavar="FORMAT", required=True)

    def source(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "source", metavar="SOURCE", help="a case file, a folder of case files or a review project"
        )
        p.add_argument("--out", required=True, metavar="DIR",
                       help="new or empty folder to write into (created); a non-empty one needs --force")
        add_force_argument(p)

    def reader_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--as", dest="as_", metavar="ID", help="administrator id (needed for a review project)"
        )
        p.add_argument(
            "--evaluator",
            choices=("INDEPENDENT ASSESSOR", "INVESTIGATOR"),
            default="INVESTIGATOR",
            help="--EVAL of case files (default INVESTIGATOR; a review project is INDEPENDENT ASSESSOR)",
        )
        p.add_argument("--ignore-verify", action="store_true",
                       help="export a review project that fails `recist review verify` (forensic use; stated)")
        p.add_argument("--role", metavar="EVALID", default=None,
                       help="--EVALID of case files, e.g. 'RADIOLOGIST 1' (default: none)")  # fmt: skip

    sdtm = verbs.add_parser("sdtm", help="CDISC SDTM TU/TR/RS (CSV, Dataset-JSON v1.1, SAS XPORT v5)")
    source(sdtm)
    reader_options(sdtm)
    sdtm.add_argument("--study", default=None, metavar="STUDYID",
                      help="STUDYID (default: the charter's trial for a review project, else RECIST)")  # fmt: skip
    sdtm.add_argument("--format", default="csv,json,xpt", metavar="LIST",
                      help="comma-separated subset of csv,json,xpt (default all three)")  # fmt: skip
    sdtm.add_argument("--subjects", default=None, metavar="CSV",
                      help="subjects table (subject, randomisation_date, arm, ...): also write DM")  # fmt: skip
    sdtm.add_argument("--site-id", default=None, metavar="SITEID", help="DM SITEID of every subject")
    sdtm.add_argument("--country", default=None, metavar="ISO3",
                      help="DM COUNTRY of every subject, ISO 3166-1 alpha-3 (e.g. NLD)")  # fmt: skip
    sdtm.set_defaults(func=_sdtm)

    sr = verbs.add_parser("sr", help="DICOM Comprehensive 3D SR (TID 1500), one per timepoint")
    source(sr)
    sr.add_argument(
        "--images", nargs="+", required=True, metavar="SERIES", help="folders of the image series"
    )
    sr.add_argument("--reader", default="READER", help="observer name in the SR (default READER)")
    sr.set_defaults(func=_sr)

    table = verbs.add_parser("csv", help="tidy CSV: lesions.csv and responses.csv")
    source(table)
    reader_options(table)
    table.set_defaults(func=_csv)


def _is_review_project(path: Path) -> bool:
    return path.is_dir() and (path / "project.json").is_file() and (path / "charter.json").is_file()


def load_reads(source: str, *, as_: str | None, evaluator: str, role: str | None,
               ignore_verify: bool = False) -> list[Any]:
    """The :class:`~recist.export.sdtm.SdtmRead` inputs of SOURCE (case, folder of cases, review project)."""
    from recist.api import assess
    from recist.cli.assess import collect_case_files
    from recist.export.sdtm import SdtmRead, reads_from_review
    from recist.io.case_json import read_case

    path = Path(source)
    if _is_review_project(path):
        from recist.review.workflow import ReviewProject

        if not as_:
            raise ExchangeError(f"{path} is a review project: give an administrator id with --as")
        from recist.review.integrity import require_intact

        project = ReviewProject.open(path)
        for damage in require_intact(project, ignore_verify=ignore_verify):
            print(f"recist export: --ignore-verify: the project fails verify: {damage}", file=sys.stderr)
        return reads_from_review(project, as_=as_)
    reads = []
    for file in collect_case_files([source]):
        case = read_case(file)
        reads.append(SdtmRead(case, assess(case), role, True if role else None, evaluator=evaluator))
    return reads


def _sdtm(args: argparse.Namespace) -> int:
    from recist.export.define_xml import write_define
    from recist.export.sdtm import build_sdtm, write_protocols, write_sdtm

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    reads = load_reads(args.source, as_=args.as_, evaluator=args.evaluator, role=args.role,
                       ignore_verify=args.ignore_verify)
    study = args.study or _study_of(Path(args.source))
    datasets = build_sdtm(reads, study_id=study)
    if args.subjects:
        datasets["DM"] = _dm(args, Path(args.source), reads, study)
    output_folder(args.out, force=args.force, option="--out")
    written = write_sdtm(datasets, args.out, formats=formats, study_id=study)
    written.append(write_protocols(reads, args.out, study_id=study))
    written.append(write_define(datasets, args.out, study_id=study, formats=formats))
    counts = ", ".join(f"{domain} {len(records)}" for domain, records in datasets.items())
    print(f"wrote {len(written)} files to {args.out} ({counts} records from {len(reads)} reads)")
    return 0


def _dm(args: argparse.Namespace, source: Path, reads: list[Any], study: str) -> list[dict[str, Any]]:
    """DM from ``--subjects``; a review project's charter arms bound the subjects' arms."""
    from recist.endpoints.subjects import read_subjects
    from recist.export.sdtm_dm import build_dm

    arms: tuple[str, ...] = ()
    if _is_review_project(source):
        from recist.review.charter import load_charter

        arms = load_charter(source / "charter.json").arms
    return build_dm(
        read_subjects(args.subjects), study_id=study, site_id=args.site_id, country=args.country, arms=arms,
        read_subjects=[read.case.subject for read in reads],
    )  # fmt: skip


def _study_of(path: Path) -> str:
    """STUDYID when ``--study`` is not given: the review charter's trial, else "RECIST" for case files."""
    if _is_review_project(path):
        from recist.review.charter import load_charter

        return load_charter(path / "charter.json").trial
    return "RECIST"


def _sr(args: argparse.Namespace) -> int:
    from recist.cli.assess import collect_case_files
    from recist.export.dicom_sr import export_sr, index_images
    from recist.io.case_json import read_case

    if _is_review_project(Path(args.source)):
        raise ExchangeError(
            "export sr takes case files (the reads of a review project refer to de-identified images)"
        )
    images = index_images(args.images)
    cases = [read_case(file) for file in collect_case_files([args.source])]
    output_folder(args.out, force=args.force, option="--out")
    written = []
    for case in cases:
        written += export_sr(case, images, args.out, reader=args.reader)
    print(f"wrote {len(written)} SR documents to {args.out}")
    return 0


def _csv(args: argparse.Namespace) -> int:
    from recist.export.tables import write_tables

    reads = load_reads(args.source, as_=args.as_, evaluator=args.evaluator, role=args.role,
                       ignore_verify=args.ignore_verify)
    output_folder(args.out, force=args.force, option="--out")
    written = write_tables(reads, args.out)
    print(f"wrote {', '.join(p.name for p in written)} to {args.out} ({len(reads)} reads)")
    return 0
