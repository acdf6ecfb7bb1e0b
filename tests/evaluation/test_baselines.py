"""The backtest's baselines on a hand-built split: every list and the metrics it earns, computed by hand."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from backtest_split import AS_OF, CUTOFF, RANK2, K, hand_split
from polars.testing import assert_frame_equal
from support import rows

from cross_sell_upsell.evaluation import baselines
from cross_sell_upsell.evaluation.backtest import evaluate
from cross_sell_upsell.evaluation.baselines import (
    SarSettings,
    TifuSettings,
    basket_buy_again,
    popularity,
    sar,
    tifu_knn,
    tifu_vectors,
)
from cross_sell_upsell.features.holdings import RECENT_DAYS


def _lists(ranked: pl.DataFrame) -> dict[str, list[str]]:
    return {user: group.get_column("product_id").to_list() for (user,), group in ranked.group_by("user")}


def _headline(ranked: pl.DataFrame) -> tuple[dict, dict]:
    scores = evaluate(hand_split(), {"method": ranked}, K)["methods"]["method"]
    return scores["new"], scores["repeat"]


def test_basket_buy_again_counts_baskets_then_recency_then_id():
    ranked = basket_buy_again(hand_split().train.ownership)
    # C1: A in 3 baskets, then C and B in 1 each (C bought last); C2: B in 2, then D (02-29) before A (01-30);
    # C3: C and E, same basket, by id.
    assert _lists(ranked) == {"C1": ["A", "C", "B"], "C2": ["B", "D", "A"], "C3": ["C", "E"]}
    assert ranked.filter(pl.col("user") == "C1").get_column("rank").to_list() == [1, 2, 3]
    new, repeat = _headline(ranked)
    # Repeat, top 2: C1's A at rank 1 (NDCG 1), C3's E at rank 2 (NDCG 1/log2 3); precision 1/2 each; $1 + $16.
    assert repeat["precision"] == pytest.approx(0.5)
    assert repeat["ndcg"] == pytest.approx((1 + RANK2) / 2)
    assert repeat["revenue"] == pytest.approx(17.0)
    assert new["hit_rate"] == 0.0  # it lists only the customer's own products


def test_basket_buy_again_counts_two_baskets_of_one_day_as_two_and_days_without_basket_ids():
    log = pl.DataFrame(
        rows(
            "customer_id | product_id | purchase_date | basket_id",
            "C1          | A          | 2024-01-01    | x1",
            "C1          | A          | 2024-01-01    | x2",
            "C1          | B          | 2024-01-02    | x3",
            "C1          | B          | 2024-01-03    | x4",
            "C1          | C          | 2024-01-05    | x5",
        )
    ).with_columns(pl.col("purchase_date").str.to_date())
    # Two baskets each for A and B: B was bought last. Without basket ids a day is a basket: B (2 days) first,
    # then C (1 day, bought last) before A.
    assert _lists(basket_buy_again(log)) == {"C1": ["B", "A", "C"]}
    assert _lists(basket_buy_again(log.drop("basket_id"))) == {"C1": ["B", "C", "A"]}


def test_recent_popularity_counts_the_buyers_of_the_last_eight_weeks():
    purchases = hand_split().train.ownership
    ranked = popularity(purchases, K, since=CUTOFF - timedelta(days=RECENT_DAYS))
    # Since 2024-01-05: A bought by C1 and C2, C by C1 and C3 (2 buyers each), B by C2 only (C1's B is older),
    # D by C2, E by C3. C1: own A, C (2 each), then new D, E (1 each); C2: own A (2) and new C (2), then own B
    # and new E (1); C3: new A, own C, then new B, own E. Ties by product id.
    assert _lists(ranked) == {"C1": ["A", "C", "D", "E"], "C2": ["A", "C", "B", "E"], "C3": ["A", "C", "B", "E"]}
    new, repeat = _headline(ranked)
    # New, top 2: C1's D and C2's C at rank 1, C3's B at rank 2. Repeat: C1's A at rank 1, C3's E at rank 2.
    assert new["ndcg"] == pytest.approx((2 + RANK2) / 3)
    assert new["revenue"] == pytest.approx(8.0 + 4.0 + 2.0)
    assert repeat["precision"] == pytest.approx(0.5)
    # All-time popularity: A, B, C have 2 buyers, D and E 1.
    assert _lists(popularity(purchases, K))["C1"] == ["A", "B", "D", "E"]


TIFU = TifuSettings(neighbours=1, within_decay=0.5, group_decay=0.5, groups=2, alpha=0.5)


def test_tifu_vectors_decay_within_and_across_groups():
    vectors = tifu_vectors(hand_split().train.ownership, TIFU)
    # C1's 3 baskets in 2 groups, newest first: {b3, b2} (size 2) and {b1}. b3: 1/2 x 1/2 = 1/4; b2:
    # 0.5/2 x 1/2 = 1/8; b1: 1/1 x 0.5/2 = 1/4. A = b1 + b2 + b3 = 5/8, B = b1, C = b3.
    # C2: {b5}, {b4}: 1/2 and 1/4. C3: one basket, weight 1.
    got = {(row["customer_id"], row["product_id"]): row["weight"] for row in vectors.iter_rows(named=True)}
    assert got == pytest.approx(
        {
            ("C1", "A"): 5 / 8,
            ("C1", "B"): 1 / 4,
            ("C1", "C"): 1 / 4,
            ("C2", "A"): 1 / 4,
            ("C2", "B"): 3 / 4,
            ("C2", "D"): 1 / 2,
            ("C3", "C"): 1.0,
            ("C3", "E"): 1.0,
        }
    )


def test_tifu_knn_blends_the_customer_with_the_nearest_customer():
    ranked = tifu_knn(hand_split().train.ownership, K, TIFU)
    # Squared distances: C1-C2 45/64, C1-C3 129/64, C2-C3 184/64: C1 and C2 are each other's nearest, C3's is
    # C1. Scores 1/2 own + 1/2 neighbour: C1 B 1/2, A 7/16, D 1/4, C 1/8 (its third own product: cut at K = 2);
    # C2 B 1/2, A 7/16, D 1/4 (cut), C 1/8; C3 C 5/8, E 1/2, A 5/16, B 1/8.
    assert _lists(ranked) == {"C1": ["B", "A", "D"], "C2": ["B", "A", "C"], "C3": ["C", "E", "A", "B"]}
    new, repeat = _headline(ranked)
    # New: C1's D and C2's C at rank 1, C3's B at rank 2. Repeat: C1's A and C3's E at rank 2.
    assert new == pytest.approx(
        {"hit_rate": 1.0, "precision": 0.5, "recall": 1.0, "ndcg": (2 + RANK2) / 3, "revenue": 14.0}
    )
    assert repeat["ndcg"] == pytest.approx(RANK2)
    assert repeat["precision"] == pytest.approx(0.5)


def test_tifu_knn_of_a_single_customer_is_their_own_vector():
    alone = hand_split().train.ownership.filter(pl.col("customer_id") == "C1")
    assert _lists(tifu_knn(alone, K, TIFU)) == {"C1": ["A", "B"]}  # A 5/8, then B and C 1/4: B by id


def test_sar_scores_decayed_affinity_times_jaccard_similarity():
    ranked = sar(hand_split().train.ownership, AS_OF, K, SarSettings(half_life_days=30, min_buyers=1))
    # Affinity: C1 A 1/4 + 1/2 + 1 = 7/4, B 1/4, C 1; C2 A 1/2, B 3/2, D 1; C3 C 1, E 1. Jaccard: A-B 1,
    # A-C and B-C 1/3, A-D, B-D and C-E 1/2. C1: A and B 7/3, C 5/3 (cut), D 1, E 1/2; C2: A and B 5/2, D 2
    # (cut), C 2/3; C3: C and E 3/2, A and B 1/3.
    assert _lists(ranked) == {"C1": ["A", "B", "D", "E"], "C2": ["A", "B", "C"], "C3": ["C", "E", "A", "B"]}
    new, repeat = _headline(ranked)
    # New: C1's D and C2's C at rank 1, C3's B at rank 2. Repeat: C1's A at rank 1, C3's E at rank 2.
    assert new["ndcg"] == pytest.approx((2 + RANK2) / 3)
    assert repeat["ndcg"] == pytest.approx((1 + RANK2) / 2)


def test_sar_items_with_few_buyers_are_similar_only_to_themselves():
    ranked = sar(hand_split().train.ownership, AS_OF, K, SarSettings(half_life_days=30, min_buyers=2))
    # D and E have one buyer: no similarity to A, B, C. C1 has no affinity to either, so no new product; C2's
    # D scores its own affinity 1, below A and B (2 each); C3's C and E keep 1 each.
    assert _lists(ranked) == {"C1": ["A", "B"], "C2": ["A", "B", "C"], "C3": ["C", "E", "A", "B"]}
    capped = sar(hand_split().train.ownership, AS_OF, K, SarSettings(half_life_days=30, min_buyers=1, max_items=1))
    # Only A (first of A, B, C, with two buyers each) keeps similarities, and no other kept product to be similar
    # to: every score is the customer's affinity.
    assert _lists(capped) == {"C1": ["A", "C"], "C2": ["B", "D"], "C3": ["C", "E"]}


@pytest.mark.parametrize("method", ["tifu_knn", "sar"])
def test_scoring_a_few_customers_at_a_time_changes_no_list(monkeypatch, method):
    # 40 customers buying from 12 products over 60 days, drawn with a fixed seed; one customer per chunk must
    # give the lists the one-chunk run gives.
    generator = np.random.default_rng(5)
    log = pl.DataFrame(
        {
            "customer_id": [f"C{number:02d}" for number in generator.integers(0, 40, 400)],
            "product_id": [f"P{number:02d}" for number in generator.integers(0, 12, 400)],
            "purchase_date": [date(2024, 1, 1) + timedelta(days=int(day)) for day in generator.integers(0, 60, 400)],
        }
    )
    run = {
        "tifu_knn": lambda: tifu_knn(log, 3, TifuSettings(neighbours=5)),
        "sar": lambda: sar(log, date(2024, 2, 29), 3, SarSettings(min_buyers=3, max_items=8)),
    }[method]
    whole = run()
    monkeypatch.setattr(baselines, "_CELLS_PER_CHUNK", 1)
    assert_frame_equal(run(), whole)
    assert whole.get_column("user").n_unique() == log.get_column("customer_id").n_unique()
