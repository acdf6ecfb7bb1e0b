"""Loading and validating a retailer's catalog and customers into columnar frames.

Every other module works on the `Dataset` frames, never on the JSON records, so any source that fills
the same frames (the JSON samples here, transaction logs elsewhere) runs through the same orchestrator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from cross_sell_upsell.data.records import (
    DEFAULT_TIER_PRICE_RANGES,
    CustomerRecord,
    ProductRecord,
    check_catalog,
    check_customer_products,
    read_records,
    validate_records,
)

PRODUCT_SCHEMA: dict[str, pl.DataType] = {
    "product_id": pl.String(),
    "name": pl.String(),
    "category": pl.String(),
    "tier": pl.Int8(),
    "price": pl.Float64(),
    "margin": pl.String(),
    "replenishment_cycle_days": pl.Int32(),
    "active_ingredients": pl.List(pl.String()),
    "target_concerns": pl.List(pl.String()),
    "description": pl.String(),
    "upgrade_to": pl.String(),
}


CROSS_SELL_SCHEMA: dict[str, pl.DataType] = {
    "product_id": pl.String(),
    "cross_sell_id": pl.String(),
    "position": pl.Int32(),
}


CUSTOMER_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "name": pl.String(),
    "email": pl.String(),
    "loyalty_tier": pl.String(),
    "lifetime_value": pl.Float64(),
    "churn_risk": pl.Float64(),
    "price_sensitivity": pl.String(),
    "tier_preference": pl.Int8(),
    "skin_concerns": pl.List(pl.String()),
    "notes": pl.String(),
}


OWNERSHIP_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "product_id": pl.String(),
    "purchase_date": pl.Date(),
}


@dataclass(frozen=True)
class Dataset:
    """A retailer's data as frames. `ownership` holds one row per dated purchase of a product the customer
    owns; what is owned as of a date is derived from it, so one dataset serves any as-of date."""

    products: pl.DataFrame
    cross_sells: pl.DataFrame
    customers: pl.DataFrame
    ownership: pl.DataFrame
    source: str = ""
    rejected_rows: pl.DataFrame | None = None
    """Transaction rows left out, with the reason, source file and row number (`ingest.REJECTED_SCHEMA`);
    None for sources without a transaction log."""
    rows_read: int | None = None
    """Data rows read from the transaction log (the header is not one): each is either used or in
    `rejected_rows`. None for sources without a transaction log."""
    learned_cycles: pl.DataFrame | None = None
    """Replenishment cycles learned from repeat purchases for products the catalog gives none
    (`derivations.LEARNED_CYCLE_SCHEMA`); None for sources without a transaction log."""
    customer_features: pl.DataFrame | None = None
    """Per-customer purchase features (RFM, spend, price index) derived from a transaction log as of the
    as-of date (`derivations.FEATURE_SCHEMA`); None for sources without a log."""

    def customer_ids(self) -> list[str]:
        return self.customers.get_column("customer_id").to_list()

    @cached_property
    def customer_rows(self) -> pl.DataFrame:
        """(customer_id, customer_row): each customer's row number in `customers`."""
        return self.customers.select("customer_id").with_row_index("customer_row")

    @cached_property
    def customer_row_of(self) -> dict[str, int]:
        """Each customer id's row number in `customers`: looking a chunk of ids up here is much cheaper than
        joining it against every customer, once per chunk."""
        return dict(zip(self.customers.get_column("customer_id").to_list(), range(self.customers.height), strict=True))

    def keyed_ownership(self, as_of: date) -> pl.DataFrame:
        """The purchases on or before `as_of` with `customer_row` and `product_key` (row numbers in `customers` and
        `products`) in place of the string ids. Holdings and learned signals both start from it, so the id joins
        over the (possibly 20M-row) log are done once per as-of date; integer keys take a fraction of the ids'
        memory."""

        def keyed() -> pl.DataFrame:
            product_rows = self.products.select("product_id").with_row_index("product_key")
            return (
                self.ownership.lazy()
                .filter(pl.col("purchase_date") <= as_of)
                .join(self.customer_rows.lazy(), on="customer_id")
                .join(product_rows.lazy(), on="product_id")
                .drop("customer_id", "product_id")
                .collect()
            )

        return remember_latest(self._keyed_ownership_by_date, as_of, keyed)

    @cached_property
    def _keyed_ownership_by_date(self) -> dict[date, pl.DataFrame]:
        return {}

    @cached_property
    def _holdings_by_date(self) -> dict[date, pl.DataFrame]:
        return {}

    @cached_property
    def learned_signals(self) -> dict[Any, Any]:
        """Cache of `signals.signals_as_of`: the signals learned from this data for one as-of date."""
        return {}

    def holdings_as_of(self, as_of: date, habit_half_life_days: float = 90.0) -> pl.DataFrame:
        """(customer_row, product_key, last_purchase, purchase_days, habit) of every product owned on `as_of`,
        sorted by customer row. `purchase_days` counts the days it was bought on up to then; `habit` weighs
        each of those days but the first (each repeat purchase) by 0.5 ^ (its age in days / half-life), so a
        product rebought often and lately weighs most. Computed once per as-of date: a batch reuses it for
        every cohort."""

        def holdings() -> pl.DataFrame:
            weight = pl.lit(0.5).pow((pl.lit(as_of) - pl.col("purchase_date")).dt.total_days() / habit_half_life_days)
            # One packed (customer_row, product_key) column groups and sorts much faster than the two columns.
            pair = pl.col("customer_row").cast(pl.UInt64) * (1 << 32) + pl.col("product_key").cast(pl.UInt64)
            return (
                self.keyed_ownership(as_of)
                .lazy()
                .select(pair=pair, purchase_date="purchase_date")
                .unique()
                .group_by("pair")
                .agg(
                    last_purchase=pl.col("purchase_date").max(),
                    purchase_days=pl.len().cast(pl.UInt32),
                    # The weights grow with recency, so the first purchase day has the smallest.
                    habit=weight.sum() - weight.min(),
                )
                .sort("pair")
                .select(
                    customer_row=(pl.col("pair") // (1 << 32)).cast(pl.UInt32),
                    product_key=(pl.col("pair") % (1 << 32)).cast(pl.UInt32),
                    last_purchase="last_purchase",
                    purchase_days="purchase_days",
                    habit="habit",
                )
                .collect()
            )

        return remember_latest(self._holdings_by_date, (as_of, habit_half_life_days), holdings)

    @cached_property
    def concerns(self) -> tuple[str, ...]:
        """Every skin concern the catalog targets or a customer has, sorted."""
        return tuple(
            sorted(
                set(self.products.get_column("target_concerns").explode().drop_nulls())
                | set(self.customers.get_column("skin_concerns").explode().drop_nulls())
            )
        )

    @cached_property
    def keyed_cross_sells(self) -> pl.DataFrame:
        """Cross-sell links as (source_key, product_key, position) rows of `products`."""
        product_rows = self.products.select("product_id").with_row_index("product_key")
        return (
            self.cross_sells.join(product_rows.rename({"product_key": "source_key"}), on="product_id")
            .join(product_rows.rename({"product_id": "cross_sell_id"}), on="cross_sell_id")
            .select("source_key", "product_key", "position")
        )


def remember_latest(cache: dict[Any, Any], key: Any, compute: Callable[[], Any]) -> Any:
    """`cache[key]`, computed by `compute` on a miss. Only the latest key is kept: a run asks about one as-of
    date, and an entry can be as large as the log."""
    if key not in cache:
        cache.clear()
        cache[key] = compute()
    return cache[key]


def products_frame(products: Iterable[ProductRecord]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The catalog and its cross-sell links as frames."""
    rows, links = [], []
    for product in products:
        tier = product.tier or 1
        rows.append(
            {
                "product_id": product.product_id,
                "name": product.name,
                "category": product.category,
                "tier": tier,
                "price": product.price,
                "margin": product.margin,
                "replenishment_cycle_days": product.replenishment_cycle_days,
                "active_ingredients": product.active_ingredients,
                "target_concerns": product.target_concerns,
                "description": product.description,
                "upgrade_to": product.upgrade_path.get(f"tier_{tier + 1}"),
            }
        )
        links.extend(
            {"product_id": product.product_id, "cross_sell_id": other, "position": position}
            for position, other in enumerate(product.cross_sell_products)
        )
    return pl.DataFrame(rows, schema=PRODUCT_SCHEMA), pl.DataFrame(links, schema=CROSS_SELL_SCHEMA)


def customers_frame(customers: Iterable[CustomerRecord]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Customer attributes and dated ownership as frames. A product is owned when the profile lists it;
    its purchase dates are the listed date and every dated purchase of it in the history."""
    rows, ownership = [], []
    for customer in customers:
        rows.append(customer.model_dump(include=set(CUSTOMER_SCHEMA)))
        owned = {item.product_id for item in customer.products_owned}
        ownership.extend(
            {"customer_id": customer.customer_id, "product_id": item.product_id, "purchase_date": item.purchase_date}
            for item in [*customer.products_owned, *customer.purchase_history]
            if item.product_id in owned
        )
    return pl.DataFrame(rows, schema=CUSTOMER_SCHEMA), pl.DataFrame(ownership, schema=OWNERSHIP_SCHEMA)


def load_dataset(
    data_dir: str | Path,
    tier_price_ranges: dict[int, tuple[float, float]] = DEFAULT_TIER_PRICE_RANGES,
    encoding: str | None = None,
) -> Dataset:
    """Load and validate `catalog.json` and `customers.json` from a folder; files that are not UTF-8 are read
    in `encoding` (see `encodings.read_text`).

    Raises DataValidationError naming the file, record and field of the first violation.
    """
    folder = Path(data_dir)
    catalog_path, customers_path = folder / "catalog.json", folder / "customers.json"
    products = validate_records(catalog_path, read_records(catalog_path, encoding), ProductRecord, "product_id")
    check_catalog(catalog_path, products, tier_price_ranges)
    customers = validate_records(customers_path, read_records(customers_path, encoding), CustomerRecord, "customer_id")
    check_customer_products(customers_path, customers, {product.product_id for product in products})
    product_frame, cross_sells = products_frame(products)
    customer_frame, ownership = customers_frame(customers)
    return Dataset(product_frame, cross_sells, customer_frame, ownership, source=str(folder))
