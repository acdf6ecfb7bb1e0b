"""The retailer's catalog: products and their cross-sell links, with retailer categories mapped to routine
categories and each product validated as a record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from cross_sell_upsell.configuration import CATALOG_FIELDS, IngestSettings
from cross_sell_upsell.data.dataset import products_frame
from cross_sell_upsell.data.ingest.tables import field_columns, field_sources, file_kind, read_table
from cross_sell_upsell.data.ingest.values import AMBIGUOUS_MONEY, with_money
from cross_sell_upsell.data.keys import category_key, product_id_key
from cross_sell_upsell.data.records import (
    DEFAULT_TIER_PRICE_RANGES,
    ProductRecord,
    check_catalog,
    read_records,
    validate_records,
)
from cross_sell_upsell.errors import DataValidationError

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
        frame = read_table(path, kind, settings.encoding, settings.delimiter)
        sources = field_sources(path, frame.columns, CATALOG_FIELDS, settings.catalog_columns, CATALOG_FIELDS[:4])
        rows = _with_prices(path, frame.select(field_columns(sources)), settings.decimal_comma).to_dicts()
    categories = {category_key(name): category_key(routine) for name, routine in settings.category_mapping.items()}
    records = _same_product_ids(path, [_catalog_record(row, settings, categories) for row in rows])
    products = validate_records(path, records, ProductRecord, "product_id")
    check_catalog(path, products, tier_price_ranges)
    return products_frame(products)


def _renamed(record: Any, mapping: dict[str, str]) -> Any:
    """A JSON record with its mapped source keys renamed to field names (non-objects are left to validation)."""
    if not isinstance(record, dict):
        return record
    fields = {source: field for field, source in mapping.items()}
    return {fields.get(key, key): value for key, value in record.items()}


def _with_prices(path: Path, frame: pl.DataFrame, decimal_comma: bool | None) -> pl.DataFrame:
    """The catalog with prices written as money (`$14.99`, `14,99 €`) as plain numbers; a price that reads as
    two numbers stops the run, and text that is no price is left for the record validation to name."""
    money = {"value": "_price", "ambiguous": "_ambiguous"}
    read = with_money(frame, "price", frame.schema["price"], decimal_comma, **money)
    flagged = read.with_row_index("row", 1).filter("_ambiguous")
    if not flagged.is_empty():
        first = flagged.row(0, named=True)
        problem = f"'{first['price']}' {AMBIGUOUS_MONEY}"
        raise DataValidationError(str(path), str(first["product_id"] or f"row {first['row']}"), "price", problem)
    price = pl.coalesce(pl.col("_price").cast(pl.String), pl.col("price").cast(pl.String))
    return read.with_columns(price=price).drop("_price", "_ambiguous")


def _same_product_ids(path: Path, records: list[Any]) -> list[Any]:
    """The records with their cross-sells and upgrades naming products as the catalog writes their ids, which
    are matched by `product_key` (`p002 ` = `P002`). Two products whose ids differ only in case or surrounding
    spaces stop the run."""
    ids: dict[str, str] = {}
    for record in records:
        product_id = record.get("product_id") if isinstance(record, dict) else None
        if isinstance(product_id, str) and ids.setdefault(product_id_key(product_id), product_id) != product_id:
            problem = f"differs from '{ids[product_id_key(product_id)]}' only in case or surrounding spaces"
            raise DataValidationError(str(path), product_id, "product_id", problem)

    def same(other: Any) -> Any:
        return ids.get(product_id_key(other), other) if isinstance(other, str) else other

    for record in records:
        if isinstance(record, dict) and isinstance(record.get("cross_sell_products"), list):
            record["cross_sell_products"] = [same(other) for other in record["cross_sell_products"]]
        if isinstance(record, dict) and isinstance(record.get("upgrade_path"), dict):
            record["upgrade_path"] = {tier: same(other) for tier, other in record["upgrade_path"].items()}
    return records


def _catalog_record(row: Any, settings: IngestSettings, categories: dict[str, str]) -> Any:
    """A catalog row ready for ProductRecord: text stripped, categories in lower case and mapped by
    `categories` (the lower-case category mapping), margin defaulted, list text split and an `upgrade_to` id
    turned into the next tier's upgrade path."""
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
        category = category_key(record["category"])
        record["category"] = categories.get(category, category)
    record.setdefault("margin", settings.default_margin)
    upgrade_to = record.pop("upgrade_to", None)
    if upgrade_to and "upgrade_path" not in record:
        try:
            tier = int(record.get("tier") or 1)
        except (TypeError, ValueError):
            tier = 1  # the record validation reports the bad tier itself
        record["upgrade_path"] = {f"tier_{tier + 1}": str(upgrade_to)}
    return record
