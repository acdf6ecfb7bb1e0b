"""The store at the command line: bad stores and tables are one line, exit 2 and nothing written; a run whose
files cannot be published is not recorded; --no-store; `cross-sell history`."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from support import AS_OF, TIERED, closed_port, hold_lock

from cross_sell_upsell.cli.app import main
from cross_sell_upsell.io.database import connect
from cross_sell_upsell.store.reader import aggregate, customer_offers, open_store, runs
from cross_sell_upsell.store.schema import SCHEMA_VERSION, ensure_schema


def batch(tmp_path: Path, *options: str, data: tuple[str, ...] = ("--data-dir", str(TIERED))) -> int:
    return main(
        ["batch", "--quiet", *data, "--as-of", str(AS_OF), "--output", str(tmp_path / "out" / "r.md"), *options]
    )


def one_error_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err.strip()


def nothing_written(tmp_path: Path) -> bool:
    return not (tmp_path / "out").exists()


def test_a_store_that_is_not_a_duckdb_database(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = tmp_path / "history.duckdb"
    store.write_text("a spreadsheet saved under the wrong name\n" * 50)
    assert batch(tmp_path, "--store", str(store)) == 2
    assert one_error_line(capsys) == f"error: store {store} is not a DuckDB database"
    assert nothing_written(tmp_path)
    assert store.read_text().startswith("a spreadsheet")


def test_a_database_that_cannot_be_reached(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    url = f"postgresql://shop:secret@127.0.0.1:{closed_port()}/history"
    assert batch(tmp_path, "--store", url) == 2
    assert re.fullmatch(
        r"error: postgresql://shop:\*\*\*@127\.0\.0\.1:\d+/history cannot be reached \(.*\)", one_error_line(capsys)
    )
    assert nothing_written(tmp_path)


def test_two_runs_writing_one_store(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = tmp_path / "history.duckdb"
    holder = hold_lock(store, 30)
    try:
        assert batch(tmp_path, "--store", str(store)) == 2
    finally:
        holder.kill()
        holder.wait()
    assert one_error_line(capsys) == f"error: store {store} is being written by another run; try again"
    assert nothing_written(tmp_path)


def test_a_store_of_a_newer_version_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = tmp_path / "history.duckdb"
    with connect(store) as db:
        ensure_schema(db)
        db.execute("UPDATE store_meta SET value = $1 WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    assert batch(tmp_path, "--store", str(store)) == 2
    assert one_error_line(capsys) == (
        f"error: store {store} has schema version {SCHEMA_VERSION + 1}, newer than this version's "
        f"{SCHEMA_VERSION}; upgrade cross-sell-upsell to use it"
    )
    assert nothing_written(tmp_path)
    assert main(["history", "--store", str(store)]) == 2
    assert "newer than this version's" in one_error_line(capsys)


def test_a_log_table_without_a_needed_column(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    log = tmp_path / "shop.duckdb"
    connection = duckdb.connect(str(log))
    connection.sql("CREATE TABLE sales (customer_id TEXT, product_id TEXT, amount DOUBLE)")
    connection.close()
    data = ("--transactions", f"duckdb:{log}::sales", "--catalog", str(TIERED / "catalog.json"))
    assert batch(tmp_path, "--no-store", data=data) == 2
    assert one_error_line(capsys) == f"error: duckdb:{log}::sales: record -: field 'date': required column is missing"
    assert batch(tmp_path, "--no-store", data=(data[0], f"duckdb:{log}::orders", *data[2:])) == 2
    assert one_error_line(capsys) == f"error: duckdb:{log}::orders: record -: field '-': no such table"
    assert nothing_written(tmp_path)


def test_a_run_whose_files_cannot_be_published_is_not_recorded(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = tmp_path / "history.duckdb"
    (tmp_path / "out" / "r.summary.json").mkdir(parents=True)  # a folder where the summary goes
    assert batch(tmp_path, "--store", str(store)) == 2
    assert "r.summary.json" in one_error_line(capsys)
    assert open_store(store) is None  # the tables were created in the transaction that rolled back
    assert not list((tmp_path / "out").glob(".*"))  # the store's spilled rows were deleted with the staged files
    (tmp_path / "out" / "r.summary.json").rmdir()
    assert batch(tmp_path, "--store", str(store)) == 0
    assert not list((tmp_path / "out").glob(".*"))  # nor after a run that is recorded
    with open_store(store) as db:
        (run,) = runs(db).rows(named=True)
        first = db.query("SELECT customer_id FROM run_customers WHERE priority_rank = 1").item()
        offers = customer_offers(db, run["run_id"], first)
        cube = aggregate(db, "run_customer_cube", run["run_id"])
    assert offers.get_column("rank").to_list() == list(range(1, offers.height + 1))
    assert int(cube.get_column("customers").sum()) == run["customers_processed"] == 18
    capsys.readouterr()
    assert main(["history", "--store", str(store)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["as", "of", "generated", "at", "customers", "expected", "potential", "hit", "rate"]
    assert lines[1].split()[0] == str(AS_OF) and lines[1].split()[3:] == ["18", "n/a", "$4,132.06", "n/a"]


def test_no_store(tmp_path: Path) -> None:
    assert batch(tmp_path, "--no-store") == 0
    report = (tmp_path / "out" / "r.md").read_text(encoding="utf-8")
    assert "No run store for this run (--no-store)" in report
    assert not list(tmp_path.rglob("*.duckdb"))


def test_history_of_a_store_not_yet_written(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["history", "--store", str(tmp_path / "none.duckdb")]) == 0
    assert capsys.readouterr().out == f"no runs recorded in {tmp_path / 'none.duckdb'} yet\n"
    assert not (tmp_path / "none.duckdb").exists()
