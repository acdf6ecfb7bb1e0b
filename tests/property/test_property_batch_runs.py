"""`run_batch` on every generated data set that loads: every requested customer is processed or failed, only an
unknown id fails, and the summary is strict JSON (the files' independence of the chunk size is in
test_property_batch_files.py: the two are the slowest property tests, kept apart so both workers can run one)."""

from __future__ import annotations

import polars as pl
from batch_runs import CONFIG, FILES, GENERATED_AT, loaded, requests
from command_contract import check_plain_text, check_summary, strict_json
from command_scenarios import Source, sources
from hostile_values import AS_OF, budget
from hypothesis import given, settings
from hypothesis import strategies as st

from cross_sell_upsell.pipeline.batch import DEFAULT_CHUNK_SIZE, run_batch
from cross_sell_upsell.reporting.executive.markdown import render_markdown
from cross_sell_upsell.reporting.executive.summary import render_summary


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
