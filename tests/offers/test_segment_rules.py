"""Basket-rule thresholds per customer segment (`offers.segment_rules`) on a small basket table.

Ten baskets hold product A (key 0): four with B (key 1), two with C (key 2), one with D (key 3), three alone. So
A -> B has confidence 4/10 = 0.4, A -> C 0.2, A -> D 0.1 (support 0.4, 0.2, 0.1). Every customer owns only A.
With document 004's defaults a premium customer is offered B, a standard one B and C, a basic one all three; a
customer whose segment is not mapped gets every mined rule.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from cross_sell_upsell.configuration import SegmentRuleSettings, SignalSettings
from cross_sell_upsell.features.signals import NEIGHBOUR_SCHEMA, Signals, association_rules
from cross_sell_upsell.offers.segment_rules import customer_levels, segment_learned_offers

BASKETS = {  # basket -> products
    **{basket: [0, 1] for basket in range(4)},
    **{basket: [0, 2] for basket in range(4, 6)},
    6: [0, 3],
    **{basket: [0] for basket in range(7, 10)},
}
PAIRS = [(basket, item) for basket, items in BASKETS.items() for item in items]
RULES = association_rules(
    np.array([basket for basket, _ in PAIRS]),
    np.array([item for _, item in PAIRS]),
    4,
    SignalSettings(min_support=0.0, min_confidence=0.0, min_count=1),
)
SIGNALS = Signals(as_of=date(2024, 3, 1), baskets=10, rules=RULES, neighbours=pl.DataFrame(schema=NEIGHBOUR_SCHEMA))

PRODUCTS = pl.DataFrame(
    {
        "product_key": [0, 1, 2, 3],
        "essential_bit": [0, 0, 0, 0],
        "tier": [1, 1, 1, 1],
        "price": [1.0, 2.0, 3.0, 4.0],
        "margin_value": [1.0, 2.0, 3.0, 4.0],
        "concern_mask": [0, 0, 0, 0],
        "id_order": [1, 2, 3, 4],
        "replenishment_cycle_days": [None, None, None, None],
    },
    schema_overrides={"product_key": pl.UInt32, "essential_bit": pl.UInt64, "tier": pl.Int8, "concern_mask": pl.UInt64},
)
CUSTOMERS = pl.DataFrame({"segment": ["Premium", "standard", "BASIC", "Bargain hunters", None]})
HOLDINGS = pl.DataFrame(
    {"customer_key": [0, 1, 2, 3, 4], "product_key": [0] * 5},
    schema={"customer_key": pl.UInt32, "product_key": pl.UInt32},
)


def offered(settings: SegmentRuleSettings) -> dict[int, list[int]]:
    offers = segment_learned_offers(HOLDINGS, SIGNALS, PRODUCTS, 10, CUSTOMERS, settings)
    grouped = offers.group_by("customer_key", maintain_order=True).agg(pl.col("product_key").sort())
    return dict(grouped.iter_rows())


def test_the_rules_behind_the_table():
    confidence = RULES.filter(pl.col("source_key") == 0).sort("product_key").get_column("confidence").to_list()
    assert confidence == pytest.approx([0.4, 0.2, 0.1])


def test_document_004_thresholds_per_segment():
    assert customer_levels(CUSTOMERS, SegmentRuleSettings()).to_list() == ["premium", "standard", "basic", None, None]
    assert offered(SegmentRuleSettings()) == {0: [1], 1: [1, 2], 2: [1, 2, 3], 3: [1, 2, 3], 4: [1, 2, 3]}


def test_a_retailers_own_segment_names_and_a_support_bound():
    settings = SegmentRuleSettings(levels={"bargain hunters": "basic"}, min_support={"basic": 0.15})
    # Only "Bargain hunters" is mapped now: basic, confidence 0.1 but support at least 0.15, so D (0.1) goes.
    assert offered(settings) == {0: [1, 2, 3], 1: [1, 2, 3], 2: [1, 2, 3], 3: [1, 2], 4: [1, 2, 3]}


def test_no_mapped_segment_leaves_the_offers_as_they_were():
    unmapped = CUSTOMERS.with_columns(segment=pl.lit("Other"))
    offers = segment_learned_offers(HOLDINGS, SIGNALS, PRODUCTS, 10, unmapped, SegmentRuleSettings())
    assert offers.group_by("customer_key").len().get_column("len").to_list() == [3] * 5
