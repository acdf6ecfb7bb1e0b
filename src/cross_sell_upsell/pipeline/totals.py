"""Batch analysis: the graph over many customers, one chunk (cohort) at a time, folded into running totals.

Each chunk's `opportunities` and `customer_summaries` frames are turned into `Totals` by `chunk_totals` and
merged into the running totals by `combine`; both are pure functions over polars frames. Totals are bounded
by the catalog, the segments and the top-K limits, so memory depends on the chunk size, not on how many
customers a run covers. Money is summed in whole cents, so the totals do not depend on the chunk size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from cross_sell_upsell.configuration import LOYALTY_TIERS, PRICE_SENSITIVITIES, OrchestratorConfig
from cross_sell_upsell.data.campaigns import Campaigns
from cross_sell_upsell.models.acceptance import AcceptanceModel
from cross_sell_upsell.models.fit import CustomerModels
from cross_sell_upsell.models.segments import Segments
from cross_sell_upsell.offers.acceptance import fitted, ranking_note
from cross_sell_upsell.offers.results import RationaleStats
from cross_sell_upsell.pipeline.campaign_totals import CAMPAIGN_TOTALS_SCHEMA, campaign_counts
from cross_sell_upsell.pipeline.customer_totals import CustomerFigures, add_counts, combine_figures, customer_figures
from cross_sell_upsell.pipeline.priority import (
    EXPECTED_REVENUE_DEFINITION,
    POTENTIAL_REVENUE_DEFINITION,
    PRIORITY_DEFINITION,
    PRIORITY_ORDER,
    PRIORITY_SCHEMA,
    SCORE_PRIORITY_DEFINITION,
    WIN_BACK_DEFINITION,
    WIN_BACK_ORDER,
    customer_rows,
    top_rows,
    with_lead_offers,
)
from cross_sell_upsell.registry import OPPORTUNITY_SOURCES, OPPORTUNITY_TYPES

DEFAULT_TOP_PRIORITY = 10


DEFAULT_TOP_OPPORTUNITIES = 10


SEGMENT_DIMENSIONS: tuple[str, ...] = ("segment", "loyalty_tier", "price_sensitivity", "tier_preference")
"""Revenue by segment's dimensions: the customer segments (`Snapshot.segments`, in their order) first."""


SEGMENT_ORDER: dict[str, tuple[str, ...]] = {
    "segment": (),
    "loyalty_tier": LOYALTY_TIERS,
    "price_sensitivity": PRICE_SENSITIVITIES,
    "tier_preference": ("1", "2", "3"),
}


_SUM_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "gaps": {"category": pl.String(), "customers": pl.Int64()},
    "mix": {"type": pl.String(), "offers": pl.Int64(), "customers": pl.Int64(), "revenue_cents": pl.Int64()},
    "sources": {"source": pl.String(), "offers": pl.Int64(), "customers": pl.Int64(), "revenue_cents": pl.Int64()},
    "segments": {
        "dimension": pl.String(),
        "segment": pl.String(),
        "customers": pl.Int64(),
        "offers": pl.Int64(),
        "revenue_cents": pl.Int64(),
    },
    "restock": {"product_id": pl.String(), "due": pl.Int64(), "due_soon": pl.Int64(), "revenue_cents": pl.Int64()},
    "products": {"product_id": pl.String(), "customers": pl.Int64(), "in_bundle": pl.Int64(), "top_offer": pl.Int64()},
}


TOP_OFFER_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "customer_name": pl.String(),
    "rank": pl.Int64(),
    "offer_id": pl.String(),
    "name": pl.String(),
    "type": pl.String(),
    "price": pl.Float64(),
    "score": pl.Float64(),
}


_TOP_OFFER_ORDER = (["score", "customer_id", "rank"], [True, False, False])


ERROR_SCHEMA: dict[str, pl.DataType] = {"customer_id": pl.String(), "error": pl.String()}


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@dataclass(frozen=True)
class Limits:
    """How many rows the bounded top-K tables keep."""

    top_priority: int = DEFAULT_TOP_PRIORITY
    top_opportunities: int = DEFAULT_TOP_OPPORTUNITIES
    top_win_back: int = DEFAULT_TOP_PRIORITY


@dataclass(frozen=True)
class Totals:
    """Running totals over the customers folded so far. Every frame is bounded: by the essentials, the offer
    types, the segments, the catalog, or the top-K limits."""

    customers: int = 0
    offers: int = 0
    revenue_cents: int = 0
    expected_revenue_cents: int = 0
    """The customers' expected revenue (0 without an acceptance model: `BatchResult.total_expected_revenue`)."""
    model_customers: int = 0
    """Customers whose predictions come from the customer models (the rest have the fallback values)."""
    win_back_customers: int = 0
    """Customers who have most likely left (`priority.lapsed`): on the win-back list, not the priority list."""
    win_back_revenue_cents: int = 0
    """Their potential revenue."""
    gaps: pl.DataFrame = field(default_factory=lambda: _empty(_SUM_SCHEMAS["gaps"]))
    """Customers missing each essential category."""
    mix: pl.DataFrame = field(default_factory=lambda: _empty(_SUM_SCHEMAS["mix"]))
    """Per offer type: offers, customers offered one, potential revenue in cents."""
    sources: pl.DataFrame = field(default_factory=lambda: _empty(_SUM_SCHEMAS["sources"]))
    """The same per source: the signal that proposed the offer."""
    segments: pl.DataFrame = field(default_factory=lambda: _empty(_SUM_SCHEMAS["segments"]))
    """Per (dimension, segment): customers, offers, potential revenue in cents; a null segment is 'not stated'."""
    restock: pl.DataFrame = field(default_factory=lambda: _empty(_SUM_SCHEMAS["restock"]))
    """Per owned product: customers due, due soon, and the restock revenue in cents."""
    products: pl.DataFrame = field(default_factory=lambda: _empty(_SUM_SCHEMAS["products"]))
    """Per product: customers offered it (alone or in a bundle), in a bundle, as their top offer."""
    priority: pl.DataFrame = field(default_factory=lambda: _empty(PRIORITY_SCHEMA))
    """The top-K priority customers so far (those still active), best first."""
    win_back: pl.DataFrame = field(default_factory=lambda: _empty(PRIORITY_SCHEMA))
    """The top-K customers to win back so far, most valuable first."""
    top_offers: pl.DataFrame = field(default_factory=lambda: _empty(TOP_OFFER_SCHEMA))
    """The top-K offers so far across customers that count toward revenue, best first."""
    customer_figures: CustomerFigures = field(default_factory=CustomerFigures)
    """Per customer segment and per predicted CLV and churn band (`customer_totals`)."""
    campaigns: pl.DataFrame = field(default_factory=lambda: _empty(CAMPAIGN_TOTALS_SCHEMA))
    """Per campaign: offers covered and boosted, customers reached, top-N value with and without the boost."""


def _cents(column: str) -> pl.Expr:
    return (pl.col(column) * 100).round().cast(pl.Int64)


def _dollars(cents: str) -> pl.Expr:
    return (pl.col(cents) / 100).round(2)


def _segments(summaries: pl.DataFrame) -> pl.DataFrame:
    frames = [
        summaries.group_by(segment=pl.col(dimension).cast(pl.String))
        .agg(
            customers=pl.len().cast(pl.Int64),
            offers=pl.col("offer_count").sum().cast(pl.Int64),
            revenue_cents=_cents("potential_revenue").sum(),
        )
        .select(pl.lit(dimension).alias("dimension"), pl.all())
        for dimension in SEGMENT_DIMENSIONS
    ]
    return pl.concat(frames).cast(_SUM_SCHEMAS["segments"])  # type: ignore[arg-type]


def _top_offers(opportunities: pl.DataFrame, summaries: pl.DataFrame, limit: int) -> pl.DataFrame:
    """The best-scoring offers that count toward revenue: a bundle's product offered on its own is in the bundle."""
    names = summaries.select("customer_id", customer_name="name")
    return (
        top_rows(opportunities.filter("counts_toward_revenue"), _TOP_OFFER_ORDER, limit)
        .join(names, on="customer_id", how="left", maintain_order="left")
        .select(pl.col(name).cast(dtype) for name, dtype in TOP_OFFER_SCHEMA.items())
    )


def _customer_ordinal() -> pl.Expr:
    """A number per customer, counting customers in frame order: offers come in customer and rank order, each
    customer's starting at rank 1, so counting distinct customers needs neither their ids nor hashing."""
    return (pl.col("rank") == 1).cum_sum()


def _offered_products(opportunities: pl.DataFrame) -> pl.DataFrame:
    """(customer, product_id, type, rank) for every product in every offer: a bundle once per member."""
    offers = opportunities.select("type", "rank", "offer_id", "product_ids", customer=_customer_ordinal())
    singles = offers.filter(pl.col("product_ids").is_null()).select("customer", "type", "rank", product_id="offer_id")
    members = (
        offers.filter(pl.col("product_ids").is_not_null())
        .select("customer", "type", "rank", product_id="product_ids")
        .explode("product_id")
    )
    return pl.concat([singles, members])


def _mix_counts(opportunities: pl.DataFrame, key: str) -> pl.DataFrame:
    """Per value of `key`: offers, customers offered one, potential revenue in cents. A group keeps its rows'
    order, in which customer numbers only grow, so its customers are counted where the number changes (no hashing)."""
    customer = pl.col("customer")
    return (
        opportunities.select(key, "price", "counts_toward_revenue", customer=_customer_ordinal())
        .group_by(key)
        .agg(
            offers=pl.len().cast(pl.Int64),
            customers=customer.ne_missing(customer.shift()).sum().cast(pl.Int64),
            revenue_cents=_cents("price").filter(pl.col("counts_toward_revenue")).sum(),
        )
    )


def chunk_totals(
    opportunities: pl.DataFrame, summaries: pl.DataFrame, config: OrchestratorConfig, limits: Limits
) -> Totals:
    """The totals of one chunk from the graph's `opportunities` and `customer_summaries` frames."""
    offers_in = _offered_products(opportunities)
    restock = opportunities.filter(pl.col("replenishment_status").is_in(["due", "due_soon"]))
    active, win_back = customer_rows(summaries, config)
    return Totals(
        customers=summaries.height,
        offers=opportunities.height,
        revenue_cents=int(summaries.select(_cents("potential_revenue").sum()).item() or 0),
        expected_revenue_cents=int(summaries.select(_cents("expected_revenue").sum()).item() or 0),
        model_customers=int((summaries.get_column("model_source") == "model").sum()),
        win_back_customers=win_back.height,
        win_back_revenue_cents=int(win_back.select(_cents("potential_revenue").sum()).item() or 0),
        gaps=summaries.select(pl.col("missing_essentials").list.explode(keep_nulls=False, empty_as_null=False))
        .group_by(category="missing_essentials")
        .agg(customers=pl.len().cast(pl.Int64)),
        mix=_mix_counts(opportunities, "type"),
        sources=_mix_counts(opportunities, "source"),
        segments=_segments(summaries),
        restock=restock.group_by(product_id="offer_id").agg(
            due=(pl.col("replenishment_status") == "due").sum().cast(pl.Int64),
            due_soon=(pl.col("replenishment_status") == "due_soon").sum().cast(pl.Int64),
            revenue_cents=_cents("price").sum(),
        ),
        products=offers_in.group_by("product_id").agg(
            customers=pl.col("customer").n_unique().cast(pl.Int64),
            in_bundle=pl.col("customer").filter(pl.col("type") == "bundle").n_unique().cast(pl.Int64),
            top_offer=pl.col("customer").filter(pl.col("rank") == 1).n_unique().cast(pl.Int64),
        ),
        priority=with_lead_offers(top_rows(active, PRIORITY_ORDER, limits.top_priority), opportunities, config.top_n),
        win_back=with_lead_offers(top_rows(win_back, WIN_BACK_ORDER, limits.top_win_back), opportunities, config.top_n),
        top_offers=_top_offers(opportunities, summaries, limits.top_opportunities),
        customer_figures=customer_figures(opportunities, summaries),
        campaigns=campaign_counts(opportunities, config.top_n),
    )


def combine(left: Totals, right: Totals, limits: Limits) -> Totals:
    """The totals of two disjoint sets of customers taken together."""
    return Totals(
        customers=left.customers + right.customers,
        offers=left.offers + right.offers,
        revenue_cents=left.revenue_cents + right.revenue_cents,
        expected_revenue_cents=left.expected_revenue_cents + right.expected_revenue_cents,
        model_customers=left.model_customers + right.model_customers,
        win_back_customers=left.win_back_customers + right.win_back_customers,
        win_back_revenue_cents=left.win_back_revenue_cents + right.win_back_revenue_cents,
        gaps=add_counts(left.gaps, right.gaps, ["category"]),
        mix=add_counts(left.mix, right.mix, ["type"]),
        sources=add_counts(left.sources, right.sources, ["source"]),
        segments=add_counts(left.segments, right.segments, ["dimension", "segment"]),
        restock=add_counts(left.restock, right.restock, ["product_id"]),
        products=add_counts(left.products, right.products, ["product_id"]),
        priority=top_rows(pl.concat([left.priority, right.priority]), PRIORITY_ORDER, limits.top_priority),
        win_back=top_rows(pl.concat([left.win_back, right.win_back]), WIN_BACK_ORDER, limits.top_win_back),
        top_offers=top_rows(pl.concat([left.top_offers, right.top_offers]), _TOP_OFFER_ORDER, limits.top_opportunities),
        customer_figures=combine_figures(left.customer_figures, right.customer_figures),
        campaigns=add_counts(left.campaigns, right.campaigns, ["campaign_id", "campaign_name"]),
    )


def _percent(count: pl.Expr, whole: int) -> pl.Expr:
    return (100.0 * count / whole).round(1) if whole else pl.lit(0.0)


@dataclass(frozen=True)
class BatchResult:
    """A batch run's figures. The methods give the report's tables as frames (money in dollars, shares in
    percent), for the report, the summary JSON and a notebook alike."""

    as_of: date
    source: str
    config: OrchestratorConfig
    catalog: pl.DataFrame
    """product_id, name, category, tier, price: to name the products in the totals."""
    customers_requested: int
    totals: Totals
    errors: pl.DataFrame
    """One row per requested customer without a result: customer_id, error."""
    limits: Limits = Limits()
    rationale_notes: tuple[str, ...] = ()
    rationale_stats: RationaleStats | None = None
    """Where the rationales came from and what the chat model cost, when it was asked."""
    rows_rejected: dict[str, Any] = field(default_factory=lambda: {"total": 0, "by_reason": {}})
    """Input rows the loader set aside: {"total": n, "by_reason": {reason: count}} (a transaction log's)."""
    learned_cycles: pl.DataFrame | None = None
    """Replenishment cycles learned from a transaction log: product_id, cycle_days, basis, repeats."""
    customer_models: CustomerModels | None = None
    """The customer models of the run's snapshot (fitted, or why the fallback values are used)."""
    segments: Segments | None = None
    """The customer segments of the run (named by the chat model when it had one), or why there are none."""
    campaigns: Campaigns | None = None
    """The campaigns the run was given (running on the as-of date, and the rows left out); None without any."""
    acceptance: AcceptanceModel | None = None
    """The run's acceptance model (fitted, or why there is none: `acceptance_note`)."""

    @property
    def customers_processed(self) -> int:
        return self.totals.customers

    @property
    def customers_failed(self) -> int:
        return self.errors.height

    @property
    def total_potential_revenue(self) -> float:
        return self.totals.revenue_cents / 100

    @property
    def average_potential_revenue(self) -> float:
        return round(self.total_potential_revenue / self.customers_processed, 2) if self.customers_processed else 0.0

    @property
    def total_expected_revenue(self) -> float | None:
        """The sum of the customers' expected revenue; None without a fitted acceptance model."""
        return self.totals.expected_revenue_cents / 100 if fitted(self.acceptance) else None

    @property
    def average_expected_revenue(self) -> float | None:
        total, customers = self.total_expected_revenue, self.customers_processed
        return None if total is None else round(total / customers, 2) if customers else 0.0

    @property
    def acceptance_note(self) -> str | None:
        """Why there is no expected revenue and the offers are ranked by the score; None with a fitted model."""
        return ranking_note(self.acceptance)

    def expected_revenue_definition(self) -> str:
        horizon = self.config.acceptance.horizon_days
        return EXPECTED_REVENUE_DEFINITION.format(sent=self.config.top_n, horizon=horizon)

    @property
    def average_offers(self) -> float:
        return round(self.totals.offers / self.customers_processed, 2) if self.customers_processed else 0.0

    def most_common_gaps(self) -> pl.DataFrame:
        """category, count (customers missing it), percentage of customers processed; every essential, most
        missed first, ties in routine order."""
        essentials = pl.DataFrame(
            {"category": list(self.config.essential_categories)}, schema={"category": pl.String}
        ).with_row_index("position")
        return (
            essentials.join(self.totals.gaps, on="category", how="left")
            .with_columns(count=pl.col("customers").fill_null(0))
            .with_columns(percentage=_percent(pl.col("count"), self.customers_processed))
            .sort(["count", "position"], descending=[True, False])
            .select("category", "count", "percentage")
        )

    def opportunity_mix(self) -> pl.DataFrame:
        """type, offers, share of offers, customers offered one, potential revenue and its share; every type."""
        return self._mix(self.totals.mix, "type", OPPORTUNITY_TYPES)

    def source_mix(self) -> pl.DataFrame:
        """The same per source (the signal that proposed the offer); every source."""
        return self._mix(self.totals.sources, "source", OPPORTUNITY_SOURCES)

    def _mix(self, counts: pl.DataFrame, key: str, names: Sequence[str]) -> pl.DataFrame:
        every = pl.DataFrame({key: list(names)}, schema={key: pl.String})
        return (
            every.join(counts, on=key, how="left", maintain_order="left")
            .with_columns(pl.col("offers", "customers", "revenue_cents").fill_null(0))
            .select(
                key,
                "offers",
                offers_percentage=_percent(pl.col("offers"), self.totals.offers),
                customers="customers",
                potential_revenue=_dollars("revenue_cents"),
                revenue_percentage=_percent(pl.col("revenue_cents"), self.totals.revenue_cents),
            )
        )

    def revenue_by_segment(self, dimension: str) -> pl.DataFrame:
        """segment (None: not stated), customers, potential revenue, share of it, average per customer; in the
        segment's natural order (the customer segments': `segments`' order, then the rest by name). Empty when no
        customer states the attribute."""
        names = SEGMENT_ORDER[dimension] or (self.segments.names if self.segments else ())
        order = {name: position for position, name in enumerate(names)}
        table = (
            self.totals.segments.filter(pl.col("dimension") == dimension)
            .with_columns(position=pl.col("segment").replace_strict(order, default=len(order), return_dtype=pl.Int64))
            .sort(["position", "segment"], nulls_last=True)
            .select(
                "segment",
                "customers",
                potential_revenue=_dollars("revenue_cents"),
                revenue_percentage=_percent(pl.col("revenue_cents"), self.totals.revenue_cents),
                average_per_customer=(pl.col("revenue_cents") / pl.col("customers") / 100).round(2),
            )
        )
        return table.clear() if table.get_column("segment").is_null().all() else table

    def replenishment_due(self) -> pl.DataFrame:
        """product_id, name, customers due now, due soon, restock revenue; most customers first."""
        return (
            self.totals.restock.join(self.catalog.select("product_id", "name"), on="product_id", how="left")
            .with_columns(customers=pl.col("due") + pl.col("due_soon"), revenue=_dollars("revenue_cents"))
            .sort(["customers", "revenue", "product_id"], descending=[True, True, False])
            .select("product_id", "name", "due", "due_soon", "customers", "revenue")
        )

    def most_recommended(self) -> pl.DataFrame:
        """Per product: customers offered it (alone or in a bundle), of them in a bundle, as their top offer;
        the units to have in stock if every one of them bought it. Most offered first."""
        return (
            self.totals.products.join(self.catalog, on="product_id", how="left")
            .sort(["customers", "top_offer", "product_id"], descending=[True, True, False])
            .select("product_id", "name", "category", "tier", "price", "customers", "in_bundle", "top_offer")
        )

    def priority_customers(self) -> pl.DataFrame:
        """The top priority customers, best first (see `priority_definition`)."""
        return self.totals.priority.head(self.limits.top_priority)

    def top_opportunities(self) -> pl.DataFrame:
        return self.totals.top_offers

    def potential_revenue_definition(self) -> str:
        cap = self.config.offers_per_category
        return POTENTIAL_REVENUE_DEFINITION.format(cap=f" (at most {cap} per category)" if cap else "")

    def win_back_list(self) -> pl.DataFrame:
        """The top customers to win back, most valuable first (see `win_back_definition`)."""
        return self.totals.win_back.head(self.limits.top_win_back)

    def priority_definition(self) -> str:
        definition = PRIORITY_DEFINITION if fitted(self.acceptance) else SCORE_PRIORITY_DEFINITION
        return definition.format(
            reference=f"${self.config.lifetime_value_reference:,.0f}",
            window=self.config.customer_models.window_days,
            horizon=self.config.acceptance.horizon_days,
        )

    def win_back_definition(self) -> str:
        return WIN_BACK_DEFINITION.format(
            threshold=f"{self.config.win_back_below_p_alive:g}", cycles=f"{self.config.win_back_overdue_cycles:g}"
        )
