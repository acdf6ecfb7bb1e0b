"""Staging the report's files in the order they are published."""

from __future__ import annotations

from datetime import datetime

from cross_sell_upsell.io.staging import StagedOutputs
from cross_sell_upsell.pipeline.totals import BatchResult
from cross_sell_upsell.reporting.executive.charts import render_charts
from cross_sell_upsell.reporting.executive.files import BatchFiles
from cross_sell_upsell.reporting.executive.history import RunHistory
from cross_sell_upsell.reporting.executive.markdown import render_markdown
from cross_sell_upsell.reporting.executive.summary import render_summary


def stage_report(
    staged: StagedOutputs,
    files: BatchFiles,
    result: BatchResult,
    generated_at: datetime,
    history: RunHistory | None = None,
) -> None:
    """Stages the charts, the summary JSON and, last, the report (so it is published last); `history` is what
    the run store says about the previous run (default: no store)."""
    history = history or RunHistory()
    charts = render_charts(result)
    for name, png in charts.items():
        staged.add(files.chart(name), png)
    names = list(charts)
    staged.add(files.summary, render_summary(result, files, names, generated_at, history))
    staged.add(files.report, render_markdown(result, files, names, generated_at, history))
