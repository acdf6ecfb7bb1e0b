"""The retailer's catalog: products and their cross-sell links, with retailer categories mapped to routine
categories and each product validated as a record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from cross_sell_upsell.configuration import CATALOG_FIELDS, IngestSettings
from cross_sell_upsell.data.dataset import products_frame
from cross_sell_upsell.data.ingest.tables import field_columns, field_sources, file_kind, read_table
from cross_sell_upsell.data.records import (
    DEFAULT_TIER_PRICE_RANGES,
    ProductRecord,
    check_catalog,
    read_records,
    validate_records,
)

_CATALOG_LISTS = ("cross_sell_products", "target_concerns", "active_ingredients")


def load_catalog(
    path: str | Path,
    settings: IngestSettings,
    tier_price_ranges: dict[int, tuple[float, float]] = DEFAULT_TIER_PRICE_RANGES,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The catalog (PRODUCT_SCHEMA) and its cross-sell links from a CSV, JSON or Parquet file, with retailer
    categories mapped to routine categories. Catalogs are small, so each product goes through the same
    record validation as `load_dataset` (finite numbers within `records.MAX_MONEY` and the other bounds); the
    first violation raises DataValidationError."""
    path = Path(path)
    kind = file_kind(path, ("csv", "json", "parquet"))
    if kind == "json":
        rows = [_renamed(record, settings.catalog_columns) for record in read_records(path, settings.encoding)]
    else:
        frame = read_table(path, kind, settings.encoding)
        sources = field_sources(path, frame.columns, CATALOG_FIELDS, settings.catalog_columns, CATALOG_FIELDS[:4])
        rows = frame.select(field_columns(sources)).to_dicts()
    records = [_catalog_record(row, settings) for row in rows]
    products = validate_records(path, records, ProductRecord, "product_id")
    check_catalog(path, products, tier_price_ranges)
    return products_frame(products)


def _renamed(record: Any, mapping: dict[str, str]) -> Any:
    """A JSON record with its mapped source keys renamed to field names (non-objects are left to validation)."""
    if not isinstance(record, dict):
        return record
    fields = {source: field for field, source in mapping.items()}
    return {fields.get(key, key): value for key, value in record.items()}


def _catalog_record(row: Any, settings: IngestSettings) -> Any:
    """A catalog row ready for ProductRecord: text stripped, categories mapped, margin defaulted, list text
    split and an `upgrade_to` id turned into the next tier's upgrade path."""
    if not isinstance(row, dict):
        return row
    record = {
        key: value.strip() if isinstance(value, str) else value for key, value in row.items() if value is not None
    }
    for field in _CATALOG_LISTS:
        if isinstance(record.get(field), str):
            parts = record[field].split(settings.list_separator)
            record[field] = [part.strip() for part in parts if part.strip()]
    if isinstance(record.get("category"), str):
        record["category"] = settings.category_mapping.get(record["category"], record["category"])
    record.setdefault("margin", settings.default_margin)
    upgrade_to = record.pop("upgrade_to", None)
    if upgrade_to and "upgrade_path" not in record:
        try:
            tier = int(record.get("tier") or 1)
        except (TypeError, ValueError):
            tier = 1  # the record validation reports the bad tier itself
        record["upgrade_path"] = {f"tier_{tier + 1}": str(upgrade_to)}
    return record
