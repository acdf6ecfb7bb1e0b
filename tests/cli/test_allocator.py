"""The commands set how long polars' allocator keeps freed pages, before polars is loaded, and never over the
operator's own setting."""

from __future__ import annotations

import os
import subprocess
import sys

from cross_sell_upsell.cli.allocator import ALLOCATOR_SETTING, KEEP_FREED_PAGES, keep_freed_pages


def test_set_when_polars_is_not_loaded_and_nothing_is_set():
    environ: dict[str, str] = {"PATH": "/bin"}
    assert keep_freed_pages(environ, modules={"json": object()}) is True
    assert environ == {"PATH": "/bin", ALLOCATOR_SETTING: "dirty_decay_ms:2000,muzzy_decay_ms:0"}


def test_the_operators_setting_is_kept():
    environ = {ALLOCATOR_SETTING: "dirty_decay_ms:0"}
    assert keep_freed_pages(environ, modules={}) is False
    assert environ == {ALLOCATOR_SETTING: "dirty_decay_ms:0"}


def test_nothing_is_set_once_polars_is_loaded():
    """jemalloc has read its settings by then: setting the variable would only mislead a child process's reader."""
    environ: dict[str, str] = {}
    assert keep_freed_pages(environ, modules={"polars": object()}) is False
    assert environ == {}


def _allocator_setting_seen_by_polars(code: str) -> str:
    environ = {name: value for name, value in os.environ.items() if name != ALLOCATOR_SETTING}
    child = subprocess.run(
        [sys.executable, "-c", f"{code}; import os; print(os.environ[{ALLOCATOR_SETTING!r}])"],
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    )
    return child.stdout.strip()


def test_a_command_process_hands_the_setting_to_polars_which_applies_it_last():
    """Polars adds its own options first and the environment's after them (polars/__init__.py); jemalloc takes the
    last value of an option, so the commands' value is the one in force."""
    seen = _allocator_setting_seen_by_polars("import cross_sell_upsell.cli, polars")
    assert seen.endswith("," + KEEP_FREED_PAGES)
    assert seen.count("dirty_decay_ms") == 2


def test_a_library_user_keeps_polars_defaults():
    """Importing the library outside the commands (a notebook, LangGraph's server) changes nothing."""
    seen = _allocator_setting_seen_by_polars("import cross_sell_upsell.pipeline.batch")
    assert KEEP_FREED_PAGES not in seen
