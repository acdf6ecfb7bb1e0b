"""Basket rules per customer segment (document 004): a premium customer is offered only the rules of confidence
0.4 or more, a standard one 0.2, a basic one 0.1 (`SegmentRuleSettings`, with optional support bounds too).

A customer's level comes from their segment's name (`segment`: the retailer's own column or a customer-model
segment), looked up in `SegmentRuleSettings.levels` in any case. A customer whose segment is not listed there
gets every rule the signals mined: the thresholds apply on top of `signals.min_confidence` and `min_support`.
Item-similarity links are not basket rules and reach every customer.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from cross_sell_upsell.configuration import SegmentRuleSettings
from cross_sell_upsell.features.signals import Signals
from cross_sell_upsell.models.ease import EaseModel
from cross_sell_upsell.offers.learned import learned_offers


def customer_levels(customers: pl.DataFrame, settings: SegmentRuleSettings) -> pl.Series:
    """Each customer's level (premium, standard or basic), null where their segment is not mapped; in row
    (customer_key) order."""
    levels = {name.strip().lower(): level for name, level in settings.levels.items()}
    return customers.select(
        pl.col("segment")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(levels, default=None, return_dtype=pl.String)
    ).to_series()


def level_rules(rules: pl.DataFrame, level: str, settings: SegmentRuleSettings) -> pl.DataFrame:
    """The rules a customer of `level` may be offered: at least its confidence and support (when set)."""
    confidence = settings.min_confidence.get(level, 0.0)
    support = settings.min_support.get(level, 0.0)
    return rules.filter((pl.col("confidence") >= confidence) & (pl.col("support") >= support))


def segment_learned_offers(
    holdings: pl.DataFrame,
    signals: Signals,
    products: pl.DataFrame,
    limit: int,
    customers: pl.DataFrame,
    settings: SegmentRuleSettings,
    ease: EaseModel | None = None,
) -> pl.DataFrame:
    """`learned.learned_offers` (chosen by `ease` when given) with each customer's basket rules held to their
    segment's thresholds, in customer order. Customers without a mapped segment, and a cohort without any, get
    every mined rule."""
    levels = customer_levels(customers, settings)
    if levels.null_count() == levels.len():
        return learned_offers(holdings, signals.links(), products, limit, ease)
    keys = holdings.get_column("customer_key")
    groups = [(None, levels.is_null())] + [(level, levels == level) for level in levels.drop_nulls().unique().sort()]
    offers = []
    for level, members in groups:
        selected = holdings.filter(members.gather(keys).fill_null(False))
        if selected.is_empty():
            continue
        rules = signals.rules if level is None else level_rules(signals.rules, level, settings)
        offers.append(learned_offers(selected, replace(signals, rules=rules).links(), products, limit, ease))
    return pl.concat(offers).sort("customer_key", maintain_order=True)
