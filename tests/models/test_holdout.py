"""The holdout evaluation on four hand-built customers, every figure computed by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from support import rows

from cross_sell_upsell.features.purchase_summary import SUMMARY_SCHEMA
from cross_sell_upsell.models.holdout import auc, evaluate_holdout

AS_OF = date(2024, 3, 1)  # the window: 2024-03-01 .. 2024-03-28

# quiet = days from the last purchase to 2024-02-29: A 9, B 49, C 28, D 5.
SUMMARY = pl.DataFrame(
    rows(
        "customer_id | first      | last       | x | t_x | T  | m    | spend | gap",
        "A           | 2024-01-01 | 2024-02-20 | 5 | 50  | 59 | 10.0 | 60.0  | 10.0",
        "B           | 2024-01-01 | 2024-01-11 | 1 | 10  | 59 | 10.0 | 20.0  | 10.0",
        "C           | 2024-02-01 | 2024-02-01 | 0 | 0   | 28 | null | 10.0  | null",
        "D           | 2024-01-15 | 2024-02-24 | 2 | 40  | 45 | 5.0  | 15.0  | 20.0",
    )
)
SUMMARY = (
    SUMMARY.with_columns(pl.col("first", "last").str.to_date())
    .rename(dict(zip(SUMMARY.columns[1:], SUMMARY_SCHEMA, strict=True)))
    .cast(SUMMARY_SCHEMA)
)
SCORES = pl.DataFrame(
    rows(
        "customer_id | expected_purchases | p_alive | churn_probability | expected_next_order",
        "A           | 3.0                | 0.9     | 0.2               | 2024-03-05",
        "B           | 0.5                | 0.5     | 0.7               | 2024-03-20",
        "C           | 0.2                | 1.0     | 0.3               | 2024-05-01",
        "D           | 1.0                | 0.5     | 0.4               | 2024-03-02",
    )
).with_columns(pl.col("expected_next_order").str.to_date())
HOLDOUT = pl.DataFrame(
    rows(
        "customer_id | purchase_date | amount",
        "A           | 2024-02-29    | 5.0",  # before the window
        "A           | 2024-03-03    | 5.0",  # two rows, one purchase
        "A           | 2024-03-03    | 2.0",
        "A           | 2024-03-10    | 5.0",
        "A           | 2024-03-17    | 5.0",
        "C           | 2024-03-29    | 5.0",  # after the window
        "D           | 2024-03-04    | -5.0",  # a return
        "D           | 2024-03-08    | 5.0",
        "E           | 2024-03-02    | 5.0",  # a new customer: not scored
    )
).with_columns(pl.col("purchase_date").str.to_date(), pl.col("amount").cast(pl.Float64))


def test_the_holdout_figures_by_hand():
    result = evaluate_holdout(SCORES, SUMMARY, HOLDOUT, AS_OF, 28)
    assert (result.days, result.customers) == (28, 4)
    # Actual purchase days: A 3, B 0, C 0, D 1. Naive: frequency / T * 28.
    naive = [5 / 59 * 28, 1 / 59 * 28, 0.0, 2 / 45 * 28]
    naive_mae = (abs(naive[0] - 3) + naive[1] + naive[2] + abs(naive[3] - 1)) / 4
    assert result.purchases == pytest.approx(
        {"predicted_total": 4.7, "actual_total": 4.0, "mae": (0 + 0.5 + 0.2 + 0) / 4, "naive_mae": naive_mae}
    )
    # Lapsed (no purchase): B and C, against A and D. Pairs (lapsed, active) ranked right count 1, ties 1/2:
    # churn: B .7 > A .2, B .7 > D .4, C .3 > A .2, C .3 < D .4: 3/4.
    # days quiet: B 49 and C 28 above A 9 and D 5: 1.
    # 1 - P(alive): B .5 > A .1, B .5 = D .5, C 0 < A, C 0 < D: 1.5 / 4.
    assert result.churn == pytest.approx({"auc": 0.75, "recency_auc": 1.0, "p_alive_auc": 0.375})
    # Next order, over A (first bought 03-03) and D (03-08): model 03-05 and 03-02, 2 and 6 days off; naive last +
    # gap, not before 03-01: A 02-20 + 10 = 03-01 (2 days off), D 02-24 + 20 = 03-15 (7 days off).
    assert result.next_order == {"customers": 2, "mae_days": 4.0, "naive_mae_days": 4.5}
    # Ranked by expected purchases A, D, B, C: decile (rank - 1) * 10 // 4 + 1 = 1, 3, 6, 8.
    assert result.deciles.rows() == [(1, 1, 3.0, 3.0), (3, 1, 1.0, 1.0), (6, 1, 0.5, 0.0), (8, 1, 0.2, 0.0)]
    assert result.as_dict()["deciles"][0] == {"decile": 1, "customers": 1, "predicted": 3.0, "actual": 3.0}


def test_auc_needs_both_classes():
    frame = pl.DataFrame({"score": [0.1, 0.2], "positive": [True, True]})
    assert auc(frame, pl.col("score"), pl.col("positive")) is None
