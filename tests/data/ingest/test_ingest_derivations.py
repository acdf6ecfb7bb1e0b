"""Derived customer attributes and learned cycles on small hand-built logs, checked against hand arithmetic."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from ingest_helpers import AS_OF, purchases

from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data import derivations
from cross_sell_upsell.data.derivations import (
    _repeat_intervals_by_sorting,
    customer_features,
    derive_customers,
    learn_cycles,
    loyalty_tier,
    price_sensitivity,
    repeat_intervals,
    with_learned_cycles,
)

PRODUCTS = pl.DataFrame(
    {
        # category a has prices 10 and 20 (median 15); category b has one product at 40.
        "product_id": ["P1", "P2", "P3"],
        "category": ["a", "a", "b"],
        "price": [10.0, 20.0, 40.0],
    }
)

# | customer | product | date       | qty | amount | note                               |
# | A        | P1      | 2023-11-01 | 1   | 10     | before the 90-day window           |
# | A        | P1      | 2024-01-15 | 1   | 10     | in the window (starts 2023-12-03)  |
# | A        | P2      | 2024-01-15 | 2   | 30     | same day: one purchase day         |
# | A        | P1      | 2024-02-20 | 1   | 8      | last purchase, 10 days before 03-01 |
# | A        | P2      | 2024-03-05 | 1   | 20     | after the as-of date: ignored      |
# | B        | P3      | 2024-03-01 | 1   | 40     | on the as-of date                  |
LOG = purchases(
    [
        ("A", "P1", "2023-11-01", 1, 10.0),
        ("A", "P1", "2024-01-15", 1, 10.0),
        ("A", "P2", "2024-01-15", 2, 30.0),
        ("A", "P1", "2024-02-20", 1, 8.0),
        ("A", "P2", "2024-03-05", 1, 20.0),
        ("B", "P3", "2024-03-01", 1, 40.0),
    ]
)


def test_rfm_spend_gap_and_price_index_by_hand():
    features = customer_features(LOG, PRODUCTS, AS_OF, window_days=90)
    a, b = features.rows(named=True)
    assert (a["customer_id"], b["customer_id"]) == ("A", "B")
    assert a["first_purchase"] == date(2023, 11, 1)
    assert a["last_purchase"] == date(2024, 2, 20)
    assert a["recency_days"] == 10  # Feb 20 -> Mar 1 in a leap year: 9 days to Feb 29, +1
    assert a["frequency"] == 3  # the three rows from 2024-01-15 on; the window is 2023-12-03..2024-03-01
    assert a["monetary"] == pytest.approx(48.0)  # 10 + 30 + 8
    assert a["lifetime_spend"] == pytest.approx(58.0)  # 10 + 10 + 30 + 8; the March 5 row is after as-of
    assert a["purchase_days"] == 3  # 11-01, 01-15, 02-20
    assert a["mean_gap_days"] == pytest.approx(55.5)  # Nov 1 -> Feb 20 = 30 + 31 + 31 + 19 = 111 days, / (3 - 1)
    # Reference: quantity x category median (15 for category a): 15 + 15 + 2 x 15 + 15 = 75; 58 / 75
    assert a["price_index"] == pytest.approx(58 / 75)
    assert (b["recency_days"], b["frequency"], b["monetary"], b["purchase_days"]) == (0, 1, 40.0, 1)
    assert b["mean_gap_days"] is None
    assert b["price_index"] == pytest.approx(1.0)  # 40 / (1 x 40)


def test_derived_churn_sensitivity_and_loyalty():
    settings = IngestSettings()
    features = customer_features(LOG, PRODUCTS, AS_OF, window_days=90)
    only_on_file = pl.DataFrame({"customer_id": ["C"]})
    customers = derive_customers(features, only_on_file, settings)
    rows = {row["customer_id"]: row for row in customers.iter_rows(named=True)}
    assert customers.get_column("customer_id").to_list() == ["A", "B", "C"]
    # A: 1 - exp(-10 / (2 x 55.5)) = 1 - exp(-0.090090) = 1 - 0.913849 = 0.086151
    assert rows["A"]["churn_risk"] == pytest.approx(0.086151, abs=1e-6)
    # B has one purchase day, so the typical gap is the median of customers' gaps (only A's, 55.5); recency 0 -> 0
    assert rows["B"]["churn_risk"] == pytest.approx(0.0)
    assert rows["C"]["churn_risk"] == pytest.approx(0.5)  # no purchase: no evidence either way
    # price index A 0.773 is in [0.6, 1.0): medium; B pays the full median price, 1.0: low; C has no purchase: medium
    assert [rows[key]["price_sensitivity"] for key in "ABC"] == ["medium", "low", "medium"]
    assert [rows[key]["lifetime_value"] for key in "ABC"] == pytest.approx([58.0, 40.0, 0.0])
    assert [rows[key]["loyalty_tier"] for key in "ABC"] == ["bronze", "bronze", "bronze"]
    assert rows["A"]["skin_concerns"] == [] and rows["A"]["name"] == "" and rows["A"]["tier_preference"] is None


def test_churn_uses_the_customers_own_gap_and_rises_with_recency():
    # One customer buying every 30 days: 1 - exp(-recency / 60) at recency 0, 30, 60 and 120
    log = purchases([("A", "P1", "2024-01-01", 1, 10.0), ("A", "P1", "2024-01-31", 1, 10.0)])
    risks = []
    for days_after in (0, 30, 60, 120):
        as_of = date(2024, 1, 31) + timedelta(days=days_after)
        features = customer_features(log, PRODUCTS, as_of, window_days=90)
        risks.append(derive_customers(features, None, IngestSettings()).item(0, "churn_risk"))
    assert risks == pytest.approx([0.0, 0.393469, 0.632121, 0.864665], abs=1e-6)


def test_loyalty_tier_thresholds_are_inclusive():
    spend = pl.DataFrame({"spend": [0.0, 199.99, 200.0, 499.99, 500.0, 999.99, 1000.0]})
    thresholds = IngestSettings().loyalty_thresholds  # silver 200, gold 500, platinum 1000
    tiers = spend.select(loyalty_tier(pl.col("spend"), thresholds)).to_series().to_list()
    assert tiers == ["bronze", "bronze", "silver", "silver", "gold", "gold", "platinum"]


def test_price_sensitivity_bands_of_the_price_index():
    index = pl.DataFrame({"price_index": [0.3, 0.59, 0.6, 0.99, 1.0, 2.5, None]}, schema={"price_index": pl.Float64})
    bands = index.select(price_sensitivity(IngestSettings())).to_series().to_list()  # high < 0.6 <= medium < 1.0 <= low
    assert bands == ["high", "high", "medium", "medium", "low", "low", "medium"]


def test_given_attributes_override_derived_ones_field_by_field():
    features = customer_features(LOG, PRODUCTS, AS_OF, window_days=90)
    given = pl.DataFrame(
        {
            "customer_id": ["A", "B", "D"],
            "name": ["Ann", None, "Dee"],
            "loyalty_tier": ["platinum", None, None],
            "lifetime_value": [None, 600.0, None],
            "skin_concerns": [["acne"], None, []],
            "segment": ["VIP", None, "New"],
        },
        schema={
            "customer_id": pl.String,
            "name": pl.String,
            "loyalty_tier": pl.String,
            "lifetime_value": pl.Float64,
            "skin_concerns": pl.List(pl.String),
            "segment": pl.String,
        },
    )
    customers = derive_customers(features, given, IngestSettings())
    rows = {row["customer_id"]: row for row in customers.iter_rows(named=True)}
    assert sorted(rows) == ["A", "B", "D"]
    assert (rows["A"]["name"], rows["A"]["loyalty_tier"], rows["A"]["lifetime_value"]) == ("Ann", "platinum", 58.0)
    assert rows["A"]["skin_concerns"] == ["acne"]
    # a given segment is kept; none is derived
    assert [rows[key]["segment"] for key in "ABD"] == ["VIP", None, "New"]
    # B's given lifetime value 600 wins over the 40 spent, and the derived tier follows it: gold from 500
    assert (rows["B"]["name"], rows["B"]["lifetime_value"], rows["B"]["loyalty_tier"]) == ("", 600.0, "gold")
    assert rows["B"]["skin_concerns"] == []
    # D is only in the customers file: no purchase
    assert (rows["D"]["lifetime_value"], rows["D"]["churn_risk"], rows["D"]["price_sensitivity"]) == (
        0.0,
        0.5,
        "medium",
    )


CYCLE_PRODUCTS = pl.DataFrame(
    {
        "product_id": ["X", "Y", "Z", "W"],
        "category": ["c", "c", "c", "d"],
        "price": [10.0, 10.0, 10.0, 10.0],
        "replenishment_cycle_days": [None, None, 30, None],
    },
    schema_overrides={"replenishment_cycle_days": pl.Int32},
)


def _day(offset: int) -> str:
    return (date(2024, 1, 1) + timedelta(days=offset)).isoformat()


def test_cycles_are_learned_from_product_then_category_repeats():
    # | product | customer | purchase days (offsets from 2024-01-01) | intervals     |
    # | X       | 1        | 0, 10, 22, 32                          | 10, 12, 10    |
    # | X       | 2        | 0, 11, 11 (two lines), 20              | 11, 9         |
    # | Y       | 1        | 0, 40                                  | 40            |
    # | Z       | 3        | 0, 31, 60, and 400 (after as-of)       | 31, 29        |
    # | W       | 1        | 5                                      | none          |
    days = {
        ("X", "1"): [0, 10, 22, 32],
        ("X", "2"): [0, 11, 11, 20],
        ("Y", "1"): [0, 40],
        ("Z", "3"): [0, 31, 60, 400],
        ("W", "1"): [5],
    }
    log = purchases(
        [
            (customer, product, _day(offset), 1, 10.0)
            for (product, customer), offsets in days.items()
            for offset in offsets
        ]
    )
    learned = learn_cycles(log, CYCLE_PRODUCTS, AS_OF, min_repeats=5)
    assert learned.rows() == [
        # W: category d has no repeat at all
        ("W", "d", None, "none", 0),
        # X: its own 5 intervals 10, 12, 10, 11, 9 -> median 10
        ("X", "c", 10, "product", 5),
        # Y: 1 interval < 5, so category c's 8 intervals 9, 10, 10, 11, 12, 29, 31, 40 -> median (11 + 12) / 2 = 11.5 -> 12
        ("Y", "c", 12, "category", 8),
    ]
    filled = with_learned_cycles(CYCLE_PRODUCTS, learned)
    assert filled.get_column("replenishment_cycle_days").to_list() == [10, 12, 30, None]


def test_nothing_to_learn_when_the_catalog_has_every_cycle():
    products = CYCLE_PRODUCTS.with_columns(pl.col("replenishment_cycle_days").fill_null(20))
    assert learn_cycles(purchases([]), products, AS_OF, min_repeats=5).is_empty()


def test_rfm_matches_the_tiered_samples_recorded_features():
    """data/tiered records RFM computed by its own script from each customer's purchase history."""
    records = json.loads(Path("data/tiered/customers.json").read_text(encoding="utf-8"))
    catalog = pl.DataFrame(json.loads(Path("data/tiered/catalog.json").read_text(encoding="utf-8"))).select(
        "product_id", "category", "price"
    )
    log = purchases(
        [
            (record["customer_id"], item["product_id"], item["purchase_date"], 1, item["price_paid"])
            for record in records
            for item in record["purchase_history"]
        ]
    )
    features = {row["customer_id"]: row for row in customer_features(log, catalog, AS_OF, 90).iter_rows(named=True)}
    for record in records:
        expected = record["rfm_features"]
        row = features.get(record["customer_id"], {"recency_days": None, "frequency": 0, "monetary": 0.0})
        assert row["recency_days"] == expected["recency_days"], record["customer_id"]
        assert row["frequency"] == expected["frequency"], record["customer_id"]
        assert row["monetary"] == pytest.approx(expected["monetary_value"]), record["customer_id"]


def test_packed_and_sorted_repeat_intervals_agree():
    # | customer | product | days                 | intervals |
    # | 1        | X       | 0, 10, 10, 25        | 10, 15    |
    # | 1        | Y       | 3, 4                 | 1         |
    # | 2        | X       | 400, 1 (out of order) | 399      |
    log = purchases(
        [("1", "X", _day(d), 1, 1.0) for d in (0, 10, 10, 25)]
        + [("1", "Y", _day(d), 1, 1.0) for d in (3, 4)]
        + [("2", "X", _day(d), 1, 1.0) for d in (400, 1)]
    )
    products = pl.Series(["W", "X", "Y"])
    expected = [(1, 10), (1, 15), (1, 399), (2, 1)]  # (position of the product in `products`, interval)
    assert sorted(repeat_intervals(log, products).rows()) == expected
    assert sorted(_repeat_intervals_by_sorting(log, products).rows()) == expected


def test_repeat_intervals_stay_exact_when_customer_hashes_collide(monkeypatch):
    # Same log as above; every customer id hashes to one value, so the packed path must step aside.
    log = purchases([("1", "X", _day(0), 1, 1.0), ("2", "X", _day(5), 1, 1.0), ("1", "X", _day(7), 1, 1.0)])
    real = derivations._keyed_by_customer
    monkeypatch.setattr(derivations, "_keyed_by_customer", lambda rows, key=None: real(rows, pl.lit(0, pl.UInt64)))
    assert repeat_intervals(log, pl.Series(["X"])).rows() == [(0, 7)]


def test_a_price_index_that_overflows_is_null_and_the_sensitivity_medium():
    # A catalog price of the smallest positive float: 10 / 5e-324 overflows to infinity.
    products = pl.DataFrame({"product_id": ["P1"], "category": ["a"], "price": [5e-324]})
    log = purchases([("A", "P1", "2024-02-01", 1, 10.0)])
    features = customer_features(log, products, AS_OF, window_days=90)
    assert features.item(0, "price_index") is None
    sensitivity = features.select(price_sensitivity(IngestSettings())).item()
    assert sensitivity == "medium"
