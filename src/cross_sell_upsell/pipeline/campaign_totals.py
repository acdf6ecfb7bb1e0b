"""The batch's campaign figures: per campaign, the offers it covered and boosted, the customers it reached in
their top N, and the value of the top N with and without the boost. Summed over chunks like every total.

Until offers carry an expected revenue (the acceptance model's), an offer's value is its price after the
campaign's discount: the figures say what the boost puts in front of customers, not what they will buy. The
order "without the boost" is the made offers ranked by their ranking value divided by `campaign_boost` (ties:
the boosted rank), so it does not replay `one_offer_per_need`, which could keep another offer of a routine
step without the boost.
"""

from __future__ import annotations

import polars as pl

CAMPAIGN_TOTALS_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "campaign_name": pl.String(),
    "offers": pl.Int64(),
    "boosted": pl.Int64(),
    "customers": pl.Int64(),
    "top_with": pl.Int64(),
    "top_without": pl.Int64(),
    "value_with_cents": pl.Int64(),
    "value_without_cents": pl.Int64(),
}
"""One row per campaign, and one with a null campaign_id for every offer of the top N: offers made (covered by
the campaign), offers boosted, customers with one of them in their top N, those offers in the top N with the
boost and without it, and their value (price after the discount) in cents."""

ALL_OFFERS = "all offers"
"""The name of the row over every offer of the top N (its campaign_id is null)."""


def campaign_counts(opportunities: pl.DataFrame, top_n: int, ranking_column: str = "score") -> pl.DataFrame:
    """One chunk's CAMPAIGN_TOTALS_SCHEMA rows from the graph's opportunities (empty when no offer has a
    campaign, or the frame has no campaign columns: offers made without the campaign step)."""
    if "campaign_id" not in opportunities.columns or opportunities.get_column("campaign_id").is_null().all():
        return pl.DataFrame(schema=CAMPAIGN_TOTALS_SCHEMA)
    unboosted = pl.col(ranking_column) / pl.col("campaign_boost")
    frame = opportunities.select(
        "customer_id",
        "campaign_id",
        "campaign_name",
        boosted=pl.col("campaign_boost") != 1.0,
        top_with=pl.col("rank") <= top_n,
        top_without=pl.int_range(1, pl.len() + 1).over("customer_id", order_by=[-unboosted, pl.col("rank")]) <= top_n,
        cents=(pl.col("price") * (1.0 - pl.col("campaign_discount").fill_null(0.0)) * 100).round().cast(pl.Int64),
    )
    per_campaign = frame.filter(pl.col("campaign_id").is_not_null()).group_by("campaign_id", "campaign_name")
    everything = frame.with_columns(campaign_id=pl.lit(None, dtype=pl.String), campaign_name=pl.lit(ALL_OFFERS))
    return pl.concat(
        [
            per_campaign.agg(_figures()),
            everything.group_by("campaign_id", "campaign_name").agg(_figures()),
        ]
    ).cast(CAMPAIGN_TOTALS_SCHEMA)


def _figures() -> list[pl.Expr]:
    return [
        pl.len().alias("offers"),
        pl.col("boosted").sum().alias("boosted"),
        pl.col("customer_id").filter("top_with").n_unique().alias("customers"),
        pl.col("top_with").sum(),
        pl.col("top_without").sum(),
        pl.col("cents").filter("top_with").sum().alias("value_with_cents"),
        pl.col("cents").filter("top_without").sum().alias("value_without_cents"),
    ]


def campaign_table(counts: pl.DataFrame) -> pl.DataFrame:
    """The report's table: per campaign (most boosted first, then the id), then the all-offers row, with the
    value in dollars (`value_with`, `value_without`, `value_change`)."""
    return (
        counts.sort(
            pl.col("campaign_id").is_null(), "boosted", "campaign_id", descending=[False, True, False], nulls_last=True
        )
        .with_columns(
            value_with=pl.col("value_with_cents") / 100,
            value_without=pl.col("value_without_cents") / 100,
            value_change=(pl.col("value_with_cents") - pl.col("value_without_cents")) / 100,
        )
        .drop("value_with_cents", "value_without_cents")
    )
