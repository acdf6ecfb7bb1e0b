"""A retailer's campaigns: one row per campaign and covered item or target, from CSV, JSON or Parquet.

A campaign covers the products and categories its rows name and targets the customers and segments its rows
name (everyone when none does). Bad rows are counted by reason, like the log's, and left out; under `--strict`
the first one is a one-line error. A campaign not running on the as-of date is counted as `inactive`, never an
error: a file of the year's campaigns is normal input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from cross_sell_upsell.configuration.campaigns import CAMPAIGN_FIELDS, REQUIRED_CAMPAIGN_FIELDS, CampaignSettings
from cross_sell_upsell.data.ingest.guards import reasons_text
from cross_sell_upsell.data.ingest.tables import (
    as_date,
    as_number,
    as_text,
    database_table,
    field_columns,
    field_sources,
    file_kind,
    is_blank,
    read_database_table,
    read_table,
)
from cross_sell_upsell.data.ingest.values import catalog_ids, customer_key
from cross_sell_upsell.errors import DataValidationError

CAMPAIGN_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "name": pl.String(),
    "start_date": pl.Date(),
    "end_date": pl.Date(),
    "product_id": pl.String(),
    "category": pl.String(),
    "customer_id": pl.String(),
    "segment": pl.String(),
    "discount": pl.Float64(),
    "boost": pl.Float64(),
}
"""A valid campaign row: product ids and categories spelled as the catalog spells them, customer ids as the
data keys them (`keys.customer_id_key`); `discount` null where the row gives none; `name` the id when none."""


CAMPAIGN_REJECT_REASONS: dict[str, tuple[str, str]] = {
    "missing_campaign_id": ("campaign_id", "the campaign id is empty"),
    "invalid_date": ("start_date", "a start or end date is empty or not a date"),
    "end_before_start": ("end_date", "the campaign ends before it starts"),
    "no_item_or_target": ("product_id", "the row names no product, category, customer or segment"),
    "unknown_product": ("product_id", "the product is not in the catalog"),
    "unknown_category": ("category", "the category is not in the catalog"),
    "invalid_boost": ("boost", "the boost is not a number above 0"),
    "invalid_discount": ("discount", "the discount is not a fraction from 0 up to (not including) 1"),
    "inactive": ("start_date", "the campaign does not run on the as-of date"),
}
"""Why a campaign row is left out, in the order the checks apply (a row gets the first that fits), with the
field a --strict error names. Every reason but `inactive` is an error under --strict."""


@dataclass(frozen=True)
class Campaigns:
    """The campaigns a run uses and what was left out of its file."""

    rows: pl.DataFrame
    """The valid rows of campaigns running on the as-of date (`CAMPAIGN_SCHEMA`)."""
    rejected: Mapping[str, int]
    """Rows left out per reason of CAMPAIGN_REJECT_REASONS, every reason in order (zeros included)."""
    source: str
    """The file (or data set) the campaigns came from."""

    @property
    def rows_read(self) -> int:
        """Rows of the file: used or left out."""
        return self.rows.height + sum(self.rejected.values())

    def summary(self) -> dict[str, object]:
        """{"source", "rows_read", "rows_used", "rejected": {reason: count}} for reports and notes."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_used": self.rows.height,
            "rejected": dict(self.rejected),
        }


def no_campaigns() -> Campaigns:
    """No campaigns at all (the run was given none)."""
    return Campaigns(pl.DataFrame(schema=CAMPAIGN_SCHEMA), dict.fromkeys(CAMPAIGN_REJECT_REASONS, 0), "")


def load_campaigns(
    path: str | Path,
    products: pl.DataFrame,
    as_of: date,
    settings: CampaignSettings | None = None,
    *,
    strict: bool = False,
    encoding: str | None = None,
    through: date | None = None,
) -> Campaigns:
    """The campaigns of a CSV, JSON or Parquet file, or of a database table (`tables.database_table`), that run on `as_of` (or, with `through`, on some day from
    `as_of` to `through`: a backtest's horizon), checked against the catalog `products` (product ids and
    categories matched in any case). Raises DataValidationError for a file that cannot be read or lacks a
    required column and, with `strict`, for the first bad row (not for an inactive one)."""
    settings = settings or CampaignSettings()
    table = database_table(path)
    path = table or Path(path)  # messages name the table (DatabaseTable's str) or the file
    frame = (
        read_database_table(table) if table else read_table(path, file_kind(path, ("csv", "json", "parquet")), encoding)
    )
    sources = field_sources(path, frame.columns, CAMPAIGN_FIELDS, settings.columns, REQUIRED_CAMPAIGN_FIELDS)
    typed = typed_campaigns(frame.select(field_columns(sources)), products, settings.default_boost)
    checked = typed.with_row_index("row", offset=1).with_columns(reason=rejection(as_of, through))
    bad = checked.filter(pl.col("reason").is_not_null())
    if strict:
        errors = bad.filter(pl.col("reason") != "inactive")
        if errors.height:
            raise _row_error(path, errors.row(0, named=True))
    counts = dict.fromkeys(CAMPAIGN_REJECT_REASONS, 0)
    for reason, count in bad.get_column("reason").value_counts().iter_rows():
        counts[reason] = count
    rows = checked.filter(pl.col("reason").is_null()).select(list(CAMPAIGN_SCHEMA))
    return Campaigns(rows, counts, str(path))


def typed_campaigns(frame: pl.DataFrame, products: pl.DataFrame, default_boost: float) -> pl.DataFrame:
    """CAMPAIGN_SCHEMA columns from a frame of campaign fields (any types), plus the raw text of the ids and
    numbers the checks need: `raw_product_id`, `raw_category`, `raw_boost`, `raw_discount` (null when blank)."""
    dtypes = frame.schema

    def column(name: str) -> pl.Expr:
        return pl.col(name) if name in dtypes else pl.lit(None, dtype=pl.String)

    def text(name: str) -> pl.Expr:
        value = as_text(column(name))
        return pl.when(is_blank(value)).then(None).otherwise(value)

    def number(name: str) -> pl.Expr:
        return as_number(column(name), dtypes.get(name, pl.String))

    def day(name: str) -> pl.Expr:
        return as_date(column(name), dtypes.get(name, pl.String), None)

    categories = products.get_column("category").unique().sort()
    lowered = categories.str.strip_chars().str.to_lowercase()
    return frame.select(
        campaign_id=text("campaign_id"),
        name=pl.coalesce(text("name"), text("campaign_id")),
        start_date=day("start_date"),
        end_date=day("end_date"),
        product_id=catalog_ids(text("product_id"), products.get_column("product_id")),
        category=text("category").str.to_lowercase().replace_strict(lowered, categories, default=None),
        customer_id=customer_key(text("customer_id")),
        segment=text("segment"),
        discount=number("discount"),
        boost=pl.when(text("boost").is_null()).then(pl.lit(default_boost)).otherwise(number("boost")),
        raw_product_id=text("product_id"),
        raw_category=text("category"),
        raw_boost=text("boost"),
        raw_discount=text("discount"),
    )


def rejection(as_of: date, through: date | None = None) -> pl.Expr:
    """The first reason of CAMPAIGN_REJECT_REASONS that fits a typed row (see `typed_campaigns`); null for a
    valid row of a campaign running on `as_of` (or on some day up to `through`)."""
    checks = {
        "missing_campaign_id": pl.col("campaign_id").is_null(),
        "invalid_date": pl.col("start_date").is_null() | pl.col("end_date").is_null(),
        "end_before_start": pl.col("end_date") < pl.col("start_date"),
        "no_item_or_target": pl.all_horizontal(
            pl.col(name).is_null() for name in ("raw_product_id", "raw_category", "customer_id", "segment")
        ),
        "unknown_product": pl.col("raw_product_id").is_not_null() & pl.col("product_id").is_null(),
        "unknown_category": pl.col("raw_category").is_not_null() & pl.col("category").is_null(),
        "invalid_boost": ~(pl.col("boost").is_finite() & (pl.col("boost") > 0)).fill_null(False),
        "invalid_discount": pl.col("raw_discount").is_not_null()
        & ~((pl.col("discount") >= 0) & (pl.col("discount") < 1)).fill_null(False),
        "inactive": (pl.col("start_date") > (through or as_of)) | (pl.col("end_date") < as_of),
    }
    reason = pl.lit(None, dtype=pl.String)
    for name, check in reversed(checks.items()):
        reason = pl.when(check).then(pl.lit(name)).otherwise(reason)
    return reason


def _row_error(path: Path, row: dict[str, object]) -> DataValidationError:
    field, problem = CAMPAIGN_REJECT_REASONS[str(row["reason"])]
    record = f"row {row['row']}" + (f" (campaign {row['campaign_id']})" if row["campaign_id"] else "")
    return DataValidationError(str(path), record, field, problem)


def campaigns_note(campaigns: Campaigns) -> str | None:
    """One line on the campaign rows left out, by reason, e.g. "campaigns: 2 of 9 rows left out (inactive 1,
    unknown_product 1)"; None when none was."""
    left_out = sum(campaigns.rejected.values())
    if not left_out:
        return None
    return f"campaigns: {left_out:,} of {campaigns.rows_read:,} rows left out ({reasons_text(campaigns.rejected)})"
