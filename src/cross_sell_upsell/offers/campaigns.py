"""The campaign step: the boost of offers for promoted products, its cap, and the rationale's campaign clause.

An offer for a product a campaign covers (the product itself or its category), while the campaign runs
(start <= as-of <= end) and targets the customer (their id, their segment, or everyone when the campaign names
no target), carries the campaign: `campaign_id`, `campaign_name`, `campaign_discount` and `campaign_boost`, the
multiplier of its ranking value. Overlapping campaigns on one product: the larger boost wins (then the lower
campaign id). Bundles carry no campaign: they have their own discount.

The cap: a customer's boosted offers are at most `campaigns.slots(top_n)` (floor of `max_share` x `top_n`),
the best-ranked once boosted; the others keep their campaign's name and discount (the price is still
discounted) but lose the boost, so promotions never take more of the list than the cap by the boost alone.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.campaigns import Campaigns
from cross_sell_upsell.offers.keys import lookup, rank_in_runs

CAMPAIGN_COLUMNS: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "campaign_name": pl.String(),
    "campaign_discount": pl.Float64(),
    "campaign_boost": pl.Float64(),
}
"""What every offer says of its campaign: null (and a boost of 1.0) for an offer no campaign covers."""


def _no_campaign(offers: pl.DataFrame) -> pl.DataFrame:
    return offers.with_columns(
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in CAMPAIGN_COLUMNS.items() if name != "campaign_boost"
    ).with_columns(campaign_boost=pl.lit(1.0))


def campaign_matches(
    offers: pl.DataFrame, campaigns: pl.DataFrame, customers: pl.DataFrame, products: pl.DataFrame
) -> pl.DataFrame:
    """Per offer row (`row`, its position in `offers`) the campaign that wins it: campaign_id, campaign_name,
    campaign_discount, boost. Only rows some campaign covers and targets; `campaigns` are rows running on the
    as-of date (`data.campaigns.CAMPAIGN_SCHEMA`)."""
    single = offers.select(
        row=pl.int_range(pl.len(), dtype=pl.UInt32),
        product_id=lookup(products.get_column("product_id"), "product_key"),
        category=lookup(products.get_column("category"), "product_key"),
        customer_id=lookup(customers.get_column("customer_id"), "customer_key"),
        segment=lookup(customers.get_column("segment"), "customer_key"),
    ).filter(pl.col("product_id").is_not_null())
    items = campaigns.filter(pl.col("product_id").is_not_null() | pl.col("category").is_not_null()).select(
        "campaign_id", "product_id", "category", campaign_name="name", campaign_discount="discount", boost="boost"
    )
    by_product = single.join(items.filter(pl.col("product_id").is_not_null()).drop("category"), on="product_id")
    by_category = single.join(
        items.filter(pl.col("product_id").is_null()).drop("product_id"), on="category", how="inner"
    )
    pairs = pl.concat([by_product.select(sorted(by_product.columns)), by_category.select(sorted(by_product.columns))])
    targets = campaigns.filter(pl.col("customer_id").is_not_null() | pl.col("segment").is_not_null())
    by_customer = targets.select("campaign_id", "customer_id").drop_nulls().unique()
    by_segment = targets.select("campaign_id", segment=pl.col("segment").str.to_lowercase()).drop_nulls().unique()
    targeted = pl.col("campaign_id").is_in(targets.get_column("campaign_id").unique().implode())
    pairs = pairs.filter(
        ~targeted
        | pl.struct("campaign_id", "customer_id").is_in(by_customer.select(pl.struct(pl.all())).to_series().implode())
        | pl.struct("campaign_id", pl.col("segment").str.to_lowercase()).is_in(
            by_segment.select(pl.struct(pl.all())).to_series().implode()
        )
    )
    return (
        pairs.sort("row", "boost", "campaign_id", descending=[False, True, False])
        .unique("row", keep="first", maintain_order=True)
        .select("row", "campaign_id", "campaign_name", "campaign_discount", "boost")
    )


def boost(
    offers: pl.DataFrame,
    campaigns: Campaigns | None,
    as_of: date,
    settings: OrchestratorConfig,
    ranking_column: str = "score",
    *,
    customers: pl.DataFrame,
    products: pl.DataFrame,
) -> pl.DataFrame:
    """Scored offers in customer and rank order (`scoring.score_offers`) with CAMPAIGN_COLUMNS, the ranking
    value multiplied by `campaign_boost` (a score stays rounded to cents) and the ranks redrawn: boosted value,
    then the former rank. `customers` and `products` are the cohort's (keyed like the offers). See the module
    docstring for the match, the overlap and the cap."""
    if campaigns is None:
        return _no_campaign(offers)
    running = campaigns.rows.filter((pl.col("start_date") <= as_of) & (pl.col("end_date") >= as_of))
    matches = campaign_matches(offers, running, customers, products)
    if matches.is_empty():
        return _no_campaign(offers)
    matched = offers.with_row_index("row").join(matches, on="row", how="left", maintain_order="left")
    multiplier = pl.col("boost").fill_null(1.0)
    boosted = pl.col(ranking_column) * multiplier
    # The cap: the customer's boosted offers in their boosted order; past the slots the boost is dropped.
    capped = matched.with_columns(
        kept=(pl.col("boost").is_not_null() & (multiplier != 1.0))
        .cast(pl.UInt32)
        .cum_sum()
        .over("customer_key", order_by=[-boosted, pl.col("rank")])
        <= settings.campaigns.slots(settings.top_n)
    ).with_columns(campaign_boost=pl.when("kept").then(multiplier).otherwise(1.0))
    value = pl.col(ranking_column) * pl.col("campaign_boost")
    ranked = capped.with_columns((value.round(2) if ranking_column == "score" else value).alias(ranking_column))
    ordered = ranked.sort(["customer_key", ranking_column, "rank"], descending=[False, True, False])
    return ordered.drop("row", "boost", "kept").with_columns(
        pl.col("customer_key").set_sorted(),
        rank=rank_in_runs(),
    )


def campaign_rationales(opportunities: pl.DataFrame) -> pl.DataFrame:
    """The rationale of an offer a campaign covers ends with the campaign and its discount: " On promotion in
    Spring Glow: 15% off." (without a discount: " On promotion in Spring Glow.")."""
    discount = (pl.col("campaign_discount") * 100).round(1)
    clause = pl.format(
        " On promotion in {}{}.",
        pl.col("campaign_name"),
        pl.when(discount.is_not_null())
        .then(pl.format(": {}% off", discount.cast(pl.String).str.strip_suffix(".0")))
        .otherwise(pl.lit("")),
    )
    covered = pl.col("campaign_id").is_not_null()
    return opportunities.with_columns(
        rationale=pl.when(covered).then(pl.concat_str("rationale", clause, ignore_nulls=True)).otherwise("rationale")
    )
