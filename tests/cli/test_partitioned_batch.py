"""`run_batch_analysis.py --partitions N` on a synthetic log: the files and the run store's sales tables are those
of reading the log whole, and the partition files are gone after the run."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import AcceptanceSettings, OrchestratorConfig
from cross_sell_upsell.data.ingest import partitioned
from cross_sell_upsell.data.synth import SUGGESTED_AS_OF, generate, write_parquet

# A replay population smaller than the buying customers, so the replays sample across the partitions.
CONFIG = OrchestratorConfig(acceptance=AcceptanceSettings(replay_population=150, sample_customers=100))
SALES_TABLES = ("run_sales_weekly", "run_top_products", "run_top_categories", "run_pareto")


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> list[str]:
    """The data options of 300 synthetic customers' log, catalog and customers file."""
    folder = tmp_path_factory.mktemp("synth")
    for name, frame in generate(300, 3).items():
        write_parquet(frame, folder / f"{name}.parquet")
    return [
        *("--transactions", str(folder / "transactions.parquet"), "--catalog", str(folder / "catalog.parquet")),
        *("--customers-file", str(folder / "customers.parquet"), "--as-of", SUGGESTED_AS_OF.isoformat()),
    ]


def run(folder: Path, log: list[str], *options: str) -> int:
    argv = [*log, "--output", str(folder / "report.md"), "--store", str(folder / "store.duckdb")]
    return batch_main([*argv, *options], CONFIG, folder / "data", folder / "default-output")


def comparable(path: Path) -> bytes:
    """A file's bytes without its generated-at line, the store's path written as STORE."""
    text = path.read_bytes()
    if path.suffix in (".md", ".json"):
        text = re.sub(rb".*[Gg]enerated.at.*\n", b"", text).replace(str(path.parent).encode(), b"FOLDER")
    return text


def test_partitions_give_the_files_and_store_of_the_whole_log(
    tmp_path: Path, log: list[str], capsys: pytest.CaptureFixture
) -> None:
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run(whole, log, "--quiet") == 0
    assert run(split, log, "--partitions", "3") == 0
    # One progress line per partition read, pass by pass (the run history's after the chunks' lines).
    steps = ("log checks", "snapshot", "acceptance replays", "run history")
    reads = [line.split(" read, ")[0] for line in capsys.readouterr().err.splitlines() if " read, " in line]
    assert reads == [f"{step}: partition {index}/3" for step in steps for index in (1, 2, 3)]
    names = sorted(path.name for path in whole.iterdir() if path.name != "store.duckdb")
    assert names == sorted(path.name for path in split.iterdir() if path.name != "store.duckdb")
    assert "report.recommendations.csv" in names
    for name in names:
        assert comparable(split / name) == comparable(whole / name), name
    for table in SALES_TABLES:
        rows = [
            duckdb.connect(str(folder / "store.duckdb"), read_only=True)
            .sql(f"SELECT * EXCLUDE (run_id) FROM {table}")
            .fetchall()
            for folder in (whole, split)
        ]
        assert rows[0] and sorted(rows[0]) == sorted(rows[1]), table
    assert not list(split.glob(".partitions-*"))  # the partition files were deleted


def test_a_log_of_more_rows_than_a_partition_holds_is_split_by_default(
    tmp_path: Path, log: list[str], capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert run(whole, log, "--quiet", "--partitions", "1") == 0
    rows = pl.scan_parquet(log[1]).select(pl.len()).collect().item()
    # Just under half the rows a partition: 3 partitions, the last of a row or two.
    monkeypatch.setattr(partitioned, "ROWS_PER_PARTITION", (rows - 1) // 2)
    assert run(split, log) == 0
    reads = [line.split(" read, ")[0] for line in capsys.readouterr().err.splitlines() if " read, " in line]
    assert reads[:3] == [f"log checks: partition {index}/3" for index in (1, 2, 3)]
    for name in ("report.recommendations.csv", "report.customers.csv", "report.md"):
        assert comparable(split / name) == comparable(whole / name), name


def test_partitions_need_a_transaction_log(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert batch_main(["--partitions", "2", "--as-of", "2024-03-01"], CONFIG, tmp_path, tmp_path / "out") == 2
    assert capsys.readouterr().err.strip() == (
        "error: --partitions splits a transaction log: give --transactions with its --catalog"
    )
    assert not (tmp_path / "out").exists()
