"""What the batch-run property tests share: the settings of a run, loading a generated source, and requests."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from command_scenarios import Source
from hostile_data import DataFolder
from hostile_values import AS_OF, hostile_ids
from hypothesis import strategies as st

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset, load_dataset
from cross_sell_upsell.data.ingest import load_transactions_dataset
from cross_sell_upsell.errors import CrossSellError
from cross_sell_upsell.reporting.executive import BatchFiles

CONFIG = OrchestratorConfig()
FILES = BatchFiles(Path("report.md"))
GENERATED_AT = datetime(2024, 3, 1, 6, 0, 0)


def loaded(source: Source) -> Dataset | None:
    """The source's data set, or None when the loader refuses it (the loader tests check how)."""
    with tempfile.TemporaryDirectory() as temp:
        try:
            if isinstance(source, DataFolder):
                return load_dataset(source.write(Path(temp)))
            paths = source.write(Path(temp))
            return load_transactions_dataset(paths["log"], paths["catalog"], paths.get("customers"), as_of=AS_OF)
        except CrossSellError:
            return None


def requests(known: list[str]) -> st.SearchStrategy[list[str] | None]:
    """Everyone (None), or a list of known, unknown and hostile ids with repeats."""
    pool = st.one_of(st.sampled_from(known), st.just("C999"), hostile_ids()) if known else hostile_ids()
    return st.one_of(st.none(), st.lists(pool, max_size=8))
