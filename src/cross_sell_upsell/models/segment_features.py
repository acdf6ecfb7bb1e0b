"""The behaviour features customers are segmented on, their standardisation, and the deterministic sample
K-means is fitted on (docs/customer-models.md, "Segments")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from cross_sell_upsell.data.hashing import stable_hash
from cross_sell_upsell.features.sorted_purchases import SortedPurchases, run_ends, run_starts
from cross_sell_upsell.models.segment_naming import SEGMENT_FEATURES

FEATURE_SCHEMA: dict[str, pl.DataType] = {
    "purchases": pl.Int64(),
    "spend": pl.Float64(),
    "mean_unit_price": pl.Float64(),
    "categories": pl.Int64(),
    "mean_gap_days": pl.Float64(),
    "predicted_clv": pl.Float64(),
    "churn_probability": pl.Float64(),
}
"""The columns after `customer_id` of `segment_features`, one row per customer with a purchase up to the as-of
date (see `segment_features` for each definition); the two scores are null for a customer `scores` lacks."""

LOGGED_FEATURES: tuple[str, ...] = SEGMENT_FEATURES[:-1]
"""Counts and money, right-skewed: standardised after log1p. The churn probability is already on [0, 1]."""


def segment_features(
    purchases: pl.DataFrame | pl.LazyFrame, products: pl.DataFrame, scores: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    """customer_id and FEATURE_SCHEMA, sorted by customer id, from the rows dated up to `as_of` (inclusive).

    `purchases`: customer_id, product_id, purchase_date, amount (what the row cost; null: the catalog price times
    the quantity) and optionally quantity (null or absent: 1). `products`: product_id, category, price. `scores`:
    customer_id, predicted_clv, churn_probability (models/scoring.py). A row with no finite amount at or above 0,
    or a quantity not above 0, is left out, as the customer models leave out returns.

    - purchases: distinct purchase days; spend: the sum of the amounts;
    - mean_unit_price: spend / units bought, per unit rather than per row, so a six-pack is not a pricey item;
    - categories: distinct catalog categories bought (a product the catalog lacks adds none);
    - mean_gap_days: (last - first purchase day) / (purchase days - 1); for a single purchase day, the larger of
      the customers' median gap (the days of history when nobody bought twice) and the days since that purchase:
      one purchase tells nothing of a customer's pace, but they have gone at least that long without another;
    - predicted_clv, churn_probability: from `scores`."""
    return features_from_totals(customer_totals(purchases, products, as_of), scores, as_of)


def features_from_totals(customers: pl.DataFrame, scores: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """`segment_features` from every buying customer's `customer_totals` (in any order: those of partitions of the
    customers, concatenated, give the same features)."""
    history = (as_of - customers.get_column("first").min()).days + 1 if customers.height else 1
    median = customers.get_column("gap").median()
    typical = float(history) if median is None else float(median)
    waited = (pl.lit(as_of) - pl.col("last")).dt.total_days().cast(pl.Float64)
    return (
        customers.join(scores.select("customer_id", "predicted_clv", "churn_probability"), on="customer_id", how="left")
        .select(
            "customer_id",
            "purchases",
            "spend",
            mean_unit_price=pl.col("spend") / pl.col("units"),
            categories="categories",
            mean_gap_days=pl.coalesce("gap", pl.max_horizontal(pl.lit(typical), waited)),
            predicted_clv="predicted_clv",
            churn_probability="churn_probability",
        )
        .cast(FEATURE_SCHEMA)
        .sort("customer_id")
    )


def customer_totals(purchases: pl.DataFrame | pl.LazyFrame, products: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Per customer: purchase days, first and last, spend, units, categories and the mean gap of repeat
    customers (null for one purchase day), over the rows `segment_features` keeps (its arguments). Each
    customer's row depends on their purchases alone, so it can be computed for a partition of the customers."""
    lazy = purchases.lazy()
    has_quantity = "quantity" in lazy.collect_schema().names()
    units = pl.col("quantity").cast(pl.Float64).fill_null(1.0) if has_quantity else pl.lit(1.0)
    rows = (
        lazy.filter(pl.col("purchase_date").cast(pl.Date) <= as_of)
        .join(products.lazy().select("product_id", "category", "price"), on="product_id", how="left")
        .with_columns(units=units)
        .with_columns(paid=pl.coalesce(pl.col("amount").cast(pl.Float64), pl.col("price") * pl.col("units")))
        .filter(pl.col("paid").is_finite() & (pl.col("paid") >= 0) & (pl.col("units") > 0))
    )
    return (
        rows.group_by("customer_id")
        .agg(
            purchases=pl.col("purchase_date").cast(pl.Date).n_unique().cast(pl.Int64),
            first=pl.col("purchase_date").cast(pl.Date).min(),
            last=pl.col("purchase_date").cast(pl.Date).max(),
            # In cents, exactly: a float sum's last digits follow how a parallel group-by splits the rows.
            spend=pl.col("paid").sum().round(2),
            units=pl.col("units").sum(),
            categories=pl.col("category").drop_nulls().n_unique().cast(pl.Int64),
        )
        .with_columns(gap=_gap())
        .collect()
    )


def sorted_customer_totals(purchases: SortedPurchases, categories: pl.Series) -> pl.DataFrame:
    """`customer_totals` of priced keyed purchases on or before the as-of date, sorted by customer and day
    (`features.sorted_purchases`; no quantity, so a row is a unit), by customer row as customer_id, from runs of
    the sorted rows; `categories`: the category of each product key (null: none)."""
    valid = purchases.valid()
    rows, days = valid.starts(by_day=False), valid.starts(by_day=True)
    day_customer = valid.customer[days]
    first_days = run_starts(day_customer)
    last_days = run_ends(first_days, len(days))
    codes = (categories.rank("dense") - 1).fill_null(-1).cast(pl.Int64).to_numpy()
    distinct = np.zeros(len(rows), dtype=np.int64)
    # A bit per category, 64 to a word, OR-ed over each customer's rows: the distinct ones are the bits set.
    for word in range(0, int(codes.max(initial=-1)) + 1, 64):
        in_word = (codes >= word) & (codes < word + 64)
        bits = np.where(in_word, np.left_shift(1, np.clip(codes - word, 0, 63)).astype(np.uint64), np.uint64(0))
        distinct += np.bitwise_count(np.bitwise_or.reduceat(bits[valid.product], rows)).astype(np.int64)
    return (
        pl.DataFrame(
            {
                "customer_id": valid.customer[rows],
                "purchases": last_days - first_days + 1,
                "first": pl.Series(valid.day[days[first_days]]).cast(pl.Date),
                "last": pl.Series(valid.day[days[last_days]]).cast(pl.Date),
                "spend": pl.Series(np.add.reduceat(valid.amount, rows), dtype=pl.Float64).round(2),
                "units": np.diff(np.append(rows, valid.rows)).astype(np.float64),
                "categories": distinct,
            }
        )
        .cast({"purchases": pl.Int64, "categories": pl.Int64})
        .with_columns(gap=_gap())
    )


def _gap() -> pl.Expr:
    """The mean days between a repeat customer's purchase days; null for one purchase day."""
    return pl.when(pl.col("purchases") > 1).then(
        (pl.col("last") - pl.col("first")).dt.total_days() / (pl.col("purchases") - 1)
    )


def sample_order(ids: pl.Series, size: int | None = None) -> np.ndarray:
    """The positions of the first `size` (all when None) of `ids` in (stable hash, id) order: a fixed
    pseudo-random order that does not depend on the rows' order, in which sequential ids (often signup order)
    are spread evenly. Only the candidates up to the size-th hash are sorted."""
    hashed = stable_hash(ids)
    candidates = np.arange(len(hashed))
    if size is not None and size < len(hashed):
        boundary = np.partition(hashed, size - 1)[size - 1]
        candidates = np.flatnonzero(hashed <= boundary)  # ties at the boundary are settled by the id below
    keyed = pl.DataFrame({"hash": hashed[candidates], "id": ids.gather(candidates).cast(pl.String), "row": candidates})
    return keyed.sort("hash", "id").get_column("row").to_numpy()[:size]


@dataclass(frozen=True)
class Scaling:
    """The standardisation, learned on the fitting sample: log1p of counts and money (they are right-skewed, and
    K-means' squared distances would otherwise be ruled by a few big spenders), then z-scores, so that every
    feature weighs the same whatever its unit."""

    mean: np.ndarray
    """Mean of each transformed feature over the sample (nulls left out)."""
    scale: np.ndarray
    """Standard deviation of each; 1 where a feature does not vary, so that it standardises to 0, never NaN."""

    @classmethod
    def fit(cls, matrix: np.ndarray) -> Scaling:
        """The scaling of a `transformed` matrix."""
        present = ~np.isnan(matrix)
        counts = np.maximum(present.sum(axis=0), 1)
        mean = np.where(present, matrix, 0.0).sum(axis=0) / counts
        spread = np.sqrt(np.where(present, (matrix - mean) ** 2, 0.0).sum(axis=0) / counts)
        return cls(mean, np.where(spread > 1e-9 * (1.0 + np.abs(mean)), spread, 1.0))

    def apply(self, matrix: np.ndarray) -> np.ndarray:
        """z-scores of a `transformed` matrix, in place; a missing value is 0, the mean: it pulls toward no
        segment."""
        np.subtract(matrix, self.mean, out=matrix)
        np.divide(matrix, self.scale, out=matrix)
        return np.nan_to_num(matrix, copy=False, nan=0.0)


def transformed(features: pl.DataFrame) -> np.ndarray:
    """The SEGMENT_FEATURES of `features` as a float matrix, one row per customer, with log1p applied to
    LOGGED_FEATURES (negative values clipped at 0 first); null is NaN."""
    columns = [pl.col(name).cast(pl.Float64) for name in SEGMENT_FEATURES]
    logged = [column.clip(lower_bound=0.0).log1p() for column in columns[: len(LOGGED_FEATURES)]]
    return np.ascontiguousarray(features.select(*logged, *columns[len(LOGGED_FEATURES) :]).to_numpy())


def feature_means(features: pl.DataFrame, labels: np.ndarray, groups: int) -> list[dict[str, float | None]]:
    """Per group 0..groups-1 of `labels` (one per row of `features`), each feature's mean in its own units over
    the group's customers that have it; None where there are none (or the group is empty). Summed in customer-id
    order with numpy, because a parallel group-by sums in a varying order and the last digits would vary by run."""
    order = features.select(pl.arg_sort_by("customer_id")).to_series().to_numpy()
    values = features.select(pl.col(SEGMENT_FEATURES).cast(pl.Float64)).to_numpy()[order]
    labels = np.asarray(labels)[order]
    means = []
    for group in range(groups):
        rows = values[labels == group]
        present = ~np.isnan(rows)
        counts = present.sum(axis=0)
        sums = np.where(present, rows, 0.0).sum(axis=0)
        means.append(
            {
                name: float(total / count) if count else None
                for name, total, count in zip(SEGMENT_FEATURES, sums, counts, strict=True)
            }
        )
    return means
