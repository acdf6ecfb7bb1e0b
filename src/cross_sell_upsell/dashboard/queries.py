"""The dashboard's numbers: plain SQL over a run store (store/schema.py, docs/store.md), read-only, as polars frames.

Only the per-run tables are read (`runs`, the customer and offer cubes, the previous run's offers measured, the
weekly sales, top products and categories, the Pareto), so every query is small however many customers a run had.
The per-customer tables are read for one customer (the drill-down) and for the ten highest priorities of a run.
Every query goes through the store's `Database` seam with `$n` parameters, which DuckDB and PostgreSQL both read,
so a DuckDB file and a PostgreSQL store give the same figures. Nothing here imports Dash: these are functions of a
database, a run and the filters, tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl

from cross_sell_upsell.io.database import Database, DatabaseError, is_url, shown
from cross_sell_upsell.store import reader

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


def open_store(target: str | Path) -> Database:
    """A read-only connection to the run store at `target` (a DuckDB file or a `postgresql://` URL), opened and
    version-checked by the store's own reader. A missing file, a database without the store's tables, one that is
    not a DuckDB file or cannot be reached, or a store written by a newer version is a DatabaseError naming it.
    Read-only: a batch that writes later is not blocked by a page left open longer than one query."""
    db = reader.open_store(target)
    if db is None:
        missing = not is_url(target) and not Path(target).exists()
        problem = "does not exist" if missing else "holds no run store (no store_meta table)"
        raise DatabaseError(f"store {shown(target)} {problem}")
    return db


class _Params:
    """The values of one statement's `$n` placeholders, numbered as they are added."""

    def __init__(self, *values: Any) -> None:
        self.values = list(values)

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"

    def kept(self, column: str, values: tuple[str, ...]) -> str:
        """A condition keeping `values` of `column`; true when no value is given."""
        if not values:
            return "TRUE"
        return f"{column} IN ({', '.join(self.add(value) for value in values)})"

    def where(self, filters: Filters, tier: bool = True, offer_type: bool = False) -> str:
        """The filters' conditions: segment always, tier and offer type when the table has them."""
        conditions = [self.kept("segment", filters.segments)]
        if tier:
            conditions.append(self.kept("loyalty_tier", filters.tiers))
        if offer_type:
            conditions.append(self.kept("offer_type", filters.offer_types))
        return " AND ".join(conditions)


def runs(db: Database) -> pl.DataFrame:
    """Every run in the store, oldest first: run_id, as_of, generated_at."""
    return db.query("SELECT run_id, as_of, generated_at FROM runs ORDER BY as_of, generated_at, run_id")


def choices(db: Database) -> dict[str, list[str]]:
    """The values each filter offers, over every run: segments, tiers and offer types, sorted."""
    sql = {
        "segments": "SELECT DISTINCT segment AS value FROM run_customer_cube ORDER BY 1",
        "tiers": "SELECT DISTINCT loyalty_tier AS value FROM run_customer_cube ORDER BY 1",
        "offer_types": "SELECT DISTINCT offer_type AS value FROM run_offer_cube ORDER BY 1",
    }
    return {key: db.query(query).get_column("value").to_list() for key, query in sql.items()}


def per_run(db: Database, filters: Filters) -> pl.DataFrame:
    """The headline figures of every run under the filters, oldest first: customers, potential_revenue,
    expected_revenue (of the offers sent; null when the acceptance model fell back), mean_churn (over the customers
    with a churn probability), and last week's offers measured: sent, bought, hit_rate (null when none were).
    Sums are cast (counts to BIGINT, money to DOUBLE PRECISION): PostgreSQL sums BIGINT to NUMERIC.
    The measured offers are kept by segment and offer type, not by tier, so the tier filter leaves them alone."""
    params = _Params()
    customers = params.where(filters)
    offers = params.where(filters, offer_type=True)
    measured = params.where(filters, tier=False, offer_type=True)
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
            CAST(coalesce(c.potential_revenue, 0) AS DOUBLE PRECISION) AS potential_revenue,
            CAST(CASE WHEN o.offers IS NULL THEN 0 ELSE o.expected_revenue END AS DOUBLE PRECISION)
                AS expected_revenue,
            c.churn_sum / nullif(c.churn_customers, 0) AS mean_churn,
            p.sent, p.bought, CAST(p.bought AS DOUBLE PRECISION) / nullif(p.sent, 0) AS hit_rate
        FROM runs r LEFT JOIN c ON c.run_id = r.run_id LEFT JOIN o ON o.run_id = r.run_id
            LEFT JOIN p ON p.run_id = r.run_id
        ORDER BY r.as_of, r.generated_at, r.run_id"""
    return db.query(sql, params.values)


def kpis(db: Database, run_id: str, filters: Filters) -> dict[str, Any]:
    """`per_run`'s figures for one run, as a dict; an unknown run is a DatabaseError."""
    rows = per_run(db, filters).filter(pl.col("run_id") == run_id).to_dicts()
    if not rows:
        raise DatabaseError(f"no run {run_id} in the store")
    return rows[0]


def segments(db: Database, run_id: str, filters: Filters) -> pl.DataFrame:
    """One run's segments side by side under the filters: customers, customers_with_gaps, potential_revenue,
    expected_revenue (of the offers sent, narrowed by offer type; 0 without offers, null when the acceptance model
    fell back), mean_churn; by segment."""
    params = _Params(run_id)
    customers = params.where(filters)
    offers = params.where(filters, offer_type=True)
    sql = f"""
        WITH c AS (
            SELECT segment, CAST(sum(customers) AS BIGINT) AS customers,
                CAST(sum(customers_with_gaps) AS BIGINT) AS customers_with_gaps, sum(potential_revenue) AS potential_revenue,
                sum(churn_probability_sum) / CAST(nullif(
                    sum(customers) FILTER (WHERE churn_probability_sum IS NOT NULL), 0) AS DOUBLE PRECISION) AS mean_churn
            FROM run_customer_cube WHERE run_id = $1 AND {customers} GROUP BY segment),
        o AS (
            SELECT segment, sum(offers) AS offers, sum(expected_revenue) AS expected_revenue
            FROM run_offer_cube WHERE run_id = $1 AND {offers} GROUP BY segment)
        SELECT c.segment, c.customers, c.customers_with_gaps, c.potential_revenue,
            CAST(CASE WHEN o.offers IS NULL THEN 0 ELSE o.expected_revenue END AS DOUBLE PRECISION) AS expected_revenue,
            c.mean_churn
        FROM c LEFT JOIN o ON o.segment = c.segment ORDER BY c.segment"""
    return db.query(sql, params.values)


def weekly_sales(db: Database, run_id: str) -> pl.DataFrame:
    """One run's weekly sales up to its as-of date: week_start (a Monday), revenue, units, customers."""
    sql = "SELECT week_start, revenue, units, customers FROM run_sales_weekly WHERE run_id = $1 ORDER BY week_start"
    return db.query(sql, [run_id])


def top_products(db: Database, run_id: str, by: Measure, limit: int = 10) -> pl.DataFrame:
    """One run's `limit` best-selling products by `by` (ties by product id): product_id, name, category, revenue,
    units."""
    sql = f"""SELECT product_id, name, category, revenue, units FROM run_top_products WHERE run_id = $1
        ORDER BY {_measure(by)} DESC, product_id LIMIT $2"""
    return db.query(sql, [run_id, limit])


def top_categories(db: Database, run_id: str, by: Measure, limit: int = 10) -> pl.DataFrame:
    """One run's `limit` best-selling categories by `by` (ties by name): category, revenue, units."""
    sql = f"""SELECT category, revenue, units FROM run_top_categories WHERE run_id = $1
        ORDER BY {_measure(by)} DESC, category LIMIT $2"""
    return db.query(sql, [run_id, limit])


def _measure(by: str) -> str:
    if by not in ("revenue", "units"):
        raise ValueError(f"rank by revenue or units, not {by!r}")
    return by


def pareto(db: Database, run_id: str) -> pl.DataFrame:
    """One run's Pareto curve: customer_share (customers by revenue, highest first) against revenue_share."""
    sql = "SELECT customer_share, revenue_share FROM run_pareto WHERE run_id = $1 ORDER BY customer_share"
    return db.query(sql, [run_id])


def top_customers(db: Database, run_id: str, filters: Filters, limit: int = TOP_CUSTOMERS) -> pl.DataFrame:
    """One run's `limit` highest-priority customers in the filtered segments and tiers: priority_rank, customer_id,
    segment, loyalty_tier, gaps, expected_revenue. A top-N by rank: the database keeps `limit` rows, not the run's."""
    params = _Params(run_id, limit)
    kept = params.where(filters)
    sql = f"""SELECT priority_rank, customer_id, segment, loyalty_tier, gaps, expected_revenue FROM run_customers
        WHERE run_id = $1 AND priority_rank IS NOT NULL AND {kept} ORDER BY priority_rank, customer_id LIMIT $2"""
    return db.query(sql, params.values)


def customer(db: Database, run_id: str, customer_id: str) -> dict[str, Any] | None:
    """One customer's summary in one run (run_customers' columns but run_id), or None when the run has no such
    customer."""
    sql = """SELECT customer_id, segment, loyalty_tier, priority_rank, gaps, gap_categories, potential_revenue,
        expected_revenue, predicted_clv, churn_probability FROM run_customers WHERE run_id = $1 AND customer_id = $2"""
    rows = db.query(sql, [run_id, customer_id]).to_dicts()
    return rows[0] if rows else None


OFFER_COLUMNS = (
    "rank",
    "product_id",
    "name",
    "category",
    "offer_type",
    "source",
    "probability",
    "price",
    "expected_revenue",
    "rationale",
)
"""The columns of a customer's offers the drill-down shows."""


def customer_offers(db: Database, run_id: str, customer_id: str) -> pl.DataFrame:
    """The offers one run sent one customer, by rank, in OFFER_COLUMNS (the store reader's query)."""
    return reader.customer_offers(db, run_id, customer_id).select(OFFER_COLUMNS)
