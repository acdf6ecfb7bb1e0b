"""Scores computed by hand for customer K1 of the mini data (support.py), as of 2024-03-01.

K1: gold (0.75), low price sensitivity (penalty 0), churn 0.2, lifetime value 250 (250/500 = 0.5), concerns [dryness].
Customer fit for every K1 offer = 100 x (1 + 0.75 + 0.8 + 0.5) / 4 = 76.25. Weights 40/30/20/10/10, sum 110, plus
affinity 20 and lift 5 with learned signals on: sum 135.

Learned signals change no K1 offer: the mini log has no pair in 3 baskets (min_count), so no basket rule; A1 and
A3 (three buyers each, all three buy both) are each other's only neighbours, and K1 owns both; every product was
bought on one day only, so no restock has a habit. Affinity and lift are 0, and only the divisor moves.

K1 owns the cleanser A1 and the serum A3, each a step of the routine with one offer: the upgrades B3 (weighted
sum 7487.5) and B1 (5087.5) outscore the restocks A3 (6487.5) and A1 (4654.17), which are therefore not made.
"""

from __future__ import annotations

import polars as pl
import pytest
from support import AS_OF

from cross_sell_upsell.configuration import OrchestratorConfig, SignalSettings
from cross_sell_upsell.pipeline.api import analyze_cohort

EXPECTED_K1 = [
    # offer, type, business value, routine, urgency, concern, weighted sum (divided by 110 or 135 below)
    # B3: $40 premium (x2) = 80; upgrades an owned serum (50); targets dryness (100).
    # 40x80 + 30x76.25 + 20x50 + 0 + 10x100 = 7487.5 -> 68.068 of 110, 55.463 of 135
    ("B3", "tier_upgrade", 80.0, 50.0, 0.0, 100.0, 7487.5),
    # Bundle A2+A4+A5: worth (12x0.75 + 16 + 14) x 0.85 = 33.15; fills gaps (100); A4 targets dryness (100).
    # 40x33.15 + 2287.5 + 2000 + 0 + 1000 = 6613.5 -> 60.123 of 110, 48.989 of 135
    ("BUNDLE-A2-A4-A5", "bundle", 33.15, 100.0, 0.0, 100.0, 6613.5),
    # A4: $16 medium = 16; fills the moisturizer gap (100); dryness (100). 640 + 2287.5 + 2000 + 1000 = 5927.5
    # -> 53.886 of 110, 43.907 of 135
    ("A4", "routine_gap", 16.0, 100.0, 0.0, 100.0, 5927.5),
    # B1: $30 high = 45; upgrades the owned cleanser (50); targets acne (0). 1800 + 2287.5 + 1000 = 5087.5
    # -> 46.25 of 110, 37.685 of 135
    ("B1", "tier_upgrade", 45.0, 50.0, 0.0, 0.0, 5087.5),
    # A5: $14 medium = 14; fills spf (100). 560 + 2287.5 + 2000 = 4847.5 -> 44.068 of 110, 35.907 of 135
    ("A5", "routine_gap", 14.0, 100.0, 0.0, 0.0, 4847.5),
    # A2: $12 low (x0.75) = 9; fills toner (100). 360 + 2287.5 + 2000 = 4647.5 -> 42.25 of 110, 34.426 of 135
    ("A2", "routine_gap", 9.0, 100.0, 0.0, 0.0, 4647.5),
]


@pytest.fixture(scope="module")
def mini_output(tmp_path_factory):
    from support import MINI_CATALOG, MINI_CUSTOMERS, write_data

    folder = write_data(tmp_path_factory.mktemp("mini"), MINI_CATALOG, MINI_CUSTOMERS)
    return analyze_cohort(None, as_of=AS_OF, data_dir=folder)


@pytest.mark.parametrize(("signals", "weight_sum"), [(True, 135.0), (False, 110.0)])
def test_k1_scores_and_ranking(mini, signals, weight_sum):
    config = OrchestratorConfig(signals=SignalSettings(enabled=signals))
    k1 = analyze_cohort(["K1"], as_of=AS_OF, dataset=mini, config=config)["opportunities"].sort("rank")
    got = k1.select(
        "offer_id", "type", "business_value", "routine_completeness", "replenishment_urgency", "concern_match", "score"
    ).rows()
    assert [row[:2] for row in got] == [row[:2] for row in EXPECTED_K1]
    for actual, expected in zip(got, EXPECTED_K1, strict=True):
        assert actual[2:6] == pytest.approx(expected[2:6], abs=0.006)
        assert actual[6] == pytest.approx(expected[6] / weight_sum, abs=0.006)
    assert k1["customer_fit"].to_list() == pytest.approx([76.25] * len(EXPECTED_K1))
    assert k1["affinity"].to_list() == k1["lift"].to_list() == [0.0] * len(EXPECTED_K1)
    assert k1["rank"].to_list() == list(range(1, len(EXPECTED_K1) + 1))


def test_potential_revenue_counts_a_bundle_instead_of_its_products(mini_output):
    summary = mini_output["customer_summaries"].filter(pl.col("customer_id") == "K1").row(0, named=True)
    # Bundle 35.70 + B3 40 + B1 30 (the serum and cleanser steps' offers); A2, A4, A5 are inside the bundle.
    assert summary["potential_revenue"] == pytest.approx(105.70)
    counted = mini_output["opportunities"].filter(pl.col("customer_id") == "K1", ~pl.col("counts_toward_revenue"))
    assert sorted(counted["offer_id"]) == ["A2", "A4", "A5"]


def test_price_sensitivity_lowers_fit_with_price(mini_output):
    k2 = (
        mini_output["opportunities"]
        .filter(pl.col("customer_id") == "K2", pl.col("offer_id") == "A4")
        .row(0, named=True)
    )
    # K2: high sensitivity (penalty 1) on $16 -> price fit 0.84; bronze 0.25; churn 0.4 -> 0.6; 100/500 = 0.2.
    assert k2["customer_fit"] == pytest.approx(100 * (0.84 + 0.25 + 0.6 + 0.2) / 4)


def test_no_product_is_offered_twice_or_while_owned(mini_output, tier1, tiered):
    for output in (
        mini_output,
        analyze_cohort(None, as_of=AS_OF, dataset=tier1),
        analyze_cohort(None, as_of=AS_OF, dataset=tiered),
    ):
        offers = output["opportunities"]
        assert offers.select("customer_id", "offer_id").is_duplicated().sum() == 0
        owned = output["customer_summaries"].select("customer_id", offer_id="products_owned").explode("offer_id")
        offered_while_owned = offers.join(owned, on=["customer_id", "offer_id"]).filter(
            pl.col("type") != "replenishment"
        )
        assert offered_while_owned.is_empty()


def test_weights_move_the_ranking(mini):
    concern_heavy = OrchestratorConfig().with_weights(concern_match=300)
    k1 = analyze_cohort(["K1"], as_of=AS_OF, dataset=mini, config=concern_heavy)["opportunities"]
    top_three = set(k1.sort("rank")["offer_id"].head(3))
    # With concern match dominant, the three dryness offers made lead: B3, A4 and the bundle (the serum restock A3
    # also targets dryness, but B3 outscores it for the serum step: 36487.5 against 35487.5 of 435).
    assert top_three == {"B3", "A4", "BUNDLE-A2-A4-A5"}


def test_equal_scores_break_ties_by_type_then_price_then_id(tier1):
    offers = analyze_cohort(None, as_of=AS_OF, dataset=tier1)["opportunities"]
    order = {"routine_gap": 0, "replenishment": 1, "tier_upgrade": 2, "product_cross_sell": 3, "bundle": 4}
    # The bundle's own products keep their order among themselves but come after the bundle (test_needs.py), so
    # the two kinds of offer are checked apart.
    for (_, covered), group in offers.group_by("customer_id", ~pl.col("counts_toward_revenue")):
        keys = [
            (-row["score"], order[row["type"]], -row["price"], row["offer_id"])
            for row in group.sort("rank").iter_rows(named=True)
        ]
        assert keys == sorted(keys)
        if covered:
            bundle_rank = offers.filter(pl.col("customer_id") == group["customer_id"][0], pl.col("type") == "bundle")
            assert group["rank"].min() > bundle_rank["rank"].item()


def test_alternatives_for_a_missing_essential_count_once(tier1, tiered):
    # C002 (tier1) misses cleanser, serum, moisturizer and SPF: the bundle ($57.77) covers them, so its members do
    # not count, and the cross-sold cleanser P001 is not offered (the bundle's cleanser is P010); the toner restock
    # P002 ($12.99) counts: 57.77 + 12.99 = 70.76.
    c002 = analyze_cohort(["C002"], as_of=AS_OF, dataset=tier1)
    counted = c002["opportunities"].filter("counts_toward_revenue").select("offer_id", "price").rows()
    assert counted == [("BUNDLE-P010-P003-P004-P005", 57.77), ("P002", 12.99)]
    assert c002["customer_summaries"]["potential_revenue"].item() == pytest.approx(70.76)
    assert "P001" not in c002["opportunities"]["offer_id"].to_list()
    # C003 (tiered) misses only toner, so there is no bundle: of the gap pick P205 (rank 2) and the cross-sold
    # toner P207 (ranked 4th before) only the better-ranked one is offered, and counts.
    c003 = analyze_cohort(["C003"], as_of=AS_OF, dataset=tiered)["opportunities"]
    toners = c003.filter(pl.col("category") == "toner").select("offer_id", "rank", "counts_toward_revenue").rows()
    assert toners == [("P205", 2, True)]
