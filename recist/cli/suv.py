"""``recist suv SERIES``: the SUVbw factor of a PET series and the header rules that gave it."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register"]

_REL_TOL = 1e-9


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``suv`` subcommand."""
    parser = subparsers.add_parser(
        "suv",
        help="print the SUVbw scale factor of a PET series and which header rules gave it",
        description="Print the factor that turns a PET series' rescaled pixel values into SUVbw (g/ml), "
        "per instance when they differ, with the DICOM header rules used (QIBA / IBSI SUV manual).",
    )
    parser.add_argument("series", help="folder or file holding the PET series (a folder with several series: "
                        "its only PT series, or the one given by --series-uid)")
    parser.add_argument("--series-uid", metavar="UID", help="which series of the folder to use")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.set_defaults(func=_handle)


def _handle(args: argparse.Namespace) -> int:
    from recist.errors import SuvError
    from recist.io.dicom import load_series, select_series
    from recist.io.pet import series_suv_factors

    volume = load_series(select_series(args.series, series_uid=args.series_uid, modality="PT"))
    if str(volume.modality).upper() != "PT":
        raise SuvError(f"{args.series}: Modality is {volume.modality!r}, not PT; SUV applies to PET only")
    factors = series_suv_factors(volume.headers, volume.files)
    values = [f.factor for f in factors]
    low, high = min(values), max(values)
    uniform = (high - low) <= _REL_TOL * abs(high)
    distinct_rules: list[list[str]] = []
    for f in factors:
        if f.rules not in distinct_rules:
            distinct_rules.append(f.rules)
    report = {
        "series": str(args.series),
        "series_uid": volume.series_uid,
        "units": factors[0].units,
        "instances": len(factors),
        "uniform": uniform,
        "factor": values[0] if uniform else None,
        "factor_min": low,
        "factor_max": high,
        "distinct_factors": len({round(v / high, 12) for v in values}) if high else 1,
        "rules": distinct_rules[0] if len(distinct_rules) == 1 else None,
        "instances_detail": [
            {"file": str(path), "factor": f.factor, "rules": f.rules} for path, f in zip(volume.files, factors)
        ],
    }
    if args.format == "json":
        json.dump(report, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout
    out.write(f"series {volume.series_uid} ({len(factors)} instances, Units {report['units']})\n")
    if uniform:
        out.write(f"SUVbw factor: {values[0]:.6g} g/ml per rescaled unit (all instances)\n")
    else:
        out.write(f"SUVbw factor differs between instances: min {low:.6g}, max {high:.6g} "
                  f"({report['distinct_factors']} distinct values over {len(factors)} instances)\n")
    out.write("rules:\n")
    if len(distinct_rules) == 1:
        for rule in distinct_rules[0]:
            out.write(f"  - {rule}\n")
    else:
        out.write("  (first and last instance shown; --format json lists every instance)\n")
        for label, f in (("first", factors[0]), ("last", factors[-1])):
            out.write(f"  {label} instance ({f.source}):\n")
            for rule in f.rules:
                out.write(f"    - {rule}\n")
    return 0
