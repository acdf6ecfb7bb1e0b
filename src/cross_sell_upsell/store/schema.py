"""The run store's tables (schema version 2, described in docs/store.md), created on first write,
and the migrations that bring a store written by an older version to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

import polars as pl

from cross_sell_upsell.io.database import Database, DatabaseError

SCHEMA_VERSION = 2
"""The version of the tables below. Raise it with a migration in MIGRATIONS whenever a table changes."""

_T, _N = "TEXT", "NOT NULL"

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "store_meta": (("key", f"{_T} PRIMARY KEY"), ("value", f"{_T} {_N}")),
    "runs": (
        ("run_id", f"{_T} PRIMARY KEY"),
        ("as_of", f"DATE {_N}"),
        ("generated_at", f"TIMESTAMP {_N}"),
        ("data_source", f"{_T} {_N}"),
        ("settings_json", f"{_T} {_N}"),
        ("code_version", f"{_T} {_N}"),
        ("customers_requested", f"BIGINT {_N}"),
        ("customers_processed", f"BIGINT {_N}"),
        ("customers_failed", f"BIGINT {_N}"),
        ("rows_read", "BIGINT"),
        ("rows_used", "BIGINT"),
        ("rows_rejected", f"BIGINT {_N}"),
        ("total_offers", f"BIGINT {_N}"),
        ("offers_sent", f"BIGINT {_N}"),
        ("customers_with_gaps", f"BIGINT {_N}"),
        ("total_gaps", f"BIGINT {_N}"),
        ("potential_revenue", f"DOUBLE PRECISION {_N}"),
        ("expected_revenue", "DOUBLE PRECISION"),
        ("mean_churn_probability", "DOUBLE PRECISION"),
        ("win_back_customers", f"BIGINT {_N}"),
    ),
    "run_customers": (
        ("run_id", f"{_T} {_N}"),
        ("customer_id", f"{_T} {_N}"),
        ("segment", f"{_T} {_N}"),
        ("loyalty_tier", f"{_T} {_N}"),
        ("priority_rank", "BIGINT"),
        ("gaps", f"BIGINT {_N}"),
        ("gap_categories", f"{_T} {_N}"),
        ("potential_revenue", f"DOUBLE PRECISION {_N}"),
        ("expected_revenue", "DOUBLE PRECISION"),
        ("predicted_clv", "DOUBLE PRECISION"),
        ("churn_probability", "DOUBLE PRECISION"),
    ),
    "run_offers": (
        ("run_id", f"{_T} {_N}"),
        ("customer_id", f"{_T} {_N}"),
        ("rank", f"BIGINT {_N}"),
        ("product_id", f"{_T} {_N}"),
        ("product_ids", f"{_T} {_N}"),
        ("name", f"{_T} {_N}"),
        ("category", _T),
        ("offer_type", f"{_T} {_N}"),
        ("source", f"{_T} {_N}"),
        ("segment", f"{_T} {_N}"),
        ("price", f"DOUBLE PRECISION {_N}"),
        ("score", f"DOUBLE PRECISION {_N}"),
        ("probability", "DOUBLE PRECISION"),
        ("expected_revenue", "DOUBLE PRECISION"),
        ("rationale", f"{_T} {_N}"),
    ),
    "run_customer_cube": (
        ("run_id", f"{_T} {_N}"),
        ("segment", f"{_T} {_N}"),
        ("loyalty_tier", f"{_T} {_N}"),
        ("customers", f"BIGINT {_N}"),
        ("customers_with_gaps", f"BIGINT {_N}"),
        ("gaps", f"BIGINT {_N}"),
        ("potential_revenue", f"DOUBLE PRECISION {_N}"),
        ("expected_revenue", "DOUBLE PRECISION"),
        ("churn_probability_sum", "DOUBLE PRECISION"),
        ("predicted_clv_sum", "DOUBLE PRECISION"),
    ),
    "run_offer_cube": (
        ("run_id", f"{_T} {_N}"),
        ("segment", f"{_T} {_N}"),
        ("loyalty_tier", f"{_T} {_N}"),
        ("offer_type", f"{_T} {_N}"),
        ("source", f"{_T} {_N}"),
        ("offers", f"BIGINT {_N}"),
        ("price_sum", f"DOUBLE PRECISION {_N}"),
        ("expected_revenue", "DOUBLE PRECISION"),
    ),
    "run_gaps": (("run_id", f"{_T} {_N}"), ("category", f"{_T} {_N}"), ("customers", f"BIGINT {_N}")),
    "run_sales_weekly": (
        ("run_id", f"{_T} {_N}"),
        ("week_start", f"DATE {_N}"),
        ("revenue", f"DOUBLE PRECISION {_N}"),
        ("units", f"BIGINT {_N}"),
        ("customers", f"BIGINT {_N}"),
    ),
    "run_top_products": (
        ("run_id", f"{_T} {_N}"),
        ("product_id", f"{_T} {_N}"),
        ("name", f"{_T} {_N}"),
        ("category", f"{_T} {_N}"),
        ("revenue", f"DOUBLE PRECISION {_N}"),
        ("units", f"BIGINT {_N}"),
    ),
    "run_top_categories": (
        ("run_id", f"{_T} {_N}"),
        ("category", f"{_T} {_N}"),
        ("revenue", f"DOUBLE PRECISION {_N}"),
        ("units", f"BIGINT {_N}"),
    ),
    "run_pareto": (
        ("run_id", f"{_T} {_N}"),
        ("customer_share", f"DOUBLE PRECISION {_N}"),
        ("revenue_share", f"DOUBLE PRECISION {_N}"),
    ),
    "run_previous_offers": (
        ("run_id", f"{_T} {_N}"),
        ("previous_run_id", f"{_T} {_N}"),
        ("offer_type", f"{_T} {_N}"),
        ("source", f"{_T} {_N}"),
        ("segment", f"{_T} {_N}"),
        ("sent", f"BIGINT {_N}"),
        ("bought", f"BIGINT {_N}"),
        ("revenue", f"DOUBLE PRECISION {_N}"),
        ("predicted", "DOUBLE PRECISION"),
    ),
}
"""Every table's columns with their SQL types, in the schema's order."""

LOOKUP_INDEXES = {
    "run_customers": ("run_id", "customer_id"),
    "run_offers": ("run_id", "customer_id"),
}
"""The columns a run's customers and offers are looked up by (a run's rows, one customer's offers), indexed on a
backend that needs it (`Database.secondary_indexes`). They are not primary keys: a run writes one row per customer,
or per customer and rank, by construction, and at a million customers the keys' uniqueness index took 5 s at the
commit (docs/store.md)."""

_POLARS_TYPES: dict[str, pl.DataType] = {
    "TEXT": pl.String(),
    "BIGINT": pl.Int64(),
    "DOUBLE": pl.Float64(),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us"),
}


def create_statement(table: str, name: str | None = None) -> str:
    """The CREATE TABLE statement of `table` (named `name` when given)."""
    columns = ", ".join(f"{column} {sql}" for column, sql in TABLES[table])
    return f"CREATE TABLE IF NOT EXISTS {name or table} ({columns})"


def _rebuilt(table: str) -> list[str]:
    """Statements that copy `table` into a new one of this version's definition and put it in its place (neither
    backend drops a primary key in place: DuckDB cannot, and PostgreSQL names the constraint its own way). The copy
    takes every column in order, so a later version that changes these tables' columns must give migration 1
    version 2's definition, not its own."""
    new = f"{table}_rebuilt"
    return [
        create_statement(table, new),
        f"INSERT INTO {new} SELECT * FROM {table}",
        f"DROP TABLE {table}",
        f"ALTER TABLE {new} RENAME TO {table}",
    ]


MIGRATIONS: Mapping[int, Sequence[str]] = {
    1: [*_rebuilt("run_customers"), *_rebuilt("run_offers")],  # version 2: without the two composite primary keys
}
"""version -> the statements that bring a store of that version to the next."""


def frame_schema(table: str) -> dict[str, pl.DataType]:
    """The polars types a frame written to `table` is cast to, column by column."""
    return {name: _POLARS_TYPES[sql.split()[0]] for name, sql in TABLES[table]}


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def as_table(table: str, frame: Frame, without_run_id: bool = False) -> Frame:
    """`frame`'s columns of `table`, in its order and types (money already rounded by the caller); without run_id
    for rows spilled before the run has its id (the insert adds it)."""
    schema = frame_schema(table)
    if without_run_id:
        del schema["run_id"]
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def stored_version(db: Database) -> int | None:
    """The store's schema version; None for an empty database (no `store_meta`)."""
    if db.columns("store_meta") is None:
        return None
    rows = db.query("SELECT value FROM store_meta WHERE key = 'schema_version'")
    if rows.is_empty():
        raise DatabaseError(f"store {db.target} has a store_meta table without a schema_version")
    return int(rows.item())


def check_version(db: Database, version: int | None) -> None:
    """A store written by a newer version is refused: this version would misread or damage it."""
    if version is not None and version > SCHEMA_VERSION:
        raise DatabaseError(
            f"store {db.target} has schema version {version}, newer than this version's {SCHEMA_VERSION}; "
            "upgrade cross-sell-upsell to use it"
        )


def ensure_schema(db: Database, migrations: Mapping[int, Sequence[str]] = MIGRATIONS) -> None:
    """Creates the tables in an empty database, or brings an older store to SCHEMA_VERSION through
    `migrations` (inside the caller's transaction, so a failed run leaves the store as it was)."""
    version = stored_version(db)
    check_version(db, version)
    if version is None:
        for table in TABLES:
            db.execute(create_statement(table))
        db.execute(f"INSERT INTO store_meta VALUES ('schema_version', '{SCHEMA_VERSION}')")
    elif version < SCHEMA_VERSION:
        _migrate(db, version, migrations)
    if db.secondary_indexes:
        for table, columns in LOOKUP_INDEXES.items():
            db.execute(f"CREATE INDEX IF NOT EXISTS {table}_lookup ON {table} ({', '.join(columns)})")


def _migrate(db: Database, version: int, migrations: Mapping[int, Sequence[str]]) -> None:
    while version < SCHEMA_VERSION:
        if version not in migrations:
            raise DatabaseError(f"store {db.target} has schema version {version}, which no migration upgrades")
        for statement in migrations[version]:
            db.execute(statement)
        version += 1
    db.execute(f"UPDATE store_meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema_version'")
