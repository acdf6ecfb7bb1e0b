"""The routine and the candidate offers for a cohort: routine gaps, replenishment, the catalog's cross-sells, tier
upgrades and bundles (the learned cross-sells, from basket rules and similar customers, are in `learned.py`).

Each function takes the integer-keyed cohort tables (see `cohort.Cohort`) and returns a narrow frame: candidates
have one row per (customer, offer) with the columns of `CANDIDATE_SCHEMA`. They are pure functions over polars
frames and import nothing from LangGraph.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.offers.keys import customer_product_key, lookup
from cross_sell_upsell.registry import OPPORTUNITY_SOURCES, OPPORTUNITY_TYPES

OfferType = pl.Enum(list(OPPORTUNITY_TYPES))
"""Offer types; sorting on this column follows `registry.OPPORTUNITY_TYPES`, the tie-break order."""


OfferSource = pl.Enum(list(OPPORTUNITY_SOURCES))
"""Which signal proposed an offer; sorting follows `registry.OPPORTUNITY_SOURCES` (catalog first)."""


ReplenishmentStatus = pl.Enum(["due", "due_soon", "win_back"])
"""A restock is due (its cycle has ended), due soon, or, for a customer who has most likely left, a win-back
offer (`win_back_restocks`)."""


CANDIDATE_SCHEMA: dict[str, pl.DataType] = {
    "customer_key": pl.UInt32(),
    "type": OfferType,
    "source": OfferSource,
    "product_key": pl.UInt32(),
    "source_key": pl.UInt32(),
    "essential_bit": pl.UInt64(),
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
    "replenishment_status": ReplenishmentStatus,
    "evidence_share": pl.Float64(),
    "link": pl.Float64(),
    "rule_lift": pl.Float64(),
}
"""Candidate columns. A single-product offer has `product_key`; a bundle has a null `product_key` (its members
are in `bundle_keys`, see `bundle_offers`). `source_key` is the owned product that led to the offer. Learned
offers carry `evidence_share` (0-1, see `learned_offers` and `replenishment_offers`), `link` (the strength of
the link from `source_key`: a rule's confidence or a neighbour's similarity) and `rule_lift` (the rule's lift)."""


def conformed(frame: pl.DataFrame, schema: dict[str, pl.DataType] = CANDIDATE_SCHEMA) -> pl.DataFrame:
    """`frame` with exactly the columns of `schema`, in order and type; those it lacks null."""
    missing = [column for column in schema if column not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=schema[column]).alias(column) for column in missing)
    return frame.select(pl.col(column).cast(dtype) for column, dtype in schema.items())


def single_offers(pairs: pl.DataFrame, products: pl.DataFrame, offer_type: str, source: str) -> pl.DataFrame:
    """Candidates of single products from (customer_key, product_key[, source_key, ...]) rows."""
    keys = pairs.get_column("product_key")
    facts = {
        column: products.get_column(column).gather(keys)
        for column in ("essential_bit", "tier", "price", "margin_value", "concern_mask", "id_order")
    }
    offers = pairs.with_columns(
        type=pl.lit(offer_type, dtype=OfferType),
        source=pl.lit(source, dtype=OfferSource),
        list_price=facts["price"],
        cycle_days=products.get_column("replenishment_cycle_days").gather(keys),
        **facts,
    )
    return conformed(offers)


def _first_per_customer_product(frame: pl.DataFrame, preference: pl.Expr) -> pl.DataFrame:
    """The row of each (customer_key, product_key) lowest in `preference`, in customer and product order. One
    packed key to sort on, whose changes then mark the first rows: no multi-column sort, no hashing."""
    offer = customer_product_key()
    return frame.sort(offer, preference).filter(offer.ne_missing(offer.shift()))


def routine_status(
    customers: pl.DataFrame, holdings: pl.DataFrame, products: pl.DataFrame, essentials: Sequence[str]
) -> pl.DataFrame:
    """Per customer: `owned_mask` and `missing_mask` (bit i = essentials[i]), owned essential count, missing
    essentials by name in routine order, and completeness (owned / essentials, 0-1; 1 without a routine)."""
    every_essential = (1 << len(essentials)) - 1
    owned = (
        holdings.select("customer_key")
        .with_columns(bit=products.get_column("essential_bit").gather(holdings.get_column("product_key")))
        .group_by("customer_key")
        .agg(owned_mask=pl.col("bit").bitwise_or())
    )
    masks = (
        customers.select("customer_key")
        .join(owned, on="customer_key", how="left", maintain_order="left")
        .with_columns(pl.col("owned_mask").fill_null(0).cast(pl.UInt64))
        .with_columns(missing_mask=(pl.lit(every_essential, dtype=pl.UInt64) - pl.col("owned_mask")))
    )
    # Customers share a few dozen masks: spell each distinct one out once rather than once per customer.
    names = masks.select(pl.col("missing_mask").unique()).with_columns(
        missing_essentials=pl.concat_list(
            pl.when(pl.col("missing_mask") & (1 << position) != 0).then(pl.lit(category))
            for position, category in enumerate(essentials)
        ).list.drop_nulls()
        if essentials
        else pl.lit([], dtype=pl.List(pl.String))
    )
    return (
        masks.join(names, on="missing_mask", how="left", maintain_order="left")
        .with_columns(owned_essentials=pl.col("owned_mask").bitwise_count_ones().cast(pl.UInt32))
        .with_columns(
            routine_completeness=pl.col("owned_essentials") * (1.0 / len(essentials)) if essentials else pl.lit(1.0)
        )
    )


def routine_gaps(routine: pl.DataFrame, essentials: Sequence[str]) -> pl.DataFrame:
    """One row per (customer_key, missing essential `routine_position`), in routine order."""
    if not essentials:
        return pl.DataFrame(schema={"customer_key": pl.UInt32, "routine_position": pl.Int8})
    return pl.concat(
        [
            routine.filter(pl.col("missing_mask") & (1 << position) != 0).select(
                "customer_key", routine_position=pl.lit(position, dtype=pl.Int8)
            )
            for position in range(len(essentials))
        ]
    ).sort("customer_key", "routine_position")


def routine_gap_offers(
    customers: pl.DataFrame, gaps: pl.DataFrame, products: pl.DataFrame, config: OrchestratorConfig
) -> pl.DataFrame:
    """For each missing essential, the one product that fills it best: closest to the customer's preferred
    tier (never more than `max_tiers_above_preference` above it), then most of the customer's concerns
    targeted, then the lower price, then the product id.

    The pick depends only on (category, preferred tier, concerns), so it is made once per distinct combination
    and joined back: a million customers share a few hundred combinations."""
    profile = ["routine_position", "preferred_tier", "customer_concerns"]
    keys = gaps.get_column("customer_key")
    wanted = gaps.with_columns(
        preferred_tier=customers.get_column("preferred_tier").gather(keys),
        customer_concerns=customers.get_column("concern_mask").gather(keys),
    )
    candidates = products.filter(pl.col("routine_position").is_not_null()).select(
        "product_key", "routine_position", "tier", "price", "concern_mask", "id_order"
    )
    picks = (
        wanted.select(profile)
        .unique()
        .join(candidates, on="routine_position")
        .filter(pl.col("tier") <= pl.col("preferred_tier") + config.max_tiers_above_preference)
        .with_columns(
            tier_distance=(pl.col("tier").cast(pl.Int16) - pl.col("preferred_tier").cast(pl.Int16)).abs(),
            concerns_hit=(pl.col("concern_mask") & pl.col("customer_concerns")).bitwise_count_ones(),
        )
        .sort(
            [*profile, "tier_distance", "concerns_hit", "price", "id_order"],
            descending=[False] * 4 + [True, False, False],
        )
        .unique(profile, keep="first")
        .select(*profile, "product_key")
    )
    pairs = (
        wanted.join(picks, on=profile)
        .select("customer_key", "product_key", "routine_position")
        .sort("customer_key", "routine_position")
        .drop("routine_position")
    )
    return single_offers(pairs, products, "routine_gap", "routine_gap")


def replenishment_offers(
    holdings: pl.DataFrame, products: pl.DataFrame, as_of: date, due_soon_days: int, habits: bool = False
) -> pl.DataFrame:
    """Owned products whose replenishment cycle has ended (`due`) or ends within `due_soon_days` (`due_soon`).

    With `habits` (learned signals on), `evidence_share` is how habitually the customer rebuys the product: its
    `habit` (recency-weighted repeat purchases, see `holdings.holdings`) / the customer's highest habit:
    1 for their staple, 0 for a product bought on one day only."""
    cycle = products.get_column("replenishment_cycle_days").gather(holdings.get_column("product_key"))
    strongest = pl.col("habit").max().over("customer_key")
    habit = pl.when(strongest > 0).then(pl.col("habit") / strongest).otherwise(0.0) if habits else pl.lit(None)
    status = (
        holdings.with_columns(cycle=cycle, evidence_share=habit)
        .filter(pl.col("cycle").is_not_null())
        .with_columns(days_since_purchase=(pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().cast(pl.Int32))
        .with_columns(days_left=pl.col("cycle") - pl.col("days_since_purchase"))
        .filter(pl.col("days_left") <= due_soon_days)
        .select(
            "customer_key",
            "product_key",
            "last_purchase",
            "days_since_purchase",
            "evidence_share",
            source_key=pl.col("product_key"),
            due_date=pl.col("last_purchase") + pl.duration(days=pl.col("cycle")),
            replenishment_status=pl.when(pl.col("days_left") <= 0).then(pl.lit("due")).otherwise(pl.lit("due_soon")),
        )
    )
    return single_offers(status, products, "replenishment", "replenishment")


def win_back_restocks(
    restocks: pl.DataFrame, holdings: pl.DataFrame, lapsed: pl.Series, overdue_cycles: float
) -> pl.DataFrame:
    """The restock offers (`replenishment_offers`) as a customer who has most likely left should get them: for
    a customer flagged in `lapsed` (by customer_key), restocks last bought more than `overdue_cycles` cycles ago
    are no reminders; the favourite of them (bought on the most days, then the latest bought, then the lowest
    product id) becomes their one `win_back` offer and the others are dropped. Other customers' restocks, and
    a lapsed customer's more recent ones, stay as they are."""
    # (customer, product) pairs as one packed key: one-column joins and look-ups are much faster.
    purchase_days = holdings.select(offer=customer_product_key(), favourite_days=pl.col("purchase_days").cast(pl.Int64))
    overdue = lookup(lapsed, "customer_key") & (pl.col("days_since_purchase") > overdue_cycles * pl.col("cycle_days"))
    marked = restocks.with_columns(offer=customer_product_key()).join(
        purchase_days, on="offer", how="left", maintain_order="left"
    )
    favourites = (
        marked.filter(overdue)
        .sort(["customer_key", "favourite_days", "last_purchase", "id_order"], descending=[False, True, True, False])
        .unique("customer_key", keep="first", maintain_order=True)
        .get_column("offer")
    )
    win_back = pl.col("offer").is_in(favourites.implode())
    return (
        marked.filter(~overdue | win_back)
        .with_columns(
            replenishment_status=pl.when(win_back)
            .then(pl.lit("win_back", dtype=ReplenishmentStatus))
            .otherwise("replenishment_status")
        )
        .drop("offer", "favourite_days")
    )


def cross_sell_offers(holdings: pl.DataFrame, cross_sells: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """Products the catalog recommends next to something the customer owns. When several owned products
    recommend the same one, the source is the one that lists it earliest, then the lowest product id."""
    source_order = lookup(products.get_column("id_order"), "source_key").cast(pl.UInt64)
    pairs = (
        holdings.select("customer_key", source_key="product_key")
        .join(cross_sells, on="source_key")
        .filter(~customer_product_key().is_in(_owned_keys(holdings)))
        # The earliest listing, then the lowest source id, as one integer.
        .pipe(_first_per_customer_product, pl.col("position").cast(pl.UInt64) * (1 << 32) + source_order)
        .select("customer_key", "product_key", "source_key")
    )
    return single_offers(pairs, products, "product_cross_sell", "catalog")


def _owned_keys(holdings: pl.DataFrame) -> pl.Expr:
    return pl.lit(holdings.select(customer_product_key()).to_series()).implode()


def upgrade_eligible(config: OrchestratorConfig) -> pl.Expr:
    """Whether a customer may be offered a higher tier: not too price-sensitive, or loyal enough."""
    blocked = pl.col("price_sensitivity").is_in(list(config.upgrade_blocked_sensitivities))
    return ~blocked | pl.col("loyalty_tier").is_in(list(config.upgrade_loyalty_override))


def tier_upgrade_offers(
    customers: pl.DataFrame, holdings: pl.DataFrame, products: pl.DataFrame, config: OrchestratorConfig
) -> pl.DataFrame:
    """The next-tier product along each owned product's upgrade path, for eligible customers, up to
    `max_tiers_above_preference` above the tier they buy at."""
    customer_keys = holdings.get_column("customer_key")
    upgrade_to = products.get_column("upgrade_key").gather(holdings.get_column("product_key"))
    reach = customers.get_column("preferred_tier").cast(pl.Int16) + config.max_tiers_above_preference
    pairs = (
        holdings.select("customer_key", source_key="product_key")
        .with_columns(
            product_key=upgrade_to,
            eligible=customers.select(upgrade_eligible(config)).to_series().gather(customer_keys),
            reach=reach.gather(customer_keys),
        )
        .filter(pl.col("eligible") & pl.col("product_key").is_not_null())
        .filter(lookup(products.get_column("tier"), "product_key").cast(pl.Int16) <= pl.col("reach"))
        .filter(~customer_product_key().is_in(_owned_keys(holdings)))
        .pipe(_first_per_customer_product, lookup(products.get_column("id_order"), "source_key"))
        .select("customer_key", "product_key", "source_key")
    )
    return single_offers(pairs, products, "tier_upgrade", "upgrade")


def bundle_offers(gap_offers: pl.DataFrame, config: OrchestratorConfig) -> pl.DataFrame:
    """A complete-your-routine bundle of a customer's gap products (which come in routine order) when at least
    `bundle_min_items` essentials are missing, priced at `bundle_discount` off and worth the members' margin
    value at that discount. Candidate columns plus `bundle_keys`, the members' product keys."""
    keep = 1.0 - config.bundle_discount
    bundles = (
        gap_offers.group_by("customer_key", maintain_order=True)
        .agg(
            bundle_keys=pl.col("product_key"),
            tier=pl.col("tier").max(),
            list_price=pl.col("price").sum().round(2),
            margin_value=pl.col("margin_value").sum() * keep,
            concern_mask=pl.col("concern_mask").bitwise_or(),
        )
        .filter(pl.col("bundle_keys").list.len() >= config.bundle_min_items)
        .with_columns(
            type=pl.lit("bundle", dtype=OfferType),
            source=pl.lit("routine_gap", dtype=OfferSource),
            price=(pl.col("list_price") * keep).round(2),
            essential_bit=pl.lit(0, dtype=pl.UInt64),
            id_order=pl.lit(0, dtype=pl.UInt32),
        )
    )
    return conformed(bundles, {**CANDIDATE_SCHEMA, "bundle_keys": pl.List(pl.UInt32())})
