"""What each customer owns as of a date, from the dated purchases, on integer keys.

Customers are `customer_row`s (rows of `Dataset.customers`) and products `product_key`s (rows of
`Dataset.products`): integer keys take a fraction of the string ids' memory, and a cohort looks its
customers' and products' attributes up by row rather than by a join.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from cross_sell_upsell.data.dataset import Dataset

HABIT_SCALE = float(1 << 40)
"""A habit weight (at most 1) is summed as an integer count of 1 / 2^40: about 1e-12 of resolution, and room for
millions of purchase days of one product in 64 bits."""


def keyed_ownership(dataset: Dataset, as_of: date, customer_rows: pl.DataFrame | None = None) -> pl.DataFrame:
    """The purchases on or before `as_of`, with `customer_row` and `product_key` in place of the string ids.
    The holdings and the learned signals both start from it, so the id joins over the (possibly 20M-row) log
    are done once per as-of date. `customer_rows` (customer_id, customer_row UInt32) numbers the customers
    whose purchases count, by default every customer of `dataset` in order; a partition of a larger dataset's
    customers passes their rows there, so its join is not against every customer."""
    if customer_rows is None:
        customer_rows = dataset.customers.select("customer_id").with_row_index("customer_row")
    product_rows = dataset.products.select("product_id").with_row_index("product_key")
    return (
        dataset.ownership.lazy()
        .filter(pl.col("purchase_date") <= as_of)
        .join(customer_rows.lazy(), on="customer_id")
        .join(product_rows.lazy(), on="product_id")
        .drop("customer_id", "product_id")
        .collect()
    )


def holdings(keyed: pl.DataFrame, as_of: date, habit_half_life_days: float) -> pl.DataFrame:
    """(customer_row, product_key, last_purchase, purchase_days, habit) of every product owned on `as_of`, from
    the keyed purchases up to then (`keyed_ownership`), sorted by customer row. `purchase_days` counts the days
    it was bought on; `habit` weighs each of those days but the first (each repeat purchase) by
    0.5 ^ (its age in days / half-life), so a product rebought often and lately weighs most."""
    weight = pl.lit(0.5).pow((pl.lit(as_of) - pl.col("purchase_date")).dt.total_days() / habit_half_life_days)
    fixed = (weight * HABIT_SCALE).round().cast(pl.Int64)
    # One packed (customer_row, product_key) column groups and sorts much faster than the two columns.
    pair = pl.col("customer_row").cast(pl.UInt64) * (1 << 32) + pl.col("product_key").cast(pl.UInt64)
    return (
        keyed.lazy()
        .select(pair=pair, purchase_date="purchase_date")
        .unique()
        .group_by("pair")
        .agg(
            last_purchase=pl.col("purchase_date").max(),
            purchase_days=pl.len().cast(pl.UInt32),
            # The weights grow with recency, so the first purchase day has the smallest. Summed in fixed point,
            # exactly: a float sum's last digits follow the rows' order, which a parallel group-by varies.
            habit=(fixed.sum() - fixed.min()) / HABIT_SCALE,
        )
        .sort("pair")
        .select(
            customer_row=(pl.col("pair") // (1 << 32)).cast(pl.UInt32),
            product_key=(pl.col("pair") % (1 << 32)).cast(pl.UInt32),
            last_purchase="last_purchase",
            purchase_days="purchase_days",
            habit="habit",
        )
        .collect()
    )
