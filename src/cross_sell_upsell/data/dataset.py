"""Loading and validating a retailer's catalog and customers into columnar frames.

Every other module works on the `Dataset` frames, never on the JSON records, so any source that fills
the same frames (the JSON samples here, transaction logs elsewhere) runs through the same orchestrator.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:  # data.campaigns reads files through data.ingest, which builds Datasets
    from cross_sell_upsell.data.campaigns import Campaigns

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
    "segment": pl.String(),
}


OWNERSHIP_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "product_id": pl.String(),
    "purchase_date": pl.Date(),
}


GIVEN_VALUE_COLUMNS: tuple[str, ...] = ("lifetime_value", "churn_risk")
"""Customer attributes the retailer may give that the customer models otherwise predict (`Dataset.given_values`)."""


@dataclass(frozen=True)
class Dataset:
    """A retailer's data as loaded: frames only. What is owned and learned as of a date is derived from them
    (`snapshot.build.build_snapshot`), so one dataset serves any as-of date and holds no derived state."""

    products: pl.DataFrame
    """The catalog (`PRODUCT_SCHEMA`), one row per product."""
    cross_sells: pl.DataFrame
    """The catalog's cross-sell links (`CROSS_SELL_SCHEMA`)."""
    customers: pl.DataFrame
    """Customer attributes (`CUSTOMER_SCHEMA`), one row per customer."""
    ownership: pl.DataFrame
    """One row per dated purchase of a product the customer owns (`OWNERSHIP_SCHEMA`, and the optional columns
    `basket_id` when a transaction log has one and `amount`, what was paid for the row, null where the source
    does not say: the snapshot then values the purchase at the catalog price)."""
    source: str = ""
    """Where the data came from, as the reports name it."""
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

    given_values: pl.DataFrame | None = None
    """customer_id and whichever of GIVEN_VALUE_COLUMNS the retailer's customers file gives (null where a row
    gives none), for a transaction-log dataset, whose `customers` fills the rest from derived values; None when
    every value in `customers` was given (JSON profiles). The customer models' fallback uses given values."""

    campaigns: Campaigns | None = None
    """The campaigns running on the run's as-of date (`data.campaigns.load_campaigns`, or a data set's own);
    None when the run was given none."""

    def customer_ids(self) -> list[str]:
        """Every customer id, in row order."""
        return self.customers.get_column("customer_id").to_list()


def only_customers(dataset: Dataset, customer_ids: pl.Series) -> Dataset:
    """`dataset` with only the customers `customer_ids` and their purchases (every per-customer frame filtered,
    the catalog and campaigns kept; the rejected rows and rows read stay the whole log's)."""
    ids = customer_ids.implode()

    def kept(frame: pl.DataFrame | None) -> pl.DataFrame | None:
        return None if frame is None else frame.filter(pl.col("customer_id").is_in(ids))

    return replace(
        dataset,
        customers=kept(dataset.customers),
        ownership=kept(dataset.ownership),
        customer_features=kept(dataset.customer_features),
        given_values=kept(dataset.given_values),
    )


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
    """Customer attributes and dated ownership (with `amount`) as frames. A product is owned when the profile
    lists it; its purchases are every dated purchase of it in the history, at the amount paid where the history
    gives one, and the listed purchase date when no history line has that product and day (a purchase whose
    amount the profile does not give)."""
    rows, ownership = [], []
    for customer in customers:
        rows.append(customer.model_dump(include=set(CUSTOMER_SCHEMA)))
        owned = {item.product_id for item in customer.products_owned}
        history = [item for item in customer.purchase_history if item.product_id in owned]
        in_history = {(item.product_id, item.purchase_date) for item in history}
        listed = [item for item in customer.products_owned if (item.product_id, item.purchase_date) not in in_history]
        ownership.extend(
            {
                "customer_id": customer.customer_id,
                "product_id": item.product_id,
                "purchase_date": item.purchase_date,
                "amount": getattr(item, "amount", None),
            }
            for item in [*listed, *history]
        )
    return pl.DataFrame(rows, schema=CUSTOMER_SCHEMA), pl.DataFrame(
        ownership, schema={**OWNERSHIP_SCHEMA, "amount": pl.Float64()}
    )


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
