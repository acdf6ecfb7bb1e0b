"""Rendering one customer's report as markdown or JSON."""

from __future__ import annotations

from datetime import datetime

from cross_sell_upsell.offers.results import CustomerReport, Opportunity
from cross_sell_upsell.offers.scoring import COMPONENTS
from cross_sell_upsell.registry import CUSTOMER_SUMMARY_ORDER, SOURCE_LABELS, TYPE_LABELS
from cross_sell_upsell.reporting.strict_json import json_text
from cross_sell_upsell.reporting.text import (
    money_text,
    name_with_id,
    percent_text,
    plain_text,
    rationale_stats_lines,
    readable,
)


def _overview(report: CustomerReport) -> list[str]:
    concerns = plain_text(", ".join(readable(concern) for concern in report.skin_concerns)) or "none recorded"
    preference = f"Tier {report.tier_preference}" if report.tier_preference else "not stated"
    owned = plain_text(", ".join(report.products_owned)) or "none"
    return [
        "## Customer overview",
        "",
        f"- **Loyalty tier:** {plain_text(report.loyalty_tier.title())}",
        f"- **Lifetime value:** {money_text(report.lifetime_value)}",
        f"- **Churn risk:** {percent_text(report.churn_risk * 100)}",
        f"- **Price sensitivity:** {plain_text(report.price_sensitivity.title())}",
        f"- **Tier preference:** {preference}",
        f"- **Skin concerns:** {concerns}",
        f"- **Products owned:** {len(report.products_owned)} ({owned})",
        f"- **Routine completeness:** {percent_text(report.routine_completeness * 100)}",
        "",
    ]


def _outlook(report: CustomerReport) -> list[str]:
    """The customer models' predictions, or the fallback values, and where they come from."""
    predicted = report.predictions
    window = f"next {predicted.window_days} days"
    if predicted.source == "model":
        origin = "Predicted by the customer models (BG/NBD and Gamma-Gamma) fitted on the retailer's purchases."
        value = f"- **Predicted CLV (next {predicted.clv_horizon_days} days, discounted):** "
    else:
        origin = f"Fallback values, not the customer models: {plain_text(predicted.fallback_reason or '')}."
        value = "- **Lifetime value (fallback for the predicted CLV):** "
    next_order = predicted.expected_next_order or "no prediction (no purchase yet)"
    return [
        "## Outlook",
        "",
        origin,
        "",
        value + money_text(predicted.predicted_clv),
        f"- **Churn probability (no purchase in the {window}):** {percent_text(predicted.churn_probability * 100)}",
        f"- **Expected purchases ({window}):** {predicted.expected_purchases:.2f}",
        f"- **Expected next order:** {next_order}",
        f"- **Probability still active:** {percent_text(predicted.p_alive * 100)}",
        f"- **Segment:** {_segment(report)}",
        "",
    ]


SEGMENT_ORIGINS = {"model": "customer segments of the retailer's customers", "given": "the retailer's own segment"}
"""Where a segment comes from, as the report says it."""


def _segment(report: CustomerReport) -> str:
    if report.segment is None:
        return "not segmented (too few customers, or they do not differ)"
    origin = SEGMENT_ORIGINS.get(report.segment_source)
    return plain_text(report.segment) + (f" ({origin})" if origin else "")


def _routine(report: CustomerReport) -> list[str]:
    missing = plain_text(", ".join(report.missing_essentials)) or "none: the routine is complete"
    lines = ["## Routine analysis", "", f"**Missing essentials:** {missing}", ""]
    if not report.replenishment_due:
        return [*lines, "**Replenishment:** nothing due.", ""]
    lines += [
        "**Replenishment due:**",
        "",
        "| Product | Last purchase | Days since | Cycle (days) | Due date | Status |",
        "|---|---|---:|---:|---|---|",
    ]
    lines += [
        f"| {name_with_id(item.name, item.product_id)} | {item.last_purchase} | {item.days_since_purchase} "
        f"| {item.cycle_days} | {item.due_date} | {readable(item.status)} |"
        for item in report.replenishment_due
    ]
    return [*lines, ""]


def _summary(report: CustomerReport) -> list[str]:
    counts = dict.fromkeys(CUSTOMER_SUMMARY_ORDER, 0)
    for opportunity in report.opportunities:
        counts[opportunity.type] += 1
    lines = ["## Opportunities summary", ""]
    lines += [f"- **{TYPE_LABELS[offer_type]}:** {count}" for offer_type, count in counts.items()]
    expected = (
        "not available (no acceptance model: see the note above)"
        if report.expected_revenue is None
        else f"{money_text(report.expected_revenue)} (probability x price over the offers the customer would be sent)"
    )
    lines += [
        f"- **Total opportunities:** {len(report.opportunities)}",
        f"- **Expected revenue:** {expected}",
        (
            f"- **Potential revenue (upper bound):** {money_text(report.potential_revenue)} "
            "(one purchase per need: the bundle counts, not the products it covers)"
        ),
        "",
    ]
    return lines


def _likelihood(opportunity: Opportunity) -> str:
    """The acceptance probability in percent, or '-' without an acceptance model."""
    probability = opportunity.acceptance_probability
    return "-" if probability is None else f"{probability * 100:.1f}%"


def _bundles(report: CustomerReport) -> list[str]:
    bundles = [opportunity for opportunity in report.opportunities if opportunity.type == "bundle"]
    lines = ["## Bundles", ""]
    if not bundles:
        return [*lines, "No bundle: fewer essentials are missing than a bundle needs.", ""]
    for bundle in bundles:
        saving = bundle.list_price - bundle.price
        lines += [
            f"### {plain_text(bundle.name)} (rank {bundle.rank}, score {bundle.score:.2f})",
            "",
            f"- **Products:** {plain_text(', '.join(bundle.product_ids))}",
            (
                f"- **Price:** {money_text(bundle.price)} instead of {money_text(bundle.list_price)} "
                f"(saves {money_text(saving)})"
            ),
            f"- **Why:** {plain_text(bundle.rationale)}",
            "",
        ]
    return lines


def _breakdown(opportunity: Opportunity) -> list[str]:
    lines = [f"  - {readable(name).capitalize()}: {opportunity.components[name]:.2f}" for name in COMPONENTS]
    if opportunity.campaign_boost != 1.0:
        lines.append(
            f"  - Campaign boost: x{opportunity.campaign_boost:g} ({plain_text(opportunity.campaign_name or '')})"
        )
    return lines


def _source(opportunity: Opportunity) -> str:
    if opportunity.rationale_error:
        # The error can quote what the model named.
        return f"{opportunity.rationale_source}; model rationale not used: {plain_text(opportunity.rationale_error)}"
    return opportunity.rationale_source


def _type_and_source(opportunity: Opportunity) -> str:
    """The offer type, and for a cross-sell the signal that proposed it (the other types have one each)."""
    if opportunity.type == "product_cross_sell":
        return f"{TYPE_LABELS[opportunity.type]} (proposed by: {SOURCE_LABELS[opportunity.source]})"
    return TYPE_LABELS[opportunity.type]


def _top(report: CustomerReport, top_n: int) -> list[str]:
    lines = [f"## Top {top_n} recommendations", ""]
    if not report.opportunities:
        return [*lines, "No opportunity found for this customer.", ""]
    for opportunity in report.opportunities[:top_n]:
        lines += [
            f"### {opportunity.rank}. {name_with_id(opportunity.name, opportunity.product_id)}",
            "",
            f"- **Type:** {_type_and_source(opportunity)}",
            f"- **Category:** {plain_text(readable(opportunity.category))}",
            f"- **Price:** {money_text(opportunity.price)}",
            f"- **Why:** {plain_text(opportunity.rationale)} _(source: {_source(opportunity)})_",
            f"- **Probability of buying:** {_likelihood(opportunity)}",
            f"- **Score:** {opportunity.score:.2f}",
            *_breakdown(opportunity),
            "",
        ]
    return lines


def _all(report: CustomerReport) -> list[str]:
    bundled = {product for item in report.opportunities if item.type == "bundle" for product in item.product_ids}

    def counted(item: Opportunity) -> str:
        if item.counts_toward_revenue:
            return "yes"
        return (
            "no (in the bundle)" if item.product_id in bundled else "no (the bundle or a better offer fills this step)"
        )

    lines = [
        "## All opportunities",
        "",
        "| Rank | Offer | Product | Type | Source | Price | Probability | Score | Counts toward revenue |",
        "|---:|---|---|---|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {item.rank} | {plain_text(item.product_id)} | {plain_text(item.name)} | {TYPE_LABELS[item.type]} "
        f"| {SOURCE_LABELS[item.source]} | {money_text(item.price)} | {_likelihood(item)} | {item.score:.2f} "
        f"| {counted(item)} |"
        for item in report.opportunities
    ]
    return [*lines, ""]


def render_markdown(report: CustomerReport, top_n: int, generated_at: datetime) -> str:
    """The single-customer report. Only the generated-at line depends on when it was run."""
    header = [
        f"# Cross-sell & upsell recommendations: {name_with_id(report.name or report.customer_id, report.customer_id)}",
        "",
        f"- **As of:** {report.as_of}",
        f"- **Generated at:** {generated_at:%Y-%m-%d %H:%M:%S}",
        "",
    ]
    notes = [f"> {note}" for note in [*report.run_notes, *filter(None, [report.acceptance_note])]]
    body = (
        _overview(report)
        + _outlook(report)
        + _routine(report)
        + _summary(report)
        + _bundles(report)
        + _top(report, top_n)
    )
    body += rationale_stats_lines(report.rationale_stats) + _all(report)
    return "\n".join(header + ([*notes, ""] if notes else []) + body) + "\n"


def render_json(report: CustomerReport) -> str:
    """The customer report as indented strict JSON (a number that is not finite is null): every field of
    `CustomerReport`."""
    return json_text(report.model_dump(mode="json"))
