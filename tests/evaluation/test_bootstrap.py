"""The paired bootstrap: invariants (identical methods give [0, 0], a constant difference gives [c, c], the
interval holds the mean and lies within the per-user differences), its determinism, and its place in the
backtest's results."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from backtest_split import K, hand_split
from support import rows

from cross_sell_upsell.evaluation.backtest import evaluate, render_markdown
from cross_sell_upsell.evaluation.bootstrap import BootstrapSettings, paired_interval, versus_reference
from cross_sell_upsell.evaluation.lists import ranked


def test_identical_methods_give_zero_and_a_constant_difference_gives_itself():
    assert paired_interval(np.zeros(50)) == {"difference": 0.0, "low": 0.0, "high": 0.0, "better": 0, "worse": 0}
    assert paired_interval(np.full(7, 0.25)) == {
        "difference": 0.25,
        "low": 0.25,
        "high": 0.25,
        "better": 7,
        "worse": 0,
    }
    assert paired_interval(np.array([])) == {"difference": 0.0, "low": 0.0, "high": 0.0, "better": 0, "worse": 0}


def test_the_interval_holds_the_mean_within_the_differences_and_repeats():
    difference = np.array([1.0, 0.0, -0.5, 0.5, 0.0, 1.0])
    interval = paired_interval(difference, BootstrapSettings(resamples=500, seed=7))
    assert interval["difference"] == pytest.approx(2.0 / 6)
    assert -0.5 <= interval["low"] < interval["difference"] < interval["high"] <= 1.0
    assert (interval["better"], interval["worse"]) == (3, 1)
    assert paired_interval(difference, BootstrapSettings(resamples=500, seed=7)) == interval


def test_two_users_interval_by_hand():
    # Differences 0 and 1: a resample of two users has mean 0, 1/2 or 1 with chances 1/4, 1/2, 1/4, so with
    # 2,000 resamples about 500 are 0 and 500 are 1: the 2.5th percentile is 0 and the 97.5th is 1.
    assert paired_interval(np.array([0.0, 1.0])) == {
        "difference": 0.5,
        "low": 0.0,
        "high": 1.0,
        "better": 1,
        "worse": 0,
    }


def test_versus_reference_pairs_users_and_skips_the_reference():
    def frame(values: dict[str, float]) -> pl.DataFrame:
        return pl.DataFrame({"user": list(values), "ndcg": list(values.values()), "precision": list(values.values())})

    ours = {"new": frame({"u1": 1.0, "u2": 0.5}), "repeat": frame({"u1": 0.5})}
    theirs = {"new": frame({"u2": 0.5, "u1": 0.0}), "repeat": frame({"u1": 0.5})}
    result = versus_reference({"orchestrator": ours, "other": theirs}, BootstrapSettings(resamples=200))
    assert list(result) == ["other"]
    # u1: 1 - 0, u2: 0.5 - 0.5 (paired by user, not by row).
    assert result["other"]["new"]["ndcg"]["difference"] == pytest.approx(0.5)
    assert (result["other"]["new"]["ndcg"]["better"], result["other"]["new"]["ndcg"]["worse"]) == (1, 0)
    assert result["other"]["repeat"]["precision"] == {
        "difference": 0.0,
        "low": 0.0,
        "high": 0.0,
        "better": 0,
        "worse": 0,
    }
    assert versus_reference({"other": theirs}) == {}


def test_the_backtest_gives_each_method_its_interval_against_the_orchestrator():
    # The "orchestrator" here is a hand-made list: C1 D, A; C2 C, B; C3 B, E (a hit at rank 1 for each new item
    # and C1's and C3's repeat items at rank 2). "same" lists exactly the same; "own" only the customers' products.
    lists = rows(
        "user | product_id",
        "C1   | D",
        "C1   | A",
        "C2   | C",
        "C2   | B",
        "C3   | B",
        "C3   | E",
    )
    orchestrator = ranked(pl.DataFrame(lists))
    own = ranked(pl.DataFrame(rows("user | product_id", "C1 | C", "C1 | A", "C3 | E", "C3 | C")))
    result = evaluate(hand_split(), {"orchestrator": orchestrator, "same": orchestrator, "own": own}, K)
    same = result["methods"]["same"]["vs_orchestrator"]
    assert same["new"]["ndcg"] == {"difference": 0.0, "low": 0.0, "high": 0.0, "better": 0, "worse": 0}
    assert same["repeat"]["precision"]["low"] == same["repeat"]["precision"]["high"] == 0.0
    versus_own = result["methods"]["own"]["vs_orchestrator"]
    # New NDCG: 1 for each of C1, C2, C3 against none: a constant difference of 1.
    assert versus_own["new"]["ndcg"] == {"difference": 1.0, "low": 1.0, "high": 1.0, "better": 3, "worse": 0}
    # Repeat precision: both methods hit C1's A and C3's E in their top 2: 1/2 each, difference 0.
    assert versus_own["repeat"]["precision"]["difference"] == 0.0
    assert "vs_orchestrator" not in result["methods"]["orchestrator"]
    assert result["bootstrap"] == {
        "reference": "orchestrator",
        "metrics": ["new.ndcg", "repeat.precision"],
        "resamples": 2000,
        "seed": 20261122,
        "confidence": 0.95,
    }
    text = render_markdown(
        {**result, "cutoff": "2024-03-01", "horizon_days": 7, "k": K, "level": "product", "source": "hand"}
    )
    assert "## Orchestrator minus each method" in text
    assert "| own | +1.0000 | [+1.0000, +1.0000] | 3 / 0 | +0.0000 | [+0.0000, +0.0000] | 0 / 0 |" in text
