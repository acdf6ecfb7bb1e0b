"""One offer per need through the graph: the cases of issue 12 on the shipped data sets, and the rules as
invariants over every customer of a synthetic log."""

from __future__ import annotations

import polars as pl
import pytest
from support import AS_OF, synthetic_dataset

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.synth import SUGGESTED_AS_OF
from cross_sell_upsell.pipeline.api import analyze_cohort

ESSENTIALS = OrchestratorConfig().essential_categories
SYNTHETIC_CONFIG = OrchestratorConfig(offers_per_category=2)
"""A cap low enough that synthetic customers reach it in the categories outside the routine."""


def offers_of(dataset, customer_id: str) -> list[tuple]:
    output = analyze_cohort([customer_id], as_of=AS_OF, dataset=dataset)
    return output["opportunities"].sort("rank").select("rank", "offer_id", "type", "counts_toward_revenue").rows()


def test_tier1_c004_is_not_led_to_a_product_of_her_bundle(tier1):
    # Before: P004 (moisturizer, in her bundle) led as a learned cross-sell. It now follows the bundle.
    assert offers_of(tier1, "C004") == [
        (1, "P003", "replenishment", True),
        (2, "BUNDLE-P004-P005", "bundle", True),
        (3, "P004", "product_cross_sell", False),
        (4, "P005", "routine_gap", False),
        (5, "P001", "replenishment", True),
        (6, "P002", "replenishment", True),
    ]


def test_tier1_c009_gets_her_bundles_cleanser_only(tier1):
    # Before: led to the cleanser P001 while her bundle holds P010. P001 is no longer offered.
    assert offers_of(tier1, "C009") == [
        (1, "BUNDLE-P010-P002-P005", "bundle", True),
        (2, "P003", "replenishment", True),
        (3, "P005", "routine_gap", False),
        (4, "P010", "routine_gap", False),
        (5, "P002", "routine_gap", False),
    ]


def test_tiered_c007_gets_one_offer_per_step_of_her_complete_routine(tiered):
    # Before: three cleansers and four serums, $673.88. Now one upgrade per step and the eye cream (outside the
    # routine): 64.99 + 84.99 + 64.99 + 124.99 + 29.50 + 52.99 = 422.45.
    output = analyze_cohort(["C007"], as_of=AS_OF, dataset=tiered)
    offers = output["opportunities"].sort("rank")
    assert offers.select("offer_id", "category", "type").rows() == [
        ("P201", "cleanser", "tier_upgrade"),
        ("P209", "serum", "tier_upgrade"),
        ("P220", "spf", "tier_upgrade"),
        ("P217", "moisturizer", "tier_upgrade"),
        ("P105", "toner", "tier_upgrade"),
        ("P120", "eye_cream", "product_cross_sell"),
    ]
    assert output["customer_summaries"]["potential_revenue"].item() == pytest.approx(422.45)


@pytest.fixture(scope="module")
def synthetic_offers(tmp_path_factory) -> pl.DataFrame:
    """Every offer to 2,000 synthetic customers, with the categories of the products each customer owns."""
    dataset = synthetic_dataset(tmp_path_factory.mktemp("synth"), 2000, 11)
    output = analyze_cohort(None, as_of=SUGGESTED_AS_OF, dataset=dataset, config=SYNTHETIC_CONFIG)
    categories = dict(dataset.products.select("product_id", "category").iter_rows())
    owned = output["customer_summaries"].select(
        "customer_id",
        owned_categories=pl.col("products_owned").list.eval(pl.element().replace_strict(categories)).list.unique(),
    )
    bundles = output["opportunities"].filter(pl.col("type") == "bundle")
    return (
        output["opportunities"]
        .join(owned, on="customer_id", how="left")
        .join(
            bundles.select("customer_id", bundle_ids="product_ids", bundled="bundle_categories"),
            on="customer_id",
            how="left",
        )
    )


def test_synthetic_log_has_one_single_offer_per_essential_category(synthetic_offers):
    singles = synthetic_offers.filter(pl.col("type") != "bundle", pl.col("category").is_in(ESSENTIALS))
    assert singles.height > 5_000  # the invariants below are about a real spread of offers
    assert singles.select("customer_id", "category").is_duplicated().sum() == 0
    owned_step = singles.filter(pl.col("owned_categories").list.contains(pl.col("category")))
    assert set(owned_step["type"]) == {"replenishment", "tier_upgrade"}


def test_synthetic_log_never_contradicts_a_bundle(synthetic_offers):
    bundled = synthetic_offers.filter(pl.col("type") != "bundle", pl.col("bundled").list.contains(pl.col("category")))
    assert bundled.height > 1_000
    # A single offer for a step the bundle fills is the bundle's product, counts for nothing and never leads.
    assert bundled.filter(~pl.col("bundle_ids").list.contains(pl.col("offer_id"))).is_empty()
    assert not bundled["counts_toward_revenue"].any()
    leads = synthetic_offers.filter(pl.col("rank") == 1, pl.col("bundle_ids").is_not_null())
    assert leads.filter(pl.col("bundled").list.contains(pl.col("category"))).is_empty()


def test_synthetic_log_caps_categories_outside_the_routine(synthetic_offers):
    others = synthetic_offers.filter(pl.col("type") != "bundle", ~pl.col("category").is_in(ESSENTIALS))
    per_kind = others.group_by("customer_id", "category", restock=pl.col("type") == "replenishment").len()
    assert per_kind["len"].max() == SYNTHETIC_CONFIG.offers_per_category
