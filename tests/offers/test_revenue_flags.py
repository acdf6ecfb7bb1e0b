"""Which offers count toward a customer's potential revenue (`flag_revenue`), the sum per customer
(`summarize_customers`) and the readable columns of `describe_offers`, on ranked offers built here (no graph).

A customer buys one product per missing essential: the bundle when there is one, else the best-ranked offer for
each missing essential; restocks, upgrades and other cross-sells each count. Essential bits: cleanser 1, toner 2,
serum 4, moisturizer 8, spf 16. Columns a table leaves out are null.
"""

from __future__ import annotations

import polars as pl
import pytest
from offer_tables import table

from cross_sell_upsell.offers.candidates import CANDIDATE_SCHEMA
from cross_sell_upsell.offers.results import BUNDLE_NAME, describe_offers, flag_revenue, summarize_customers

PRODUCTS = table(
    {"product_key": pl.UInt32()},
    "product_key | product_id | name              | category",
    "0           | A1         | Basic Cleanser    | cleanser",
    "1           | A2         | Basic Toner       | toner",
    "2           | A3         | Basic Serum       | serum",
    "3           | A4         | Basic Moisturizer | moisturizer",
    "4           | A5         | Basic SPF         | spf",
    "5           | A6         | Calm Mask         | mask",
    "6           | B3         | Pro Serum         | serum",
)

CUSTOMERS = table(
    {
        "customer_key": pl.UInt32(),
        "concern_mask": pl.UInt64(),
        "preferred_tier": pl.Int8(),
        "expected_next_order": pl.Date(),
    },
    "customer_key | customer_id | name | concern_mask | preferred_tier | predicted_clv | churn_probability | expected_purchases | expected_next_order",
    "0            | K0          | Ana  | 0            | 1              | 120.5         | 0.25              | 1.5                | 2024-03-20",
    "1            | K1          | Ben  | 0            | 1              | 0.0           | 0.5               | 0.0                | null",
    "2            | K2          | Cleo | 0            | 1              | 80.0          | 0.1               | 2.0                | 2024-03-05",
    "3            | K3          | Dan  | 0            | 1              | 10.0          | 0.9               | 0.1                | 2024-05-01",
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
    "label       | customer_key | rank | type               | essential_bit | fills_missing_essential | price | score",
    "0 up serum  | 0            | 1    | tier_upgrade       | 4             | false                   | 40.0  | 61.5",
    "0 bundle    | 0            | 2    | bundle             | 0             | true                    | 35.7  | 55.0",
    "0 re serum  | 0            | 3    | replenishment      | 4             | false                   | 20.0  | 50.0",
    "0 gap moist | 0            | 4    | routine_gap        | 8             | true                    | 16.0  | 45.0",
    "0 x toner   | 0            | 5    | product_cross_sell | 2             | true                    | 11.0  | 44.0",
    "0 gap spf   | 0            | 6    | routine_gap        | 16            | true                    | 14.0  | 40.0",
    "0 x mask    | 0            | 7    | product_cross_sell | 0             | false                   | 18.0  | 30.0",
    "1 x toner   | 1            | 1    | product_cross_sell | 2             | true                    | 11.0  | 50.0",
    "1 gap toner | 1            | 2    | routine_gap        | 2             | true                    | 12.0  | 48.0",
    "1 re clean  | 1            | 3    | replenishment      | 1             | false                   | 10.0  | 40.0",
    "1 up clean  | 1            | 4    | tier_upgrade       | 1             | false                   | 30.0  | 35.0",
    "2 gap toner | 2            | 1    | routine_gap        | 2             | true                    | 12.0  | 45.0",
    "2 gap spf   | 2            | 2    | routine_gap        | 16            | true                    | 14.0  | 44.0",
    "2 x spf     | 2            | 3    | product_cross_sell | 16            | true                    | 15.0  | 40.0",
    "2 x toner   | 2            | 4    | product_cross_sell | 2             | true                    | 11.0  | 38.0",
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


def counted(customer_key: int) -> dict[str, bool]:
    flagged = flag_revenue(OPPORTUNITIES, BUNDLES).filter(pl.col("customer_key") == customer_key)
    return dict(flagged.select("label", "counts_toward_revenue").iter_rows())


def test_with_a_bundle_only_the_bundle_counts_for_the_missing_essentials():
    assert counted(0) == {
        "0 up serum": True,  # an upgrade counts
        "0 bundle": True,  # buys the toner, moisturizer and spf
        "0 re serum": True,  # a restock counts
        "0 gap moist": False,  # a member of the bundle
        "0 x toner": False,  # another toner: the bundle has one
        "0 gap spf": False,  # a member of the bundle
        "0 x mask": True,  # a cross-sell outside the routine counts
    }


def test_without_a_bundle_the_best_ranked_offer_per_missing_essential_counts():
    assert counted(1) == {
        "1 x toner": True,  # the best-ranked toner, though a cross-sell rather than the gap pick
        "1 gap toner": False,  # a second toner
        "1 re clean": True,
        "1 up clean": True,
    }
    assert counted(2) == {
        "2 gap toner": True,  # customer 1's toner does not take customer 2's place
        "2 gap spf": True,
        "2 x spf": False,
        "2 x toner": False,
    }


def test_flagging_keeps_the_offers_and_their_order():
    flagged = flag_revenue(OPPORTUNITIES, BUNDLES)
    assert flagged.drop("counts_toward_revenue").equals(OPPORTUNITIES)


def test_potential_revenue_is_the_sum_of_the_counted_prices():
    flagged = flag_revenue(OPPORTUNITIES, BUNDLES)
    summary = summarize_customers(CUSTOMERS, HOLDINGS, PRODUCTS, ROUTINE, flagged)
    assert summary["customer_id"].to_list() == ["K0", "K1", "K2", "K3"]
    assert summary["potential_revenue"].to_list() == pytest.approx(
        [
            113.70,  # upgrade 40 + bundle 35.70 + restock 20 + mask 18
            51.00,  # toner cross-sell 11 + restock 10 + upgrade 30
            26.00,  # toner 12 + spf 14
            0.0,  # no offer
        ]
    )
    assert summary["offer_count"].to_list() == [7, 4, 4, 0]
    assert summary["replenishment_due_count"].to_list() == [1, 1, 0, 0]
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
        "predicted_clv",  # the customer's columns pass through
        "churn_probability",
        "expected_purchases",
        "expected_next_order",
        "products_owned",
        "owned_essentials",
        "missing_essentials",
        "routine_completeness",
        "offer_count",
        "replenishment_due_count",
        "potential_revenue",
        "top_score",
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
    # Each offer carries its customer's predictions.
    assert described.select("predicted_clv", "churn_probability", "expected_purchases").rows() == [
        (120.5, 0.25, 1.5),
        (120.5, 0.25, 1.5),
        (0.0, 0.5, 0.0),
        (0.0, 0.5, 0.0),
    ]
