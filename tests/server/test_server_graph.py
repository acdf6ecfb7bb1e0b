"""The server graph in-process: the same results as the frame graph, as JSON; the context checked into one-line
errors."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
from support import AS_OF, TIER1

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.ingest import load_transactions_dataset
from cross_sell_upsell.data.synth import generate
from cross_sell_upsell.pipeline.context import Context
from cross_sell_upsell.pipeline.graph import graph as frame_graph
from cross_sell_upsell.server.context import ServerContext, ServerInputError, config_from_overrides
from cross_sell_upsell.server.graph import as_json
from cross_sell_upsell.server.graph import graph as server_graph

ZERO_WEIGHTS = tuple(OrchestratorConfig().weights.as_dict())


def _strict_json(value):
    """What a client receives: `value` through JSON and back (fails on anything JSON cannot hold)."""
    return json.loads(json.dumps(value, allow_nan=False))


def test_every_update_is_json_and_matches_the_frame_graph() -> None:
    request = {"customer_ids": ["C001", "C004", "C404"], "as_of": AS_OF}
    frame_updates = list(frame_graph.stream(request, context=Context(data_dir=str(TIER1)), stream_mode="updates"))
    served = {**request, "as_of": AS_OF.isoformat()}
    server_updates = list(server_graph.stream(served, context={"data_dir": str(TIER1)}, stream_mode="updates"))
    # One update per node; the parallel candidate steps may finish in any order.
    assert sorted(map(tuple, server_updates)) == sorted(map(tuple, frame_updates))
    by_node = {node: update for step in server_updates for node, update in step.items()}
    expected = {node: update for step in frame_updates for node, update in step.items()}
    assert _strict_json(by_node) == _strict_json(as_json(expected))
    assert by_node["load_customers"]["unknown_customer_ids"] == ["C404"]


def test_frames_become_records_with_iso_dates() -> None:
    frame = pl.DataFrame({"id": ["C1", "C2"], "due": [date(2024, 3, 8), None], "ids": [["P1"], []]})
    assert as_json(frame) == [{"id": "C1", "due": "2024-03-08", "ids": ["P1"]}, {"id": "C2", "due": None, "ids": []}]
    assert as_json(("spf", date(2024, 1, 2))) == ["spf", "2024-01-02"]


def test_the_output_names_c001s_bundle_first() -> None:
    output = server_graph.invoke({"customer_ids": ["C001"]}, context={"data_dir": str(TIER1), "as_of": "2024-03-01"})
    top = output["opportunities"][0]
    assert (output["as_of"], top["type"], top["product_ids"]) == ("2024-03-01", "bundle", ["P002", "P003", "P005"])
    assert [summary["customer_id"] for summary in output["customer_summaries"]] == ["C001"]


def test_a_transaction_log_and_config_overrides_give_the_frame_graphs_offers(tmp_path) -> None:
    for name, frame in generate(25, seed=3).items():
        frame.write_parquet(tmp_path / f"{name}.parquet")
    files = {key: str(tmp_path / f"{key}.parquet") for key in ("transactions", "catalog")}
    overrides = {"due_soon_days": 14, "weights": {"concern_match": 40}}
    as_of = date(2024, 12, 31)
    config = config_from_overrides(overrides)
    dataset = load_transactions_dataset(files["transactions"], files["catalog"], as_of=as_of, settings=config.ingest)
    expected = frame_graph.invoke({"as_of": as_of}, context=Context(dataset=dataset, config=config))
    context = {**files, "as_of": "2024-12-31", "config": overrides}
    output = server_graph.invoke({}, context=context)
    assert output["opportunities"] == as_json(expected["opportunities"])
    assert output["customer_summaries"] == as_json(expected["customer_summaries"])
    assert len(output["customer_summaries"]) > 20  # the generated customers who bought before the as-of date


def test_config_overrides_are_validated_settings() -> None:
    config = config_from_overrides({"due_soon_days": 14, "weights": {"concern_match": 40}})
    assert (config.due_soon_days, config.weights.concern_match) == (14, 40)
    assert config.weights.business_value == OrchestratorConfig().weights.business_value


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"config": {"colour": "red"}}, "context config key 'colour': not a setting"),
        (
            {"config": {"weights": {"lift": "high"}}},
            "context config key 'weights.lift': Input should be a valid number",
        ),
        ({"config": {"due_soon_days": -1}}, "context config key 'due_soon_days': "),
        (
            {"config": {"weights": dict.fromkeys(ZERO_WEIGHTS, 0)}},
            "context config key 'weights': Value error, at least",
        ),
        ({"config": {"loyalty_scores": {"gold": 1.0}}}, "context config: Value error, "),
        ({"config": ["due_soon_days"]}, "context config: expected an object of OrchestratorConfig settings"),
        ({"as_of": "2024-3-1"}, "context as_of: '2024-3-1' is not a date in YYYY-MM-DD form"),
        ({"data_dir": 7}, "context data_dir: expected a string, not 7"),
        ({"customer_ids": "C001"}, "context customer_ids: expected a list of ids, not 'C001'"),
        ({"customer_ids": ["C001", 2]}, "context customer_ids: every id must be a string"),
        ({"data_dir": "d", "transactions": "t.csv"}, "context data_dir and transactions are alternatives: give one"),
        ({"catalog": "c.csv"}, "context catalog and customers_file go with transactions, not data_dir"),
        ({"transactions": "t.csv"}, "context transactions needs catalog"),
    ],
)
def test_a_bad_context_is_one_line_naming_the_key(context: dict, message: str) -> None:
    with pytest.raises(ServerInputError) as raised:
        ServerContext(**context)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("request_", "context", "message"),
    [
        ({}, {"data_dir": "no/such/folder"}, "context data_dir: no folder 'no/such/folder'"),
        ({"as_of": "01/03/2024"}, {}, "input as_of: '01/03/2024' is not a date in YYYY-MM-DD form"),
        ({}, {"transactions": "missing.csv", "catalog": "missing.json"}, "missing.json"),
    ],
)
def test_a_bad_run_raises_a_value_error_the_server_passes_on(request_: dict, context: dict, message: str) -> None:
    with pytest.raises(ServerInputError, match=f"^{message}"):
        server_graph.invoke(request_, context=context)
    assert issubclass(ServerInputError, ValueError)  # LangGraph's server hides the message of other errors


def test_a_resumed_run_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ServerInputError, match="start a new run"):
        ServerContext().current()
