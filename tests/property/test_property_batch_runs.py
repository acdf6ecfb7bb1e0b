"""`run_batch` on every generated data set that loads: every requested customer is processed or failed, only an
unknown id fails, the summary is strict JSON, and the files do not depend on the chunk size."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import polars as pl
from command_contract import check_plain_text, check_summary, strict_json
from command_scenarios import Source, sources
from hostile_data import DataFolder
from hostile_values import AS_OF, budget, hostile_ids
from hypothesis import given, settings
from hypothesis import strategies as st

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset, load_dataset
from cross_sell_upsell.data.ingest import load_transactions_dataset
from cross_sell_upsell.errors import CrossSellError
from cross_sell_upsell.pipeline.batch import DEFAULT_CHUNK_SIZE, run_batch
from cross_sell_upsell.reporting.executive import BatchFiles
from cross_sell_upsell.reporting.executive.exports import recommendations_frame
from cross_sell_upsell.reporting.executive.markdown import render_markdown
from cross_sell_upsell.reporting.executive.summary import render_summary

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


@settings(max_examples=budget(120))
@given(source=sources(), data=st.data())
def test_every_requested_customer_is_processed_or_failed_and_only_unknown_ids_fail(
    source: Source, data: st.DataObject
) -> None:
    dataset = loaded(source)
    if dataset is None:
        return
    known = dataset.customer_ids()
    ids = data.draw(requests(known), label="customer_ids")
    chunk_size = data.draw(st.sampled_from((DEFAULT_CHUNK_SIZE, 1, 3)), label="chunk_size")
    result = run_batch(dataset, ids, AS_OF, CONFIG, chunk_size)
    requested = len(known) if ids is None else len(dict.fromkeys(ids))
    counts = (result.customers_requested, result.customers_processed, result.customers_failed)
    assert counts[0] == requested, f"{requested} distinct ids requested; requested, processed, failed = {counts}"
    assert counts[1] + counts[2] == requested, f"requested, processed, failed = {counts}"
    known_failures = result.errors.filter(pl.col("customer_id").is_in(known))
    assert known_failures.is_empty(), f"customers in the data failed: {known_failures.rows()[:3]}"
    check_summary(strict_json(render_summary(result, FILES, [], GENERATED_AT)), requested)
    check_plain_text(render_markdown(result, FILES, [], GENERATED_AT), "the executive report")


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
