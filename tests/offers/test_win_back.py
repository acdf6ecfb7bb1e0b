"""A lapsed customer's long-overdue restocks become one win-back offer of their favourite; the rest stay."""

from __future__ import annotations

import polars as pl
from offer_tables import table

from cross_sell_upsell.offers.candidates import CANDIDATE_SCHEMA, win_back_restocks

RESTOCKS = table(
    CANDIDATE_SCHEMA,
    "customer_key | product_key | id_order | days_since_purchase | cycle_days | last_purchase | replenishment_status",
    "0            | 0           | 0        | 100                 | 30         | 2023-11-22    | due",
    "0            | 1           | 1        | 200                 | 30         | 2023-08-14    | due",
    "0            | 2           | 2        | 95                  | 30         | 2023-11-27    | due",
    "0            | 3           | 3        | 40                  | 30         | 2024-01-21    | due",
    "1            | 0           | 0        | 400                 | 30         | 2023-01-26    | due",
    "2            | 1           | 1        | 91                  | 30         | 2023-12-01    | due",
    "2            | 2           | 2        | 91                  | 30         | 2023-12-01    | due",
)
"""Customer 0 (lapsed): products 0-2 more than 3 cycles (90 days) old, product 3 not; customer 1 is active;
customer 2 (lapsed) has two equal favourites."""

HOLDINGS = table(
    {"customer_key": pl.UInt32(), "product_key": pl.UInt32(), "purchase_days": pl.UInt32()},
    "customer_key | product_key | purchase_days",
    "0            | 0           | 2",
    "0            | 1           | 5",
    "0            | 2           | 5",
    "0            | 3           | 1",
    "1            | 0           | 9",
    "2            | 1           | 3",
    "2            | 2           | 3",
)

LAPSED = pl.Series([True, False, True])


def test_a_lapsed_customer_gets_one_win_back_offer_of_their_favourite():
    offers = win_back_restocks(RESTOCKS, HOLDINGS, LAPSED, 3.0)
    assert offers.select("customer_key", "product_key", pl.col("replenishment_status").cast(pl.String)).rows() == [
        # Products 1 and 2 were both bought on 5 days; 2 was bought later (95 days ago, not 200): the favourite.
        (0, 2, "win_back"),
        (0, 3, "due"),  # 40 days: not three cycles overdue, still a reminder
        (1, 0, "due"),  # active: a reminder however old
        (2, 1, "win_back"),  # tie on days and date: the lower product id
    ]
    assert offers.schema == RESTOCKS.schema


def test_nobody_lapsed_changes_nothing():
    offers = win_back_restocks(RESTOCKS, HOLDINGS, pl.Series([False, False, False]), 3.0)
    assert offers.equals(RESTOCKS)
