"""The Dask executor against the in-process one on the shipped tiered data (18 customers, chunks of 4: five
chunks): the same files byte for byte, Dask's retries, a chunk that keeps failing counted, a worker that dies
mid-task, and a scheduler that cannot be reached. One LocalCluster of two worker processes serves the module."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dask
import distributed  # noqa: F401 - Dask's defaults registered before the tests set any of its settings
import polars as pl
import pytest
from support import AS_OF, TIERED

from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.pipeline.executors import ChunkJob, DaskExecutor, RemoteChunk, remote_chunk
from cross_sell_upsell.pipeline.totals import BatchResult

CHUNK = 4
"""Customers per chunk: tiered's 18 customers make five chunks, so each executor has several in flight."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskExecutor]:
    """A DaskExecutor that started its own LocalCluster; tests connect to its address."""
    with DaskExecutor(None) as executor:
        yield executor
    assert executor.address is None  # closed: the client and the cluster it started


@dataclass
class Outcome:
    """What a batch run hands on: the result and every chunk's opportunities, in the order folded."""

    result: BatchResult
    opportunities: pl.DataFrame


def batch(dataset: Dataset, executor: DaskExecutor | None) -> Outcome:
    chunks: list[pl.DataFrame] = []
    result = run_batch(dataset, None, AS_OF, OrchestratorConfig(), CHUNK, on_chunk=chunks.append, executor=executor)
    return Outcome(result, pl.concat(chunks))


@pytest.fixture(scope="module")
def in_process(tiered: Dataset) -> Outcome:
    return batch(tiered, None)


def attempts_marked(folder: Path, fail: Callable[[], None], when: Callable[[list[str], int], bool]):
    """A worker task that records each attempt as a file in `folder` and calls `fail` on the attempts `when`
    (chunk ids, earlier attempts at the chunk) picks; else it runs the real chunk. Files, because the attempts
    of one chunk may run in different worker processes."""

    def task(job: ChunkJob, chunk: list[str]) -> RemoteChunk:
        earlier = len(list(folder.glob(f"{chunk[0]}.*")))
        (folder / f"{chunk[0]}.{uuid.uuid4().hex}").touch()
        if when(chunk, earlier):
            fail()
        return remote_chunk(job, chunk)

    return task


def raise_error() -> None:
    raise RuntimeError("disk on fire\nsecond line that must not show")


def attempts(folder: Path, first_id: str) -> int:
    return len(list(folder.glob(f"{first_id}.*")))


def same_run(one: Outcome, two: Outcome) -> None:
    assert one.opportunities.equals(two.opportunities)
    assert (one.result.customers_processed, one.result.customers_failed) == (
        two.result.customers_processed,
        two.result.customers_failed,
    )
    assert one.result.totals.revenue_cents == two.result.totals.revenue_cents
    assert one.result.totals.priority.equals(two.result.totals.priority)


def test_the_dask_files_equal_the_in_process_files_byte_for_byte(tmp_path: Path, cluster: DaskExecutor) -> None:
    local, dask_run = tmp_path / "local", tmp_path / "dask"
    for folder, engine in ((local, []), (dask_run, ["--engine", "dask", "--scheduler", cluster.address])):
        argv = ["--as-of", AS_OF.isoformat(), "--output", str(folder / "report.md"), "--quiet", "--no-store"]
        assert batch_main([*argv, "--chunk-size", str(CHUNK), *engine], OrchestratorConfig(), TIERED, folder) == 0
    names = sorted(path.name for path in local.iterdir())
    assert names == sorted(path.name for path in dask_run.iterdir())
    assert "report.recommendations.csv" in names and "report.summary.json" in names
    for name in names:
        one, two = (local / name).read_bytes(), (dask_run / name).read_bytes()
        if name.endswith((".md", ".json")):
            assert one.count(b"enerated") == 1  # the generated-at line is the only difference allowed
            one, two = (b"".join(line for line in text.splitlines() if b"enerated" not in line) for text in (one, two))
        assert one == two, name


def test_a_task_that_fails_once_succeeds_on_dask_s_retry(
    tmp_path: Path, tiered: Dataset, cluster: DaskExecutor, in_process: Outcome
) -> None:
    task = attempts_marked(tmp_path, raise_error, lambda chunk, earlier: earlier == 0)
    with DaskExecutor(cluster.address, task=task) as executor:
        outcome = batch(tiered, executor)
    same_run(outcome, in_process)
    assert outcome.result.errors.is_empty()
    first_ids = tiered.customer_ids()[::CHUNK]
    assert [attempts(tmp_path, first) for first in first_ids] == [2, 2, 2, 2, 2]


def test_a_chunk_that_always_fails_counts_its_customers_and_the_rest_are_processed(
    tmp_path: Path, tiered: Dataset, cluster: DaskExecutor, in_process: Outcome
) -> None:
    ids = tiered.customer_ids()
    bad = ids[CHUNK : 2 * CHUNK]  # the second chunk
    task = attempts_marked(tmp_path, raise_error, lambda chunk, earlier: chunk == bad)
    with DaskExecutor(cluster.address, task=task) as executor:
        outcome = batch(tiered, executor)
    assert outcome.result.errors.rows() == [(customer_id, "RuntimeError: disk on fire") for customer_id in bad]
    assert (outcome.result.customers_processed, outcome.result.customers_failed) == (18 - CHUNK, CHUNK)
    assert attempts(tmp_path, bad[0]) == 2  # the first try and Dask's one retry
    expected = in_process.opportunities.filter(~pl.col("customer_id").is_in(bad))
    assert outcome.opportunities.equals(expected)


def test_a_worker_that_dies_mid_task_is_replaced_and_the_run_is_complete(
    tmp_path: Path, tiered: Dataset, cluster: DaskExecutor, in_process: Outcome
) -> None:
    third = tiered.customer_ids()[2 * CHUNK]
    task = attempts_marked(tmp_path, lambda: os._exit(1), lambda chunk, earlier: chunk[0] == third and earlier == 0)
    with DaskExecutor(cluster.address, task=task) as executor:
        outcome = batch(tiered, executor)
    assert attempts(tmp_path, third) == 2  # the worker process died in the first
    same_run(outcome, in_process)
    assert outcome.result.errors.is_empty()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(tmp_path: Path, *args: str) -> int:
    argv = ["--as-of", AS_OF.isoformat(), "--output", str(tmp_path / "out" / "report.md"), "--no-store", *args]
    return batch_main(argv, OrchestratorConfig(), TIERED, tmp_path / "out")


def test_a_scheduler_that_cannot_be_reached_is_one_line_exit_2_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert run_cli(tmp_path, "--engine", "dask", "--scheduler", address) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: cannot reach the Dask scheduler at '{address}': "
        f"OSError: Timed out trying to connect to {address} after 1 s"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheduler", "tcp://127.0.0.1:8786"], "error: --scheduler needs --engine dask"),
        (
            ["--engine", "dask", "--scheduler", "no-port"],
            "error: cannot reach the Dask scheduler at 'no-port': ValueError: missing port number in address 'no-port'",
        ),
    ],
)
def test_bad_execution_options_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    assert run_cli(tmp_path, *args) == 2
    assert capsys.readouterr().err.strip() == message
    assert not (tmp_path / "out").exists()


def test_the_dask_engine_without_dask_installed_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what `import distributed` sees without it
    assert run_cli(tmp_path, "--engine", "dask") == 2
    assert capsys.readouterr().err.strip() == (
        "error: the Dask engine needs the dask extra: pip install 'cross-sell-upsell[dask]'"
    )
    assert not (tmp_path / "out").exists()
