"""What writing a run's customers and offers costs the DuckDB store, with version 1's primary keys and without.

    python benchmarks/batch_throughput.py --customers 1000000 --sample 0 --keep-store benchmarks/.data/h.duckdb
    python benchmarks/store_write.py --store benchmarks/.data/h.duckdb

Exports the store's latest run's `run_customers` and `run_offers` rows to Parquet (as the batch spills them, in
customer order), then, for each variant in a fresh process, inserts them into a new DuckDB file in one transaction, as a run records
itself: the insert's, the commit's and the close's (checkpoint) seconds, the process's peak RSS and the file's size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

CHILD = """
import os, sys, time
import duckdb
from cross_sell_upsell.store.schema import TABLES, create_statement
folder, keys, order = sys.argv[1], sys.argv[2] == "keys", sys.argv[3] == "ordered"
path = os.path.join(folder, "store.duckdb")
connection = duckdb.connect(path)
connection.execute("SET enable_progress_bar = false")
if not order:
    connection.execute("SET preserve_insertion_order = false")
started = time.perf_counter()
connection.begin()
for table, key in (("run_customers", "run_id, customer_id"), ("run_offers", "run_id, customer_id, rank")):
    statement = create_statement(table)
    connection.execute(statement[:-1] + f", PRIMARY KEY ({key}))" if keys else statement)
    connection.execute(
        f"INSERT INTO {table} BY NAME SELECT *, 'run' AS run_id FROM read_parquet('{folder}/{table}-*.parquet')"
    )
inserted = time.perf_counter()
connection.commit()
committed = time.perf_counter()
connection.close()
closed = time.perf_counter()
# VmHWM, not getrusage: the kernel carries ru_maxrss over exec, so it would include the parent's export.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) // 1024
size = os.path.getsize(path) // 2**20
print(f"{inserted - started:.2f} {committed - inserted:.2f} {closed - committed:.2f} {peak} {size}")
"""

CHUNK_CUSTOMERS = 50_000
"""Customers per spilled file, the batch's default chunk."""

VARIANTS = (
    ("version 1 (primary keys)", "keys", "ordered"),
    ("no keys", "none", "ordered"),
    ("no keys, preserve_insertion_order = false (version 2's writer)", "none", "unordered"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a DuckDB run store, e.g. benchmarks/.data/h.duckdb")
    args = parser.parse_args()
    import duckdb

    with tempfile.TemporaryDirectory() as folder:
        with duckdb.connect(str(args.store), read_only=True) as store:
            run = store.sql("SELECT run_id FROM runs ORDER BY as_of DESC, generated_at DESC LIMIT 1").fetchall()[0][0]
            # As a run spills them: polars Parquet files of 50,000 customers each, in request order (the synthetic
            # ids' order). Version 2 stores rows in no order, and their layout changes what the insert holds.
            for table, order in (("run_customers", "customer_id"), ("run_offers", "customer_id, rank")):
                query = f"SELECT * EXCLUDE run_id FROM {table} WHERE run_id = $1 ORDER BY {order}"
                rows = pl.from_arrow(store.sql(query, params=[run]).to_arrow_table())
                chunk = (pl.col("customer_id").rank("dense") - 1) // CHUNK_CUSTOMERS
                parts = rows.with_columns(chunk=chunk).partition_by("chunk", maintain_order=True, include_key=False)
                for number, part in enumerate(parts):
                    part.write_parquet(f"{folder}/{table}-{number:06d}.parquet", compression="lz4")
        print("| schema, setting | insert | commit | close (checkpoint) | peak RSS | file |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, keys, order in VARIANTS:
            with tempfile.TemporaryDirectory() as scratch:
                for spilled in Path(folder).glob("*.parquet"):
                    Path(scratch, spilled.name).symlink_to(spilled)
                line = (
                    subprocess.run(
                        [sys.executable, "-c", CHILD, scratch, keys, order], capture_output=True, text=True, check=True
                    )
                    .stdout.splitlines()[-1]
                    .split()
                )
            insert, commit, close, peak, size = line
            print(f"| {label} | {insert} s | {commit} s | {close} s | {int(peak):,} MiB | {size} MiB |")


if __name__ == "__main__":
    main()
