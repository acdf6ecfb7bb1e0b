"""Each customer's purchase history before an as-of date, summarised the way the customer models read it.

A purchase is a customer's day with rows: several rows on one day are one purchase, their amounts summed. A row
with a negative amount (a return) or no finite amount is left out, so it neither makes a purchase nor lowers
one; a row of free goods (amount zero) is a purchase worth nothing, as CDNOW's $0 orders are. Days are counted
from the customer's first purchase (day 0); the last observed day is the day before `as_of` (which is exclusive
here, where the Dataset's and the Snapshot's as-of date is the last day included). So, for the models
(docs/customer-models.md):

- `frequency` x = purchase days - 1, the repeat purchases;
- `recency` t_x = days from the first to the last purchase (0 without a repeat purchase);
- `T` = days from the first purchase to the day before `as_of`, the customer's age (CDNOW's calibration
  ending 1997-09-30 gives a customer who first bought on 1997-01-01 T = 272 days = 38.86 weeks);
- `monetary` = mean spend of the repeat purchases (the first purchase left out, the Gamma-Gamma convention),
  null when there is none.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from cross_sell_upsell.features.sorted_purchases import SortedPurchases, run_ends, run_starts

SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "first_purchase": pl.Date(),
    "last_purchase": pl.Date(),
    "frequency": pl.Int64(),
    "recency": pl.Int64(),
    "T": pl.Int64(),
    "monetary": pl.Float64(),
    "lifetime_spend": pl.Float64(),
    "mean_gap_days": pl.Float64(),
}
"""The columns after `customer_id` (which keeps its input type), one row per customer with a purchase before the
as-of date (see the module docstring). Besides the models' inputs: `lifetime_spend`, the spend of every
purchase, and `mean_gap_days` = recency / frequency, the mean days between purchase days (null for a single
purchase), which the fallback values and the naive baselines read."""


def purchase_days(purchases: pl.DataFrame | pl.LazyFrame, start: date | None, end: date) -> pl.LazyFrame:
    """customer_id, purchase_date, spend: each customer's purchases (see the module docstring) dated from `start`
    (the first purchase when None) up to the day before `end`, lazily."""
    in_range = pl.col("purchase_date") < end
    if start is not None:
        in_range = in_range & (pl.col("purchase_date") >= start)
    return (
        purchases.lazy()
        .filter(in_range & (pl.col("amount") >= 0) & pl.col("amount").is_finite())
        .group_by("customer_id", "purchase_date")
        # In cents: a parallel group-by sums in a varying order, and the last digits of a float sum with it.
        .agg(spend=pl.col("amount").sum().round(2))
    )


def purchase_summary(purchases: pl.DataFrame | pl.LazyFrame, as_of: date) -> pl.DataFrame:
    """customer_id and SUMMARY_SCHEMA, sorted by customer id, from `purchases` (customer_id, purchase_date,
    amount) dated before `as_of`. One lazy plan grouped twice (by day, then by customer), so the filtered rows
    are never materialised."""
    customers = (
        purchase_days(purchases, None, as_of)
        .group_by("customer_id")
        .agg(
            first_purchase=pl.col("purchase_date").min(),
            last_purchase=pl.col("purchase_date").max(),
            frequency=pl.len().cast(pl.Int64) - 1,
            lifetime_spend=pl.col("spend").sum().round(2),
            first_spend=pl.col("spend").get(pl.col("purchase_date").arg_min()),
        )
    )
    return _summary_columns(customers, as_of)


def sorted_purchase_summary(purchases: SortedPurchases, as_of: date) -> pl.DataFrame:
    """`purchase_summary` of keyed purchases sorted by customer and day (`sorted_purchases.sort_purchases`, every
    row before `as_of`), with the customer row as customer_id: the same values from runs of the sorted rows
    instead of two group-bys."""
    valid = purchases.valid()
    days = valid.starts(by_day=True)
    spend = pl.Series(np.add.reduceat(valid.amount, days)).round(2).to_numpy()
    customer, day = valid.customer[days], valid.day[days]
    first = run_starts(customer)
    last = run_ends(first, len(days))
    customers = pl.LazyFrame(
        {
            "customer_id": customer[first],
            "first_purchase": day[first],
            "last_purchase": day[last],
            "frequency": last - first,
            "lifetime_spend": np.add.reduceat(spend, first),
            "first_spend": spend[first],
        }
    ).with_columns(
        pl.col("first_purchase", "last_purchase").cast(pl.Date),
        pl.col("frequency").cast(pl.Int64),
        pl.col("lifetime_spend").round(2),
    )
    return _summary_columns(customers, as_of)


def _summary_columns(customers: pl.LazyFrame, as_of: date) -> pl.DataFrame:
    """SUMMARY_SCHEMA by customer id from each customer's first and last purchase day, frequency, lifetime spend
    and first day's spend."""
    last_day = as_of - timedelta(days=1)
    return (
        customers.with_columns(
            recency=(pl.col("last_purchase") - pl.col("first_purchase")).dt.total_days(),
            T=(pl.lit(last_day) - pl.col("first_purchase")).dt.total_days(),
            monetary=pl.when(pl.col("frequency") > 0).then(
                (pl.col("lifetime_spend") - pl.col("first_spend")) / pl.col("frequency")
            ),
        )
        .with_columns(
            mean_gap_days=pl.when(pl.col("frequency") > 0).then(pl.col("recency") / pl.col("frequency")),
        )
        .select("customer_id", *(pl.col(name).cast(dtype) for name, dtype in SUMMARY_SCHEMA.items()))
        .sort("customer_id")
        .collect()
    )
