"""The rank order of scored offers (`scoring._rank_order`): customer, score (highest first), type, source, price
(highest first), product id; the packed-key sort and the six-key sort it falls back to give the same order."""

from __future__ import annotations

import polars as pl
from offer_tables import table

from cross_sell_upsell.offers.candidates import OfferSource, OfferType
from cross_sell_upsell.offers.scoring import _kept_rows, _rank_order

SCHEMA = {
    "customer_key": pl.UInt32(),
    "score": pl.Float64(),
    "type": OfferType,
    "source": OfferSource,
    "price": pl.Float64(),
    "id_order": pl.UInt32(),
}

# Expected positions: customer 0's rows by score, then the type order (replenishment before product_cross_sell),
# then the source (catalog before basket_rule), then the higher price, then the lower id; customer 1 after.
SCORED = table(
    SCHEMA,
    "customer_key | score | type               | source      | price | id_order | expected",
    "1            | 10.5  | product_cross_sell | catalog     | 5.0   | 1        | 6",
    "0            | 40.25 | product_cross_sell | basket_rule | 9.0   | 2        | 3",
    "0            | 40.25 | product_cross_sell | catalog     | 9.0   | 3        | 2",
    "0            | 40.25 | replenishment      | catalog     | 1.0   | 4        | 1",
    "0            | 12.0  | product_cross_sell | catalog     | 7.0   | 6        | 4",
    "0            | 12.0  | product_cross_sell | catalog     | 7.0   | 5        | 4",
    "0            | 12.0  | product_cross_sell | catalog     | 8.0   | 7        | 4",
    "1            | 90.0  | bundle             | routine_gap | 30.0  | 0        | 5",
)


def _expected_order(frame: pl.DataFrame) -> list[int]:
    return (
        frame.select(pl.arg_sort_by(["expected", "price", "id_order"], descending=[False, True, False]))
        .to_series()
        .to_list()
    )


def test_scores_in_a_normal_range_are_sorted_on_the_packed_key():
    assert _rank_order(SCORED).to_list() == [3, 2, 1, 6, 5, 4, 7, 0] == _expected_order(SCORED)


def test_scores_too_far_apart_to_pack_are_sorted_on_the_six_keys_in_the_same_order():
    spread = SCORED.with_columns(pl.col("score") * 1e7)
    assert _rank_order(spread).to_list() == _rank_order(SCORED).to_list()


def test_a_null_score_comes_first_in_its_customer_as_in_the_six_key_sort():
    with_null = SCORED.with_columns(pl.when(pl.col("id_order") == 1).then(None).otherwise("score").alias("score"))
    assert _rank_order(with_null).to_list() == [3, 2, 1, 6, 5, 4, 0, 7]


def test_the_first_row_of_each_offer_in_rank_order_is_kept_and_every_bundle():
    # Rows in rank order 4, 0, 3, 1, 2, 5: offer 7 first at row 4 (row 1 repeats it), offer 8 at row 0 (row 2
    # repeats it); rows 3 and 5 are bundles (no product), both kept.
    ranking = table(
        {"offer": pl.UInt64()},
        "offer",
        "8",
        "7",
        "8",
        "null",
        "7",
        "null",
    )
    order = pl.Series([4, 0, 3, 1, 2, 5])
    assert _kept_rows(ranking, order).to_list() == [4, 0, 3, 5]
