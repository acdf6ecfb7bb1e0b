"""The snapshot's groupings over the sorted keyed purchases: the sort itself, and the summary, the segment totals
and the holdings from runs of it, each equal to its definition (the polars group-bys) or worked out by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from support import rows

from cross_sell_upsell.features.holdings import HABIT_SCALE, sorted_holdings
from cross_sell_upsell.features.purchase_summary import purchase_summary, sorted_purchase_summary
from cross_sell_upsell.features.sorted_purchases import sort_purchases, sort_rows
from cross_sell_upsell.models.segment_features import customer_totals, sorted_customer_totals

AS_OF = date(2024, 3, 1)  # the last day of the log

CATEGORIES = pl.Series("category", ["cleanser", "serum", None, "cleanser"])  # by product key 0..3

KEYED = pl.DataFrame(
    rows(
        "customer_row | product_key | purchase_date | amount",
        "7            | 1           | 2024-01-11    | 20.004",  # rows of customers 7 and 2 interleaved; to the cent: 20
        "2            | 0           | 2024-02-20    | 0.0",  # free goods: a purchase worth nothing
        "7            | 0           | 2024-01-01    | 10.0",  # two rows of one day: one purchase of 15
        "7            | 3           | 2024-01-01    | 5.0",
        "7            | 1           | 2024-01-31    | null",  # no amount: the catalog price, 40
        "7            | 1           | 2024-01-31    | 40.0",  # the same product and day again: one holding day
        "7            | 2           | 2024-02-01    | -8.0",  # a return: no purchase, but owned
        "9            | 0           | 2024-02-29    | NaN",  # no finite amount: only held
    ),
    schema_overrides={"customer_row": pl.UInt32, "product_key": pl.UInt32, "amount": pl.Float64},
).with_columns(pl.col("purchase_date").str.to_date())

PRICES = pl.Series([10.0, 40.0, 8.0, 12.0])


def priced() -> pl.DataFrame:
    return KEYED.with_columns(amount=pl.coalesce("amount", pl.lit(PRICES).gather(pl.col("product_key"))))


@pytest.mark.parametrize(
    "keys",
    [
        # fit in 64 bits with the row numbers; without them; not at all (a lexsort)
        [np.array([3, 1, 3, 1, 0], dtype=np.uint32), np.array([-2, 5, -2, 4, 9], dtype=np.int32)],
        [np.array([2**32 - 1, 0, 2**32 - 1, 0], dtype=np.uint32), np.array([7, 7, 7, 1], dtype=np.uint32)] * 2,
        [np.array([2**32 - 1, 0, 2**32 - 1, 0], dtype=np.uint32), np.array([7, 7, 7, 1], dtype=np.uint32)] * 3,
    ],
)
def test_rows_sort_by_each_key_in_turn_stably(keys):
    order = np.lexsort(keys[::-1])  # numpy's own stable sort by several keys
    for with_order in (True, False):
        sorted_keys, found = sort_rows(keys, with_order=with_order)
        assert [key.tolist() for key in sorted_keys] == [key[order].tolist() for key in keys]
        assert [key.dtype for key in sorted_keys] == [key.dtype for key in keys]
        assert (found.tolist() if with_order else found) == (order.tolist() if with_order else None)


def test_the_summary_is_the_purchase_summary_of_the_same_rows():
    # 7: days 01-01 (15), 01-11 (20), 01-31 (80): x = 2, t_x = 30, T = 03-01 - 01-01 = 60, repeat spend (20 + 80) / 2 = 50
    summary = sorted_purchase_summary(sort_purchases(priced()), date(2024, 3, 2))
    assert summary.equals(purchase_summary(priced().rename({"customer_row": "customer_id"}), date(2024, 3, 2)))
    assert summary.rows()[1] == (7, date(2024, 1, 1), date(2024, 1, 31), 2, 30, 60, 50.0, 115.0, 15.0)


def test_the_totals_are_the_customer_totals_of_the_same_rows():
    catalog = pl.DataFrame({"product_id": pl.Series([0, 1, 2, 3], dtype=pl.UInt32), "category": CATEGORIES})
    purchases = priced().select(customer_id="customer_row", product_id="product_key", purchase_date="purchase_date")
    expected = customer_totals(
        purchases.with_columns(amount=priced().get_column("amount")), catalog.with_columns(price=PRICES), AS_OF
    )
    totals = sorted_customer_totals(sort_purchases(priced()), CATEGORIES)
    assert totals.equals(expected.sort("customer_id"))
    # 7 bought cleansers (keys 0 and 3) and a serum: two categories; 5 rows kept, spend 15 + 20.004 + 80 to the cent
    assert totals.rows()[1] == (7, 3, date(2024, 1, 1), date(2024, 1, 31), 115.0, 5.0, 2, 15.0)


def test_holdings_count_days_and_weigh_repeats_by_age():
    owned = sorted_holdings(sort_purchases(KEYED), AS_OF, 30.0)
    assert owned.select("customer_row", "product_key", "last_purchase", "purchase_days").rows() == [
        (2, 0, date(2024, 2, 20), 1),
        (7, 0, date(2024, 1, 1), 1),
        (7, 1, date(2024, 1, 31), 2),  # two rows on 01-31 are one day
        (7, 2, date(2024, 2, 1), 1),  # a return is still a holding
        (7, 3, date(2024, 1, 1), 1),
        (9, 0, date(2024, 2, 29), 1),
    ]
    # The repeat on 01-31, 30 days before the as-of date, weighs 0.5 ^ (30 / 30); the first day nothing.
    assert owned.get_column("habit").to_list() == [0.0, 0.0, round(0.5 * HABIT_SCALE) / HABIT_SCALE, 0.0, 0.0, 0.0]


def test_no_purchases_no_rows():
    # Every row rejected leaves an empty log: each grouping has its columns and no row, as its definition gives.
    empty = sort_purchases(priced().clear())
    assert sorted_purchase_summary(empty, AS_OF).equals(
        purchase_summary(priced().clear().rename({"customer_row": "customer_id"}), AS_OF)
    )
    assert sorted_customer_totals(empty, CATEGORIES).height == 0
    assert sorted_holdings(empty, AS_OF, 30.0).height == 0
    only_returns = sort_purchases(priced().filter(pl.col("amount") < 0))
    assert sorted_purchase_summary(only_returns, AS_OF).height == 0
    assert sorted_holdings(only_returns, AS_OF, 30.0).rows() == [(7, 2, date(2024, 2, 1), date(2024, 2, 1), 1, 0.0)]
