"""The segment features worked out by hand, the stable hash and the fitting sample's order."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from cross_sell_upsell.data import hashing
from cross_sell_upsell.data.hashing import stable_hash
from cross_sell_upsell.models.segment_features import (
    FEATURE_SCHEMA,
    Scaling,
    sample_order,
    segment_features,
)

AS_OF = date(2024, 3, 1)

PRODUCTS = pl.DataFrame(
    [
        # product_id, category,   price
        ("P1", "cleanser", 10.0),
        ("P2", "serum", 40.0),
        ("P3", "toner", 15.0),
    ],
    schema={"product_id": pl.String, "category": pl.String, "price": pl.Float64},
    orient="row",
)

PURCHASES = pl.DataFrame(
    [
        # customer, product, date,              amount, quantity
        ("R", "P1", date(2024, 1, 1), 20.0, 2),  # two cleansers
        ("R", "P2", date(2024, 1, 1), None, 1),  # no amount: the catalog's 40
        ("R", "P1", date(2024, 1, 21), 10.0, None),  # no quantity: 1
        ("R", "P3", date(2024, 3, 1), 15.0, 1),  # on the as-of date: counted
        ("R", "P3", date(2024, 3, 2), 15.0, 1),  # after it: left out
        ("R", "P2", date(2024, 2, 1), -40.0, 1),  # a return: left out
        ("S", "P2", date(2024, 2, 20), 36.0, 1),  # one purchase, 10 days before the as-of date
        ("O", "P1", date(2023, 11, 1), 8.0, 1),  # one purchase, 121 days before
        ("O", "P9", date(2023, 11, 1), 5.0, 1),  # a product the catalog lacks: spend, no category
        ("Z", "P1", date(2024, 1, 5), 10.0, 0),  # no units: left out, so Z has no row
    ],
    schema={
        "customer_id": pl.String,
        "product_id": pl.String,
        "purchase_date": pl.Date,
        "amount": pl.Float64,
        "quantity": pl.Int64,
    },
    orient="row",
)

SCORES = pl.DataFrame(
    {"customer_id": ["R", "S"], "predicted_clv": [300.0, 50.0], "churn_probability": [0.1, 0.6], "extra": [1, 2]}
)


def test_features_by_hand():
    features = segment_features(PURCHASES, PRODUCTS, SCORES, AS_OF)
    assert features.schema == pl.Schema({"customer_id": pl.String(), **FEATURE_SCHEMA})
    rows = features.rows_by_key("customer_id", named=True, unique=True)
    assert list(rows) == ["O", "R", "S"]
    # R: days 2024-01-01, 01-21, 03-01; spend 20 + 40 + 10 + 15 = 85 for 2 + 1 + 1 + 1 = 5 units; three
    # categories; gap (60 days) / 2 = 30
    assert rows["R"] == {
        "purchases": 3,
        "spend": 85.0,
        "mean_unit_price": 17.0,
        "categories": 3,
        "mean_gap_days": 30.0,
        "predicted_clv": 300.0,
        "churn_probability": 0.1,
    }
    # single purchases: the larger of the median gap (only R's, 30) and the days since: S 10 -> 30, O 121
    assert (rows["S"]["mean_gap_days"], rows["O"]["mean_gap_days"]) == (30.0, 121.0)
    # O: 8 + 5 over 2 units; the unknown product adds no category; no scores
    assert (rows["O"]["spend"], rows["O"]["mean_unit_price"], rows["O"]["categories"]) == (13.0, 6.5, 1)
    assert (rows["O"]["predicted_clv"], rows["O"]["churn_probability"]) == (None, None)


def test_without_a_quantity_column_every_row_is_one_unit():
    features = segment_features(PURCHASES.drop("quantity"), PRODUCTS, SCORES, AS_OF)
    rows = features.rows_by_key("customer_id", named=True, unique=True)
    assert rows["R"]["mean_unit_price"] == pytest.approx(85.0 / 4)  # per row now: 20, 40, 10, 15
    assert rows["R"]["spend"] == 85.0 and rows["R"]["purchases"] == 3
    assert "Z" in rows  # its row counts as one unit


def test_when_nobody_bought_twice_the_gap_is_the_history_or_the_wait():
    purchases = PURCHASES.filter(pl.col("customer_id").is_in(["S", "O"]))
    rows = segment_features(purchases, PRODUCTS, SCORES, AS_OF).rows_by_key("customer_id", named=True, unique=True)
    # history: 2023-11-01 to 2024-03-01 inclusive = 122 days, longer than either wait
    assert (rows["S"]["mean_gap_days"], rows["O"]["mean_gap_days"]) == (122.0, 122.0)


def test_no_purchases_no_rows():
    features = segment_features(PURCHASES.head(0), PRODUCTS, SCORES, AS_OF)
    assert features.is_empty() and features.schema == pl.Schema({"customer_id": pl.String(), **FEATURE_SCHEMA})


def _reference_hash(text: str) -> int:
    """The hash one id at a time, in plain integers."""
    mask = 2**64 - 1
    data = text.encode("utf-8")
    total = sum((byte + 1) * pow(0x100000001B3, position, 2**64) for position, byte in enumerate(data)) & mask
    mixed = total ^ ((len(data) * 0x9E3779B97F4A7C15) & mask)
    mixed = ((mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9) & mask
    mixed = ((mixed ^ (mixed >> 27)) * 0x94D049BB133111EB) & mask
    return mixed ^ (mixed >> 31)


def test_the_hash_is_the_plain_integer_one_and_never_changes():
    ids = ["C001", "", "a", "customer-ÿ-42", "C001"]
    hashed = stable_hash(pl.Series(ids)).tolist()
    assert hashed == [_reference_hash(text) for text in ids]
    assert hashed[0] == hashed[4]  # an id hashes the same wherever it stands
    assert hashed[1] == 0  # the empty id: nothing to mix
    # pinned: a sample must not move when a library is upgraded
    assert hashed[0] == _reference_hash("C001") == 3992376122031484571
    assert stable_hash(pl.Series([None, 7], dtype=pl.Int64)).tolist() == [0, _reference_hash("7")]


def test_the_hash_is_the_same_whatever_the_lengths_and_blocks(monkeypatch):
    ids = [f"id-{n}" * (n % 4) for n in range(40)] + ["ÿ€", None, "Ben@X.com"]
    whole = stable_hash(pl.Series(ids)).tolist()
    assert whole == [_reference_hash(text or "") for text in ids]
    monkeypatch.setattr(hashing, "_BLOCK_ROWS", 3)  # ids of one length hashed three at a time
    assert stable_hash(pl.Series(ids)).tolist() == whole


def test_the_sample_order_does_not_depend_on_the_row_order():
    ids = pl.Series([f"C{n:04d}" for n in range(500)])
    order = sample_order(ids)
    reversed_ids = ids.reverse()
    assert ids.gather(order).to_list() == reversed_ids.gather(sample_order(reversed_ids)).to_list()
    assert sorted(order.tolist()) == list(range(500))
    assert sample_order(ids, 100).tolist() == order[:100].tolist()  # only the first hundred sorted, the same
    assert sample_order(ids, 800).tolist() == order.tolist()
    first_hundred = ids.gather(order[:100]).str.slice(1).cast(pl.Int64)
    assert 100 < first_hundred.mean() < 400  # sequential ids are spread, not the first hundred


def test_scaling_standardises_and_holds_a_constant_feature_at_zero():
    matrix = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, 2.0]])
    scaling = Scaling.fit(matrix)
    assert scaling.mean.tolist() == [2.0, 5.0, 2.0]
    assert scaling.scale.tolist() == [1.0, 1.0, 1.0]  # sd 1; no spread; one value, no spread
    assert scaling.apply(matrix).tolist() == [[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
