"""`cross-sell`: every command of the package behind one entry point, for use outside a project checkout.

This module is what the installed script imports before it calls `main`, so it loads nothing but the interrupt
handling: the library is imported inside `main`, where Ctrl-C or SIGTERM is one line on stderr, not a traceback.
The subcommands themselves are in `cli/commands.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from cross_sell_upsell.cli.interrupts import run_interruptible

PROG = "cross-sell"
"""The entry point's name, as `[project.scripts]` installs it."""


def main(argv: Sequence[str] | None = None) -> int:
    """The `cross-sell` entry point; returns the exit code. A bad setting in the environment or `.env` is one
    line on stderr and exit 2, like any other bad input."""

    def run() -> int:
        from cross_sell_upsell.cli.commands import cross_sell_parser
        from cross_sell_upsell.cli.common import run_guarded

        args = cross_sell_parser().parse_args(argv)
        return run_guarded(lambda: args.run(args))

    return run_interruptible(run)
