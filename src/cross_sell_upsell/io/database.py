"""The SQL seam: an embedded DuckDB file or a PostgreSQL server behind the same few operations.

The run store and the log reader need only these: run a statement, insert a frame, query into a frame, and one
transaction. Each backend is one small adapter; a warehouse with an ADBC driver (Snowflake, BigQuery) would be
one more adapter like `PostgresDatabase`, since ADBC moves Arrow in and out the same way. Statements use `$1`-style
parameters, which DuckDB and PostgreSQL both read.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol, Self

import polars as pl

from cross_sell_upsell.errors import CrossSellError

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
"""URL prefixes that name a PostgreSQL server; anything else is a DuckDB file path."""


class DatabaseError(CrossSellError):
    """A store or database cannot be opened, read or written: one line naming it (never its password)."""


def is_url(target: str | Path) -> bool:
    """Whether `target` names a database server rather than a DuckDB file."""
    return str(target).startswith(POSTGRES_SCHEMES)


def shown(target: str | Path) -> str:
    """`target` as messages show it: a URL's password replaced by `***`."""
    return re.sub(r"^([a-z]+://[^:/@]*):[^@/]*@", r"\1:***@", str(target))


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class Database(Protocol):
    """What the store and the log reader do with a database."""

    target: str
    """The path or URL as messages show it."""
    secondary_indexes: bool
    """Whether lookups by columns other than a table's order need an index (`CREATE INDEX`) to be fast."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Runs one statement that returns nothing."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        """Runs one query and returns its rows."""

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        """Appends `frame`'s rows to `table`, columns matched by name."""

    def insert_parquet(self, table: str, paths: Sequence[Path], constants: Mapping[str, str] | None = None) -> None:
        """Appends the rows of the Parquet files `paths` (one schema) to `table`, columns matched by name, each row
        with the `constants` text columns added (a run id); the files are streamed, never read whole."""

    def columns(self, table: str) -> list[str] | None:
        """The table's column names, None when there is no such table."""

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


class _Closing:
    """`with connect(...) as db:` closes the connection; an error inside rolls back what was not committed."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        try:
            if exc_type is not None:
                # A connection that broke cannot roll back either; the server drops the transaction with it, and
                # the error that stopped the run is the one to report.
                with suppress(self._error):  # type: ignore[attr-defined]
                    self.rollback()  # type: ignore[attr-defined]
        finally:
            self.close()  # type: ignore[attr-defined]


class DuckDatabase(_Closing):
    """An embedded DuckDB file. One process may write it at a time; others may read it read-only."""

    secondary_indexes = False
    """DuckDB skips the row groups whose min-max range excludes a value, which serves a run's rows (written
    together); an index is kept in memory and rebuilt at each commit, which at a million customers cost more than
    writing the rows."""

    def __init__(self, path: str | Path, read_only: bool, label: str = "store") -> None:
        import duckdb

        self.target = str(path)
        self._error = duckdb.Error
        self._in_transaction = False
        if read_only and not Path(path).is_file():
            raise DatabaseError(f"{label} {path} does not exist")
        if not read_only:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._connection = _duck_connect(duckdb, label, str(path), read_only)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._reported():
            self._connection.sql(sql, params=list(params) or None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        with self._reported():
            return pl.from_arrow(self._connection.sql(sql, params=list(params) or None).to_arrow_table())

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        with self._reported():
            self._connection.register("_csu_frame", frame.to_arrow())
            try:
                self._connection.sql(f"INSERT INTO {table} BY NAME SELECT * FROM _csu_frame")
            finally:
                # After a failed insert the transaction is aborted and unregistering fails too: keep the first error.
                with suppress(self._error):
                    self._connection.unregister("_csu_frame")

    def insert_parquet(self, table: str, paths: Sequence[Path], constants: Mapping[str, str] | None = None) -> None:
        # DuckDB reads the files itself, in parallel and in row groups: no frame of them is ever built in Python.
        if not paths:
            return
        constants = constants or {}
        added = "".join(f", ${number}::TEXT AS {name}" for number, name in enumerate(constants, start=2))
        with self._reported():
            self._connection.sql(
                f"INSERT INTO {table} BY NAME SELECT *{added} FROM read_parquet($1)",
                params=[[str(path) for path in paths], *constants.values()],
            )

    def columns(self, table: str) -> list[str] | None:
        rows = self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
            [table],
        )
        return rows.get_column("column_name").to_list() or None

    def begin(self) -> None:
        with self._reported():
            self._connection.begin()
        self._in_transaction = True

    def commit(self) -> None:
        with self._reported():
            self._connection.commit()
        self._in_transaction = False

    def rollback(self) -> None:
        if self._in_transaction:
            self._in_transaction = False
            self._connection.rollback()

    def close(self) -> None:
        self._connection.close()

    def _reported(self) -> _Reported:
        return _Reported(self.target, self._error)


LOCK_WAIT_SECONDS = 2.0
"""How long opening a DuckDB file another process holds waits for it: a run records itself in well under a
second, so two small runs that end together both get in; a run still writing after this is reported."""

READER_MEMORY_LIMIT = "256MB"
"""DuckDB's working memory in a read-only connection (its default is 80% of the machine's): a reader works beside
a batch's or the dashboard's own data. Sorting a million customers' five million offers took 1.9 GB under the
default; within this bound DuckDB sorts through a temporary file in the system's temporary folder (never beside
the store, which a reader may not be allowed to write), for 0.8 s more and a 1.2 GB peak (docs/store.md)."""


def _duck_connect(duckdb: Any, label: str, path: str, read_only: bool) -> Any:
    """A DuckDB connection; while another process holds the file's lock, retried for LOCK_WAIT_SECONDS."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            connection = duckdb.connect(path, read_only=read_only)
            # DuckDB draws a progress bar on stdout for long statements, where a command prints its result.
            connection.execute("SET enable_progress_bar = false")
            if read_only:
                connection.execute(f"SET memory_limit = '{READER_MEMORY_LIMIT}'")
                connection.execute("SET temp_directory = $1", [tempfile.gettempdir()])
            else:
                # A writer's inserts keep no order: DuckDB then writes row groups from every thread straight to the
                # file instead of holding them until the commit (a million customers' offers: 0.8 GB at the peak
                # against 2.1, and no 3 s checkpoint at the close; docs/store.md). A reader sorts what it needs sorted.
                connection.execute("SET preserve_insertion_order = false")
            return connection
        except duckdb.Error as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise DatabaseError(_duck_open_problem(label, path, error)) from None
        time.sleep(0.05)


def _duck_open_problem(label: str, path: str, error: Exception) -> str:
    text = _first_line(error)
    if "lock" in text.lower():
        return f"{label} {path} is being written by another run; try again"
    if "not a valid DuckDB database" in text:
        return f"{label} {path} is not a DuckDB database"
    return f"{label} {path} cannot be opened ({text})"


class PostgresDatabase(_Closing):
    """A PostgreSQL server through ADBC: Arrow in (COPY) and out, one transaction per connection at a time."""

    secondary_indexes = True

    def __init__(self, url: str, read_only: bool) -> None:
        try:
            import adbc_driver_manager
            import adbc_driver_postgresql.dbapi as postgres
        except ImportError:
            raise DatabaseError(
                f"{shown(url)}: PostgreSQL needs the postgres extra: pip install 'cross-sell-upsell[postgres]'"
            ) from None
        self.target = shown(url)
        self._error = adbc_driver_manager.Error
        try:
            self._connection = postgres.connect(url)
        except adbc_driver_manager.Error as error:
            raise DatabaseError(f"{self.target} cannot be reached ({_first_line(error)})") from None
        self._cursor = self._connection.cursor()
        if read_only:
            # The SET opens a transaction of its own (the connection is not in autocommit mode), which is read-write:
            # committed, it makes every later transaction of the session read-only.
            self.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            self.commit()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._reported():
            self._cursor.execute(sql, list(params) or None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> pl.DataFrame:
        with self._reported():
            self._cursor.execute(sql, list(params) or None)
            return pl.from_arrow(self._cursor.fetch_arrow_table())

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        with self._reported():
            self._cursor.adbc_ingest(table, frame.to_arrow(), mode="append")

    def insert_parquet(self, table: str, paths: Sequence[Path], constants: Mapping[str, str] | None = None) -> None:
        import pyarrow as pa
        import pyarrow.dataset

        if not paths:
            return
        constants = constants or {}
        files = pyarrow.dataset.dataset([str(path) for path in paths], format="parquet")
        schema = pa.schema([*files.schema, *(pa.field(name, pa.string()) for name in constants)])

        def batches() -> Iterator[pa.RecordBatch]:
            for batch in files.to_batches():
                added = (pa.repeat(pa.scalar(value, pa.string()), batch.num_rows) for value in constants.values())
                yield pa.RecordBatch.from_arrays([*batch.columns, *added], schema=schema)

        # COPY from a stream of record batches: the server gets every row while the client holds a few batches.
        with self._reported():
            self._cursor.adbc_ingest(table, pa.RecordBatchReader.from_batches(schema, batches()), mode="append")

    def columns(self, table: str) -> list[str] | None:
        rows = self.query(
            "SELECT column_name::text AS column_name FROM information_schema.columns "
            "WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position",
            [table],
        )
        return rows.get_column("column_name").to_list() or None

    def begin(self) -> None:
        """Nothing to do: the connection is not in autocommit mode, so every statement is in a transaction until
        `commit` or `rollback`."""

    def commit(self) -> None:
        with self._reported():
            self._connection.commit()

    def rollback(self) -> None:
        self._connection.rollback()

    def close(self) -> None:
        self._cursor.close()
        self._connection.close()

    def _reported(self) -> _Reported:
        return _Reported(self.target, self._error)


class _Reported:
    """Turns the driver's error inside the block into a one-line DatabaseError naming the database."""

    def __init__(self, target: str, errors: type[Exception]) -> None:
        self._target, self._errors = target, errors

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, error: BaseException | None, _: object) -> None:
        if error is not None and isinstance(error, self._errors):
            raise DatabaseError(f"{self._target}: {_first_line(error)}") from None  # type: ignore[arg-type]


def connect(target: str | Path, read_only: bool = False, label: str = "store") -> DuckDatabase | PostgresDatabase:
    """The database `target` names: a `postgresql://` URL, else a DuckDB file path (created when written; its
    messages call it `label`). Readers pass `read_only`, so they never take a DuckDB file's writer lock nor
    change a server's data."""
    if is_url(target):
        return PostgresDatabase(str(target), read_only)
    return DuckDatabase(target, read_only, label)
