"""The batch runner: the graph over many customers, one chunk at a time, folded into totals."""

from __future__ import annotations

import gc
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import polars as pl
from langchain_core.language_models import BaseChatModel

from cross_sell_upsell.configuration import (
    OrchestratorConfig,
)
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.data.ingest import rows_rejected_summary
from cross_sell_upsell.errors import ConfigurationError, CrossSellError, UnknownCustomerError
from cross_sell_upsell.llm.chat_model import build_chat_model
from cross_sell_upsell.llm.rationales import NO_KEY_NOTE, fallback_note, llm_rationales
from cross_sell_upsell.offers.cohort import closest_customer_ids
from cross_sell_upsell.offers.results import RationaleStats
from cross_sell_upsell.pipeline.context import Context
from cross_sell_upsell.pipeline.totals import (
    ERROR_SCHEMA,
    BatchResult,
    Limits,
    Totals,
    chunk_totals,
    combine,
)

DEFAULT_CHUNK_SIZE = 50_000


"""Customers per graph run. The graph is columnar, so big chunks are cheap; smaller ones bound memory."""


CHUNKS_IN_FLIGHT = 2


"""Graph runs at a time after the first chunk (see `run_batch`)."""


SUGGESTED_UNKNOWN_IDS = 10


"""Unknown ids that get closest-match suggestions; beyond that the search over every id costs too much."""


@dataclass(frozen=True)
class ChunkProgress:
    """What `run_batch` tells its progress callback after each chunk."""

    chunk: int
    chunks: int
    chunk_customers: int
    customers_done: int
    customers_total: int
    customers_failed: int
    seconds: float


def _one_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if isinstance(error, CrossSellError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _without_llm(config: OrchestratorConfig) -> OrchestratorConfig:
    return config.model_copy(update={"llm": config.llm.model_copy(update={"enabled": False})})


def run_batch(
    dataset: Dataset,
    customer_ids: Sequence[str] | None,
    as_of: date,
    config: OrchestratorConfig,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: Callable[[ChunkProgress], None] | None = None,
    *,
    limits: Limits = Limits(),
    on_chunk: Callable[[pl.DataFrame], None] | None = None,
) -> BatchResult:
    """Runs the graph over the requested customers (every customer when None), `chunk_size` at a time, with
    template rationales, and folds each chunk into the totals. `on_chunk` gets each chunk's opportunities, in
    request order, for streaming exports.

    Every requested id (duplicates dropped) ends up processed or in `errors`: an unknown id, or every
    customer of a chunk whose graph run raised, with the error's one-line message. The run carries on."""
    if chunk_size < 1:
        raise ConfigurationError(f"chunk size must be at least 1, not {chunk_size}")
    from cross_sell_upsell.pipeline.graph import graph

    requested = dataset.customer_ids() if customer_ids is None else list(dict.fromkeys(customer_ids))
    context = Context(dataset=dataset, config=_without_llm(config))
    llm_customers = config.llm.priority_customers if config.llm.enabled else 0
    kept = replace(limits, top_priority=max(limits.top_priority, llm_customers))  # the chat model's cohort too
    chunks = [requested[start : start + chunk_size] for start in range(0, len(requested), chunk_size)]
    totals = Totals()
    errors: list[dict[str, Any]] = []
    customers_done = 0

    def run(chunk: list[str]) -> _ChunkRun:
        return _run_chunk(graph, chunk, as_of, context, config, kept)

    def fold(index: int, result: _ChunkRun) -> None:
        nonlocal totals, customers_done
        if result.error is not None:
            errors.extend({"customer_id": customer_id, "error": result.error} for customer_id in result.chunk)
        else:
            output = result.output
            summaries, unknown = output["customer_summaries"], output["unknown_customer_ids"]
            errors.extend(_chunk_errors(dataset, result.chunk, summaries, unknown, len(errors)))
            totals = combine(totals, result.totals, kept)
            if on_chunk is not None:
                on_chunk(output["opportunities"])
            del output, summaries
        # A graph run leaves reference cycles that hold the chunk's frames (hundreds of MB at 50,000 customers);
        # left to the cyclic collector's own pace, a million customers pile up gigabytes before they go. The
        # output is let go first, so this collection frees the chunk rather than the next one.
        result.output = None
        gc.collect()
        customers_done += len(result.chunk)
        if on_progress is not None:
            on_progress(
                ChunkProgress(
                    chunk=index,
                    chunks=len(chunks),
                    chunk_customers=len(result.chunk),
                    customers_done=customers_done,
                    customers_total=len(requested),
                    customers_failed=len(errors),
                    seconds=result.seconds,
                )
            )

    # Everything alive before the run outlives it, so the collection after each chunk need not walk it.
    gc.freeze()
    try:
        if chunks:
            fold(1, run(chunks[0]))  # alone: it learns what every later chunk shares (holdings, signals)
        # Polars leaves one of the cores idle for much of a chunk's run, so two chunks are in flight at a
        # time; they are folded in request order, so the totals and the export do not depend on which
        # finishes first.
        with ThreadPoolExecutor(max_workers=CHUNKS_IN_FLIGHT, thread_name_prefix="batch-chunk") as pool:
            in_flight: deque[Future[_ChunkRun]] = deque()
            for index, chunk in enumerate(chunks[1:], start=2):
                in_flight.append(pool.submit(run, chunk))
                if len(in_flight) == CHUNKS_IN_FLIGHT:
                    fold(index - 1, in_flight.popleft().result())
            for index in range(len(chunks) - len(in_flight) + 1, len(chunks) + 1):
                fold(index, in_flight.popleft().result())
    finally:
        gc.unfreeze()
    return BatchResult(
        as_of=as_of,
        source=dataset.source,
        config=config,
        catalog=dataset.products.select("product_id", "name", "category", "tier", "price"),
        customers_requested=len(requested),
        totals=totals,
        errors=pl.DataFrame(errors, schema=ERROR_SCHEMA),
        limits=limits,
        rows_rejected=rows_rejected_summary(dataset),
        learned_cycles=dataset.learned_cycles,
    )


@dataclass
class _ChunkRun:
    """One chunk's graph run: its output and totals, or the one-line error that stopped it."""

    chunk: list[str]
    seconds: float
    output: dict[str, Any] | None = None
    totals: Totals | None = None
    error: str | None = None


def _run_chunk(
    graph: Any, chunk: list[str], as_of: date, context: Context, config: OrchestratorConfig, limits: Limits
) -> _ChunkRun:
    started = time.perf_counter()
    try:
        output = graph.invoke({"customer_ids": chunk, "as_of": as_of}, context=context)
        totals = chunk_totals(output["opportunities"], output["customer_summaries"], config, limits)
    except Exception as error:  # noqa: BLE001 - one bad chunk must not stop the weekly run
        return _ChunkRun(chunk, time.perf_counter() - started, error=_one_line(error))
    return _ChunkRun(chunk, time.perf_counter() - started, output=output, totals=totals)


def _chunk_errors(
    dataset: Dataset, chunk: list[str], summaries: pl.DataFrame, unknown: list[str], earlier_errors: int
) -> list[dict[str, Any]]:
    """Errors for the chunk's ids without a result: unknown ids, and (never expected) ids the graph dropped."""
    unknown_set = set(unknown)
    suggest = max(0, SUGGESTED_UNKNOWN_IDS - earlier_errors)
    errors = [
        {
            "customer_id": customer_id,
            "error": str(
                UnknownCustomerError(customer_id, closest_customer_ids(dataset, customer_id) if n < suggest else [])
            ),
        }
        for n, customer_id in enumerate(customer_id for customer_id in chunk if customer_id in unknown_set)
    ]
    answered = set(summaries.get_column("customer_id").to_list()) | unknown_set
    errors += [
        {"customer_id": customer_id, "error": "the graph returned no result for this customer"}
        for customer_id in chunk
        if customer_id not in answered
    ]
    return errors


def priority_rationales(
    result: BatchResult, dataset: Dataset, config: OrchestratorConfig, chat_model: BaseChatModel | None = None
) -> tuple[BatchResult, pl.DataFrame]:
    """Has the chat model write the rationales of the top offers of the first `config.llm.priority_customers`
    priority customers, asked in priority order (the batch itself runs on templates). Returns the result with
    the new lead rationales and the rationale stats, and the rewritten rationales (customer_id, offer_id,
    rationale, rationale_source) for the exports. Without a chat model or an API key, the templates stay and a
    note says so."""
    updates = pl.DataFrame(
        schema={"customer_id": pl.String, "offer_id": pl.String, "rationale": pl.String, "rationale_source": pl.String}
    )
    chat_model = chat_model or build_chat_model(config.llm)
    if chat_model is None:
        note = NO_KEY_NOTE
        return replace(result, rationale_notes=(*result.rationale_notes, note)), updates
    from cross_sell_upsell.pipeline.graph import graph

    ids = result.totals.priority.head(config.llm.priority_customers).get_column("customer_id").to_list()
    context = Context(dataset=dataset, config=_without_llm(config))
    output = graph.invoke({"customer_ids": ids, "as_of": result.as_of}, context=context)
    in_priority_order = pl.DataFrame({"customer_id": ids}, schema={"customer_id": pl.String}).join(
        dataset.customers, on="customer_id", how="left", maintain_order="left"
    )
    stats = RationaleStats()
    rewritten = llm_rationales(
        output["opportunities"], in_priority_order, chat_model, config.llm, catalog=dataset.products, stats=stats
    )
    updates = rewritten.filter(pl.col("rationale_source") == "llm").select(updates.columns)
    lead = updates.rename({"offer_id": "lead_offer_id", "rationale": "new_rationale", "rationale_source": "new_source"})
    priority = (
        result.totals.priority.join(lead, on=["customer_id", "lead_offer_id"], how="left", maintain_order="left")
        .with_columns(
            lead_rationale=pl.coalesce("new_rationale", "lead_rationale"),
            lead_rationale_source=pl.coalesce("new_source", "lead_rationale_source"),
        )
        .drop("new_rationale", "new_source")
    )
    note = fallback_note(stats)
    return replace(
        result,
        totals=replace(result.totals, priority=priority),
        rationale_stats=stats,
        rationale_notes=(*result.rationale_notes, *([note] if note else [])),
    ), updates
