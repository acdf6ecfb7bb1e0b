"""The store's descriptive views of a run's purchases: weekly sales, top products and categories, the Pareto of
revenue by customer. Pure functions over the Dataset's dated ownership, the purchases on or before the as-of date."""

from __future__ import annotations

from datetime import date

import polars as pl

TOP_PRODUCTS = 20
"""Products kept by revenue and, separately, by units (their union is stored)."""

PARETO_POINTS = 101
"""Customer shares 0.00, 0.01, ..., 1.00."""

NONE_LABEL = "(none)"
"""A missing segment, loyalty tier or category, as the store writes it."""


def priced_purchases(ownership: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """customer_id, product_id, purchase_date, amount: each dated purchase, a purchase without an amount at the
    catalog price (the JSON samples have none)."""
    amount = pl.col("amount") if "amount" in ownership.columns else pl.lit(None, pl.Float64)
    return (
        ownership.select("customer_id", "product_id", "purchase_date", amount=amount.cast(pl.Float64))
        .join(products.select("product_id", "price"), on="product_id", how="left")
        .select("customer_id", "product_id", "purchase_date", amount=pl.coalesce("amount", "price").fill_null(0.0))
    )


def until(purchases: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The purchases on or before `as_of`."""
    return purchases.filter(pl.col("purchase_date") <= as_of)


def weekly_sales(purchases: pl.DataFrame) -> pl.DataFrame:
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


def _by_product(purchases: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    return (
        purchases.group_by("product_id")
        .agg(revenue=pl.col("amount").sum().round(2), units=pl.len().cast(pl.Int64))
        .join(products.select("product_id", "name", "category"), on="product_id", how="left")
        .with_columns(name=pl.coalesce("name", "product_id"), category=pl.col("category").fill_null(NONE_LABEL))
    )


def top_products(purchases: pl.DataFrame, products: pl.DataFrame, limit: int = TOP_PRODUCTS) -> pl.DataFrame:
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


def top_categories(purchases: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """category, revenue, units: every category bought, by revenue then name."""
    return (
        _by_product(purchases, products)
        .group_by("category")
        .agg(revenue=pl.col("revenue").sum().round(2), units=pl.col("units").sum())
        .sort(["revenue", "category"], descending=[True, False])
    )


def pareto(purchases: pl.DataFrame, points: int = PARETO_POINTS) -> pl.DataFrame:
    """customer_share, revenue_share: for each share s = k / (points - 1), the share of revenue of the top
    floor(s x n) of the n buying customers by revenue (ties to the lower id). Zero revenue gives shares of 0."""
    spend = (
        purchases.group_by("customer_id")
        .agg(revenue=pl.col("amount").sum())
        .sort(["revenue", "customer_id"], descending=[True, False])
        .get_column("revenue")
    )
    cumulative = [0.0, *spend.cum_sum().to_list()]
    total, customers = (cumulative[-1], len(spend))
    steps = points - 1
    return pl.DataFrame(
        {
            "customer_share": [k / steps for k in range(points)],
            "revenue_share": [cumulative[k * customers // steps] / total if total else 0.0 for k in range(points)],
        },
        schema={"customer_share": pl.Float64, "revenue_share": pl.Float64},
    )


def sales_views(priced: pl.DataFrame, products: pl.DataFrame, as_of: date) -> dict[str, pl.DataFrame]:
    """The store's four sales tables (`run_sales_weekly`, `run_top_products`, `run_top_categories`, `run_pareto`)
    of the `priced_purchases` on or before `as_of`. Eager on purpose: one priced frame read four times took 2.0 s
    of CPU at 200,000 customers (3.8M purchases) without raising the peak memory, four lazy scans 2.7 s (each
    prices the log again)."""
    purchases = until(priced, as_of)
    return {
        "run_sales_weekly": weekly_sales(purchases),
        "run_top_products": top_products(purchases, products),
        "run_top_categories": top_categories(purchases, products),
        "run_pareto": pareto(purchases),
    }
