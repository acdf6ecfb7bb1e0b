"""The batch aggregates on hand-built cohorts, with every expected figure worked out by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.configuration.acceptance import AcceptanceSettings
from cross_sell_upsell.models.acceptance import AcceptanceModel
from cross_sell_upsell.pipeline.priority import top_rows
from cross_sell_upsell.pipeline.totals import BatchResult, Limits, Totals, chunk_totals, combine
from cross_sell_upsell.reporting.executive.segments import churn_distribution, clv_distribution, segment_table

CONFIG = OrchestratorConfig()  # essentials cleanser, toner, serum, moisturizer, spf; lifetime value reference $500

SUMMARY_COLUMNS = (
    "customer_id",
    "name",
    "loyalty_tier",
    "lifetime_value",
    "churn_risk",
    "price_sensitivity",
    "tier_preference",
    "missing_essentials",
    "replenishment_due_count",
    "offer_count",
    "potential_revenue",
    "predicted_clv",
    "churn_probability",
    "p_alive",
    "model_source",
    "segment",
)
SUMMARY_SCHEMA = {
    "customer_id": pl.String,
    "name": pl.String,
    "loyalty_tier": pl.String,
    "lifetime_value": pl.Float64,
    "churn_risk": pl.Float64,
    "price_sensitivity": pl.String,
    "tier_preference": pl.Int8,
    "missing_essentials": pl.List(pl.String),
    "replenishment_due_count": pl.UInt32,
    "offer_count": pl.UInt32,
    "potential_revenue": pl.Float64,
    "predicted_clv": pl.Float64,
    "churn_probability": pl.Float64,
    "p_alive": pl.Float64,
    "model_source": pl.String,
    "segment": pl.String,
}
# Cohort A: Ann and Ben. Cohort B: Cat (and Dee, who has most likely left, in the win-back tests).
SUMMARIES = [
    # id    name  loyalty  lifetime churn sens. pref missing     due offers revenue  CLV    churn  alive source  segment
    ("A1", "Ann", "gold", 250.0, 0.2, "low", 2, ["toner", "spf"], 1, 4, 55.00, 250.0, 0.2, 0.8, "model", "Regulars"),
    ("A2", "Ben", "bronze", 1000.0, 0.0, "high", None, ["spf"], 0, 2, 57.06, 1000.0, 0.0, 1.0, "model", "Regulars"),
    ("B1", "Cat", "gold", 0.0, 0.5, "low", 2, [], 2, 2, 45.00, 0.0, 0.5, 0.5, "fallback", "No purchase yet"),
    ("B2", "Dee", "gold", 800.0, 0.9, "low", 2, [], 0, 1, 30.00, 20.0, 0.9, 0.1, "model", "Lapsing"),
]
"""Ann: bundle 40 + restock 15; Ben: gap 27.06 + cross-sell 30; Cat: restocks 15 + 30, P(alive) exactly at the
win-back threshold (0.5), so still on the priority list; Dee: P(alive) 0.1, a win-back offer of 30."""
OFFER_SCHEMA = {
    "customer_id": pl.String,
    "rank": pl.UInt32,
    "offer_id": pl.String,
    "type": pl.String,
    "source": pl.String,
    "product_ids": pl.List(pl.String),
    "name": pl.String,
    "price": pl.Float64,
    "score": pl.Float64,
    "counts_toward_revenue": pl.Boolean,
    "replenishment_status": pl.String,
    "rationale": pl.String,
    "rationale_source": pl.String,
    "segment": pl.String,
}
OFFERS = [
    # customer rank offer          type             source         products (bundles only) name  price  score counts status
    ("A1", 1, "BUNDLE-T1-S1", "bundle", "routine_gap", ["T1", "S1"], "Bundle", 40.00, 70.0, True, None),
    ("A1", 2, "T1", "routine_gap", "routine_gap", None, "Toner", 20.00, 60.0, False, None),
    ("A1", 3, "S1", "routine_gap", "routine_gap", None, "Sunscreen", 27.06, 55.0, False, None),
    ("A1", 4, "C1", "replenishment", "replenishment", None, "Cleanser", 15.00, 50.0, True, "due"),
    ("A2", 1, "S1", "routine_gap", "routine_gap", None, "Sunscreen", 27.06, 65.0, True, None),
    ("A2", 2, "M1", "product_cross_sell", "basket_rule", None, "Mask", 30.00, 40.0, True, None),
    ("B1", 1, "C1", "replenishment", "replenishment", None, "Cleanser", 15.00, 80.0, True, "due_soon"),
    ("B1", 2, "M1", "replenishment", "replenishment", None, "Mask", 30.00, 45.0, True, "due"),
    ("B2", 1, "M1", "replenishment", "replenishment", None, "Mask", 30.00, 60.0, True, "win_back"),
]
CATALOG = pl.DataFrame(
    [
        ("T1", "Toner", "toner", 1, 20.00),
        ("S1", "Sunscreen", "spf", 1, 27.06),
        ("C1", "Cleanser", "cleanser", 1, 15.00),
        ("M1", "Mask", "mask", 1, 30.00),
    ],
    schema={"product_id": pl.String, "name": pl.String, "category": pl.String, "tier": pl.Int8, "price": pl.Float64},
    orient="row",
)


def summaries(*ids: str) -> pl.DataFrame:
    """The customers' summaries without an acceptance model: no expected revenue."""
    rows = [row for row in SUMMARIES if row[0] in ids]
    return pl.DataFrame(rows, schema=SUMMARY_SCHEMA, orient="row").with_columns(
        expected_revenue=pl.lit(None, dtype=pl.Float64)
    )


def offers(*ids: str) -> pl.DataFrame:
    segment_of = {row[0]: row[-1] for row in SUMMARIES}  # an offer row carries its customer's segment
    rows = [(*row, f"why {row[2]}", "template", segment_of[row[0]]) for row in OFFERS if row[0] in ids]
    return pl.DataFrame(rows, schema=OFFER_SCHEMA, orient="row").with_columns(
        expected_revenue=pl.lit(None, dtype=pl.Float64)
    )


def totals(*ids: str, limits: Limits | None = None) -> Totals:
    return chunk_totals(offers(*ids), summaries(*ids), CONFIG, limits or Limits())


def result(folded: Totals, acceptance: AcceptanceModel | None = None) -> BatchResult:
    return BatchResult(
        acceptance=acceptance,
        as_of=date(2024, 3, 1),
        source="hand-built",
        config=CONFIG,
        catalog=CATALOG,
        customers_requested=3,
        totals=folded,
        errors=pl.DataFrame(schema={"customer_id": pl.String, "error": pl.String}),
    )


@pytest.fixture
def folded() -> BatchResult:
    """Cohort A then cohort B, folded the way run_batch folds its chunks."""
    return result(combine(combine(Totals(), totals("A1", "A2"), Limits()), totals("B1"), Limits()))


def test_headline_figures(folded: BatchResult) -> None:
    assert folded.customers_processed == 3
    assert folded.totals.offers == 8
    assert folded.total_potential_revenue == pytest.approx(157.06)  # 55.00 + 57.06 + 45.00
    assert folded.average_potential_revenue == pytest.approx(52.35)  # 157.06 / 3 = 52.353
    assert folded.average_offers == pytest.approx(2.67)  # 8 / 3


def test_bundle_and_its_products_are_not_both_counted(folded: BatchResult) -> None:
    # Ann's bundle ($40) holds T1 ($20) and S1 ($27.06): only the bundle counts, plus her $15 restock = $55.
    mix = {row["type"]: row for row in folded.opportunity_mix().iter_rows(named=True)}
    assert mix["bundle"]["potential_revenue"] == pytest.approx(40.00)
    assert mix["routine_gap"]["potential_revenue"] == pytest.approx(27.06)  # Ben's S1 only: he has no bundle
    assert sum(row["potential_revenue"] for row in mix.values()) == pytest.approx(folded.total_potential_revenue)


def test_source_mix_counts_every_source(folded: BatchResult) -> None:
    assert folded.source_mix().rows() == [
        # source, offers, share of 8, customers, revenue, share of $157.06
        ("catalog", 0, 0.0, 0, 0.0, 0.0),
        ("basket_rule", 1, 12.5, 1, 30.00, 19.1),  # Ben's mask: 30 / 157.06
        ("similar_customers", 0, 0.0, 0, 0.0, 0.0),
        ("routine_gap", 4, 50.0, 2, 67.06, 42.7),  # Ann's bundle 40 (not T1, S1 inside it) + Ben's S1 27.06
        ("replenishment", 3, 37.5, 2, 60.00, 38.2),  # Ann's C1 15, Cat's C1 15 and M1 30
        ("upgrade", 0, 0.0, 0, 0.0, 0.0),
    ]


def test_most_common_gaps_cover_every_essential_in_routine_order_on_ties(folded: BatchResult) -> None:
    assert folded.most_common_gaps().rows() == [
        ("spf", 2, 66.7),  # Ann and Ben: 2 / 3
        ("toner", 1, 33.3),  # Ann: 1 / 3
        ("cleanser", 0, 0.0),
        ("serum", 0, 0.0),
        ("moisturizer", 0, 0.0),
    ]


def test_opportunity_mix(folded: BatchResult) -> None:
    assert folded.opportunity_mix().rows() == [
        # type, offers, % of 8 offers, customers, revenue, % of $157.06
        ("routine_gap", 3, 37.5, 2, 27.06, 17.2),  # 27.06 / 157.06 = 17.23%
        ("replenishment", 3, 37.5, 2, 60.0, 38.2),  # 15 + 15 + 30; 60 / 157.06 = 38.20%
        ("tier_upgrade", 0, 0.0, 0, 0.0, 0.0),
        ("product_cross_sell", 1, 12.5, 1, 30.0, 19.1),  # 30 / 157.06 = 19.10%
        ("bundle", 1, 12.5, 1, 40.0, 25.5),  # 40 / 157.06 = 25.47%
    ]


def test_revenue_by_segment(folded: BatchResult) -> None:
    # segment, customers, revenue, % of $157.06, average per customer
    assert folded.revenue_by_segment("loyalty_tier").rows() == [
        ("bronze", 1, 57.06, 36.3, 57.06),
        ("gold", 2, 100.0, 63.7, 50.0),  # Ann 55 + Cat 45
    ]
    assert folded.revenue_by_segment("price_sensitivity").rows() == [
        ("low", 2, 100.0, 63.7, 50.0),
        ("high", 1, 57.06, 36.3, 57.06),
    ]
    assert folded.revenue_by_segment("tier_preference").rows() == [
        ("2", 2, 100.0, 63.7, 50.0),
        (None, 1, 57.06, 36.3, 57.06),  # Ben states none
    ]


def test_customer_figures_by_segment_and_band(folded: BatchResult) -> None:
    # name, source, customers, mean spend, mean CLV, mean churn, revenue, type and product offered most
    assert segment_table(folded).rows() == [
        # Cat: two restocks, C1 and M1 once each: the tie goes to the first id
        ("No purchase yet", "none", 1, 0.0, 0.0, 0.5, 45.00, "replenishment", "C1", "Cleanser"),
        # Ann and Ben: routine gaps T1, S1 and S1; S1 three times (in Ann's bundle, alone, Ben's)
        ("Regulars", "none", 2, 625.0, 625.0, 0.1, 112.06, "routine_gap", "S1", "Sunscreen"),
    ]
    assert folded.revenue_by_segment("segment").rows() == [
        ("No purchase yet", 1, 45.0, 28.7, 45.0),
        ("Regulars", 2, 112.06, 71.3, 56.03),
    ]
    # CLV: Cat 0 (<$50), Ann 250 ($250-$500), Ben 1000 ($1,000-$2,500); churn: Ann 0.2, Ben 0, Cat 0.5
    assert clv_distribution(folded).get_column("customers").to_list() == [1, 0, 0, 1, 0, 1, 0]
    assert churn_distribution(folded).rows() == [
        ("<25%", 2, 66.7),
        ("25%-50%", 0, 0.0),
        ("50%-75%", 1, 33.3),
        (">=75%", 0, 0.0),
    ]


def test_segment_nobody_states_is_empty() -> None:
    no_preference = summaries("A2")
    assert (
        result(chunk_totals(offers("A2"), no_preference, CONFIG, Limits()))
        .revenue_by_segment("tier_preference")
        .is_empty()
    )


def test_replenishment_due_by_product(folded: BatchResult) -> None:
    assert folded.replenishment_due().rows() == [
        ("C1", "Cleanser", 1, 1, 2, 30.0),  # Ann due, Cat due soon: 2 x $15
        ("M1", "Mask", 1, 0, 1, 30.0),  # Cat due
    ]


def test_most_recommended_products(folded: BatchResult) -> None:
    table = folded.most_recommended().select("product_id", "customers", "in_bundle", "top_offer")
    assert table.rows() == [
        ("S1", 2, 1, 2),  # Ann (in her rank-1 bundle, and alone) and Ben (his rank 1)
        ("C1", 2, 0, 1),  # Ann (rank 4), Cat (rank 1)
        ("M1", 2, 0, 0),  # Ben and Cat, rank 2 each
        ("T1", 1, 1, 1),  # Ann, alone and in her rank-1 bundle: one customer
    ]


def test_priority_formula_and_order(folded: BatchResult) -> None:
    # potential revenue x (1 - churn probability) x (1 + min(1, predicted CLV / 500))
    priority = folded.priority_customers().select("customer_id", "priority", "lead_offer_id")
    assert priority.rows() == [
        ("A2", 114.12, "S1"),  # 57.06 x (1 - 0.0) x (1 + min(1, 1000 / 500)) = 57.06 x 1 x 2
        ("A1", 66.00, "BUNDLE-T1-S1"),  # 55.00 x (1 - 0.2) x (1 + 250 / 500) = 55 x 0.8 x 1.5
        ("B1", 22.50, "C1"),  # 45.00 x (1 - 0.5) x (1 + 0 / 500)
    ]
    assert folded.totals.model_customers == 2  # Ann and Ben; Cat has the fallback values


EXPECTED = {
    # (customer, offer): probability x price, rounded to cents, as `results.flag_revenue` gives it
    ("A1", "BUNDLE-T1-S1"): 10.00,  # 0.25 x 40
    ("A1", "T1"): 10.00,  # 0.5 x 20, but in Ann's bundle: not sent on its own
    ("A1", "S1"): 2.71,  # 0.1 x 27.06, in the bundle too
    ("A1", "C1"): 12.00,  # 0.8 x 15
    ("A2", "S1"): 5.41,  # 0.2 x 27.06
    ("A2", "M1"): 9.00,  # 0.3 x 30
    ("B1", "C1"): 6.00,  # 0.4 x 15
    ("B1", "M1"): 3.00,  # 0.1 x 30
}
"""With an acceptance model: Ann expects 10 + 12 = 22.00 (the bundle's products do not count again), Ben
5.41 + 9 = 14.41, Cat 6 + 3 = 9.00."""

FITTED = AcceptanceModel(AcceptanceSettings(), (), object(), 2_000, 100)
"""A run's acceptance model as the totals see it: fitted (the totals never call its estimator)."""


def test_with_an_acceptance_model_priority_and_the_lead_offer_follow_expected_revenue() -> None:
    expected = pl.DataFrame(
        [(customer, offer, value) for (customer, offer), value in EXPECTED.items()],
        schema={"customer_id": pl.String, "offer_id": pl.String, "expected_revenue": pl.Float64},
        orient="row",
    )
    ids = ("A1", "A2", "B1")
    with_offers = offers(*ids).drop("expected_revenue").join(expected, on=["customer_id", "offer_id"], how="left")
    per_customer = pl.DataFrame({"customer_id": list(ids), "expected_revenue": [22.00, 14.41, 9.00]})
    with_summaries = summaries(*ids).drop("expected_revenue").join(per_customer, on="customer_id")
    folded = result(chunk_totals(with_offers, with_summaries, CONFIG, Limits()), FITTED)
    assert folded.total_expected_revenue == pytest.approx(45.41)  # 22.00 + 14.41 + 9.00
    assert folded.average_expected_revenue == pytest.approx(15.14)  # 45.41 / 3 = 15.137
    assert folded.total_potential_revenue == pytest.approx(157.06)  # the upper bound stays
    assert folded.acceptance_note is None
    # expected revenue x (1 + min(1, predicted CLV / 500)); the lead: the sent offer expected to bring in most
    assert folded.priority_customers().select("customer_id", "priority", "lead_offer_id").rows() == [
        ("A1", 33.00, "C1"),  # 22.00 x 1.5; C1 12.00 beats the bundle's 10.00 (T1's 10.00 is in the bundle)
        ("A2", 28.82, "M1"),  # 14.41 x 2
        ("B1", 9.00, "C1"),  # 9.00 x 1
    ]
    assert "acceptance model" in folded.priority_definition()


def test_without_an_acceptance_model_there_is_no_expected_revenue(folded: BatchResult) -> None:
    assert folded.total_expected_revenue is None
    assert folded.average_expected_revenue is None
    assert folded.acceptance_note == (
        "Offers are ranked by the weighted score: expected revenue needs the acceptance model: not trained for this run."
    )
    assert folded.priority_definition().startswith("Priority = potential revenue x probability of buying")


def test_customers_who_have_most_likely_left_go_to_the_win_back_list() -> None:
    folded = result(combine(totals("A1", "A2"), totals("B1", "B2"), Limits()))
    assert folded.priority_customers().get_column("customer_id").to_list() == ["A2", "A1", "B1"]
    win_back = folded.win_back_list().select("customer_id", "lifetime_value", "p_alive", "lead_offer_id")
    assert win_back.rows() == [("B2", 800.0, 0.1, "M1")]  # P(alive) 0.1 < 0.5
    assert (folded.totals.win_back_customers, folded.totals.win_back_revenue_cents) == (1, 3000)
    # A win-back offer is no restock: Ann's C1 and Cat's C1 and M1, not Dee's M1.
    assert folded.replenishment_due().select("product_id", "customers").rows() == [("C1", 2), ("M1", 1)]
    assert folded.total_potential_revenue == pytest.approx(187.06)  # 157.06 + Dee's 30


def test_win_back_list_ranks_by_lifetime_value_and_keeps_k() -> None:
    lapsed = pl.DataFrame(
        [
            (f"W{n}", "", "gold", value, 0.8, "low", None, [], 0, 0, 10.0, 0.0, 1.0, 0.2, "model", "Lapsing")
            for n, value in enumerate([300.0, 900.0, 100.0, 900.0])
        ],
        schema=SUMMARY_SCHEMA,
        orient="row",
    ).with_columns(expected_revenue=pl.lit(None, dtype=pl.Float64))
    empty = offers()
    limits = Limits(top_win_back=3)
    kept = chunk_totals(empty, lapsed, CONFIG, limits).win_back
    assert kept.get_column("customer_id").to_list() == ["W1", "W3", "W0"]  # 900, 900 (ids break the tie), 300


def test_top_k_tables_keep_only_k_rows() -> None:
    limits = Limits(top_priority=2, top_opportunities=3)
    folded = combine(totals("A1", "A2", limits=limits), totals("B1", limits=limits), limits)
    assert folded.priority.get_column("customer_id").to_list() == ["A2", "A1"]
    assert folded.top_offers.select("customer_id", "offer_id", "score").rows() == [
        ("B1", "C1", 80.0),
        ("A1", "BUNDLE-T1-S1", 70.0),
        ("A2", "S1", 65.0),
    ]


def test_top_opportunities_leave_out_the_products_a_bundle_covers() -> None:
    limits = Limits(top_opportunities=5)
    folded = combine(totals("A1", "A2", limits=limits), totals("B1", limits=limits), limits)
    # Ann's T1 (60) and S1 (55) would rank 4th and 5th; they are in her bundle, which is listed (70).
    assert folded.top_offers.select("customer_id", "offer_id", "score").rows() == [
        ("B1", "C1", 80.0),
        ("A1", "BUNDLE-T1-S1", 70.0),
        ("A2", "S1", 65.0),
        ("A1", "C1", 50.0),
        ("B1", "M1", 45.0),
    ]


def test_top_k_breaks_ties_on_the_first_key_with_the_rest_of_the_order() -> None:
    ranked = pl.DataFrame(
        [("Z", 1, 70.0), ("C", 1, 65.0), ("A", 2, 65.0), ("A", 1, 65.0), ("Y", 1, 10.0)],
        schema={"customer_id": pl.String, "rank": pl.UInt32, "score": pl.Float64},
        orient="row",
    )
    # Score first, then the customer id, then the rank: three 65s compete for the last two places.
    top = top_rows(ranked, (["score", "customer_id", "rank"], [True, False, False]), 3)
    assert top.rows() == [("Z", 1, 70.0), ("A", 1, 65.0), ("A", 2, 65.0)]


@pytest.mark.parametrize("split", [("A1",), ("A1", "A2"), ("A2", "B1"), ("B2",), ("A1", "B2")])
def test_folding_chunks_equals_one_big_chunk(split: tuple[str, ...]) -> None:
    rest = tuple(customer for customer in ("A1", "A2", "B1", "B2") if customer not in split)
    chunked = result(combine(totals(*split), totals(*rest), Limits()))
    whole = result(totals("A1", "A2", "B1", "B2"))
    assert chunked.totals.revenue_cents == whole.totals.revenue_cents == 18706
    assert chunked.totals.win_back_revenue_cents == whole.totals.win_back_revenue_cents == 3000
    assert chunked.totals.model_customers == whole.totals.model_customers == 3
    for view in (
        "most_common_gaps",
        "opportunity_mix",
        "replenishment_due",
        "most_recommended",
        "priority_customers",
        "win_back_list",
        "top_opportunities",
    ):
        assert_frame_equal(getattr(chunked, view)(), getattr(whole, view)())
    for dimension in ("segment", "loyalty_tier", "price_sensitivity", "tier_preference"):
        assert_frame_equal(chunked.revenue_by_segment(dimension), whole.revenue_by_segment(dimension))
    for table in (segment_table, clv_distribution, churn_distribution):
        assert_frame_equal(table(chunked), table(whole))


def test_no_customers_gives_zero_figures() -> None:
    empty = result(Totals())
    assert (empty.customers_processed, empty.total_potential_revenue, empty.average_offers) == (0, 0.0, 0.0)
    assert empty.most_common_gaps().get_column("percentage").to_list() == [0.0] * 5
