"""The batch leaves what exists before its chunks out of its garbage collections, and gives it back afterwards,
whether the run ends or stops."""

from __future__ import annotations

import gc

import polars as pl
import pytest
from support import AS_OF

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.pipeline.batch import run_batch


def test_the_heap_before_the_chunks_is_frozen_while_they_run_and_thawed_after(tiered: Dataset) -> None:
    frozen_during: list[int] = []

    def on_chunk(_: pl.DataFrame) -> None:
        frozen_during.append(gc.get_freeze_count())

    run_batch(tiered, None, AS_OF, OrchestratorConfig(), 4, on_chunk=on_chunk)
    assert len(frozen_during) > 1 and min(frozen_during) > 0
    assert gc.get_freeze_count() == 0


def test_a_run_that_stops_thaws_the_heap(tiered: Dataset) -> None:
    def on_chunk(_: pl.DataFrame) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(tiered, None, AS_OF, OrchestratorConfig(), 4, on_chunk=on_chunk)
    assert gc.get_freeze_count() == 0
