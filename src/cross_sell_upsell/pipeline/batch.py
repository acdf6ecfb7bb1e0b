"""The batch runner: the graph over many customers, one chunk at a time, folded into totals."""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import polars as pl
from langchain_core.language_models import BaseChatModel

from cross_sell_upsell.configuration import (
    OrchestratorConfig,
)
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.data.ingest import rows_rejected_summary
from cross_sell_upsell.data.keys import customer_id_key
from cross_sell_upsell.errors import ConfigurationError, UnknownCustomerError
from cross_sell_upsell.llm.chat_model import build_chat_model
from cross_sell_upsell.llm.rationales import NO_KEY_NOTE, fallback_note, llm_rationales
from cross_sell_upsell.offers.cohort import closest_customer_ids
from cross_sell_upsell.offers.results import RationaleStats
from cross_sell_upsell.pipeline.acceptance import with_acceptance
from cross_sell_upsell.pipeline.context import Context
from cross_sell_upsell.pipeline.executors import ChunkJob, ChunkRun, Executor, InProcessExecutor
from cross_sell_upsell.pipeline.naming import named_snapshot
from cross_sell_upsell.pipeline.totals import (
    ERROR_SCHEMA,
    BatchResult,
    Limits,
    Totals,
    combine,
)
from cross_sell_upsell.snapshot.build import Snapshot, build_snapshot, check_snapshot

DEFAULT_CHUNK_SIZE = 50_000
"""Customers per graph run. The graph is columnar, so big chunks are cheap; smaller ones bound memory."""


SUGGESTED_UNKNOWN_IDS = 10
"""Unknown ids that get closest-match suggestions; beyond that the search over every id costs too much."""


COLLECT_EVERY = 20_000
"""Customers folded between two full garbage collections (`_fold`): a chunk's leftover cycles hold a few kB per
customer, so this bounds them to about 100 MB, while a run of small chunks no longer pays a collection each."""


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
    limits: Limits | None = None,
    on_chunk: Callable[[pl.DataFrame], None] | None = None,
    on_results: Callable[[pl.DataFrame, pl.DataFrame], None] | None = None,
    snapshot: Snapshot | None = None,
    chat_model: BaseChatModel | None = None,
    executor: Executor | None = None,
) -> BatchResult:
    """Runs the graph over the requested customers (every customer when None), `chunk_size` at a time, with
    template rationales, and folds each chunk into the totals. `on_chunk` gets each chunk's opportunities, in
    request order, for streaming exports, and `on_results` its opportunities and customer summaries; `limits`
    bound the kept lists (default `Limits()`). Every chunk reads `snapshot` (built here when None; else it must be
    as of `as_of` with `config`'s settings), with the acceptance model trained once for the run
    (`acceptance.with_acceptance`, unless the snapshot carries it). With the chat model on (`config.llm`; `chat_model`, else the
    settings'), it names the segments first (`naming.named_snapshot`). The chunks run on `executor` (in process
    when None; `executors.DaskExecutor`: on Dask) and are folded in request order whichever runs them.

    Every requested id (duplicates dropped; email-like ids matched in any case) ends up processed or in `errors`: an unknown id, or every
    customer of a chunk whose graph run raised, with the error's one-line message. The run carries on."""
    if chunk_size < 1:
        raise ConfigurationError(f"chunk size must be at least 1, not {chunk_size}")
    snapshot = _run_snapshot(dataset, as_of, config, snapshot, chat_model)
    requested = (
        dataset.customer_ids() if customer_ids is None else list(dict.fromkeys(map(customer_id_key, customer_ids)))
    )
    limits = limits or Limits()
    llm_customers = config.llm.priority_customers if config.llm.enabled else 0
    kept = replace(limits, top_priority=max(limits.top_priority, llm_customers))  # the chat model's cohort too
    chunks = [requested[start : start + chunk_size] for start in range(0, len(requested), chunk_size)]
    job = ChunkJob(snapshot, dataset.campaigns, as_of, _without_llm(config), kept)
    tally = _Tally()
    # Closed here, not later by the collector: an interrupt during a fold waits for the chunks in flight at once.
    with _frozen_heap(), closing((executor or InProcessExecutor()).run(job, chunks)) as runs:
        for index, result in enumerate(runs, start=1):
            _fold(tally, result, dataset, kept, on_chunk, on_results)
            if on_progress is not None:
                on_progress(_progress(tally, result, index, len(chunks), len(requested)))
    return BatchResult(
        as_of=as_of,
        source=dataset.source,
        config=config,
        catalog=dataset.products.select("product_id", "name", "category", "tier", "price"),
        customers_requested=len(requested),
        totals=tally.totals,
        errors=pl.DataFrame(tally.errors, schema=ERROR_SCHEMA),
        limits=limits,
        rows_rejected=rows_rejected_summary(dataset),
        learned_cycles=dataset.learned_cycles,
        customer_models=snapshot.customer_models,
        segments=snapshot.segments,
        campaigns=dataset.campaigns,
        acceptance=snapshot.acceptance,
    )


def _run_snapshot(
    dataset: Dataset, as_of: date, config: OrchestratorConfig, snapshot: Snapshot | None, chat_model: Any
) -> Snapshot:
    """The snapshot every chunk reads: the one given (checked) or built, with the run's acceptance model and,
    with a chat model, its segments named."""
    if snapshot is None:
        snapshot = build_snapshot(dataset, as_of, config)
    check_snapshot(snapshot, as_of, config)
    return named_snapshot(with_acceptance(snapshot, dataset, config), config, chat_model)


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Leaves what exists before the chunks (the requested ids, the dataset, the snapshot, the imported modules)
    out of the garbage collections `_fold` makes: each one walked every object, and at ten million customers the
    id lists alone made a collection take 0.3-0.5 s, 500 times a run, holding the interpreter's lock from the
    chunks. Collected once first, so no garbage of the reading and the snapshot is kept, and the C allocator's
    free memory handed back (`release_free_memory`)."""
    gc.collect()
    release_free_memory()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def release_free_memory() -> bool:
    """Hands the C allocator's free pages back to the system (glibc's `malloc_trim`); False where there is no
    such call (another C library). What numpy, scipy and DuckDB freed while reading the data, building the
    snapshot and training the acceptance model stays in glibc's heaps, in pieces too small to return on their
    own: at a million customers, handing it back before the chunks lowered the run's peak from 2.8-2.9 GB to
    2.6-2.7 GB, in the same time (docs/benchmarks.md)."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True


@dataclass
class _Tally:
    """The chunks folded so far."""

    totals: Totals = field(default_factory=Totals)
    """Their totals, combined."""
    errors: list[dict[str, Any]] = field(default_factory=list)
    """ERROR_SCHEMA rows: the ids without a result and why."""
    customers_done: int = 0
    """Requested ids folded, with a result or an error."""
    uncollected: int = 0
    """Requested ids folded since the last garbage collection."""


def _fold(
    tally: _Tally,
    result: ChunkRun,
    dataset: Dataset,
    limits: Limits,
    on_chunk: Callable[[pl.DataFrame], None] | None,
    on_results: Callable[[pl.DataFrame, pl.DataFrame], None] | None,
) -> None:
    """Adds a chunk's totals and errors to the tally and hands its opportunities to `on_chunk`, and them with
    the customer summaries to `on_results`."""
    if result.error is not None:
        tally.errors.extend({"customer_id": customer_id, "error": result.error} for customer_id in result.chunk)
    else:
        output = result.output
        summaries, unknown = output["customer_summaries"], output["unknown_customer_ids"]
        tally.errors.extend(_chunk_errors(dataset, result.chunk, summaries, unknown, len(tally.errors)))
        tally.totals = combine(tally.totals, result.totals, limits)
        if on_chunk is not None:
            on_chunk(output["opportunities"])
        if on_results is not None:
            on_results(output["opportunities"], summaries)
        del output, summaries
    # A graph run leaves reference cycles (LangGraph's channels and executor) that hold the chunk's frames,
    # hundreds of MB at 50,000 customers, and they outlive a young-generation collection. Left to the cyclic
    # collector's own pace, a million customers went from 2.6 to 5.6 GiB by the 15th chunk; collected here,
    # memory stays flat. A collection walks every object of the process (0.1-0.4 s with the whole stack
    # imported), so small chunks are collected together: at most COLLECT_EVERY customers' cycles wait. The
    # output is let go first, so this frees the chunk itself.
    result.output = None
    tally.customers_done += len(result.chunk)
    tally.uncollected += len(result.chunk)
    if tally.uncollected >= COLLECT_EVERY:
        gc.collect()
        tally.uncollected = 0


def _progress(tally: _Tally, result: ChunkRun, index: int, chunks: int, customers_total: int) -> ChunkProgress:
    """What the progress callback hears once the chunk `index` (from 1) of `chunks` is folded."""
    return ChunkProgress(
        chunk=index,
        chunks=chunks,
        chunk_customers=len(result.chunk),
        customers_done=tally.customers_done,
        customers_total=customers_total,
        customers_failed=len(tally.errors),
        seconds=result.seconds,
    )


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
    result: BatchResult,
    dataset: Dataset,
    config: OrchestratorConfig,
    chat_model: BaseChatModel | None = None,
    *,
    snapshot: Snapshot | None = None,
) -> tuple[BatchResult, pl.DataFrame]:
    """Has the chat model write the rationales of the top offers of the first `config.llm.priority_customers`
    priority customers, asked in priority order (the batch itself runs on templates). Returns the result with
    the new lead rationales and the rationale stats, and the rewritten rationales (customer_id, offer_id,
    rationale, rationale_source) for the exports. Without a chat model or an API key, the templates stay and a
    note says so. Pass the batch's `snapshot` to spare building it again."""
    updates = pl.DataFrame(
        schema={"customer_id": pl.String, "offer_id": pl.String, "rationale": pl.String, "rationale_source": pl.String}
    )
    chat_model = chat_model or build_chat_model(config.llm)
    if chat_model is None:
        note = NO_KEY_NOTE
        return replace(result, rationale_notes=(*result.rationale_notes, note)), updates
    from cross_sell_upsell.pipeline.graph import graph

    ids = result.totals.priority.head(config.llm.priority_customers).get_column("customer_id").to_list()
    context = Context(dataset=dataset, snapshot=snapshot, config=_without_llm(config))
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
