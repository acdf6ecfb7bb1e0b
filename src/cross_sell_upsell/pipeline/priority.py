"""Who to contact first, and who to win back: one row per customer of a chunk, split by whether the customer
models say the customer has most likely left. Pure functions over the graph's output frames; the totals keep
the top rows of each list (`totals.chunk_totals`)."""

from __future__ import annotations

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig

PRIORITY_DEFINITION = (
    "Priority = potential revenue x probability of buying in the next {window} days x value factor: the part of "
    "the offers' worth the customer is likely to act on now. The probability of buying is 1 - the churn "
    "probability (no purchase in the window); the value factor is 1 + predicted CLV / {reference} (capped at 2), "
    "so customers worth more in the coming year count up to double. Missing essentials raise the potential "
    "revenue, through the bundle and gap offers. Customers who have most likely left are not ranked here: they "
    "are on the win-back list."
)


WIN_BACK_DEFINITION = (
    "Customers whose probability of still being active is below {threshold}: more likely gone than not. A "
    "reminder to restock means nothing to them, so a restock last bought more than {cycles} replenishment cycles "
    "ago is replaced by one win-back offer of their favourite such product (the one they bought on most days). "
    "Ranked by lifetime value, what they spent before they lapsed: the most valuable customers lost come first."
)


PRIORITY_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "name": pl.String(),
    "loyalty_tier": pl.String(),
    "lifetime_value": pl.Float64(),
    "predicted_clv": pl.Float64(),
    "churn_probability": pl.Float64(),
    "p_alive": pl.Float64(),
    "model_source": pl.String(),
    "missing_essentials": pl.List(pl.String()),
    "replenishment_due_count": pl.Int64(),
    "offer_count": pl.Int64(),
    "potential_revenue": pl.Float64(),
    "priority": pl.Float64(),
    "lead_offer_id": pl.String(),
    "lead_offer_name": pl.String(),
    "lead_offer_type": pl.String(),
    "lead_offer_price": pl.Float64(),
    "lead_rationale": pl.String(),
    "lead_rationale_source": pl.String(),
}
"""A row of the priority and of the win-back list."""


PRIORITY_ORDER = (["priority", "potential_revenue", "customer_id"], [True, True, False])


WIN_BACK_ORDER = (["lifetime_value", "potential_revenue", "customer_id"], [True, True, False])


def priority_expression(lifetime_value_reference: float) -> pl.Expr:
    """The priority of a customer summary row (see PRIORITY_DEFINITION)."""
    value_factor = 1.0 + (pl.col("predicted_clv") / lifetime_value_reference).clip(upper_bound=1.0)
    return (pl.col("potential_revenue") * (1.0 - pl.col("churn_probability")) * value_factor).round(2)


def lapsed(config: OrchestratorConfig) -> pl.Expr:
    """Whether a customer has most likely left (P(alive) below `win_back_below_p_alive`)."""
    return pl.col("p_alive") < config.win_back_below_p_alive


def customer_rows(
    opportunities: pl.DataFrame, summaries: pl.DataFrame, config: OrchestratorConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """PRIORITY_SCHEMA rows of the customers still active and of those who have most likely left (`lapsed`),
    each with their lead (rank 1) offer."""
    lead = opportunities.filter(pl.col("rank") == 1).select(
        "customer_id",
        lead_offer_id="offer_id",
        lead_offer_name="name",
        lead_offer_type="type",
        lead_offer_price="price",
        lead_rationale="rationale",
        lead_rationale_source="rationale_source",
    )
    rows = (
        summaries.join(lead, on="customer_id", how="left")
        .with_columns(priority=priority_expression(config.lifetime_value_reference), lapsed=lapsed(config))
        .select(*(pl.col(name).cast(dtype) for name, dtype in PRIORITY_SCHEMA.items()), "lapsed")
    )
    return rows.filter(~pl.col("lapsed")).drop("lapsed"), rows.filter(pl.col("lapsed")).drop("lapsed")
