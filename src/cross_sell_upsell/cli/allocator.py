"""How long polars' memory allocator keeps the pages it frees, set for the commands' processes.

Polars allocates through jemalloc, which hands freed pages back to the system after about half a second. A batch
frees and allocates about the same gigabyte every second (each chunk's frames), so the system zeroes and faults
those pages in again and again: 7 million page faults and 22 s of system CPU in a million-customer run. Kept for
two seconds, that run took 2-5 s less, with 3-5 s less system CPU and about the same peak RSS; 5 s was no faster and
held 150 MB more, 30 s was faster but went over 3 GB (docs/benchmarks.md, the twelfth and thirteenth sessions).

jemalloc reads its settings once, when polars' library is loaded, from `_RJEM_MALLOC_CONF` (the prefix polars'
build gives jemalloc's `MALLOC_CONF`); so the commands set it on import of `cross_sell_upsell.cli`, before any of
them imports polars. A value already in the environment is the operator's and is kept.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping

ALLOCATOR_SETTING = "_RJEM_MALLOC_CONF"
"""The environment variable polars' jemalloc reads its options from."""

KEEP_FREED_PAGES = "dirty_decay_ms:2000,muzzy_decay_ms:0"
"""Freed pages kept 2 s for reuse, then returned at once (none left in jemalloc's "muzzy" middle state, which
kept them longer in RSS)."""


def keep_freed_pages(
    environ: MutableMapping[str, str] = os.environ, modules: Mapping[str, object] = sys.modules
) -> bool:
    """Sets KEEP_FREED_PAGES for polars' allocator unless polars is loaded already (too late: jemalloc has read its
    settings) or the environment sets the allocator's options itself; returns whether it did."""
    if "polars" in modules or ALLOCATOR_SETTING in environ:
        return False
    environ[ALLOCATOR_SETTING] = KEEP_FREED_PAGES
    return True
