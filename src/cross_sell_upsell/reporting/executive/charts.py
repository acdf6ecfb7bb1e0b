"""The report's charts (PNG), drawn with matplotlib's object API so no display or global state is involved."""

from __future__ import annotations

import io
import textwrap
from typing import Any

from cross_sell_upsell.models.segment_naming import SEGMENT_FEATURES
from cross_sell_upsell.pipeline.totals import SEGMENT_DIMENSIONS, BatchResult
from cross_sell_upsell.registry import TYPE_LABELS
from cross_sell_upsell.reporting.executive.labels import (
    SEGMENT_TITLES,
    category_title,
    plural,
    segment_title,
)
from cross_sell_upsell.reporting.text import percent_text, readable


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
    bars = axes.barh([category_title(name) for name in gaps["category"]], gaps["percentage"].to_list(), color="#c9736f")
    labels = [f"{count:,} ({percent_text(share)})" for count, share in gaps.select("count", "percentage").iter_rows()]
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
            f"{segment_title(dimension, segment)}\n({plural(count, 'customer')})"
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


def _profiles_chart(result: BatchResult, figure_class: Any) -> bytes:
    """Small multiples: each K-means segment's centre, in standard deviations from the customers' mean on each
    feature (what its name is made from), on one shared scale."""
    segments = [segment for segment in result.segments.segments if segment.centre] if result.segments else []
    limit = max(1.0, *(abs(value) for segment in segments for value in segment.centre)) * 1.1
    labels = [readable(name).capitalize().replace(" clv", " CLV") for name in SEGMENT_FEATURES]
    figure = figure_class(figsize=(2.1 * len(segments) + 1.4, 3.4), layout="constrained")
    panels = figure.subplots(1, len(segments), sharey=True, squeeze=False)[0]
    for axes, segment in zip(panels, segments, strict=True):
        colours = ["#6fb08f" if value >= 0 else "#c9736f" for value in segment.centre]
        axes.barh(labels[::-1], list(segment.centre)[::-1], color=colours[::-1])
        axes.axvline(0, color="#555555", linewidth=0.8)
        axes.set_xlim(-limit, limit)
        axes.set_title(f"{textwrap.fill(segment.name, 18)}\n({plural(segment.customers, 'customer')})", fontsize=9)
        axes.tick_params(labelsize=8)
        axes.spines[["top", "right"]].set_visible(False)
    figure.supxlabel("Standard deviations from the customers' mean (log of counts and money)", fontsize=8)
    figure.suptitle("Customer segment profiles")
    return _png(figure)


def render_charts(result: BatchResult) -> dict[str, bytes]:
    """The report's charts as PNG bytes, keyed by name; none when no customer was analysed. Drawn on the Agg
    canvas without pyplot, so no display or global state is involved."""
    if not result.customers_processed:
        return {}
    from matplotlib.figure import Figure

    charts = {
        "gaps": _gaps_chart(result, Figure),
        "opportunity_mix": _mix_chart(result, Figure),
        "revenue_by_segment": _segments_chart(result, Figure),
    }
    if result.segments is not None and any(segment.centre for segment in result.segments.segments):
        charts["segment_profiles"] = _profiles_chart(result, Figure)
    return charts
