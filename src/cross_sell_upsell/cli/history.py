"""`cross-sell history`: the runs recorded in the run store, oldest first, with their headline figures."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import polars as pl

from cross_sell_upsell.cli.common import EXIT_OK, Invocation, run_guarded
from cross_sell_upsell.io.database import shown
from cross_sell_upsell.reporting.text import money_text
from cross_sell_upsell.store.reader import open_store, runs


def add_store_option(parser: Any, default_output_dir: Path, what: str) -> None:
    """`--store PATH|URL` on `parser` (or an argument group), saying `what` it is for."""
    parser.add_argument(
        "--store",
        default=None,
        metavar="PATH|URL",
        help=f"{what}: a DuckDB file or a postgresql:// URL (default: {default_output_dir}/history.duckdb)",
    )


def history_parser(default_output_dir: Path, invocation: Invocation) -> argparse.ArgumentParser:
    """The options of `cross-sell history`."""
    parser = invocation.parser(
        description="List the batch runs recorded in the run store: as-of date, when it ran, customers analysed, "
        "expected and potential revenue, and the hit rate of the offers of the run before it.",
        **invocation.epilog("--store output/history.duckdb"),
    )
    add_store_option(parser, default_output_dir, "the store to read")
    return parser


def _money(value: float | None) -> str:
    return "n/a" if value is None else money_text(value)


def history_table(rows: pl.DataFrame) -> str:
    """The runs as a plain-text table, one line each."""
    header = f"{'as of':<10}  {'generated at':<19}  {'customers':>9}  {'expected':>14}  {'potential':>14}  hit rate"
    lines = [header]
    for row in rows.iter_rows(named=True):
        rate = row["previous_offers_hit_rate"]
        lines.append(
            f"{row['as_of']!s:<10}  {row['generated_at']:%Y-%m-%d %H:%M:%S}  {row['customers_processed']:>9,}  "
            f"{_money(row['expected_revenue']):>14}  {_money(row['potential_revenue']):>14}  "
            f"{'n/a' if rate is None else f'{100 * rate:.1f}%'}"
        )
    return "\n".join(lines)


def history_command(args: argparse.Namespace, default_output_dir: Path) -> int:
    """Prints the store's runs; a store with none yet says so in one line."""

    def run() -> int:
        target = args.store or default_output_dir / "history.duckdb"
        db = open_store(target)
        if db is None:
            print(f"no runs recorded in {shown(target)} yet")
            return EXIT_OK
        with db:
            rows = runs(db)
        print(history_table(rows) if not rows.is_empty() else f"no runs recorded in {shown(target)} yet")
        return EXIT_OK

    return run_guarded(run)
