"""The graph's state. Every frame holds a whole cohort of customers: one customer is a cohort of one."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

import polars as pl

from cross_sell_upsell.features.signals import Signals
from cross_sell_upsell.models.acceptance import AcceptanceModel
from cross_sell_upsell.models.ease import EaseModel
from cross_sell_upsell.offers.results import RationaleStats


class InputState(TypedDict, total=False):
    """What a caller gives the graph."""

    customer_ids: list[str] | None
    """Customers to analyse, in the order wanted; None or absent means every customer in the dataset."""
    as_of: date | str
    """The date the analysis is relative to (replenishment, ownership); an ISO string is accepted. Default: today."""


class OutputState(TypedDict, total=False):
    """What the graph returns."""

    as_of: date
    """The as-of date the results are relative to."""
    opportunities: pl.DataFrame
    """Every offer for every analysed customer, ranked per customer (`rank` 1 = best), with its score
    components, rationale and rationale source."""
    customer_summaries: pl.DataFrame
    """One row per analysed customer: attributes, owned products, missing essentials, routine completeness,
    offer count and potential revenue."""
    unknown_customer_ids: list[str]
    """Requested ids the dataset does not have; they get no results."""
    rationale_notes: list[str]
    """What the rationale step wants the user to know once (for example: no API key, templates used)."""
    rationale_stats: RationaleStats
    """Where the rationales came from, tokens and estimated cost; present when a chat model was asked."""
    acceptance_note: str | None
    """Why the offers are ranked by the weighted score and have no expected revenue (no fitted acceptance model);
    None when the acceptance model ranked them."""


class State(InputState, OutputState, total=False):
    """Everything the nodes pass along. Each candidate step writes its own key, so they can run in parallel."""

    customers: pl.DataFrame
    """The cohort's customers: `customer_key` (row number), attributes, `concern_mask`, `preferred_tier`."""
    products: pl.DataFrame
    """The catalog with `product_key` (row number), `upgrade_key`, `margin_value`, `concern_mask`,
    `essential_bit`, `routine_position`, `id_order`."""
    holdings: pl.DataFrame
    """One row per (customer_key, owned product_key) as of the as-of date, with `last_purchase`."""
    cross_sells: pl.DataFrame
    """The catalog's cross-sell links as (source_key, product_key, position)."""
    acceptance: AcceptanceModel | None
    """The snapshot's acceptance model (fitted, or why not); None when the snapshot carries none."""
    signals: Signals | None
    """Basket rules and item neighbours learned from purchases up to the as-of date; None when switched off."""
    ease: EaseModel | None
    """The EASE item-item model learned from purchases up to the as-of date (what orders new products with the
    acceptance model); None when switched off or too few products have buyers."""
    essentials: tuple[str, ...]
    """The routine's essential categories; bit i of the routine masks is essentials[i]."""
    concerns: tuple[str, ...]
    """The skin concern of each bit of the concern masks."""
    routine: pl.DataFrame
    """Per customer (row = customer_key): owned and missing essential masks, owned essential count, missing
    essentials by name, routine completeness (0-1)."""
    gap_offers: pl.DataFrame
    """One product per missing essential."""
    replenishment_offers: pl.DataFrame
    """Owned products due or due soon."""
    cross_sell_offers: pl.DataFrame
    """Complements of owned products: the catalog's, and those learned from baskets and similar customers."""
    upgrade_offers: pl.DataFrame
    """Next-tier products along owned products' upgrade paths."""
    bundle_offers: pl.DataFrame
    """Complete-your-routine bundles, with their members' product keys in `bundle_keys`."""
