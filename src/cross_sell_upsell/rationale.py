"""Deterministic template rationales for every offer; the chat-model step may rewrite some of them."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from .cohort import concern_names


def money(column: str) -> pl.Expr:
    """A dollar amount as text with two decimals, e.g. $41.62."""
    cents = (pl.col(column) * 100).round().cast(pl.Int64)
    return pl.format("${}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))


def _readable(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all("_", " ")


def _matched_concerns(matched_masks: pl.Series, concerns: Sequence[str]) -> pl.DataFrame:
    """Text for each distinct mask of matched concerns: ' Targets dryness, fine lines.' (empty for none).
    Masks repeat across millions of offers, so each distinct one is spelled out once."""
    masks = matched_masks.unique().sort().to_list()
    texts = [
        f" Targets {', '.join(concern_names(mask, concerns)).replace('_', ' ')}." if mask else "" for mask in masks
    ]
    return pl.DataFrame({"matched_mask": masks, "concern_text": texts}, schema={"matched_mask": pl.UInt64, "concern_text": pl.String})


def _by_type() -> pl.Expr:
    essentials_total = pl.col("owned_essentials") + pl.col("missing_essentials").list.len()
    return (
        pl.when(pl.col("type") == "routine_gap")
        .then(
            pl.format(
                "Adds the missing {} step; the customer owns {} of {} routine essentials.",
                _readable(pl.col("category")),
                pl.col("owned_essentials"),
                essentials_total,
            )
        )
        .when(pl.col("type") == "replenishment")
        .then(
            pl.format(
                "Last bought {} days ago on a {}-day cycle; {} {}.",
                pl.col("days_since_purchase"),
                pl.col("cycle_days"),
                pl.when(pl.col("replenishment_status") == "due").then(pl.lit("due since")).otherwise(pl.lit("due on")),
                pl.col("due_date"),
            )
        )
        .when(pl.col("type") == "product_cross_sell")
        .then(pl.format("Pairs with {}, which the customer already uses.", pl.col("source_name")))
        .when(pl.col("type") == "tier_upgrade")
        .then(pl.format("Tier {} step up from {}.", pl.col("tier"), pl.col("source_name")))
        .otherwise(
            pl.format(
                "Completes the routine with {} missing essentials ({}) for {}, saving {}.",
                pl.col("bundle_categories").list.len(),
                _readable(pl.col("bundle_categories").list.join(", ")),
                money("price"),
                money("saving"),
            )
        )
    )


def template_rationales(
    offers: pl.DataFrame, customers: pl.DataFrame, routine: pl.DataFrame, concerns: Sequence[str]
) -> pl.DataFrame:
    """Adds `rationale` (one or two sentences from the offer's facts), `rationale_source` = "template" and an
    empty `rationale_error` to described offers (see results.describe_offers). Pure expressions: a million
    customers cost seconds."""
    with_context = (
        offers.join(customers.select("customer_key", customer_concerns="concern_mask"), on="customer_key", how="left", maintain_order="left")
        .join(routine.select("customer_key", "owned_essentials", "missing_essentials"), on="customer_key", how="left", maintain_order="left")
        .with_columns(matched_mask=pl.col("concern_mask") & pl.col("customer_concerns"), saving=pl.col("list_price") - pl.col("price"))
    )
    concern_text = _matched_concerns(with_context.get_column("matched_mask"), concerns)
    return (
        with_context.join(concern_text, on="matched_mask", how="left", maintain_order="left")
        .with_columns(
            rationale=pl.concat_str(_by_type(), pl.col("concern_text")),
            rationale_source=pl.lit("template"),
            rationale_error=pl.lit(None, dtype=pl.String),
        )
        .drop("customer_concerns", "owned_essentials", "missing_essentials", "matched_mask", "saving", "concern_text")
    )
