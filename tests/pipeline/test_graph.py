"""The compiled graph end to end: node order, streamed updates, schemas, and cohort invariance."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal
from support import AS_OF

from cross_sell_upsell.configuration import LLMSettings, OrchestratorConfig
from cross_sell_upsell.pipeline.context import Context
from cross_sell_upsell.pipeline.graph import CANDIDATE_KEYS, graph, route_rationales

NODES = [
    "load_customers",
    "detect_routine_gaps",
    "check_replenishment",
    "find_cross_sells",
    "find_tier_upgrades",
    "build_bundles",
    "score_opportunities",
    "write_rationales",
    "assemble_results",
]


def test_nodes_are_the_documented_steps_in_order():
    assert [name for name in graph.get_graph().nodes if not name.startswith("__")] == NODES


def test_rationale_step_sits_behind_a_conditional_edge():
    edges = {(edge.source, edge.target): edge.conditional for edge in graph.get_graph().edges}
    assert edges[("score_opportunities", "write_rationales")] is True
    assert edges[("score_opportunities", "assemble_results")] is True


def test_stream_shows_each_node_returning_only_its_own_keys(tier1):
    updates = list(
        graph.stream({"customer_ids": ["C001"], "as_of": AS_OF}, context=Context(dataset=tier1), stream_mode="updates")
    )
    seen = {node: set(update) for chunk in updates for node, update in chunk.items()}
    assert seen == {
        "load_customers": {
            "acceptance",
            "as_of",
            "customers",
            "products",
            "holdings",
            "cross_sells",
            "signals",
            "ease",
            "essentials",
            "concerns",
            "unknown_customer_ids",
        },
        "detect_routine_gaps": {"routine", "gap_offers"},
        "check_replenishment": {"replenishment_offers"},
        "find_cross_sells": {"cross_sell_offers"},
        "find_tier_upgrades": {"upgrade_offers"},
        "build_bundles": {"bundle_offers"},
        "score_opportunities": {"opportunities"},
        "assemble_results": {"opportunities", "customer_summaries", "acceptance_note"},
    }
    assert set(CANDIDATE_KEYS) <= {key for keys in seen.values() for key in keys}


def test_output_schema_hides_the_intermediate_frames(tier1):
    output = graph.invoke({"customer_ids": ["C001"], "as_of": "2024-03-01"}, context=Context(dataset=tier1))
    assert set(output) == {"as_of", "opportunities", "customer_summaries", "unknown_customer_ids", "acceptance_note"}
    assert str(output["as_of"]) == "2024-03-01"


def test_a_cohort_gives_the_same_results_as_its_customers_one_by_one(tiered):
    context = Context(dataset=tiered)
    ids = tiered.customer_ids()
    together = graph.invoke({"customer_ids": ids, "as_of": AS_OF}, context=context)
    alone = [graph.invoke({"customer_ids": [one], "as_of": AS_OF}, context=context) for one in ids]
    assert_frame_equal(together["opportunities"], pl.concat([out["opportunities"] for out in alone]))
    assert_frame_equal(together["customer_summaries"], pl.concat([out["customer_summaries"] for out in alone]))


def test_unknown_ids_are_reported_not_dropped(tier1):
    output = graph.invoke({"customer_ids": ["C002", "C999", "C002"], "as_of": AS_OF}, context=Context(dataset=tier1))
    assert output["unknown_customer_ids"] == ["C999"]
    assert output["customer_summaries"]["customer_id"].to_list() == ["C002"]


def test_dev_tools_defaults_run_on_the_sample_data(monkeypatch):
    from support import ROOT

    monkeypatch.chdir(ROOT)
    output = graph.invoke({"customer_ids": ["C001"], "as_of": "2024-03-01"}, context=Context())
    assert output["customer_summaries"]["missing_essentials"].to_list() == [["toner", "serum", "spf"]]


def test_router_follows_the_llm_switch():
    class Runtime:
        def __init__(self, enabled):
            self.context = Context(config=OrchestratorConfig(llm=LLMSettings(enabled=enabled)))

    assert route_rationales({}, Runtime(True)) == "write_rationales"
    assert route_rationales({}, Runtime(False)) == "assemble_results"
