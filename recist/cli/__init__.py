"""The ``recist`` command line.

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``, which
adds its parser and sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and returning
an exit status). Modules are discovered, so adding a subcommand touches no other file. Heavy imports
(SimpleITK, lifelines, highdicom, ...) belong inside the handler, never at module level, so that
``recist --help`` stays fast.

Any :class:`recist.errors.RecistError` becomes a one-line message on stderr and exit status 2, and so
does an operating-system error (a folder where a file is expected, a full disk, no permission), which
names the path. Warnings of libraries (pydicom, numpy) and of recist's loggers are held back while the
command runs: after a success they are printed after the output; after an error only the one error line
is printed (``--verbose`` shows them as they come). A closed output pipe (``recist assess ... | head``)
ends the command quietly with the status a shell gives a process killed by SIGPIPE (141). Anything else
is a bug in recist: one line asking for a report, exit status 70 (``--verbose`` shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
import warnings
from collections.abc import Sequence

from recist.errors import RecistError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand module found in :mod:`recist.cli`."""
    parser = argparse.ArgumentParser(
        prog="recist",
        description="RECIST 1.1 tumour-response assessment for clinical trials.",
    )
    from recist import __version__  # noqa: PLC0415

    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


class _HeldBack(logging.Handler):
    """Collects warnings of the loggers while a command runs, to be printed after its output."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(record.getMessage().splitlines()[0] if record.getMessage() else "")
        except Exception:  # noqa: BLE001 - a broken log call must not break the command
            self.lines.append(str(record.msg))


def _one_line(text: object) -> str:
    """``text`` on one line (a newline inside a value would make the error two lines)."""
    return " ".join(str(text).split("\n")).replace("\r", " ")


def _quiet_broken_pipe() -> int:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again; status 141."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout replaced (tests) or already closed
        pass
    return 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    parser = build_parser()
    argv = list(argv) if argv is not None else sys.argv[1:]
    with_nul = [arg for arg in argv if "\0" in arg]  # possible from Python, not from a shell: no path holds one
    if with_nul:
        print(f"recist: error: an argument holds a NUL character: {with_nul[0]!r}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    name = f"recist {args.command}"
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        return _run(args, name, None)
    held = _HeldBack()
    root = logging.getLogger()
    root.addHandler(held)
    try:
        with warnings.catch_warnings(record=True) as caught:
            status = _run(args, name, held)
    finally:
        root.removeHandler(held)
    if status in (0, 1):
        for line in dict.fromkeys(held.lines + [_one_line(w.message) for w in caught]):  # once each
            print(f"{name}: warning: {line}", file=sys.stderr)
    return status


def _run(args: argparse.Namespace, name: str, held: _HeldBack | None) -> int:
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
        return status
    except RecistError as exc:
        print(f"{name}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OSError as exc:
        where = exc.filename if exc.filename is not None else ""
        reason = exc.strerror or type(exc).__name__
        print(f"{name}: error: {_one_line(where)}{': ' if where else ''}{reason}; check the path", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except (MemoryError, RecursionError) as exc:
        print(f"{name}: error: input too large or nested too deeply to process ({type(exc).__name__})",
              file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - last resort: a bug must not print a traceback to a user
        if held is None:
            raise
        print(f"{name}: internal error: {type(exc).__name__}: {_one_line(exc)[:300]} (a bug in recist: please "
              "report it with the command; --verbose shows the traceback)", file=sys.stderr)
        return 70
