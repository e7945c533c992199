"""``recist completion bash|zsh``: print a shell completion script for ``recist``.

Install for bash: ``recist completion bash > ~/.local/share/bash-completion/completions/recist``;
for zsh: ``recist completion zsh > "${fpath[1]}/_recist"`` (any folder of ``$fpath``), then start a
new shell. The script is generated from the command line's own parser by shtab, so it always lists
the subcommands and options of the installed version.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]

SHELLS = ("bash", "zsh")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``completion`` subcommand."""
    parser = subparsers.add_parser(
        "completion", help="print a shell completion script (bash or zsh)",
        description="Print the completion script of the recist command for SHELL. Bash: save it as "
                    "~/.local/share/bash-completion/completions/recist; zsh: save it as _recist in a folder "
                    "of $fpath. Then open a new shell.",
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shtab  # noqa: PLC0415

    from recist.cli import build_parser  # noqa: PLC0415

    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell))
    sys.stdout.write("\n")
    return 0
