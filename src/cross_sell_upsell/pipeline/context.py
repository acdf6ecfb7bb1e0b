"""Run-scoped context: what stays the same for every cohort of a run (data, snapshot, rules, chat model)."""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from cross_sell_upsell.configuration import DEFAULT_DATA_DIR, OrchestratorConfig
from cross_sell_upsell.data.campaigns import Campaigns
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.snapshot.build import Snapshot


@dataclass
class Context:
    """Given to `graph.invoke(..., context=Context(...))`; every field has a default so LangGraph's dev
    tools can run the graph on the shipped sample data."""

    dataset: Dataset | None = None
    """Preloaded data; when None, `load_customers` reads `data_dir`. A batch loads once and passes it here."""
    snapshot: Snapshot | None = None
    """What the data says as of the run's date (`snapshot.build_snapshot`), built for the run's as-of date and
    `config`; when None, `load_customers` builds one for each graph run. A batch builds it once and passes it
    here, so every chunk shares it."""
    data_dir: str = str(DEFAULT_DATA_DIR)
    """Folder with catalog.json and customers.json, used when `dataset` is None."""
    config: OrchestratorConfig = field(default_factory=OrchestratorConfig)
    """The business rules and the rationale settings."""
    chat_model: BaseChatModel | None = None
    """Chat model for `write_rationales`; when None and the LLM is enabled, one is built from `config.llm`."""
    campaigns: Campaigns | None = None
    """The campaigns running on the run's as-of date, for a run given a snapshot and no dataset (a Dask worker
    receives the snapshot and these, not the data); when None, `dataset`'s."""

    def run_campaigns(self) -> Campaigns | None:
        """The campaigns the run boosts: `campaigns`, else the dataset's, else none."""
        if self.campaigns is not None:
            return self.campaigns
        return None if self.dataset is None else self.dataset.campaigns
