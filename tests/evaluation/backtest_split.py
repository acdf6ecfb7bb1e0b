"""A hand-built backtest split shared by the baseline and bootstrap tests, laid out as a table of purchases."""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
from support import rows

from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.evaluation.backtest import Split, temporal_split

CUTOFF = date(2024, 3, 1)
AS_OF = CUTOFF - timedelta(days=1)
# Purchases 60, 30 and 0 days before the as-of date (so a 30-day half-life weighs them 1/4, 1/2 and 1).
# C1: b1 {A, B}, b2 {A}, b3 {A, C}; C2: b4 {A, B}, b5 {B, D}; C3: b6 {C, E}.
# In the 7-day horizon: C1 rebuys A and buys D (new); C2 buys C (new); C3 rebuys E and buys B (new).
LOG = rows(
    "customer_id | product_id | purchase_date | basket_id",
    "C1          | A          | 2023-12-31    | b1",
    "C1          | B          | 2023-12-31    | b1",
    "C1          | A          | 2024-01-30    | b2",
    "C1          | A          | 2024-02-29    | b3",
    "C1          | C          | 2024-02-29    | b3",
    "C2          | A          | 2024-01-30    | b4",
    "C2          | B          | 2024-01-30    | b4",
    "C2          | B          | 2024-02-29    | b5",
    "C2          | D          | 2024-02-29    | b5",
    "C3          | C          | 2024-02-29    | b6",
    "C3          | E          | 2024-02-29    | b6",
    "C1          | A          | 2024-03-02    | b7",
    "C1          | D          | 2024-03-02    | b7",
    "C2          | C          | 2024-03-03    | b8",
    "C3          | E          | 2024-03-04    | b9",
    "C3          | B          | 2024-03-04    | b9",
)
CATALOG = rows(
    "product_id | category | price",
    "A          | dairy    | 1.0",
    "B          | bakery   | 2.0",
    "C          | produce  | 4.0",
    "D          | pantry   | 8.0",
    "E          | frozen   | 16.0",
)
K = 2
RANK2 = 1 / math.log2(3)  # the discount of rank 2


def hand_split() -> Split:
    """The log split at the cutoff with a 7-day horizon."""
    ownership = pl.DataFrame(LOG).with_columns(pl.col("purchase_date").str.to_date())
    dataset = Dataset(
        products=pl.DataFrame(CATALOG), cross_sells=pl.DataFrame(), customers=pl.DataFrame(), ownership=ownership
    )
    return temporal_split(dataset, CUTOFF, 7)
