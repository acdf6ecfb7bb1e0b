"""Where a batch's chunks run: threads in this process, or the workers of a Dask cluster (docs/scale.md).

Either way an executor yields each chunk's `ChunkRun` in request order, so `run_batch` folds the same results in
the same order and the outputs do not depend on where, or in which order, the chunks ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any, Protocol, Self

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.campaigns import Campaigns
from cross_sell_upsell.errors import ConfigurationError, CrossSellError
from cross_sell_upsell.ordered import in_submission_order
from cross_sell_upsell.pipeline.context import Context
from cross_sell_upsell.pipeline.totals import Limits, Totals, chunk_totals
from cross_sell_upsell.snapshot.build import Snapshot

CHUNKS_IN_FLIGHT = 2
"""Graph runs at a time in this process (see `InProcessExecutor`)."""

CHUNKS_PER_WORKER_THREAD = 2
"""Chunks submitted ahead per Dask worker thread: one running and one queued, so no worker waits for the driver,
while the results not yet folded (kept on the workers until then) stay a few chunks' worth."""

IPC_COMPRESSION = "lz4"
"""How a worker's frames travel back: cheap to compress, and a cluster's network is slower than its CPUs."""


@dataclass
class ChunkRun:
    """One chunk's graph run: its output and totals, or the one-line error that stopped it."""

    chunk: list[str]
    """The chunk's customer ids, in request order."""
    seconds: float
    """How long its graph run took (on a Dask worker: there)."""
    output: dict[str, Any] | None = None
    """The graph's output: opportunities, customer_summaries and unknown_customer_ids at least."""
    totals: Totals | None = None
    """The chunk's totals (`totals.chunk_totals`)."""
    error: str | None = None
    """Why the chunk has no output; every customer of it is then counted as failed with this message."""


@dataclass(frozen=True)
class ChunkJob:
    """What every chunk of a run shares, and all a worker needs besides a chunk's ids: it pickles (the snapshot
    through Arrow IPC), so a Dask run sends it to each worker once."""

    snapshot: Snapshot
    """The run's snapshot, with its acceptance model and segment names."""
    campaigns: Campaigns | None
    """The campaigns running on the as-of date (the only part of the dataset the graph reads)."""
    as_of: date
    """The run's as-of date."""
    config: OrchestratorConfig
    """The run's settings with the chat model off: chunks are written with template rationales."""
    limits: Limits
    """Bounds of the kept lists in the chunk's totals."""

    def context(self) -> Context:
        """The graph's run context for a chunk."""
        return Context(snapshot=self.snapshot, campaigns=self.campaigns, config=self.config)


def one_line(error: BaseException) -> str:
    """An error as one line for the errors list: a domain error's own text, else its type and first line."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    if isinstance(error, CrossSellError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def graph_run(job: ChunkJob, chunk: list[str]) -> tuple[dict[str, Any], Totals]:
    """The graph over one chunk and the chunk's totals; raises what the graph raises."""
    from cross_sell_upsell.pipeline.graph import graph

    output = graph.invoke({"customer_ids": chunk, "as_of": job.as_of}, context=job.context())
    return output, chunk_totals(output["opportunities"], output["customer_summaries"], job.config, job.limits)


def run_chunk(job: ChunkJob, chunk: list[str]) -> ChunkRun:
    """A chunk's run in this process; an error becomes the chunk's one-line error (one bad chunk must not stop
    the weekly run)."""
    started = time.perf_counter()
    try:
        output, totals = graph_run(job, chunk)
    except Exception as error:  # noqa: BLE001 - counted for each of the chunk's customers
        return ChunkRun(chunk, time.perf_counter() - started, error=one_line(error))
    return ChunkRun(chunk, time.perf_counter() - started, output=output, totals=totals)


@dataclass(frozen=True)
class RemoteChunk:
    """A chunk's result as it travels back from a Dask worker: its frames as Arrow IPC bytes, not pickled frames,
    so what arrives is exactly what was written, in a format any Arrow reader takes."""

    opportunities: bytes
    """The chunk's opportunities (Arrow IPC)."""
    customer_summaries: bytes
    """Its customer summaries (Arrow IPC)."""
    unknown_customer_ids: list[str]
    """The chunk's ids the snapshot does not know."""
    totals: Totals
    """The chunk's totals."""
    seconds: float
    """How long the graph run took on the worker."""

    def chunk_run(self, chunk: list[str]) -> ChunkRun:
        """The `ChunkRun` the driver folds."""
        output = {
            "opportunities": pl.read_ipc(self.opportunities),
            "customer_summaries": pl.read_ipc(self.customer_summaries),
            "unknown_customer_ids": self.unknown_customer_ids,
        }
        return ChunkRun(chunk, self.seconds, output=output, totals=self.totals)


def _ipc(frame: pl.DataFrame) -> bytes:
    return frame.write_ipc(None, compression=IPC_COMPRESSION).getvalue()


def remote_chunk(job: ChunkJob, chunk: list[str]) -> RemoteChunk:
    """A chunk's run on a Dask worker: the same graph run as in process; an error propagates, so Dask retries the
    task before the driver counts it."""
    started = time.perf_counter()
    output, totals = graph_run(job, chunk)
    return RemoteChunk(
        opportunities=_ipc(output["opportunities"]),
        customer_summaries=_ipc(output["customer_summaries"]),
        unknown_customer_ids=list(output["unknown_customer_ids"]),
        totals=totals,
        seconds=time.perf_counter() - started,
    )


class Executor(Protocol):
    """Runs a run's chunks and yields their `ChunkRun`s in request order (a generator the caller closes when it
    stops early); a context manager that holds what it needs (threads, a cluster connection) for the runs inside
    it."""

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None): ...

    def run(self, job: ChunkJob, chunks: list[list[str]]) -> Generator[ChunkRun]: ...


class InProcessExecutor:
    """The default: chunks run on threads of this process. Polars leaves one of the cores idle for much of a
    chunk's run, so CHUNKS_IN_FLIGHT chunks run at a time."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None):
        return None

    def run(self, job: ChunkJob, chunks: list[list[str]]) -> Generator[ChunkRun]:
        with ThreadPoolExecutor(max_workers=CHUNKS_IN_FLIGHT, thread_name_prefix="batch-chunk") as pool:

            def submit(chunk: list[str]) -> Future[ChunkRun]:
                return pool.submit(run_chunk, job, chunk)

            yield from in_submission_order(submit, Future.result, chunks, CHUNKS_IN_FLIGHT)


LOCAL_WORKERS = 2
"""Worker processes of the LocalCluster a Dask run starts when given no scheduler (one thread each)."""


class DaskExecutor:
    """Chunks run on a Dask cluster: the scheduler at `scheduler` (e.g. 'tcp://10.0.0.5:8786'), or a LocalCluster
    of LOCAL_WORKERS single-threaded worker processes started here when None (and closed with it). The run's
    `ChunkJob` goes to every worker once (`Client.scatter(..., broadcast=True)`); each task gets only a chunk's
    ids and runs `task` (`remote_chunk`; a test wraps it to fail on purpose), with `retries=1`. A worker that dies mid-task is rescheduled by Dask
    itself (up to `distributed.scheduler.allowed-failures` times); a chunk that still fails is the same one-line
    error for each of its customers as in process. The connection timeout is Dask's
    `distributed.comm.timeouts.connect` setting.

    Use it as a context manager to connect before the run's work (`run` alone connects for the run)."""

    def __init__(self, scheduler: str | None = None, task: Callable[[ChunkJob, list[str]], RemoteChunk] = remote_chunk):
        self.scheduler = scheduler
        self.task = task
        self._client: Any = None
        self._cluster: Any = None

    @property
    def address(self) -> str | None:
        """The address of the scheduler in use (the LocalCluster's when started here); None when not connected."""
        return None if self._client is None else self._client.scheduler.address

    def __enter__(self) -> Self:
        self._connect()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None):
        self.close()

    def _connect(self) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigurationError(
                "the Dask engine needs the dask extra: pip install 'cross-sell-upsell[dask]'"
            ) from None
        if self.scheduler is None:
            # The run's job is broadcast to every worker, and the memory manager's ReduceReplicas policy would
            # drop the copies (docs/scale.md).
            with dask.config.set({"distributed.scheduler.active-memory-manager.start": False}):
                self._cluster = LocalCluster(
                    n_workers=LOCAL_WORKERS,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            self._client = Client(self._cluster)
            return
        try:
            self._client = Client(self.scheduler)
        except (OSError, TimeoutError, ValueError) as error:
            reason = one_line(error)
            raise ConfigurationError(f"cannot reach the Dask scheduler at '{self.scheduler}': {reason}") from None

    def close(self) -> None:
        """Closes the connection, and the LocalCluster when this executor started it."""
        for opened in (self._client, self._cluster):
            if opened is not None:
                opened.close()
        self._client = self._cluster = None

    def run(self, job: ChunkJob, chunks: list[list[str]]) -> Generator[ChunkRun]:
        connected_here = self._client is None
        if connected_here:
            self._connect()
        try:
            client = self._client
            [shared] = client.scatter([job], broadcast=True, hash=False)
            ahead = CHUNKS_PER_WORKER_THREAD * max(1, sum(client.nthreads().values()))

            def submit(chunk: list[str]) -> tuple[list[str], Any]:
                return chunk, client.submit(self.task, shared, chunk, retries=1, pure=False)

            yield from in_submission_order(submit, _collected, chunks, ahead)
            shared.release()
        finally:
            if connected_here:
                self.close()


def _collected(handle: tuple[list[str], Any]) -> ChunkRun:
    """A submitted chunk's `ChunkRun` once its task has finished (after Dask's retries), or its one-line error."""
    chunk, future = handle
    started = time.perf_counter()
    try:
        result: RemoteChunk = future.result()
    except Exception as error:  # noqa: BLE001 - counted for each of the chunk's customers
        return ChunkRun(chunk, time.perf_counter() - started, error=one_line(error))
    finally:
        future.release()
    return result.chunk_run(chunk)
