"""The orchestrator graph as LangGraph's server and Studio run it (`langgraph.json`): the pipeline's own nodes and
edges (`pipeline.graph.build_graph`) over JSON state, with plain-JSON input, output and context schemas.

Each node is wrapped by `served`: it runs on the frames the earlier nodes of the run made (kept in the run's
`ServerContext`, never in the state), and its update leaves as JSON: a frame as a list of records (dates as
YYYY-MM-DD), a date as YYYY-MM-DD, a tuple as a list, a dataclass or pydantic value as an object, each
item of a dict or list likewise. So the server's
stream, its checkpoints and Studio show the same tables the in-process graph returns as frames, while the batch
keeps calling the frame graph with no conversion at all. A domain error reaches the client as its one line.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import polars as pl
import polars.selectors as cs
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from cross_sell_upsell.errors import CrossSellError
from cross_sell_upsell.models.acceptance import AcceptanceModel
from cross_sell_upsell.models.ease import EaseModel
from cross_sell_upsell.pipeline.graph import build_graph, load_customers
from cross_sell_upsell.pipeline.state import State
from cross_sell_upsell.server.context import ServerContext, ServerInputError

Records = list[dict[str, Any]]
"""A frame at the server boundary: one JSON object per row."""


class ServerInput(TypedDict, total=False):
    """What a run is asked (Studio's input form)."""

    customer_ids: Annotated[
        list[str] | None,
        Field(description="Customers to analyse, in the order wanted. Absent: the context's, else every customer."),
    ]
    as_of: Annotated[
        str,
        Field(description="Date the analysis is relative to, YYYY-MM-DD. Absent: the context's, else today."),
    ]


class ServerOutput(TypedDict, total=False):
    """What a run returns: the in-process graph's output with frames as lists of records."""

    as_of: Annotated[str, Field(description="The as-of date the results are relative to, YYYY-MM-DD.")]
    opportunities: Annotated[
        Records,
        Field(description="Every offer for every analysed customer, best first per customer (`rank` 1 = best)."),
    ]
    customer_summaries: Annotated[Records, Field(description="One row per analysed customer.")]
    unknown_customer_ids: Annotated[list[str], Field(description="Requested ids the data does not have.")]
    rationale_notes: Annotated[list[str], Field(description="What the rationale step wants the user to know.")]
    rationale_stats: Annotated[
        dict[str, Any], Field(description="Where the rationales came from and what the chat model cost.")
    ]
    acceptance_note: Annotated[
        str | None,
        Field(description="Why the offers are ranked by the weighted score, with no expected revenue; null if not."),
    ]


ServerState = TypedDict("ServerState", dict.fromkeys(State.__annotations__, Any), total=False)
"""The pipeline state's keys, every value in its JSON form."""


def as_json(value: Any) -> Any:
    """`value` in plain JSON types (see the module docstring)."""
    if isinstance(value, pl.DataFrame):
        return value.with_columns(cs.temporal().cast(pl.String)).to_dicts()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, AcceptanceModel):  # its estimator is no JSON: what it was trained on, or why not
        return {
            "training_offers": value.training_offers,
            "positives": value.positives,
            "fallback_reason": value.fallback_reason,
        }
    if isinstance(value, EaseModel):  # its weights would be millions of numbers: what it models and lambda's choice
        return {
            "products": len(value.product_keys),
            "regularization": value.regularization,
            "validation": [{"multiplier": key, "ndcg": figure} for key, figure in value.validation.items()],
            "validation_customers": value.validation_customers,
        }
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {item.name: as_json(getattr(value, item.name)) for item in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    return value


def served(step: Callable[..., Any]) -> Callable[..., Any]:
    """`step` (a node or the rationale route) over the run's frames, with the pipeline's context; a dict it returns
    is kept as frames for the next nodes and returned as JSON. The first node starts the run (`ServerContext.start`).
    A domain error becomes a ServerInputError with the same one line."""
    first = step is load_customers
    with_runtime = len(inspect.signature(step).parameters) > 1

    def run(state: dict[str, Any], runtime: Runtime[ServerContext]) -> Any:
        served_context = runtime.context
        try:
            context = served_context.start(state) if first else served_context.current()
            values = {**state, **served_context.values}
            result = step(values, runtime.override(context=context)) if with_runtime else step(values)
        except CrossSellError as error:
            raise ServerInputError(str(error)) from error
        if not isinstance(result, dict):
            return result
        # The parallel candidate steps write different keys; a dict update from a dict is one step under the GIL.
        served_context.values.update(result)
        return as_json(result)

    run.__name__ = step.__name__
    return run


graph = build_graph(
    StateGraph(ServerState, context_schema=ServerContext, input_schema=ServerInput, output_schema=ServerOutput),
    served,
).compile(name="Cross-Sell & Upsell Orchestrator")
