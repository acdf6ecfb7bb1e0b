"""Generated retailer files for `--transactions`: a transaction log (CSV or Parquet), a catalog CSV and an
optional customers CSV, well-formed, then zero or more hostile edits: a cell set to hostile text, a ragged row,
a column dropped or added, a row repeated, a header with no rows, an empty file, another encoding or line end.

CSV files are written cell by cell with the csv module (quoting embedded commas, quotes and line breaks), so the
number of data records in a file is known exactly: the figure "rows read" must match."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from hostile_data import CONCERNS, catalogs, cents, dates
from hostile_values import HOSTILE_TEXTS, NUMBER_TEXTS, RAW_BYTE
from hypothesis import strategies as st

from cross_sell_upsell.configuration import LOYALTY_TIERS, PRICE_SENSITIVITIES

LOG_HEADER = ["customer_id", "product_id", "date", "quantity", "amount"]
CATALOG_HEADER = [
    "product_id",
    "name",
    "category",
    "price",
    "tier",
    "margin",
    "replenishment_cycle_days",
    "cross_sell_products",
    "upgrade_to",
    "target_concerns",
]
CUSTOMERS_HEADER = [
    "customer_id",
    "name",
    "loyalty_tier",
    "lifetime_value",
    "churn_risk",
    "price_sensitivity",
    "skin_concerns",
]

REQUIRED_COLUMNS = {
    "log": ["customer_id", "product_id", "date", "amount"],
    "catalog": CATALOG_HEADER[:4],
    "customers": ["customer_id"],
}


@dataclass
class Table:
    """A CSV file as cells, and how it is encoded. `raw` (bytes) replaces the whole file when set."""

    header: list[str]
    rows: list[list[str]]
    encoding: str = "utf-8"
    newline: str = "\n"
    raw: bytes | None = None

    def csv_bytes(self) -> bytes:
        """The file's bytes: the cells as CSV in the table's encoding and line end, or the raw bytes."""
        if self.raw is not None:
            return self.raw
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=self.newline)
        writer.writerow(self.header)
        writer.writerows(self.rows)
        text = buffer.getvalue()
        try:
            return text.encode(self.encoding, errors="surrogateescape")
        except UnicodeEncodeError:  # a character the encoding lacks: what an export tool would write instead
            return text.encode(self.encoding, errors="replace")

    def parquet_frame(self, typed: bool) -> pl.DataFrame:
        """The table as a Parquet frame: text columns (ragged rows cut or padded, raw bytes replaced), or with the
        log's amount and quantity as floats and its date as a date where `typed`."""

        def cell(row: list[str], index: int) -> str | None:
            return row[index].replace(RAW_BYTE, "?") if index < len(row) else None

        names = list(dict.fromkeys(self.header))
        frame = pl.DataFrame(
            {name: [cell(row, self.header.index(name)) for row in self.rows] for name in names},
            schema=dict.fromkeys(names, pl.String),
        )
        if not typed:
            return frame
        casts = {name: pl.col(name).cast(pl.Float64, strict=False) for name in ("amount", "quantity") if name in names}
        if "date" in names:
            casts["date"] = pl.col("date").str.to_date("%Y-%m-%d", strict=False)
        return frame.with_columns(**casts)

    @property
    def records(self) -> int | None:
        """Data records in the file as written; None when raw bytes replace it."""
        return None if self.raw is not None else len(self.rows)


@dataclass
class LogFiles:
    """The files of one `--transactions` run and the hostile edits made to them."""

    log: Table
    catalog: Table
    customers: Table | None
    log_format: str = "csv"
    """"csv", "parquet" (text columns) or "typed-parquet" (numbers and dates typed)."""
    edits: list[tuple[Any, ...]] = field(default_factory=list)

    def write(self, folder: Path) -> dict[str, Path]:
        """Writes the files; returns their paths by role (log, catalog, customers)."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"catalog": folder / "catalog.csv"}
        paths["catalog"].write_bytes(self.catalog.csv_bytes())
        if self.customers is not None:
            paths["customers"] = folder / "customers.csv"
            paths["customers"].write_bytes(self.customers.csv_bytes())
        if self.log_format == "csv" or self.log.raw is not None:
            paths["log"] = folder / "transactions.csv"
            paths["log"].write_bytes(self.log.csv_bytes())
        else:
            paths["log"] = folder / "transactions.parquet"
            self.log.parquet_frame(typed=self.log_format == "typed-parquet").write_parquet(paths["log"])
        return paths

    @property
    def log_records(self) -> int | None:
        """The log's data records as written (Parquet rows are never ragged, so the same count holds)."""
        return self.log.records

    def defects(self, role: str) -> set[str]:
        """What is wrong with a whole file, beyond its rows: "replaced" (by raw bytes), "encoding" (not UTF-8
        text), "columns" (a required column missing from the header), "no rows". A file with none of them has
        its defects, if any, in its rows, and an error about it must name the row."""
        table = getattr(self, role)
        if table.raw is not None:
            return {"replaced"}
        found = set()
        if role != "log" or self.log_format == "csv":
            try:
                table.csv_bytes().decode("utf-8")
            except UnicodeDecodeError:
                found.add("encoding")
            if table.encoding == "utf-16":
                found.add("encoding")
        if any(column not in table.header for column in REQUIRED_COLUMNS[role]):
            found.add("columns")
        if not table.rows:
            found.add("no rows")
        return found

    def rename_customer(self, old: str, new: str) -> None:
        """Gives the customer `old` the id `new` in the log and the customers file."""
        for table in (self.log, self.customers):
            if table is not None and "customer_id" in table.header:
                column = table.header.index("customer_id")
                for row in table.rows:
                    if column < len(row) and row[column] == old:
                        row[column] = new

    def customer_ids(self) -> list[str]:
        """Every customer id written in the log or the customers file."""
        tables = [table for table in (self.log, self.customers) if table is not None and "customer_id" in table.header]
        columns = [(table, table.header.index("customer_id")) for table in tables]
        return [row[column] for table, column in columns for row in table.rows if column < len(row)]


def _catalog_table(products: list[dict[str, Any]]) -> Table:
    rows = [
        [
            product["product_id"],
            product["name"],
            product["category"],
            f"{product['price']:.2f}",
            str(product.get("tier", "")),
            product["margin"],
            str(product["replenishment_cycle_days"]),
            ";".join(product["cross_sell_products"]),
            product.get("upgrade_path", {}).get("tier_2", ""),
            ";".join(product["target_concerns"]),
        ]
        for product in products
    ]
    return Table(list(CATALOG_HEADER), rows)


@st.composite
def _log_table(draw: st.DrawFn, prices: dict[str, float], customer_ids: list[str]) -> Table:
    rows = []
    for _ in range(draw(st.integers(0, 20))):
        product_id = draw(st.sampled_from(sorted(prices)))
        quantity = draw(st.integers(1, 3))
        rows.append(
            [
                draw(st.sampled_from(customer_ids)),
                product_id,
                draw(dates()),
                str(quantity),
                f"{prices[product_id] * quantity:.2f}",
            ]
        )
    return Table(list(LOG_HEADER), rows)


@st.composite
def _customers_table(draw: st.DrawFn, customer_ids: list[str]) -> Table:
    rows = [
        [
            customer_id,
            f"Customer {customer_id}",
            draw(st.sampled_from(LOYALTY_TIERS)),
            f"{draw(cents(0, 500_000)):.2f}",
            f"{draw(st.integers(0, 100)) / 100:.2f}",
            draw(st.sampled_from(PRICE_SENSITIVITIES)),
            ";".join(draw(st.lists(st.sampled_from(CONCERNS), max_size=2, unique=True))),
        ]
        for customer_id in draw(st.lists(st.sampled_from(customer_ids), max_size=len(customer_ids), unique=True))
    ]
    return Table(list(CUSTOMERS_HEADER), rows)


RAW_TABLES = (b"", b"\n", b"customer_id\n", b"\xff\xfe\x00\x00", b"PAR1\x00\x00garbage")
"""Whole-file replacements: empty, a blank line, too few columns, UTF-32 bytes, a broken Parquet header."""


NUMBER_COLUMNS = {
    "log": ("amount", "quantity"),
    "catalog": ("price", "tier", "replenishment_cycle_days"),
    "customers": ("lifetime_value", "churn_risk"),
}
"""The numeric columns of each file, for the edits that put numbers that are not numbers in them."""


def _apply(table: Table, file: str, edit: tuple[Any, ...]) -> None:
    """Applies one hostile edit to a table (the `file` of a run) in place."""
    kind = edit[0]
    rows = table.rows
    row = rows[edit[2] % len(rows)] if rows else None
    if kind == "cell" and row:
        row[edit[3] % len(row)] = edit[4]
    elif kind == "number" and row:
        column = NUMBER_COLUMNS[file][edit[3] % len(NUMBER_COLUMNS[file])]
        if column in table.header and table.header.index(column) < len(row):
            row[table.header.index(column)] = edit[4]
    elif kind == "ragged_long" and row is not None:
        row.append("extra")
    elif kind == "ragged_short" and row:
        row.pop()
    elif kind == "duplicate" and row is not None:
        rows.insert(edit[2] % len(rows), list(row))
    elif kind == "drop_column" and table.header:
        column = edit[3] % len(table.header)
        table.header.pop(column)
        for each in rows:
            if column < len(each):
                each.pop(column)
    elif kind == "extra_column":
        table.header.append(edit[4] or "unexpected")
        for each in rows:
            each.append("1")
    elif kind == "header_only":
        rows.clear()
    elif kind == "encoding":
        table.encoding = edit[4]
    elif kind == "crlf":
        table.newline = "\r\n"
    elif kind == "raw":
        table.raw = edit[4]


def _edit_kinds() -> dict[str, st.SearchStrategy[tuple[Any, ...]]]:
    """Each kind of hostile edit, as (kind, file, row position, column position, ...) tuples."""
    files = st.sampled_from(("log", "catalog", "customers"))
    position, column = st.integers(0, 30), st.integers(0, 12)

    def simple(kind: str) -> st.SearchStrategy[tuple[Any, ...]]:
        return st.tuples(st.just(kind), files, position, column)

    return {
        "cell": st.tuples(st.just("cell"), files, position, column, st.sampled_from(HOSTILE_TEXTS)),
        "number": st.tuples(st.just("number"), files, position, column, st.sampled_from(NUMBER_TEXTS)),
        "ragged_long": simple("ragged_long"),
        "ragged_short": simple("ragged_short"),
        "duplicate": simple("duplicate"),
        "drop_column": simple("drop_column"),
        "header_only": simple("header_only"),
        "crlf": simple("crlf"),
        "extra_column": st.tuples(
            st.just("extra_column"), files, position, column, st.sampled_from(("unexpected", "", "amount "))
        ),
        "encoding": st.tuples(
            st.just("encoding"), files, position, column, st.sampled_from(("latin-1", "utf-8-sig", "utf-16"))
        ),
        "raw": st.tuples(st.just("raw"), files, position, column, st.sampled_from(RAW_TABLES)),
    }


LOADABLE_EDITS = ("cell", "number", "ragged_short", "duplicate", "crlf", "extra_column")
"""The edits after which the files often still load (bad rows are rejected), so a run goes on to analyse them."""


@st.composite
def log_files(
    draw: st.DrawFn, min_edits: int = 0, max_edits: int = 3, kinds: tuple[str, ...] | None = None
) -> LogFiles:
    """A well-formed log, catalog and (sometimes) customers file with `min_edits` to `max_edits` hostile edits
    of the given kinds (any kind by default)."""
    products = draw(catalogs())
    prices = {product["product_id"]: product["price"] for product in products}
    customer_ids = [f"C{number}" for number in range(1, draw(st.integers(1, 6)) + 1)]
    files = LogFiles(
        log=draw(_log_table(prices, customer_ids)),
        catalog=_catalog_table(products),
        customers=draw(_customers_table(customer_ids)) if draw(st.booleans()) else None,
        log_format=draw(st.sampled_from(("csv", "parquet", "typed-parquet"))),
    )
    strategies = _edit_kinds()
    edit_strategy = st.one_of([strategies[kind] for kind in kinds or strategies])
    for edit in draw(st.lists(edit_strategy, min_size=min_edits, max_size=max_edits)):
        table = getattr(files, edit[1])
        if table is not None:
            _apply(table, edit[1], edit)
            files.edits.append(edit)
    return files


def log_file_sources() -> st.SearchStrategy[LogFiles]:
    """A third with any hostile edits, a third with edits after which the files often still load (bad rows
    are rejected, so a run goes on to analyse the rest), a third with one number that is not a number."""
    return st.one_of(
        log_files(),
        log_files(min_edits=1, kinds=LOADABLE_EDITS),
        log_files(min_edits=1, max_edits=1, kinds=("number",)),
    )
