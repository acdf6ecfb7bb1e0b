"""What the money figures mean, who to contact first, and who to win back: one row per customer of a chunk, split by whether the customer
models say the customer has most likely left. Pure functions over the graph's output frames; the totals keep
the top rows of each list (`totals.chunk_totals`)."""

from __future__ import annotations

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig

POTENTIAL_REVENUE_DEFINITION = (
    "Potential revenue is what the offers are worth if every customer accepted them: the sum of the offer "
    "prices, counting one purchase per need. Each step of the routine is one need with at most one offer (a "
    "restock, an upgrade or the product for a missing step). A complete-your-routine bundle counts at its "
    "discounted price for the steps it fills, and its products offered on their own do not count again. Outside "
    "the routine each offer counts{cap}. No sale is counted twice. It is an upper bound "
    "on the size of the opportunity, not a sales forecast."
)


EXPECTED_REVENUE_DEFINITION = (
    "Expected revenue is what the offers are expected to bring in: for each offer a customer would be sent (their "
    "first {sent} offers, one per need, as potential revenue counts them), the probability that they buy it within "
    "{horizon} days times its price, summed. The probabilities come from the acceptance model, trained on the "
    "offers this orchestrator would have made {horizon} days earlier and what those customers then bought."
)


PRIORITY_DEFINITION = (
    "Priority = expected revenue x value factor: what the offers the customer would be sent are expected to bring "
    "in, learned from your own history. Expected revenue is the sum of probability x price over those offers; the "
    "probability that the customer buys an offer within {horizon} days comes from the acceptance model, which "
    "already weighs the customer's churn probability, so churn is not applied a second time. The value factor is "
    "1 + predicted CLV / {reference} (capped at 2), so customers worth more in the coming year count up to double. "
    "The lead offer is the one with the highest expected revenue. Customers who have most likely left are not "
    "ranked here: they are on the win-back list."
)
"""With a fitted acceptance model."""


SCORE_PRIORITY_DEFINITION = (
    "Priority = potential revenue x probability of buying in the next {window} days x value factor: the part of "
    "the offers' worth the customer is likely to act on now. The probability of buying is 1 - the churn "
    "probability (no purchase in the window); the value factor is 1 + predicted CLV / {reference} (capped at 2), "
    "so customers worth more in the coming year count up to double. Missing essentials raise the potential "
    "revenue, through the bundle and gap offers. The lead offer is the best-ranked one. Customers who have most "
    "likely left are not ranked here: they are on the win-back list."
)
"""Without one (too little history, or switched off): there is no expected revenue."""


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
    "expected_revenue": pl.Float64(),
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
    """The priority of a customer summary row: PRIORITY_DEFINITION with an expected revenue, else
    SCORE_PRIORITY_DEFINITION's."""
    value_factor = 1.0 + (pl.col("predicted_clv") / lifetime_value_reference).clip(upper_bound=1.0)
    by_score = pl.col("potential_revenue") * (1.0 - pl.col("churn_probability"))
    return (pl.coalesce("expected_revenue", by_score) * value_factor).round(2)


def lead_offers(opportunities: pl.DataFrame, sent: int) -> pl.DataFrame:
    """Per customer with offers, the lead offer: of the first `sent` offers that count toward revenue, the one with
    the highest expected revenue, ties (and without an acceptance model, every offer) by rank."""
    return (
        opportunities.filter(pl.col("counts_toward_revenue") & (pl.col("rank") <= sent))
        .sort(["customer_id", "expected_revenue", "rank"], descending=[False, True, False], nulls_last=True)
        .unique("customer_id", keep="first", maintain_order=True)
    )


def lapsed(config: OrchestratorConfig) -> pl.Expr:
    """Whether a customer has most likely left (P(alive) below `win_back_below_p_alive`)."""
    return pl.col("p_alive") < config.win_back_below_p_alive


def customer_rows(summaries: pl.DataFrame, config: OrchestratorConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of the customers still active and of those who have most likely left (`lapsed`), with their
    priority: PRIORITY_SCHEMA's columns but the lead offer's, which `with_lead_offers` adds to the few rows a
    list keeps (a lead offer for every customer would cost a sort and a join of every offer)."""
    summary_columns = [name for name in PRIORITY_SCHEMA if not name.startswith("lead_")]
    rows = summaries.with_columns(
        priority=priority_expression(config.lifetime_value_reference), lapsed=lapsed(config)
    ).select(*(pl.col(name).cast(PRIORITY_SCHEMA[name]) for name in summary_columns), "lapsed")
    return rows.filter(~pl.col("lapsed")).drop("lapsed"), rows.filter(pl.col("lapsed")).drop("lapsed")


def with_lead_offers(rows: pl.DataFrame, opportunities: pl.DataFrame, sent: int) -> pl.DataFrame:
    """PRIORITY_SCHEMA rows: `rows` (`customer_rows`) with each customer's lead offer (`lead_offers`), in order."""
    offers = opportunities.filter(pl.col("customer_id").is_in(rows.get_column("customer_id").implode()))
    lead = lead_offers(offers, sent).select(
        "customer_id",
        lead_offer_id="offer_id",
        lead_offer_name="name",
        lead_offer_type="type",
        lead_offer_price="price",
        lead_rationale="rationale",
        lead_rationale_source="rationale_source",
    )
    return rows.join(lead, on="customer_id", how="left", maintain_order="left").select(
        pl.col(name).cast(dtype) for name, dtype in PRIORITY_SCHEMA.items()
    )


def top_rows(frame: pl.DataFrame, order: tuple[list[str], list[bool]], limit: int) -> pl.DataFrame:
    """The first `limit` rows in `order` (whose keys are unique per row), without sorting the whole frame.

    Only rows at least as good as the `limit`-th best on the first (numeric) key can make it, and those are
    few: the full key, strings included, is compared on them alone."""
    columns, descending = order
    if frame.height > limit:
        first = frame.get_column(columns[0])
        if descending[0]:
            frame = frame.filter(pl.col(columns[0]) >= first.top_k(limit).min())
        else:
            frame = frame.filter(pl.col(columns[0]) <= first.bottom_k(limit).max())
    return frame.top_k(limit, by=columns, reverse=[not flag for flag in descending]).sort(
        columns, descending=descending
    )
