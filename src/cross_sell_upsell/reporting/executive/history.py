"""The run history in the executive report: did the previous run's offers sell, and what changed since it.

The figures come from the run store (`store/history.py` computes them); here they are only rendered, from the
same JSON-ready dicts the summary carries as `previous_offers` and `previous_run`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cross_sell_upsell.registry import SOURCE_LABELS, TYPE_LABELS
from cross_sell_upsell.reporting.executive.labels import category_title
from cross_sell_upsell.reporting.text import money_text, plain_text


@dataclass(frozen=True)
class RunHistory:
    """What the report says about the run store."""

    store: str | None = None
    """The store the run is recorded in (path, or URL without its password); None with --no-store."""
    previous_run: dict[str, Any] | None = None
    """The summary's `previous_run`; None on the store's first run (or without a store)."""
    previous_offers: dict[str, Any] | None = None
    """The summary's `previous_offers`; None with `previous_run`."""

    def summary_keys(self) -> dict[str, Any]:
        """The summary JSON's `store`, `previous_run` and `previous_offers`."""
        return {"store": self.store, "previous_run": self.previous_run, "previous_offers": self.previous_offers}


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _signed(value: float | None, money: bool = False) -> str:
    if value is None:
        return "n/a"
    text = money_text(abs(value)) if money else f"{abs(value):,}"
    return f"{'+' if value >= 0 else '-'}{text}"


def _breakdown(rows: list[dict[str, Any]], key: str, title: str, label: dict[str, str]) -> list[str]:
    return [
        f"| {title} | Sent | Bought | Hit rate | Predicted | Revenue |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {plain_text(label.get(row[key], row[key]))} | {row['sent']:,} | {row['bought']:,} | "
            f"{_rate(row['hit_rate'])} | {_rate(row['predicted_hit_rate'])} | {money_text(row['revenue'])} |"
            for row in rows
        ],
        "",
    ]


def offers_section(history: RunHistory) -> list[str]:
    """ "Did last week's offers sell?": the previous run's offers against the purchases since."""
    lines = ["## Did last week's offers sell?", ""]
    offers = history.previous_offers
    if history.store is None:
        return [*lines, "No run store for this run (--no-store), so there is no previous run to measure.", ""]
    if offers is None:
        return [
            *lines,
            f"This is the first run in this store ({plain_text(history.store)}): nothing to measure yet.",
            "",
        ]
    lines += [
        (
            f"The previous run (as of {offers['previous_as_of']}) sent {offers['sent']:,} offers. Between "
            f"{offers['purchases_after']} (excluded) and {offers['purchases_until']}, the customers bought "
            f"{offers['bought']:,} of them ({_rate(offers['hit_rate'])}; predicted "
            f"{_rate(offers['predicted_hit_rate'])}), for {money_text(offers['revenue'])}. An offer counts as bought "
            "when its customer bought the product, or any product of a bundle, whether or not the offer was the reason."
        ),
        "",
    ]
    last = offers["log_last_purchase"]
    if last is None or last <= offers["purchases_after"]:
        lines += [
            "> The data has no purchase after the previous run's as-of date: these counts cannot show a sale.",
            "",
        ]
    return (
        lines
        + _breakdown(offers["by_type"], "offer_type", "Offer type", TYPE_LABELS)
        + _breakdown(offers["by_source"], "source", "Source", SOURCE_LABELS)
        + _breakdown(offers["by_segment"], "segment", "Segment", {})
    )


def changes_section(history: RunHistory) -> list[str]:
    """ "Since the previous run": the headline deltas, the segment migration and the gaps opened and closed."""
    run = history.previous_run
    if run is None:
        return []
    deltas = run["deltas"]
    lines = [
        "## Since the previous run",
        "",
        f"Compared with the run as of {run['as_of']} (`{plain_text(run['run_id'])}`):",
        "",
        f"- **Customers analysed:** {_signed(deltas['customers_processed'])}",
        f"- **Customers with a gap:** {_signed(deltas['customers_with_gaps'])}",
        f"- **Routine gaps:** {_signed(deltas['total_gaps'])}",
        f"- **Potential revenue:** {_signed(deltas['potential_revenue'], money=True)}",
        f"- **Expected revenue:** {_signed(deltas['expected_revenue'], money=True)}",
        "",
        "Customers by segment then and now:",
        "",
        "| Previous segment | Current segment | Customers |",
        "|---|---|---:|",
        *[
            f"| {plain_text(row['previous_segment'])} | {plain_text(row['current_segment'])} | {row['customers']:,} |"
            for row in run["segment_migration"]
        ],
        "",
    ]
    if run["gap_changes"]:
        lines += [
            "Routine gaps opened and closed, among the customers both runs analysed:",
            "",
            "| Category | New | Resolved |",
            "|---|---:|---:|",
            *[
                f"| {plain_text(category_title(row['category']))} | {row['new']:,} | {row['resolved']:,} |"
                for row in run["gap_changes"]
            ],
            "",
        ]
    return lines
