"""The ranking policy (`offers.acceptance.ranked_by_policy`) on scored offers built here, with the acceptance
probabilities given: each policy's order worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest
from offer_tables import table

from cross_sell_upsell.offers.acceptance import ranked_by_policy

SCORED = table(
    {
        "customer_key": pl.UInt32(),
        "rank": pl.UInt32(),
        "score": pl.Float64(),
        "acceptance_probability": pl.Float64(),
        "margin_value": pl.Float64(),
        "ease_score": pl.Float64(),
    },
    "label   | customer_key | rank | score | acceptance_probability | margin_value | ease_score",
    "0 gap   | 0            | 1    | 70.0  | 0.10                   | 30.0         | 0.3",
    "0 re    | 0            | 2    | 60.0  | 0.40                   | 10.0         | null",
    "0 up    | 0            | 3    | 50.0  | 0.05                   | 100.0        | null",
    "0 x     | 0            | 4    | 40.0  | 0.40                   | 5.0          | null",
    "1 bund  | 1            | 1    | 80.0  | 0.20                   | 50.0         | null",
    "1 gap   | 1            | 2    | 30.0  | 0.30                   | 20.0         | null",
    "2 new a | 2            | 1    | 50.0  | 0.02                   | 10.0         | 0.1",
    "2 new b | 2            | 2    | 45.0  | 0.02                   | 10.0         | 0.4",
    "2 re    | 2            | 3    | 40.0  | 0.02                   | 10.0         | null",
    "2 new c | 2            | 4    | 35.0  | 0.03                   | 10.0         | -0.2",
)
"""In score order per customer (`score_offers`'). Expected value = probability x margin value: 0 gap 3.0, 0 re
4.0, 0 up 5.0, 0 x 2.0, 1 bund 10.0, 1 gap 6.0; customer 2's offers 0.2, 0.2, 0.2 and 0.3."""


def order(policy: str, scored: pl.DataFrame = SCORED) -> list[tuple[str, int]]:
    return ranked_by_policy(scored, policy).select("label", "rank").rows()


def test_acceptance_ranks_by_probability_ties_in_score_order():
    assert order("acceptance") == [
        ("0 re", 1),  # 0.40, ranked second by score
        ("0 x", 2),  # 0.40 too, fourth by score
        ("0 gap", 3),  # 0.10
        ("0 up", 4),  # 0.05
        ("1 gap", 1),  # 0.30
        ("1 bund", 2),  # 0.20
        ("2 new c", 1),  # 0.03
        ("2 new b", 2),  # 0.02, the higher EASE score of the three
        ("2 new a", 3),  # 0.02, EASE 0.1
        ("2 re", 4),  # 0.02, no EASE score: after those with one
    ]


def test_expected_value_ranks_by_probability_x_price_x_margin_multiplier():
    assert order("expected_value") == [
        ("0 up", 1),  # 5.0
        ("0 re", 2),  # 4.0
        ("0 gap", 3),  # 3.0
        ("0 x", 4),  # 2.0
        ("1 bund", 1),  # 10.0
        ("1 gap", 2),  # 6.0
        ("2 new c", 1),  # 0.3
        ("2 new b", 2),  # 0.2, EASE 0.4
        ("2 new a", 3),  # 0.2, EASE 0.1
        ("2 re", 4),  # 0.2, no EASE score
    ]


@pytest.mark.parametrize("policy", ["acceptance", "expected_value", "score"])
def test_the_score_ranks_when_asked_or_without_probabilities(policy):
    expected = SCORED.select("label", "rank").rows()
    if policy == "score":
        assert order(policy) == expected
    unfitted = SCORED.with_columns(acceptance_probability=pl.lit(None, dtype=pl.Float64))
    assert order(policy, unfitted) == expected
