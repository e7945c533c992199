"""``recist series PATH``: list the DICOM image series under a folder.

Prints one row per series (patient, study date, modality, description, slices, spacing z/y/x in mm,
and whether it loads) or, with ``--format json``, a JSON list of :meth:`SeriesInfo.to_dict` without the
file lists (``--files`` adds them). Skipped files are reported on stderr with a count (each one with
``--verbose``). Exit status 0 when at least one series was found; none is an error (one line, status 2).
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``series`` subcommand."""
    parser = subparsers.add_parser(
        "series",
        help="list the DICOM series under a folder",
        description="List the DICOM image series found under PATH (searched recursively).",
    )
    parser.add_argument("path", metavar="PATH", help="folder (or file) to search")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    parser.add_argument("--files", action="store_true", help="include each series' files (json)")
    parser.set_defaults(func=run)


def _spacing(info) -> str:
    z = f"{info.slice_spacing_mm:.3g}" if info.slice_spacing_mm else "-"
    yx = "x".join(f"{v:.3g}" for v in info.pixel_spacing_mm) if info.pixel_spacing_mm else "-"
    return f"{z} / {yx}"


def _table(series) -> str:
    header = ("#", "patient", "date", "modality", "description", "slices", "size", "spacing z / y x mm", "status")
    rows = [
        (
            str(i + 1),
            s.patient_id or "-",
            s.study_date.isoformat() if s.study_date else "-",
            s.modality or "-",
            s.description or "-",
            str(s.num_slices),
            f"{s.rows}x{s.columns}",
            _spacing(s),
            "ok" if s.problem is None else f"cannot load: {s.problem}",
        )
        for i, s in enumerate(series)
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[-1]]) for row in [header, *rows]]
    uids = [f"  [{i + 1}] {s.series_uid}" for i, s in enumerate(series)]
    return "\n".join([*lines, "series UIDs:", *uids])


def run(args: argparse.Namespace) -> int:
    """List the series; return 0 when at least one was found (none: DicomLoadError, status 2)."""
    from recist.io.dicom import find_series

    scan = find_series(args.path, progress=sys.stderr.isatty())
    if not scan.series:
        from recist.errors import DicomLoadError

        skipped = ""
        if scan.skipped:
            first = scan.skipped[0]
            skipped = (f" ({len(scan.skipped)} file(s) skipped, e.g. {first.path.name}: {first.reason}; "
                       "--verbose lists them)")
        if args.verbose:
            for item in scan.skipped:
                print(f"  {item.path}: {item.reason}", file=sys.stderr)
        raise DicomLoadError(f"no DICOM image series found under {args.path}{skipped}")
    if args.format == "json":
        items = []
        for info in scan.series:
            item = info.to_dict()
            if not args.files:
                item.pop("files")
            items.append(item)
        print(json.dumps(items, indent=2))
    elif scan.series:
        print(_table(scan.series))
    if scan.skipped:
        print(f"recist series: {len(scan.skipped)} file(s) skipped (not usable DICOM images)", file=sys.stderr)
        for skipped in scan.skipped[: None if args.verbose else 10]:
            print(f"  {skipped.path}: {skipped.reason}", file=sys.stderr)
        if not args.verbose and len(scan.skipped) > 10:
            print(f"  ... and {len(scan.skipped) - 10} more (use --verbose to list all)", file=sys.stderr)
    return 0
