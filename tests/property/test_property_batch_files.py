"""`run_batch` on every generated data set that loads: the files do not depend on the chunk size."""

from __future__ import annotations

import polars as pl
from batch_runs import CONFIG, FILES, GENERATED_AT, loaded, requests
from command_scenarios import Source, sources
from hostile_values import AS_OF, budget
from hypothesis import given, settings
from hypothesis import strategies as st

from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.pipeline.batch import DEFAULT_CHUNK_SIZE, run_batch
from cross_sell_upsell.reporting.executive.exports import recommendations_frame
from cross_sell_upsell.reporting.executive.markdown import render_markdown
from cross_sell_upsell.reporting.executive.summary import render_summary


def batch_files(dataset: Dataset, ids: list[str] | None, chunk_size: int) -> tuple[str, str, str]:
    """The recommendations CSV, the summary JSON and the report of one run (generated at a fixed time)."""
    chunks: list[pl.DataFrame] = []
    result = run_batch(dataset, ids, AS_OF, CONFIG, chunk_size, on_chunk=chunks.append)
    csv = "".join(recommendations_frame(chunk).write_csv(include_header=False) for chunk in chunks)
    return csv, render_summary(result, FILES, [], GENERATED_AT), render_markdown(result, FILES, [], GENERATED_AT)


@settings(max_examples=budget(30))
@given(source=sources(), data=st.data())
def test_the_files_do_not_depend_on_the_chunk_size(source: Source, data: st.DataObject) -> None:
    dataset = loaded(source)
    if dataset is None:
        return
    ids = data.draw(requests(dataset.customer_ids()), label="customer_ids")
    default = batch_files(dataset, ids, DEFAULT_CHUNK_SIZE)
    for chunk_size in (1, 3):
        assert batch_files(dataset, ids, chunk_size) == default, f"chunk size {chunk_size} changed the files"
