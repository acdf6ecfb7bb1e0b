"""How the report and its charts write categories, segments and counts."""

from __future__ import annotations

from cross_sell_upsell.pipeline.customer_totals import NOT_SEGMENTED
from cross_sell_upsell.reporting.text import readable

SEGMENT_TITLES = {
    "segment": "Customer segment",
    "loyalty_tier": "Loyalty tier",
    "price_sensitivity": "Price sensitivity",
    "tier_preference": "Tier preference",
}
"""The heading of each segment dimension."""


def category_title(name: str) -> str:
    """A routine category as a table row or chart label: Eye cream, SPF."""
    return "SPF" if name == "spf" else readable(name).capitalize()


def category_in_text(name: str) -> str:
    """A routine category inside a sentence: eye cream, SPF."""
    return "SPF" if name == "spf" else readable(name)


def segment_title(dimension: str, segment: str | None) -> str:
    """A segment's name: Gold, Tier 2, a customer segment's own name, or Not stated (Not segmented for the
    customer segments) for customers without a value."""
    if dimension == "segment":
        return NOT_SEGMENTED if segment is None else segment
    if segment is None:
        return "Not stated"
    return f"Tier {segment}" if dimension == "tier_preference" else segment.capitalize()


def plural(count: int, word: str, many: str | None = None) -> str:
    """The count and the word, in the plural unless the count is one: 1 restock, 1,200 customers."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"
