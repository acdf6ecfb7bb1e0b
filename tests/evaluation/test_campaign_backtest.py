"""The backtest's --campaigns mode: which campaigns run in the horizon, which (customer, product) pairs they
make eligible, the take-up of those offered and not, and the command end to end on the tiny log of
test_backtest.py (cutoff 2024-03-01, horizon 7 days)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from support import write_grocery_log
from test_backtest import AFTER, BEFORE

from cross_sell_upsell.cli.backtest import main
from cross_sell_upsell.data.campaigns import CAMPAIGN_SCHEMA, Campaigns
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.evaluation.backtest import Split
from cross_sell_upsell.evaluation.campaigns import Eligibility, announced, eligibility, take_up

ROWS = pl.DataFrame(
    [
        # campaign, start,        end,          product, category, customer, segment
        ("P", "2024-02-20", "2024-03-03", "A1", None, None, None),  # everyone
        ("C", "2024-03-05", "2024-03-20", None, "b", "K1", None),  # category b for K1
        ("C", "2024-03-05", "2024-03-20", None, None, None, "gold"),  # ... and the gold segment
        ("L", "2024-03-08", "2024-03-31", "A1", None, None, None),  # starts after the horizon
        ("E", "2024-01-01", "2024-02-29", "A1", None, None, None),  # ended before the cutoff
    ],
    schema=["campaign_id", "start_date", "end_date", "product_id", "category", "customer_id", "segment"],
    orient="row",
).with_columns(pl.col("start_date", "end_date").str.to_date(), name="campaign_id", discount=None, boost=1.2)
CAMPAIGNS = Campaigns(ROWS.select(list(CAMPAIGN_SCHEMA)).cast(CAMPAIGN_SCHEMA), {}, "test")
PRODUCTS = pl.DataFrame({"product_id": ["A1", "B1", "B2"], "category": ["a", "b", "b"]})
CUSTOMERS = pl.DataFrame({"customer_id": ["K1", "K2", "K3"], "segment": [None, "Gold", None]})


def test_campaigns_running_in_the_horizon_count_as_announced_the_day_before_the_cutoff():
    dataset = Dataset(PRODUCTS, pl.DataFrame(), CUSTOMERS, pl.DataFrame())
    split = Split(train=dataset, future=pl.DataFrame(), cutoff=date(2024, 3, 1), horizon_days=7)
    running = announced(CAMPAIGNS, split).rows
    assert running.select("campaign_id", "start_date").unique(maintain_order=True).rows() == [
        ("P", date(2024, 2, 20)),
        ("C", date(2024, 2, 29)),
    ]


def test_eligible_pairs_expand_categories_and_targets():
    running = replace(CAMPAIGNS, rows=CAMPAIGNS.rows.filter(pl.col("campaign_id").is_in(["P", "C"])))
    eligible = eligibility(running, PRODUCTS, CUSTOMERS)
    every_pair = CUSTOMERS.select("customer_id").join(PRODUCTS.select("product_id"), how="cross")
    assert eligible.count() == 7
    assert sorted(eligible.pairs_in(every_pair).rows()) == [
        ("K1", "A1"),  # P: everyone
        ("K1", "B1"),  # C: K1 by id, K2 by segment (any case)
        ("K1", "B2"),
        ("K2", "A1"),
        ("K2", "B1"),
        ("K2", "B2"),
        ("K3", "A1"),
    ]


def test_take_up_of_offered_and_not_offered_pairs():
    # K1 and K2 are sent campaign X of A1 and B1: four eligible pairs.
    eligible = Eligibility(
        items=pl.DataFrame({"campaign_id": ["X", "X"], "product_id": ["A1", "B1"]}),
        audience=pl.DataFrame({"campaign_id": ["X", "X"], "customer_id": ["K1", "K2"]}),
    )
    listed = pl.DataFrame({"user": ["K1", "K1", "K2"], "product_id": ["B1", "Z9", "Z9"], "rank": [1, 2, 1]})
    bought = pl.DataFrame({"customer_id": ["K1", "K2", "K2"], "product_id": ["B1", "A1", "Z9"]})
    redeemed = pl.DataFrame({"customer_id": ["K1"], "product_id": ["B1"]})
    figures = take_up(eligible, listed, bought, 2, redeemed)
    # Offered and eligible: (K1, B1) only; the 3 others not offered. Bought: (K1, B1) offered, (K2, A1) not.
    assert (figures["eligible_pairs"], figures["offered_pairs"]) == (4, 1)
    assert figures["bought"] == {"offered": 1, "not_offered": 1, "offered_rate": 1.0, "not_offered_rate": 1 / 3}
    assert figures["redeemed"] == {"offered": 1, "not_offered": 0, "offered_rate": 1.0, "not_offered_rate": 0.0}
    assert take_up(eligible, listed, bought, 1, None)["offered_pairs"] == 1


def test_the_command_on_a_tiny_log(tmp_path: Path, capsys: pytest.CaptureFixture):
    log, catalog = write_grocery_log(tmp_path, BEFORE + AFTER)
    campaigns = tmp_path / "campaigns.csv"
    campaigns.write_text(
        "campaign_id,start_date,end_date,product_id,customer_id\n"
        "R,2024-03-02,2024-03-10,P1,\nR,2024-03-02,2024-03-10,,C1\nR,2024-03-02,2024-03-10,,C2\n"
        "OLD,2024-01-01,2024-01-31,P2,\n",
        encoding="utf-8",
    )
    argv = ["--transactions", str(log), "--catalog", str(catalog), "--cutoff", "2024-03-01", "--horizon-days", "7"]
    assert main([*argv, "--k", "2", "--campaigns", str(campaigns), "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # Every list is the P1 restock alone (nothing else is learned from six rows), so both lists are the same:
    # C1 and C2 bought P1 ($3 each) in the horizon, C3 bought P2, not listed.
    assert result["campaigns"] == ["R"]
    assert result["campaign_rows"]["rejected"]["inactive"] == 1
    assert result["users"] == 3
    for figures in result["lists"].values():
        assert figures == {"hit_rate": pytest.approx(2 / 3), "revenue": pytest.approx(6.0)}
    assert result["with_minus_without"]["revenue"]["difference"] == 0.0
    take = result["take_up"]["with_campaigns"]
    assert (take["eligible_pairs"], take["offered_pairs"], take["bought"]["offered"]) == (2, 2, 2)
