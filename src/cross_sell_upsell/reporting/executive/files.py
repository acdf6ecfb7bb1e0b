"""The file set of a batch run, named after its report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BatchFiles:
    """Where a run's files go: the report, and beside it, with the same stem, everything else."""

    report: Path
    """The executive report (markdown); every other file takes its stem."""

    @property
    def recommendations(self) -> Path:
        """The per-offer CSV."""
        return self.report.with_suffix(".recommendations.csv")

    @property
    def summary(self) -> Path:
        """The machine-readable summary (JSON)."""
        return self.report.with_suffix(".summary.json")

    @property
    def rejected_rows(self) -> Path:
        """The input rows set aside, with the reason (written only when there are some)."""
        return self.report.with_suffix(".rejected_rows.csv")

    def chart(self, name: str) -> Path:
        """The chart called `name` (PNG)."""
        return self.report.with_suffix(f".{name}.png")
