"""How shop exports write their values, read as vectorised expressions: the CSV delimiter, money with currency
symbols or codes and either decimal separator, and identifiers that differ only in case or surrounding spaces.

Every rule here is documented in docs/ingest.md ("Shop exports"); none guesses where a value could be read two
ways: such a value is refused, with its reason.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TypeVar

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


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def with_money(
    frame: Frame, source: str, dtype: pl.DataType, decimal_comma: bool | None, *, value: str, ambiguous: str
) -> Frame:
    """`frame` with the amounts or prices of column `source` (of type `dtype`) read as Float64 `value`, null
    where they are no number, and Boolean `ambiguous`: text that reads as two different numbers (`1,234`: 1234
    or 1.234) that nothing settles, or that reads only against the setting (`14.99` with `decimal_comma`).

    Text may carry a currency symbol or code before or after the number (`$14.99`, `EUR 39.98`, `14,99 €`) and
    thousands separators. `decimal_comma` True: the comma is the decimal separator; False: the dot is; None:
    a value with one reading takes it (`14,99`, `1.234,50`, `£1,234.50`), and a value with two takes the
    column's convention, the one its values with a single reading all share; without one it is ambiguous.
    Text the rules do not cover (`1e3`, `NaN`) is cast as before, so non-finite values stay refusable.

    Each step is a column of its own, so no step is computed twice; and a plain number (`14.99`, most of a
    log) skips the pattern matching: only text that is no plain number, or that may mean another one (a dot
    before three digits), or any separator under `decimal_comma`, is matched."""
    if dtype != pl.String:
        return frame.with_columns(
            pl.col(source).cast(pl.Float64, strict=False).alias(value), pl.lit(False).alias(ambiguous)
        )
    staged = _readings(frame, source, decimal_comma)
    number, point, comma = pl.col("__number"), pl.col("__point"), pl.col("__comma")
    plain = pl.col("__plain")
    if decimal_comma is not None:
        chosen, other = (comma, point) if decimal_comma else (point, comma)
        flagged = number.is_not_null() & chosen.is_null() & other.is_not_null()
        resolved = chosen
    else:
        two_readings = point.is_not_null() & comma.is_not_null() & (point != comma)
        point_only = (point.is_not_null() & comma.is_null()).any() | pl.col("__point_plain").any()
        comma_only = (comma.is_not_null() & point.is_null()).any()
        resolved = (
            pl.when(~two_readings)
            .then(pl.coalesce(point, comma))
            .when(point_only & ~comma_only)
            .then(point)
            .when(comma_only & ~point_only)
            .then(comma)
        )
        flagged = two_readings & ~(point_only ^ comma_only)
    return staged.with_columns(
        pl.when(number.is_null()).then(plain).otherwise(resolved).alias(value),
        flagged.fill_null(False).alias(ambiguous),
    ).drop("__text", "__plain", "__matched", "__parts", "__point_plain", "__sign", "__number", "__point", "__comma")


def _readings(frame: Frame, source: str, decimal_comma: bool | None) -> Frame:
    """`frame` with the staged columns of `with_money`: the text, its plain reading, whether it is matched, and
    its sign, number and readings with a decimal point and with a decimal comma (null where not matched)."""
    text, plain = pl.col("__text"), pl.col("__plain")
    if decimal_comma:
        others = text.str.contains(r"[.,]")
    else:
        others = pl.lit(False) if decimal_comma is False else text.str.slice(-4, 1) == "."
    return (
        frame.with_columns(__text=pl.col(source).cast(pl.String).str.strip_chars())
        .with_columns(__plain=text.cast(pl.Float64, strict=False))
        .with_columns(__matched=plain.is_null() | others)
        .with_columns(
            __parts=pl.when("__matched").then(text).str.extract_groups(_MONEY),
            __point_plain=~pl.col("__matched") & text.str.contains(".", literal=True),
        )
        .with_columns(
            __sign=pl.concat_str(pl.col("__parts").struct.field("1"), pl.col("__parts").struct.field("2")),
            __number=pl.col("__parts").struct.field("3"),
        )
        .with_columns(__point=_grouped_value("."), __comma=_grouped_value(","))
    )


def _grouped_value(decimal: str) -> pl.Expr:
    """The staged number read with `decimal` as its decimal separator; null where its separators do not fit."""
    number = pl.col("__number")
    groupers = r"[,'\s]" if decimal == "." else r"[.'\s]"
    digits = number.str.replace_all(groupers, "").str.replace(decimal, ".", literal=True)
    return pl.when(number.str.contains(_GROUPED[decimal])).then(pl.concat_str("__sign", digits).cast(pl.Float64))


def product_key(expr: pl.Expr) -> pl.Expr:
    """`keys.product_id_key` of every id: without surrounding white space, in upper case."""
    return expr.cast(pl.String).str.strip_chars().str.to_uppercase()


def catalog_ids(expr: pl.Expr, product_ids: pl.Series) -> pl.Expr:
    """The catalog's own id for each product id matched by `product_key`; null for a product not in the catalog."""
    keys = product_ids.to_frame("id").select(product_key(pl.col("id"))).to_series()
    return product_key(expr).replace_strict(keys, product_ids, default=None, return_dtype=pl.String)


def customer_key(expr: pl.Expr) -> pl.Expr:
    """`keys.customer_id_key` of every id: email-like ids in lower case."""
    return pl.when(expr.str.contains("@", literal=True)).then(expr.str.to_lowercase()).otherwise(expr)
