"""`cli.progress.peak_rss_mib`: the peak memory a run reports is its own, not that of the process that started it."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

PARENT_PEAK_MIB = 1024

CHILD = """
import resource
from cross_sell_upsell.cli.progress import peak_rss_mib
print(peak_rss_mib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the inherited ru_maxrss is Linux's behaviour")
def test_a_command_started_by_a_large_process_reports_its_own_peak() -> None:
    # The parent touches a GiB, so the peak it passes to the programs it starts is at least that.
    held = bytearray(PARENT_PEAK_MIB << 20)
    held[:: 1 << 12] = b"\1" * len(held[:: 1 << 12])
    del held
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024 >= PARENT_PEAK_MIB
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    own, inherited = (int(figure) for figure in child.stdout.split())
    assert inherited >= PARENT_PEAK_MIB  # what ru_maxrss says: the parent's peak
    assert own < PARENT_PEAK_MIB // 2  # importing the stack takes a few hundred MiB, not a GiB
