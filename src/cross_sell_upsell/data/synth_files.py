"""Writing the synthetic catalog, customers and transactions files block by block, in bounded memory.

The log is one Parquet file (ingestion reads one path): polars' streaming sink pulls the blocks' transactions from
a Python source one block at a time and writes them as it goes, in the same row groups and bytes as writing the
whole log in one go (a test checks it). Each block's customers are spilled to a scratch file and the scratch files
streamed into the customers file at the end. The three files are published together, or none of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
from polars.io.plugins import register_io_source

from cross_sell_upsell.data.synth import (
    BLOCK_CUSTOMERS,
    DEFAULT_CATALOG,
    PARQUET_OPTIONS,
    parquet_bytes,
    synthetic_blocks,
)
from cross_sell_upsell.io.files import writing
from cross_sell_upsell.io.staging import StagedOutputs

FILE_NAMES = ("catalog.parquet", "customers.parquet", "transactions.parquet")
"""The files written into the output folder."""

_TRANSACTIONS_SCHEMA = pl.Schema(
    {"customer_id": pl.String, "product_id": pl.String, "date": pl.Date, "quantity": pl.Int32, "amount": pl.Float64}
)


def write_synthetic(
    folder: Path,
    customers: int,
    seed: int,
    catalog_path: str | Path = DEFAULT_CATALOG,
    block_size: int = BLOCK_CUSTOMERS,
) -> tuple[list[Path], int]:
    """Writes FILE_NAMES into `folder` and returns their paths and the number of transactions. Memory holds the
    block being written and the one being drawn, whatever `customers` is. On any failure, interrupts included,
    nothing is published and no temporary file is left."""
    catalog, blocks = synthetic_blocks(customers, seed, catalog_path, block_size)
    targets = [folder / name for name in FILE_NAMES]
    with StagedOutputs() as staged:
        staged.add(targets[0], parquet_bytes(catalog))
        scratch = staged.scratch(targets[1])
        spilled: list[Path] = []

        def transactions(*_: object) -> Iterator[pl.DataFrame]:
            # The sink writes everything this yields, unfiltered: the projection and row-limit hints stay None.
            for block, (people, log) in enumerate(_drawn_ahead(blocks)):
                spilled.append(scratch / f"customers-{block:06d}.parquet")
                with writing(targets[1]):
                    spilled[-1].write_bytes(parquet_bytes(people))
                del people
                # A row group at a time: the sink takes them only as fast as it writes them, so the block after
                # the next is not drawn before this one is nearly written.
                yield from log.iter_slices(PARQUET_OPTIONS["row_group_size"])
                del log

        log = register_io_source(transactions, schema=_TRANSACTIONS_SCHEMA, validate_schema=True)
        written = staged.sink(targets[2], lambda path: log.sink_parquet(path, **PARQUET_OPTIONS))
        staged.sink(targets[1], lambda path: pl.scan_parquet(spilled).sink_parquet(path, **PARQUET_OPTIONS))
        rows = pl.scan_parquet(written).select(pl.len()).collect().item()
        staged.commit()
    return targets, rows


def _drawn_ahead(blocks: Iterator[tuple[pl.DataFrame, pl.DataFrame]]) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """The blocks, each drawn in a worker thread while the one before it is being written: drawing (numpy, one
    core) and writing (polars' encoder) then share the two cores instead of taking turns."""
    with ThreadPoolExecutor(1, thread_name_prefix="synth-draw") as pool:
        upcoming = pool.submit(next, blocks, None)
        try:
            while (block := upcoming.result()) is not None:
                upcoming = pool.submit(next, blocks, None)
                yield block
                del block
        finally:
            # A failed or interrupted write waits only for the block being drawn, not for any after it.
            upcoming.cancel()
