"""Time loading a synthetic transaction log through `load_transactions_dataset`.

    python -m cross_sell_upsell.cli.synth --customers 1000000 --seed 7 --out benchmarks/.data/1m
    python benchmarks/bench_ingest.py benchmarks/.data/1m

Prints the load's wall and CPU seconds and the process's peak RSS. `--without-cycles` blanks the catalog's
replenishment cycles first, so that every cycle is learned from the log.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from cross_sell_upsell.cli.progress import peak_rss_mib
from cross_sell_upsell.data.ingest import load_transactions_dataset, rows_rejected_summary
from cross_sell_upsell.data.synth import SUGGESTED_AS_OF


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder written by python -m cross_sell_upsell.cli.synth")
    parser.add_argument("--without-cycles", action="store_true", help="learn every replenishment cycle")
    args = parser.parse_args()
    catalog = args.folder / "catalog.parquet"
    if args.without_cycles:
        catalog = Path(tempfile.mkdtemp()) / "catalog.parquet"
        blank = pl.lit(None, dtype=pl.Int32).alias("replenishment_cycle_days")
        pl.read_parquet(args.folder / "catalog.parquet").with_columns(blank).write_parquet(catalog)
    wall, cpu = time.perf_counter(), time.process_time()
    dataset = load_transactions_dataset(
        args.folder / "transactions.parquet", catalog, args.folder / "customers.parquet", as_of=SUGGESTED_AS_OF
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{dataset.ownership.height:,} purchases, {dataset.customers.height:,} customers, "
        f"{rows_rejected_summary(dataset)['total']} rejected, {dataset.learned_cycles.height} cycles learned"
    )
    print(f"load: wall {wall:.2f} s, cpu {cpu:.2f} s")
    print(f"peak RSS {peak_rss_mib() / 1024:.2f} GiB")


if __name__ == "__main__":
    main()
