"""`python -m cross_sell_upsell.cli.synth`: write a synthetic catalog, customers and log."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cross_sell_upsell.cli.common import Invocation, run_guarded
from cross_sell_upsell.data.synth import DEFAULT_CATALOG, SUGGESTED_AS_OF
from cross_sell_upsell.data.synth_files import write_synthetic

MODULE = Invocation("python -m cross_sell_upsell.cli.synth")
"""How the module is started on its own."""


def synth_parser(invocation: Invocation = MODULE) -> argparse.ArgumentParser:
    """The options of the synthetic data generator, for `python -m` or the `cross-sell synth` subcommand."""
    parser = invocation.parser(
        description="Write a synthetic catalog, customers and transaction log as Parquet, to be analysed as of "
        f"{SUGGESTED_AS_OF}.",
        **invocation.epilog("--customers 100000 --seed 7 --out /tmp/synth"),
    )
    parser.add_argument("--customers", type=int, required=True, help="how many customers to generate")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same files")
    parser.add_argument("--out", type=Path, required=True, help="folder for catalog/customers/transactions.parquet")
    parser.add_argument(
        "--catalog", type=Path, default=DEFAULT_CATALOG, help="catalog to build on (default: %(default)s)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m cross_sell_upsell.cli.synth`."""
    return synth_command(synth_parser().parse_args(argv))


def synth_command(args: argparse.Namespace) -> int:
    """Writes the synthetic files the parsed options ask for and prints their paths; returns the exit code."""

    def run() -> int:
        paths, transactions = write_synthetic(args.out, args.customers, args.seed, args.catalog)
        for path in paths:
            print(path)
        print(f"{args.customers} customers, {transactions} transactions, as of {SUGGESTED_AS_OF}", file=sys.stderr)
        return 0

    return run_guarded(run)


if __name__ == "__main__":
    sys.exit(main())
