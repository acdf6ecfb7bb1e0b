"""The synthetic data generator: same seed, same bytes; and its files load cleanly through ingestion."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import load_synthetic

from cross_sell_upsell.cli.synth import main
from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data.ingest import load_catalog, rows_rejected_summary
from cross_sell_upsell.data.synth import HISTORY_START, SUGGESTED_AS_OF

FILES = ("catalog.parquet", "customers.parquet", "transactions.parquet")


def _digests(folder):
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth")
    assert main(["--customers", "400", "--seed", "11", "--out", str(folder)]) == 0
    return folder


def test_same_seed_writes_the_same_bytes(synthetic, tmp_path):
    assert main(["--customers", "400", "--seed", "11", "--out", str(tmp_path)]) == 0
    assert _digests(tmp_path) == _digests(synthetic)


def test_another_seed_writes_another_log(synthetic, tmp_path):
    assert main(["--customers", "400", "--seed", "12", "--out", str(tmp_path)]) == 0
    digests = _digests(tmp_path)
    assert digests["catalog.parquet"] == _digests(synthetic)["catalog.parquet"]
    assert digests["transactions.parquet"] != _digests(synthetic)["transactions.parquet"]


def test_the_catalog_is_the_tiered_sample(synthetic):
    products, _ = load_catalog(synthetic / "catalog.parquet", IngestSettings())
    expected, _ = load_catalog("data/tiered/catalog.json", IngestSettings())
    assert_frame_equal(products, expected)


def test_the_files_load_without_a_rejected_row(synthetic):
    dataset = load_synthetic(synthetic, strict=True)
    log = pl.read_parquet(synthetic / "transactions.parquet")
    assert rows_rejected_summary(dataset)["total"] == 0
    assert dataset.customers.height == 400  # every generated customer is on file, buyers or not
    assert log.get_column("date").min() >= HISTORY_START and log.get_column("date").max() < SUGGESTED_AS_OF
    # roughly 20 purchases per customer
    assert 10 <= log.height / 400 <= 30
    assert dataset.learned_cycles.is_empty()  # the tiered catalog gives every cycle


def test_a_bad_customer_count_is_an_error(tmp_path, capsys):
    assert main(["--customers", "0", "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err == "error: --customers must be at least 1\n"
    assert not (tmp_path / "x").exists()
