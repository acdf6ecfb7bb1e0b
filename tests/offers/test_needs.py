"""One offer per need (`needs.one_offer_per_need`) on scored offers built here (no graph); the revenue it leaves
is in test_revenue_flags.py, the shipped and synthetic data sets in test_needs_data.py.

Essential bits: cleanser 1, toner 2, serum 4, moisturizer 8, spf 16; masks and the eye cream are outside the
routine (bit 0). Columns a table leaves out are null.
"""

from __future__ import annotations

import polars as pl
import pytest
from offer_tables import table

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.offers.candidates import CANDIDATE_SCHEMA
from cross_sell_upsell.offers.needs import one_offer_per_need, without_unneeded

PRODUCTS = table(
    {"product_key": pl.UInt32(), "essential_bit": pl.UInt64()},
    "product_key | product_id | category    | essential_bit",
    "0           | CL1        | cleanser    | 1",
    "1           | CL2        | cleanser    | 1",
    "2           | TN1        | toner       | 2",
    "3           | TN2        | toner       | 2",
    "4           | SE1        | serum       | 4",
    "5           | SE2        | serum       | 4",
    "6           | MO1        | moisturizer | 8",
    "7           | SP1        | spf         | 16",
    "8           | MK1        | mask        | 0",
    "9           | MK2        | mask        | 0",
    "10          | MK3        | mask        | 0",
    "11          | EY1        | eye_cream   | 0",
)


# Customer 0 owns CL1 and SE1 and misses toner, moisturizer and spf, bundled; 1 misses only the toner (no
# bundle); 2 shops outside the routine, as at a grocer's.
BUNDLES = table(
    {"customer_key": pl.UInt32(), "bundle_keys": pl.List(pl.UInt32())},
    "customer_key | bundle_keys",
    "0            | [2, 6, 7]",
)
"""K0's bundle: TN1, MO1 and SP1."""

SCORED = table(
    {**CANDIDATE_SCHEMA, "rank": pl.UInt32(), "score": pl.Float64(), "fills_missing_essential": pl.Boolean()},
    "label     | customer_key | rank | type               | product_key | essential_bit | fills_missing_essential | price",
    "0 x CL2   | 0            | 1    | product_cross_sell | 1           | 1             | false                   | 25.0",
    "0 gap MO1 | 0            | 2    | routine_gap        | 6           | 8             | true                    | 16.0",
    "0 up SE2  | 0            | 3    | tier_upgrade       | 5           | 4             | false                   | 40.0",
    "0 re SE1  | 0            | 4    | replenishment      | 4           | 4             | false                   | 20.0",
    "0 bundle  | 0            | 5    | bundle             | null        | 0             | true                    | 35.7",
    "0 x TN2   | 0            | 6    | product_cross_sell | 3           | 2             | true                    | 11.0",
    "0 gap TN1 | 0            | 7    | routine_gap        | 2           | 2             | true                    | 12.0",
    "0 re CL1  | 0            | 8    | replenishment      | 0           | 1             | false                   | 10.0",
    "0 x MK1   | 0            | 9    | product_cross_sell | 8           | 0             | false                   | 18.0",
    "0 x MK2   | 0            | 10   | product_cross_sell | 9           | 0             | false                   | 17.0",
    "0 x MK3   | 0            | 11   | product_cross_sell | 10          | 0             | false                   | 16.0",
    "0 gap SP1 | 0            | 12   | routine_gap        | 7           | 16            | true                    | 14.0",
    "1 x TN2   | 1            | 1    | product_cross_sell | 3           | 2             | true                    | 11.0",
    "1 gap TN1 | 1            | 2    | routine_gap        | 2           | 2             | true                    | 12.0",
    "1 re EY1  | 1            | 3    | replenishment      | 11          | 0             | false                   | 30.0",
    "2 re MK1  | 2            | 1    | replenishment      | 8           | 0             | false                   | 18.0",
    "2 x EY1   | 2            | 2    | product_cross_sell | 11          | 0             | false                   | 30.0",
    "2 re MK2  | 2            | 3    | replenishment      | 9           | 0             | false                   | 17.0",
    "2 x MK3   | 2            | 4    | product_cross_sell | 10          | 0             | false                   | 16.0",
)
"""Scored offers in customer and rank order (x: cross-sell, gap: the routine's pick, up: upgrade, re: restock)."""


def made(customer_key: int, cap: int | None = 2) -> list[str]:
    """The labels of a customer's offers made, in their new rank order."""
    config = OrchestratorConfig(offers_per_category=cap)
    offers = one_offer_per_need(SCORED, BUNDLES, PRODUCTS, config).filter(pl.col("customer_key") == customer_key)
    assert offers["rank"].to_list() == list(range(1, offers.height + 1))
    return offers["label"].to_list()


def test_a_covered_step_gets_one_restock_or_upgrade_and_no_cross_sell():
    offers = made(0)
    # Cleanser (owned CL1): the cross-sold CL2 is an alternative to it, so the restock is the cleanser offer.
    assert [label for label in offers if "CL" in label] == ["0 re CL1"]
    # Serum (owned SE1): the upgrade outranks the restock; one offer for the step.
    assert [label for label in offers if "SE" in label] == ["0 up SE2"]


def test_a_step_the_bundle_fills_is_offered_only_as_the_bundles_product():
    # The toner cross-sell TN2 is dropped although it outranks the bundle's toner TN1.
    assert [label for label in made(0) if "TN" in label] == ["0 gap TN1"]


def test_a_missing_step_without_a_bundle_gets_its_best_candidate():
    # K1 misses only the toner: the better-ranked cross-sold TN2 is the offer for it, not also the gap pick.
    assert made(1) == ["1 x TN2", "1 re EY1"]


def test_the_bundle_leads_its_own_products():
    # MO1 ranked 2nd, above the bundle (5th): it moves to just after the bundle; the upgrade leads.
    assert made(0) == ["0 up SE2", "0 bundle", "0 gap MO1", "0 gap TN1", "0 re CL1", "0 x MK1", "0 x MK2", "0 gap SP1"]


@pytest.mark.parametrize(
    ("cap", "masks"),
    [
        (1, ["0 x MK1"]),
        (2, ["0 x MK1", "0 x MK2"]),
        (3, ["0 x MK1", "0 x MK2", "0 x MK3"]),
        (None, ["0 x MK1", "0 x MK2", "0 x MK3"]),
    ],
)
def test_a_category_outside_the_routine_gets_at_most_the_cap(cap, masks):
    assert [label for label in made(0, cap) if "MK" in label] == masks


def test_without_a_routine_restocks_and_new_products_are_capped_apart():
    # K2's masks: two restocks and one cross-sell. A cap of 1 keeps the first restock and the cross-sold MK3 (the
    # restocks do not take a new product's place); the eye cream is its own category.
    assert made(2) == ["2 re MK1", "2 x EY1", "2 re MK2", "2 x MK3"]
    assert made(2, cap=1) == ["2 re MK1", "2 x EY1", "2 x MK3"]


def test_the_offers_no_need_takes_are_dropped_beforehand_with_the_same_offers_made():
    # K0's CL2 and TN2 (a cross-sell of a covered cleanser; a toner the bundle fills with TN1) go whatever their rank.
    kept = without_unneeded(SCORED, BUNDLES, PRODUCTS)
    assert SCORED.join(kept, on="label", how="anti")["label"].to_list() == ["0 x CL2", "0 x TN2"]
    config = OrchestratorConfig(offers_per_category=2)
    assert one_offer_per_need(kept, BUNDLES, PRODUCTS, config).equals(
        one_offer_per_need(SCORED, BUNDLES, PRODUCTS, config)
    )
