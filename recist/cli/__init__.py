"""The ``recist`` command line.

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``, which
adds its parser and sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and returning
an exit status). Modules are discovered, so adding a subcommand touches no other file. Heavy imports
(SimpleITK, lifelines, highdicom, ...) belong inside the handler, never at module level, so that
``recist --help`` stays fast.

Any :class:`recist.errors.RecistError` becomes a one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from recist.errors import RecistError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand module found in :mod:`recist.cli`."""
    parser = argparse.ArgumentParser(
        prog="recist",
        description="RECIST 1.1 tumour-response assessment for clinical trials.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except RecistError as exc:
        print(f"recist {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"recist {args.command}: interrupted", file=sys.stderr)
        return 130
