"""Candidate offers for a cohort: routine gaps, replenishment, cross-sells, tier upgrades and bundles.

Each function takes the integer-keyed cohort tables (see `cohort.Cohort`) and returns a candidates frame: one row
per (customer, offer) with the columns of `CANDIDATE_SCHEMA`. They are pure functions over polars frames and
import nothing from LangGraph.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from .configuration import OPPORTUNITY_TYPES, OrchestratorConfig

OfferType = pl.Enum(list(OPPORTUNITY_TYPES))
"""Offer types; sorting on this column follows `OPPORTUNITY_TYPES`, the tie-break order."""

CANDIDATE_SCHEMA: dict[str, pl.DataType] = {
    "customer_key": pl.UInt32(),
    "type": OfferType,
    "product_key": pl.UInt32(),
    "source_key": pl.UInt32(),
    "bundle_keys": pl.List(pl.UInt32()),
    "category_key": pl.UInt32(),
    "tier": pl.Int8(),
    "price": pl.Float64(),
    "list_price": pl.Float64(),
    "margin_value": pl.Float64(),
    "concern_mask": pl.UInt64(),
    "id_order": pl.UInt32(),
    "last_purchase": pl.Date(),
    "days_since_purchase": pl.Int32(),
    "cycle_days": pl.Int32(),
    "due_date": pl.Date(),
    "replenishment_status": pl.String(),
}
"""Candidate columns. A single-product offer has `product_key`; a bundle has `bundle_keys` and a null
`product_key`. `source_key` is the owned product that led to the offer."""

ROUTINE_SCHEMA: dict[str, pl.DataType] = {
    "customer_key": pl.UInt32(),
    "owned_essentials": pl.UInt32(),
    "missing_essentials": pl.List(pl.String()),
    "routine_completeness": pl.Float64(),
}


def empty_candidates() -> pl.DataFrame:
    return pl.DataFrame(schema=CANDIDATE_SCHEMA)


def _conform(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [column for column in CANDIDATE_SCHEMA if column not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=CANDIDATE_SCHEMA[column]).alias(column) for column in missing)
    return frame.select(pl.col(column).cast(dtype) for column, dtype in CANDIDATE_SCHEMA.items())


def _single_offers(pairs: pl.DataFrame, products: pl.DataFrame, offer_type: str) -> pl.DataFrame:
    """Candidates of single products from (customer_key, product_key[, source_key, ...]) rows."""
    facts = products.select(
        "product_key",
        "category_key",
        "tier",
        "price",
        "margin_value",
        "concern_mask",
        "id_order",
        cycle_days="replenishment_cycle_days",
    )
    offers = pairs.join(facts, on="product_key", how="inner").with_columns(
        type=pl.lit(offer_type, dtype=OfferType), list_price=pl.col("price")
    )
    return _conform(offers)


def customer_product_key() -> pl.Expr:
    """(customer_key, product_key) packed into one UInt64: one-column distinct checks are much faster."""
    return pl.col("customer_key").cast(pl.UInt64) * (1 << 32) + pl.col("product_key").cast(pl.UInt64)


def _first_per_customer_product(frame: pl.DataFrame) -> pl.DataFrame:
    """Keeps the first row of each (customer_key, product_key) in the frame's order."""
    return frame.filter(customer_product_key().is_first_distinct())


def essential_keys(categories: pl.DataFrame) -> pl.DataFrame:
    return categories.filter(pl.col("routine_position").is_not_null()).select("category_key", "routine_position")


def routine_gaps(customers: pl.DataFrame, holdings: pl.DataFrame, categories: pl.DataFrame) -> pl.DataFrame:
    """One row per (customer_key, missing essential category_key), in routine order."""
    owned = holdings.select("customer_key", "category_key").unique()
    return (
        customers.select("customer_key")
        .join(essential_keys(categories), how="cross")
        .join(owned, on=["customer_key", "category_key"], how="anti")
        .sort("customer_key", "routine_position")
    )


def routine_status(customers: pl.DataFrame, gaps: pl.DataFrame, categories: pl.DataFrame) -> pl.DataFrame:
    """Per customer: missing essentials (routine order), owned essential count and completeness (0-1)."""
    essentials = essential_keys(categories).height
    missing = (
        gaps.join(categories.select("category_key", "category"), on="category_key")
        .sort("customer_key", "routine_position")
        .group_by("customer_key", maintain_order=True)
        .agg(missing_essentials=pl.col("category"))
    )
    return (
        customers.select("customer_key")
        .join(missing, on="customer_key", how="left", maintain_order="left")
        .with_columns(pl.col("missing_essentials").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .with_columns(owned_essentials=(essentials - pl.col("missing_essentials").list.len()).cast(pl.UInt32))
        .with_columns(routine_completeness=pl.col("owned_essentials") / essentials)
        .select(list(ROUTINE_SCHEMA))
    )


def routine_gap_offers(
    customers: pl.DataFrame, gaps: pl.DataFrame, products: pl.DataFrame, config: OrchestratorConfig
) -> pl.DataFrame:
    """For each missing essential, the one product that fills it best: closest to the customer's preferred
    tier (never more than `max_tiers_above_preference` above it), then most of the customer's concerns
    targeted, then the lower price, then the product id.

    The pick depends only on (category, preferred tier, concerns), so it is made once per distinct combination
    and joined back: a million customers share a few hundred combinations."""
    profile = ["category_key", "preferred_tier", "customer_concerns"]
    wanted = gaps.join(
        customers.select("customer_key", "preferred_tier", customer_concerns="concern_mask"), on="customer_key"
    )
    picks = (
        wanted.select(profile)
        .unique()
        .join(products.select("product_key", "category_key", "tier", "price", "concern_mask", "id_order"), on="category_key")
        .filter(pl.col("tier") <= pl.col("preferred_tier") + config.max_tiers_above_preference)
        .with_columns(
            tier_distance=(pl.col("tier").cast(pl.Int16) - pl.col("preferred_tier").cast(pl.Int16)).abs(),
            concerns_hit=(pl.col("concern_mask") & pl.col("customer_concerns")).bitwise_count_ones(),
        )
        .sort([*profile, "tier_distance", "concerns_hit", "price", "id_order"], descending=[False] * 4 + [True, False, False])
        .unique(profile, keep="first")
        .select(*profile, "product_key")
    )
    pairs = wanted.join(picks, on=profile).select("customer_key", "product_key").sort("customer_key", "product_key")
    return _single_offers(pairs, products, "routine_gap")


def replenishment_offers(holdings: pl.DataFrame, products: pl.DataFrame, as_of: date, due_soon_days: int) -> pl.DataFrame:
    """Owned products whose replenishment cycle has ended (`due`) or ends within `due_soon_days` (`due_soon`)."""
    status = (
        holdings.filter(pl.col("replenishment_cycle_days").is_not_null())
        .with_columns(days_since_purchase=(pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().cast(pl.Int32))
        .with_columns(days_left=pl.col("replenishment_cycle_days") - pl.col("days_since_purchase"))
        .filter(pl.col("days_left") <= due_soon_days)
        .select(
            "customer_key",
            "product_key",
            "last_purchase",
            "days_since_purchase",
            source_key=pl.col("product_key"),
            due_date=pl.col("last_purchase") + pl.duration(days=pl.col("replenishment_cycle_days")),
            replenishment_status=pl.when(pl.col("days_left") <= 0).then(pl.lit("due")).otherwise(pl.lit("due_soon")),
        )
    )
    return _single_offers(status, products, "replenishment")


def cross_sell_offers(holdings: pl.DataFrame, cross_sells: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """Products the catalog recommends next to something the customer owns. When several owned products
    recommend the same one, the source is the one that lists it earliest, then the lowest product id."""
    source_order = products.select(source_key="product_key", source_order="id_order")
    pairs = (
        holdings.select("customer_key", source_key="product_key")
        .join(cross_sells, on="source_key")
        .join(holdings.select("customer_key", "product_key"), on=["customer_key", "product_key"], how="anti")
        .join(source_order, on="source_key")
        .sort("customer_key", "product_key", "position", "source_order")
        .pipe(_first_per_customer_product)
        .select("customer_key", "product_key", "source_key")
    )
    return _single_offers(pairs, products, "product_cross_sell")


def upgrade_eligible(config: OrchestratorConfig) -> pl.Expr:
    """Whether a customer may be offered a higher tier: not too price-sensitive, or loyal enough."""
    blocked = pl.col("price_sensitivity").is_in(list(config.upgrade_blocked_sensitivities))
    return ~blocked | pl.col("loyalty_tier").is_in(list(config.upgrade_loyalty_override))


def tier_upgrade_offers(
    customers: pl.DataFrame, holdings: pl.DataFrame, products: pl.DataFrame, config: OrchestratorConfig
) -> pl.DataFrame:
    """The next-tier product along each owned product's upgrade path, for eligible customers, up to
    `max_tiers_above_preference` above the tier they buy at."""
    eligible = customers.filter(upgrade_eligible(config)).select("customer_key", "preferred_tier")
    pairs = (
        holdings.filter(pl.col("upgrade_key").is_not_null())
        .select("customer_key", source_key="product_key", product_key="upgrade_key")
        .join(eligible, on="customer_key")
        .join(products.select("product_key", target_tier="tier"), on="product_key")
        .filter(pl.col("target_tier") <= pl.col("preferred_tier") + config.max_tiers_above_preference)
        .join(holdings.select("customer_key", "product_key"), on=["customer_key", "product_key"], how="anti")
        .join(products.select(source_key="product_key", source_order="id_order"), on="source_key")
        .sort("customer_key", "product_key", "source_order")
        .pipe(_first_per_customer_product)
        .select("customer_key", "product_key", "source_key")
    )
    return _single_offers(pairs, products, "tier_upgrade")


def bundle_offers(gap_offers: pl.DataFrame, categories: pl.DataFrame, config: OrchestratorConfig) -> pl.DataFrame:
    """A complete-your-routine bundle of a customer's gap products when at least `bundle_min_items` essentials
    are missing, priced at `bundle_discount` off and worth the members' margin value at that discount."""
    keep = 1.0 - config.bundle_discount
    bundles = (
        gap_offers.join(essential_keys(categories), on="category_key")
        .sort("customer_key", "routine_position")
        .group_by("customer_key", maintain_order=True)
        .agg(
            bundle_keys=pl.col("product_key"),
            tier=pl.col("tier").max(),
            list_price=pl.col("price").sum(),
            margin_value=pl.col("margin_value").sum() * keep,
            concern_mask=pl.col("concern_mask").bitwise_or(),
        )
        .filter(pl.col("bundle_keys").list.len() >= config.bundle_min_items)
        .with_columns(
            type=pl.lit("bundle", dtype=OfferType),
            price=(pl.col("list_price") * keep).round(2),
            id_order=pl.lit(0, dtype=pl.UInt32),
        )
    )
    return _conform(bundles)
