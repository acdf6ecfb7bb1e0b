"""The acceptance model's replayed training set on a hand-built log: each offer's features and label as computed
by hand, nothing bought on or after the as-of date read (planted purchases change nothing), and a history this
short falls back to the weighted score."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import write_grocery_log

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.configuration.acceptance import AcceptanceSettings
from cross_sell_upsell.data.ingest import load_transactions_dataset
from cross_sell_upsell.models.acceptance import fit_acceptance
from cross_sell_upsell.models.segment_features import sample_order
from cross_sell_upsell.pipeline.acceptance import known_on, training_set

AS_OF = date(2024, 3, 1)
SETTINGS = AcceptanceSettings(horizon_days=7)
CONFIG = OrchestratorConfig(essential_categories=(), acceptance=SETTINGS)
# One horizon back, the replay date is 2024-02-22 (as-of - 1 - 7 days) and its labels come from 02-23 to 02-29:
# C1 rebuys P1 on 02-25; C2 and C3 buy nothing then.
LOG = """customer_id,product_id,date,amount,basket_id
C1,P1,2024-02-01,3.0,B1
C1,P2,2024-02-01,4.0,B1
C1,P1,2024-02-15,3.0,B2
C2,P1,2024-02-03,3.0,B3
C2,P2,2024-02-03,4.0,B3
C3,P1,2024-02-05,3.0,B4
C3,P2,2024-02-05,4.0,B4
C1,P1,2024-02-25,3.0,B5
"""
# On and after the as-of date: C2 and C3 rebuy P1 (their offers' labels would turn true) with P4 beside it.
PLANTED = """C2,P1,2024-03-01,3.0,B6
C2,P4,2024-03-01,5.0,B6
C3,P1,2024-03-02,3.0,B7
C3,P4,2024-03-02,5.0,B7
"""


def _dataset(folder: Path, log: str):
    return load_transactions_dataset(*write_grocery_log(folder, log), as_of=date(2024, 2, 29))


def test_each_offer_is_labelled_and_described_as_computed_by_hand(tmp_path):
    offers = training_set(_dataset(tmp_path, LOG), AS_OF, CONFIG, SETTINGS)
    assert offers.select("customer_id", "offer_id", "type", "bought").rows() == [
        ("C1", "P1", "replenishment", True),
        ("C2", "P1", "replenishment", False),
        ("C3", "P1", "replenishment", False),
    ]
    assert offers.get_column("replay_date").unique().to_list() == [date(2024, 2, 22)]
    c1, c2 = offers.row(0, named=True), offers.row(1, named=True)
    # C1 last bought P1 on 02-15 (7 days before the replay), on 2 days; usually pays (3 + 3 + 4) / 3.
    assert c1["recency"] == pytest.approx(1 / 8)
    assert c1["log_days_since"] == pytest.approx(math.log(8))
    # C1's history began on 02-01, 22 days to the replay: 2 days bought on per 22 days, 7 x 2 / 22 a horizon.
    assert c1["purchase_rate"] == pytest.approx(math.log(1 + 14 / 22))
    # Of P1's three buyers only C1 bought it again: 1 repeat day per the 22 days since, over 3 buyers.
    assert c1["rebuy_rate"] == pytest.approx(math.log(1 + 7 / 22 / 3))
    assert c1["relative_price"] == pytest.approx(math.log(3.0 / (10 / 3)))
    # Each of the three customers bought P1 in the eight weeks up to the replay date.
    assert c1["recent_popularity"] == pytest.approx(1.0)
    assert c2["recency"] == pytest.approx(1 / 20)
    assert c2["log_days_since"] == pytest.approx(math.log(20))
    # Each offer is a restock: a product the customer bought, never a new one; its score is the graph's.
    assert offers.get_column("new_product").to_list() == [False, False, False]
    assert offers.get_column("score").is_not_null().all()
    assert c2["purchase_rate"] == pytest.approx(math.log(1 + 7 / 20))  # one day in the 20 since 02-03
    assert c2["relative_price"] == pytest.approx(math.log(3.0 / 3.5))


def test_no_purchase_on_or_after_the_as_of_date_is_read(tmp_path):
    clean = training_set(_dataset(tmp_path / "clean", LOG), AS_OF, CONFIG, SETTINGS, horizons=2)
    planted = training_set(_dataset(tmp_path / "planted", LOG + PLANTED), AS_OF, CONFIG, SETTINGS, horizons=2)
    assert_frame_equal(planted, clean)
    assert "P4" not in planted.get_column("offer_id").to_list()
    assert planted.get_column("replay_date").unique(maintain_order=True).to_list() == [
        date(2024, 2, 15),
        date(2024, 2, 22),
    ]


def test_a_history_this_short_falls_back_to_the_weighted_score(tmp_path):
    offers = training_set(_dataset(tmp_path, LOG), AS_OF, CONFIG, SETTINGS, horizons=2)
    model = fit_acceptance(offers, SETTINGS)
    assert model.estimator is None
    assert model.fallback_reason == f"{offers.height} replayed offers, fewer than the 1,000 needed to train"


def test_a_replay_date_before_any_purchase_gives_no_offers(tmp_path):
    offers = training_set(_dataset(tmp_path, LOG), date(2024, 1, 20), CONFIG, SETTINGS)
    assert offers.is_empty()
    assert "bought" in offers.columns and offers.schema["replay_date"] == pl.Date


# P3 has no catalog cycle: C1 buys it every 2 days from 02-10 to 02-20. By 02-19 that is four repeat intervals,
# fewer than the five a cycle is learned from; by 02-29 five, and the log teaches a 2-day cycle.
REPEATS = "".join(f"C1,P3,2024-02-{day},2.0,R{day}\n" for day in (10, 12, 14, 16, 18, 20))


def test_a_replay_knows_only_the_cycles_learned_up_to_its_date(tmp_path):
    full = _dataset(tmp_path / "full", LOG + REPEATS)
    then = load_transactions_dataset(*write_grocery_log(tmp_path / "then", LOG + REPEATS), as_of=date(2024, 2, 19))
    replayed = known_on(full, date(2024, 2, 19), CONFIG)
    cycle = pl.col("product_id") == "P3"
    assert full.products.filter(cycle).item(0, "replenishment_cycle_days") == 2
    assert replayed.products.filter(cycle).item(0, "replenishment_cycle_days") is None
    assert_frame_equal(replayed.products, then.products)
    assert_frame_equal(replayed.learned_cycles, then.learned_cycles)


# Eleven customers buy P1 and P2 together on 02-01. One of them, the last by the stable hash, also buys P1 with P3
# three times: with everyone in the replays' population that makes a basket rule P1 -> P3 (3 of 14 baskets with
# P1), offered to the replayed customers who own P1; with a population of ten, that customer is left out.
POPULATION_IDS = [f"C{number:02d}" for number in range(1, 12)]
POPULATION_LOG = "customer_id,product_id,date,amount,basket_id\n" + "".join(
    f"{customer},P1,2024-02-01,3.0,A{customer}\n{customer},P2,2024-02-01,4.0,A{customer}\n"
    for customer in POPULATION_IDS
)


def test_customers_outside_the_replay_population_do_not_shape_the_training(tmp_path):
    outsider = POPULATION_IDS[sample_order(pl.Series(POPULATION_IDS))[-1]]
    log = POPULATION_LOG + "".join(
        f"{outsider},P1,2024-02-{day},3.0,X{day}\n{outsider},P3,2024-02-{day},2.0,X{day}\n" for day in (5, 10, 15)
    )
    dataset = _dataset(tmp_path, log)
    everyone = SETTINGS.model_copy(update={"sample_customers": 10})
    ten = everyone.model_copy(update={"replay_population": 10})
    with_everyone = training_set(dataset, AS_OF, CONFIG, everyone)
    with_ten = training_set(dataset, AS_OF, CONFIG, ten)
    replayed = sorted(set(POPULATION_IDS) - {outsider})
    assert sorted(with_everyone.get_column("customer_id").unique()) == replayed
    assert sorted(with_ten.get_column("customer_id").unique()) == replayed
    assert with_everyone.filter(pl.col("offer_id") == "P3").get_column("source").unique().to_list() == ["basket_rule"]
    assert "P3" not in with_ten.get_column("offer_id").to_list()
    outsider_free = training_set(_dataset(tmp_path / "without", POPULATION_LOG), AS_OF, CONFIG, ten)
    assert_frame_equal(with_ten, outsider_free)
