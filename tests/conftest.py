"""Shared fixtures: the shipped data sets and the hand-built mini data set (tables in support.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import MINI_CATALOG, MINI_CUSTOMERS, TIER1, TIERED, write_data

from cross_sell_upsell.data.dataset import Dataset, load_dataset
from cross_sell_upsell.io.database import connect

REPOSITORY_OUTPUT = Path(__file__).resolve().parent.parent / "output"


def _output_entries() -> dict[str, tuple[int, int]]:
    return {path.name: (path.stat().st_size, path.stat().st_mtime_ns) for path in REPOSITORY_OUTPUT.iterdir()}


@pytest.fixture(autouse=True)
def _repository_output_untouched() -> Iterator[None]:
    """Tests write where they are told, never into the repository's output/ folder: it holds the user's reports
    and run store (`output/history.duckdb`), whose history a test's run would join."""
    before = _output_entries()
    yield
    assert _output_entries() == before, "the test wrote into the repository's output/ folder"


@pytest.fixture(scope="session")
def tier1() -> Dataset:
    return load_dataset(TIER1)


@pytest.fixture(scope="session")
def tiered() -> Dataset:
    return load_dataset(TIERED)


@pytest.fixture()
def mini_dir(tmp_path: Path) -> Path:
    return write_data(tmp_path / "mini", MINI_CATALOG, MINI_CUSTOMERS)


@pytest.fixture()
def mini(mini_dir: Path) -> Dataset:
    return load_dataset(mini_dir)


@pytest.fixture()
def postgres_url() -> Iterator[str]:
    """A URL of the test PostgreSQL server (`CSU_TEST_POSTGRES_URL`, which `.ci/postgres.sh start` prints) whose
    search path is a fresh schema of this test's own, dropped after. Without a server the test is skipped, except
    under CI=true, where it fails: CI starts one and must never skip these tests silently."""
    yield from _postgres_schema()


@pytest.fixture(params=["duckdb", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database on each backend in turn: a new DuckDB file, then a fresh schema of the test PostgreSQL server."""
    if request.param == "duckdb":
        return str(tmp_path / "store.duckdb")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module")
def module_postgres_url() -> Iterator[str]:
    """`postgres_url`, one schema for a whole test module (tests that only read what the module's fixture wrote)."""
    yield from _postgres_schema()


def _postgres_schema() -> Iterator[str]:
    base = os.environ.get("CSU_TEST_POSTGRES_URL")
    if not base:
        reason = 'no PostgreSQL server: CSU_TEST_POSTGRES_URL is not set (eval "$(.ci/postgres.sh start)" starts one)'
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests")
        pytest.skip(reason)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with connect(base) as db:
        db.execute(f"CREATE SCHEMA {schema}")
        db.commit()
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with connect(base) as db:
        db.execute(f"DROP SCHEMA {schema} CASCADE")
        db.commit()
