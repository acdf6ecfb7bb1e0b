"""The executive report's customer sections: whether the customer models or the fallback values are used, who
to contact first (the priority list) and who to win back."""

from __future__ import annotations

from typing import Any

import polars as pl

from cross_sell_upsell.pipeline.totals import BatchResult
from cross_sell_upsell.registry import TYPE_LABELS
from cross_sell_upsell.reporting.executive.labels import category_in_text, plural
from cross_sell_upsell.reporting.text import money_text, name_with_id, percent_text, plain_text


def _list(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def customer_models_section(result: BatchResult) -> list[str]:
    """One paragraph: are the predicted CLV, churn probability and the rest the models' or the fallback's, why."""
    models = result.customer_models
    if models is None:
        return []
    settings = result.config.customer_models
    lines = ["## Customer models", ""]
    if models.fallback is None and models.bgnbd is not None and models.gamma_gamma is not None:
        share = f"{result.totals.model_customers:,} of {result.customers_processed:,} customers analysed"
        lines.append(
            f"Predicted CLV (next {settings.clv_horizon_days} days), churn probability and expected purchases "
            f"(next {settings.window_days} days) and the next order date come from the customer models (BG/NBD and "
            f"Gamma-Gamma), fitted on the purchases of {models.diagnostics.customers:,} customers up to "
            f"{result.as_of}: {share}. The rest have no purchase yet, or values the models could not give, and "
            "get the fallback values."
        )
    else:
        lines.append(
            "The customer models are not used: "
            f"{plain_text(models.fallback or '')}. Every customer gets the fallback values: the lifetime value and "
            "churn risk the retailer gives, else past spend as the CLV and the recency-based churn risk, and "
            "expected purchases at the customer's past rate."
        )
    return [*lines, ""]


def _value(row: dict[str, Any]) -> str:
    return f"{row['loyalty_tier'].capitalize()}, {money_text(row['predicted_clv'])} predicted CLV"


def _expected(row: dict[str, Any]) -> str:
    """The expected revenue cell: '-' without an acceptance model."""
    return "-" if row["expected_revenue"] is None else money_text(row["expected_revenue"])


def _gaps(row: dict[str, Any]) -> str:
    missing = row["missing_essentials"]
    parts = [
        f"missing {_list([plain_text(category_in_text(name)) for name in missing])}" if missing else "routine complete"
    ]
    if row["replenishment_due_count"]:
        parts.append(f"{plural(row['replenishment_due_count'], 'restock')} due")
    return "; ".join(parts)


def _lead_lines(table: pl.DataFrame) -> list[str]:
    """What to lead with, for each customer of a list."""
    lines = []
    for position, row in enumerate(table.iter_rows(named=True), start=1):
        who = name_with_id(row["name"], row["customer_id"])
        if row["lead_offer_id"] is None:
            lines.append(f"{position}. **{who}:** no offer.")
            continue
        source = " _(written by the chat model)_" if row["lead_rationale_source"] == "llm" else ""
        lines.append(
            f"{position}. **{who}:** {name_with_id(row['lead_offer_name'], row['lead_offer_id'])}, "
            f"{TYPE_LABELS[row['lead_offer_type']].lower()} at {money_text(row['lead_offer_price'])}. "
            f"{plain_text(row['lead_rationale'])}{source}"
        )
    return lines


def priority_section(result: BatchResult) -> list[str]:
    table = result.priority_customers()
    lines = [
        f"## Top {len(table)} priority customers" if len(table) != 1 else "## Top priority customer",
        "",
        f"Who to contact first, and why. {result.priority_definition()}",
        "",
    ]
    if table.is_empty():
        return [*lines, "No customer still active was analysed.", ""]
    lines += [
        "| # | Customer | Priority | Expected revenue | Potential revenue | Value | Gaps | Churn probability |",
        "|---:|---|---:|---:|---:|---|---|---:|",
    ]
    lines += [
        f"| {position} | {name_with_id(row['name'], row['customer_id'])} | {row['priority']:,.2f} "
        f"| {_expected(row)} | {money_text(row['potential_revenue'])} | {_value(row)} | {_gaps(row)} "
        f"| {percent_text(row['churn_probability'] * 100)} |"
        for position, row in enumerate(table.iter_rows(named=True), start=1)
    ]
    return [*lines, "", "### What to lead with", "", *_lead_lines(table), ""]


def win_back_section(result: BatchResult) -> list[str]:
    table = result.win_back_list()
    totals = result.totals
    lines = ["## Win back", "", result.win_back_definition(), ""]
    if table.is_empty():
        return [*lines, "No customer analysed has most likely left.", ""]
    lines += [
        f"{plural(totals.win_back_customers, 'customer')} to win back, with "
        f"{money_text(totals.win_back_revenue_cents / 100)} of potential revenue"
        + (f"; the {len(table)} most valuable:" if totals.win_back_customers > len(table) else ":"),
        "",
        "| # | Customer | Lifetime value | Still active | Potential revenue | Gaps |",
        "|---:|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {position} | {name_with_id(row['name'], row['customer_id'])} | {money_text(row['lifetime_value'])} "
        f"| {percent_text(row['p_alive'] * 100)} | {money_text(row['potential_revenue'])} | {_gaps(row)} |"
        for position, row in enumerate(table.iter_rows(named=True), start=1)
    ]
    return [*lines, "", "### What to lead with", "", *_lead_lines(table), ""]
