"""The offer types and the offer sources: each one's key, its label in reports and what it means, in one place.

The order of each tuple of entries is the tie-break order when two offers score the same, and the order of the
report's tables and legends. A new type or source is one entry here, plus its key in the Literal beside the
entries (a Literal has to be spelled out); the frames, the CSV, the JSON and both reports read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Entry:
    """One offer type or offer source."""

    key: str
    """The value in the frames, the CSV and the JSON."""
    label: str
    """How the reports name it."""
    meaning: str
    """What it is, in plain language, for the reports' legends."""


TYPE_ENTRIES: tuple[Entry, ...] = (
    Entry("routine_gap", "Routine gap", "a product for an essential step of the routine the customer has nothing for"),
    Entry(
        "replenishment",
        "Replenishment",
        "a product the customer owns whose replenishment cycle has run out or is about to",
    ),
    Entry("tier_upgrade", "Tier upgrade", "the next tier up from a product the customer owns"),
    Entry(
        "product_cross_sell",
        "Cross-sell",
        "a product the catalog, or what other customers buy, pairs with one the customer owns",
    ),
    Entry("bundle", "Bundle", "the customer's missing essentials together, at the bundle discount"),
)
"""Every opportunity type; the order is also the tie-break when two offers score the same."""


OpportunityType = Literal["routine_gap", "product_cross_sell", "replenishment", "tier_upgrade", "bundle"]
"""The keys of `TYPE_ENTRIES`, for typed models."""


SOURCE_ENTRIES: tuple[Entry, ...] = (
    Entry("catalog", "Catalog", "the catalog's cross-sell list for a product the customer owns"),
    Entry(
        "basket_rule",
        "Basket rule",
        "a rule learned from baskets: shoppers who buy a product the customer owns often buy this too",
    ),
    Entry(
        "similar_customers",
        "Similar customers",
        "item similarity learned from purchases: customers who buy what this customer owns buy this",
    ),
    Entry("routine_gap", "Routine gap", "the routine's missing essentials"),
    Entry("replenishment", "Replenishment", "the replenishment cycle of a product the customer owns"),
    Entry("upgrade", "Upgrade path", "the catalog's upgrade path"),
)
"""Which signal proposed an offer: the catalog's cross-sell links, a basket rule learned from co-purchases, item
similarity learned from customers' purchases, the routine, the replenishment cycle or the upgrade path. When
several propose the same product with the same score, the earlier source wins."""


OpportunitySource = Literal["catalog", "basket_rule", "similar_customers", "routine_gap", "replenishment", "upgrade"]
"""The keys of `SOURCE_ENTRIES`, for typed models."""


OPPORTUNITY_TYPES: tuple[str, ...] = tuple(entry.key for entry in TYPE_ENTRIES)
"""The type keys, in tie-break order."""


OPPORTUNITY_SOURCES: tuple[str, ...] = tuple(entry.key for entry in SOURCE_ENTRIES)
"""The source keys, in tie-break order (catalog first)."""


TYPE_LABELS: dict[str, str] = {entry.key: entry.label for entry in TYPE_ENTRIES}
"""Each type's label, by key."""


SOURCE_LABELS: dict[str, str] = {entry.key: entry.label for entry in SOURCE_ENTRIES}
"""Each source's label, by key."""


CUSTOMER_SUMMARY_ORDER: tuple[str, ...] = (
    "routine_gap",
    "product_cross_sell",
    "replenishment",
    "tier_upgrade",
    "bundle",
)
"""The order the customer report's summary counts the types in, cross-sells second as it always has; the same
keys as `OPPORTUNITY_TYPES`."""
