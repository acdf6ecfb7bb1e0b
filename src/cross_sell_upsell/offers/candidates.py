"""The routine and the candidate offers for a cohort: routine gaps, replenishment, cross-sells (from the
catalog, from basket rules and from similar customers' purchases), tier upgrades and bundles.

Each function takes the integer-keyed cohort tables (see `cohort.Cohort`) and returns a narrow frame: candidates
have one row per (customer, offer) with the columns of `CANDIDATE_SCHEMA`. They are pure functions over polars
frames and import nothing from LangGraph.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import polars as pl
from scipy import sparse

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.models.ease import EaseModel
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


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType] = CANDIDATE_SCHEMA) -> pl.DataFrame:
    missing = [column for column in schema if column not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=schema[column]).alias(column) for column in missing)
    return frame.select(pl.col(column).cast(dtype) for column, dtype in schema.items())


def _single_offers(pairs: pl.DataFrame, products: pl.DataFrame, offer_type: str, source: str) -> pl.DataFrame:
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
    return _conform(offers)


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
    return _single_offers(pairs, products, "routine_gap", "routine_gap")


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
    return _single_offers(status, products, "replenishment", "replenishment")


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
    return _single_offers(pairs, products, "product_cross_sell", "catalog")


EASE_POOL = 100
"""With an EASE model, the linked products (most evidence first) per customer that EASE picks the `limit` from: re-ordering
the learned links' best 100 by EASE kept all of its lead on Complete Journey (docs/backtest.md); the pool bounds the
pairs scored, not what EASE may say about them."""


def learned_offers(
    holdings: pl.DataFrame, links: pl.DataFrame, products: pl.DataFrame, limit: int, ease: EaseModel | None = None
) -> pl.DataFrame:
    """Cross-sells learned signals propose: products linked to owned ones that the customer does not own, at
    most `limit` per customer. `links` has source_key, product_key, link (its strength: a rule's confidence or
    a neighbour's similarity), rule_lift and source (basket_rule or similar_customers).

    A product's evidence is the sum of its links from everything the customer owns, whichever signal found
    them (the usual item-kNN score, with the basket rules' confidences added), and `evidence_share` = evidence
    / the customer's strongest evidence (0-1, the best offer gets 1). A link of strength 0 is no evidence. The
    offer names the link that contributes most: its owned product, source, strength and lift (ties: the
    lowest owned product id). The customer's best offers come first (ties: the lowest product id).

    The evidence of every (customer, product) is one sparse product, owned x links, and only the offers kept
    look for their strongest link: a join of every holding with every link costs several times more.

    With `ease`, the `limit` kept are those of the customer's EASE_POOL best that EASE scores highest (then those
    it does not score, by evidence): the links find the candidates, EASE chooses among them."""
    links = links.filter(pl.col("link") > 0)
    if links.is_empty() or holdings.is_empty():
        return _conform(pl.DataFrame(schema={"customer_key": pl.UInt32, "product_key": pl.UInt32}))
    # Products are numbered in product-id order inside this function, so every "lowest id" tie-break is an
    # order of positions that sparse matrices and stable sorts keep for free.
    position_of_key = products.get_column("id_order").to_numpy().astype(np.int64) - 1
    key_at_position = np.argsort(position_of_key)
    n_products = products.height
    customer_keys = holdings.get_column("customer_key").to_numpy()
    owned = position_of_key[holdings.get_column("product_key").to_numpy()]
    n_customers = int(customer_keys.max()) + 1
    ownership = sparse.csr_matrix((np.ones(len(owned)), (customer_keys, owned)), shape=(n_customers, n_products))
    ranked = _ranked_links(links, position_of_key)
    sources, targets = ranked.get_column("source").to_numpy(), ranked.get_column("target").to_numpy()
    strengths = sparse.csr_matrix(
        (ranked.get_column("link").to_numpy(), (sources, targets)), shape=(n_products, n_products)
    )
    evidence = ownership @ strengths
    evidence = evidence - evidence.multiply(ownership)  # never offer what the customer owns
    evidence.eliminate_zeros()
    evidence.sort_indices()
    candidates = _evidence_rows(evidence)
    if ease is None:
        candidates = candidates.filter(_best_evidence(limit))
    else:
        candidates = _chosen_by_ease(
            candidates.filter(_best_evidence(EASE_POOL)), holdings, ease, key_at_position, limit
        )
    offered = candidates.sort("customer_key", "evidence", descending=[False, True], maintain_order=True)
    strongest = ranked[_strongest_links(offered, holdings, owned, ranked, n_products)]
    pairs = offered.select(
        "customer_key",
        "evidence_share",
        product_key=pl.Series(key_at_position.astype(np.uint32)).gather(offered.get_column("position")),
        source_key=strongest.get_column("source_key"),
        link=strongest.get_column("link"),
        rule_lift=strongest.get_column("rule_lift"),
    )
    offers = _single_offers(pairs, products, "product_cross_sell", "catalog")
    return offers.with_columns(source=strongest.get_column("kind").cast(OfferSource))


def _best_evidence(limit: int) -> pl.Expr:
    """Whether the row is among its customer's `limit` of most evidence (ties: the lower product id, row order)."""
    return pl.col("evidence").rank("ordinal", descending=True).over("customer_key") <= limit


def _chosen_by_ease(
    candidates: pl.DataFrame, holdings: pl.DataFrame, ease: EaseModel, key_at_position: np.ndarray, limit: int
) -> pl.DataFrame:
    """Of `_evidence_rows`' candidates, each customer's `limit` with the highest EASE score among their EASE_POOL
    of most evidence, then those it does not score by evidence; in the candidates' order. Ranked in numpy: a
    polars sort and group head over every candidate of a chunk cost about as much as the whole choice."""
    customers, evidence = candidates.get_column("customer_key").to_numpy(), candidates.get_column("evidence").to_numpy()
    if np.bincount(customers).max(initial=0) > EASE_POOL:
        pool = _first_per_customer(customers, [-evidence], EASE_POOL)
        candidates, customers, evidence = candidates[pool], customers[pool], evidence[pool]
    scores = ease.scores(
        holdings.get_column("customer_key").to_numpy(),
        holdings.get_column("product_key").to_numpy(),
        customers,
        key_at_position[candidates.get_column("position").to_numpy()],
        len(key_at_position),
    )
    unscored = np.isnan(scores)
    return candidates[_first_per_customer(customers, [unscored, -np.where(unscored, 0.0, scores), -evidence], limit)]


def _first_per_customer(customers: np.ndarray, keys: list[np.ndarray], limit: int) -> np.ndarray:
    """The rows, in row order, of each customer's first `limit` in ascending order of `keys` (the first the most
    significant; ties by row); `customers` is sorted. Sorted by polars (numpy's lexsort of four keys took a
    second a chunk), ranked in runs by two binary searches."""
    names = [f"key{index}" for index in range(len(keys))]
    frame = pl.DataFrame({"customer": customers, **dict(zip(names, keys, strict=True))})
    order = frame.select(pl.arg_sort_by("customer", *names, maintain_order=True)).to_series().to_numpy()
    ordered = customers[order]
    rank = np.arange(len(order)) - np.searchsorted(ordered, ordered, side="left")
    return np.sort(order[rank < limit])


def _evidence_rows(evidence: sparse.csr_matrix) -> pl.DataFrame:
    """The non-zero (customer_key, position, evidence) of the matrix in row order, with `evidence_share`: the
    evidence / the customer's strongest, found over each row of the matrix rather than by grouping."""
    counts = np.diff(evidence.indptr)
    starts = evidence.indptr[:-1][counts > 0]
    strongest = np.repeat(np.maximum.reduceat(evidence.data, starts), counts[counts > 0]) if len(starts) else []
    return pl.DataFrame(
        {
            "customer_key": np.repeat(np.arange(evidence.shape[0], dtype=np.uint32), counts),
            "position": evidence.indices.astype(np.uint32),
            "evidence": evidence.data,
        }
    ).with_columns(
        pl.col("customer_key").set_sorted(),
        evidence_share=pl.col("evidence") / pl.Series(strongest, dtype=pl.Float64),
    )


def _ranked_links(links: pl.DataFrame, position_of_key: np.ndarray) -> pl.DataFrame:
    """The links strongest first (ties: signal order, then the lowest source id), with `source` and `target`
    as product-id positions, `source_key` and `kind` (the signal). A link's row number is its rank."""
    positions = pl.Series(position_of_key.astype(np.uint32))
    return links.select(
        "source_key",
        "link",
        "rule_lift",
        kind=pl.col("source").cast(OfferSource),
        source=positions.gather(links.get_column("source_key")),
        target=positions.gather(links.get_column("product_key")),
    ).sort("link", "kind", "source", "target", descending=[True, False, False, False])


def _strongest_links(
    offered: pl.DataFrame, holdings: pl.DataFrame, owned: np.ndarray, ranked: pl.DataFrame, n_products: int
) -> np.ndarray:
    """For each offered (customer_key, position): the rank in `ranked` of the strongest link to it from a
    product the customer owns. Holdings are sorted by customer, so each customer's owned products are one
    contiguous run, paired with each of their offers."""
    holding_customers = holdings.get_column("customer_key").to_numpy()
    customers = offered.get_column("customer_key").to_numpy()
    run_of_customer = np.searchsorted(holding_customers, np.arange(int(holding_customers[-1]) + 2))
    first = run_of_customer[customers]
    counts = run_of_customer[customers + 1] - first
    run_starts = np.cumsum(counts) - counts
    holding = np.arange(int(counts.sum())) - np.repeat(run_starts - first, counts)
    targets = np.repeat(offered.get_column("position").to_numpy().astype(np.int64), counts)
    wanted = owned[holding] * n_products + targets
    # Each (source, target) once, at its best rank: a pair both signals found has two links.
    link_sources = ranked.get_column("source").to_numpy().astype(np.int64)
    link_keys = link_sources * n_products + ranked.get_column("target").to_numpy()
    keys, best_rank = np.unique(link_keys, return_index=True)
    ranks = pl.Series(wanted).replace_strict(keys, best_rank, default=len(link_keys), return_dtype=pl.Int64)
    return np.minimum.reduceat(ranks.to_numpy(), run_starts)


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
    return _single_offers(pairs, products, "tier_upgrade", "upgrade")


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
    return _conform(bundles, {**CANDIDATE_SCHEMA, "bundle_keys": pl.List(pl.UInt32())})
