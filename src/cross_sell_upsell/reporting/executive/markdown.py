"""The executive report (markdown): a summary with the few findings that stand out, then one section per table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import polars as pl

from cross_sell_upsell.pipeline.totals import SEGMENT_DIMENSIONS, BatchResult
from cross_sell_upsell.registry import SOURCE_ENTRIES, TYPE_ENTRIES, TYPE_LABELS, Entry
from cross_sell_upsell.reporting.executive.campaigns import campaigns_section
from cross_sell_upsell.reporting.executive.customers import customer_models_section, priority_section, win_back_section
from cross_sell_upsell.reporting.executive.files import BatchFiles
from cross_sell_upsell.reporting.executive.history import RunHistory, changes_section, offers_section
from cross_sell_upsell.reporting.executive.labels import (
    SEGMENT_TITLES,
    category_in_text,
    category_title,
    plural,
    segment_title,
)
from cross_sell_upsell.reporting.executive.segments import customers_section
from cross_sell_upsell.reporting.text import (
    money_text,
    name_with_id,
    percent_text,
    plain_text,
    rationale_stats_lines,
    readable,
)

TOP_PRODUCTS = 10
"""Rows of the product tables in the report; the summary JSON has them all."""


def _rows(frame: pl.DataFrame) -> Iterator[dict[str, Any]]:
    return frame.iter_rows(named=True)


def _findings(result: BatchResult) -> list[str]:
    """The few sentences a reader should take away, each computed from a table below."""
    if not result.customers_processed:
        return []
    processed = result.customers_processed
    findings = []
    gap = result.most_common_gaps().row(0, named=True)
    if gap["count"]:
        label = plain_text(category_title(gap["category"]))
        findings.append(
            f"{label} is the most common gap: {gap['count']:,} of {processed:,} customers "
            f"({percent_text(gap['percentage'])}) have no {plain_text(category_in_text(gap['category']))} at all."
        )
    mix = result.opportunity_mix().sort(["potential_revenue", "offers"], descending=True).row(0, named=True)
    if mix["potential_revenue"]:
        findings.append(
            f"{TYPE_LABELS[mix['type']]} offers carry the most potential revenue: "
            f"{money_text(mix['potential_revenue'])}, {percent_text(mix['revenue_percentage'])} of the total."
        )
    loyalty = result.revenue_by_segment("loyalty_tier")
    if not loyalty.is_empty():
        best = loyalty.sort(["average_per_customer", "customers"], descending=True).row(0, named=True)
        findings.append(
            f"{segment_title('loyalty_tier', best['segment'])} customers are worth the most each: "
            f"{money_text(best['average_per_customer'])} of potential revenue per customer on average."
        )
    restock = result.replenishment_due()
    if not restock.is_empty():
        due, soon = int(restock["due"].sum()), int(restock["due_soon"].sum())
        findings.append(
            f"{plural(due + soon, 'restock')} can be offered ({due:,} due now, {soon:,} due within "
            f"{result.config.due_soon_days} days), worth {money_text(float(restock['revenue'].sum()))}."
        )
    priority = result.priority_customers()
    if not priority.is_empty() and priority["priority"][0] > 0:
        first = priority.row(0, named=True)
        findings.append(
            f"Contact {name_with_id(first['name'] or first['customer_id'], first['customer_id'])} first: "
            f"{_worth(first)} of offers, led by {plain_text(first['lead_offer_name'])} at "
            f"{money_text(first['lead_offer_price'])}."
        )
    return findings


def _worth(row: dict) -> str:
    """A priority row's expected revenue, else its potential revenue, as text."""
    if row["expected_revenue"] is None:
        return money_text(row["potential_revenue"])
    return f"{money_text(row['expected_revenue'])} expected (of {money_text(row['potential_revenue'])})"


def _summary_section(result: BatchResult) -> list[str]:
    lines = [
        "## Executive summary",
        "",
        f"- **Customers analysed:** {result.customers_processed:,} of {result.customers_requested:,} requested",
        f"- **Customers not analysed:** {result.customers_failed:,}"
        + (" (see Errors)" if result.customers_failed else ""),
        *_expected_lines(result),
        (
            f"- **Potential revenue (upper bound):** {money_text(result.total_potential_revenue)}, "
            f"{money_text(result.average_potential_revenue)} per customer on average"
        ),
        f"- **Offers per customer:** {result.average_offers:.1f} on average ({result.totals.offers:,} offers)",
        "",
    ]
    findings = _findings(result)
    if findings:
        lines += ["**What stands out**", "", *[f"- {finding}" for finding in findings], ""]
    if result.total_expected_revenue is not None:
        lines += [f"> **How expected revenue is counted.** {result.expected_revenue_definition()}", ""]
    return [*lines, f"> **How potential revenue is counted.** {result.potential_revenue_definition()}", ""]


def _expected_lines(result: BatchResult) -> list[str]:
    """The headline: the expected revenue, or why there is none (no acceptance model: no probability is made up)."""
    if result.total_expected_revenue is None:
        return [f"- **Expected revenue:** not available. {plain_text(result.acceptance_note or '')}"]
    return [
        f"- **Expected revenue:** {money_text(result.total_expected_revenue)}",
        f"- **Average per customer:** {money_text(result.average_expected_revenue or 0.0)}",
    ]


def _chart(charts: dict[str, str], name: str, alt: str) -> list[str]:
    return [f"![{alt}]({charts[name]})", ""] if name in charts else []


def _gaps_section(result: BatchResult, charts: dict[str, str]) -> list[str]:
    lines = [
        "## Most common routine gaps",
        "",
        (
            "How many analysed customers own nothing in each essential step of the routine. Each gap is a product "
            "they need and do not buy from you yet."
        ),
        "",
        "| Essential | Customers missing it | Share of customers |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {plain_text(category_title(row['category']))} | {row['count']:,} | {percent_text(row['percentage'])} |"
        for row in _rows(result.most_common_gaps())
    ]
    return [*lines, "", *_chart(charts, "gaps", "Share of customers missing each essential")]


def _mix_section(result: BatchResult, charts: dict[str, str]) -> list[str]:
    lines = [
        "## Opportunity mix",
        "",
        "What kind of offers were made, and where their potential revenue comes from.",
        "",
        *_mix_table("Offer type", result.opportunity_mix(), "type", TYPE_ENTRIES),
    ]
    lines += [
        "",
        (
            "A routine-gap product that is also in the customer's bundle is offered on its own too, but a missing "
            "essential is counted once: in the bundle, or in the best offer for it."
        ),
        "",
    ]
    lines += _chart(charts, "opportunity_mix", "Offers and potential revenue by offer type")
    lines += [
        "### By source",
        "",
        (
            "Which signal proposed each offer. A product several signals propose is one offer, under the source that "
            "scores it highest (the catalog on a tie)."
        ),
        "",
        *_mix_table("Source", result.source_mix(), "source", SOURCE_ENTRIES),
    ]
    return [*lines, ""]


def _mix_table(heading: str, mix: pl.DataFrame, key: str, entries: tuple[Entry, ...]) -> list[str]:
    """The offers, customers and revenue of each value of `key` (an offer type or source) as a markdown table,
    then what each value means."""
    labels = {entry.key: entry.label for entry in entries}
    return [
        f"| {heading} | Offers | Share of offers | Customers offered one | Potential revenue | Share of revenue |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {labels[row[key]]} | {row['offers']:,} | {percent_text(row['offers_percentage'])} "
            f"| {row['customers']:,} | {money_text(row['potential_revenue'])} "
            f"| {percent_text(row['revenue_percentage'])} |"
            for row in _rows(mix)
        ),
        "",
        *(f"- **{entry.label}:** {entry.meaning}." for entry in entries),
    ]


def _segments_section(result: BatchResult, charts: dict[str, str]) -> list[str]:
    lines = ["## Revenue by segment", "", "Where the potential revenue sits among your customers.", ""]
    for dimension in SEGMENT_DIMENSIONS:
        table = result.revenue_by_segment(dimension)
        if table.is_empty():
            continue
        title = SEGMENT_TITLES[dimension]
        lines += [
            f"### By {title.lower()}",
            "",
            f"| {title} | Customers | Potential revenue | Share of revenue | Average per customer |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {segment_title(dimension, row['segment'])} | {row['customers']:,} "
            f"| {money_text(row['potential_revenue'])} | {percent_text(row['revenue_percentage'])} "
            f"| {money_text(row['average_per_customer'])} |"
            for row in _rows(table)
        ]
        lines.append("")
    return [*lines, *_chart(charts, "revenue_by_segment", "Potential revenue by customer segment")]


def _restock_section(result: BatchResult) -> list[str]:
    days = result.config.due_soon_days
    lines = [
        "## Replenishment due",
        "",
        (
            f"Products customers own whose replenishment cycle had run out on {result.as_of} (due now) or runs out "
            f"within {days} days (due soon). A restock reminder is the easiest sale there is."
        ),
        "",
    ]
    table = result.replenishment_due()
    if table.is_empty():
        return [*lines, "Nothing is due.", ""]
    lines += ["| Product | Due now | Due soon | Customers | Restock revenue |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {name_with_id(row['name'], row['product_id'])} | {row['due']:,} | {row['due_soon']:,} "
        f"| {row['customers']:,} | {money_text(row['revenue'])} |"
        for row in _rows(table.head(TOP_PRODUCTS))
    ]
    if table.height > TOP_PRODUCTS:
        rest = table.slice(TOP_PRODUCTS)
        lines.append(
            f"| {table.height - TOP_PRODUCTS} other products | {rest['due'].sum():,} | {rest['due_soon'].sum():,} "
            f"| {rest['customers'].sum():,} | {money_text(float(rest['revenue'].sum()))} |"
        )
    lines.append(
        f"| **All products** | **{table['due'].sum():,}** | **{table['due_soon'].sum():,}** "
        f"| **{table['customers'].sum():,}** | **{money_text(float(table['revenue'].sum()))}** |"
    )
    return [*lines, ""]


def _top_offers_section(result: BatchResult) -> list[str]:
    table = result.top_opportunities()
    lines = [
        f"## Top {len(table)} opportunities across customers",
        "",
        (
            "The best-scoring offers that count toward potential revenue (a bundle stands for its products). The score (0-100) weighs what the sale is worth, how well the offer fits "
            "the customer, how much it completes their routine, how urgent a restock is, and their skin concerns."
        ),
        "",
    ]
    if table.is_empty():
        return [*lines, "No offer was made.", ""]
    lines += ["| # | Customer | Offer | Type | Price | Score |", "|---:|---|---|---|---:|---:|"]
    lines += [
        f"| {position} | {name_with_id(row['customer_name'], row['customer_id'])} "
        f"| {name_with_id(row['name'], row['offer_id'])} "
        f"| {TYPE_LABELS[row['type']]} "
        f"| {money_text(row['price'])} | {row['score']:.2f} |"
        for position, row in enumerate(_rows(table), start=1)
    ]
    return [*lines, ""]


def _products_section(result: BatchResult) -> list[str]:
    table = result.most_recommended()
    lines = [
        "## Most recommended products",
        "",
        (
            "How many customers are offered each product, on its own or inside their bundle. If they all said yes, "
            "this is the stock you would need, one unit each."
        ),
        "",
    ]
    if table.is_empty():
        return [*lines, "No product was recommended.", ""]
    lines += [
        "| Product | Category | Tier | Price | Customers offered | In their bundle | As their top offer |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name_with_id(row['name'], row['product_id'])} | {plain_text(category_title(row['category'] or ''))} "
        f"| {row['tier']} "
        f"| {money_text(row['price'])} | {row['customers']:,} | {row['in_bundle']:,} | {row['top_offer']:,} |"
        for row in _rows(table.head(TOP_PRODUCTS))
    ]
    if table.height > TOP_PRODUCTS:
        lines += ["", f"The summary JSON lists all {table.height} recommended products."]
    return [*lines, ""]


def _errors_section(result: BatchResult) -> list[str]:
    lines = ["## Errors", ""]
    if not result.customers_failed:
        return [*lines, "None: every requested customer was analysed.", ""]
    lines += [
        (
            f"{result.customers_failed:,} of {result.customers_requested:,} requested customers could not be analysed. "
            "They are in none of the figures above."
        ),
        "",
        "| Customer | Problem |",
        "|---|---|",
    ]
    lines += [f"| {plain_text(row['customer_id'])} | {plain_text(row['error'])} |" for row in _rows(result.errors)]
    return [*lines, ""]


def _data_quality_section(result: BatchResult, files: BatchFiles) -> list[str]:
    """Only for data read from a transaction log: the rows read, used and set aside, and the cycles learned."""
    rejected = result.rows_rejected
    cycles = result.learned_cycles
    if "rows_read" not in rejected and not rejected["total"] and (cycles is None or cycles.is_empty()):
        return []
    lines = ["## Data quality", ""]
    if "rows_read" in rejected:
        read, used, set_aside = rejected["rows_read"], rejected["rows_used"], rejected["total"]
        lines += [f"{read:,} transaction rows read: {used:,} used, {set_aside:,} set aside.", ""]
    if rejected["total"]:
        lines += [
            f"{rejected['total']:,} input rows were set aside and are in `{files.rejected_rows.name}` with the reason:",
            "",
            "| Reason | Rows |",
            "|---|---:|",
            *[f"| {readable(reason)} | {count:,} |" for reason, count in rejected["by_reason"].items() if count],
            "",
        ]
    if cycles is not None and not cycles.is_empty():
        lines += [
            "Replenishment cycles the catalog did not give, learned from repeat purchases:",
            "",
            "| Product | Cycle (days) | Learned from | Repeats |",
            "|---|---:|---|---:|",
            *[
                f"| {plain_text(row['product_id'])} | {row['cycle_days'] if row['cycle_days'] is not None else 'none'} "
                f"| {row['basis']} | {row['repeats']:,} |"
                for row in _rows(cycles)
            ],
            "",
        ]
    return lines


def _files_section(files: BatchFiles, result: BatchResult) -> list[str]:
    rejected = (
        [f"- `{files.rejected_rows.name}`: the input rows set aside, with the reason."]
        if result.rows_rejected["total"]
        else []
    )
    customers = ", ".join(f"`{path.name}`" for path in files.customer_files)
    parquet = [f"- `{files.recommendations_parquet.name}`: the same offers as Parquet."] if files.parquet else []
    return [
        "## Files",
        "",
        f"- `{files.recommendations.name}`: every offer for every customer, one row per offer, for marketing tools.",
        *parquet,
        f"- {customers}: one row per customer with their top offers, for marketing tools.",
        f"- `{files.summary.name}`: every figure in this report, machine-readable.",
        *rejected,
        "",
    ]


def render_markdown(
    result: BatchResult,
    files: BatchFiles,
    charts: list[str],
    generated_at: datetime,
    history: RunHistory | None = None,
) -> str:
    """The executive report. Only the generated-at line depends on when it was run; "Did last week's offers
    sell?" and the changes since the previous run follow the summary (`history`, default: no store)."""
    history = history or RunHistory()
    chart_links = {name: files.chart(name).name for name in charts}
    header = [
        "# Cross-sell & upsell: weekly executive report",
        "",
        f"- **As of:** {result.as_of}",
        f"- **Data:** {result.source}",
        f"- **Generated at:** {generated_at:%Y-%m-%d %H:%M:%S}",
        "",
    ]
    notes = [*[f"> {note}" for note in result.rationale_notes], ""] if result.rationale_notes else []
    body = (
        _summary_section(result)
        + offers_section(history)
        + changes_section(history)
        + _gaps_section(result, chart_links)
        + _mix_section(result, chart_links)
        + _segments_section(result, chart_links)
        + _restock_section(result)
        + customer_models_section(result)
        + customers_section(result, chart_links)
        + priority_section(result)
        + win_back_section(result)
        + _top_offers_section(result)
        + _products_section(result)
        + campaigns_section(result)
        + rationale_stats_lines(result.rationale_stats)
        + _errors_section(result)
        + _data_quality_section(result, files)
        + _files_section(files, result)
    )
    return "\n".join(header + notes + body).rstrip("\n") + "\n"
