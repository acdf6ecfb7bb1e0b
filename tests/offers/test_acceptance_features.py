"""The acceptance features that read beyond the offer's own row (`offers.acceptance.acceptance_features`): the
summed similarity of the offered product to what the customer owns, the product's recent popularity and its EASE
score, on tables built here and worked out by hand."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from offer_tables import table

from cross_sell_upsell.features.holdings import rebuy_rates, recent_buyer_shares
from cross_sell_upsell.models.ease import EaseModel
from cross_sell_upsell.offers.acceptance import acceptance_features, ease_scores
from cross_sell_upsell.offers.scoring import COMPONENTS

AS_OF = date(2024, 3, 1)

CUSTOMERS = table(
    {"expected_purchases": pl.Float64(), "churn_probability": pl.Float64()},
    "customer_key | expected_purchases | churn_probability",
    "0            | 2.0                | 0.1",
    "1            | 1.0                | 0.5",
)

PRODUCTS = table(
    {"price": pl.Float64(), "recent_buyer_share": pl.Float64(), "rebuy_rate": pl.Float64()},
    "product_key | price | recent_buyer_share | rebuy_rate",
    "0           | 10.0  | 0.5                | 0.75",
    "1           | 20.0  | 0.25               | 0.1",
    "2           | 5.0   | 0.0                | 0.0",
)

HOLDINGS = table(
    {
        "customer_key": pl.UInt32(),
        "product_key": pl.UInt32(),
        "first_purchase": pl.Date(),
        "last_purchase": pl.Date(),
        "purchase_days": pl.UInt32(),
        "habit": pl.Float64(),
    },
    "customer_key | product_key | first_purchase | last_purchase | purchase_days | habit",
    "0            | 0           | 2024-01-31     | 2024-02-26    | 2             | 0.5",
    "0            | 1           | 2024-02-20     | 2024-02-20    | 1             | 0.0",
    "1            | 1           | 2024-02-29     | 2024-02-29    | 1             | 0.0",
)
HORIZON_DAYS = 28

NEIGHBOURS = table(
    {"source_key": pl.UInt32(), "product_key": pl.UInt32(), "similarity": pl.Float64()},
    "source_key | product_key | similarity",
    "0          | 2           | 0.4",
    "1          | 2           | 0.3",
    "0          | 1           | 0.6",
    "1          | 0           | 0.6",
)

OFFERS = table(
    {"customer_key": pl.UInt32(), "product_key": pl.UInt32(), "price": pl.Float64()}
    | dict.fromkeys((*COMPONENTS, "score"), pl.Float64()),
    "label       | customer_key | product_key | price",
    "0 new 2     | 0            | 2           | 5.0",
    "0 restock 1 | 0            | 1           | 20.0",
    "1 new 0     | 1            | 0           | 10.0",
    "1 bundle    | 1            | null        | 30.0",
    "1 new 2     | 1            | 2           | 5.0",
).with_columns(pl.col(*COMPONENTS, "score").fill_null(0.0))


def feature(name: str, neighbours: pl.DataFrame | None = NEIGHBOURS) -> list[float]:
    return (
        acceptance_features(OFFERS, CUSTOMERS, HOLDINGS, PRODUCTS, AS_OF, HORIZON_DAYS, neighbours)
        .get_column(name)
        .to_list()
    )


def test_similarity_to_what_is_owned_is_summed_over_the_owned_products():
    assert feature("similar_owned") == pytest.approx(
        [
            0.4 + 0.3,  # customer 0 owns products 0 and 1, both linked to 2
            0.6,  # 0 -> 1; product 1 has no link to itself
            0.6,  # customer 1 owns product 1: 1 -> 0
            0.0,  # a bundle has no product
            0.3,  # 1 -> 2
        ]
    )


def test_without_signals_no_similarity_is_read():
    assert feature("similar_owned", neighbours=None) == [0.0] * 5


def test_recent_popularity_is_the_products_recent_buyer_share():
    assert feature("recent_popularity") == [0.0, 0.25, 0.5, 0.0, 0.0]  # the bundle's is 0


def test_rebuy_rate_is_read_from_the_product():
    # log(1 + rate); the bundle's is 0.
    assert feature("rebuy_rate") == pytest.approx([0.0, math.log(1.1), math.log(1.75), 0.0, 0.0])


def test_rebuy_rate_is_the_buyers_mean_repeat_days_per_horizon_since_their_first_purchase():
    holdings = table(
        {
            "customer_row": pl.UInt32(),
            "product_key": pl.UInt32(),
            "first_purchase": pl.Date(),
            "purchase_days": pl.UInt32(),
        },
        "customer_row | product_key | first_purchase | purchase_days",
        "0            | 0           | 2024-01-01     | 3",  # 61 days to 03-01: 2 repeat days per 61 days
        "1            | 0           | 2024-02-01     | 1",  # never again
        "2            | 0           | 2024-02-20     | 2",  # 11 days: counted as one 28-day horizon
        "0            | 1           | 2024-02-01     | 1",
    )
    # Product 0: (2 x 28 / 61 + 0 + 1 x 28 / 28) / 3; product 1: its one buyer never rebought; nobody bought 2.
    assert rebuy_rates(holdings, 3, AS_OF, 28).to_list() == pytest.approx([(56 / 61 + 1.0) / 3, 0.0, 0.0])


def test_the_purchase_rate_counts_days_bought_on_per_horizon_of_the_customers_history():
    offers = OFFERS.head(0).vstack(
        OFFERS.head(3).with_columns(
            customer_key=pl.Series([0, 0, 1], dtype=pl.UInt32), product_key=pl.Series([0, 1, 1], dtype=pl.UInt32)
        )
    )
    rates = acceptance_features(offers, CUSTOMERS, HOLDINGS, PRODUCTS, AS_OF, HORIZON_DAYS, NEIGHBOURS).get_column(
        "purchase_rate"
    )
    # Customer 0 first bought on 01-31: 31 days to 03-01; customer 1 on 02-29: 2 days, counted as one horizon.
    assert rates.to_list() == pytest.approx([math.log(1 + 2 * 28 / 31), math.log(1 + 28 / 31), math.log(2)])


def test_a_product_never_bought_has_no_purchase_rate():
    assert feature("purchase_rate")[0] == 0.0  # customer 0's new product 2


def test_recent_buyer_share_counts_customers_who_bought_in_the_last_eight_weeks():
    holdings = table(
        {"customer_row": pl.UInt32(), "product_key": pl.UInt32(), "last_purchase": pl.Date()},
        "customer_row | product_key | last_purchase",
        "0            | 0           | 2024-02-20",
        "0            | 1           | 2024-01-05",  # 56 days before the as-of date: outside the window
        "1            | 0           | 2024-01-06",  # 55 days before: inside
        "2            | 1           | 2024-02-29",
        "3            | 1           | 2023-06-01",  # bought nothing lately
    )
    # Three customers (0, 1, 2) bought lately: product 0 by two of them, product 1 by one, product 2 by none.
    assert recent_buyer_shares(holdings, 3, AS_OF).to_list() == pytest.approx([2 / 3, 1 / 3, 0.0])


def test_recent_buyer_share_is_zero_when_nobody_bought_lately():
    holdings = table(
        {"customer_row": pl.UInt32(), "product_key": pl.UInt32(), "last_purchase": pl.Date()},
        "customer_row | product_key | last_purchase",
        "0            | 0           | 2023-01-01",
    )
    assert recent_buyer_shares(holdings, 2, AS_OF).to_list() == [0.0, 0.0]


EASE = EaseModel(
    product_keys=np.array([1, 2]),
    weights=np.array([[0.0, 0.3], [-0.2, 0.0]], dtype=np.float32),
    regularization=1.0,
    validation={},
    validation_customers=0,
)
"""EASE modelling products 1 (row 0) and 2 (row 1): buying 1 says +0.3 about 2, buying 2 says -0.2 about 1."""


def test_the_ease_score_sums_the_weights_from_the_modelled_products_owned():
    scores = acceptance_features(
        OFFERS, CUSTOMERS, HOLDINGS, PRODUCTS, AS_OF, HORIZON_DAYS, NEIGHBOURS, EASE
    ).get_column("ease_score")
    # Customer 0 owns 0 (not modelled) and 1: product 2 scores B[1 -> 2] = 0.3, product 1 B[1 -> 1] = 0.
    # Customer 1 owns 1: product 0 is not modelled and a bundle has no product, product 2 scores 0.3.
    assert scores.to_list() == pytest.approx([0.3, 0.0, None, None, 0.3])


def test_a_customer_owning_no_modelled_product_gets_no_ease_score():
    only_product_0 = HOLDINGS.filter(pl.col("product_key") == 0)
    scores = ease_scores(OFFERS, only_product_0, EASE, PRODUCTS.height)
    assert scores.to_list() == [None] * OFFERS.height


def test_without_ease_no_score_is_read():
    assert (
        acceptance_features(OFFERS, CUSTOMERS, HOLDINGS, PRODUCTS, AS_OF, HORIZON_DAYS, NEIGHBOURS)
        .get_column("ease_score")
        .to_list()
        == [None] * OFFERS.height
    )
