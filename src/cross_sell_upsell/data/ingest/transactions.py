"""The transaction log: one lazy scan, typed and checked with expressions, never a Python loop per row.

A log can hold tens of millions of rows. Bad rows are counted by reason and kept for a rejected-rows file:
nothing is dropped silently.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cross_sell_upsell.configuration import OPTIONAL_TRANSACTION_FIELDS, TRANSACTION_FIELDS, IngestSettings
from cross_sell_upsell.data.derivations import PURCHASE_SCHEMA
from cross_sell_upsell.data.encodings import utf8_file
from cross_sell_upsell.data.ingest.tables import (
    as_date,
    as_number,
    as_text,
    database_table,
    extra_fields_error,
    field_columns,
    field_sources,
    file_kind,
    find_extra_fields,
    has_extra_fields,
    is_blank,
    read_database_table,
    reported_as_unreadable,
    scan_table,
)
from cross_sell_upsell.data.ingest.values import catalog_ids, customer_key, sniff_delimiter, with_money
from cross_sell_upsell.data.records import MAX_MONEY
from cross_sell_upsell.errors import DataValidationError

REJECT_REASONS: dict[str, str] = {
    "extra_fields": "the row has more fields than the header",
    "missing_customer_id": "the customer id is empty",
    "missing_product_id": "the product id is empty",
    "unparseable_date": "the date is empty or not a date",
    "ambiguous_amount": "the amount reads as two numbers (1,234) or only against --decimal-comma's setting",
    "invalid_amount": f"the amount is empty, not a finite number or above {MAX_MONEY:,.0f}",
    "non_positive_amount": "the amount is zero or negative",
    "invalid_quantity": "the quantity is not a positive whole number",
    "unknown_product": "the product is not in the catalog",
    "duplicate": "the row repeats an earlier row exactly",
}
"""Why a transaction row is rejected, in the order the checks apply: a row gets the first reason that fits."""


_CODES = {reason: code for code, reason in enumerate(REJECT_REASONS, start=1)}
"""Each reason's code in the checked frame; 0 is a valid row."""


_REASON_FIELDS = {
    "missing_customer_id": "customer_id",
    "missing_product_id": "product_id",
    "unparseable_date": "date",
    "ambiguous_amount": "amount",
    "invalid_amount": "amount",
    "non_positive_amount": "amount",
    "invalid_quantity": "quantity",
    "unknown_product": "product_id",
}


REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "row": pl.UInt32(),
    "reason": pl.String(),
    **{field: pl.String() for field in TRANSACTION_FIELDS},
}
"""A rejected row: its file, its 1-based data row number (the header line is not counted), the reason and
the row's values as they were in the file."""


def read_transactions(
    path: str | Path, product_ids: pl.Series, settings: IngestSettings, *, strict: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """The valid purchases (PURCHASE_SCHEMA and `basket_id`, null when the log has none), the rejected rows
    (REJECTED_SCHEMA) and the number of rows read (valid + rejected) of a CSV or Parquet log; a CSV log that is
    not UTF-8 is read in the fallback `settings.encoding`.

    One lazy scan, typed and checked with expressions. A row gets the first reason of REJECT_REASONS that
    fits it. In strict mode the first bad row raises DataValidationError instead."""
    table = database_table(path)
    path = table or Path(path)  # messages name the table (DatabaseTable's str) or the file
    kind = "table" if table else file_kind(path, ("csv", "parquet"))
    if table:
        opened = nullcontext(read_database_table(table))
    else:
        opened = utf8_file(path, settings.encoding) if kind == "csv" else nullcontext(path)
    with opened as source:
        delimiter = (settings.delimiter or sniff_delimiter(path, source)) if kind == "csv" else ","
        with reported_as_unreadable(path):
            schema = scan_table(source, kind, delimiter=delimiter).collect_schema()
        required = [field for field in TRANSACTION_FIELDS if field not in OPTIONAL_TRANSACTION_FIELDS]
        sources = field_sources(path, schema.names(), TRANSACTION_FIELDS, settings.transaction_columns, required)
        dtypes = {field: schema[source] for field, source in sources.items()}
        with reported_as_unreadable(path):
            read = _LogRead(source, kind, delimiter, sources, dtypes, settings)
            checked, scan = _checked_log(path, read, product_ids)
            checked = _with_products_matched(checked, product_ids)
            codes = _with_duplicates(checked, scan, sources)
        purchases = checked.select(*PURCHASE_SCHEMA, "basket_id")  # lets the row hashes go before the sort below
        del checked
        bad = codes.to_frame("reason_code").with_row_index("row", offset=1).filter(pl.col("reason_code") > 0)
        if bad.is_empty():
            return _grouped_by_customer(purchases), pl.DataFrame(schema=REJECTED_SCHEMA), codes.len()
        rejected = _rejected_rows(path, scan, sources, bad)
    if strict:
        raise _first_rejection(path, rejected, sources)
    return _grouped_by_customer(purchases.filter(codes == 0)), rejected, codes.len()


@dataclass(frozen=True)
class _LogRead:
    """How a log file is read: the file polars scans, its columns and the settings that type their values."""

    source: Path | pl.DataFrame
    """The UTF-8 file that is scanned (the log itself, or its UTF-8 copy), or a database table's rows."""
    kind: str
    """"csv", "parquet" or "table"."""
    delimiter: str
    """The CSV delimiter (configured or sniffed)."""
    sources: dict[str, str]
    """field -> source column."""
    dtypes: dict[str, pl.DataType]
    """field -> the source column's type."""
    settings: IngestSettings
    """The date format and decimal separator among them."""

    def scan(self, truncate_ragged_lines: bool = False) -> pl.LazyFrame:
        return scan_table(self.source, self.kind, delimiter=self.delimiter, truncate_ragged_lines=truncate_ragged_lines)


def _checked_log(path: Path, read: _LogRead, product_ids: pl.Series) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """The checked rows of the log (`_checked`) and the scan they came from.

    polars refuses a whole CSV file when a row has more fields than the header, without saying which: then
    Python's csv reader finds those rows (one slow pass, on that file only) and the file is scanned again with
    them cut to the header's fields, to be rejected as `extra_fields`."""
    scan = read.scan()
    try:
        return _checked(scan, read, product_ids).collect(), scan
    except pl.exceptions.ComputeError as exc:
        if not has_extra_fields(exc):
            raise
    extra = find_extra_fields(path, read.source, read.delimiter)
    scan = read.scan(truncate_ragged_lines=True)
    extra_rows = pl.Series(extra.rows, dtype=pl.UInt32)
    checked = _checked(scan, read, product_ids, extra_rows).collect()
    if not extra.rows or checked.height != extra.data_rows:  # the two readers disagree: name the row, stop
        raise extra_fields_error(path, extra)
    return checked, scan


def _checked(
    scan: pl.LazyFrame, read: _LogRead, product_ids: pl.Series, extra_rows: pl.Series | None = None
) -> pl.LazyFrame:
    """Per log row, in file order: its reason code (0 for a valid row), a hash of its values as read, and the
    typed purchase columns (the quantity only on rows that are valid or name an unknown product; the customer
    id by `customer_key`). `extra_rows` are the 1-based numbers of rows with more fields than the
    header."""
    sources, dtypes = read.sources, read.dtypes
    # Hand-edited CSV picks up stray spaces; typed Parquet ids are taken as stored, which saves a pass.
    identifier = as_text if read.kind == "csv" else lambda expr: expr.cast(pl.String)
    quantity = as_number(pl.col("quantity"), dtypes["quantity"]) if "quantity" in sources else pl.lit(1.0)
    hashed = scan.select(field_columns(sources)).with_columns(row_hash=pl.struct(list(sources)).hash())
    money = {"value": "amount", "ambiguous": "ambiguous_amount"}
    return (
        with_money(hashed, "amount", dtypes["amount"], read.settings.decimal_comma, **money)
        .with_columns(
            customer_key(identifier(pl.col("customer_id"))),
            identifier(pl.col("product_id")),
            purchase_date=as_date(pl.col("date"), dtypes["date"], read.settings.date_format),
            basket_id=identifier(pl.col("basket_id")) if "basket_id" in sources else pl.lit(None, dtype=pl.String),
        )
        .with_columns(reason_code=_reason_code(quantity, product_ids, extra_rows))
        .select(
            "reason_code",
            "row_hash",
            "customer_id",
            "product_id",
            "purchase_date",
            # unknown_product is the last check: such a row's quantity is valid, for `_with_products_matched`.
            quantity=pl.when(pl.col("reason_code").is_in([0, _CODES["unknown_product"]])).then(quantity).cast(pl.Int32),
            amount="amount",
            basket_id="basket_id",
        )
    )


def _with_products_matched(checked: pl.DataFrame, product_ids: pl.Series) -> pl.DataFrame:
    """The checked rows with products the catalog writes in another case or with spaces (`p002 ` for `P002`)
    named as the catalog does and no longer rejected as `unknown_product`.

    The scan matches ids exactly, which is fast; only the distinct ids it did not match are keyed here, so a log
    whose ids match exactly costs nothing more."""
    unknown = pl.col("reason_code") == _CODES["unknown_product"]
    missed = checked.lazy().filter(unknown).select(pl.col("product_id").unique()).collect().to_series()
    if missed.is_empty():
        return checked
    matched = missed.to_frame().select(
        missed=pl.col("product_id"), catalog=catalog_ids(pl.col("product_id"), product_ids)
    )
    matched = matched.filter(pl.col("catalog").is_not_null())
    if matched.is_empty():
        return checked
    catalog = pl.col("product_id").replace_strict(matched["missed"], matched["catalog"], default=None)
    fixed = unknown & pl.col("product_id").is_in(matched["missed"].implode())
    return checked.with_columns(
        product_id=pl.when(fixed).then(catalog).otherwise("product_id"),
        reason_code=pl.when(fixed).then(pl.lit(0, dtype=pl.UInt8)).otherwise("reason_code"),
    )


def _reason_code(quantity: pl.Expr, product_ids: pl.Series, extra_rows: pl.Series | None) -> pl.Expr:
    """The code of the first reason of REJECT_REASONS that fits a row, 0 when none does (a `duplicate` is
    found afterwards, by `_with_duplicates`)."""
    row = pl.int_range(1, pl.len() + 1, dtype=pl.UInt32)
    amount = pl.col("amount")
    checks = {
        "extra_fields": row.is_in(extra_rows.implode()) if extra_rows is not None else pl.lit(False),
        "missing_customer_id": is_blank(pl.col("customer_id")),
        "missing_product_id": is_blank(pl.col("product_id")),
        "unparseable_date": pl.col("purchase_date").is_null(),
        "ambiguous_amount": pl.col("ambiguous_amount"),
        "invalid_amount": amount.is_null() | amount.is_nan() | amount.is_infinite() | (amount > MAX_MONEY),
        "non_positive_amount": amount <= 0,
        "invalid_quantity": ~(quantity.is_between(1, 2**31 - 1) & (quantity == quantity.floor())).fill_null(False),
        "unknown_product": ~pl.col("product_id").is_in(product_ids.implode()),
    }
    code = pl.lit(0, dtype=pl.UInt8)
    for reason, check in reversed(checks.items()):
        code = pl.when(check).then(pl.lit(_CODES[reason], dtype=pl.UInt8)).otherwise(code)
    return code


def _first_rejection(path: Path, rejected: pl.DataFrame, sources: dict[str, str]) -> DataValidationError:
    """The strict-mode error: the first rejected row, its reason and the source column at fault."""
    first = rejected.row(0, named=True)
    source = sources.get(_REASON_FIELDS.get(first["reason"], ""), "-")
    record = f"row {first['row']} (customer {first['customer_id']}, product {first['product_id']})"
    return DataValidationError(str(path), record, source, REJECT_REASONS[first["reason"]])


def _grouped_by_customer(purchases: pl.DataFrame) -> pl.DataFrame:
    """The purchases with each customer's rows together (ordered by a hash of the customer id, file order
    within a customer). Sorting a 64-bit hash is cheap, and later per-customer work (the holdings, the repeat
    intervals) then reads memory in order: the holdings of 20M rows take 3.5 s instead of 5.6 s."""
    return purchases.lazy().sort(pl.col("customer_id").hash(), maintain_order=True).collect()


def _with_duplicates(checked: pl.DataFrame, scan: pl.LazyFrame, sources: dict[str, str]) -> pl.Series:
    """The reason codes with `duplicate` set on otherwise valid rows that repeat an earlier valid row exactly.

    Hashing every row and sorting the hashes finds the few candidates cheaply; only valid rows sharing a hash
    are compared value by value (read again from the file), so a hash collision never rejects a row. (Equal
    values have equal reasons, but for `extra_fields`: a row cut to the header's fields is no original.)"""
    hashes = checked.get_column("row_hash").sort()
    shared = hashes.filter(hashes == hashes.shift(1)).unique()
    codes = checked.get_column("reason_code")
    if shared.is_empty():
        return codes
    candidates = checked.select(
        row=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32),
        shared=pl.col("row_hash").is_in(shared.implode()) & (pl.col("reason_code") == 0),
    ).filter("shared")
    repeats = (
        scan.with_row_index("row", offset=1)
        .join(candidates.lazy().select("row"), on="row", how="inner")
        .sort("row")
        .filter(~pl.struct(*sources.values()).is_first_distinct())
        .select("row")
        .collect()
    )
    is_repeat = pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).is_in(repeats.get_column("row").implode())
    return checked.select(
        pl.when(is_repeat & (pl.col("reason_code") == 0))
        .then(pl.lit(_CODES["duplicate"], pl.UInt8))
        .otherwise("reason_code")
    ).to_series()


def _rejected_rows(path: Path, scan: pl.LazyFrame, sources: dict[str, str], bad: pl.DataFrame) -> pl.DataFrame:
    """The bad rows' values as they were in the file, read again by row number (there are few of them)."""
    return (
        scan.with_row_index("row", offset=1)
        .join(bad.lazy(), on="row", how="inner")
        .select(
            source_file=pl.lit(str(path)),
            row="row",
            reason=pl.col("reason_code").replace_strict(
                {code: reason for reason, code in _CODES.items()}, return_dtype=pl.String
            ),
            **{
                field: pl.col(sources[field]).cast(pl.String) if field in sources else pl.lit(None, dtype=pl.String)
                for field in TRANSACTION_FIELDS
            },
        )
        .sort("row")
        .collect()
    )
