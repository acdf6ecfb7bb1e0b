"""Rendering one customer's report as markdown or JSON, and writing files atomically."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

from .results import CustomerReport, Opportunity
from .scoring import COMPONENTS

TYPE_LABELS = {
    "routine_gap": "Routine gap",
    "product_cross_sell": "Cross-sell",
    "replenishment": "Replenishment",
    "tier_upgrade": "Tier upgrade",
    "bundle": "Bundle",
}


def write_atomic(path: str | Path, text: str | bytes) -> Path:
    """Writes `text` (as UTF-8; bytes as they are) to `path` through a temporary file in the same folder, so a
    reader never sees half a file and an interrupted run leaves the previous file intact."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8") if isinstance(text, str) else text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def _money(amount: float) -> str:
    return f"${amount:,.2f}"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.0f}%"


def _label(text: str) -> str:
    return text.replace("_", " ")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _overview(report: CustomerReport) -> list[str]:
    concerns = ", ".join(_label(concern) for concern in report.skin_concerns) or "none recorded"
    preference = f"Tier {report.tier_preference}" if report.tier_preference else "not stated"
    return [
        "## Customer overview",
        "",
        f"- **Loyalty tier:** {report.loyalty_tier.title()}",
        f"- **Lifetime value:** {_money(report.lifetime_value)}",
        f"- **Churn risk:** {_percent(report.churn_risk)}",
        f"- **Price sensitivity:** {report.price_sensitivity.title()}",
        f"- **Tier preference:** {preference}",
        f"- **Skin concerns:** {concerns}",
        f"- **Products owned:** {len(report.products_owned)} ({', '.join(report.products_owned) or 'none'})",
        f"- **Routine completeness:** {_percent(report.routine_completeness)}",
        "",
    ]


def _routine(report: CustomerReport) -> list[str]:
    missing = ", ".join(report.missing_essentials) if report.missing_essentials else "none: the routine is complete"
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
        f"| {_cell(item.name)} ({item.product_id}) | {item.last_purchase} | {item.days_since_purchase} "
        f"| {item.cycle_days} | {item.due_date} | {_label(item.status)} |"
        for item in report.replenishment_due
    ]
    return [*lines, ""]


def _summary(report: CustomerReport) -> list[str]:
    counts = {offer_type: 0 for offer_type in TYPE_LABELS}
    for opportunity in report.opportunities:
        counts[opportunity.type] += 1
    lines = ["## Opportunities summary", ""]
    lines += [f"- **{label}:** {counts[offer_type]}" for offer_type, label in TYPE_LABELS.items()]
    lines += [
        f"- **Total opportunities:** {len(report.opportunities)}",
        f"- **Potential revenue:** {_money(report.potential_revenue)} "
        "(every offer's price once; a bundle replaces the separate offers of its products)",
        "",
    ]
    return lines


def _bundles(report: CustomerReport) -> list[str]:
    bundles = [opportunity for opportunity in report.opportunities if opportunity.type == "bundle"]
    lines = ["## Bundles", ""]
    if not bundles:
        return [*lines, "No bundle: fewer essentials are missing than a bundle needs.", ""]
    for bundle in bundles:
        saving = bundle.list_price - bundle.price
        lines += [
            f"### {bundle.name} (rank {bundle.rank}, score {bundle.score:.2f})",
            "",
            f"- **Products:** {', '.join(bundle.product_ids)}",
            f"- **Price:** {_money(bundle.price)} instead of {_money(bundle.list_price)} (saves {_money(saving)})",
            f"- **Why:** {bundle.rationale}",
            "",
        ]
    return lines


def _breakdown(opportunity: Opportunity) -> list[str]:
    return [f"  - {_label(name).capitalize()}: {opportunity.components[name]:.2f}" for name in COMPONENTS]


def _top(report: CustomerReport, top_n: int) -> list[str]:
    lines = [f"## Top {top_n} recommendations", ""]
    if not report.opportunities:
        return [*lines, "No opportunity found for this customer.", ""]
    for opportunity in report.opportunities[:top_n]:
        lines += [
            f"### {opportunity.rank}. {opportunity.name} ({opportunity.product_id})",
            "",
            f"- **Type:** {TYPE_LABELS[opportunity.type]}",
            f"- **Category:** {_label(opportunity.category)}",
            f"- **Price:** {_money(opportunity.price)}",
            f"- **Why:** {opportunity.rationale} _(source: {opportunity.rationale_source})_",
            f"- **Score:** {opportunity.score:.2f}",
            *_breakdown(opportunity),
            "",
        ]
    return lines


def _all(report: CustomerReport) -> list[str]:
    lines = [
        "## All opportunities",
        "",
        "| Rank | Offer | Product | Type | Price | Score | Counts toward revenue |",
        "|---:|---|---|---|---:|---:|---|",
    ]
    lines += [
        f"| {item.rank} | {item.product_id} | {_cell(item.name)} | {TYPE_LABELS[item.type]} | {_money(item.price)} "
        f"| {item.score:.2f} | {'yes' if item.counts_toward_revenue else 'no (in the bundle)'} |"
        for item in report.opportunities
    ]
    return [*lines, ""]


def render_markdown(report: CustomerReport, top_n: int, generated_at: datetime) -> str:
    """The single-customer report. Only the generated-at line depends on when it was run."""
    header = [
        f"# Cross-sell & upsell recommendations: {report.name or report.customer_id} ({report.customer_id})",
        "",
        f"- **As of:** {report.as_of}",
        f"- **Generated at:** {generated_at:%Y-%m-%d %H:%M:%S}",
        "",
    ]
    notes = [f"> {note}" for note in report.run_notes]
    body = _overview(report) + _routine(report) + _summary(report) + _bundles(report) + _top(report, top_n)
    return "\n".join(header + ([*notes, ""] if notes else []) + body + _all(report))


def render_json(report: CustomerReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2) + "\n"
