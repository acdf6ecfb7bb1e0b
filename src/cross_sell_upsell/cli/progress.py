"""Progress of a batch run on stderr: a bar on a terminal, plain log lines otherwise, nothing when quiet."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from cross_sell_upsell.data.ingest.partitioned import PartitionCallback, PartitionRead
from cross_sell_upsell.pipeline.batch import ChunkProgress

ProgressCallback = Callable[[ChunkProgress], None]


def progress_line(update: ChunkProgress, with_timing: bool) -> str:
    done = f"{update.customers_done:,} of {update.customers_total:,} customers done, {update.customers_failed:,} failed"
    if not with_timing:
        return done
    return (
        f"chunk {update.chunk}/{update.chunks}: {update.chunk_customers:,} customers in {update.seconds:.2f} s; {done}"
    )


def partition_line(update: PartitionRead) -> str:
    return (
        f"{update.step}: partition {update.partition}/{update.partitions} read, "
        f"{update.customers:,} customers, {update.purchases:,} purchases"
    )


def partition_progress(stream: TextIO, *, quiet: bool) -> PartitionCallback | None:
    """The partitioned ingest's and `BatchInputs`' `on_partition` callback: one line per partition read, for the
    log's checks, the snapshot, the acceptance model's replays and, after the chunks, the run history."""
    if quiet:
        return None
    return lambda update: print(partition_line(update), file=stream, flush=True)


@contextmanager
def batch_progress(stream: TextIO, *, quiet: bool, verbose: bool) -> Iterator[ProgressCallback | None]:
    """The `on_progress` callback for `run_batch`. `verbose` adds each chunk's timing."""
    if quiet:
        yield None
        return
    if not stream.isatty():
        yield lambda update: print(progress_line(update, verbose), file=stream, flush=True)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("analysing customers"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(file=stream)) as bar:
        task = bar.add_task("customers", total=None)

        def update(progress: ChunkProgress) -> None:
            bar.update(task, total=progress.customers_total, completed=progress.customers_done)
            if verbose:
                bar.console.print(progress_line(progress, with_timing=True), highlight=False)

        yield update


def peak_rss_mib() -> int:
    """The process's peak resident memory so far, in MiB. On Linux the kernel's high-water mark of this program's
    memory (VmHWM): `ru_maxrss` also counts the image the process replaced when it started, so a command started
    by a parent that once held gigabytes reported the parent's peak. Elsewhere `ru_maxrss` (KiB on Linux, bytes
    on macOS)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // (1 << 20) if sys.platform == "darwin" else peak // (1 << 10)


@contextmanager
def timed_phase(stream: TextIO, name: str, *, verbose: bool) -> Iterator[None]:
    """With `verbose`, logs "<name>: <seconds> s, peak RSS <MiB> MiB" once the block is done: where a weekly run's
    time and memory go (reading, the snapshot, the acceptance model, the customers and files)."""
    started = time.perf_counter()
    yield
    if verbose:
        seconds = time.perf_counter() - started
        print(f"{name}: {seconds:.1f} s, peak RSS {peak_rss_mib():,} MiB", file=stream, flush=True)
