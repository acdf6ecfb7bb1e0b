"""The SQL seam on both backends: frames in and out with their types, one transaction, and the one-line errors
for a file that is not a DuckDB database, a server that cannot be reached and a store another process holds."""

from __future__ import annotations

import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from support import closed_port, hold_lock

from cross_sell_upsell.io.database import LOCK_WAIT_SECONDS, DatabaseError, connect, shown

FRAME = pl.DataFrame(
    {
        "id": [1, 2],
        "name": ["a", None],
        "day": [date(2024, 3, 1), None],
        "seen": [datetime(2024, 3, 1, 12, 30), None],
        "money": [1.25, None],
    },
    schema={"id": pl.Int64, "name": pl.String, "day": pl.Date, "seen": pl.Datetime("us"), "money": pl.Float64},
)
DDL = "CREATE TABLE t (id BIGINT, name TEXT, day DATE, seen TIMESTAMP, money DOUBLE PRECISION)"


def test_a_frame_goes_in_and_comes_out_with_its_types(target: str) -> None:
    with connect(target) as db:
        db.begin()
        db.execute(DDL)
        db.insert("t", FRAME)
        db.commit()
        assert db.columns("t") == ["id", "name", "day", "seen", "money"]
        assert db.columns("missing") is None
    with connect(target, read_only=True) as db:
        assert db.query("SELECT * FROM t ORDER BY id").equals(FRAME)
        assert db.query("SELECT name FROM t WHERE id = $1", [1]).item() == "a"


def test_a_reader_cannot_write(target: str) -> None:
    with connect(target) as db:
        db.begin()
        db.execute(DDL)
        db.commit()
    with connect(target, read_only=True) as db, pytest.raises(DatabaseError, match="read-only"):
        db.execute("DROP TABLE t")


def test_what_is_not_committed_is_not_written(target: str) -> None:
    with connect(target) as db:
        db.begin()
        db.execute(DDL)
        db.commit()
    with pytest.raises(RuntimeError), connect(target) as db:
        db.begin()
        db.insert("t", FRAME)
        raise RuntimeError("the run fails before it commits")
    with connect(target, read_only=True) as db:
        assert db.query("SELECT COUNT(*) AS n FROM t").item() == 0


def test_a_file_that_is_not_a_duckdb_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("just some text, not a database\n" * 100)
    with pytest.raises(DatabaseError, match=r"^store .*notes\.duckdb is not a DuckDB database$"):
        connect(path)


def test_a_store_that_does_not_exist_is_not_created_by_a_reader(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=r"^store .*missing\.duckdb does not exist$"):
        connect(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_a_server_that_cannot_be_reached_is_named_without_its_password() -> None:
    port = closed_port()
    with pytest.raises(DatabaseError) as raised:
        connect(f"postgresql://shop:s3cret@127.0.0.1:{port}/sales")
    message = str(raised.value)
    assert message.startswith(f"postgresql://shop:***@127.0.0.1:{port}/sales cannot be reached (")
    assert "s3cret" not in message and "\n" not in message


def test_shown_hides_only_the_password() -> None:
    assert shown("postgresql://u:p@h:5/d?x=1") == "postgresql://u:***@h:5/d?x=1"
    assert shown("postgresql://u@h/d") == "postgresql://u@h/d"
    assert shown("output/history.duckdb") == "output/history.duckdb"


def test_parquet_files_go_in_with_constant_columns_matched_by_name(target: str, tmp_path: Path) -> None:
    # Two files of FRAME's rows; the table lists the constant column first and the files' columns reordered.
    paths = [tmp_path / "part-0.parquet", tmp_path / "part-1.parquet"]
    FRAME.head(1).write_parquet(paths[0])
    FRAME.tail(1).write_parquet(paths[1])
    with connect(target) as db:
        db.begin()
        db.execute(
            "CREATE TABLE t (run TEXT NOT NULL, money DOUBLE PRECISION, id BIGINT, name TEXT, day DATE, seen TIMESTAMP)"
        )
        db.insert_parquet("t", paths, {"run": "R1"})
        db.insert_parquet("t", [], {"run": "R2"})  # no file, no row
        db.commit()
    with connect(target, read_only=True) as db:
        stored = db.query("SELECT * FROM t ORDER BY id")
    assert stored.get_column("run").to_list() == ["R1", "R1"]
    assert stored.select(FRAME.columns).equals(FRAME)


def test_parquet_rows_a_table_refuses_are_one_line_and_nothing_is_written(target: str, tmp_path: Path) -> None:
    path = tmp_path / "part-0.parquet"
    FRAME.write_parquet(path)  # row 2 has no name
    with connect(target) as db:
        db.begin()
        db.execute("CREATE TABLE t (id BIGINT, name TEXT NOT NULL, day DATE, seen TIMESTAMP, money DOUBLE PRECISION)")
        db.commit()
    with pytest.raises(DatabaseError, match=r"(?i)^\S+: .*null") as raised, connect(target) as db:
        db.begin()
        db.insert_parquet("t", [path])
    assert "\n" not in str(raised.value)
    with connect(target, read_only=True) as db:
        assert db.query("SELECT COUNT(*) AS n FROM t").item() == 0


def test_a_store_another_process_writes_is_one_line_after_a_short_wait(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    holder = hold_lock(path, 30)
    try:
        started = time.monotonic()
        with pytest.raises(
            DatabaseError, match=r"^store .*history\.duckdb is being written by another run; try again$"
        ):
            connect(path)
        assert time.monotonic() - started >= LOCK_WAIT_SECONDS
    finally:
        holder.kill()
        holder.wait()


def test_a_duckdb_connection_draws_no_progress_bar(tmp_path: Path) -> None:
    # DuckDB's bar goes to stdout, where the batch prints the report's path.
    with connect(tmp_path / "store.duckdb") as db:
        assert db.query("SELECT current_setting('enable_progress_bar') AS bar").item() is False


def test_a_duckdb_reader_sorts_beyond_its_memory_bound_through_the_system_temporary_folder(tmp_path: Path) -> None:
    # Bounded, a reader's sort spills instead of taking most of the machine beside the batch's own data.
    store = tmp_path / "store.duckdb"
    with connect(store) as db:
        db.execute(
            "CREATE TABLE t AS SELECT md5(CAST(i AS TEXT)) || md5(CAST(-i AS TEXT)) AS s FROM range(3000000) r(i)"
        )
        db.commit()
    with connect(store, read_only=True) as db:
        settings = db.query(
            "SELECT current_setting('memory_limit') AS memory, current_setting('temp_directory') AS temporary"
        ).row(0)
        assert settings == ("244.1 MiB", tempfile.gettempdir())  # DuckDB shows 256 MB (decimal) in MiB
        ordered = db.query("SELECT s FROM t ORDER BY s").get_column("s")
    assert ordered.len() == 3_000_000 and ordered.is_sorted()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["store.duckdb"]
