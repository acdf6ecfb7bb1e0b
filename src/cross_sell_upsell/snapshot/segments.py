"""The customer segments assigned once per as-of date into the snapshot, after the customer models.

The features are computed from the keyed purchases the models read (row numbers for ids, so no string join over
the log), K-means is fitted on the settings' fitting sample and every customer is assigned
(`models.segments.assign_segments`). docs/customer-models.md ("Segments in the product") states every value.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from cross_sell_upsell.configuration import SegmentSettings
from cross_sell_upsell.features.sorted_purchases import SortedPurchases
from cross_sell_upsell.models.segment_features import features_from_totals, sorted_customer_totals
from cross_sell_upsell.models.segments import Segments, assign_segments

NO_PURCHASE_SEGMENT = "No purchase yet"
"""The segment of a customer without a purchase on or before the as-of date and no segment of their own: the
features need a purchase, and a report should say so rather than print nothing."""

SEGMENT_COLUMNS: tuple[str, ...] = ("segment", "segment_source")
"""The columns `customer_segments` adds to every customer of the snapshot: the segment's name (null only for a
customer with purchases when the customers were not segmented, `Segments.reason`) and where it came from:
"model" (K-means), "given" (the retailer's own) or "none"."""


def segment_totals(purchases: SortedPurchases, catalog: pl.DataFrame) -> pl.DataFrame:
    """The segment features' `customer_totals` of the customers of `purchases` (the priced keyed purchases up to
    the as-of date, sorted: `sorted_purchases.sort_purchases`), by customer row; `catalog`: the dataset's
    products in product-key order. Row numbers stand for the ids over the log (no string column as long as the
    log); the features, one row per buyer, then get the customer ids back, which the fitting sample is drawn by."""
    return sorted_customer_totals(purchases, catalog.get_column("category"))


def customer_segments(
    totals: pl.DataFrame,
    predictions: pl.DataFrame,
    customers: pl.DataFrame,
    as_of: date,
    settings: SegmentSettings,
) -> tuple[Segments, pl.DataFrame]:
    """The `Segments` and SEGMENT_COLUMNS for each customer row, in row order.

    `totals`: every buying customer's `segment_totals` (those of partitions of the customers concatenated, in any
    order); `predictions`: the customer models' columns, one row per customer row; `customers`: the dataset's
    customers, whose `segment` is the retailer's. A customer none of whose purchases the features keep
    (`segment_features`) counts as one without a purchase."""
    scores = predictions.select("predicted_clv", "churn_probability").with_row_index("customer_id")
    features = features_from_totals(totals, scores, as_of)
    bought = features.get_column("customer_id")
    ids = customers.get_column("customer_id")
    assignments, segments = assign_segments(
        features.with_columns(customer_id=ids.gather(bought)), settings, customers.select("customer_id", "segment")
    )
    rows = (
        customers.select("customer_id")
        .with_row_index("customer_row")
        .join(assignments, on="customer_id", how="left", maintain_order="left")
    )
    no_purchase = pl.col("segment_source").is_null() & ~pl.col("customer_row").is_in(bought.implode())
    return segments, rows.select(
        segment=pl.when(no_purchase).then(pl.lit(NO_PURCHASE_SEGMENT)).otherwise(pl.col("segment")),
        segment_source=pl.col("segment_source").fill_null("none"),
    )
