"""The batch run's files: the executive report (markdown), its charts (PNG), the machine-readable summary
(JSON) and the per-offer recommendations (CSV) for marketing tools.

Rendering only reads a `BatchResult`; nothing here aggregates. Every file is staged beside its target and
published together at the end, so a failed run leaves no file behind, and a reader never sees half a file.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from cross_sell_upsell.io.files import stage_file
from cross_sell_upsell.io.staging import StagedOutputs
from cross_sell_upsell.offers.scoring import COMPONENTS
from cross_sell_upsell.pipeline.totals import POTENTIAL_REVENUE_DEFINITION, SEGMENT_DIMENSIONS, BatchResult
from cross_sell_upsell.registry import SOURCE_ENTRIES, TYPE_ENTRIES, TYPE_LABELS, Entry
from cross_sell_upsell.reporting.customer import money_text, rationale_stats_lines, table_cell

RECOMMENDATION_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "rank",
    "product_id",
    "product_ids",
    "type",
    "source",
    "name",
    "category",
    "tier",
    "price",
    "list_price",
    "score",
    *COMPONENTS,
    "counts_toward_revenue",
    "rationale",
    "rationale_source",
)


"""The CSV's columns. `product_id` is the product offered, or the bundle's id; `product_ids` lists the products
in the offer, separated by ';' (one for a single product, the members for a bundle); `source` is the signal that
proposed it."""


PRODUCT_ID_SEPARATOR = ";"


SEGMENT_TITLES = {
    "loyalty_tier": "Loyalty tier",
    "price_sensitivity": "Price sensitivity",
    "tier_preference": "Tier preference",
}


TOP_PRODUCTS = 10


"""Rows of the product tables in the report; the summary JSON has them all."""


@dataclass(frozen=True)
class BatchFiles:
    """Where a run's files go: the report, and beside it, with the same stem, everything else."""

    report: Path

    @property
    def recommendations(self) -> Path:
        return self.report.with_suffix(".recommendations.csv")

    @property
    def summary(self) -> Path:
        return self.report.with_suffix(".summary.json")

    @property
    def rejected_rows(self) -> Path:
        return self.report.with_suffix(".rejected_rows.csv")

    def chart(self, name: str) -> Path:
        return self.report.with_suffix(f".{name}.png")


def recommendations_frame(opportunities: pl.DataFrame) -> pl.DataFrame:
    """The graph's opportunities in the CSV's columns. Prices, scores and components are written with exactly two
    decimals (12.99, 100.00): fixed-point text is what spreadsheets and marketing tools expect, and formatting
    decimals is much cheaper than formatting floats over millions of rows."""
    return opportunities.with_columns(
        pl.col("price", "list_price", "score", *COMPONENTS).round(2).cast(pl.Decimal(14, 2)),
        product_id=pl.col("offer_id"),
        product_ids=pl.coalesce(pl.col("product_ids").list.join(PRODUCT_ID_SEPARATOR), pl.col("offer_id")),
    ).select(RECOMMENDATION_COLUMNS)


class RecommendationsExport:
    """The per-offer CSV, appended chunk by chunk to a staged file, so memory stays at one chunk.

    A chunk is written by a background thread while the graph computes the next one (a million customers make
    gigabytes of CSV); at most one write is pending. Use it as a context manager: leaving the block waits for
    the last write and raises its error, if any."""

    def __init__(self, staged: StagedOutputs, target: Path) -> None:
        self._staged = staged
        self._target = target
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-export")
        self._pending: Future[None] | None = None
        staged.add(target, ",".join(RECOMMENDATION_COLUMNS) + "\n")

    def __enter__(self) -> RecommendationsExport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._wait()
        finally:
            self._writer.shutdown()

    def append(self, opportunities: pl.DataFrame) -> None:
        self._wait()
        self._pending = self._writer.submit(self._write, opportunities)

    def _write(self, opportunities: pl.DataFrame) -> None:
        with open(self._staged.temporary(self._target), "ab") as stream:
            recommendations_frame(opportunities).write_csv(stream, include_header=False)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def replace_rationales(self, updates: pl.DataFrame) -> None:
        """Swaps in new rationales (customer_id, offer_id, rationale, rationale_source), streaming the file
        through polars as text so every other cell keeps its exact bytes."""
        self._wait()
        if updates.is_empty():
            return
        new = updates.select(
            "customer_id", product_id="offer_id", new_rationale="rationale", new_source="rationale_source"
        ).cast(pl.String)
        patched = (
            pl.scan_csv(self._staged.temporary(self._target), infer_schema=False)
            .join(new.lazy(), on=["customer_id", "product_id"], how="left", maintain_order="left")
            .with_columns(
                rationale=pl.coalesce("new_rationale", "rationale"),
                rationale_source=pl.coalesce("new_source", "rationale_source"),
            )
            .select(RECOMMENDATION_COLUMNS)
        )
        temporary = stage_file(self._target, b"")
        try:
            patched.sink_csv(temporary, check_extension=False)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self._staged.swap(self._target, temporary)


def _category(name: str) -> str:
    return "SPF" if name == "spf" else name.replace("_", " ").capitalize()


def _category_in_text(name: str) -> str:
    return "SPF" if name == "spf" else name.replace("_", " ")


def _segment(dimension: str, segment: str | None) -> str:
    if segment is None:
        return "Not stated"
    return f"Tier {segment}" if dimension == "tier_preference" else segment.capitalize()


def _share(percentage: float) -> str:
    return f"{percentage:.0f}%"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def _list(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


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
        label = _category(gap["category"])
        findings.append(
            f"{label} is the most common gap: {gap['count']:,} of {processed:,} customers "
            f"({_share(gap['percentage'])}) have no {_category_in_text(gap['category'])} at all."
        )
    mix = result.opportunity_mix().sort(["potential_revenue", "offers"], descending=True).row(0, named=True)
    if mix["potential_revenue"]:
        findings.append(
            f"{TYPE_LABELS[mix['type']]} offers carry the most potential revenue: {money_text(mix['potential_revenue'])}, "
            f"{_share(mix['revenue_percentage'])} of the total."
        )
    loyalty = result.revenue_by_segment("loyalty_tier")
    if not loyalty.is_empty():
        best = loyalty.sort(["average_per_customer", "customers"], descending=True).row(0, named=True)
        findings.append(
            f"{_segment('loyalty_tier', best['segment'])} customers are worth the most each: "
            f"{money_text(best['average_per_customer'])} of potential revenue per customer on average."
        )
    restock = result.replenishment_due()
    if not restock.is_empty():
        due, soon = int(restock["due"].sum()), int(restock["due_soon"].sum())
        findings.append(
            f"{_plural(due + soon, 'restock')} can be offered ({due:,} due now, {soon:,} due within "
            f"{result.config.due_soon_days} days), worth {money_text(float(restock['revenue'].sum()))}."
        )
    priority = result.priority_customers()
    if not priority.is_empty() and priority["priority"][0] > 0:
        first = priority.row(0, named=True)
        findings.append(
            f"Contact {first['name'] or first['customer_id']} ({first['customer_id']}) first: "
            f"{money_text(first['potential_revenue'])} of offers, led by {first['lead_offer_name']} at "
            f"{money_text(first['lead_offer_price'])}."
        )
    return findings


def _summary_section(result: BatchResult) -> list[str]:
    lines = [
        "## Executive summary",
        "",
        f"- **Customers analysed:** {result.customers_processed:,} of {result.customers_requested:,} requested",
        f"- **Customers not analysed:** {result.customers_failed:,}"
        + (" (see Errors)" if result.customers_failed else ""),
        f"- **Potential revenue:** {money_text(result.total_potential_revenue)}",
        f"- **Average per customer:** {money_text(result.average_potential_revenue)}",
        f"- **Offers per customer:** {result.average_offers:.1f} on average ({result.totals.offers:,} offers)",
        "",
    ]
    findings = _findings(result)
    if findings:
        lines += ["**What stands out**", "", *[f"- {finding}" for finding in findings], ""]
    return [*lines, f"> **How potential revenue is counted.** {POTENTIAL_REVENUE_DEFINITION}", ""]


def _chart(charts: dict[str, str], name: str, alt: str) -> list[str]:
    return [f"![{alt}]({charts[name]})", ""] if name in charts else []


def _gaps_section(result: BatchResult, charts: dict[str, str]) -> list[str]:
    lines = [
        "## Most common routine gaps",
        "",
        "How many analysed customers own nothing in each essential step of the routine. Each gap is a product "
        "they need and do not buy from you yet.",
        "",
        "| Essential | Customers missing it | Share of customers |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {_category(row['category'])} | {row['count']:,} | {_share(row['percentage'])} |"
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
        "A routine-gap product that is also in the customer's bundle is offered on its own too, but a missing "
        "essential is counted once: in the bundle, or in the best offer for it.",
        "",
    ]
    lines += _chart(charts, "opportunity_mix", "Offers and potential revenue by offer type")
    lines += [
        "### By source",
        "",
        "Which signal proposed each offer. A product several signals propose is one offer, under the source that "
        "scores it highest (the catalog on a tie).",
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
            f"| {labels[row[key]]} | {row['offers']:,} | {_share(row['offers_percentage'])} "
            f"| {row['customers']:,} | {money_text(row['potential_revenue'])} | {_share(row['revenue_percentage'])} |"
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
            f"| {_segment(dimension, row['segment'])} | {row['customers']:,} | {money_text(row['potential_revenue'])} "
            f"| {_share(row['revenue_percentage'])} | {money_text(row['average_per_customer'])} |"
            for row in _rows(table)
        ]
        lines.append("")
    return [*lines, *_chart(charts, "revenue_by_segment", "Potential revenue by customer segment")]


def _restock_section(result: BatchResult) -> list[str]:
    days = result.config.due_soon_days
    lines = [
        "## Replenishment due",
        "",
        f"Products customers own whose replenishment cycle had run out on {result.as_of} (due now) or runs out "
        f"within {days} days (due soon). A restock reminder is the easiest sale there is.",
        "",
    ]
    table = result.replenishment_due()
    if table.is_empty():
        return [*lines, "Nothing is due.", ""]
    lines += ["| Product | Due now | Due soon | Customers | Restock revenue |", "|---|---:|---:|---:|---:|"]
    lines += [
        f"| {table_cell(row['name'] or '')} ({row['product_id']}) | {row['due']:,} | {row['due_soon']:,} "
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


def _value(row: dict[str, Any]) -> str:
    return f"{row['loyalty_tier'].capitalize()}, {money_text(row['lifetime_value'])} lifetime"


def _gaps(row: dict[str, Any]) -> str:
    missing = row["missing_essentials"]
    parts = [f"missing {_list([_category_in_text(name) for name in missing])}" if missing else "routine complete"]
    if row["replenishment_due_count"]:
        parts.append(f"{_plural(row['replenishment_due_count'], 'restock')} due")
    return "; ".join(parts)


def _priority_section(result: BatchResult) -> list[str]:
    table = result.priority_customers()
    lines = [
        f"## Top {len(table)} priority customers" if len(table) != 1 else "## Top priority customer",
        "",
        f"Who to contact first, and why. {result.priority_definition()}",
        "",
    ]
    if table.is_empty():
        return [*lines, "No customer was analysed.", ""]
    lines += [
        "| # | Customer | Priority | Potential revenue | Value | Gaps | Churn risk |",
        "|---:|---|---:|---:|---|---|---:|",
    ]
    lines += [
        f"| {position} | {table_cell(row['name'] or '')} ({row['customer_id']}) | {row['priority']:,.2f} "
        f"| {money_text(row['potential_revenue'])} | {_value(row)} | {_gaps(row)} | {row['churn_risk'] * 100:.0f}% |"
        for position, row in enumerate(_rows(table), start=1)
    ]
    lines += ["", "### What to lead with", ""]
    for position, row in enumerate(_rows(table), start=1):
        who = f"{table_cell(row['name'] or '')} ({row['customer_id']})"
        if row["lead_offer_id"] is None:
            lines.append(f"{position}. **{who}:** no offer.")
            continue
        source = " _(written by the chat model)_" if row["lead_rationale_source"] == "llm" else ""
        lines.append(
            f"{position}. **{who}:** {table_cell(row['lead_offer_name'])} ({row['lead_offer_id']}), "
            f"{TYPE_LABELS[row['lead_offer_type']].lower()} at {money_text(row['lead_offer_price'])}. "
            f"{table_cell(row['lead_rationale'])}{source}"
        )
    return [*lines, ""]


def _top_offers_section(result: BatchResult) -> list[str]:
    table = result.top_opportunities()
    lines = [
        f"## Top {len(table)} opportunities across customers",
        "",
        "The best-scoring single offers. The score (0-100) weighs what the sale is worth, how well the offer fits "
        "the customer, how much it completes their routine, how urgent a restock is, and their skin concerns.",
        "",
    ]
    if table.is_empty():
        return [*lines, "No offer was made.", ""]
    lines += ["| # | Customer | Offer | Type | Price | Score |", "|---:|---|---|---|---:|---:|"]
    lines += [
        f"| {position} | {table_cell(row['customer_name'] or '')} ({row['customer_id']}) | {table_cell(row['name'])} "
        f"({row['offer_id']}) | {TYPE_LABELS[row['type']]}{'' if row['counts_toward_revenue'] else ', covered'} "
        f"| {money_text(row['price'])} | {row['score']:.2f} |"
        for position, row in enumerate(_rows(table), start=1)
    ]
    if not table["counts_toward_revenue"].all():
        lines += [
            "",
            "An offer marked _covered_ fills a missing essential that the customer's bundle or a better offer "
            "already fills, and is counted there.",
        ]
    return [*lines, ""]


def _products_section(result: BatchResult) -> list[str]:
    table = result.most_recommended()
    lines = [
        "## Most recommended products",
        "",
        "How many customers are offered each product, on its own or inside their bundle. If they all said yes, "
        "this is the stock you would need, one unit each.",
        "",
    ]
    if table.is_empty():
        return [*lines, "No product was recommended.", ""]
    lines += [
        "| Product | Category | Tier | Price | Customers offered | In their bundle | As their top offer |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {table_cell(row['name'] or '')} ({row['product_id']}) | {_category(row['category'] or '')} | {row['tier']} "
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
        f"{result.customers_failed:,} of {result.customers_requested:,} requested customers could not be analysed. "
        "They are in none of the figures above.",
        "",
        "| Customer | Problem |",
        "|---|---|",
    ]
    lines += [f"| {table_cell(row['customer_id'])} | {table_cell(row['error'])} |" for row in _rows(result.errors)]
    return [*lines, ""]


def _data_quality_section(result: BatchResult, files: BatchFiles) -> list[str]:
    """Only for data read from a transaction log: the rows set aside and the cycles learned."""
    rejected = result.rows_rejected
    cycles = result.learned_cycles
    if not rejected["total"] and (cycles is None or cycles.is_empty()):
        return []
    lines = ["## Data quality", ""]
    if rejected["total"]:
        lines += [
            f"{rejected['total']:,} input rows were set aside and are in `{files.rejected_rows.name}` with the reason:",
            "",
            "| Reason | Rows |",
            "|---|---:|",
            *[f"| {reason.replace('_', ' ')} | {count:,} |" for reason, count in rejected["by_reason"].items() if count],
            "",
        ]
    if cycles is not None and not cycles.is_empty():
        lines += [
            "Replenishment cycles the catalog did not give, learned from repeat purchases:",
            "",
            "| Product | Cycle (days) | Learned from | Repeats |",
            "|---|---:|---|---:|",
            *[
                f"| {row['product_id']} | {row['cycle_days'] if row['cycle_days'] is not None else 'none'} "
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
    return [
        "## Files",
        "",
        f"- `{files.recommendations.name}`: every offer for every customer, one row per offer, for marketing tools.",
        f"- `{files.summary.name}`: every figure in this report, machine-readable.",
        *rejected,
        "",
    ]


def render_markdown(result: BatchResult, files: BatchFiles, charts: list[str], generated_at: datetime) -> str:
    """The executive report. Only the generated-at line depends on when it was run."""
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
        + _gaps_section(result, chart_links)
        + _mix_section(result, chart_links)
        + _segments_section(result, chart_links)
        + _restock_section(result)
        + _priority_section(result)
        + _top_offers_section(result)
        + _products_section(result)
        + rationale_stats_lines(result.rationale_stats)
        + _errors_section(result)
        + _data_quality_section(result, files)
        + _files_section(files, result)
    )
    return "\n".join(header + notes + body).rstrip("\n") + "\n"


def summary_dict(result: BatchResult, files: BatchFiles, charts: list[str], generated_at: datetime) -> dict[str, Any]:
    """Every figure of the report, as plain JSON values."""
    return {
        "as_of": result.as_of.isoformat(),
        "generated_at": f"{generated_at:%Y-%m-%d %H:%M:%S}",
        "data": result.source,
        "customers_requested": result.customers_requested,
        "customers_processed": result.customers_processed,
        "customers_failed": result.customers_failed,
        "total_offers": result.totals.offers,
        "total_potential_revenue": result.total_potential_revenue,
        "average_potential_revenue_per_customer": result.average_potential_revenue,
        "average_offers_per_customer": result.average_offers,
        "definitions": {"potential_revenue": POTENTIAL_REVENUE_DEFINITION, "priority": result.priority_definition()},
        "most_common_gaps": result.most_common_gaps().to_dicts(),
        "opportunity_mix": result.opportunity_mix().to_dicts(),
        "source_mix": result.source_mix().to_dicts(),
        "revenue_by_segment": {
            dimension: table.to_dicts()
            for dimension in SEGMENT_DIMENSIONS
            if not (table := result.revenue_by_segment(dimension)).is_empty()
        },
        "replenishment_due": result.replenishment_due().to_dicts(),
        "top_priority_customers": result.priority_customers().to_dicts(),
        "top_opportunities": result.top_opportunities().to_dicts(),
        "most_recommended_products": result.most_recommended().to_dicts(),
        "files": {
            "report": files.report.name,
            "recommendations": files.recommendations.name,
            "charts": {name: files.chart(name).name for name in charts},
        },
        "notes": list(result.rationale_notes),
        "rationale_stats": result.rationale_stats.model_dump() if result.rationale_stats else None,
        "errors": result.errors.to_dicts(),
        "rows_rejected": result.rows_rejected,
        "learned_cycles": result.learned_cycles.to_dicts() if result.learned_cycles is not None else [],
    }


def render_summary(result: BatchResult, files: BatchFiles, charts: list[str], generated_at: datetime) -> str:
    return json.dumps(summary_dict(result, files, charts, generated_at), indent=2, ensure_ascii=False) + "\n"


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    # No Software/date metadata, so the same figures give the same bytes.
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _dollars(amount: float) -> str:
    return rf"\${amount:,.0f}"


def _gaps_chart(result: BatchResult, figure_class: Any) -> bytes:
    gaps = result.most_common_gaps().reverse()
    figure = figure_class(figsize=(7, 3.2), layout="constrained")
    axes = figure.add_subplot()
    bars = axes.barh([_category(name) for name in gaps["category"]], gaps["percentage"].to_list(), color="#c9736f")
    labels = [f"{count:,} ({_share(share)})" for count, share in gaps.select("count", "percentage").iter_rows()]
    axes.bar_label(bars, labels=labels, padding=3)
    axes.set_xlim(0, 115)
    axes.set_xticks([0, 25, 50, 75, 100], labels=["0%", "25%", "50%", "75%", "100%"])
    axes.set_xlabel("Share of customers missing it")
    axes.set_title(f"Routine gaps among {result.customers_processed:,} customers")
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def _mix_chart(result: BatchResult, figure_class: Any) -> bytes:
    mix = result.opportunity_mix().reverse()
    labels = [TYPE_LABELS[name] for name in mix["type"]]
    figure = figure_class(figsize=(9, 3.2), layout="constrained")
    offers, revenue = figure.subplots(1, 2, sharey=True)
    bars = offers.barh(labels, mix["offers"].to_list(), color="#6f8fc9")
    offers.bar_label(bars, labels=[f"{count:,}" for count in mix["offers"]], padding=3)
    offers.set_title("Offers made")
    bars = revenue.barh(labels, mix["potential_revenue"].to_list(), color="#6fb08f")
    revenue.bar_label(bars, labels=[_dollars(amount) for amount in mix["potential_revenue"]], padding=3)
    revenue.set_title("Potential revenue (counted once)")
    for axes in (offers, revenue):
        axes.margins(x=0.25)
        axes.spines[["top", "right"]].set_visible(False)
        axes.tick_params(axis="x", labelbottom=False, bottom=False)
    figure.supxlabel("A routine-gap product inside a bundle counts toward the bundle, not on its own.", fontsize=8)
    return _png(figure)


def _segments_chart(result: BatchResult, figure_class: Any) -> bytes:
    tables = [(dimension, result.revenue_by_segment(dimension)) for dimension in SEGMENT_DIMENSIONS]
    tables = [(dimension, table) for dimension, table in tables if not table.is_empty()]
    bars_per_panel = [table.height for _, table in tables]
    figure = figure_class(figsize=(1.3 * sum(bars_per_panel) + 0.6, 3.4), layout="constrained")
    panels = figure.subplots(1, len(tables), squeeze=False, gridspec_kw={"width_ratios": bars_per_panel})[0]
    for axes, (dimension, table) in zip(panels, tables, strict=True):
        labels = [
            f"{_segment(dimension, segment)}\n({_plural(count, 'customer')})"
            for segment, count in table.select("segment", "customers").iter_rows()
        ]
        bars = axes.bar(labels, table["potential_revenue"].to_list(), color="#b08fc9")
        axes.bar_label(bars, labels=[_dollars(amount) for amount in table["potential_revenue"]], padding=2)
        axes.set_title(f"By {SEGMENT_TITLES[dimension].lower()}")
        axes.margins(y=0.15)
        axes.tick_params(axis="y", labelleft=False, left=False)
        axes.tick_params(axis="x", labelsize=8)
        axes.spines[["top", "right", "left"]].set_visible(False)
    figure.suptitle("Potential revenue by customer segment")
    return _png(figure)


def render_charts(result: BatchResult) -> dict[str, bytes]:
    """The report's charts as PNG bytes, keyed by name; none when no customer was analysed. Drawn on the Agg
    canvas without pyplot, so no display or global state is involved."""
    if not result.customers_processed:
        return {}
    from matplotlib.figure import Figure

    return {
        "gaps": _gaps_chart(result, Figure),
        "opportunity_mix": _mix_chart(result, Figure),
        "revenue_by_segment": _segments_chart(result, Figure),
    }


def stage_report(staged: StagedOutputs, files: BatchFiles, result: BatchResult, generated_at: datetime) -> None:
    """Stages the charts, the summary JSON and, last, the report (so it is published last)."""
    charts = render_charts(result)
    for name, png in charts.items():
        staged.add(files.chart(name), png)
    names = list(charts)
    staged.add(files.summary, render_summary(result, files, names, generated_at))
    staged.add(files.report, render_markdown(result, files, names, generated_at))
