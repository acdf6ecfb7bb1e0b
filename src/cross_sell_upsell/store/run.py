"""A batch run's use of the store: read the previous run before the batch, record this one after it, and say
what changed in between (the report's run history)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.io.database import DatabaseError, shown
from cross_sell_upsell.pipeline.totals import BatchResult
from cross_sell_upsell.reporting.executive.history import RunHistory
from cross_sell_upsell.store import views
from cross_sell_upsell.store.history import previous_offers_summary, previous_run_summary
from cross_sell_upsell.store.reader import PreviousRun, compared_run, open_store, previous_run
from cross_sell_upsell.store.writer import Rows, RunRecorder, new_run_id, recorded, run_row, run_tables


def read_previous(target: str | Path, as_of: date) -> dict[str, Any] | None:
    """The `runs` row of the run before `as_of` in the store at `target` (read-only); None when the store is new
    or has none."""
    db = open_store(target)
    if db is None:
        return None
    with db:
        return previous_run(db, as_of)


def read_compared(target: str | Path, run: dict[str, Any]) -> PreviousRun:
    """What the comparison needs of the run whose `runs` row is `run` (`read_previous`), read from the store at
    `target`."""
    db = open_store(target)
    if db is None:
        raise DatabaseError(f"the run store {shown(target)} is gone")
    with db:
        return compared_run(db, run)


class StoreRun:
    """One batch run's record: `spill_to` names a folder for the rows, `recorder.append` goes to
    `run_batch(on_results=...)`; once the batch is done, `history` gives the report's comparison and `recorded`
    writes the run while the caller publishes its files."""

    def __init__(self, target: str | Path, as_of: date, config: OrchestratorConfig) -> None:
        self.target = target
        self.previous = read_previous(target, as_of)
        """The `runs` row of the run before this one, read before the batch so that a store that cannot be opened
        stops it early. Its customers and offers are read by `history`, after the chunks: read before them, they
        and DuckDB's sort of them added about 1 GB to the snapshot's and the chunks' memory at a million customers
        (docs/store.md)."""
        self.recorder = RunRecorder(config)
        self._run_id = ""
        self._tables: dict[str, Rows] = {}

    def spill_to(self, folder: Path) -> None:
        """Where the run's customer and offer rows wait for `recorded` (a folder the caller deletes after it)."""
        self.recorder.spill_to(folder)

    def history(
        self, result: BatchResult, catalog: pl.DataFrame, generated_at: datetime, purchases: Iterable[pl.DataFrame]
    ) -> RunHistory:
        """Builds the run's rows (kept for `recorded`) and returns the comparison with the previous run.
        `purchases`: the dataset's ownership, or that of each partition of its customers, one at a time (the sales
        views are counted per partition and added up; last week's offers read only the purchases since)."""
        customer_file, offer_files = self.recorder.customer_file(), self.recorder.offer_files()
        customers = pl.scan_parquet(customer_file)
        offers_sent = pl.scan_parquet(offer_files).select(pl.len()).collect().item()
        self._run_id = new_run_id(result, generated_at)
        run = run_row(self._run_id, result, generated_at, customers, offers_sent)
        counts, since, last = self._purchases_seen(purchases, catalog, result.as_of)
        previous_run, previous_offers, rows = None, None, None
        if self.previous is not None:
            previous = read_compared(self.target, self.previous)
            current = customers.select("customer_id", "segment", "gap_categories").collect()
            previous_run = previous_run_summary(previous.run, run, previous.customers, current)
            previous_offers, rows = previous_offers_summary(previous.run, previous.offers, since, result.as_of, last)
        self._tables = run_tables(run, result, views.sales_views(counts, catalog), customer_file, offer_files, rows)
        return RunHistory(store=shown(self.target), previous_run=previous_run, previous_offers=previous_offers)

    def _purchases_seen(
        self, purchases: Iterable[pl.DataFrame], catalog: pl.DataFrame, as_of: date
    ) -> tuple[views.SalesCounts, pl.DataFrame, date | None]:
        """The sales counts of the purchases up to `as_of`, the purchases since the previous run's as-of (none
        without a previous run) and the last purchase date of all, each part priced once."""
        after = self.previous["as_of"] if self.previous is not None else as_of
        counts, since, lasts = [], [], []
        for ownership in purchases:
            priced = views.priced_purchases(ownership, catalog)
            counts.append(views.sales_counts(views.until(priced, as_of)))
            since.append(priced.filter(pl.col("purchase_date").is_between(after, as_of, closed="right")))
            lasts.append(priced.get_column("purchase_date").max())
        return views.combined(counts), pl.concat(since), max(filter(None, lasts), default=None)

    @contextmanager
    def recorded(self) -> Iterator[None]:
        """Writes the run in one transaction, committed when the block (the caller publishing its files) ends
        without an error (`writer.recorded`)."""
        with recorded(self.target, self._run_id, self._tables):
            yield
