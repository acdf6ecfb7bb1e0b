"""The batch run's files: the executive report (markdown), its charts (PNG), the machine-readable summary
(JSON) and the per-offer recommendations (CSV) for marketing tools.

Rendering only reads a `BatchResult`; nothing here aggregates. Every file is staged beside its target and
published together at the end, so a failed run leaves no file behind, and a reader never sees half a file.
"""

from cross_sell_upsell.reporting.executive.exports import RecommendationsExport
from cross_sell_upsell.reporting.executive.files import BatchFiles
from cross_sell_upsell.reporting.executive.staging import stage_report

__all__ = ["BatchFiles", "RecommendationsExport", "stage_report"]
