"""Offers from learned signals: evidence, the named source, the score features, and the switch."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from support import AS_OF, MINI_CATALOG, MINI_CUSTOMERS, rows, write_data

from cross_sell_upsell.configuration import OrchestratorConfig, SignalSettings
from cross_sell_upsell.data.dataset import load_dataset
from cross_sell_upsell.models.ease import EaseModel
from cross_sell_upsell.offers.candidates import cross_sell_offers, routine_status
from cross_sell_upsell.offers.cohort import select_cohort
from cross_sell_upsell.offers.learned import learned_offers
from cross_sell_upsell.offers.scoring import score_offers
from cross_sell_upsell.pipeline.api import analyze_cohort
from cross_sell_upsell.snapshot.build import build_snapshot

SIGNALS_OFF = OrchestratorConfig(signals=SignalSettings(enabled=False))

# Three more customers who bought the Basic Cleanser A1 and the Calm Mask A6 together on one day.
MASK_BUYERS = rows(
    "customer_id | name | loyalty_tier | lifetime_value | churn_risk | price_sensitivity | skin_concerns | products_owned",
    *(
        f"{customer} | x | silver | 100.0 | 0.5 | medium | [] | "
        '[{"product_id": "A1", "purchase_date": "2024-02-10"}, {"product_id": "A6", "purchase_date": "2024-02-10"}]'
        for customer in ("K5", "K6", "K7")
    ),
)


@pytest.fixture()
def mask_data(tmp_path):
    return load_dataset(write_data(tmp_path / "masks", MINI_CATALOG, MINI_CUSTOMERS + MASK_BUYERS))


def link_table(*lines: str) -> pl.DataFrame:
    """Learned links laid out as a table under the header source_key | product_key | link | rule_lift | source."""
    return pl.DataFrame(
        rows("source_key | product_key | link | rule_lift | source", *lines),
        schema={
            "source_key": pl.UInt32,
            "product_key": pl.UInt32,
            "link": pl.Float64,
            "rule_lift": pl.Float64,
            "source": pl.String,
        },
    )


@pytest.fixture()
def k1(mini):
    """K1's cohort: K1 owns A1 (key 0) and A3 (key 2)."""
    return select_cohort(build_snapshot(mini, AS_OF, SIGNALS_OFF), ["K1"])


def test_learned_offers_sum_the_evidence_and_name_the_strongest_link(k1):
    links = link_table(
        "0          | 5           | 0.5  | 2.0       | basket_rule",
        "2          | 5           | 0.3  | null      | similar_customers",
        "0          | 4           | 0.4  | null      | similar_customers",
        "2          | 0           | 0.9  | null      | similar_customers",
    )
    offers = learned_offers(k1.holdings, links, k1.products, limit=10)
    got = offers.select("product_key", "source", "source_key", "link", "rule_lift", "evidence_share").rows()
    # A6 (key 5): evidence 0.5 + 0.3 = 0.8, the strongest link the rule from A1; A5 (key 4): 0.4 / 0.8 = 0.5.
    # A1 (key 0) is owned, so A3's link to it proposes nothing.
    assert got == [(5, "basket_rule", 0, 0.5, 2.0, 1.0), (4, "similar_customers", 0, 0.4, None, 0.5)]
    assert learned_offers(k1.holdings, links, k1.products, limit=1).get_column("product_key").to_list() == [5]


def test_ease_chooses_which_linked_products_are_kept(k1):
    links = link_table(
        "0          | 5           | 0.5  | null      | similar_customers",
        "0          | 4           | 0.4  | null      | similar_customers",
        "0          | 3           | 0.3  | null      | similar_customers",
    )
    # EASE models A1 (key 0), A4 (key 3) and A5 (key 4), not A6 (key 5): from A1, A4 scores 0.2 and A5 0.1.
    ease = EaseModel(
        product_keys=np.array([0, 3, 4]),
        weights=np.array([[0.0, 0.2, 0.1], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32),
        regularization=1.0,
        validation={},
        validation_customers=0,
    )
    chosen = learned_offers(k1.holdings, links, k1.products, limit=2, ease=ease)
    # A4 and A5 have EASE scores, so they are kept before A6 (the most evidence, no score); listed by evidence.
    assert chosen.select("product_key", "evidence_share").rows() == [(4, 0.8), (3, 0.6)]
    # Without EASE the two with the most evidence.
    assert learned_offers(k1.holdings, links, k1.products, limit=2).get_column("product_key").to_list() == [5, 4]


def test_equal_links_name_the_lowest_owned_id_and_a_zero_link_is_no_evidence(k1):
    links = link_table(
        "2          | 5           | 0.4  | null      | similar_customers",
        "0          | 5           | 0.4  | null      | similar_customers",
        "0          | 4           | 0.0  | null      | similar_customers",
    )
    offers = learned_offers(k1.holdings, links, k1.products, limit=10)
    # A6 (key 5): evidence 0.8 from two links of 0.4, named after A1 (the lower id); A5's only link is 0.
    assert offers.select("product_key", "source_key", "link", "evidence_share").rows() == [(5, 0, 0.4, 1.0)]


def test_a_learned_cross_sell_end_to_end(mask_data):
    # Baskets (customer days): K1 x2, K2 x2, K4 x1, K5-K7 x1 = 8. A1 in 6 (K1, K2, K4, K5, K6, K7), A6 in 3, both in 3:
    # rule A1 -> A6: support 3/8, confidence 3/6 = 0.5, lift 0.5 / (3/8) = 1.333.
    # Buyers of A1 6, of A6 3, both 3: cosine 3 / sqrt(18) = 0.7071; prices $10 and $18: 1 - 8/18 = 0.5556;
    # similarity 0.84 x 0.7071 + 0.16 x 0.5556 = 0.6829. K1 owns A1, not A6: evidence 0.5 + 0.6829 = 1.1829,
    # its strongest link is the similarity, so the source is similar customers; share 1 -> affinity 100, no rule lift.
    k1 = analyze_cohort(["K1"], as_of=AS_OF, dataset=mask_data)["opportunities"]
    mask = k1.filter(pl.col("offer_id") == "A6").row(0, named=True)
    proposed = (mask["type"], mask["source"], mask["source_product_id"])
    assert proposed == ("product_cross_sell", "similar_customers", "A1")
    assert (mask["affinity"], mask["lift"]) == (100.0, 0.0)
    # $18 medium = 18; fit 76.25; no routine step, no urgency, no dryness: (40x18 + 30x76.25 + 20x100) / 135 = 37.093
    assert mask["score"] == pytest.approx(37.09)
    assert mask["rationale"] == "Customers who buy Basic Cleanser also buy it (similarity 0.68)."
    off = analyze_cohort(["K1"], as_of=AS_OF, dataset=mask_data, config=SIGNALS_OFF)["opportunities"]
    assert "A6" not in off.get_column("offer_id").to_list()
    assert set(off.get_column("source")) <= {"catalog", "routine_gap", "replenishment", "upgrade"}


def test_a_basket_rule_names_its_confidence_and_lift(mask_data):
    # With the similarity weighted 0, the rule A1 -> A6 (confidence 0.5, lift 1.333) is the strongest link:
    # affinity 100 (the only evidence), lift 100 x (1.333 - 1) / (5 - 1) = 8.33.
    # (720 + 2287.5 + 20 x 100 + 5 x 8.333) / 135 = 5049.17 / 135 = 37.401
    config = OrchestratorConfig(signals=SignalSettings(similarity_weight=0.0, price_similarity_weight=0.0))
    k1 = analyze_cohort(["K1"], as_of=AS_OF, dataset=mask_data, config=config)["opportunities"]
    mask = k1.filter(pl.col("offer_id") == "A6").row(0, named=True)
    assert (mask["source"], mask["affinity"], mask["lift"]) == ("basket_rule", 100.0, pytest.approx(8.33))
    assert mask["score"] == pytest.approx(37.40)
    assert mask["rationale"] == "Bought in 50% of baskets with Basic Cleanser, 1.3x as often as in baskets overall."


def test_equal_scores_keep_the_catalog_offer(mini):
    cohort = select_cohort(build_snapshot(mini, AS_OF, SIGNALS_OFF), ["K1"])
    catalog = cross_sell_offers(cohort.holdings, cohort.cross_sells, cohort.products)
    learned = catalog.with_columns(source=pl.lit("basket_rule").cast(catalog.schema["source"]))
    routine = routine_status(cohort.customers, cohort.holdings, cohort.products, cohort.essentials)
    scored = score_offers(pl.concat([learned, catalog]), cohort.customers, routine, SIGNALS_OFF)
    assert scored.select("product_key", "source").rows() == [(3, "catalog"), (1, "catalog")]


def test_the_customer_report_names_the_source_of_a_cross_sell(mask_data):
    from datetime import datetime

    from cross_sell_upsell.pipeline.api import analyze_customer
    from cross_sell_upsell.reporting.customer import render_markdown

    report = analyze_customer("K1", as_of=AS_OF, dataset=mask_data)
    assert [offer.source for offer in report.opportunities if offer.product_id == "A6"] == ["similar_customers"]
    text = render_markdown(report, top_n=20, generated_at=datetime(2024, 3, 1))
    assert "- **Type:** Cross-sell (proposed by: Similar customers)" in text
    assert "| Cross-sell | Similar customers | $18.00 | - | 37.09 |" in text  # no acceptance model: no probability
