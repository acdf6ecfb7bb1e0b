"""Candidate offers for a cohort: routine gaps, replenishment, cross-sells, tier upgrades and bundles.

Each function takes cohort frames and returns an offers frame with the columns of `OFFER_SCHEMA`, one row
per (customer, offer). They are pure functions over polars frames and import nothing from LangGraph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

from .configuration import OrchestratorConfig

OFFER_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "offer_id": pl.String(),
    "type": pl.String(),
    "product_ids": pl.List(pl.String()),
    "name": pl.String(),
    "category": pl.String(),
    "tier": pl.Int8(),
    "price": pl.Float64(),
    "list_price": pl.Float64(),
    "margin_value": pl.Float64(),
    "target_concerns": pl.List(pl.String()),
    "source_product_id": pl.String(),
    "source_name": pl.String(),
    "last_purchase": pl.Date(),
    "days_since_purchase": pl.Int32(),
    "cycle_days": pl.Int32(),
    "due_date": pl.Date(),
    "replenishment_status": pl.String(),
    "bundle_categories": pl.List(pl.String()),
}
"""Columns every candidate frame has. Offers of one product use its id as `offer_id`; a bundle gets its own id."""

ROUTINE_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "owned_essentials": pl.UInt32(),
    "missing_essentials": pl.List(pl.String()),
    "routine_completeness": pl.Float64(),
}


def empty_offers() -> pl.DataFrame:
    return pl.DataFrame(schema=OFFER_SCHEMA)


def with_margin_value(products: pl.DataFrame, margin_multipliers: Mapping[str, float]) -> pl.DataFrame:
    """Adds `margin_value` = price x the margin level's multiplier: what a sale is worth to the retailer."""
    multiplier = pl.col("margin").replace_strict(dict(margin_multipliers), default=1.0, return_dtype=pl.Float64)
    return products.with_columns(margin_value=pl.col("price") * multiplier)


def _essentials(categories: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"category": list(categories), "routine_position": list(range(len(categories)))},
        schema={"category": pl.String, "routine_position": pl.Int32},
    )


def routine_gaps(customers: pl.DataFrame, holdings: pl.DataFrame, essentials: Sequence[str]) -> pl.DataFrame:
    """One row per (customer, missing essential category), in routine order."""
    owned = holdings.select("customer_id", "category").unique()
    return (
        customers.select("customer_id")
        .join(_essentials(essentials), how="cross")
        .join(owned, on=["customer_id", "category"], how="anti")
        .sort("customer_id", "routine_position")
    )


def routine_status(customers: pl.DataFrame, gaps: pl.DataFrame, essentials: Sequence[str]) -> pl.DataFrame:
    """Per customer: missing essentials (routine order), owned essential count and completeness (0-1)."""
    missing = gaps.group_by("customer_id", maintain_order=True).agg(missing_essentials=pl.col("category"))
    return (
        customers.select("customer_id")
        .join(missing, on="customer_id", how="left", maintain_order="left")
        .with_columns(pl.col("missing_essentials").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .with_columns(owned_essentials=(len(essentials) - pl.col("missing_essentials").list.len()).cast(pl.UInt32))
        .with_columns(routine_completeness=pl.col("owned_essentials") / len(essentials))
        .select(list(ROUTINE_SCHEMA))
    )


def _preferred_tier(customers: pl.DataFrame, holdings: pl.DataFrame) -> pl.DataFrame:
    """The tier a customer buys at: the stated preference, else the highest tier owned, else Tier 1."""
    highest_owned = holdings.group_by("customer_id").agg(highest_owned_tier=pl.col("tier").max())
    return customers.select("customer_id", "tier_preference", "skin_concerns").join(
        highest_owned, on="customer_id", how="left"
    ).with_columns(
        preferred_tier=pl.coalesce("tier_preference", "highest_owned_tier", pl.lit(1, dtype=pl.Int8)).cast(pl.Int8)
    )


def _product_offers(pairs: pl.DataFrame, products: pl.DataFrame, offer_type: str) -> pl.DataFrame:
    """Offers of single products from (customer_id, product_id[, source_product_id, ...]) rows."""
    if "source_product_id" not in pairs.columns:
        pairs = pairs.with_columns(source_product_id=pl.lit(None, dtype=pl.String))
    source_names = products.select(source_product_id="product_id", source_name="name")
    offers = (
        pairs.join(products, on="product_id", how="inner")
        .join(source_names, on="source_product_id", how="left")
        .with_columns(
            offer_id=pl.col("product_id"),
            type=pl.lit(offer_type),
            product_ids=pl.concat_list("product_id"),
            list_price=pl.col("price"),
            cycle_days=pl.col("replenishment_cycle_days"),
        )
    )
    missing = [column for column in OFFER_SCHEMA if column not in offers.columns]
    offers = offers.with_columns(pl.lit(None, dtype=OFFER_SCHEMA[column]).alias(column) for column in missing)
    return offers.select(pl.col(column).cast(dtype) for column, dtype in OFFER_SCHEMA.items())


def routine_gap_offers(
    customers: pl.DataFrame,
    holdings: pl.DataFrame,
    gaps: pl.DataFrame,
    products: pl.DataFrame,
    config: OrchestratorConfig,
) -> pl.DataFrame:
    """For each missing essential, the one product that fills it best: closest to the customer's preferred
    tier (never more than `max_tiers_above_preference` above it), then most of the customer's concerns
    targeted, then the lower price, then the product id."""
    preference = _preferred_tier(customers, holdings)
    picks = (
        gaps.join(preference, on="customer_id", how="inner")
        .join(products.select("product_id", "category", "tier", "price", "target_concerns"), on="category")
        .filter(pl.col("tier") <= pl.col("preferred_tier") + config.max_tiers_above_preference)
        .with_columns(
            tier_distance=(pl.col("tier").cast(pl.Int16) - pl.col("preferred_tier").cast(pl.Int16)).abs(),
            concerns_hit=pl.col("target_concerns").list.set_intersection("skin_concerns").list.len(),
        )
        .sort(
            ["customer_id", "routine_position", "tier_distance", "concerns_hit", "price", "product_id"],
            descending=[False, False, False, True, False, False],
        )
        .unique(["customer_id", "category"], keep="first", maintain_order=True)
        .select("customer_id", "product_id")
    )
    return _product_offers(picks, products, "routine_gap")


def replenishment_offers(holdings: pl.DataFrame, as_of: date, due_soon_days: int) -> pl.DataFrame:
    """Owned products whose replenishment cycle has ended (`due`) or ends within `due_soon_days` (`due_soon`)."""
    status = (
        holdings.filter(pl.col("replenishment_cycle_days").is_not_null())
        .with_columns(days_since_purchase=(pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().cast(pl.Int32))
        .with_columns(
            due_date=pl.col("last_purchase") + pl.duration(days=pl.col("replenishment_cycle_days")),
            days_left=pl.col("replenishment_cycle_days") - pl.col("days_since_purchase"),
        )
        .filter(pl.col("days_left") <= due_soon_days)
        .with_columns(
            replenishment_status=pl.when(pl.col("days_left") <= 0).then(pl.lit("due")).otherwise(pl.lit("due_soon")),
            source_product_id=pl.col("product_id"),
        )
        .select(
            "customer_id",
            "product_id",
            "source_product_id",
            "last_purchase",
            "days_since_purchase",
            "due_date",
            "replenishment_status",
        )
    )
    return _product_offers(status, _products_of(holdings), "replenishment")


def _products_of(holdings: pl.DataFrame) -> pl.DataFrame:
    return holdings.drop("customer_id", "last_purchase").unique("product_id")


def cross_sell_offers(holdings: pl.DataFrame, cross_sells: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """Products the catalog recommends next to something the customer owns. When several owned products
    recommend the same one, the source is the one that lists it earliest, then the lowest product id."""
    pairs = (
        holdings.select("customer_id", source_product_id="product_id")
        .join(cross_sells.rename({"product_id": "source_product_id"}), on="source_product_id")
        .rename({"cross_sell_id": "product_id"})
        .join(holdings.select("customer_id", "product_id"), on=["customer_id", "product_id"], how="anti")
        .sort("customer_id", "product_id", "position", "source_product_id")
        .unique(["customer_id", "product_id"], keep="first", maintain_order=True)
        .select("customer_id", "product_id", "source_product_id")
    )
    return _product_offers(pairs, products, "product_cross_sell")


def upgrade_eligible(config: OrchestratorConfig) -> pl.Expr:
    """Whether a customer may be offered a higher tier: not too price-sensitive, or loyal enough."""
    return ~pl.col("price_sensitivity").is_in(list(config.upgrade_blocked_sensitivities)) | pl.col(
        "loyalty_tier"
    ).is_in(list(config.upgrade_loyalty_override))


def tier_upgrade_offers(
    customers: pl.DataFrame, holdings: pl.DataFrame, products: pl.DataFrame, config: OrchestratorConfig
) -> pl.DataFrame:
    """The next-tier product along each owned product's upgrade path, for eligible customers, up to
    `max_tiers_above_preference` above the tier they buy at."""
    eligible = customers.filter(upgrade_eligible(config)).select("customer_id")
    preference = _preferred_tier(customers, holdings).select("customer_id", "preferred_tier")
    pairs = (
        holdings.join(eligible, on="customer_id", how="semi")
        .filter(pl.col("upgrade_to").is_not_null())
        .select("customer_id", source_product_id="product_id", product_id="upgrade_to")
        .join(products.select("product_id", target_tier="tier"), on="product_id")
        .join(preference, on="customer_id")
        .filter(pl.col("target_tier") <= pl.col("preferred_tier") + config.max_tiers_above_preference)
        .join(holdings.select("customer_id", "product_id"), on=["customer_id", "product_id"], how="anti")
        .sort("customer_id", "product_id", "source_product_id")
        .unique(["customer_id", "product_id"], keep="first", maintain_order=True)
        .select("customer_id", "product_id", "source_product_id")
    )
    return _product_offers(pairs, products, "tier_upgrade")


def bundle_offers(gap_offers: pl.DataFrame, config: OrchestratorConfig) -> pl.DataFrame:
    """A complete-your-routine bundle of a customer's gap products when at least `bundle_min_items` essentials
    are missing, priced at `bundle_discount` off and worth the members' margin value at that discount."""
    keep = 1.0 - config.bundle_discount
    routine_order = {category: position for position, category in enumerate(config.essential_categories)}
    bundles = (
        gap_offers.sort("customer_id", pl.col("category").replace_strict(routine_order, default=len(routine_order)))
        .group_by("customer_id", maintain_order=True)
        .agg(
            product_ids=pl.col("offer_id"),
            bundle_categories=pl.col("category"),
            tier=pl.col("tier").max(),
            list_price=pl.col("price").sum(),
            margin_value=pl.col("margin_value").sum() * keep,
            target_concerns=pl.col("target_concerns").list.explode(keep_nulls=False, empty_as_null=False).unique(maintain_order=True),
        )
        .filter(pl.col("product_ids").list.len() >= config.bundle_min_items)
        .with_columns(
            offer_id=pl.lit("BUNDLE-") + pl.col("product_ids").list.join("-"),
            type=pl.lit("bundle"),
            name=pl.lit("Complete Your Routine Bundle"),
            category=pl.lit("bundle"),
            price=(pl.col("list_price") * keep).round(2),
        )
    )
    missing = [column for column in OFFER_SCHEMA if column not in bundles.columns]
    bundles = bundles.with_columns(pl.lit(None, dtype=OFFER_SCHEMA[column]).alias(column) for column in missing)
    return bundles.select(pl.col(column).cast(dtype) for column, dtype in OFFER_SCHEMA.items())
