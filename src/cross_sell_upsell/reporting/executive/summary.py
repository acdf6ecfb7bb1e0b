"""The machine-readable summary (JSON): every figure of the report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cross_sell_upsell.pipeline.totals import POTENTIAL_REVENUE_DEFINITION, SEGMENT_DIMENSIONS, BatchResult
from cross_sell_upsell.reporting.executive.files import BatchFiles
from cross_sell_upsell.reporting.strict_json import json_text


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
            "customers": [path.name for path in files.customer_files],
            **({"recommendations_parquet": files.recommendations_parquet.name} if files.parquet else {}),
            "charts": {name: files.chart(name).name for name in charts},
        },
        "notes": list(result.rationale_notes),
        "rationale_stats": result.rationale_stats.model_dump() if result.rationale_stats else None,
        "errors": result.errors.to_dicts(),
        "rows_rejected": result.rows_rejected,
        "learned_cycles": result.learned_cycles.to_dicts() if result.learned_cycles is not None else [],
    }


def render_summary(result: BatchResult, files: BatchFiles, charts: list[str], generated_at: datetime) -> str:
    """`summary_dict` as indented strict JSON text (a number that is not finite is null)."""
    return json_text(summary_dict(result, files, charts, generated_at), ensure_ascii=False)
