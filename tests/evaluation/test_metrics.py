"""Ranking metrics at K on a tiny hand-built split, every value computed by hand."""

from __future__ import annotations

import math

import polars as pl
import pytest
from support import rows

from cross_sell_upsell.evaluation.metrics import per_user, ranking_metrics

# u1 is shown a b c d, u2 x y, u3 nothing; u4 is shown items but bought nothing, so is not scored.
RECOMMENDED = pl.DataFrame(
    rows(
        "user | item | rank | price",
        "u1   | a    | 1    | 10.0",
        "u1   | b    | 2    | 20.0",
        "u1   | c    | 3    | 5.0",
        "u1   | d    | 4    | 1.0",
        "u2   | x    | 1    | 3.0",
        "u2   | y    | 2    | 4.0",
        "u4   | a    | 1    | 10.0",
    )
)
RELEVANT = pl.DataFrame(rows("user | item", "u1 | b", "u1 | d", "u1 | e", "u2 | z", "u3 | q"))
LOG3 = 1 / math.log2(3)  # the discount of rank 2


def test_per_user_figures_at_k_3():
    got = per_user(RECOMMENDED, RELEVANT, 3)
    assert got.select("user", "hits", "relevant").rows() == [("u1", 1, 3), ("u2", 0, 1), ("u3", 0, 1)]
    # u1's top 3 is a b c: one hit (b, rank 2, $20); d is rank 4, beyond K. Ideal: 3 hits at ranks 1-3.
    assert got.get_column("dcg").to_list() == pytest.approx([LOG3, 0.0, 0.0])
    assert got.get_column("idcg").to_list() == pytest.approx([1 + LOG3 + 0.5, 1.0, 1.0])
    assert got.get_column("revenue").to_list() == pytest.approx([20.0, 0.0, 0.0])


def test_means_over_users_with_a_relevant_item():
    metrics = ranking_metrics(RECOMMENDED, RELEVANT, 3)
    # Only u1 scores: hit 1, precision 1/3, recall 1/3, NDCG 0.63093 / 2.13093 = 0.29608; u2 and u3 score 0.
    assert metrics == pytest.approx(
        {
            "hit_rate": 1 / 3,
            "precision": (1 / 3) / 3,
            "recall": (1 / 3) / 3,
            "ndcg": (LOG3 / (1 + LOG3 + 0.5)) / 3,
            "revenue": 20.0,
            "users": 3,
        }
    )


def test_k_beyond_the_list_and_a_perfect_ranking():
    # At K = 4 u1 also hits d (rank 4): DCG = 1/log2(3) + 1/log2(5); ideal DCG for 3 relevant items stops at rank 3.
    metrics = ranking_metrics(RECOMMENDED.filter(pl.col("user") == "u1"), RELEVANT.filter(pl.col("user") == "u1"), 4)
    dcg = LOG3 + 1 / math.log2(5)
    assert metrics["precision"] == pytest.approx(2 / 4)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["ndcg"] == pytest.approx(dcg / (1 + LOG3 + 0.5))
    assert metrics["revenue"] == pytest.approx(21.0)
    perfect = pl.DataFrame(rows("user | item | rank | price", "u | p | 1 | 1.0", "u | q | 2 | 1.0"))
    assert ranking_metrics(perfect, perfect.select("user", "item"), 2)["ndcg"] == pytest.approx(1.0)


def test_no_relevant_items_scores_no_user():
    assert ranking_metrics(RECOMMENDED, RELEVANT.clear(), 3) == {
        "hit_rate": 0.0,
        "precision": 0.0,
        "recall": 0.0,
        "ndcg": 0.0,
        "revenue": 0.0,
        "users": 0,
    }
