"""The store's descriptive views of a run's purchases: weekly sales, top products and categories, the Pareto of
revenue by customer. Pure functions over the Dataset's dated ownership, the purchases on or before the as-of date."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
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


def cents_sum(amount: pl.Expr) -> pl.Expr:
    """Money summed as whole cents: exact in any order, so partitions of the customers add up to the whole."""
    return (amount * 100).round().cast(pl.Int64).sum()


@dataclass(frozen=True)
class SalesCounts:
    """What some customers' purchases (`priced_purchases`, `until` the as-of date) add to the sales views: counts
    and cents, which add up over disjoint partitions of the customers (`combined`)."""

    weekly: pl.DataFrame
    """week_start (a Monday), revenue_cents, units (purchase rows), customers (distinct buyers)."""
    products: pl.DataFrame
    """product_id, revenue_cents, units."""
    customers: pl.DataFrame
    """customer_id, revenue_cents: each buying customer's spend."""


def sales_counts(purchases: pl.DataFrame) -> SalesCounts:
    """The `SalesCounts` of `purchases` (customer_id, product_id, purchase_date, amount)."""
    # The three grouped lazily and together: on a partition of 2.4M purchases 0.39 s of CPU against 0.51 s eagerly.
    frame = purchases.lazy()
    weekly, products, customers = pl.collect_all(
        [
            frame.group_by(week_start=pl.col("purchase_date").dt.truncate("1w")).agg(
                revenue_cents=cents_sum(pl.col("amount")),
                units=pl.len().cast(pl.Int64),
                customers=pl.col("customer_id").n_unique().cast(pl.Int64),
            ),
            frame.group_by("product_id").agg(revenue_cents=cents_sum(pl.col("amount")), units=pl.len().cast(pl.Int64)),
            frame.group_by("customer_id").agg(revenue_cents=cents_sum(pl.col("amount"))),
        ]
    )
    return SalesCounts(weekly=weekly, products=products, customers=customers)


def combined(parts: Sequence[SalesCounts]) -> SalesCounts:
    """The counts of disjoint partitions of the customers as one: a week's or a product's figures summed (a
    customer buys in one partition only, so distinct buyers add up too)."""

    def summed(name: str, key: str) -> pl.DataFrame:
        frames = [getattr(part, name) for part in parts]
        return pl.concat(frames).group_by(key).agg(pl.all().sum()) if len(frames) > 1 else frames[0]

    return SalesCounts(
        weekly=summed("weekly", "week_start"),
        products=summed("products", "product_id"),
        customers=pl.concat([part.customers for part in parts]),
    )


def weekly_sales(counts: SalesCounts) -> pl.DataFrame:
    """week_start (a Monday), revenue, units (purchase rows), customers (distinct buyers), by week."""
    return counts.weekly.select(
        "week_start", revenue=pl.col("revenue_cents") / 100, units="units", customers="customers"
    ).sort("week_start")


def _by_product(counts: SalesCounts, products: pl.DataFrame) -> pl.DataFrame:
    return (
        counts.products.join(products.select("product_id", "name", "category"), on="product_id", how="left")
        .with_columns(name=pl.coalesce("name", "product_id"), category=pl.col("category").fill_null(NONE_LABEL))
        .with_columns(revenue=pl.col("revenue_cents") / 100)
    )


def top_products(counts: SalesCounts, products: pl.DataFrame, limit: int = TOP_PRODUCTS) -> pl.DataFrame:
    """product_id, name, category, revenue, units: the top `limit` products by revenue and the top `limit` by
    units (ties to the lower id), each once; by revenue, then units, then id."""
    totals = _by_product(counts, products)
    by_revenue = totals.sort(["revenue_cents", "product_id"], descending=[True, False]).head(limit)
    by_units = totals.sort(["units", "product_id"], descending=[True, False]).head(limit)
    return (
        pl.concat([by_revenue, by_units])
        .unique("product_id")
        .sort(["revenue_cents", "units", "product_id"], descending=[True, True, False])
        .select("product_id", "name", "category", "revenue", "units")
    )


def top_categories(counts: SalesCounts, products: pl.DataFrame) -> pl.DataFrame:
    """category, revenue, units: every category bought, by revenue then name."""
    return (
        _by_product(counts, products)
        .group_by("category")
        .agg(pl.col("revenue_cents", "units").sum())
        .sort(["revenue_cents", "category"], descending=[True, False])
        .select("category", revenue=pl.col("revenue_cents") / 100, units="units")
    )


def pareto(counts: SalesCounts, points: int = PARETO_POINTS) -> pl.DataFrame:
    """customer_share, revenue_share: for each share s = k / (points - 1), the share of revenue of the top
    floor(s x n) of the n buying customers by revenue (ties to the lower id). Zero revenue gives shares of 0."""
    spend = (
        counts.customers.sort(["revenue_cents", "customer_id"], descending=[True, False])
        .get_column("revenue_cents")
        .to_list()
    )
    cumulative = [0, *itertools.accumulate(spend)]
    total, customers = (cumulative[-1], len(spend))
    steps = points - 1
    return pl.DataFrame(
        {
            "customer_share": [k / steps for k in range(points)],
            "revenue_share": [cumulative[k * customers // steps] / total if total else 0.0 for k in range(points)],
        },
        schema={"customer_share": pl.Float64, "revenue_share": pl.Float64},
    )


def sales_views(counts: SalesCounts, products: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The store's four sales tables (`run_sales_weekly`, `run_top_products`, `run_top_categories`, `run_pareto`)
    of the purchases `counts` were counted from (`sales_counts`, `combined`)."""
    return {
        "run_sales_weekly": weekly_sales(counts),
        "run_top_products": top_products(counts, products),
        "run_top_categories": top_categories(counts, products),
        "run_pareto": pareto(counts),
    }
