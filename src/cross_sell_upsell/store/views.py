"""The store's descriptive views of a run's purchases: weekly sales, top products and categories, the Pareto of
revenue by customer. Pure functions over the Dataset's dated ownership, the purchases on or before the as-of date,
eager or lazy alike; `sales_views` computes the four in one pass over the log."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

import polars as pl

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

TOP_PRODUCTS = 20
"""Products kept by revenue and, separately, by units (their union is stored)."""

PARETO_POINTS = 101
"""Customer shares 0.00, 0.01, ..., 1.00."""

NONE_LABEL = "(none)"
"""A missing segment, loyalty tier or category, as the store writes it."""


def priced_purchases(ownership: Frame, products: pl.DataFrame) -> Frame:
    """customer_id, product_id, purchase_date, amount: each dated purchase, a purchase without an amount at the
    catalog price (the JSON samples have none)."""
    amount = pl.col("amount") if "amount" in ownership.collect_schema().names() else pl.lit(None, pl.Float64)
    return (
        ownership.select("customer_id", "product_id", "purchase_date", amount=amount.cast(pl.Float64))
        .join(_like(ownership, products.select("product_id", "price")), on="product_id", how="left")
        .select("customer_id", "product_id", "purchase_date", amount=pl.coalesce("amount", "price").fill_null(0.0))
    )


def _like(frame: Frame, other: pl.DataFrame) -> Frame:
    """`other`, lazy when `frame` is (a join needs both of one kind)."""
    return other.lazy() if isinstance(frame, pl.LazyFrame) else other  # type: ignore[return-value]


def until(purchases: Frame, as_of: date) -> Frame:
    """The purchases on or before `as_of`."""
    return purchases.filter(pl.col("purchase_date") <= as_of)


def weekly_sales(purchases: Frame) -> Frame:
    """week_start (a Monday), revenue, units (purchase rows), customers (distinct buyers), by week."""
    return (
        purchases.group_by(week_start=pl.col("purchase_date").dt.truncate("1w"))
        .agg(
            revenue=pl.col("amount").sum().round(2),
            units=pl.len().cast(pl.Int64),
            customers=pl.col("customer_id").n_unique().cast(pl.Int64),
        )
        .sort("week_start")
    )


def _by_product(purchases: Frame, products: pl.DataFrame) -> Frame:
    return (
        purchases.group_by("product_id")
        .agg(revenue=pl.col("amount").sum().round(2), units=pl.len().cast(pl.Int64))
        .join(_like(purchases, products.select("product_id", "name", "category")), on="product_id", how="left")
        .with_columns(name=pl.coalesce("name", "product_id"), category=pl.col("category").fill_null(NONE_LABEL))
    )


def top_products(purchases: Frame, products: pl.DataFrame, limit: int = TOP_PRODUCTS) -> Frame:
    """product_id, name, category, revenue, units: the top `limit` products by revenue and the top `limit` by
    units (ties to the lower id), each once; by revenue, then units, then id."""
    totals = _by_product(purchases, products)
    by_revenue = totals.sort(["revenue", "product_id"], descending=[True, False]).head(limit)
    by_units = totals.sort(["units", "product_id"], descending=[True, False]).head(limit)
    return (
        pl.concat([by_revenue, by_units])
        .unique("product_id")
        .sort(["revenue", "units", "product_id"], descending=[True, True, False])
        .select("product_id", "name", "category", "revenue", "units")
    )


def top_categories(purchases: Frame, products: pl.DataFrame) -> Frame:
    """category, revenue, units: every category bought, by revenue then name."""
    return (
        _by_product(purchases, products)
        .group_by("category")
        .agg(revenue=pl.col("revenue").sum().round(2), units=pl.col("units").sum())
        .sort(["revenue", "category"], descending=[True, False])
    )


def customer_revenue(purchases: Frame) -> Frame:
    """revenue: each buying customer's, the biggest first (ties to the lower id): what the Pareto curve sums."""
    return (
        purchases.group_by("customer_id")
        .agg(revenue=pl.col("amount").sum())
        .sort(["revenue", "customer_id"], descending=[True, False])
        .select("revenue")
    )


def pareto(purchases: pl.DataFrame, points: int = PARETO_POINTS) -> pl.DataFrame:
    """customer_share, revenue_share: for each share s = k / (points - 1), the share of revenue of the top
    floor(s x n) of the n buying customers by revenue (ties to the lower id). Zero revenue gives shares of 0."""
    return pareto_curve(customer_revenue(purchases), points)


def pareto_curve(revenue: pl.DataFrame, points: int = PARETO_POINTS) -> pl.DataFrame:
    """The Pareto curve (`pareto`) of the customers' revenue, biggest first (`customer_revenue`)."""
    cumulative = [0.0, *revenue.get_column("revenue").cum_sum().to_list()]
    total, customers = (cumulative[-1], revenue.height)
    steps = points - 1
    return pl.DataFrame(
        {
            "customer_share": [k / steps for k in range(points)],
            "revenue_share": [cumulative[k * customers // steps] / total if total else 0.0 for k in range(points)],
        },
        schema={"customer_share": pl.Float64, "revenue_share": pl.Float64},
    )


def sales_views(ownership: pl.DataFrame, products: pl.DataFrame, as_of: date) -> dict[str, pl.DataFrame]:
    """The store's four sales tables (`run_sales_weekly`, `run_top_products`, `run_top_categories`, `run_pareto`)
    of the purchases on or before `as_of`, in one lazy pass: the priced log is never built whole."""
    purchases = until(priced_purchases(ownership.lazy(), products), as_of)
    weekly, top, categories, revenue = pl.collect_all(
        [
            weekly_sales(purchases),
            top_products(purchases, products),
            top_categories(purchases, products),
            customer_revenue(purchases),
        ]
    )
    return {
        "run_sales_weekly": weekly,
        "run_top_products": top,
        "run_top_categories": categories,
        "run_pareto": pareto_curve(revenue),
    }
