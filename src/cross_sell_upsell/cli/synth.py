"""`python -m cross_sell_upsell.cli.synth`: write a synthetic catalog, customers and log."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cross_sell_upsell.cli.common import run_guarded
from cross_sell_upsell.data.synth import (
    DEFAULT_CATALOG,
    SUGGESTED_AS_OF,
    generate,
    write_parquet,
)


def synth_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cross_sell_upsell.cli.synth",
        description="Write a synthetic catalog, customers and transaction log as Parquet.",
        epilog=f"example: python -m cross_sell_upsell.cli.synth --customers 100000 --seed 7 --out /tmp/synth "
        f"(then analyse it as of {SUGGESTED_AS_OF})",
    )
    parser.add_argument("--customers", type=int, required=True, help="how many customers to generate")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed writes the same files")
    parser.add_argument("--out", type=Path, required=True, help="folder for catalog/customers/transactions.parquet")
    parser.add_argument(
        "--catalog", type=Path, default=DEFAULT_CATALOG, help="catalog to build on (default: %(default)s)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = synth_parser().parse_args(argv)

    def run() -> int:
        frames = generate(args.customers, args.seed, args.catalog)
        for name, frame in frames.items():
            print(write_parquet(frame, args.out / f"{name}.parquet"))
        transactions = frames["transactions"].height
        print(f"{args.customers} customers, {transactions} transactions, as of {SUGGESTED_AS_OF}", file=sys.stderr)
        return 0

    return run_guarded(run)


if __name__ == "__main__":
    sys.exit(main())
