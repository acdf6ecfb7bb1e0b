"""The machine-readable summary (JSON): every figure of the report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cross_sell_upsell.models.acceptance import ScoreCalibration
from cross_sell_upsell.pipeline.totals import SEGMENT_DIMENSIONS, BatchResult
from cross_sell_upsell.reporting.executive.campaigns import campaigns_summary
from cross_sell_upsell.reporting.executive.files import BatchFiles
from cross_sell_upsell.reporting.executive.history import RunHistory
from cross_sell_upsell.reporting.executive.segments import churn_distribution, clv_distribution, segments_summary
from cross_sell_upsell.reporting.strict_json import json_text


def summary_dict(
    result: BatchResult,
    files: BatchFiles,
    charts: list[str],
    generated_at: datetime,
    history: RunHistory | None = None,
) -> dict[str, Any]:
    """Every figure of the report, as plain JSON values; `previous_run` and `previous_offers` from `history`
    (null without a previous run in the store)."""
    return {
        "as_of": result.as_of.isoformat(),
        "generated_at": f"{generated_at:%Y-%m-%d %H:%M:%S}",
        "data": result.source,
        "customers_requested": result.customers_requested,
        "customers_processed": result.customers_processed,
        "customers_failed": result.customers_failed,
        **(history or RunHistory()).summary_keys(),
        "total_offers": result.totals.offers,
        **_revenue(result),
        "average_offers_per_customer": result.average_offers,
        "definitions": _definitions(result),
        "customer_models": customer_models_dict(result),
        **segments_summary(result),
        "customer_bands": {
            "predicted_clv": clv_distribution(result).to_dicts(),
            "churn_probability": churn_distribution(result).to_dicts(),
        },
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
        "win_back": {
            "customers": result.totals.win_back_customers,
            "potential_revenue": result.totals.win_back_revenue_cents / 100,
            "top": result.win_back_list().to_dicts(),
        },
        "top_opportunities": result.top_opportunities().to_dicts(),
        "most_recommended_products": result.most_recommended().to_dicts(),
        "campaigns": campaigns_summary(result),
        "files": _files_dict(files, charts),
        "acceptance_model": acceptance_dict(result),
        "notes": [*result.rationale_notes, *filter(None, [result.acceptance_note])],
        "rationale_stats": result.rationale_stats.model_dump() if result.rationale_stats else None,
        "errors": result.errors.to_dicts(),
        **_rows_dict(result),
        "learned_cycles": result.learned_cycles.to_dicts() if result.learned_cycles is not None else [],
    }


def _files_dict(files: BatchFiles, charts: list[str]) -> dict[str, Any]:
    """The names of the files the run writes."""
    return {
        "report": files.report.name,
        "recommendations": files.recommendations.name,
        "customers": [path.name for path in files.customer_files],
        **({"recommendations_parquet": files.recommendations_parquet.name} if files.parquet else {}),
        "charts": {name: files.chart(name).name for name in charts},
    }


def _rows_dict(result: BatchResult) -> dict[str, Any]:
    """The log's rows: every row is used or rejected, rows_read = rows_used + rows_rejected (null without a log)."""
    return {
        "rows_read": result.rows_rejected.get("rows_read"),
        "rows_used": result.rows_rejected.get("rows_used"),
        "rows_rejected": result.rows_rejected["total"],
        "rows_rejected_by_reason": result.rows_rejected["by_reason"],
    }


def customer_models_dict(result: BatchResult) -> dict[str, Any] | None:
    """The customer models' parameters and fallback (`CustomerModels.as_dict`), the settings they predict with,
    how the fits went (not how long they took: the summary is the same for the same inputs), and how many customers
    analysed got model or fallback values; None without models."""
    models = result.customer_models
    if models is None:
        return None
    diagnostics, settings = models.diagnostics, models.settings
    fits = {"bgnbd_fit": diagnostics.bgnbd, "gamma_gamma_fit": diagnostics.gamma_gamma}
    return {
        **models.as_dict(),
        "window_days": settings.window_days,
        "clv_horizon_days": settings.clv_horizon_days,
        "annual_discount_rate": settings.annual_discount_rate,
        "diagnostics": {
            "repeat_customers": diagnostics.repeat_customers,
            "frequent_customers": diagnostics.frequent_customers,
            "history_days": diagnostics.history_days,
            "collapsed_rows": diagnostics.collapsed_rows,
            **{
                name: None
                if fit is None
                else {"converged": fit.converged, "iterations": fit.iterations, "log_likelihood": fit.log_likelihood}
                for name, fit in fits.items()
            },
            "spend_frequency_correlation": diagnostics.spend_frequency_correlation,
        },
        "customers_analysed": {
            "model": result.totals.model_customers,
            "fallback": result.customers_processed - result.totals.model_customers,
        },
    }


def render_summary(
    result: BatchResult,
    files: BatchFiles,
    charts: list[str],
    generated_at: datetime,
    history: RunHistory | None = None,
) -> str:
    """`summary_dict` as indented strict JSON text (a number that is not finite is null)."""
    return json_text(summary_dict(result, files, charts, generated_at, history), ensure_ascii=False)


def _definitions(result: BatchResult) -> dict[str, str]:
    """What each figure means, as the report says it."""
    return {
        "expected_revenue": result.expected_revenue_definition(),
        "potential_revenue": result.potential_revenue_definition(),
        "priority": result.priority_definition(),
        "win_back": result.win_back_definition(),
    }


def _revenue(result: BatchResult) -> dict[str, float | None]:
    """The headline money: expected revenue (null without an acceptance model), then the upper bound."""
    return {
        "total_expected_revenue": result.total_expected_revenue,
        "average_expected_revenue_per_customer": result.average_expected_revenue,
        "total_potential_revenue": result.total_potential_revenue,
        "average_potential_revenue_per_customer": result.average_potential_revenue,
    }


def acceptance_dict(result: BatchResult) -> dict[str, Any] | None:
    """What the run's acceptance model was trained on, or why there is none; None when the run had none at all."""
    model = result.acceptance
    if model is None:
        return None
    return {
        "fitted": model.estimator is not None,
        "training_offers": model.training_offers,
        "bought": model.positives,
        "horizon_days": model.settings.horizon_days,
        "fallback_reason": model.fallback_reason,
        "new_products": None if model.new_products is None else _score_calibration_dict(model.new_products),
    }


def _score_calibration_dict(calibration: ScoreCalibration) -> dict[str, Any]:
    return {
        "score_calibrated": calibration.calibrator is not None,
        "ease_calibrated": calibration.ease_calibrator is not None,
        "training_offers": calibration.training_offers,
        "bought": calibration.positives,
        "fallback_reason": calibration.fallback_reason,
    }
