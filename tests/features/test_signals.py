"""Basket rules and item similarity on small hand-built logs, every figure computed by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import rows

from cross_sell_upsell.configuration import SignalSettings
from cross_sell_upsell.data.dataset import CUSTOMER_SCHEMA, PRODUCT_SCHEMA, Dataset
from cross_sell_upsell.features.holdings import holdings, keyed_ownership
from cross_sell_upsell.features.signals import (
    SignalCounts,
    Signals,
    basket_incidence,
    buyer_incidence,
    category_rules,
    keyed_purchases,
    learn_signals,
    price_similarity,
)

PRODUCTS = rows(
    "product_id | category | price",
    "A          | dairy    | 2.0",
    "B          | dairy    | 4.0",
    "C          | bakery   | 2.5",
    "D          | produce  | 1.0",
)
# Five baskets of one shopper each, all on 2024-01-10 (so only the basket ids tell them apart):
#   b1: A B C   b2: A B   b3: A C   b4: B C   b5: A B D
# Baskets holding A 4, B 4, C 3, D 1; A+B 3 (b1 b2 b5), A+C 2 (b1 b3), B+C 2 (b1 b4), A+D 1, B+D 1.
# fmt: off
BASKETS = rows(
    "customer_id | product_id | purchase_date | basket_id",
    "K1 | A | 2024-01-10 | b1", "K1 | B | 2024-01-10 | b1", "K1 | C | 2024-01-10 | b1",
    "K1 | A | 2024-01-10 | b2", "K1 | B | 2024-01-10 | b2",
    "K1 | A | 2024-01-10 | b3", "K1 | C | 2024-01-10 | b3",
    "K1 | B | 2024-01-10 | b4", "K1 | C | 2024-01-10 | b4",
    "K1 | A | 2024-01-10 | b5", "K1 | B | 2024-01-10 | b5", "K1 | D | 2024-01-10 | b5",
)
# fmt: on
AS_OF = date(2024, 2, 1)


def dataset(purchases: list[dict], products: list[dict] = PRODUCTS) -> Dataset:
    """A Dataset holding only what the signals read: product ids, categories and prices, and the purchases."""
    catalog = pl.DataFrame(products).with_columns(name=pl.col("product_id")).cast({"price": pl.Float64})
    catalog = catalog.select(
        pl.col(column) if column in catalog.columns else pl.lit(None, dtype=dtype).alias(column)
        for column, dtype in PRODUCT_SCHEMA.items()
    )
    ownership = pl.DataFrame(purchases).with_columns(pl.col("purchase_date").str.to_date())
    customer_ids = sorted(set(ownership.get_column("customer_id")))
    customers = pl.DataFrame({"customer_id": customer_ids}).select(
        pl.col(column) if column == "customer_id" else pl.lit(None, dtype=dtype).alias(column)
        for column, dtype in CUSTOMER_SCHEMA.items()
    )
    return Dataset(catalog, pl.DataFrame(), customers, ownership)


def learned(data: Dataset, settings: SignalSettings) -> Signals:
    """The signals of `data` as of AS_OF."""
    keyed = keyed_ownership(data, AS_OF)
    owned = holdings(keyed, AS_OF, settings.habit_half_life_days)
    n_products = data.products.height
    counts = SignalCounts(basket_incidence(keyed, n_products), buyer_incidence(owned, n_products))
    return learn_signals([counts], data.products, AS_OF, settings)


def rule_table(frame: pl.DataFrame, source: str, target: str) -> list[tuple]:
    return sorted(frame.select(source, target, "count", pl.col("support", "confidence", "lift").round(4)).rows())


def test_support_confidence_and_lift_of_product_rules():
    settings = SignalSettings(min_support=0.3, min_confidence=0.6, min_count=2)
    signals = learned(dataset(BASKETS), settings)
    ids = {index: product["product_id"] for index, product in enumerate(PRODUCTS)}
    named = signals.rules.with_columns(
        pl.col("source_key").replace_strict(ids), pl.col("product_key").replace_strict(ids)
    )
    assert signals.baskets == 5
    # support = pair baskets / 5; confidence = pair baskets / the source's baskets; lift = confidence / target's share.
    assert rule_table(named, "source_key", "product_key") == [
        ("A", "B", 3, 0.6, 0.75, 0.9375),  # 3/5; 3/4; 0.75 / (4/5)
        ("B", "A", 3, 0.6, 0.75, 0.9375),
        ("C", "A", 2, 0.4, 0.6667, 0.8333),  # 2/5; 2/3; (2/3) / (4/5)
        ("C", "B", 2, 0.4, 0.6667, 0.8333),
        # A -> C and B -> C have confidence 2/4 = 0.5 < 0.6; D is in one basket, fewer than min_count 2.
    ]


def test_thresholds_drop_rules_below_support_or_count():
    # min_support 0.5 keeps only A+B (3/5 = 0.6); A+C and B+C hold 2/5 = 0.4.
    signals = learned(dataset(BASKETS), SignalSettings(min_support=0.5, min_confidence=0.0, min_count=1))
    assert sorted(signals.rules.select("source_key", "product_key").rows()) == [(0, 1), (1, 0)]
    # min_count 4 is more than any pair's 3 baskets.
    assert learned(dataset(BASKETS), SignalSettings(min_count=4, min_support=0.0)).rules.is_empty()


def test_category_rules_count_a_category_once_per_basket():
    # Categories per basket: b1 dairy+bakery, b2 dairy, b3 dairy+bakery, b4 dairy+bakery, b5 dairy+produce.
    # dairy 5, bakery 3, produce 1; dairy+bakery 3 baskets (b1 b3 b4): support 3/5.
    settings = SignalSettings(min_support=0.3, min_confidence=0.6, min_count=2)
    data = dataset(BASKETS)
    rules = category_rules(keyed_purchases(keyed_ownership(data, AS_OF)), data.products, settings)
    assert rule_table(rules, "source_category", "category") == [
        ("bakery", "dairy", 3, 0.6, 1.0, 1.0),  # 3/3; 1.0 / (5/5)
        ("dairy", "bakery", 3, 0.6, 0.6, 1.0),  # 3/5; 0.6 / (3/5)
    ]


def test_without_basket_ids_a_customers_day_is_one_basket():
    # fmt: off
    log = rows(
        "customer_id | product_id | purchase_date",
        "K1 | A | 2024-01-10", "K1 | B | 2024-01-10", "K1 | A | 2024-01-11",
        "K2 | A | 2024-01-10", "K2 | C | 2024-01-10",
    )
    # fmt: on
    purchases = keyed_purchases(keyed_ownership(dataset(log), AS_OF))
    baskets = purchases.select("customer_row", "product_key", "basket").rows()
    # K1 2024-01-10 = basket 0, K1 2024-01-11 = basket 1, K2 2024-01-10 = basket 2.
    assert sorted(baskets) == [(0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 2), (1, 2, 2)]


def test_purchases_after_the_as_of_date_teach_nothing():
    late = [{**row, "purchase_date": "2024-03-01"} for row in BASKETS]
    signals = learned(dataset(BASKETS + late), SignalSettings(min_support=0.3, min_confidence=0.6, min_count=2))
    assert signals.baskets == 5
    assert signals.rules.get_column("count").to_list() == [3, 3, 2, 2]


# Buyers, one purchase day each: K1 A B, K2 A B C, K3 A C, K4 B.
# Buyers of A 3, B 3, C 2; common buyers A+B 2 (K1 K2), A+C 2 (K2 K3), B+C 1 (K2, below min_count 2).
# fmt: off
SHOPPERS = rows(
    "customer_id | product_id | purchase_date",
    "K1 | A | 2024-01-01", "K1 | B | 2024-01-02",
    "K2 | A | 2024-01-03", "K2 | B | 2024-01-04", "K2 | C | 2024-01-05",
    "K3 | A | 2024-01-06", "K3 | C | 2024-01-07",
    "K4 | B | 2024-01-08",
)
# fmt: on


def test_item_neighbours_blend_cosine_and_price_similarity():
    neighbours = learned(dataset(SHOPPERS), SignalSettings(min_count=2)).neighbours
    got = neighbours.select(
        "source_key", "product_key", pl.col("cosine", "price_similarity", "similarity").round(4)
    ).rows()
    assert got == [
        # A -> C: cosine 2 / sqrt(3 x 2) = 0.8165; prices 2.0 and 2.5: 1 - 0.5 / 2.5 = 0.8;
        # 0.84 x 0.8165 + 0.16 x 0.8 = 0.8139. A -> B: 2 / sqrt(3 x 3) = 0.6667; 1 - 2 / 4 = 0.5; 0.56 + 0.08 = 0.64.
        (0, 2, 0.8165, 0.8, 0.8139),
        (0, 1, 0.6667, 0.5, 0.64),
        (1, 0, 0.6667, 0.5, 0.64),
        (2, 0, 0.8165, 0.8, 0.8139),
    ]
    top_one = learned(dataset(SHOPPERS), SignalSettings(min_count=2, neighbours=1)).neighbours
    assert top_one.select("source_key", "product_key").rows() == [(0, 2), (1, 0), (2, 0)]


def test_price_similarity():
    import numpy as np

    assert price_similarity(np.array([2.0, 10.0, 5.0]), np.array([4.0, 10.0, 1.0])).tolist() == pytest.approx(
        [0.5, 1.0, 0.2]  # 1 - 2/4; equal prices; 1 - 4/5
    )


def partition_counts(data: Dataset, parts: list[pl.Expr]) -> list[SignalCounts]:
    """The signal counts of `data`'s keyed purchases split by `parts` (filters on the keyed rows)."""
    keyed = keyed_ownership(data, AS_OF)
    n_products = data.products.height
    return [
        SignalCounts(basket_incidence(part, n_products), buyer_incidence(holdings(part, AS_OF, 90.0), n_products))
        for part in (keyed.filter(where) for where in parts)
    ]


def test_rules_from_partitions_of_the_baskets_are_those_of_all_of_them():
    # b1 b2 in one partition, b3 b4 b5 in the other: A+B is 2 + 1 baskets, A+C 1 + 1, B+C 1 + 1.
    settings = SignalSettings(min_support=0.3, min_confidence=0.6, min_count=2)
    data = dataset(BASKETS)
    in_first = pl.col("basket_id").is_in(["b1", "b2"])
    split = learn_signals(partition_counts(data, [in_first, ~in_first]), data.products, AS_OF, settings)
    whole = learned(data, settings)
    assert split.baskets == 5
    assert split.rules.get_column("count").to_list() == [3, 3, 2, 2]
    assert_frame_equal(split.rules, whole.rules, check_exact=True)


def test_neighbours_from_partitions_of_the_customers_are_those_of_all_of_them():
    # K1 K2 in one partition, K3 K4 in the other: common buyers A+B 2 + 0, A+C 1 + 1.
    data = dataset(SHOPPERS)
    in_first = pl.col("customer_row") < 2
    split = learn_signals(
        partition_counts(data, [in_first, ~in_first]), data.products, AS_OF, SignalSettings(min_count=2)
    )
    whole = learned(data, SignalSettings(min_count=2))
    assert split.neighbours.height == 4  # A-B and A-C both ways; B+C has 1 common buyer
    assert_frame_equal(split.neighbours, whole.neighbours, check_exact=True)
