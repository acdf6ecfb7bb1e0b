"""The run history's pure computations on hand-built tables: gaps opened and closed, the segment migration, the
headline deltas, and whether the previous run's offers sold."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from support import rows

from cross_sell_upsell.store.history import (
    NOT_IN_RUN,
    counted_offers,
    gap_changes,
    offer_matches,
    offer_outcomes,
    previous_offers_summary,
    previous_run_summary,
    segment_migration,
)
from cross_sell_upsell.store.writer import with_rationales

PREVIOUS_CUSTOMERS = pl.DataFrame(
    rows(
        "customer_id | segment | gap_categories",
        "C1          | A       | spf;toner",
        "C2          | A       | spf",
        "C3          | B       | ",
        "C4          | B       | serum",
    )
)
CURRENT_CUSTOMERS = pl.DataFrame(
    rows(
        "customer_id | segment | gap_categories",
        "C1          | B       | toner",
        "C2          | A       | serum;spf",
        "C3          | B       | spf",
        "C5          | A       | toner",
    )
)


def test_gaps_opened_and_closed_among_the_customers_of_both_runs() -> None:
    # C1 closed spf; C2 opened serum; C3 opened spf; C4 and C5 are in one run only and do not count.
    assert gap_changes(PREVIOUS_CUSTOMERS, CURRENT_CUSTOMERS).to_dicts() == [
        {"category": "serum", "new": 1, "resolved": 0},
        {"category": "spf", "new": 1, "resolved": 1},
    ]


def test_the_segment_migration_counts_every_customer_of_either_run() -> None:
    assert segment_migration(PREVIOUS_CUSTOMERS, CURRENT_CUSTOMERS).to_dicts() == [
        {"previous_segment": NOT_IN_RUN, "current_segment": "A", "customers": 1},  # C5
        {"previous_segment": "A", "current_segment": "A", "customers": 1},  # C2
        {"previous_segment": "A", "current_segment": "B", "customers": 1},  # C1
        {"previous_segment": "B", "current_segment": NOT_IN_RUN, "customers": 1},  # C4
        {"previous_segment": "B", "current_segment": "B", "customers": 1},  # C3
    ]


def test_the_deltas_are_this_run_minus_the_previous_one() -> None:
    previous = {
        "run_id": "r1",
        "as_of": date(2024, 3, 1),
        "customers_processed": 4,
        "customers_with_gaps": 3,
        "total_gaps": 4,
        "potential_revenue": 100.10,
        "expected_revenue": None,
    }
    current = {**previous, "customers_processed": 4, "customers_with_gaps": 4, "total_gaps": 5}
    current |= {"potential_revenue": 90.0, "expected_revenue": 12.5}
    summary = previous_run_summary(previous, current, PREVIOUS_CUSTOMERS, CURRENT_CUSTOMERS)
    assert (summary["run_id"], summary["as_of"]) == ("r1", "2024-03-01")
    assert summary["deltas"] == {
        "customers_processed": 0,
        "customers_with_gaps": 1,
        "total_gaps": 1,
        "potential_revenue": -10.1,
        "expected_revenue": None,  # the previous run had none
    }


OFFERS = pl.DataFrame(
    rows(
        "customer_id | rank | product_ids | offer_type   | source      | segment | probability",
        "C1          | 1    | P1          | routine_gap  | routine_gap | A       | 0.5",
        "C1          | 2    | P1;P2;P3    | bundle       | routine_gap | A       | 0.25",
        "C2          | 1    | P2          | tier_upgrade | upgrade     | B       | 0.25",
        "C3          | 1    | P4          | routine_gap  | routine_gap | B       | null",
    ),
    schema_overrides={"probability": pl.Float64},
)
PURCHASES = pl.DataFrame(
    rows(
        "customer_id | product_id | purchase_date | amount",
        "C1          | P1         | 2024-03-01    | 99.0",  # on the previous as-of date: before the window
        "C1          | P1         | 2024-03-03    | 10.0",  # the routine gap offer and the bundle
        "C1          | P3         | 2024-03-08    | 5.0",  # the bundle again
        "C2          | P1         | 2024-03-04    | 7.0",  # not offered to C2
        "C3          | P4         | 2024-03-09    | 3.0",  # after this as-of date
    )
).with_columns(pl.col("purchase_date").str.to_date())
PREVIOUS_RUN = {"run_id": "r1", "as_of": date(2024, 3, 1)}


def test_an_offer_matches_its_customers_purchases_of_any_of_its_products_in_the_window() -> None:
    matches = offer_matches(OFFERS, PURCHASES, date(2024, 3, 1), date(2024, 3, 8))
    assert sorted(matches.select("offer", "amount").rows()) == [(0, 10.0), (1, 5.0), (1, 10.0)]


def test_a_purchase_two_offers_name_counts_once_in_their_group() -> None:
    matches = offer_matches(OFFERS, PURCHASES, date(2024, 3, 1), date(2024, 3, 8))
    assert offer_outcomes(*counted_offers(OFFERS, matches), ["segment"]).to_dicts() == [
        # A: both C1 offers bought; revenue 10 + 5, the $10 purchase once though both offers name P1.
        {"segment": "A", "sent": 2, "bought": 2, "revenue": 15.0, "predicted": 0.75},
        {"segment": "B", "sent": 2, "bought": 0, "revenue": 0.0, "predicted": 0.25},
    ]


def test_expected_buys_are_summed_exactly_whatever_the_order_and_the_grouping() -> None:
    # In floating point 0.1 + 0.2 + 0.3 is 0.6000000000000001 and 0.3 + 0.2 + 0.1 is 0.6: probabilities are made
    # to 4 decimals, so they are summed in ten-thousandths, and every order and breakdown gives 0.6.
    offers = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "product_ids": ["P1", "P2", "P3"],
            "offer_type": ["routine_gap", "bundle", "routine_gap"],
            "source": ["routine_gap"] * 3,
            "segment": ["A", "A", "B"],
            "probability": [0.1, 0.2, 0.3],
        }
    )
    for ordered in (offers, offers.reverse()):
        summary, stored = previous_offers_summary(PREVIOUS_RUN, ordered, PURCHASES, date(2024, 3, 8), None)
        assert summary["predicted"] == 0.6
        assert [row["predicted"] for row in summary["by_source"]] == [0.6]
        assert sorted(stored.get_column("predicted").to_list()) == [0.1, 0.2, 0.3]


def test_expected_buys_are_the_nearest_number_to_their_ten_thousandths() -> None:
    # 4171080843 ten-thousandths: polars divides a column of two rows or more by 10,000 as a product with 1/10,000,
    # which gave 417108.08430000005.
    offers = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "product_ids": ["P1", "P2", "P3"],
            "offer_type": ["routine_gap"] * 3,
            "source": ["routine_gap"] * 3,
            "segment": ["A", "A", "B"],
            "probability": [0.5, 417107.5843, 0.25],  # not probabilities: the size of a big sum, in one row
        }
    )
    summary, _ = previous_offers_summary(PREVIOUS_RUN, offers, PURCHASES, date(2024, 3, 8), None)
    assert [row["predicted"] for row in summary["by_segment"]] == [417108.0843, 0.25]


def test_revenue_is_summed_in_cents_whatever_the_order_of_the_purchases() -> None:
    # Summed as floats, 0.1 + 0.2 + 0.3 + 0.005 is 0.6050000000000001 (0.61 in cents) and 0.005 + 0.3 + 0.2 + 0.1
    # is 0.605, just under it (0.6). In whole cents per purchase, as the sales views count (half a cent to even),
    # 10 + 20 + 30 + 0 = 60 in any order.
    offers = pl.DataFrame(
        {
            "customer_id": ["C1"],
            "product_ids": ["P1;P2;P3;P4"],
            "offer_type": ["bundle"],
            "source": ["routine_gap"],
            "segment": ["A"],
            "probability": [0.5],
        }
    )
    purchases = pl.DataFrame(
        {
            "customer_id": ["C1"] * 4,
            "product_id": ["P1", "P2", "P3", "P4"],
            "purchase_date": [date(2024, 3, 2)] * 4,
            "amount": [0.1, 0.2, 0.3, 0.005],
        }
    )
    for ordered in (purchases, purchases.reverse()):
        summary, _ = previous_offers_summary(PREVIOUS_RUN, offers, ordered, date(2024, 3, 8), None)
        assert summary["revenue"] == 0.6


def test_the_previous_offers_summary() -> None:
    summary, stored = previous_offers_summary(PREVIOUS_RUN, OFFERS, PURCHASES, date(2024, 3, 8), date(2024, 3, 9))
    assert {key: summary[key] for key in ("sent", "bought", "revenue", "predicted")} == {
        "sent": 4,
        "bought": 2,
        "revenue": 15.0,
        "predicted": 1.0,
    }
    assert summary["hit_rate"] == pytest.approx(0.5)
    assert summary["predicted_hit_rate"] == pytest.approx(0.25)  # 1.0 expected buys of 4 offers
    assert summary["log_last_purchase"] == "2024-03-09"
    assert [(row["offer_type"], row["sent"], row["bought"]) for row in summary["by_type"]] == [
        ("bundle", 1, 1),
        ("routine_gap", 2, 1),
        ("tier_upgrade", 1, 0),
    ]
    by_source = {row["source"]: row for row in summary["by_source"]}
    assert by_source["upgrade"]["hit_rate"] == 0.0
    assert by_source["routine_gap"]["predicted_hit_rate"] == pytest.approx(0.75 / 3)
    assert stored.select("previous_run_id", "offer_type", "segment", "sent", "bought", "revenue").rows() == [
        ("r1", "bundle", "A", 1, 1, 15.0),
        ("r1", "routine_gap", "A", 1, 1, 10.0),
        ("r1", "routine_gap", "B", 1, 0, 0.0),
        ("r1", "tier_upgrade", "B", 1, 0, 0.0),
    ]
    assert stored.filter(pl.col("segment") == "B", pl.col("offer_type") == "routine_gap")["predicted"][0] is None


def test_the_chat_models_rationales_replace_the_templates_of_the_offers_sent() -> None:
    offers = pl.DataFrame(
        rows(
            "customer_id | rank | product_id | rationale",
            "C1          | 1    | P1         | template one",
            "C1          | 2    | P2         | template two",
        )
    )
    updates = pl.DataFrame(rows("customer_id | offer_id | rationale | rationale_source", "C1 | P2 | model two | llm"))
    assert with_rationales(offers, updates).get_column("rationale").to_list() == ["template one", "model two"]
