"""Rationales: deterministic templates for every offer, optionally rewritten by a chat model."""

from __future__ import annotations

import polars as pl


def money(column: str) -> pl.Expr:
    """A dollar amount as text with two decimals, e.g. $41.62."""
    cents = (pl.col(column) * 100).round().cast(pl.Int64)
    return (
        pl.lit("$")
        + (cents // 100).cast(pl.String)
        + pl.lit(".")
        + (cents % 100).cast(pl.String).str.zfill(2)
    )


def _concern_clause() -> pl.Expr:
    matched = pl.col("target_concerns").list.set_intersection("skin_concerns")
    return (
        pl.when(matched.list.len() > 0)
        .then(pl.lit(" Targets ") + matched.list.join(", ").str.replace_all("_", " ") + pl.lit("."))
        .otherwise(pl.lit(""))
    )


def template_rationales(scored: pl.DataFrame, customers: pl.DataFrame, routine: pl.DataFrame) -> pl.DataFrame:
    """Adds `rationale` (one or two sentences from the offer's facts), `rationale_source` = "template" and an
    empty `rationale_error`. Pure string expressions, so a million customers cost seconds."""
    essentials_owned = pl.col("owned_essentials").cast(pl.String)
    essentials_total = (pl.col("owned_essentials") + pl.col("missing_essentials").list.len()).cast(pl.String)
    bundle_saving = money("saving")
    by_type = (
        pl.when(pl.col("type") == "routine_gap")
        .then(
            pl.lit("Adds the missing ")
            + pl.col("category").str.replace_all("_", " ")
            + pl.lit(" step; the customer owns ")
            + essentials_owned
            + pl.lit(" of ")
            + essentials_total
            + pl.lit(" routine essentials.")
        )
        .when(pl.col("type") == "replenishment")
        .then(
            pl.lit("Last bought ")
            + pl.col("days_since_purchase").cast(pl.String)
            + pl.lit(" days ago on a ")
            + pl.col("cycle_days").cast(pl.String)
            + pl.lit("-day cycle; ")
            + pl.when(pl.col("replenishment_status") == "due")
            .then(pl.lit("due since "))
            .otherwise(pl.lit("due on "))
            + pl.col("due_date").cast(pl.String)
            + pl.lit(".")
        )
        .when(pl.col("type") == "product_cross_sell")
        .then(pl.lit("Pairs with ") + pl.col("source_name") + pl.lit(", which the customer already uses."))
        .when(pl.col("type") == "tier_upgrade")
        .then(
            pl.lit("Tier ")
            + pl.col("tier").cast(pl.String)
            + pl.lit(" step up from ")
            + pl.col("source_name")
            + pl.lit(".")
        )
        .otherwise(
            pl.lit("Completes the routine with ")
            + pl.col("bundle_categories").list.len().cast(pl.String)
            + pl.lit(" missing essentials (")
            + pl.col("bundle_categories").list.join(", ").str.replace_all("_", " ")
            + pl.lit(") for ")
            + money("price")
            + pl.lit(", saving ")
            + bundle_saving
            + pl.lit(".")
        )
    )
    return (
        scored.join(customers.select("customer_id", "skin_concerns"), on="customer_id", how="left")
        .join(routine.select("customer_id", "owned_essentials", "missing_essentials"), on="customer_id", how="left")
        .with_columns(saving=pl.col("list_price") - pl.col("price"))
        .with_columns(
            rationale=by_type + _concern_clause(),
            rationale_source=pl.lit("template"),
            rationale_error=pl.lit(None, dtype=pl.String),
        )
        .drop("skin_concerns", "owned_essentials", "missing_essentials", "saving")
    )
