"""Segment names from a fake chat model through the batch and the single-customer run: the snapshot's segments
renamed on a copy before the cohorts run, the names in the totals, the summary, the CSV rows and the report;
without a chat model, the rule names."""

from __future__ import annotations

import polars as pl
import pytest
from langchain_core.messages import AIMessage
from llm_fakes import FakeRationaleModel, offline_settings
from support import synthetic_dataset

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.synth import SUGGESTED_AS_OF
from cross_sell_upsell.pipeline.api import analyze_customer
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.reporting.executive.segments import segment_table
from cross_sell_upsell.snapshot.build import build_snapshot

LLM_CONFIG = OrchestratorConfig(llm=offline_settings())
NAMES = {
    "S1": "Devoted fans",
    "S2": "Steady shoppers",
    "S3": "Quiet regulars",
    "S4": "Light browsers",
    "S5": "Gone quiet",
}
"""The fake model's name for each segment key (S1 the first segment)."""


def naming_model() -> FakeRationaleModel:
    """Answers a segment-naming request with NAMES; any other request (a rationale) fails, so the templates stay."""

    def reply(data: dict) -> AIMessage:
        if "segments" not in data:
            raise RuntimeError("only segment names in this test")
        args = {"names": [{"segment": row["segment"], "name": NAMES[row["segment"]]} for row in data["segments"]]}
        return AIMessage(content="", tool_calls=[{"name": "SegmentNameSet", "args": args, "id": "call-1"}])

    return FakeRationaleModel(reply=reply)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return synthetic_dataset(tmp_path_factory.mktemp("synthetic"), 2000, 5)


def test_the_batch_names_the_segments_with_the_chat_model_on_a_copy(dataset):
    snapshot = build_snapshot(dataset, SUGGESTED_AS_OF, LLM_CONFIG)
    rule_names = snapshot.segments.names
    exported: list[pl.DataFrame] = []
    model = naming_model()
    chosen = dataset.customer_ids()[:300]
    result = run_batch(
        dataset, chosen, SUGGESTED_AS_OF, LLM_CONFIG, snapshot=snapshot, chat_model=model, on_chunk=exported.append
    )
    assert result.segments.names == tuple(NAMES.values())
    assert [segment.naming for segment in result.segments.segments] == ["llm"] * 5
    assert len(model.prompts) == 1  # one request for every segment
    # The snapshot given is not modified: its segments and customers keep the rule names.
    assert snapshot.segments.names == rule_names
    assert set(snapshot.customers.get_column("segment").drop_nulls()) <= {*rule_names, "No purchase yet"}
    # The totals, the summary's table and every offer row carry the model's names.
    assert set(segment_table(result).get_column("segment")) <= {*NAMES.values(), "No purchase yet"}
    offered = pl.concat(exported).get_column("segment").unique().drop_nulls()
    assert offered.len() > 1 and set(offered) <= {*NAMES.values(), "No purchase yet"}
    renamed = dict(zip(rule_names, NAMES.values(), strict=True))
    expected = snapshot.customers.filter(pl.col("customer_id").is_in(chosen)).select(
        "customer_id", expected=pl.col("segment").replace(renamed)
    )
    rows = pl.concat(exported).select("customer_id", "segment").unique().join(expected, on="customer_id")
    assert (rows.get_column("segment") == rows.get_column("expected")).all()


def test_the_single_run_names_them_the_same_way_and_without_a_model_keeps_the_rule_names(dataset):
    snapshot = build_snapshot(dataset, SUGGESTED_AS_OF, OrchestratorConfig())
    customer = snapshot.customers.filter(pl.col("segment_source") == "model").row(0, named=True)
    position = snapshot.segments.names.index(customer["segment"])
    named = analyze_customer(
        customer["customer_id"], as_of=SUGGESTED_AS_OF, dataset=dataset, config=LLM_CONFIG, chat_model=naming_model()
    )
    assert named.segment == list(NAMES.values())[position]
    plain = analyze_customer(customer["customer_id"], as_of=SUGGESTED_AS_OF, dataset=dataset)
    assert plain.segment == customer["segment"]
