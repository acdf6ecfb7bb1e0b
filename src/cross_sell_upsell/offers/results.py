"""Final per-customer results: the summary frame and the typed report of one customer."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from pydantic import BaseModel, Field, computed_field

from cross_sell_upsell.configuration import CustomerModelSettings
from cross_sell_upsell.offers.campaigns import CAMPAIGN_COLUMNS
from cross_sell_upsell.offers.keys import lookup
from cross_sell_upsell.offers.scoring import COMPONENTS
from cross_sell_upsell.registry import OpportunitySource, OpportunityType

CUSTOMER_PREDICTION_COLUMNS: tuple[str, ...] = (
    "predicted_clv",
    "churn_probability",
    "expected_purchases",
    "expected_next_order",
    "segment",
)
"""The customer models' predictions (or the fallback values) and the customer's segment (`Snapshot.customers`'
`segment`: null when the customers were not segmented) that each offer row carries for its customer."""


OPPORTUNITY_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "rank",
    "offer_id",
    "type",
    "source",
    "product_ids",
    "name",
    "category",
    "tier",
    "price",
    "list_price",
    "score",
    *COMPONENTS,
    "acceptance_probability",
    "expected_revenue",
    "source_product_id",
    "source_name",
    "last_purchase",
    "days_since_purchase",
    "cycle_days",
    "due_date",
    "replenishment_status",
    "bundle_categories",
    "rationale",
    "rationale_source",
    "rationale_error",
    "counts_toward_revenue",
    *CUSTOMER_PREDICTION_COLUMNS,
    *CAMPAIGN_COLUMNS,
)
"""The published offer columns. `offer_id` is the product id, or BUNDLE-<member ids> for a bundle, whose
members are in `product_ids` (null for a single-product offer). `source` is the signal that proposed the offer
(`registry.OPPORTUNITY_SOURCES`). `acceptance_probability` is the acceptance model's probability that the customer
buys the offer within its horizon and `expected_revenue` that times the price (both null without a fitted model).
The CUSTOMER_PREDICTION_COLUMNS are the customer's, on each of their offers."""


BUNDLE_NAME = "Complete Your Routine Bundle"


def _bundle_lookups(bundles: pl.DataFrame, customers: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """Per customer_key (one row per customer, null without a bundle): the bundle's offer id, member ids and
    member categories."""
    members = (
        bundles.select("customer_key", product_key="bundle_keys")
        .explode("product_key")
        .with_columns(
            product_id=lookup(products.get_column("product_id"), "product_key"),
            category=lookup(products.get_column("category"), "product_key"),
        )
        .group_by("customer_key", maintain_order=True)
        .agg(bundle_ids=pl.col("product_id"), bundle_categories=pl.col("category"))
        .with_columns(bundle_offer_id=pl.lit("BUNDLE-") + pl.col("bundle_ids").list.join("-"))
    )
    return customers.select("customer_key").join(members, on="customer_key", how="left", maintain_order="left")


def describe_offers(
    scored: pl.DataFrame, bundles: pl.DataFrame, customers: pl.DataFrame, products: pl.DataFrame
) -> pl.DataFrame:
    """Adds the readable columns to scored candidates: customer_id, offer_id, product_ids (bundles), name,
    category, source_product_id, source_name, bundle_categories, and the customer's CUSTOMER_PREDICTION_COLUMNS.
    Keeps the frame's order."""
    per_customer = _bundle_lookups(bundles, customers, products)
    is_bundle = pl.col("type") == "bundle"
    bundle_key = pl.when(is_bundle).then(pl.col("customer_key"))

    def bundle_value(column: str) -> pl.Expr:
        return pl.lit(per_customer.get_column(column)).gather(bundle_key)

    return scored.with_columns(
        customer_id=lookup(customers.get_column("customer_id"), "customer_key"),
        offer_id=pl.coalesce(lookup(products.get_column("product_id"), "product_key"), bundle_value("bundle_offer_id")),
        product_ids=bundle_value("bundle_ids"),
        name=pl.coalesce(lookup(products.get_column("name"), "product_key"), pl.lit(BUNDLE_NAME)),
        category=pl.coalesce(lookup(products.get_column("category"), "product_key"), pl.lit("bundle")),
        source_product_id=lookup(products.get_column("product_id"), "source_key"),
        source_name=lookup(products.get_column("name"), "source_key"),
        bundle_categories=bundle_value("bundle_categories"),
        **{name: lookup(customers.get_column(name), "customer_key") for name in CUSTOMER_PREDICTION_COLUMNS},
    )


def flag_revenue(opportunities: pl.DataFrame) -> pl.DataFrame:
    """Adds `counts_toward_revenue`: whether an offer's price is part of the customer's potential revenue, one
    purchase per need, from the offers `needs.one_offer_per_need` made. A bundle counts for the steps it fills,
    so its products shown on their own (`covered_by_bundle`) do not count again; every other offer is a need of
    its own (one per essential step, at most `offers_per_category` per other category) and counts. Adds
    `expected_revenue` too: the acceptance probability x the price, in dollars (null without a probability)."""
    return opportunities.with_columns(
        counts_toward_revenue=~pl.col("covered_by_bundle"),
        expected_revenue=(pl.col("acceptance_probability") * pl.col("price")).round(2),
    )


def publish_opportunities(opportunities: pl.DataFrame) -> pl.DataFrame:
    """The ranked offers with only their published columns, in customer and rank order."""
    return opportunities.select(OPPORTUNITY_COLUMNS).with_columns(
        pl.col("type", "source", "replenishment_status").cast(pl.String)
    )


def summarize_customers(
    customers: pl.DataFrame,
    holdings: pl.DataFrame,
    products: pl.DataFrame,
    routine: pl.DataFrame,
    opportunities: pl.DataFrame,
    sent: int,
    fitted: bool,
) -> pl.DataFrame:
    """One row per customer in cohort order: attributes, routine, offer counts, potential revenue (the sum of
    prices of the offers that count toward revenue) and expected revenue: the sum of `expected_revenue` over the
    offers the customer would be sent (the first `sent` by rank, one per need: those that count toward revenue),
    null unless the acceptance model is `fitted`."""
    owned = (
        holdings.with_columns(product_id=lookup(products.get_column("product_id"), "product_key"))
        .group_by("customer_key")
        .agg(products_owned=pl.col("product_id").sort())
    )
    offers = opportunities.group_by("customer_key").agg(
        offer_count=pl.len().cast(pl.UInt32),
        replenishment_due_count=(pl.col("type") == "replenishment").sum().cast(pl.UInt32),
        potential_revenue=pl.col("price").filter(pl.col("counts_toward_revenue")).sum().round(2),
        top_score=pl.col("score").max(),
        expected_revenue=pl.col("expected_revenue")
        .filter(pl.col("counts_toward_revenue") & (pl.col("rank") <= sent))
        .sum(),
    )
    return (
        customers.join(owned, on="customer_key", how="left", maintain_order="left")
        .with_columns(routine.select("owned_essentials", "missing_essentials", "routine_completeness"))
        .join(offers, on="customer_key", how="left", maintain_order="left")
        .with_columns(
            pl.col("products_owned").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("offer_count", "replenishment_due_count").fill_null(0),
            pl.col("potential_revenue", "top_score").fill_null(0.0),
            pl.col("expected_revenue").fill_null(0.0).round(2)
            if fitted
            else pl.lit(None, dtype=pl.Float64).alias("expected_revenue"),
        )
        .drop("customer_key", "concern_mask", "preferred_tier")
    )


class RationaleStats(BaseModel):
    """Where a run's rationales came from and what the chat model cost. `llm_rationales` adds to the collector
    it is given, so a batch can pass one to every call and report the total."""

    model: str = Field("", description="The chat model asked.")
    customers: int = Field(0, description="Customers whose offers went to the model or were found in the cache.")
    offers_asked: int = Field(0, description="Offers whose rationale the model was asked for.")
    llm: int = Field(0, description="Rationales the model wrote that passed the checks (cache hits included).")
    template: int = Field(0, description="Template rationales: offers not asked, or whose model rationale failed.")
    failures: dict[str, int] = Field(
        default_factory=dict, description="Asked offers that fell back to the template, by reason."
    )
    model_calls: int = Field(0, description="Calls to the model; each may include the client's transport retries.")
    cache_hits: int = Field(0, description="Customers whose answer came from the cache, at no cost.")
    input_tokens: int = Field(0, description="Prompt tokens the server reported.")
    output_tokens: int = Field(0, description="Completion tokens the server reported.")
    input_price_per_1k: float = Field(0.0, description="Dollars per 1,000 input tokens used for the estimate.")
    output_price_per_1k: float = Field(0.0, description="Dollars per 1,000 output tokens used for the estimate.")

    @computed_field(description="Estimated dollars: tokens / 1000 x the configured prices.")
    @property
    def estimated_cost(self) -> float:
        return round(
            self.input_tokens / 1000 * self.input_price_per_1k + self.output_tokens / 1000 * self.output_price_per_1k,
            6,
        )


class Opportunity(BaseModel):
    """One ranked offer to one customer."""

    rank: int = Field(description="1 is the best offer for this customer.")
    product_id: str = Field(description="The product offered, or the bundle's id for a bundle.")
    product_ids: list[str] = Field(description="The products in the offer: one, or a bundle's members.")
    type: OpportunityType
    source: OpportunitySource = Field(description="The signal that proposed the offer.")
    name: str
    category: str
    tier: int | None
    price: float = Field(description="What the customer pays (a bundle's discounted price).")
    list_price: float = Field(description="The undiscounted price.")
    score: float = Field(description="Weighted mean of the components, 0-100, times `campaign_boost`.")
    components: dict[str, float] = Field(description="Each score component, 0-100.")
    acceptance_probability: float | None = Field(
        None, description="Probability the customer buys it within the acceptance horizon; None without the model."
    )
    expected_revenue: float | None = Field(None, description="The probability x the price; None without the model.")
    rationale: str
    rationale_source: str = Field(description="template or llm.")
    rationale_error: str | None = Field(None, description="Why the model's rationale was not used, if it was asked.")
    source_product_id: str | None = Field(None, description="The owned product that led to this offer.")
    counts_toward_revenue: bool
    campaign_id: str | None = Field(None, description="The campaign that covers the offer (docs/campaigns.md).")
    campaign_name: str | None = Field(None, description="Its name.")
    campaign_discount: float | None = Field(None, description="Its discount, a fraction; None when not stated.")
    campaign_boost: float = Field(
        1.0, description="The multiplier the score got from the campaign; 1.0 for none (or past the cap)."
    )


class ReplenishmentItem(BaseModel):
    product_id: str
    name: str
    last_purchase: date
    days_since_purchase: int
    cycle_days: int
    due_date: date
    status: str = Field(description="due, due_soon, or win_back (see `candidates.win_back_restocks`).")


class CustomerPredictions(BaseModel):
    """What the customer models predict for one customer (the snapshot's customer-model columns), or the
    fallback values, and why."""

    predicted_clv: float = Field(
        description="Predicted spend over the CLV horizon, discounted to the as-of date (fallback: the given, else "
        "past, lifetime value)."
    )
    churn_probability: float = Field(description="Probability of no purchase in the window, 0-1.")
    expected_purchases: float = Field(description="Purchases expected in the window.")
    expected_next_order: date | None = Field(
        description="The day by which, if the customer orders in the window, they have even odds of having done so; "
        "None for a customer with no purchase yet."
    )
    p_alive: float = Field(description="Probability that the customer is still active, 0-1.")
    source: str = Field(description="model, or fallback.")
    fallback_reason: str | None = Field(None, description="Why the fallback values are used; None for the model.")
    window_days: int = Field(description="Days from the as-of date the window covers.")
    clv_horizon_days: int = Field(description="Days the predicted CLV covers.")


class CustomerReport(BaseModel):
    """Everything the orchestrator says about one customer."""

    customer_id: str
    name: str
    as_of: date
    loyalty_tier: str
    lifetime_value: float
    churn_risk: float
    price_sensitivity: str
    tier_preference: int | None
    skin_concerns: list[str]
    products_owned: list[str]
    missing_essentials: list[str]
    routine_completeness: float
    replenishment_due: list[ReplenishmentItem]
    potential_revenue: float = Field(description="Sum of the prices of offers that count toward revenue.")
    expected_revenue: float | None = Field(
        description="Sum of probability x price over the offers the customer would be sent (the first top_n, one "
        "per need); None without the acceptance model (see run_notes)."
    )
    predictions: CustomerPredictions = Field(description="The customer models' predictions, or the fallback's.")
    segment: str | None = Field(
        description="The customer's segment; 'No purchase yet' without a purchase, None when not segmented."
    )
    segment_source: str = Field(
        description="model (K-means over the retailer's customers), given (the retailer's own) or none."
    )
    opportunities: list[Opportunity]
    run_notes: list[str] = Field(
        default_factory=list, description="Run notes, such as templates used for lack of a key."
    )
    rationale_stats: RationaleStats | None = Field(
        None, description="Where the rationales came from and the model's cost; None when no model was asked."
    )
    acceptance_note: str | None = Field(
        None,
        description="Why the offers are ranked by the weighted score and have no expected revenue (no fitted "
        "acceptance model); None when the model ranked them.",
    )


def _opportunity(row: dict[str, Any]) -> Opportunity:
    return Opportunity(
        product_id=row["offer_id"],
        product_ids=row["product_ids"] or [row["offer_id"]],
        components={name: row[name] for name in COMPONENTS},
        **{key: value for key, value in row.items() if key in Opportunity.model_fields and key != "product_ids"},
    )


def customer_report(output: dict[str, Any], customer_id: str, settings: CustomerModelSettings) -> CustomerReport:
    """The typed report of one customer from the graph's output state, run with customer-model `settings`."""
    summaries, opportunities = output["customer_summaries"], output["opportunities"]
    summary = summaries.filter(pl.col("customer_id") == customer_id).row(0, named=True)
    offers = opportunities.filter(pl.col("customer_id") == customer_id).sort("rank")
    due = offers.filter(pl.col("type") == "replenishment").sort("due_date", "offer_id")
    return CustomerReport(
        as_of=output["as_of"],
        run_notes=output.get("rationale_notes", []),
        acceptance_note=output.get("acceptance_note"),
        rationale_stats=output.get("rationale_stats"),
        replenishment_due=[
            ReplenishmentItem(
                product_id=row["offer_id"],
                name=row["name"],
                last_purchase=row["last_purchase"],
                days_since_purchase=row["days_since_purchase"],
                cycle_days=row["cycle_days"],
                due_date=row["due_date"],
                status=row["replenishment_status"],
            )
            for row in due.iter_rows(named=True)
        ],
        opportunities=[_opportunity(row) for row in offers.iter_rows(named=True)],
        predictions=CustomerPredictions(
            source=summary["model_source"],
            fallback_reason=summary["model_fallback_reason"],
            window_days=settings.window_days,
            clv_horizon_days=settings.clv_horizon_days,
            **{key: value for key, value in summary.items() if key in CustomerPredictions.model_fields},
        ),
        **{key: value for key, value in summary.items() if key in CustomerReport.model_fields},
    )
