"""Reading the run store: the runs, the run before a date, one customer's offers, a run's aggregates. Readers
open the store read-only, so a batch writing at the same time is never blocked by them nor seen half-written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from cross_sell_upsell.io.database import Database, DatabaseError, connect, is_url
from cross_sell_upsell.store.schema import TABLES, check_version, stored_version


def open_store(target: str | Path) -> Database | None:
    """A read-only connection to the store, None when there is no store yet (no DuckDB file, or a database
    without the tables). A store written by a newer version is refused."""
    if not is_url(target) and not Path(target).exists():
        return None
    db = connect(target, read_only=True)
    try:
        version = stored_version(db)
        check_version(db, version)
    except BaseException:
        db.close()
        raise
    if version is None:
        db.close()
        return None
    return db


@dataclass(frozen=True)
class PreviousRun:
    """The run a new run compares with, and what the comparison needs of it."""

    run: dict[str, Any]
    """Its `runs` row."""
    customers: pl.DataFrame
    """Its `run_customers` rows: customer_id, segment, gap_categories (in no particular order)."""
    offers: pl.DataFrame
    """Its `run_offers` rows: customer_id, product_ids, offer_type, source, segment, probability. In no particular
    order: the comparison counts and sums exactly (`store/history.py`), so no figure depends on it."""


def runs(db: Database) -> pl.DataFrame:
    """Every run's `runs` row, oldest first, with `previous_offers_hit_rate`: of the offers of the run before it,
    the share bought by this run's as-of date (null when the run measured none)."""
    return db.query(
        "SELECT r.*, CAST(p.bought AS DOUBLE PRECISION) / NULLIF(p.sent, 0) AS previous_offers_hit_rate "
        "FROM runs r LEFT JOIN (SELECT run_id, SUM(sent) AS sent, SUM(bought) AS bought "
        "FROM run_previous_offers GROUP BY run_id) p ON p.run_id = r.run_id ORDER BY r.as_of, r.generated_at"
    )


def previous_run(db: Database, as_of: date) -> dict[str, Any] | None:
    """The `runs` row of the latest run with an as-of date before `as_of` (the latest generated of that date),
    whatever its data source; None when there is none."""
    rows = db.query(
        "SELECT * FROM runs WHERE as_of < $1 ORDER BY as_of DESC, generated_at DESC, run_id DESC LIMIT 1", [as_of]
    )
    return None if rows.is_empty() else rows.row(0, named=True)


def compared_run(db: Database, run: dict[str, Any]) -> PreviousRun:
    """What a new run's comparison needs of the run whose `runs` row is `run`."""
    customers = db.query(
        "SELECT customer_id, segment, gap_categories FROM run_customers WHERE run_id = $1",
        [run["run_id"]],
    )
    offers = db.query(
        "SELECT customer_id, product_ids, offer_type, source, segment, probability FROM run_offers WHERE run_id = $1",
        [run["run_id"]],
    )
    return PreviousRun(run=run, customers=customers, offers=offers)


def customer_offers(db: Database, run_id: str, customer_id: str) -> pl.DataFrame:
    """One customer's offers sent in a run, best first (the dashboard's drill-down)."""
    return db.query(
        "SELECT * FROM run_offers WHERE run_id = $1 AND customer_id = $2 ORDER BY rank", [run_id, customer_id]
    )


def aggregate(db: Database, table: str, run_id: str) -> pl.DataFrame:
    """A run's rows of one pre-aggregated table (`run_customer_cube`, `run_sales_weekly`, ...)."""
    if table not in TABLES or not table.startswith("run_") or table in {"run_customers", "run_offers"}:
        raise DatabaseError(f"'{table}' is not one of the store's aggregate tables")
    return db.query(f"SELECT * FROM {table} WHERE run_id = $1", [run_id])
