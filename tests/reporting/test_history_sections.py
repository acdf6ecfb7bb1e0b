"""The run history's sections of the executive report, rendered from the summary's dicts."""

from __future__ import annotations

from cross_sell_upsell.reporting.executive.history import RunHistory, changes_section, offers_section

OFFERS = {
    "previous_run_id": "r1",
    "previous_as_of": "2024-03-01",
    "purchases_after": "2024-03-01",
    "purchases_until": "2024-03-08",
    "log_last_purchase": "2024-03-08",
    "sent": 4,
    "bought": 1,
    "hit_rate": 0.25,
    "revenue": 12.5,
    "predicted": 0.5,
    "predicted_hit_rate": 0.125,
    "by_type": [
        {"offer_type": "bundle", "sent": 4, "bought": 1, "hit_rate": 0.25, "predicted_hit_rate": None, "revenue": 12.5}
    ],
    "by_source": [],
    "by_segment": [],
}


def test_the_offers_section_counts_and_rates() -> None:
    lines = offers_section(RunHistory(store="h.duckdb", previous_offers=OFFERS))
    assert lines[0] == "## Did last week's offers sell?"
    assert lines[2].startswith(
        "The previous run (as of 2024-03-01) sent 4 offers. Between 2024-03-01 (excluded) and 2024-03-08, the "
        "customers bought 1 of them (25.0%; predicted 12.5%), for $12.50."
    )
    assert "| Bundle | 4 | 1 | 25.0% | n/a | $12.50 |" in lines


def test_a_log_without_later_purchases_is_said() -> None:
    stale = {**OFFERS, "log_last_purchase": "2024-03-01"}
    lines = offers_section(RunHistory(store="h.duckdb", previous_offers=stale))
    assert "> The data has no purchase after the previous run's as-of date: these counts cannot show a sale." in lines


def test_first_run_and_no_store() -> None:
    assert offers_section(RunHistory(store="h.duckdb"))[2] == (
        "This is the first run in this store (h.duckdb): nothing to measure yet."
    )
    assert offers_section(RunHistory())[2].startswith("No run store for this run (--no-store)")
    assert changes_section(RunHistory(store="h.duckdb")) == []


def test_the_changes_section_signs_the_deltas() -> None:
    previous_run = {
        "run_id": "r1",
        "as_of": "2024-03-01",
        "deltas": {
            "customers_processed": 3,
            "customers_with_gaps": -2,
            "total_gaps": 0,
            "potential_revenue": -10.5,
            "expected_revenue": None,
        },
        "segment_migration": [{"previous_segment": "A", "current_segment": "B", "customers": 2}],
        "gap_changes": [{"category": "spf", "new": 1, "resolved": 2}],
    }
    lines = changes_section(RunHistory(store="h.duckdb", previous_run=previous_run))
    assert lines[4:9] == [
        "- **Customers analysed:** +3",
        "- **Customers with a gap:** -2",
        "- **Routine gaps:** +0",
        "- **Potential revenue:** -$10.50",
        "- **Expected revenue:** n/a",
    ]
    assert "| A | B | 2 |" in lines and "| SPF | 1 | 2 |" in lines
