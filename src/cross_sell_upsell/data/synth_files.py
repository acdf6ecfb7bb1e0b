"""Writing the synthetic catalog, customers and transactions files block by block, in bounded memory.

The log is one Parquet file (ingestion reads one path), written by polars' streaming sink in a thread of its own
from a Python source fed one block at a time, in the same row groups and bytes as writing the whole log in one go
(a test checks it). The blocks are drawn in the main thread meanwhile, where Ctrl-C and SIGTERM reach the run
within a numpy call. Each block's customers are spilled to a scratch file and the scratch files streamed into the
customers file at the end. The three files are published together, or none of them.

`register_io_source`, the source the sink pulls from, is marked unstable in polars: the tests pin the files'
bytes, so a change in it shows.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
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

_WAIT_SECONDS = 1.0
"""How often a wait for the sink looks whether it failed (it then never asks for another block)."""


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

        def spill(people: pl.DataFrame) -> None:
            spilled.append(scratch / f"customers-{len(spilled):06d}.parquet")
            with writing(targets[1]):
                spilled[-1].write_bytes(parquet_bytes(people))

        written = staged.sink(targets[2], lambda path: _write_log(path, blocks, spill))
        staged.sink(targets[1], lambda path: pl.scan_parquet(spilled).sink_parquet(path, **PARQUET_OPTIONS))
        rows = pl.scan_parquet(written).select(pl.len()).collect().item()
        staged.commit()
    return targets, rows


def _write_log(
    path: Path, blocks: Iterator[tuple[pl.DataFrame, pl.DataFrame]], spill: Callable[[pl.DataFrame], None]
) -> None:
    """Writes the blocks' transactions to `path`, each block's customers to `spill` on the way."""
    sink = _LogSink(path)
    try:
        for people, log in blocks:
            spill(people)
            del people
            sink.write(log)
            del log  # the sink holds it now: the next block is drawn without this reference
        sink.write(None)
    except BaseException:
        sink.abandon()
        raise
    sink.close()


class _LogSink:
    """Polars' streaming sink of the log in a thread of its own. `write` hands it a block once it has written the
    one before, so the caller draws the next block while this one is written (drawing and writing share the two
    cores) and memory holds at most the block being written and the one being drawn."""

    def __init__(self, path: Path) -> None:
        self._ready = threading.Semaphore(0)
        """Released each time the sink has handed out every row of a block and wants the next."""
        self._blocks: queue.SimpleQueue[pl.DataFrame | None] = queue.SimpleQueue()
        """The block handed over, or None once there are no more (or the writing is abandoned)."""
        self._stop = threading.Event()
        """Set when the writing is abandoned: the sink stops at its next row group."""
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="synth-log")
        source = register_io_source(self._row_groups, schema=_TRANSACTIONS_SCHEMA, validate_schema=True)
        self._done = self._pool.submit(source.sink_parquet, path, **PARQUET_OPTIONS)

    def _row_groups(self, *_: object) -> Iterator[pl.DataFrame]:
        # The sink writes everything this yields, unfiltered: the projection and row-limit hints stay None.
        while (log := self._next_block()) is not None:
            yield from self._parts(log)
            del log  # written: not held while the next block is drawn

    def _parts(self, log: pl.DataFrame) -> Iterator[pl.DataFrame]:
        """A row group at a time, so the sink takes them only as fast as it writes them; none once abandoned."""
        for part in log.iter_slices(PARQUET_OPTIONS["row_group_size"]):
            if self._stop.is_set():
                return
            yield part

    def _next_block(self) -> pl.DataFrame | None:
        self._ready.release()
        return self._blocks.get()

    def write(self, log: pl.DataFrame | None) -> None:
        """Hands `log` (None: the end) to the sink once it has written the block before; a sink that failed
        raises its error here."""
        while not self._ready.acquire(timeout=_WAIT_SECONDS):
            if self._done.done():
                self._done.result()
        self._blocks.put(log)

    def close(self) -> None:
        """Waits for the file to be complete."""
        self._done.result()
        self._pool.shutdown()

    def abandon(self) -> None:
        """Stops the sink at its next row group and waits for it: the file it leaves is deleted with the rest."""
        self._stop.set()
        self._blocks.put(None)
        self._pool.shutdown()
