"""Each business rule on the hand-built mini data (tables in support.py), as of 2024-03-01."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from support import AS_OF

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.offers.candidates import (
    bundle_offers,
    cross_sell_offers,
    replenishment_offers,
    routine_gap_offers,
    routine_gaps,
    routine_status,
    tier_upgrade_offers,
)
from cross_sell_upsell.offers.cohort import Cohort, select_cohort
from cross_sell_upsell.snapshot.build import build_snapshot

CONFIG = OrchestratorConfig()


def _cohort(dataset, ids=None, as_of=AS_OF, config=CONFIG) -> Cohort:
    return select_cohort(build_snapshot(dataset, as_of, config), ids)


def _readable(offers: pl.DataFrame, cohort: Cohort, *columns: str) -> pl.DataFrame:
    """Offers with customer and product ids in place of the integer keys, sorted."""
    return (
        offers.join(cohort.customers.select("customer_key", "customer_id"), on="customer_key")
        .join(cohort.products.select("product_key", "product_id"), on="product_key", how="left")
        .join(cohort.products.select(source_key="product_key", source_id="product_id"), on="source_key", how="left")
        .select("customer_id", "product_id", *columns)
        .sort("customer_id", "product_id")
    )


def _pairs(offers: pl.DataFrame, cohort: Cohort) -> set[tuple[str, str]]:
    return set(_readable(offers, cohort).iter_rows())


def _routine(cohort: Cohort) -> pl.DataFrame:
    return routine_status(cohort.customers, cohort.holdings, cohort.products, cohort.essentials)


def _gap_offers(cohort: Cohort, config=CONFIG) -> pl.DataFrame:
    gaps = routine_gaps(_routine(cohort), cohort.essentials)
    return routine_gap_offers(cohort.customers, gaps, cohort.products, config)


def test_missing_essentials_and_completeness(mini):
    cohort = _cohort(mini)
    status = _routine(cohort)
    by_id = dict(zip(cohort.customers["customer_id"], status.iter_rows(named=True), strict=True))
    assert by_id["K1"]["missing_essentials"] == ["toner", "moisturizer", "spf"]
    assert by_id["K1"]["routine_completeness"] == pytest.approx(2 / 5)
    assert by_id["K1"]["owned_mask"] == 0b00101  # cleanser (bit 0) and serum (bit 2)
    assert by_id["K1"]["missing_mask"] == 0b11010
    assert by_id["K3"]["missing_essentials"] == ["cleanser", "toner", "serum", "moisturizer", "spf"]
    assert by_id["K3"]["routine_completeness"] == 0.0
    assert by_id["K4"]["missing_essentials"] == []
    assert by_id["K4"]["routine_completeness"] == 1.0


def test_tier1_missing_essential_counts(tier1):
    cohort = _cohort(tier1)
    gaps = routine_gaps(_routine(cohort), cohort.essentials)
    positions = gaps.get_column("routine_position").to_list()
    counts = {category: positions.count(position) for position, category in enumerate(cohort.essentials)}
    assert counts == {"spf": 8, "toner": 6, "serum": 6, "cleanser": 5, "moisturizer": 5}


def test_gap_offers_pick_one_product_per_missing_category_at_the_preferred_tier(mini):
    cohort = _cohort(mini)
    pairs = _pairs(_gap_offers(cohort), cohort)
    # K3 owns nothing and states no tier: Tier 1 picks, not the Tier 2 cleanser B1 or serum B3.
    assert {product for customer, product in pairs if customer == "K3"} == {"A1", "A2", "A3", "A4", "A5"}
    assert {product for customer, product in pairs if customer == "K1"} == {"A2", "A4", "A5"}
    assert not any(customer == "K4" for customer, _ in pairs)


def test_gap_pick_prefers_concern_match_then_lower_price_within_the_tier(tiered):
    # C005 (acne, Tier 2 preference) lacks toner. Tier 2 toners: P104 $31.99 targets acne, P105 $29.50 does not:
    # the concern match outranks the lower price.
    cohort = _cohort(tiered, ["C005"])
    assert ("C005", "P104") in _pairs(_gap_offers(cohort), cohort)


def test_replenishment_due_and_due_soon(mini):
    cohort = _cohort(mini)
    offers = replenishment_offers(cohort.holdings, cohort.products, AS_OF, due_soon_days=7)
    rows = _readable(offers, cohort, "days_since_purchase", "due_date", "replenishment_status").rows()
    assert rows == [
        # A1 bought 2024-02-01: 29 days, 30-day cycle, due 2024-03-02, within 7 days -> due soon.
        ("K1", "A1", 29, date(2024, 3, 2), "due_soon"),
        # A3 bought 2024-01-01: 60 days on a 30-day cycle -> due since 2024-01-31.
        ("K1", "A3", 60, date(2024, 1, 31), "due"),
    ]


def test_replenishment_window_is_a_knob(mini):
    cohort = _cohort(mini)
    offers = replenishment_offers(cohort.holdings, cohort.products, AS_OF, due_soon_days=0)
    assert _pairs(offers, cohort) == {("K1", "A3")}


def test_a_product_bought_after_the_as_of_date_is_not_owned_yet(mini):
    cohort = _cohort(mini, ["K2"], as_of=date(2024, 2, 22))
    # K2 bought A3 on 2024-02-20 and A1 on 2024-02-25.
    owned = cohort.holdings.join(cohort.products, on="product_key")["product_id"].to_list()
    assert owned == ["A3"]


def test_cross_sells_skip_owned_products(mini):
    cohort = _cohort(mini)
    offers = _readable(cross_sell_offers(cohort.holdings, cohort.cross_sells, cohort.products), cohort, "source_id")
    # K4 owns A1-A5: of A4's complements A5 and A6 only the mask A6 is new.
    assert offers.filter(pl.col("customer_id") == "K4").rows() == [("K4", "A6", "A4")]
    # A1 recommends A2 and A4 to K1 (who owns A1 and A3).
    assert offers.filter(pl.col("customer_id") == "K1").rows() == [("K1", "A2", "A1"), ("K1", "A4", "A1")]


def test_upgrades_follow_the_path_and_the_gates(mini):
    cohort = _cohort(mini)
    offers = tier_upgrade_offers(cohort.customers, cohort.holdings, cohort.products, CONFIG)
    # K1: low sensitivity. K2: high sensitivity + bronze -> none. K4: high but platinum -> allowed.
    assert set(_readable(offers, cohort, "source_id").iter_rows()) == {
        ("K1", "B1", "A1"),
        ("K1", "B3", "A3"),
        ("K4", "B1", "A1"),
        ("K4", "B3", "A3"),
    }


def test_upgrades_stay_within_reach_of_the_tier_preference(mini):
    no_reach = CONFIG.model_copy(update={"max_tiers_above_preference": 0})
    cohort = _cohort(mini, config=no_reach)
    offers = tier_upgrade_offers(cohort.customers, cohort.holdings, cohort.products, no_reach)
    assert _pairs(offers, cohort) == {("K4", "B1"), ("K4", "B3")}  # K4 prefers Tier 2 already


def test_scenario_1_and_4_on_the_tiered_data(tiered):
    cohort = _cohort(tiered, ["C001", "C004"])
    offers = tier_upgrade_offers(cohort.customers, cohort.holdings, cohort.products, CONFIG)
    assert {customer for customer, _ in _pairs(offers, cohort)} == {"C001"}
    assert (offers["tier"] == 2).all()


def test_bundle_price_and_worth(mini):
    cohort = _cohort(mini)
    bundles = bundle_offers(_gap_offers(cohort), CONFIG)
    ids = cohort.customers["customer_id"]
    product_ids = cohort.products["product_id"]
    by_id = {ids[row["customer_key"]]: row for row in bundles.iter_rows(named=True)}
    assert set(by_id) == {"K1", "K2", "K3"}  # K4 misses nothing
    k1 = by_id["K1"]
    assert [product_ids[key] for key in k1["bundle_keys"]] == ["A2", "A4", "A5"]  # routine order
    assert k1["list_price"] == pytest.approx(12 + 16 + 14)
    assert k1["price"] == pytest.approx(35.70)  # 42 x 0.85
    assert k1["margin_value"] == pytest.approx((12 * 0.75 + 16 + 14) * 0.85)
    assert by_id["K3"]["price"] == pytest.approx(61.20)  # (10 + 12 + 20 + 16 + 14) x 0.85


def test_no_bundle_below_the_minimum_missing(mini):
    cohort = _cohort(mini)
    four_needed = CONFIG.model_copy(update={"bundle_min_items": 4})
    bundles = bundle_offers(_gap_offers(cohort), four_needed)
    assert [cohort.customers["customer_id"][key] for key in bundles["customer_key"]] == ["K3"]


def test_an_empty_routine_means_no_gaps_and_no_bundles(mini):
    # A grocer has no routine: nothing is missing, completeness is 1, and no gap or bundle is offered.
    config = OrchestratorConfig(essential_categories=())
    cohort = _cohort(mini, config=config)
    routine = routine_status(cohort.customers, cohort.holdings, cohort.products, cohort.essentials)
    assert routine.select("missing_essentials", "routine_completeness").unique().rows() == [([], 1.0)]
    gaps = routine_gaps(routine, cohort.essentials)
    assert gaps.is_empty()
    assert bundle_offers(routine_gap_offers(cohort.customers, gaps, cohort.products, config), config).is_empty()
