"""Explainable scores: seven components on a 0-100 scale and their weighted mean.

| component | formula |
|---|---|
| business_value | min(100, 100 x margin_value / business_value_reference), margin_value = price x margin multiplier |
| customer_fit | 100 x mean(price fit, loyalty score, 1 - churn_probability, min(1, predicted_clv / lifetime_value_reference)), price fit = 1 - sensitivity penalty x min(1, price / price_reference); churn_probability and predicted_clv are the snapshot's customer-model predictions (the retailer's churn risk and lifetime value where the models fall back and it gives them) |
| routine_completeness | 100 when the offer adds a missing essential (every bundle does), 50 when it keeps an owned essential category stocked or upgrades it, else 0 |
| replenishment_urgency | 100 x min(1, days since purchase / cycle) for replenishment offers, else 0 |
| concern_match | 100 x share of the customer's skin concerns the offer targets (0 for a customer with none) |
| affinity | 100 x the learned affinity (0-1): for a basket-rule or similar-customers offer, its summed links from owned products / the customer's strongest such sum from the same source; for a restock, its recency-weighted repeat purchases / the customer's highest such figure; else 0 |
| lift | 100 x min(1, (lift - 1) / (lift_reference - 1)) of the basket rule behind the offer (0 at or below chance, and for offers without a rule) |

score = sum(weight x component) / sum(weight). With learned signals off, affinity and lift carry no weight, so
the scores are those of the catalog rules alone.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.offers.keys import customer_product_key, lookup, position_within, rank_in_runs
from cross_sell_upsell.registry import OPPORTUNITY_SOURCES, OPPORTUNITY_TYPES

COMPONENTS: tuple[str, ...] = (
    "business_value",
    "customer_fit",
    "routine_completeness",
    "replenishment_urgency",
    "concern_match",
    "affinity",
    "lift",
)


LEARNED_COMPONENTS: tuple[str, ...] = ("affinity", "lift")
"""Components that only learned signals feed."""


def effective_weights(config: OrchestratorConfig) -> dict[str, float]:
    """The score weights, with the learned components at 0 when learned signals are off."""
    weights = config.weights.as_dict()
    if not config.signals.enabled:
        weights.update(dict.fromkeys(LEARNED_COMPONENTS, 0.0))
    return weights


def _lookup_table(column: str, table: dict[str, float]) -> pl.Expr:
    return pl.col(column).replace_strict(table, default=0.0, return_dtype=pl.Float64)


def customer_factors(customers: pl.DataFrame, routine: pl.DataFrame, config: OrchestratorConfig) -> pl.DataFrame:
    """Per customer, what scoring needs: the price-sensitivity penalty, the price-independent part of the fit
    (loyalty score + (1 - churn probability) + min(1, predicted CLV / reference)), the concern mask and the routine
    masks. One row per customer_key, in key order."""
    return customers.select(
        penalty=_lookup_table("price_sensitivity", config.price_sensitivity_penalty),
        fit_base=_lookup_table("loyalty_tier", config.loyalty_scores)
        + (1.0 - pl.col("churn_probability"))
        + (pl.col("predicted_clv") * (1.0 / config.lifetime_value_reference)).clip(upper_bound=1.0),
        customer_concerns=pl.col("concern_mask"),
    ).with_columns(routine.select("owned_mask", "missing_mask"))


def component_expressions(config: OrchestratorConfig) -> dict[str, pl.Expr]:
    """The components as expressions over a candidate joined with its customer's factors.

    Constants divide by multiplying with their reciprocal: polars does so itself on long columns but divides
    exactly on one-row frames, and the last bit decides how a score rounds; one way everywhere keeps a
    customer's scores the same whatever cohort they are computed in."""
    price_fit = 1.0 - pl.col("penalty") * (pl.col("price") * (1.0 / config.price_reference)).clip(upper_bound=1.0)
    concerns = pl.col("customer_concerns").bitwise_count_ones()
    matched = (pl.col("concern_mask") & pl.col("customer_concerns")).bitwise_count_ones()
    fills_missing = pl.col("fills_missing_essential")
    keeps_owned = (pl.col("essential_bit") & pl.col("owned_mask") != 0) & pl.col("type").is_in(
        ["replenishment", "tier_upgrade"]
    )
    return {
        "business_value": (pl.col("margin_value") * (100.0 / config.business_value_reference)).clip(upper_bound=100.0),
        "customer_fit": (price_fit + pl.col("fit_base")) * 25.0,
        "routine_completeness": pl.when(fills_missing).then(100.0).when(keeps_owned).then(50.0).otherwise(0.0),
        "replenishment_urgency": pl.when(pl.col("type") == "replenishment")
        .then(100.0 * (pl.col("days_since_purchase") / pl.col("cycle_days")).clip(upper_bound=1.0))
        .otherwise(0.0),
        "concern_match": pl.when(concerns > 0).then(100.0 * matched / concerns).otherwise(0.0),
        "affinity": (pl.col("evidence_share") * 100.0).fill_null(0.0),
        "lift": ((pl.col("rule_lift") - 1.0) * (100.0 / (config.signals.lift_reference - 1.0)))
        .clip(0.0, 100.0)
        .fill_null(0.0),
    }


def score_offers(
    candidates: pl.DataFrame, customers: pl.DataFrame, routine: pl.DataFrame, config: OrchestratorConfig
) -> pl.DataFrame:
    """Scores, de-duplicates and ranks a cohort's candidate offers; keeps `fills_missing_essential`.

    A product proposed by several steps is offered once, under the highest-scoring reason. Ranks run from 1
    per customer: score, then the type order of `registry.OPPORTUNITY_TYPES`, then the source order
    of `registry.OPPORTUNITY_SOURCES` (catalog first), then the higher price, then the product id.
    """
    weights = {name: weight for name, weight in effective_weights(config).items() if weight}
    total_weight = sum(weights.values())
    factors = customer_factors(customers, routine, config)
    components = component_expressions(config)
    keyed = candidates.with_columns(
        lookup(factors.get_column(name), "customer_key").alias(name) for name in factors.columns
    ).with_columns(
        fills_missing_essential=(pl.col("type") == "bundle") | (pl.col("essential_bit") & pl.col("missing_mask") != 0)
    )
    # The score alone over every candidate; the components are written only for the offers kept, and the order
    # and the duplicates are found on a few key columns, so the wide frame is gathered once, in order.
    score = pl.sum_horizontal(components[name] * weight for name, weight in weights.items()) * (1.0 / total_weight)
    ranking = keyed.select(
        "customer_key", "type", "source", "price", "id_order", offer=customer_product_key(), score=score.round(2)
    )
    rows = _kept_rows(ranking, _rank_order(ranking))
    kept = ranking.select(pl.col("customer_key", "score").gather(rows))
    return (
        keyed[rows]
        .with_columns(
            pl.col("customer_key").set_sorted(),
            *(expression.round(2).alias(name) for name, expression in components.items()),
        )
        .with_columns(kept.get_column("score"), kept.select(rank=rank_in_runs()).to_series())
        .drop(factors.columns)
    )


_SORT_KEYS = (
    ["customer_key", "score", "type", "source", "price", "id_order"],
    [False, True, False, False, True, False],
)
"""The rank order: customer, score (highest first), type, source, price (highest first), product id."""


def _kept_rows(ranking: pl.DataFrame, order: pl.Series) -> pl.Series:
    """The rows of `order` whose offer comes first: bundles (no product), and the first row of each packed
    customer-product key (`position_within`: a stable sort of the keys instead of hashing them)."""
    offers = ranking.get_column("offer").gather(order)
    return order.filter(offers.is_null() | (position_within(offers) == 0))


def _rank_order(ranking: pl.DataFrame) -> pl.Series:
    """The rows in _SORT_KEYS order. Customer, score, type and source are packed into one UInt64 when the scores'
    range in cents fits the bits left by the customer key and the labels (any 0-100 score does): one stable sort
    of it (the candidates come in runs by customer, which it takes in one pass), then the rows with an equal key
    sorted on price and product id. Scores are rounded to cents, so cents order them exactly."""
    n_sources = len(OPPORTUNITY_SOURCES)
    label_bits = (len(OPPORTUNITY_TYPES) * n_sources - 1).bit_length()
    cents = ranking.select((pl.col("score") * 100).round().cast(pl.Int64, strict=False)).to_series()
    if cents.is_empty() or cents.null_count() or cents.max() - cents.min() >= 1 << (32 - label_bits):
        return ranking.select(pl.arg_sort_by(_SORT_KEYS[0], descending=_SORT_KEYS[1])).to_series()
    label = pl.col("type").to_physical().cast(pl.UInt64) * n_sources + pl.col("source").to_physical()
    packed = ranking.select(
        pl.col("customer_key").cast(pl.UInt64) * (1 << 32)
        + (cents.max() - pl.lit(cents)).cast(pl.UInt64) * (1 << label_bits)
        + label
    ).to_series()
    keys = packed.to_numpy()
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    equal = ordered[1:] == ordered[:-1]
    tied = np.zeros(len(keys), dtype=bool)
    tied[1:] |= equal
    tied[:-1] |= equal
    positions = np.flatnonzero(tied)
    if positions.size:
        tied_rows = ranking.select(packed, "price", "id_order")[order[positions]]
        within = tied_rows.select(pl.arg_sort_by(tied_rows.columns, descending=[False, True, False])).to_series()
        order[positions] = order[positions][within.to_numpy()]
    return pl.Series(order)
