"""The purchase summary the customer models read, on a hand-built log, every figure computed by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
from support import rows

from cross_sell_upsell.features.purchase_summary import SUMMARY_SCHEMA, purchase_days, purchase_summary

AS_OF = date(2024, 3, 1)  # exclusive: the last day seen is 2024-02-29
LOG = pl.DataFrame(
    rows(
        "customer_id | purchase_date | amount",
        "A           | 2024-01-01    | 10.0",  # two rows on one day: one purchase of 15
        "A           | 2024-01-01    | 5.0",
        "A           | 2024-01-11    | 20.0",
        "A           | 2024-01-31    | 40.0",
        "A           | 2024-02-01    | -8.0",  # a return: neither a purchase nor less spend
        "A           | 2024-03-01    | 99.0",  # on the as-of date: not seen
        "B           | 2024-02-20    | 0.0",  # free goods: a purchase worth nothing
        "C           | 2024-02-29    | -5.0",  # only a return: no customer
    )
).with_columns(pl.col("purchase_date").str.to_date(), pl.col("amount").cast(pl.Float64))


def test_the_summary_by_hand():
    # A: purchase days 01-01 (15), 01-11 (20), 01-31 (40): x = 2, t_x = 30, T = 02-29 - 01-01 = 59 days,
    #    repeat spend (20 + 40) / 2 = 30, lifetime 75, mean gap 30 / 2 = 15.
    # B: one purchase day 02-20: x = 0, t_x = 0, T = 9, no repeat spend, lifetime 0, no gap.
    summary = purchase_summary(LOG, AS_OF)
    assert dict(summary.schema) == {"customer_id": pl.String(), **SUMMARY_SCHEMA}
    assert summary.rows() == [
        ("A", date(2024, 1, 1), date(2024, 1, 31), 2, 30, 59, 30.0, 75.0, 15.0),
        ("B", date(2024, 2, 20), date(2024, 2, 20), 0, 0, 9, None, 0.0, None),
    ]


def test_purchase_days_in_a_window():
    days = purchase_days(LOG, date(2024, 1, 11), date(2024, 3, 2)).sort("customer_id", "purchase_date").collect()
    assert days.rows() == [
        ("A", date(2024, 1, 11), 20.0),
        ("A", date(2024, 1, 31), 40.0),
        ("A", date(2024, 3, 1), 99.0),
        ("B", date(2024, 2, 20), 0.0),
    ]
