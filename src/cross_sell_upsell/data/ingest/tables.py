"""Reading a retailer's table file and the column expressions every kind of file shares.

CSV, Parquet and JSON files come in through these functions, so an unsupported suffix, a missing file or one
that cannot be parsed is reported the same way for the catalog, the customers file and the transaction log.
"""

from __future__ import annotations

import csv
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cross_sell_upsell.data.encodings import utf8_file
from cross_sell_upsell.data.ingest.values import sniff_delimiter
from cross_sell_upsell.data.records import read_records
from cross_sell_upsell.errors import DataValidationError
from cross_sell_upsell.io.database import connect, is_url, shown

_TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json"}


def file_kind(path: Path, allowed: Sequence[str]) -> str:
    """The file's kind from its suffix ("csv", "parquet" or "json"); raises DataValidationError when the kind
    is not `allowed` or the file does not exist."""
    kind = _TABLE_SUFFIXES.get(path.suffix.lower())
    if kind not in allowed:
        names = ", ".join(f".{name}" for name in allowed)
        raise DataValidationError(str(path), "-", "-", f"unsupported file type '{path.suffix}' (use {names})")
    if not path.is_file():
        raise DataValidationError(str(path), "-", "-", "file not found")
    return kind


_READ_ERRORS = (pl.exceptions.PolarsError, OSError)
"""What polars raises for a file it cannot parse or read."""


@contextmanager
def reported_as_unreadable(path: Path, errors: tuple[type[Exception], ...] = _READ_ERRORS) -> Iterator[None]:
    """Turns a reader's error inside the block into the file's DataValidationError, naming the first line of
    the reader's message."""
    try:
        yield
    except errors as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(str(path), "-", "-", f"cannot be read ({first_line})") from None


DUCKDB_PREFIX = "duckdb:"
"""What starts a DuckDB table source, `duckdb:PATH::TABLE` (a `postgresql://...::TABLE` URL needs none)."""

_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class DatabaseTable:
    """A table in a database, read instead of a file: `duckdb:PATH::TABLE` or `postgresql://...::TABLE`."""

    target: str
    """The DuckDB file or the server's URL."""
    table: str
    """The table's name (letters, digits and underscores)."""

    def __str__(self) -> str:
        """As messages name it: the source as given, a URL's password hidden."""
        prefix = "" if is_url(self.target) else DUCKDB_PREFIX
        return f"{prefix}{shown(self.target)}::{self.table}"


def is_database_source(source: str | Path) -> bool:
    """Whether `source` names a database table rather than a file."""
    return str(source).startswith(DUCKDB_PREFIX) or is_url(source)


def table_source(text: str) -> str | Path:
    """A file's path, or a database table's name kept as written (a Path would fold a URL's `//`)."""
    return text if is_database_source(text) else Path(text)


def database_table(source: str | Path) -> DatabaseTable | None:
    """The table `source` names, None for a file; a database source without `::TABLE` is an error."""
    if not is_database_source(source):
        return None
    text = str(source)
    target, separator, table = text.removeprefix(DUCKDB_PREFIX).rpartition("::")
    if not separator or not target or not _TABLE_NAME.fullmatch(table):
        raise DataValidationError(
            shown(text), "-", "-", "name a database table as duckdb:PATH::TABLE or postgresql://...::TABLE"
        )
    return DatabaseTable(target, table)


def read_database_table(source: DatabaseTable) -> pl.DataFrame:
    """The whole table, read through a read-only connection."""
    with connect(source.target, read_only=True, label="database") as db:
        if db.columns(source.table) is None:
            raise DataValidationError(str(source), "-", "-", "no such table")
        return db.query(f"SELECT * FROM {source.table}")


def scan_table(
    path: Path | pl.DataFrame, kind: str, *, delimiter: str = ",", truncate_ragged_lines: bool = False
) -> pl.LazyFrame:
    """A lazy scan; CSV columns all come in as text so one odd value never breaks type inference. A CSV file
    must be UTF-8 (`encodings.utf8_file`). A database table (kind "table") is already read: `path` is its frame."""
    if isinstance(path, pl.DataFrame):
        return path.lazy()
    if kind == "parquet":
        return pl.scan_parquet(path)
    return pl.scan_csv(path, separator=delimiter, infer_schema=False, truncate_ragged_lines=truncate_ragged_lines)


def read_table(path: Path, kind: str, encoding: str | None, delimiter: str | None = None) -> pl.DataFrame:
    """The whole file as a frame (for the small files: the catalog and the customers), CSV and JSON read in
    UTF-8 or else the fallback `encoding`, CSV fields split at `delimiter` (None: sniffed from the header). A
    CSV row with more fields than the header stops the run naming it."""
    # A JSON file's records may not make a frame (TypeError, ValueError).
    with reported_as_unreadable(path, (*_READ_ERRORS, TypeError, ValueError)):
        if kind == "json":
            return pl.DataFrame(read_records(path, encoding), infer_schema_length=None)
        if kind == "parquet":
            return scan_table(path, kind).collect()
        with utf8_file(path, encoding) as source:
            delimiter = delimiter or sniff_delimiter(path, source)
            try:
                return scan_table(source, kind, delimiter=delimiter).collect()
            except pl.exceptions.ComputeError as exc:
                if not has_extra_fields(exc):
                    raise
            raise extra_fields_error(path, find_extra_fields(path, source, delimiter))


def has_extra_fields(error: Exception) -> bool:
    """Whether polars refused a CSV file because a row has more fields than the header (it does not say which)."""
    return isinstance(error, pl.exceptions.ComputeError) and "found more fields than defined" in str(error)


@dataclass(frozen=True)
class ExtraFields:
    """The data rows of a CSV file with more fields than its header, found by Python's csv reader."""

    header_fields: int
    """Fields in the header."""
    data_rows: int
    """Data rows in the file (the header is not one), as polars counts them: a blank line is a row."""
    rows: array
    """The 1-based numbers of the data rows with more fields than the header, ascending."""
    first: tuple[int, int, int] | None
    """(row, line, fields) of the first of them (the line the row ends on); None when there is none."""


def find_extra_fields(path: Path, source: Path, delimiter: str) -> ExtraFields:
    """The rows of the UTF-8 CSV file `source` (read for `path`) that have more fields than the header. A pass
    in Python, only made once polars has refused the file."""
    rows, first, data_rows = array("L"), None, 0
    with source.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        try:
            header_fields = len(next(reader, []))
            for data_rows, record in enumerate(reader, start=1):
                if len(record) > header_fields:
                    first = first or (data_rows, reader.line_num, len(record))
                    rows.append(data_rows)
        except csv.Error as exc:
            raise DataValidationError(str(path), "-", "-", f"cannot be read (line {reader.line_num}: {exc})") from None
    return ExtraFields(header_fields, data_rows, rows, first)


def extra_fields_error(path: Path, extra: ExtraFields) -> DataValidationError:
    """The one-line error naming the first row with more fields than the header, and its line."""
    if extra.first is None:  # polars and Python's csv reader disagree: say what polars said
        return DataValidationError(str(path), "-", "-", "cannot be read (a row has more fields than the header)")
    row, line, fields = extra.first
    problem = f"the row has {fields} fields where the header has {extra.header_fields} (line {line})"
    return DataValidationError(str(path), f"row {row}", "-", problem)


def field_sources(
    path: Path, columns: Iterable[str], fields: Sequence[str], mapping: dict[str, str], required: Sequence[str]
) -> dict[str, str]:
    """field -> source column for the fields present in the file; a required or explicitly mapped field that
    is missing is a structural error."""
    present = set(columns)
    sources = {}
    for field in fields:
        source = mapping.get(field, field)
        if source in present:
            sources[field] = source
        elif field in required or field in mapping:
            mapped = f" (mapped from '{source}')" if field in mapping else ""
            raise DataValidationError(str(path), "-", source, f"required column{mapped} is missing")
    return sources


def field_columns(sources: dict[str, str]) -> list[pl.Expr]:
    """The source columns renamed to their fields, for a `select`."""
    return [pl.col(source).alias(field) for field, source in sources.items()]


def as_text(expr: pl.Expr) -> pl.Expr:
    """Text with the surrounding white space stripped."""
    return expr.cast(pl.String).str.strip_chars()


def is_blank(expr: pl.Expr) -> pl.Expr:
    """True where an identifier is missing or empty."""
    return expr.is_null() | (expr == "")


def as_number(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A Float64 column; text that is not a number becomes null."""
    return (as_text(expr) if dtype == pl.String else expr).cast(pl.Float64, strict=False)


def as_date(expr: pl.Expr, dtype: pl.DataType, date_format: str | None) -> pl.Expr:
    """A Date column from a date, a timestamp (its date part, no time-zone shift) or text; bad text becomes null."""
    if dtype == pl.Date:
        return expr
    if isinstance(dtype, pl.Datetime):
        return expr.dt.date()
    text = as_text(expr)
    if date_format:
        return text.str.to_date(date_format, strict=False)
    rest = text.str.slice(10)
    return pl.when((rest == "") | rest.str.starts_with("T") | rest.str.starts_with(" ")).then(
        text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    )


def as_list(expr: pl.Expr, dtype: pl.DataType, separator: str) -> pl.Expr:
    """A list of strings from a list column or from separated text; empty parts are dropped."""
    if isinstance(dtype, pl.List):
        return expr.cast(pl.List(pl.String))
    parts = expr.cast(pl.String).str.split(separator).list.eval(pl.element().str.strip_chars())
    return parts.list.eval(pl.element().filter(pl.element() != "")).fill_null(pl.lit([], dtype=pl.List(pl.String)))
