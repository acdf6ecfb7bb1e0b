"""The batch leaves what exists before its chunks out of its garbage collections, and gives it back afterwards,
whether the run ends or stops; before the chunks, it hands the C allocator's free memory back to the system."""

from __future__ import annotations

import ctypes
import gc
import subprocess
import sys

import polars as pl
import pytest
from support import AS_OF

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.pipeline import batch
from cross_sell_upsell.pipeline.batch import run_batch


def test_the_heap_before_the_chunks_is_frozen_while_they_run_and_thawed_after(tiered: Dataset) -> None:
    frozen_during: list[int] = []

    def on_chunk(_: pl.DataFrame) -> None:
        frozen_during.append(gc.get_freeze_count())

    run_batch(tiered, None, AS_OF, OrchestratorConfig(), 4, on_chunk=on_chunk)
    assert len(frozen_during) > 1 and min(frozen_during) > 0
    assert gc.get_freeze_count() == 0


def test_a_run_that_stops_thaws_the_heap(tiered: Dataset) -> None:
    def on_chunk(_: pl.DataFrame) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(tiered, None, AS_OF, OrchestratorConfig(), 4, on_chunk=on_chunk)
    assert gc.get_freeze_count() == 0


def test_the_free_memory_is_handed_back_before_the_chunks(tiered: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    monkeypatch.setattr(batch, "release_free_memory", lambda: events.append("released") or True)

    def on_chunk(_: pl.DataFrame) -> None:
        events.append("chunk")

    run_batch(tiered, None, AS_OF, OrchestratorConfig(), 4, on_chunk=on_chunk)
    assert events[0] == "released" and events.count("released") == 1 and len(events) > 2


# 100,000 blocks of 2 kB freed but the last, which keeps glibc's heap from shrinking at its top: RSS (MiB) with the
# blocks, once they are freed, and once the free memory is released.
_FREED_HEAP = """
from cross_sell_upsell.pipeline.batch import release_free_memory
def rss(): return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
blocks = [bytes(2048) + bytes([i % 256]) for i in range(100_000)]
last = blocks[-1]
held = rss()
del blocks
freed = rss()
print(release_free_memory(), held, freed, rss())
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(ctypes.CDLL(None), "malloc_trim"), reason="glibc only"
)
def test_release_free_memory_hands_glibcs_free_heap_back() -> None:
    child = subprocess.run([sys.executable, "-c", _FREED_HEAP], capture_output=True, text=True, check=True)
    released, held, freed, after = child.stdout.split()
    assert released == "True"
    # Freeing alone gives nothing back; the release gives back most of the 200 MB.
    assert float(freed) > float(held) - 20
    assert float(after) < float(freed) - 150
