"""The dashboard's numbers: plain SQL over a run store (schema in docs/dashboard.md), read-only, as polars frames.

Only the per-run tables are read (`runs`, the customer and offer cubes, the previous run's offers measured, the
weekly sales, top products and categories, the Pareto), so every query is small however many customers a run had.
The per-customer tables are read for one customer (the drill-down) and for the ten highest priorities of a run.
Nothing here imports Dash: these are functions of a connection, a run and the filters, tested on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl

from cross_sell_upsell.errors import StoreError

SCHEMA_VERSION = "1"
"""The store schema version these queries read (`store_meta`'s `schema_version`)."""

TABLES = (
    "store_meta",
    "runs",
    "run_customers",
    "run_offers",
    "run_customer_cube",
    "run_offer_cube",
    "run_sales_weekly",
    "run_top_products",
    "run_top_categories",
    "run_pareto",
    "run_previous_offers",
)
"""The tables the dashboard reads; a store missing one is not one it can show."""

TOP_CUSTOMERS = 10
"""How many of a run's highest-priority customers the drill-down lists."""

Measure = Literal["revenue", "units"]
"""What the top products and categories are ranked by."""


@dataclass(frozen=True)
class Filters:
    """The page's filters beside the run: an empty tuple means every value."""

    segments: tuple[str, ...] = ()
    """Customer segments to keep (`(none)` is the customers without one)."""
    tiers: tuple[str, ...] = ()
    """Loyalty tiers to keep."""
    offer_types: tuple[str, ...] = ()
    """Offer types to keep; they narrow the offer figures (expected revenue, hit rate), not the customer counts."""


def open_store(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the DuckDB store at `path`, checked to be a store of `SCHEMA_VERSION`. A missing
    file, a file that is not a DuckDB database, a database without the store's tables or of another schema version
    is a StoreError naming the file. Read-only: a batch that writes later is not blocked by a page left open
    longer than one query."""
    if not path.is_file():
        raise StoreError(f"{path}: no such store file")
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        # Not a DuckDB file, or one a batch is writing (DuckDB locks the file for its writer).
        raise StoreError(f"{path}: cannot be opened as a DuckDB store ({str(error).splitlines()[0]})") from None
    try:
        _check_schema(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


def _check_schema(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    present = {name for (name,) in connection.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    missing = [table for table in TABLES if table not in present]
    if missing:
        raise StoreError(f"{path}: not a run store: no table {missing[0]}")
    found = connection.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone()
    version = found[0] if found else "none"
    if version != SCHEMA_VERSION:
        raise StoreError(f"{path}: store schema version {version}; this dashboard reads version {SCHEMA_VERSION}")


def _frame(connection: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
    cursor = connection.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return pl.DataFrame(cursor.fetchall(), schema=names, orient="row")


def _kept(column: str, values: tuple[str, ...]) -> tuple[str, list[str]]:
    """A SQL condition keeping `values` of `column` (true when no value is given) and its parameters."""
    if not values:
        return "TRUE", []
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def _where(*conditions: tuple[str, list[str]]) -> tuple[str, list[str]]:
    return " AND ".join(sql for sql, _ in conditions), [value for _, params in conditions for value in params]


def runs(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every run in the store, oldest first: run_id, as_of, generated_at."""
    return _frame(connection, "SELECT run_id, as_of, generated_at FROM runs ORDER BY as_of, generated_at, run_id")


def choices(connection: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The values each filter offers, over every run: segments, tiers and offer types, sorted."""
    sql = {
        "segments": "SELECT DISTINCT segment FROM run_customer_cube ORDER BY 1",
        "tiers": "SELECT DISTINCT loyalty_tier FROM run_customer_cube ORDER BY 1",
        "offer_types": "SELECT DISTINCT offer_type FROM run_offer_cube ORDER BY 1",
    }
    return {key: [value for (value,) in connection.execute(query).fetchall()] for key, query in sql.items()}


def per_run(connection: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """The headline figures of every run under the filters, oldest first: customers, potential_revenue,
    expected_revenue (of the offers sent; null when the acceptance model fell back), mean_churn (over the customers
    with a churn probability), and last week's offers measured: sent, bought, hit_rate (null when none were).
    Sums of counts are cast to BIGINT: PostgreSQL would return them as NUMERIC.
    The measured offers are kept by segment and offer type, not by tier, so the tier filter leaves them alone."""
    customers, customer_params = _where(_kept("segment", filters.segments), _kept("loyalty_tier", filters.tiers))
    offers, offer_params = _where(
        _kept("segment", filters.segments),
        _kept("loyalty_tier", filters.tiers),
        _kept("offer_type", filters.offer_types),
    )
    measured, measured_params = _where(_kept("segment", filters.segments), _kept("offer_type", filters.offer_types))
    sql = f"""
        WITH c AS (
            SELECT run_id, CAST(sum(customers) AS BIGINT) AS customers, sum(potential_revenue) AS potential_revenue,
                sum(churn_probability_sum) AS churn_sum,
                CAST(sum(customers) FILTER (WHERE churn_probability_sum IS NOT NULL) AS BIGINT) AS churn_customers
            FROM run_customer_cube WHERE {customers} GROUP BY run_id),
        o AS (
            SELECT run_id, CAST(sum(offers) AS BIGINT) AS offers, sum(expected_revenue) AS expected_revenue
            FROM run_offer_cube WHERE {offers} GROUP BY run_id),
        p AS (
            SELECT run_id, CAST(sum(sent) AS BIGINT) AS sent, CAST(sum(bought) AS BIGINT) AS bought
            FROM run_previous_offers WHERE {measured} GROUP BY run_id)
        SELECT r.run_id, r.as_of, r.generated_at,
            coalesce(c.customers, 0) AS customers,
            coalesce(c.potential_revenue, 0.0) AS potential_revenue,
            CASE WHEN o.offers IS NULL THEN 0.0 ELSE o.expected_revenue END AS expected_revenue,
            c.churn_sum / nullif(c.churn_customers, 0) AS mean_churn,
            p.sent, p.bought, CAST(p.bought AS DOUBLE PRECISION) / nullif(p.sent, 0) AS hit_rate
        FROM runs r LEFT JOIN c USING (run_id) LEFT JOIN o USING (run_id) LEFT JOIN p USING (run_id)
        ORDER BY r.as_of, r.generated_at, r.run_id"""
    return _frame(connection, sql, [*customer_params, *offer_params, *measured_params])


def kpis(connection: duckdb.DuckDBPyConnection, run_id: str, filters: Filters) -> dict[str, Any]:
    """`per_run`'s figures for one run, as a dict; an unknown run is a StoreError."""
    rows = per_run(connection, filters).filter(pl.col("run_id") == run_id).to_dicts()
    if not rows:
        raise StoreError(f"no run {run_id} in the store")
    return rows[0]


def segments(connection: duckdb.DuckDBPyConnection, run_id: str, filters: Filters) -> pl.DataFrame:
    """One run's segments side by side under the filters: customers, customers_with_gaps, potential_revenue,
    expected_revenue (of the offers sent, narrowed by offer type; 0 without offers, null when the acceptance model
    fell back), mean_churn; by segment."""
    customers, customer_params = _where(_kept("segment", filters.segments), _kept("loyalty_tier", filters.tiers))
    offers, offer_params = _where(
        _kept("segment", filters.segments),
        _kept("loyalty_tier", filters.tiers),
        _kept("offer_type", filters.offer_types),
    )
    sql = f"""
        WITH c AS (
            SELECT segment, CAST(sum(customers) AS BIGINT) AS customers,
                CAST(sum(customers_with_gaps) AS BIGINT) AS customers_with_gaps, sum(potential_revenue) AS potential_revenue,
                sum(churn_probability_sum)
                    / nullif(sum(customers) FILTER (WHERE churn_probability_sum IS NOT NULL), 0) AS mean_churn
            FROM run_customer_cube WHERE run_id = ? AND {customers} GROUP BY segment),
        o AS (
            SELECT segment, sum(offers) AS offers, sum(expected_revenue) AS expected_revenue
            FROM run_offer_cube WHERE run_id = ? AND {offers} GROUP BY segment)
        SELECT c.segment, c.customers, c.customers_with_gaps, c.potential_revenue,
            CASE WHEN o.offers IS NULL THEN 0.0 ELSE o.expected_revenue END AS expected_revenue, c.mean_churn
        FROM c LEFT JOIN o USING (segment) ORDER BY c.segment"""
    return _frame(connection, sql, [run_id, *customer_params, run_id, *offer_params])


def weekly_sales(connection: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    """One run's weekly sales up to its as-of date: week_start (a Monday), revenue, units, customers."""
    sql = "SELECT week_start, revenue, units, customers FROM run_sales_weekly WHERE run_id = ? ORDER BY week_start"
    return _frame(connection, sql, [run_id])


def top_products(connection: duckdb.DuckDBPyConnection, run_id: str, by: Measure, limit: int = 10) -> pl.DataFrame:
    """One run's `limit` best-selling products by `by` (ties by product id): product_id, name, category, revenue,
    units."""
    sql = f"""SELECT product_id, name, category, revenue, units FROM run_top_products WHERE run_id = ?
        ORDER BY {_measure(by)} DESC, product_id LIMIT ?"""
    return _frame(connection, sql, [run_id, limit])


def top_categories(connection: duckdb.DuckDBPyConnection, run_id: str, by: Measure, limit: int = 10) -> pl.DataFrame:
    """One run's `limit` best-selling categories by `by` (ties by name): category, revenue, units."""
    sql = f"""SELECT category, revenue, units FROM run_top_categories WHERE run_id = ?
        ORDER BY {_measure(by)} DESC, category LIMIT ?"""
    return _frame(connection, sql, [run_id, limit])


def _measure(by: str) -> str:
    if by not in ("revenue", "units"):
        raise ValueError(f"rank by revenue or units, not {by!r}")
    return by


def pareto(connection: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    """One run's Pareto curve: customer_share (customers by revenue, highest first) against revenue_share."""
    sql = "SELECT customer_share, revenue_share FROM run_pareto WHERE run_id = ? ORDER BY customer_share"
    return _frame(connection, sql, [run_id])


def top_customers(
    connection: duckdb.DuckDBPyConnection, run_id: str, filters: Filters, limit: int = TOP_CUSTOMERS
) -> pl.DataFrame:
    """One run's `limit` highest-priority customers in the filtered segments and tiers: priority_rank, customer_id,
    segment, loyalty_tier, gaps, expected_revenue. A top-N by rank: DuckDB keeps `limit` rows, not the run's."""
    kept, params = _where(_kept("segment", filters.segments), _kept("loyalty_tier", filters.tiers))
    sql = f"""SELECT priority_rank, customer_id, segment, loyalty_tier, gaps, expected_revenue FROM run_customers
        WHERE run_id = ? AND priority_rank IS NOT NULL AND {kept} ORDER BY priority_rank, customer_id LIMIT ?"""
    return _frame(connection, sql, [run_id, *params, limit])


def customer(connection: duckdb.DuckDBPyConnection, run_id: str, customer_id: str) -> dict[str, Any] | None:
    """One customer's summary in one run (run_customers' columns but run_id), or None when the run has no such
    customer."""
    sql = """SELECT customer_id, segment, loyalty_tier, priority_rank, gaps, gap_categories, potential_revenue,
        expected_revenue, predicted_clv, churn_probability FROM run_customers WHERE run_id = ? AND customer_id = ?"""
    rows = _frame(connection, sql, [run_id, customer_id]).to_dicts()
    return rows[0] if rows else None


def customer_offers(connection: duckdb.DuckDBPyConnection, run_id: str, customer_id: str) -> pl.DataFrame:
    """The offers one run sent one customer, by rank: rank, product_id, name, category, offer_type, source,
    probability, price, expected_revenue, rationale."""
    sql = """SELECT rank, product_id, name, category, offer_type, source, probability, price, expected_revenue,
        rationale FROM run_offers WHERE run_id = ? AND customer_id = ? ORDER BY rank"""
    return _frame(connection, sql, [run_id, customer_id])
