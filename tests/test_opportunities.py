"""Each business rule on the hand-built mini data (tables in conftest.py), as of 2024-03-01."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from conftest import AS_OF
from cross_sell_upsell.cohort import select_cohort
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.opportunities import (
    bundle_offers,
    cross_sell_offers,
    replenishment_offers,
    routine_gap_offers,
    routine_gaps,
    routine_status,
    tier_upgrade_offers,
)

CONFIG = OrchestratorConfig()


def _cohort(dataset, ids=None, as_of=AS_OF):
    return select_cohort(dataset, ids, as_of, CONFIG.margin_multipliers)


def _pairs(offers: pl.DataFrame) -> set[tuple[str, str]]:
    return set(offers.select("customer_id", "offer_id").iter_rows())


def test_missing_essentials_and_completeness(mini):
    cohort = _cohort(mini)
    gaps = routine_gaps(cohort.customers, cohort.holdings, CONFIG.essential_categories)
    status = {row["customer_id"]: row for row in routine_status(cohort.customers, gaps, CONFIG.essential_categories).iter_rows(named=True)}
    assert status["K1"]["missing_essentials"] == ["toner", "moisturizer", "spf"]
    assert status["K1"]["routine_completeness"] == pytest.approx(2 / 5)
    assert status["K3"]["missing_essentials"] == ["cleanser", "toner", "serum", "moisturizer", "spf"]
    assert status["K3"]["routine_completeness"] == 0.0
    assert status["K4"]["missing_essentials"] == []
    assert status["K4"]["routine_completeness"] == 1.0


def test_tier1_missing_essential_counts(tier1):
    cohort = _cohort(tier1)
    gaps = routine_gaps(cohort.customers, cohort.holdings, CONFIG.essential_categories)
    counts = dict(gaps.group_by("category").len().iter_rows())
    assert counts == {"spf": 8, "toner": 6, "serum": 6, "cleanser": 5, "moisturizer": 5}


def test_gap_offers_pick_one_product_per_missing_category_at_the_preferred_tier(mini):
    cohort = _cohort(mini)
    gaps = routine_gaps(cohort.customers, cohort.holdings, CONFIG.essential_categories)
    offers = routine_gap_offers(cohort.customers, cohort.holdings, gaps, cohort.products, CONFIG)
    # K3 owns nothing and states no tier: Tier 1 picks, not the Tier 2 cleanser B1 or serum B3.
    assert sorted(offers.filter(pl.col("customer_id") == "K3")["offer_id"]) == ["A1", "A2", "A3", "A4", "A5"]
    assert sorted(offers.filter(pl.col("customer_id") == "K1")["offer_id"]) == ["A2", "A4", "A5"]
    assert offers.filter(pl.col("customer_id") == "K4").is_empty()


def test_gap_pick_prefers_concern_match_then_lower_price_within_the_tier(tiered):
    # C005 (acne, Tier 2 preference) lacks toner. Tier 2 toners: P104 $31.99 targets acne, P105 $29.50 does not:
    # the concern match outranks the lower price.
    cohort = _cohort(tiered, ["C005"])
    gaps = routine_gaps(cohort.customers, cohort.holdings, CONFIG.essential_categories)
    offers = routine_gap_offers(cohort.customers, cohort.holdings, gaps, cohort.products, CONFIG)
    toner = offers.filter(pl.col("category") == "toner").row(0, named=True)
    assert toner["offer_id"] == "P104"


def test_replenishment_due_and_due_soon(mini):
    cohort = _cohort(mini)
    offers = replenishment_offers(cohort.holdings, AS_OF, due_soon_days=7).sort("customer_id", "offer_id")
    rows = offers.select("customer_id", "offer_id", "days_since_purchase", "due_date", "replenishment_status").rows()
    assert rows == [
        # A1 bought 2024-02-01: 29 days, 30-day cycle, due 2024-03-02, within 7 days -> due soon.
        ("K1", "A1", 29, date(2024, 3, 2), "due_soon"),
        # A3 bought 2024-01-01: 60 days on a 30-day cycle -> due since 2024-01-31.
        ("K1", "A3", 60, date(2024, 1, 31), "due"),
    ]


def test_replenishment_window_is_a_knob(mini):
    cohort = _cohort(mini)
    offers = replenishment_offers(cohort.holdings, AS_OF, due_soon_days=0)
    assert _pairs(offers) == {("K1", "A3")}


def test_a_product_bought_after_the_as_of_date_is_not_owned_yet(mini):
    cohort = _cohort(mini, ["K2"], as_of=date(2024, 2, 22))
    # K2 bought A3 on 2024-02-20 and A1 on 2024-02-25.
    assert cohort.holdings["product_id"].to_list() == ["A3"]


def test_cross_sells_skip_owned_products(mini):
    cohort = _cohort(mini)
    offers = cross_sell_offers(cohort.holdings, mini.cross_sells, cohort.products)
    # K4 owns A1-A5: of A4's complements A5 and A6 only the mask A6 is new.
    assert _pairs(offers.filter(pl.col("customer_id") == "K4")) == {("K4", "A6")}
    k1 = offers.filter(pl.col("customer_id") == "K1").sort("offer_id")
    assert k1.select("offer_id", "source_product_id", "source_name").rows() == [
        ("A2", "A1", "Basic Cleanser"),
        ("A4", "A1", "Basic Cleanser"),
    ]


def test_upgrades_follow_the_path_and_the_gates(mini):
    cohort = _cohort(mini)
    offers = tier_upgrade_offers(cohort.customers, cohort.holdings, cohort.products, CONFIG)
    # K1: low sensitivity. K2: high sensitivity + bronze -> none. K4: high but platinum -> allowed.
    assert _pairs(offers) == {("K1", "B1"), ("K1", "B3"), ("K4", "B1"), ("K4", "B3")}
    assert offers.filter(pl.col("offer_id") == "B3")["source_product_id"].unique().to_list() == ["A3"]


def test_upgrades_stay_within_reach_of_the_tier_preference(mini):
    cohort = _cohort(mini)
    no_reach = CONFIG.model_copy(update={"max_tiers_above_preference": 0})
    offers = tier_upgrade_offers(cohort.customers, cohort.holdings, cohort.products, no_reach)
    assert _pairs(offers) == {("K4", "B1"), ("K4", "B3")}  # K4 prefers Tier 2 already


def test_scenario_1_and_4_on_the_tiered_data(tiered):
    cohort = _cohort(tiered, ["C001", "C004"])
    offers = tier_upgrade_offers(cohort.customers, cohort.holdings, cohort.products, CONFIG)
    assert set(offers["customer_id"]) == {"C001"}
    assert (offers["tier"] == 2).all()


def test_bundle_price_and_worth(mini):
    cohort = _cohort(mini)
    gaps = routine_gaps(cohort.customers, cohort.holdings, CONFIG.essential_categories)
    gap_offers = routine_gap_offers(cohort.customers, cohort.holdings, gaps, cohort.products, CONFIG)
    bundles = {row["customer_id"]: row for row in bundle_offers(gap_offers, CONFIG).iter_rows(named=True)}
    assert set(bundles) == {"K1", "K2", "K3"}  # K4 misses nothing
    k1 = bundles["K1"]
    assert k1["offer_id"] == "BUNDLE-A2-A4-A5"
    assert k1["product_ids"] == ["A2", "A4", "A5"]
    assert k1["bundle_categories"] == ["toner", "moisturizer", "spf"]
    assert k1["list_price"] == pytest.approx(12 + 16 + 14)
    assert k1["price"] == pytest.approx(35.70)  # 42 x 0.85
    assert k1["margin_value"] == pytest.approx((12 * 0.75 + 16 + 14) * 0.85)
    assert bundles["K3"]["price"] == pytest.approx(61.20)  # (10 + 12 + 20 + 16 + 14) x 0.85


def test_no_bundle_for_a_single_missing_essential(mini):
    cohort = _cohort(mini)
    gaps = routine_gaps(cohort.customers, cohort.holdings, CONFIG.essential_categories)
    gap_offers = routine_gap_offers(cohort.customers, cohort.holdings, gaps, cohort.products, CONFIG)
    three_needed = CONFIG.model_copy(update={"bundle_min_items": 4})
    assert set(bundle_offers(gap_offers, three_needed)["customer_id"]) == {"K3"}
