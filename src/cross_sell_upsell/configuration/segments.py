"""The customer segments' knobs (`OrchestratorConfig.segments`); docs/customer-models.md explains each default.
A module of its own, like the customer models' settings, because the models below read it as much as the
orchestrator above."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class SegmentSettings(BaseModel):
    """Customer segments: K-means over purchase behaviour and the models' predictions (docs/customer-models.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: Annotated[int, Field(ge=2, le=20)] | Literal["auto"] = Field(
        5, description="Segments, or 'auto': the k in 2..max_auto_k with the best silhouette on the fitting sample."
    )
    max_auto_k: int = Field(8, ge=2, le=20, description="Largest k that 'auto' tries.")
    seed: int = Field(0, ge=0, description="Seed of K-means' initial centres, so that a run is repeatable.")
    n_init: int = Field(4, ge=1, description="K-means runs from different starts; the least inertia wins.")
    fit_sample_size: int = Field(
        50_000, ge=100, description="Most customers (chosen by a stable hash of the id) K-means is fitted on."
    )
    silhouette_sample_size: int = Field(2_000, ge=100, description="Customers 'auto' scores each k's silhouette on.")
    threads: int = Field(1, ge=1, description="Threads of K-means: spinning threads on a busy machine cost 10x.")
    min_customers: int = Field(100, ge=2, description="Fewest customers to cluster; fewer get no segment, and why.")
    keep_given: bool = Field(True, description="Customers given a segment by the retailer keep it, unclustered.")
    name_threshold: float = Field(
        0.5, gt=0, description="Standard deviations from the population mean before a name mentions a feature."
    )
    max_name_chars: int = Field(40, ge=8, description="Longest segment name taken from the chat model.")
