"""Deterministic template rationales for every offer; the chat-model step may rewrite some of them."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from cross_sell_upsell.offers.cohort import names_of
from cross_sell_upsell.offers.keys import lookup


def money(column: str) -> pl.Expr:
    """A dollar amount as text with two decimals, e.g. $41.62."""
    cents = (pl.col(column) * 100).round().cast(pl.Int64)
    return pl.format("${}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))


def _readable(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all("_", " ")


TEMPLATES: dict[str, pl.Expr] = {
    "routine_gap": pl.format(
        "Adds the missing {} step; the customer owns {} of {} routine essentials.",
        _readable(pl.col("category")),
        pl.col("owned_essentials"),
        pl.col("essentials_total"),
    ),
    "replenishment": pl.when(pl.col("replenishment_status") == "win_back")
    .then(
        pl.format(
            "Win back: a favourite, last bought {} days ago, more than {} of its {}-day cycles; the customer has most "
            "likely lapsed, so welcome them back with it.",
            pl.col("days_since_purchase"),
            (pl.col("days_since_purchase") // pl.col("cycle_days")),
            pl.col("cycle_days"),
        )
    )
    .otherwise(
        pl.format(
            "Last bought {} days ago on a {}-day cycle; {} {}.",
            pl.col("days_since_purchase"),
            pl.col("cycle_days"),
            pl.when(pl.col("replenishment_status") == "due").then(pl.lit("due since")).otherwise(pl.lit("due on")),
            pl.col("due_date"),
        )
    ),
    "product_cross_sell": pl.format("Pairs with {}, which the customer already uses.", pl.col("source_name")),
    "tier_upgrade": pl.format("Tier {} step up from {}.", pl.col("tier"), pl.col("source_name")),
    "bundle": pl.format(
        "Completes the routine with {} missing essentials ({}) for {}, saving {}.",
        pl.col("bundle_categories").list.len(),
        _readable(pl.col("bundle_categories").list.join(", ")),
        money("price"),
        money("saving"),
    ),
}
"""One sentence per offer type, from the offer's own facts."""


SOURCE_TEMPLATES: dict[str, pl.Expr] = {
    "basket_rule": pl.format(
        "Bought in {}% of baskets with {}, {}x as often as in baskets overall.",
        (pl.col("link") * 100).round(0).cast(pl.Int64),
        pl.col("source_name"),
        pl.col("rule_lift").round(1),
    ),
    "similar_customers": pl.format(
        "Customers who buy {} also buy it (similarity {}).", pl.col("source_name"), pl.col("link").round(2)
    ),
}
"""Cross-sells a learned signal proposed say what the customer's purchases have in common with it; they
replace the type's sentence."""


def _concern_texts(matched_masks: pl.Series, concerns: Sequence[str]) -> dict[int, str]:
    """' Targets dryness, fine lines.' for each distinct mask of matched concerns ('' for none). Masks repeat
    across millions of offers, so each distinct one is spelled out once."""
    return {
        mask: f" Targets {', '.join(names_of(mask, concerns)).replace('_', ' ')}." if mask else ""
        for mask in matched_masks.unique().to_list()
    }


def likelihood(probabilities: pl.Series, horizon_days: int) -> pl.Series:
    """' 23% likely to buy within 28 days.' per acceptance probability ('Under 1%' below 0.5%); '' without one.
    About a hundred distinct percentages, each sentence written once and looked up, as the concerns are."""
    percents = probabilities.to_frame("p").select(
        pl.when(pl.col("p") < 0.005).then(-1).otherwise((pl.col("p") * 100).round(0).cast(pl.Int64))
    )
    texts = {
        percent: f" {'Under 1' if percent == -1 else percent}% likely to buy within {horizon_days} days."
        for percent in percents.to_series().drop_nulls().unique().to_list()
    }
    return percents.to_series().replace_strict(texts, default="", return_dtype=pl.String)


def template_rationales(
    offers: pl.DataFrame,
    customers: pl.DataFrame,
    routine: pl.DataFrame,
    essentials_total: int,
    concerns: Sequence[str],
    horizon_days: int,
) -> pl.DataFrame:
    """Adds `rationale` (a sentence from the offer's facts, plus the customer's concerns it targets and how
    likely they are to buy it within `horizon_days`, the acceptance model's, when it has a probability),
    `rationale_source` = "template" and an empty `rationale_error` to described offers (see
    results.describe_offers). Each row is formatted by its type's template, or its source's where it has one."""
    facts = offers.select(
        "type",
        "source",
        "link",
        "rule_lift",
        "category",
        "days_since_purchase",
        "cycle_days",
        "replenishment_status",
        "due_date",
        "source_name",
        "tier",
        "bundle_categories",
        "price",
        saving=pl.col("list_price") - pl.col("price"),
        owned_essentials=lookup(routine.get_column("owned_essentials"), "customer_key"),
        essentials_total=pl.lit(essentials_total),
        matched_mask=pl.col("concern_mask") & lookup(customers.get_column("concern_mask"), "customer_key"),
    )
    sentences = pl.Series("sentence", dtype=pl.String).extend_constant(None, offers.height)
    sources, types = facts.get_column("source"), facts.get_column("type")
    own_sentence = sources.is_in(list(SOURCE_TEMPLATES))
    templates = [(sources == source, template) for source, template in SOURCE_TEMPLATES.items()]
    templates += [((types == offer_type) & ~own_sentence, template) for offer_type, template in TEMPLATES.items()]
    for selected, template in templates:
        rows = selected.arg_true()
        if len(rows):
            # Only the columns the sentence reads are gathered: gathering every fact per type cost more than
            # formatting the sentences.
            needed = facts.select(list(dict.fromkeys(template.meta.root_names())))[rows]
            sentences.scatter(rows, needed.select(template).to_series())
    concern_text = _concern_texts(facts.get_column("matched_mask"), concerns)
    return offers.with_columns(
        rationale=pl.concat_str(
            sentences,
            facts.get_column("matched_mask").replace_strict(concern_text, return_dtype=pl.String),
            likelihood(offers.get_column("acceptance_probability"), horizon_days),
        ),
        rationale_source=pl.lit("template"),
        rationale_error=pl.lit(None, dtype=pl.String),
    )
