"""A hand-built run store for the dashboard tests: two runs a week apart (R1 as of 2024-03-01, R2 as of 2024-03-08),
three segments (Value, Premium and `(none)`), two loyalty tiers, five customers and their offers, laid out as
tables. Every figure the tests check is worked out from these rows in the test that checks it. The store is made
with the store's own tables (store/schema.py), in a DuckDB file or a PostgreSQL database alike."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from support import rows

from cross_sell_upsell.io.database import connect
from cross_sell_upsell.store.schema import as_table, ensure_schema

RUNS = rows(
    "run_id | as_of      | generated_at        | customers_processed | potential_revenue | expected_revenue",
    "R1     | 2024-03-01 | 2024-03-01 06:00:00 | 4                   | 350.0             | 100.0",
    "R2     | 2024-03-08 | 2024-03-08 06:00:00 | 5                   | 340.0             | 102.0",
)

CUSTOMERS = rows(
    "run_id | customer_id | segment | loyalty_tier | priority_rank | gaps | potential_revenue | expected_revenue | predicted_clv | churn_probability",
    "R1     | C1          | Value   | Gold         | 2             | 1    | 60.0              | 18.0             | 260.0         | 0.2",
    "R1     | C2          | Value   | Gold         | 3             | 1    | 40.0              | 12.0             | 240.0         | 0.2",
    "R1     | C3          | Value   | Silver       | 4             | 1    | 50.0              | 10.0             | 100.0         | 0.5",
    "R1     | C4          | Premium | Gold         | 1             | 3    | 200.0             | 60.0             | 900.0         | 0.1",
    "R2     | C1          | Value   | Gold         | 2             | 2    | 70.0              | 20.0             | 300.0         | 0.3",
    "R2     | C2          | Value   | Gold         | 3             | 1    | 50.0              | 20.0             | 220.0         | 0.3",
    "R2     | C3          | Value   | Silver       | null          | 0    | 0.0               | 0.0              | 90.0          | 0.2",
    "R2     | C4          | Premium | Gold         | 1             | 2    | 180.0             | 50.0             | 950.0         | 0.2",
    "R2     | C5          | (none)  | Silver       | 4             | 1    | 40.0              | 12.0             | null          | null",
)

OFFERS = rows(
    "run_id | customer_id | rank | product_id | name        | category | offer_type         | source            | segment | price | probability | expected_revenue | rationale",
    "R1     | C1          | 1    | P10        | Conditioner | hair     | product_cross_sell | basket_rule       | Value   | 30.0  | 0.6         | 18.0             | Pairs with the shampoo",
    "R1     | C2          | 1    | P11        | Hair mask   | hair     | product_cross_sell | basket_rule       | Value   | 40.0  | 0.3         | 12.0             | Pairs with the conditioner",
    "R1     | C3          | 1    | P12        | Pro dryer   | tools    | tier_upgrade       | upgrade           | Value   | 40.0  | 0.25        | 10.0             | The next tier up",
    "R1     | C4          | 1    | P13        | Serum       | skin     | product_cross_sell | similar_customers | Premium | 100.0 | 0.4         | 40.0             | Customers like you buy it",
    "R1     | C4          | 2    | P14        | Toner       | skin     | product_cross_sell | similar_customers | Premium | 60.0  | 0.333333    | 20.0             | Customers like you buy it",
    "R2     | C1          | 1    | P10        | Conditioner | hair     | product_cross_sell | basket_rule       | Value   | 30.0  | 0.5         | 15.0             | Bought shampoo <b>often</b> & no conditioner",
    "R2     | C1          | 2    | P15        | Hair oil    | hair     | product_cross_sell | basket_rule       | Value   | 25.0  | 0.2         | 5.0              | Pairs with the shampoo",
    "R2     | C2          | 1    | P11        | Hair mask   | hair     | product_cross_sell | basket_rule       | Value   | 35.0  | 0.142857    | 5.0              | Pairs with the conditioner",
    "R2     | C2          | 2    | P12        | Pro dryer   | tools    | tier_upgrade       | upgrade           | Value   | 60.0  | 0.25        | 15.0             | The next tier up",
    "R2     | C4          | 1    | P13        | Serum       | skin     | product_cross_sell | similar_customers | Premium | 100.0 | 0.3         | 30.0             | Customers like you buy it",
    "R2     | C4          | 2    | P14        | Toner       | skin     | product_cross_sell | similar_customers | Premium | 50.0  | 0.4         | 20.0             | Customers like you buy it",
    "R2     | C5          | 1    | P16        | Shampoo     | hair     | replenishment      | replenishment     | (none)  | 30.0  | 0.4         | 12.0             | Due for a refill",
)

CUSTOMER_CUBE = rows(
    "run_id | segment | loyalty_tier | customers | customers_with_gaps | gaps | potential_revenue | expected_revenue | churn_probability_sum | predicted_clv_sum",
    "R1     | Value   | Gold         | 2         | 2                   | 2    | 100.0             | 30.0             | 0.4                   | 500.0",
    "R1     | Value   | Silver       | 1         | 1                   | 1    | 50.0              | 10.0             | 0.5                   | 100.0",
    "R1     | Premium | Gold         | 1         | 1                   | 3    | 200.0             | 60.0             | 0.1                   | 900.0",
    "R2     | Value   | Gold         | 2         | 2                   | 3    | 120.0             | 40.0             | 0.6                   | 520.0",
    "R2     | Value   | Silver       | 1         | 0                   | 0    | 0.0               | 0.0              | 0.2                   | 90.0",
    "R2     | Premium | Gold         | 1         | 1                   | 2    | 180.0             | 50.0             | 0.2                   | 950.0",
    "R2     | (none)  | Silver       | 1         | 1                   | 1    | 40.0              | 12.0             | null                  | null",
)

OFFER_CUBE = rows(
    "run_id | segment | loyalty_tier | offer_type         | source            | offers | price_sum | expected_revenue",
    "R1     | Value   | Gold         | product_cross_sell | basket_rule       | 2      | 70.0      | 30.0",
    "R1     | Value   | Silver       | tier_upgrade       | upgrade           | 1      | 40.0      | 10.0",
    "R1     | Premium | Gold         | product_cross_sell | similar_customers | 2      | 160.0     | 60.0",
    "R2     | Value   | Gold         | product_cross_sell | basket_rule       | 3      | 90.0      | 25.0",
    "R2     | Value   | Gold         | tier_upgrade       | upgrade           | 1      | 60.0      | 15.0",
    "R2     | Premium | Gold         | product_cross_sell | similar_customers | 2      | 150.0     | 50.0",
    "R2     | (none)  | Silver       | replenishment      | replenishment     | 1      | 30.0      | 12.0",
)

# R1's five offers measured in R2: C1's conditioner and C4's serum were bought.
PREVIOUS_OFFERS = rows(
    "run_id | previous_run_id | offer_type         | source            | segment | sent | bought | revenue | predicted",
    "R2     | R1              | product_cross_sell | basket_rule       | Value   | 2    | 1      | 30.0    | 0.9",
    "R2     | R1              | tier_upgrade       | upgrade           | Value   | 1    | 0      | 0.0     | 0.25",
    "R2     | R1              | product_cross_sell | similar_customers | Premium | 2    | 1      | 100.0   | 0.733333",
)

SALES_WEEKLY = rows(
    "run_id | week_start | revenue | units | customers",
    "R1     | 2024-02-19 | 120.0   | 4     | 3",
    "R1     | 2024-02-26 | 200.0   | 6     | 4",
    "R2     | 2024-02-19 | 120.0   | 4     | 3",
    "R2     | 2024-02-26 | 200.0   | 6     | 4",
    "R2     | 2024-03-04 | 130.0   | 3     | 2",
)

TOP_PRODUCTS = rows(
    "run_id | product_id | name    | category | revenue | units",
    "R1     | P1         | Shampoo | hair     | 120.0   | 4",
    "R1     | P2         | Blender | kitchen  | 200.0   | 1",
    "R2     | P1         | Shampoo | hair     | 150.0   | 5",
    "R2     | P2         | Blender | kitchen  | 200.0   | 1",
    "R2     | P3         | Soap    | bath     | 40.0    | 8",
    "R2     | P4         | Sponge  | bath     | 60.0    | 2",
)

TOP_CATEGORIES = rows(
    "run_id | category | revenue | units",
    "R1     | hair     | 120.0   | 4",
    "R1     | kitchen  | 200.0   | 1",
    "R2     | hair     | 150.0   | 5",
    "R2     | kitchen  | 200.0   | 1",
    "R2     | bath     | 100.0   | 10",
)

# R2's Pareto at the five customers' shares (the writer's 101 points are the same curve sampled finer).
PARETO = rows(
    "run_id | customer_share | revenue_share",
    "R2     | 0.0            | 0.0",
    "R2     | 0.2            | 0.5",
    "R2     | 0.4            | 0.75",
    "R2     | 0.6            | 0.9",
    "R2     | 0.8            | 0.97",
    "R2     | 1.0            | 1.0",
)


RUN_DEFAULTS = {
    "data_source": "data/tier1",
    "settings_json": "{}",
    "code_version": "0.1.0",
    "customers_requested": 5,
    "customers_failed": 0,
    "rows_read": None,
    "rows_used": None,
    "rows_rejected": 0,
    "total_offers": 0,
    "offers_sent": 0,
    "customers_with_gaps": 0,
    "total_gaps": 0,
    "mean_churn_probability": None,
    "win_back_customers": 0,
}
"""The `runs` columns the dashboard does not read: plain values."""


def _frame(records: list[dict], **fixed: object) -> pl.DataFrame:
    frame = pl.DataFrame([{**fixed, **record} for record in records], infer_schema_length=None)
    # Dates and timestamps are written as text in the tables above.
    return frame.with_columns(
        pl.col(name).str.to_datetime() if name == "generated_at" else pl.col(name).str.to_date()
        for name in ("as_of", "generated_at", "week_start")
        if name in frame.columns
    )


def build_store(target: str | Path) -> str | Path:
    """The store above at `target` (a DuckDB file path or a `postgresql://` URL), written with the store's own
    schema in one transaction; the columns the dashboard does not read get plain values."""
    offers = [{**offer, "product_ids": offer["product_id"], "score": 1.0} for offer in OFFERS]
    tables = {
        "runs": _frame(RUNS, **RUN_DEFAULTS),
        "run_customers": _frame(CUSTOMERS, gap_categories=""),
        "run_offers": _frame(offers),
        "run_customer_cube": _frame(CUSTOMER_CUBE),
        "run_offer_cube": _frame(OFFER_CUBE),
        "run_previous_offers": _frame(PREVIOUS_OFFERS),
        "run_sales_weekly": _frame(SALES_WEEKLY),
        "run_top_products": _frame(TOP_PRODUCTS),
        "run_top_categories": _frame(TOP_CATEGORIES),
        "run_pareto": _frame(PARETO),
    }
    with connect(target) as db:
        db.begin()
        ensure_schema(db)
        for table, frame in tables.items():
            db.insert(table, as_table(table, frame))
        db.commit()
    return target
