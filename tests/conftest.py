"""Shared fixtures: the shipped data sets and the hand-built mini data set (tables in support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import MINI_CATALOG, MINI_CUSTOMERS, TIER1, TIERED, write_data

from cross_sell_upsell.data.dataset import Dataset, load_dataset


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
