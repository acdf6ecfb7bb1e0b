"""How shop exports write their values, read as vectorised expressions: the CSV delimiter, money with currency
symbols or codes and either decimal separator, and identifiers that differ only in case or surrounding spaces.

Every rule here is documented in docs/ingest.md ("Shop exports"); none guesses where a value could be read two
ways: such a value is refused, with its reason.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from cross_sell_upsell.errors import DataValidationError

DELIMITERS = (",", ";", "\t", "|")
"""The delimiters a CSV file's header is tried with when none is configured."""

_HEADER_CHARS = 1 << 16
"""The most of a header line that is read to sniff the delimiter."""


def sniff_delimiter(path: Path, source: Path) -> str:
    """The delimiter of the UTF-8 CSV file `source` (read for `path`): whichever of DELIMITERS splits its header
    line into the most fields (a comma when none splits it). A tie between two of them is an error asking for
    the delimiter, never a guess."""
    with source.open(newline="", encoding="utf-8-sig") as stream:
        header = stream.readline(_HEADER_CHARS)
    fields = {delimiter: len(next(csv.reader([header], delimiter=delimiter), [])) for delimiter in DELIMITERS}
    most = max(fields.values())
    if most <= 1:
        return ","
    best = [delimiter for delimiter, count in fields.items() if count == most]
    if len(best) > 1:
        names = " and ".join(repr(delimiter) for delimiter in best)
        problem = f"the header splits into {most} fields on {names} alike; give --delimiter (ingest.delimiter)"
        raise DataValidationError(str(path), "-", "-", problem)
    return best[0]


_CURRENCY = r"(?:[A-Z]{0,3}\p{Sc}|[A-Z]{3})"
"""A currency symbol, possibly after up to three capitals (`$`, `€`, `US$`, `R$`), or a three-letter code in capitals
(`EUR`, `CHF`): lower-case letters are no currency, so `abc12` is not read as 12."""

_MONEY = rf"^([-+]?)\s*(?:{_CURRENCY}\s*)?([-+]?)\s*([0-9](?:[0-9.,'\s]*[0-9])?)\s*(?:{_CURRENCY})?$"
"""Sign, optional currency, sign, the number's digits and separators, optional currency."""

_GROUPED = {
    ".": r"^(?:[0-9]+|[1-9][0-9]{0,2}(?:[,'\s][0-9]{3})+)(?:\.[0-9]+)?$",
    ",": r"^(?:[0-9]+|[1-9][0-9]{0,2}(?:[.'\s][0-9]{3})+)(?:,[0-9]+)?$",
}
"""Per decimal separator: digits, grouped in threes by any other separator (a comma or dot, a space, a
non-breaking space, an apostrophe; the first group does not start with 0) or not at all, then the decimal part."""


AMBIGUOUS_MONEY = (
    "reads as two numbers (1,234: thousands or decimals) or only against the decimal setting; "
    "give --decimal-comma or --no-decimal-comma (ingest.decimal_comma)"
)
"""What is wrong with a value `money` flags as ambiguous."""


def money(expr: pl.Expr, dtype: pl.DataType, decimal_comma: bool | None) -> tuple[pl.Expr, pl.Expr]:
    """(value, ambiguous): a Float64 amount or price, null when it is not one, and whether it is text that reads
    as two different numbers (`1,234`: 1234 or 1.234) that nothing settles, or that reads only against the
    setting (`14.99` with `decimal_comma`).

    Text may carry a currency symbol or code before or after the number (`$14.99`, `EUR 39.98`, `14,99 €`) and
    thousands separators. `decimal_comma` True: the comma is the decimal separator; False: the dot is; None:
    a value with one reading takes it (`14,99`, `1.234,50`, `£1,234.50`), and a value with two takes the
    column's convention, the one its values with a single reading all share; without one it is ambiguous.
    Text the rules do not cover (`1e3`, `NaN`) is cast as before, so non-finite values stay refusable."""
    if dtype != pl.String:
        return expr.cast(pl.Float64, strict=False), pl.lit(False)
    text = expr.cast(pl.String).str.strip_chars()
    parts = text.str.extract_groups(_MONEY)
    sign, number = pl.concat_str(parts.struct.field("1"), parts.struct.field("2")), parts.struct.field("3")
    point = _grouped_value(sign, number, ".")
    comma = _grouped_value(sign, number, ",")
    plain = text.cast(pl.Float64, strict=False)
    if decimal_comma is not None:
        chosen, other = (comma, point) if decimal_comma else (point, comma)
        value = pl.when(number.is_null()).then(plain).otherwise(chosen)
        return value, number.is_not_null() & chosen.is_null() & other.is_not_null()
    two_readings = point.is_not_null() & comma.is_not_null() & (point != comma)
    point_only, comma_only = point.is_not_null() & comma.is_null(), comma.is_not_null() & point.is_null()
    resolved = (
        pl.when(~two_readings)
        .then(pl.coalesce(point, comma))
        .when(point_only.any() & ~comma_only.any())
        .then(point)
        .when(comma_only.any() & ~point_only.any())
        .then(comma)
    )
    value = pl.when(number.is_null()).then(plain).otherwise(resolved)
    return value, (number.is_not_null() & value.is_null() & two_readings)


def _grouped_value(sign: pl.Expr, number: pl.Expr, decimal: str) -> pl.Expr:
    """The number read with `decimal` as its decimal separator; null where its separators do not fit that."""
    groupers = r"[,'\s]" if decimal == "." else r"[.'\s]"
    digits = number.str.replace_all(groupers, "").str.replace(decimal, ".", literal=True)
    return pl.when(number.str.contains(_GROUPED[decimal])).then(pl.concat_str(sign, digits).cast(pl.Float64))


def product_key(expr: pl.Expr) -> pl.Expr:
    """The key a product id is matched by: without surrounding white space, in upper case (`p002 ` = `P002`)."""
    return expr.cast(pl.String).str.strip_chars().str.to_uppercase()


def product_id_key(product_id: str) -> str:
    """`product_key` of one id, for the catalog's own references (cross-sells, upgrades)."""
    return product_id.strip().upper()


def catalog_ids(expr: pl.Expr, product_ids: pl.Series) -> pl.Expr:
    """The catalog's own id for each product id matched by `product_key`; null for a product not in the catalog."""
    keys = product_ids.to_frame("id").select(product_key(pl.col("id"))).to_series()
    return product_key(expr).replace_strict(keys, product_ids, default=None, return_dtype=pl.String)


def customer_key(expr: pl.Expr) -> pl.Expr:
    """A customer id as the data means it: an email-like id (one with an `@`) in lower case, since
    `Ben@Example.com` and `ben@example.com` are one address; any other id as written."""
    return pl.when(expr.str.contains("@", literal=True)).then(expr.str.to_lowercase()).otherwise(expr)


def category_key(category: str) -> str:
    """A category as the routine matches it: without surrounding white space, in lower case (`Toner` = `toner`)."""
    return category.strip().lower()
