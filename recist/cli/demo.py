"""``recist demo [OUT]``: the main job of ``make demo`` on ``sample_data/``.

Assesses the hand-written example cases in ``sample_data/cases/`` and prints a readable table of their
responses.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register", "response_table"]

_REPO_SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the demonstration on sample_data/",
                                   description="Assess the example cases of sample_data/ and print their responses.")
    parser.add_argument("out", nargs="?", default="demo_out", help="folder for the demo's outputs")
    parser.add_argument("--sample-data", default=str(_REPO_SAMPLE), help="the sample_data folder")
    parser.add_argument("--cases-only", action="store_true",
                        help="only assess the example cases (skip the simulated trial)")
    parser.set_defaults(func=run)


def response_table(results: list[dict]) -> str:
    """A plain-text table: one line per follow-up, then each subject's best response and progression."""
    header = ("subject", "timepoint", "day", "sum mm", "vs base", "vs nadir", "target", "non-target", "new",
              "overall")
    rows = [header]
    for result in results:
        for tp in result["timepoints"]:
            def pct(v: float | None) -> str:
                return "" if v is None else f"{v:+.1f}%"

            rows.append((
                result["subject"], tp["label"], str(tp["day"]),
                "" if tp["sum_mm"] is None else f"{tp['sum_mm']:g}" + ("+" if tp["sum_is_lower_bound"] else ""),
                pct(tp["change_from_baseline_pct"]), pct(tp["change_from_nadir_pct"]),
                tp["target_response"] or "-", tp["non_target_response"] or "-", tp["new_lesions"],
                tp["overall_response"],
            ))
        progression = result["progression"]
        when = "no progression" if progression is None else (
            f"progression at {progression['label']} ({progression['date']}, {progression['trigger']}"
            + (f", confirmed at {progression['confirmed_at']}" if progression["confirmed_at"] else "") + ")")
        rows.append((result["subject"], "=> best overall response " + result["best_overall_response"] + "; " + when,
                     "", "", "", "", "", "", "", ""))
    widths = [max(len(r[i]) for r in rows if not r[1].startswith("=>")) for i in range(len(header))]
    lines = []
    for row in rows:
        if row[1].startswith("=>"):
            lines.append(f"{row[0]:<{widths[0]}}  {row[1]}")
        else:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from recist.api import assess  # noqa: PLC0415

    cases = sorted((Path(args.sample_data) / "cases").glob("*.json"))
    results = [assess(path).to_dict() for path in cases]
    print(f"RECIST 1.1 responses of the {len(results)} example cases in {Path(args.sample_data) / 'cases'}:\n")
    print(response_table(results))
    return 0
