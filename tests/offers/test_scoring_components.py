"""Each score component, the weighted mean, the tie-breaks and the de-duplication of `score_offers`, computed by
hand on offer rows built here (no graph).

Bits of the masks: concerns dryness 1, acne 2, aging 4, redness 8; essentials cleanser 1, toner 2, serum 4,
moisturizer 8, spf 16. The customers' fit without the price (loyalty + (1 - churn) + min(1, lifetime value / 500)):
0 gold: 0.75 + 0.8 + 0.5 = 2.05, penalty 0 (low); 1 bronze: 0.25 + 0.6 + min(1, 2) = 1.85, penalty 1 (high);
2 silver: 0.5 + 1.0 + 0.2 = 1.7, penalty 0.5 (medium). Default weights 40/30/20/10/10 and 20/5 for affinity and
lift: 135 with learned signals on, 110 with them off. Columns a table leaves out are null.
"""

from __future__ import annotations

import polars as pl
import pytest
from offer_tables import sideways, table, typed

from cross_sell_upsell.configuration import OrchestratorConfig, SignalSettings
from cross_sell_upsell.data.dataset import PRODUCT_SCHEMA, Dataset
from cross_sell_upsell.offers.candidates import CANDIDATE_SCHEMA, bundle_offers
from cross_sell_upsell.offers.scoring import effective_weights, score_offers
from cross_sell_upsell.snapshot.build import keyed_products

ESSENTIALS = ("cleanser", "toner", "serum", "moisturizer", "spf")
CONCERNS = ("dryness", "acne", "aging", "redness")

CUSTOMERS = table(
    {"customer_key": pl.UInt32(), "concern_mask": pl.UInt64()},
    "customer_key | loyalty_tier | predicted_clv  | churn_probability | price_sensitivity | concern_mask",
    "0            | gold         | 250.0          | 0.2               | low               | 1",
    "1            | bronze       | 1000.0         | 0.4               | high              | 0",
    "2            | silver       | 100.0          | 0.0               | medium            | 7",
)
"""Customer 0 has dryness; 1 has no concern; 2 has dryness, acne and aging."""

ROUTINE = table(
    {"customer_key": pl.UInt32(), "owned_mask": pl.UInt64(), "missing_mask": pl.UInt64()},
    "customer_key | owned_mask | missing_mask",
    "0            | 5          | 26",
    "1            | 23         | 8",
    "2            | 0          | 31",
)
"""Customer 0 owns a cleanser and a serum; 1 lacks only a moisturizer; 2 owns no essential."""

CONFIG = OrchestratorConfig()


def offers(header: str, *lines: str) -> pl.DataFrame:
    """Candidate offers (`CANDIDATE_SCHEMA`) with a `label` column naming each row."""
    return table(CANDIDATE_SCHEMA, header, *lines)


def scored(candidates: pl.DataFrame, config: OrchestratorConfig = CONFIG) -> pl.DataFrame:
    return score_offers(candidates, CUSTOMERS, ROUTINE, config)


def by_label(frame: pl.DataFrame, column: str) -> dict[str, float]:
    return dict(frame.select("label", column).iter_rows())


def test_business_value_is_price_times_margin_multiplier_capped_at_100():
    catalog = table(
        PRODUCT_SCHEMA,
        "product_id | category | price | margin",
        "P1         | toner    | 40.0  | low",
        "P2         | toner    | 40.0  | medium",
        "P3         | toner    | 40.0  | high",
        "P4         | toner    | 40.0  | premium",
        "P5         | serum    | 80.0  | premium",
    )
    dataset = Dataset(products=catalog, cross_sells=pl.DataFrame(), customers=pl.DataFrame(), ownership=pl.DataFrame())
    products = keyed_products(dataset.products, ESSENTIALS, CONCERNS, CONFIG.margin_multipliers)
    # 40 x 0.75, 40 x 1, 40 x 1.5, 40 x 2, 80 x 2
    assert products["margin_value"].to_list() == pytest.approx([30.0, 40.0, 60.0, 80.0, 160.0])
    candidates = typed(
        products.select(
            "product_key",
            "price",
            "margin_value",
            customer_key=0,
            type=pl.lit("product_cross_sell"),
            source=pl.lit("catalog"),
        ).with_columns(label=pl.col("product_key").cast(pl.String)),
        CANDIDATE_SCHEMA,
    )
    # min(100, 100 x margin value / 100): 30, 40, 60, 80 and min(100, 160) = 100
    assert by_label(scored(candidates), "business_value") == pytest.approx(
        {"0": 30.0, "1": 40.0, "2": 60.0, "3": 80.0, "4": 100.0}
    )
    # The reference is what earns 100 points: 100 x margin value / 200
    half = scored(candidates, OrchestratorConfig(business_value_reference=200.0))
    assert by_label(half, "business_value") == pytest.approx({"0": 15.0, "1": 20.0, "2": 30.0, "3": 40.0, "4": 80.0})


@pytest.mark.parametrize(
    ("discount", "price", "margin_value"),
    [
        # 42 x 0.85 = 35.70; (9 + 16 + 14) x 0.85 = 39 x 0.85 = 33.15
        (0.15, 35.70, 33.15),
        # 42 x 0.8 = 33.60; 39 x 0.8 = 31.20
        (0.20, 33.60, 31.20),
    ],
)
def test_a_bundle_is_worth_its_members_sum_at_the_discount(discount, price, margin_value):
    # Customer 0's gap picks, in routine order: a $12 low-margin toner (worth 9), a $16 moisturizer for dryness
    # and a $14 spf.
    gaps = offers(
        "customer_key | product_key | tier | price | margin_value | concern_mask",
        "0            | 1           | 1    | 12.0  | 9.0          | 0",
        "0            | 3           | 1    | 16.0  | 16.0         | 1",
        "0            | 4           | 1    | 14.0  | 14.0         | 0",
    )
    config = OrchestratorConfig(bundle_discount=discount)
    bundle = bundle_offers(gaps, config)
    assert bundle["bundle_keys"].to_list() == [[1, 3, 4]]
    assert bundle["list_price"].item() == pytest.approx(42.0)  # 12 + 16 + 14
    assert bundle["price"].item() == pytest.approx(price)
    assert bundle["margin_value"].item() == pytest.approx(margin_value)
    row = scored(bundle.with_columns(label=pl.lit("bundle")), config).row(0, named=True)
    assert row["business_value"] == pytest.approx(margin_value)  # 100 x margin value / 100
    assert row["routine_completeness"] == 100.0  # every bundle fills missing essentials
    assert row["fills_missing_essential"] is True
    assert row["concern_match"] == 100.0  # the moisturizer targets dryness, customer 0's only concern


def test_customer_fit_averages_price_fit_loyalty_retention_and_predicted_clv():
    candidates = offers(
        "label       | customer_key | type               | source  | product_key | price",
        "gold $40    | 0            | product_cross_sell | catalog | 1           | 40.0",
        "bronze $40  | 1            | product_cross_sell | catalog | 1           | 40.0",
        "bronze $150 | 1            | product_cross_sell | catalog | 2           | 150.0",
        "silver $40  | 2            | product_cross_sell | catalog | 1           | 40.0",
    )
    assert by_label(scored(candidates), "customer_fit") == pytest.approx(
        {
            "gold $40": 76.25,  # 25 x ((1 - 0 x 0.4) + 2.05) = 25 x 3.05
            "bronze $40": 61.25,  # 25 x ((1 - 1 x 0.4) + 1.85) = 25 x 2.45
            "bronze $150": 46.25,  # 25 x ((1 - 1 x min(1, 1.5)) + 1.85) = 25 x 1.85
            "silver $40": 62.5,  # 25 x ((1 - 0.5 x 0.4) + 1.7) = 25 x 2.5
        }
    )


def test_routine_completeness_is_100_for_a_missing_essential_50_for_an_owned_one_else_0():
    # Customer 0 owns a cleanser (1) and a serum (4), and misses a toner (2), a moisturizer (8) and an spf (16).
    candidates = offers(
        "label               | customer_key | type               | source        | product_key | essential_bit",
        "toner gap           | 0            | routine_gap        | routine_gap   | 1           | 2",
        "moisturizer cross   | 0            | product_cross_sell | catalog       | 2           | 8",
        "bundle              | 0            | bundle             | routine_gap   | null        | 0",
        "cleanser restock    | 0            | replenishment      | replenishment | 3           | 1",
        "serum upgrade       | 0            | tier_upgrade       | upgrade       | 4           | 4",
        "cleanser cross-sell | 0            | product_cross_sell | catalog       | 5           | 1",
        "mask restock        | 0            | replenishment      | replenishment | 6           | 0",
        "mask upgrade        | 0            | tier_upgrade       | upgrade       | 7           | 0",
    )
    result = scored(candidates)
    assert by_label(result, "routine_completeness") == {
        "toner gap": 100.0,  # fills a missing essential
        "moisturizer cross": 100.0,  # so does a cross-sell in a missing category
        "bundle": 100.0,  # a bundle always does
        "cleanser restock": 50.0,  # keeps an owned essential stocked
        "serum upgrade": 50.0,  # upgrades an owned essential
        "cleanser cross-sell": 0.0,  # another product for an owned essential is neither
        "mask restock": 0.0,  # not an essential
        "mask upgrade": 0.0,
    }
    filling = {"toner gap", "moisturizer cross", "bundle"}
    assert by_label(result, "fills_missing_essential") == {label: label in filling for label in result["label"]}


def test_replenishment_urgency_is_the_share_of_the_cycle_capped_at_100():
    candidates = offers(
        "label         | customer_key | type          | source        | product_key | days_since_purchase | cycle_days",
        "half          | 0            | replenishment | replenishment | 1           | 15                  | 30",
        "almost        | 0            | replenishment | replenishment | 2           | 29                  | 30",
        "overdue       | 0            | replenishment | replenishment | 3           | 60                  | 30",
        "just bought   | 0            | replenishment | replenishment | 4           | 0                   | 45",
        "not a restock | 0            | tier_upgrade  | upgrade       | 5           | 60                  | 30",
    )
    assert by_label(scored(candidates), "replenishment_urgency") == pytest.approx(
        {
            "half": 50.0,  # 100 x 15 / 30
            "almost": 96.67,  # 100 x 29 / 30 = 96.666, rounded to 2 decimals
            "overdue": 100.0,  # 100 x min(1, 60 / 30)
            "just bought": 0.0,  # 100 x 0 / 45
            "not a restock": 0.0,  # only replenishment offers are urgent
        }
    )


def test_concern_match_is_the_share_of_the_customers_concerns_targeted():
    candidates = offers(
        "label               | customer_key | type               | source  | product_key | concern_mask",
        "dryness for 2       | 2            | product_cross_sell | catalog | 1           | 1",
        "dryness+aging for 2 | 2            | product_cross_sell | catalog | 2           | 5",
        "redness for 2       | 2            | product_cross_sell | catalog | 3           | 8",
        "all four for 2      | 2            | product_cross_sell | catalog | 4           | 15",
        "three for 1         | 1            | product_cross_sell | catalog | 1           | 7",
        "dryness+acne for 0  | 0            | product_cross_sell | catalog | 1           | 3",
    )
    assert by_label(scored(candidates), "concern_match") == pytest.approx(
        {
            "dryness for 2": 33.33,  # 100 x 1 / 3 of dryness, acne, aging
            "dryness+aging for 2": 66.67,  # 100 x 2 / 3
            "redness for 2": 0.0,  # 100 x 0 / 3
            "all four for 2": 100.0,  # 100 x 3 / 3: concerns the customer lacks add nothing
            "three for 1": 0.0,  # customer 1 has no concern
            "dryness+acne for 0": 100.0,  # 100 x 1 / 1
        }
    )


def test_affinity_is_the_learned_evidence_share():
    candidates = offers(
        "label     | customer_key | type               | source            | product_key | evidence_share",
        "rule half | 0            | product_cross_sell | basket_rule       | 1           | 0.5",
        "rule best | 0            | product_cross_sell | basket_rule       | 2           | 1.0",
        "similar   | 0            | product_cross_sell | similar_customers | 3           | 0.6",
        "restock   | 0            | replenishment      | replenishment     | 4           | 0.25",
        "catalog   | 0            | product_cross_sell | catalog           | 5           | null",
    )
    # 100 x the share: the strongest evidence, or the customer's staple restock, earns 100; none earns 0
    assert by_label(scored(candidates), "affinity") == pytest.approx(
        {"rule half": 50.0, "rule best": 100.0, "similar": 60.0, "restock": 25.0, "catalog": 0.0}
    )


def test_lift_is_the_basket_rules_lift_over_chance():
    candidates = offers(
        "label    | customer_key | type               | source            | product_key | rule_lift",
        "lift 3   | 0            | product_cross_sell | basket_rule       | 1           | 3.0",
        "lift 9   | 0            | product_cross_sell | basket_rule       | 2           | 9.0",
        "lift 1   | 0            | product_cross_sell | basket_rule       | 3           | 1.0",
        "lift 0.8 | 0            | product_cross_sell | basket_rule       | 4           | 0.8",
        "no rule  | 0            | product_cross_sell | similar_customers | 5           | null",
    )
    # 100 x min(1, (lift - 1) / (5 - 1)), never below 0
    assert by_label(scored(candidates), "lift") == pytest.approx(
        {
            "lift 3": 50.0,  # 100 x 2 / 4
            "lift 9": 100.0,  # 100 x min(1, 8 / 4)
            "lift 1": 0.0,  # chance: 100 x 0 / 4
            "lift 0.8": 0.0,  # below chance: 100 x -0.2 / 4, raised to 0
            "no rule": 0.0,
        }
    )
    # With lift_reference 3, lift 3 earns the full 100 points: 100 x 2 / 2
    steeper = scored(candidates, OrchestratorConfig(signals=SignalSettings(lift_reference=3.0)))
    assert by_label(steeper, "lift")["lift 3"] == pytest.approx(100.0)


WEIGHTED = (
    "label               | restock       | rule cross",
    "customer_key        | 0             | 0",
    "type                | replenishment | product_cross_sell",
    "source              | replenishment | basket_rule",
    "product_key         | 4             | 7",
    "essential_bit       | 4             | 8",
    "price               | 20.0          | 60.0",
    "margin_value        | 30.0          | 90.0",
    "concern_mask        | 1             | 0",
    "days_since_purchase | 45            | null",
    "cycle_days          | 30            | null",
    "evidence_share      | 0.5           | 1.0",
    "rule_lift           | null          | 2.0",
)
"""Customer 0's serum restock and a moisturizer a basket rule proposes. Their components:
restock: business value 30, fit 76.25, routine 50 (owned serum), urgency 100 (min(1, 45 / 30)), concern 100
(dryness), affinity 50, lift 0; rule cross: 90, 76.25, 100 (missing moisturizer), 0, 0, 100, 100 x (2 - 1) / 4 = 25."""


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # restock: 40x30 + 30x76.25 + 20x50 + 10x100 + 10x100 + 20x50 + 5x0 = 7487.5 / 135 = 55.463
        # rule cross: 40x90 + 30x76.25 + 20x100 + 0 + 0 + 20x100 + 5x25 = 10012.5 / 135 = 74.167
        (CONFIG, {"rule cross": 74.17, "restock": 55.46}),
        # Learned signals off: affinity and lift weigh nothing. restock: 7487.5 - 1000 = 6487.5 / 110 = 58.977;
        # rule cross: 10012.5 - 2000 - 125 = 7887.5 / 110 = 71.705
        (OrchestratorConfig(signals=SignalSettings(enabled=False)), {"rule cross": 71.70, "restock": 58.98}),
        # Business value 0 and concern match 30, weights summing to 30 + 20 + 10 + 30 + 20 + 5 = 115.
        # restock: 7487.5 - 1200 + 2000 = 8287.5 / 115 = 72.065; rule cross: 10012.5 - 3600 = 6412.5 / 115 = 55.761
        (CONFIG.with_weights(business_value=0, concern_match=30), {"restock": 72.07, "rule cross": 55.76}),
    ],
    ids=["default weights", "signals off", "changed weights"],
)
def test_score_is_the_weighted_mean_of_the_components(config, expected):
    result = scored(sideways(CANDIDATE_SCHEMA, *WEIGHTED), config)
    assert dict(zip(result["label"], result["score"], strict=True)) == pytest.approx(expected)
    assert result["label"].to_list() == list(expected)  # ranked by score
    assert result["rank"].to_list() == [1, 2]


def test_learned_signals_off_zero_the_learned_weights():
    weights = effective_weights(OrchestratorConfig(signals=SignalSettings(enabled=False)))
    assert weights == {
        "business_value": 40.0,
        "customer_fit": 30.0,
        "routine_completeness": 20.0,
        "replenishment_urgency": 10.0,
        "concern_match": 10.0,
        "affinity": 0.0,
        "lift": 0.0,
    }


def test_equal_scores_break_ties_by_type_then_source_then_higher_price_then_id():
    # Only concern match weighs, and customer 1 has no concern: every offer scores 0.
    concern_only = CONFIG.with_weights(
        business_value=0, customer_fit=0, routine_completeness=0, replenishment_urgency=0, affinity=0, lift=0
    )
    candidates = offers(
        "label         | customer_key | type               | source            | product_key | price | id_order",
        "bundle        | 1            | bundle             | routine_gap       | null        | 99.0  | 0",
        "similar       | 1            | product_cross_sell | similar_customers | 6           | 80.0  | 6",
        "rule          | 1            | product_cross_sell | basket_rule       | 5           | 60.0  | 5",
        "catalog $30 b | 1            | product_cross_sell | catalog           | 4           | 30.0  | 4",
        "catalog $30 a | 1            | product_cross_sell | catalog           | 3           | 30.0  | 3",
        "also a        | 1            | product_cross_sell | similar_customers | 3           | 30.0  | 3",
        "catalog $45   | 1            | product_cross_sell | catalog           | 7           | 45.0  | 7",
        "upgrade       | 1            | tier_upgrade       | upgrade           | 2           | 10.0  | 2",
        "restock       | 1            | replenishment      | replenishment     | 1           | 10.0  | 1",
        "gap           | 1            | routine_gap        | routine_gap       | 8           | 5.0   | 8",
    )
    result = scored(candidates, concern_only)
    assert set(result["score"]) == {0.0}
    # Type order (gap, restock, upgrade, cross-sell, bundle) first whatever the price; among cross-sells the source
    # (catalog, basket rule, similar customers), then the higher price, then the lower id. Product 3, proposed
    # twice at the same score, is kept from the earlier source.
    assert result["label"].to_list() == [
        "gap",
        "restock",
        "upgrade",
        "catalog $45",
        "catalog $30 a",
        "catalog $30 b",
        "rule",
        "similar",
        "bundle",
    ]
    assert result["rank"].to_list() == list(range(1, 10))


def test_a_product_proposed_twice_is_offered_once_under_its_best_score():
    candidates = sideways(
        CANDIDATE_SCHEMA,
        "label          | serum cross        | serum up     | moist gap   | moist rule         | moist gap 1",
        "customer_key   | 0                  | 0            | 0           | 0                  | 1",
        "type           | product_cross_sell | tier_upgrade | routine_gap | product_cross_sell | routine_gap",
        "source         | catalog            | upgrade      | routine_gap | basket_rule        | routine_gap",
        "product_key    | 4                  | 4            | 7           | 7                  | 7",
        "essential_bit  | 4                  | 4            | 8           | 8                  | 8",
        "price          | 40.0               | 40.0         | 20.0        | 20.0               | 20.0",
        "margin_value   | 60.0               | 60.0         | 20.0        | 20.0               | 20.0",
        "evidence_share | null               | null         | null        | 1.0                | null",
        "rule_lift      | null               | null         | null        | 3.0                | null",
    )
    result = scored(candidates)
    assert result.select("customer_key", "label", "rank", "score").rows() == [
        # moist rule: 40x20 + 30x76.25 + 20x100 + 20x100 + 5x50 = 7337.5 / 135 = 54.35, over
        # moist gap: 800 + 2287.5 + 2000 = 5087.5 / 135 = 37.69, though the gap comes first in type order
        (0, "moist rule", 1, pytest.approx(54.35)),
        # serum up: 40x60 + 2287.5 + 20x50 = 5687.5 / 135 = 42.13, over
        # serum cross: 2400 + 2287.5 = 4687.5 / 135 = 34.72
        (0, "serum up", 2, pytest.approx(42.13)),
        # Another customer's offer of the same product is theirs: fit 25 x ((1 - 0.2) + 1.85) = 66.25;
        # 800 + 30x66.25 + 2000 = 4787.5 / 135 = 35.46
        (1, "moist gap 1", 1, pytest.approx(35.46)),
    ]
