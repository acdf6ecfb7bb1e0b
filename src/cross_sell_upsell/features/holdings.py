"""What each customer owns as of a date, from the dated purchases, on integer keys.

Customers are `customer_row`s (rows of `Dataset.customers`) and products `product_key`s (rows of
`Dataset.products`): integer keys take a fraction of the string ids' memory, and a cohort looks its
customers' and products' attributes up by row rather than by a join.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.features.sorted_purchases import SortedPurchases, run_ends, run_starts, sort_purchases, sort_rows

HOLDINGS_SCHEMA: dict[str, pl.DataType] = {
    "customer_row": pl.UInt32(),
    "product_key": pl.UInt32(),
    "first_purchase": pl.Date(),
    "last_purchase": pl.Date(),
    "purchase_days": pl.UInt32(),
    "habit": pl.Float64(),
}
"""The columns of `holdings`: one row per customer and product they bought."""

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
    """(customer_row, product_key, first_purchase, last_purchase, purchase_days, habit) of every product owned on
    `as_of`, from the keyed purchases up to then (`keyed_ownership`), sorted by customer row (`sorted_holdings`)."""
    return sorted_holdings(sort_purchases(keyed.drop("amount", strict=False)), as_of, habit_half_life_days)


def sorted_holdings(purchases: SortedPurchases, as_of: date, habit_half_life_days: float) -> pl.DataFrame:
    """`holdings` of the keyed purchases up to `as_of` sorted by customer and day (`sort_purchases`), sorted by
    customer row then product key. `purchase_days` counts the days it was bought on; `habit` weighs each of
    those days but the first (each repeat purchase) by 0.5 ^ (its age in days / half-life), so a product rebought
    often and lately weighs most."""
    distinct = purchases.distinct()
    (customer, product, day), _ = sort_rows([distinct.customer, distinct.product, distinct.day])
    first = run_starts(customer, product)
    last = run_ends(first, len(day))
    # Summed in fixed point, exactly: a float sum's last digits would follow the order of the rows.
    fixed = _fixed_weights(day, as_of, habit_half_life_days)
    return pl.DataFrame(
        {
            "customer_row": customer[first],
            "product_key": product[first],
            "first_purchase": pl.Series(day[first]).cast(pl.Date),
            "last_purchase": pl.Series(day[last]).cast(pl.Date),
            "purchase_days": (last - first + 1).astype(np.uint32),
            # The weights grow with recency, so the first purchase day has the smallest.
            "habit": (np.add.reduceat(fixed, first) - fixed[first]) / HABIT_SCALE if len(first) else [],
        },
        schema=HOLDINGS_SCHEMA,
    )


def _fixed_weights(days: np.ndarray, as_of: date, habit_half_life_days: float) -> np.ndarray:
    """0.5 ^ (age in days / half-life) of each of `days` (days since 1970) in units of 1 / HABIT_SCALE (int64),
    computed once per distinct day and looked up."""
    if len(days) == 0:
        return np.zeros(0, dtype=np.int64)
    first = int(days.min())
    dates = pl.Series("purchase_date", np.arange(first, int(days.max()) + 1, dtype=np.int32)).cast(pl.Date)
    weight = pl.lit(0.5).pow((pl.lit(as_of) - pl.col("purchase_date")).dt.total_days() / habit_half_life_days)
    table = dates.to_frame().select((weight * HABIT_SCALE).round().cast(pl.Int64)).to_series().to_numpy()
    return table[days - first]


RECENT_DAYS = 56
"""The days a product's recent popularity is counted over, by the acceptance model's feature and the backtest's
recent-popularity baseline alike: eight weeks, long enough for a monthly product's buyers to show, short enough
to follow what sells now."""


def recent_buyer_shares(holdings: pl.DataFrame, products: int, as_of: date) -> pl.Series:
    """Per product key (0..products-1), the share of the customers who bought anything in the RECENT_DAYS up to
    `as_of` who bought that product then (0 when nobody did), from every customer's `holdings`: a product's last
    purchase falls in the window exactly when it was bought in it."""
    recent = holdings.filter(pl.col("last_purchase") > as_of - timedelta(days=RECENT_DAYS))
    buyers = max(recent.get_column("customer_row").n_unique(), 1)
    counts = np.bincount(recent.get_column("product_key").to_numpy(), minlength=products)
    return pl.Series("recent_buyer_share", counts / buyers, dtype=pl.Float64)


def rebuy_rates(holdings: pl.DataFrame, products: int, as_of: date, horizon_days: int) -> pl.Series:
    """Per product key (0..products-1), how often its buyers buy it again: the mean over its buyers of the days
    they bought it on after the first, per `horizon_days` since that first purchase (a span shorter than the
    horizon counts as one horizon; 0 for a product nobody bought), from every customer's `holdings` (with
    `first_purchase`) as of `as_of`. How much of a habit the product is, whoever buys it. A rate and not a share
    of repeat buyers: the share of buyers who bought twice grows with every month the log covers, so a model
    trained a horizon earlier would read it as weaker than it is now."""
    keys = holdings.get_column("product_key").to_numpy()
    span = holdings.select((pl.lit(as_of) - pl.col("first_purchase")).dt.total_days() + 1).to_series().to_numpy()
    rebuys = (holdings.get_column("purchase_days").to_numpy() - 1) * horizon_days / np.maximum(span, horizon_days)
    buyers = np.bincount(keys, minlength=products)
    return pl.Series("rebuy_rate", np.bincount(keys, rebuys, minlength=products) / np.maximum(buyers, 1))
