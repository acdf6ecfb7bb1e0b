"""The file set of a batch run, named after its report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class BatchFiles:
    """Where a run's files go: the report, and beside it, with the same stem, everything else."""

    report: Path
    """The executive report (markdown); every other file takes its stem."""
    customer_parts: tuple[Path, ...] = field(default=())
    """The per-customer file's parts once written, when it was split under a CRM's size limit (else empty)."""
    parquet: bool = False
    """Whether the run writes `recommendations_parquet`."""

    @property
    def recommendations(self) -> Path:
        """The per-offer CSV."""
        return self.report.with_suffix(".recommendations.csv")

    @property
    def customers(self) -> Path:
        """The per-customer CSV (when split, see `customer_files`)."""
        return self.report.with_suffix(".customers.csv")

    @property
    def customer_files(self) -> tuple[Path, ...]:
        """The per-customer file, or its parts."""
        return self.customer_parts or (self.customers,)

    @property
    def recommendations_parquet(self) -> Path:
        """The Parquet copy of the per-offer CSV (`--parquet`)."""
        return self.report.with_suffix(".recommendations.parquet")

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
