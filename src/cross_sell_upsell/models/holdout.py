"""How well the customer models predicted the purchases of a holdout window [as_of, as_of + days), against the
naive predictions a retailer would make without them. A pure function of the scores and the purchases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from cross_sell_upsell.features.purchase_summary import purchase_days
from cross_sell_upsell.models.scoring import fallback_scores

DECILES = 10
"""Groups of the decile table: customers ranked by predicted purchases, cut into this many of (nearly) equal
size."""


@dataclass(frozen=True)
class HoldoutEvaluation:
    """The models' predictions for the holdout window scored against what happened, beside the naive ones: the
    customer's past repeat rate times the window (frequency / T x days), ranking by days since the last
    purchase, and the last purchase + the mean gap (the fallback values of models/scoring.py)."""

    days: int
    """Length of the holdout window in days."""
    customers: int
    """Customers scored: those with a purchase before the as-of date (new customers of the window are left out)."""
    purchases: dict[str, float]
    """predicted_total, actual_total (purchase days in the window), mae and naive_mae (mean absolute error per
    customer of the model's expected purchases and of the naive rate)."""
    churn: dict[str, float | None]
    """AUC of "no purchase in the window" for the churn probability (`auc`), for the days since the last purchase
    (`recency_auc`) and for 1 - P(alive) (`p_alive_auc`); None when every customer bought, or none did."""
    next_order: dict[str, float | None]
    """Over the customers who bought in the window (`customers`): mean absolute days between their first purchase
    there and the expected next order (`mae_days`), and the naive last purchase + mean gap (`naive_mae_days`)."""
    deciles: pl.DataFrame
    """decile (1 = highest predicted purchases), customers, predicted and actual purchases of the decile."""

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain JSON values (issue #11's `holdout` object)."""
        return {
            "days": self.days,
            "customers": self.customers,
            "purchases": self.purchases,
            "churn": self.churn,
            "next_order": self.next_order,
            "deciles": self.deciles.to_dicts(),
        }


def evaluate_holdout(
    scores: pl.DataFrame, summary: pl.DataFrame, purchases: pl.DataFrame | pl.LazyFrame, as_of: date, days: int
) -> HoldoutEvaluation:
    """Scores the predictions `scores` (models/scoring.py, made with a window of `days`) of the customers of
    `summary` (features/purchase_summary.py, both at `as_of`) against `purchases` (customer_id, purchase_date,
    amount) in [as_of, as_of + days), a purchase counted as in the summary (a customer's day)."""
    actual = (
        purchase_days(purchases, as_of, as_of + timedelta(days=days))
        .group_by("customer_id")
        .agg(actual=pl.len().cast(pl.Float64), first_order=pl.col("purchase_date").min())
        .collect()
    )
    naive = fallback_scores(summary, days).select(
        "customer_id", naive_purchases="expected_purchases", naive_next_order="expected_next_order"
    )
    rows = (
        summary.select("customer_id", days_since_last=pl.col("T") - pl.col("recency"))
        .join(scores, on="customer_id", how="left")
        .join(naive, on="customer_id", how="left")
        .join(actual, on="customer_id", how="left")
        .with_columns(pl.col("actual").fill_null(0.0))
    )
    lapsed = pl.col("actual") == 0
    bought = rows.filter(pl.col("first_order").is_not_null())
    return HoldoutEvaluation(
        days=days,
        customers=rows.height,
        purchases=rows.select(
            predicted_total=pl.col("expected_purchases").sum(),
            actual_total=pl.col("actual").sum(),
            mae=(pl.col("expected_purchases") - pl.col("actual")).abs().mean(),
            naive_mae=(pl.col("naive_purchases") - pl.col("actual")).abs().mean(),
        ).row(0, named=True),
        churn={
            "auc": auc(rows, pl.col("churn_probability"), lapsed),
            "recency_auc": auc(rows, pl.col("days_since_last"), lapsed),
            "p_alive_auc": auc(rows, 1.0 - pl.col("p_alive"), lapsed),
        },
        next_order={
            "customers": bought.height,
            "mae_days": _mean_days_apart(bought, "expected_next_order"),
            "naive_mae_days": _mean_days_apart(bought, "naive_next_order"),
        },
        deciles=decile_table(rows),
    )


def auc(rows: pl.DataFrame, score: pl.Expr, positive: pl.Expr) -> float | None:
    """The area under the ROC curve of `score` for `positive`: the probability that a random positive row
    scores above a random negative one, ties counting one half (the Mann-Whitney U statistic over the average
    ranks). None without a positive or without a negative row."""
    counts = rows.select(
        positives=positive.sum(),
        negatives=(~positive).sum(),
        rank_sum=score.rank("average").filter(positive).sum(),
    ).row(0, named=True)
    positives, negatives = counts["positives"], counts["negatives"]
    if positives == 0 or negatives == 0:
        return None
    return (counts["rank_sum"] - positives * (positives + 1) / 2) / (positives * negatives)


def _mean_days_apart(rows: pl.DataFrame, predicted: str) -> float | None:
    return rows.select((pl.col(predicted) - pl.col("first_order")).dt.total_days().abs().mean()).item()


def decile_table(rows: pl.DataFrame) -> pl.DataFrame:
    """decile, customers, predicted, actual: the customers ranked by expected purchases (highest first, ties in
    customer order) and cut into DECILES groups of nearly equal size, each with its predicted and actual
    purchases."""
    ranked = rows.with_columns(
        decile=(pl.col("expected_purchases").rank("ordinal", descending=True).cast(pl.Int64) - 1) * DECILES // pl.len()
        + 1
    )
    return (
        ranked.group_by("decile")
        .agg(customers=pl.len(), predicted=pl.col("expected_purchases").sum(), actual=pl.col("actual").sum())
        .sort("decile")
    )
