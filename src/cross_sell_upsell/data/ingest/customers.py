"""The retailer's customers file: the attributes it gives, typed and checked; whatever it leaves out is derived
from purchases later (`derivations.derive_customers`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from cross_sell_upsell.configuration import CUSTOMER_FIELDS, LOYALTY_TIERS, PRICE_SENSITIVITIES, IngestSettings
from cross_sell_upsell.data.dataset import CUSTOMER_SCHEMA
from cross_sell_upsell.data.ingest.tables import (
    as_list,
    as_number,
    as_text,
    field_columns,
    field_sources,
    file_kind,
    is_blank,
    read_table,
)
from cross_sell_upsell.data.ingest.values import AMBIGUOUS_MONEY, customer_key, with_money
from cross_sell_upsell.data.records import MAX_MONEY, MAX_TIER
from cross_sell_upsell.errors import DataValidationError


def load_customer_attributes(path: str | Path, settings: IngestSettings) -> pl.DataFrame:
    """Given customer attributes from a CSV, JSON or Parquet file: `customer_id` and whichever other
    CUSTOMER_SCHEMA columns the file has, typed. List columns in CSV are separated by `list_separator`.
    Raises DataValidationError naming the record and field of the first bad value."""
    path = Path(path)
    frame = read_table(path, file_kind(path, ("csv", "json", "parquet")), settings.encoding, settings.delimiter)
    sources = field_sources(path, frame.columns, CUSTOMER_FIELDS, settings.customer_columns, ("customer_id",))
    raw = frame.select(field_columns(sources)).with_row_index("row", 1)
    typed: dict[str, pl.Expr] = {}
    for field in sources:
        dtype = raw.schema[field]
        target = CUSTOMER_SCHEMA[field]
        if field == "customer_id":
            typed[field] = customer_key(as_text(pl.col(field)))
        elif field == "lifetime_value":
            money = {"value": "_lifetime_value", "ambiguous": "_ambiguous_lifetime_value"}
            raw = with_money(raw, field, dtype, settings.decimal_comma, **money)
        elif field == "skin_concerns":
            typed[field] = as_list(pl.col(field), dtype, settings.list_separator)
        elif target == pl.String:
            typed[field] = as_text(pl.col(field))
            if field in ("loyalty_tier", "price_sensitivity"):
                typed[field] = typed[field].str.to_lowercase()
            elif field == "segment":  # a blank cell: no segment given
                typed[field] = pl.when(typed[field] != "").then(typed[field])
        else:
            typed[field] = as_number(pl.col(field), dtype)
    checked = raw.with_columns(**{f"_{field}": expr for field, expr in typed.items()})
    _raise_first_violation(path, checked, _customer_checks(sources))
    return checked.select(pl.col(f"_{field}").cast(CUSTOMER_SCHEMA[field]).alias(field) for field in sources)


def _customer_checks(fields: Iterable[str]) -> list[tuple[str, pl.Expr, str]]:
    """(field, failing rows, problem) for every check of the given fields, in the order they are reported."""
    identifier = pl.col("_customer_id")
    checks = [
        ("customer_id", is_blank(identifier), "the customer id is empty"),
        ("customer_id", identifier.is_duplicated() & ~identifier.is_first_distinct(), "duplicate id"),
    ]
    numeric = {
        "lifetime_value": (~pl.col("_lifetime_value").is_between(0, MAX_MONEY), f"must be from 0 to {MAX_MONEY:,.0f}"),
        "churn_risk": (~pl.col("_churn_risk").is_between(0, 1), "must be a fraction from 0 to 1"),
        "tier_preference": (
            ~pl.col("_tier_preference").is_between(1, MAX_TIER)
            | (pl.col("_tier_preference") != pl.col("_tier_preference").floor()),
            f"must be a whole number from 1 to {MAX_TIER}",
        ),
    }
    choices = {"loyalty_tier": LOYALTY_TIERS, "price_sensitivity": PRICE_SENSITIVITIES}
    for field in fields:
        value = pl.col(f"_{field}")
        if field in numeric:
            out_of_range, problem = numeric[field]
            # Text that is not a number, NaN and infinities: no bound check is safe on them.
            if field == "lifetime_value":
                checks.append((field, pl.col("_ambiguous_lifetime_value"), AMBIGUOUS_MONEY))
            checks.append(
                (field, pl.col(field).is_not_null() & ~value.is_finite().fill_null(False), "is not a finite number")
            )
            checks.append((field, out_of_range.fill_null(False), problem))
        elif field in choices:
            allowed = choices[field]
            checks.append((field, value.is_not_null() & ~value.is_in(allowed), f"must be one of {', '.join(allowed)}"))
    return checks


def _raise_first_violation(path: Path, frame: pl.DataFrame, checks: list[tuple[str, pl.Expr, str]]) -> None:
    """Raises for the earliest row failing a check, naming the customer (or the row number) and the field."""
    flags = frame.select(
        "row", "_customer_id", *(check.alias(f"_check{index}") for index, (_, check, _) in enumerate(checks))
    )
    failing = flags.filter(pl.any_horizontal(pl.exclude("row", "_customer_id")))
    if failing.is_empty():
        return
    first = failing.row(0, named=True)
    field, _, problem = next(check for index, check in enumerate(checks) if first[f"_check{index}"])
    record = first["_customer_id"] or f"row {first['row']}"
    raise DataValidationError(str(path), record, field, problem)
