"""The customer segments' table and the predicted CLV and churn distributions, from the batch's customer figures
(`pipeline.customer_totals`), for the report's customers section and the summary JSON alike."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import polars as pl

from cross_sell_upsell.pipeline.customer_totals import CHURN_BANDS, CHURN_UNITS, CLV_BANDS, NOT_SEGMENTED
from cross_sell_upsell.pipeline.totals import BatchResult
from cross_sell_upsell.registry import TYPE_LABELS
from cross_sell_upsell.reporting.executive.labels import plural
from cross_sell_upsell.reporting.text import money_text, name_with_id, percent_text, plain_text


def _most(offered: pl.DataFrame, kind: str, name: str) -> pl.DataFrame:
    """Per segment, the value of `kind` offered most (ties: the first by value), as column `name`."""
    return (
        offered.filter(pl.col("kind") == kind)
        .sort(["segment", "offers", "value"], descending=[False, True, False], nulls_last=True)
        .group_by("segment", maintain_order=True)
        .agg(pl.col("value").first().alias(name))
    )


def segment_table(result: BatchResult) -> pl.DataFrame:
    """One row per customer segment of the customers analysed, in the segments' order, then the rest by name,
    then the customers not segmented: segment (NOT_SEGMENTED for them), source (model, given or none),
    customers, their mean spend (lifetime value), predicted CLV and churn probability, their potential revenue,
    and the offer type and product offered most to them (a bundle counts for each of its members)."""
    figures = result.totals.customer_figures
    segments = result.segments
    order = {name: position for position, name in enumerate(segments.names if segments else ())}
    sources = {segment.name: segment.source for segment in segments.segments} if segments else {}
    catalog = result.catalog.select(product_id="product_id", product_name="name")
    customers = pl.col("customers")
    return (
        figures.segments.join(_most(figures.offered, "type", "offer_type"), on="segment", how="left", nulls_equal=True)
        .join(_most(figures.offered, "product", "product_id"), on="segment", how="left", nulls_equal=True)
        .join(catalog, on="product_id", how="left")
        .with_columns(
            position=pl.col("segment").replace_strict(order, default=len(order), return_dtype=pl.Int64),
            source=pl.col("segment").replace_strict(sources, default="none", return_dtype=pl.String),
        )
        .sort(["position", "segment"], nulls_last=True)
        .select(
            segment=pl.col("segment").fill_null(NOT_SEGMENTED),
            source="source",
            customers="customers",
            spend=(pl.col("spend_cents") / customers / 100).round(2),
            predicted_clv=(pl.col("clv_cents") / customers / 100).round(2),
            churn_probability=(pl.col("churn_millionths") / customers / CHURN_UNITS).round(4),
            potential_revenue=(pl.col("revenue_cents") / 100).round(2),
            offer_type="offer_type",
            product_id="product_id",
            product_name="product_name",
        )
    )


def _band_labels(edges: Sequence[float], text: Any) -> list[str]:
    """'<a', 'a-b', ..., '>=z' for ascending `edges`, each edge written by `text`."""
    middle = [f"{text(low)}-{text(high)}" for low, high in pairwise(edges)]
    return [f"<{text(edges[0])}", *middle, f">={text(edges[-1])}"]


CLV_BAND_LABELS = _band_labels(CLV_BANDS, lambda value: f"${value:,.0f}")
"""The predicted CLV bands as the report writes them: <$50, $50-$100, ..., >=$2,500."""

CHURN_BAND_LABELS = _band_labels(CHURN_BANDS, lambda value: f"{value * 100:.0f}%")
"""The churn bands: <25%, 25%-50%, 50%-75%, >=75%."""


def band_table(counts: pl.DataFrame, labels: Sequence[str], whole: int) -> pl.DataFrame:
    """band (label), customers, percentage of `whole`: every band, lowest first."""
    every = pl.DataFrame({"band": range(len(labels))}, schema={"band": pl.Int64})
    share = (100.0 * pl.col("customers") / whole).round(1) if whole else pl.lit(0.0)
    return (
        every.join(counts, on="band", how="left", maintain_order="left")
        .with_columns(pl.col("customers").fill_null(0))
        .select(band=pl.Series(labels), customers="customers", percentage=share)
    )


def clv_distribution(result: BatchResult) -> pl.DataFrame:
    """Customers analysed per predicted CLV band (CLV_BAND_LABELS)."""
    return band_table(result.totals.customer_figures.clv_bands, CLV_BAND_LABELS, result.customers_processed)


def churn_distribution(result: BatchResult) -> pl.DataFrame:
    """Customers analysed per churn probability band (CHURN_BAND_LABELS)."""
    return band_table(result.totals.customer_figures.churn_bands, CHURN_BAND_LABELS, result.customers_processed)


def segments_summary(result: BatchResult) -> dict[str, Any]:
    """The summary JSON's `segments` list (`segment_table`'s rows with `name` for the segment) and
    `segmentation`: k, the silhouettes tried and why the customers were not segmented (None when they were)."""
    segments = result.segments
    rows = segment_table(result).rename({"segment": "name"}).to_dicts()
    return {
        "segments": rows,
        "segmentation": None
        if segments is None
        else {key: value for key, value in segments.as_dict().items() if key in ("k", "reason", "silhouettes")},
    }


def _origin(result: BatchResult) -> str:
    """Whether the predicted CLV and churn of the customers analysed are the models' or the fallback's."""
    models = result.customer_models
    if models is not None and models.fallback is not None:
        return f"Predicted CLV and churn probability are the fallback values: {plain_text(models.fallback)}."
    share = f"{result.totals.model_customers:,} of {result.customers_processed:,} customers analysed"
    return f"Predicted CLV and churn probability come from the customer models for {share}; the rest get the fallback."


def _band_lines(title: str, table: pl.DataFrame) -> list[str]:
    lines = [f"| {title} | Customers | Share |", "|---|---:|---:|"]
    lines += [f"| {band} | {count:,} | {percent_text(share)} |" for band, count, share in table.iter_rows()]
    return [*lines, ""]


def _offered_most(row: dict[str, Any]) -> str:
    if row["offer_type"] is None:
        return "no offer"
    return f"{TYPE_LABELS[row['offer_type']]}; {name_with_id(row['product_name'], row['product_id'])}"


def _segment_lines(result: BatchResult, charts: dict[str, str]) -> list[str]:
    segments = result.segments
    if segments is None:
        return []
    if segments.reason is not None:
        return [f"No customer segments: {plain_text(segments.reason)}.", ""]
    how = f"K-means over purchase behaviour and the models' predictions: {plural(segments.k or 0, 'segment')}"
    lines = [
        f"{how}, highest predicted CLV first (docs/customer-models.md).",
        "",
        "| Segment | Customers | Mean spend | Mean predicted CLV | Mean churn | Potential revenue | Offered most |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {plain_text(row['segment'])} | {row['customers']:,} | {money_text(row['spend'])} "
        f"| {money_text(row['predicted_clv'])} | {percent_text(row['churn_probability'] * 100)} "
        f"| {money_text(row['potential_revenue'])} | {_offered_most(row)} |"
        for row in segment_table(result).iter_rows(named=True)
    ]
    chart = [f"![Segment profiles]({charts['segment_profiles']})", ""] if "segment_profiles" in charts else []
    return [*lines, "", *chart]


def customers_section(result: BatchResult, charts: dict[str, str]) -> list[str]:
    """The customers analysed by predicted CLV band, churn band and segment; empty when none was analysed."""
    if not result.customers_processed:
        return []
    return [
        "## Customers",
        "",
        _origin(result),
        "",
        *_band_lines("Predicted CLV", clv_distribution(result)),
        *_band_lines("Churn probability", churn_distribution(result)),
        *_segment_lines(result, charts),
    ]
