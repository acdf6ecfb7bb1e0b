"""Which offers count toward a customer's potential revenue (`flag_revenue` on the offers `one_offer_per_need`
makes), the sum per customer (`summarize_customers`) and the readable columns of `describe_offers`, on ranked
offers built here (no graph).

A customer buys one product per need: the bundle for the steps it fills (its products offered on their own do not
count), one offer per other essential step, and each offer outside the routine. Essential bits: cleanser 1, toner
2, serum 4, moisturizer 8, spf 16. Columns a table leaves out are null. tests/offers/test_needs.py has each rule.
"""

from __future__ import annotations

import polars as pl
import pytest
from offer_tables import table

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.offers.candidates import CANDIDATE_SCHEMA
from cross_sell_upsell.offers.needs import one_offer_per_need
from cross_sell_upsell.offers.results import BUNDLE_NAME, describe_offers, flag_revenue, summarize_customers

PRODUCTS = table(
    {"product_key": pl.UInt32(), "essential_bit": pl.UInt64()},
    "product_key | product_id | name              | category    | essential_bit",
    "0           | A1         | Basic Cleanser    | cleanser    | 1",
    "1           | A2         | Basic Toner       | toner       | 2",
    "2           | A3         | Basic Serum       | serum       | 4",
    "3           | A4         | Basic Moisturizer | moisturizer | 8",
    "4           | A5         | Basic SPF         | spf         | 16",
    "5           | A6         | Calm Mask         | mask        | 0",
    "6           | B3         | Pro Serum         | serum       | 4",
    "7           | B1         | Pro Cleanser      | cleanser    | 1",
    "8           | C2         | Clear Toner       | toner       | 2",
    "9           | C5         | Clear SPF         | spf         | 16",
)

CUSTOMERS = table(
    {
        "customer_key": pl.UInt32(),
        "concern_mask": pl.UInt64(),
        "preferred_tier": pl.Int8(),
        "expected_next_order": pl.Date(),
    },
    "customer_key | customer_id | name | concern_mask | preferred_tier | predicted_clv | churn_probability | expected_purchases | expected_next_order | segment",
    "0            | K0          | Ana  | 0            | 1              | 120.5         | 0.25              | 1.5                | 2024-03-20          | Regulars",
    "1            | K1          | Ben  | 0            | 1              | 0.0           | 0.5               | 0.0                | null                | null",
    "2            | K2          | Cleo | 0            | 1              | 80.0          | 0.1               | 2.0                | 2024-03-05          | Regulars",
    "3            | K3          | Dan  | 0            | 1              | 10.0          | 0.9               | 0.1                | 2024-05-01          | Lapsing",
)
"""Customer 0 misses a toner, a moisturizer and an spf, and has a bundle; 1 misses a toner; 2 misses a toner and
an spf, without a bundle (as with bundle_min_items = 3); 3 owns the whole routine and has no offer."""

BUNDLES = table(
    {"customer_key": pl.UInt32(), "bundle_keys": pl.List(pl.UInt32())},
    "customer_key | bundle_keys",
    "0            | [1, 3, 4]",
)

OPPORTUNITIES = table(
    {**CANDIDATE_SCHEMA, "rank": pl.UInt32(), "score": pl.Float64()},
    "label       | customer_key | rank | type               | product_key | essential_bit | fills_missing_essential | price | score",
    "0 up serum  | 0            | 1    | tier_upgrade       | 6           | 4             | false                   | 40.0  | 61.5",
    "0 bundle    | 0            | 2    | bundle             | null        | 0             | true                    | 35.7  | 55.0",
    "0 re serum  | 0            | 3    | replenishment      | 2           | 4             | false                   | 20.0  | 50.0",
    "0 gap moist | 0            | 4    | routine_gap        | 3           | 8             | true                    | 16.0  | 45.0",
    "0 x toner   | 0            | 5    | product_cross_sell | 8           | 2             | true                    | 11.0  | 44.0",
    "0 gap spf   | 0            | 6    | routine_gap        | 4           | 16            | true                    | 14.0  | 40.0",
    "0 x mask    | 0            | 7    | product_cross_sell | 5           | 0             | false                   | 18.0  | 30.0",
    "1 x toner   | 1            | 1    | product_cross_sell | 8           | 2             | true                    | 11.0  | 50.0",
    "1 gap toner | 1            | 2    | routine_gap        | 1           | 2             | true                    | 12.0  | 48.0",
    "1 re clean  | 1            | 3    | replenishment      | 0           | 1             | false                   | 10.0  | 40.0",
    "1 up clean  | 1            | 4    | tier_upgrade       | 7           | 1             | false                   | 30.0  | 35.0",
    "2 gap toner | 2            | 1    | routine_gap        | 1           | 2             | true                    | 12.0  | 45.0",
    "2 gap spf   | 2            | 2    | routine_gap        | 4           | 16            | true                    | 14.0  | 44.0",
    "2 x spf     | 2            | 3    | product_cross_sell | 9           | 16            | true                    | 15.0  | 40.0",
    "2 x toner   | 2            | 4    | product_cross_sell | 8           | 2             | true                    | 11.0  | 38.0",
)
"""Ranked offers (up: upgrade, re: restock, x: cross-sell, moist: moisturizer) in customer and rank order."""

HOLDINGS = table(
    {"customer_key": pl.UInt32(), "product_key": pl.UInt32()},
    "customer_key | product_key",
    "0            | 2",
    "0            | 0",
    "1            | 0",
    "1            | 2",
    "1            | 3",
    "1            | 4",
    "2            | 0",
    "2            | 2",
    "2            | 3",
    "3            | 0",
    "3            | 1",
    "3            | 2",
    "3            | 3",
    "3            | 4",
)
"""Customer 0 owns the cleanser and the serum; 1 all but the toner; 2 all but the toner and the spf; 3 all."""

ROUTINE = table(
    {"owned_essentials": pl.UInt32()},
    "customer_key | owned_essentials | missing_essentials              | routine_completeness",
    '0            | 2                | ["toner", "moisturizer", "spf"] | 0.4',
    '1            | 4                | ["toner"]                       | 0.8',
    '2            | 3                | ["toner", "spf"]                | 0.6',
    "3            | 5                | []                              | 1.0",
)


PROBABILITIES = {
    # made offers: probability x price = expected revenue
    "0 up serum": 0.5,  # x 40 = 20.00
    "0 bundle": 0.2,  # x 35.70 = 7.14
    "0 gap moist": 0.9,  # x 16 = 14.40, but in the bundle: not sent on its own
    "0 gap spf": 0.3,  # x 14 = 4.20, in the bundle too
    "0 x mask": 0.25,  # x 18 = 4.50, fifth
    "1 x toner": 0.1,  # x 11 = 1.10
    "1 re clean": 0.6,  # x 10 = 6.00
    "2 gap toner": 0.05,  # x 12 = 0.60
    "2 gap spf": 0.15,  # x 14 = 2.10
}
"""The acceptance model's probabilities of the offers made (the others are not made: they get 0)."""


def flagged(probabilities: dict[str, float] | None = None) -> pl.DataFrame:
    """The offers made and flagged; without `probabilities` (no acceptance model), their probabilities are null."""
    probability = (
        pl.col("label").replace_strict(probabilities, default=0.0, return_dtype=pl.Float64)
        if probabilities
        else pl.lit(None, dtype=pl.Float64)
    )
    scored = OPPORTUNITIES.with_columns(acceptance_probability=probability)
    return flag_revenue(one_offer_per_need(scored, BUNDLES, PRODUCTS, OrchestratorConfig()))


def counted(customer_key: int) -> dict[str, bool]:
    offers = flagged().filter(pl.col("customer_key") == customer_key)
    return dict(offers.select("label", "counts_toward_revenue").iter_rows())


def test_with_a_bundle_only_the_bundle_counts_for_the_steps_it_fills():
    assert counted(0) == {
        "0 up serum": True,  # the serum step's one offer (the restock "0 re serum" is not made beside it)
        "0 bundle": True,  # buys the toner, moisturizer and spf
        "0 gap moist": False,  # a member of the bundle (the other toner "0 x toner" is not made)
        "0 gap spf": False,  # a member of the bundle
        "0 x mask": True,  # an offer outside the routine counts
    }


def test_without_a_bundle_each_missing_step_is_one_offer_and_counts():
    assert counted(1) == {
        "1 x toner": True,  # the best-ranked toner, though a cross-sell rather than the gap pick
        "1 re clean": True,  # the cleanser step's one offer: the restock outranks the upgrade
    }
    assert counted(2) == {
        "2 gap toner": True,  # customer 1's toner does not take customer 2's place
        "2 gap spf": True,
    }


def test_flagging_keeps_the_offers_and_their_order():
    made = one_offer_per_need(
        OPPORTUNITIES.with_columns(acceptance_probability=pl.lit(0.5)), BUNDLES, PRODUCTS, OrchestratorConfig()
    )
    assert flag_revenue(made).drop("counts_toward_revenue", "expected_revenue").equals(made)


def test_expected_revenue_is_probability_x_price_over_the_first_top_n_offers_sent():
    offers = flagged(PROBABILITIES)
    assert dict(offers.select("label", "expected_revenue").iter_rows()) == pytest.approx(
        {
            "0 up serum": 20.00,
            "0 bundle": 7.14,
            "0 gap moist": 14.40,
            "0 gap spf": 4.20,
            "0 x mask": 4.50,
            "1 x toner": 1.10,
            "1 re clean": 6.00,
            "2 gap toner": 0.60,
            "2 gap spf": 2.10,
        }
    )
    # Ranks 1-5 of customer 0: upgrade, bundle, moisturizer and spf (in the bundle: not sent again), mask.
    top_3 = summarize_customers(CUSTOMERS, HOLDINGS, PRODUCTS, ROUTINE, offers, 3, True)
    assert top_3["expected_revenue"].to_list() == pytest.approx(
        [
            27.14,  # upgrade 20.00 + bundle 7.14; the moisturizer (third) is in the bundle
            7.10,  # toner 1.10 + restock 6.00
            2.70,  # toner 0.60 + spf 2.10
            0.0,  # no offer: nothing expected
        ]
    )
    top_5 = summarize_customers(CUSTOMERS, HOLDINGS, PRODUCTS, ROUTINE, offers, 5, True)
    assert top_5["expected_revenue"].to_list() == pytest.approx([31.64, 7.10, 2.70, 0.0])  # + the mask's 4.50


def test_potential_revenue_is_the_sum_of_the_counted_prices():
    summary = summarize_customers(CUSTOMERS, HOLDINGS, PRODUCTS, ROUTINE, flagged(), 5, False)
    assert summary["customer_id"].to_list() == ["K0", "K1", "K2", "K3"]
    assert summary["expected_revenue"].to_list() == [None] * 4  # no acceptance model: no expected revenue
    assert summary["potential_revenue"].to_list() == pytest.approx(
        [
            93.70,  # upgrade 40 + bundle 35.70 + mask 18 (was 113.70 with the serum restock beside the upgrade)
            21.00,  # toner cross-sell 11 + restock 10 (was 51.00 with the cleanser upgrade beside the restock)
            26.00,  # toner 12 + spf 14
            0.0,  # no offer
        ]
    )
    assert summary["offer_count"].to_list() == [5, 2, 2, 0]
    assert summary["replenishment_due_count"].to_list() == [0, 1, 0, 0]
    assert summary["top_score"].to_list() == pytest.approx([61.5, 50.0, 45.0, 0.0])
    assert summary["products_owned"].to_list() == [
        ["A1", "A3"],  # sorted by id
        ["A1", "A3", "A4", "A5"],
        ["A1", "A3", "A4"],
        ["A1", "A2", "A3", "A4", "A5"],
    ]
    assert summary.columns == [
        "customer_id",
        "name",
        "predicted_clv",
        "churn_probability",
        "expected_purchases",
        "expected_next_order",
        "segment",
        "products_owned",
        "owned_essentials",
        "missing_essentials",
        "routine_completeness",
        "offer_count",
        "replenishment_due_count",
        "potential_revenue",
        "top_score",
        "expected_revenue",
    ]


def test_describe_offers_names_products_their_sources_and_bundles():
    scored = table(
        CANDIDATE_SCHEMA,
        "customer_key | type               | product_key | source_key",
        "0            | bundle             | null        | null",
        "0            | tier_upgrade       | 6           | 2",
        "1            | product_cross_sell | 5           | 3",
        "1            | routine_gap        | 1           | null",
    )
    described = describe_offers(scored, BUNDLES, CUSTOMERS, PRODUCTS)
    columns = ["customer_id", "offer_id", "name", "category", "source_product_id", "source_name"]
    assert described.select(columns).rows() == [
        ("K0", "BUNDLE-A2-A4-A5", BUNDLE_NAME, "bundle", None, None),
        ("K0", "B3", "Pro Serum", "serum", "A3", "Basic Serum"),
        ("K1", "A6", "Calm Mask", "mask", "A4", "Basic Moisturizer"),
        ("K1", "A2", "Basic Toner", "toner", None, None),
    ]
    # Only the bundle has members: products 1, 3 and 4, whose ids name it
    assert described["product_ids"].to_list() == [["A2", "A4", "A5"], None, None, None]
    assert described["bundle_categories"].to_list() == [["toner", "moisturizer", "spf"], None, None, None]
    # Each offer carries its customer's predictions and segment (Ben's: not segmented).
    assert described.select("predicted_clv", "churn_probability", "expected_purchases", "segment").rows() == [
        (120.5, 0.25, 1.5, "Regulars"),
        (120.5, 0.25, 1.5, "Regulars"),
        (0.0, 0.5, 0.0, None),
        (0.0, 0.5, 0.0, None),
    ]
