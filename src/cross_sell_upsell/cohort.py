"""Selecting a cohort of customers and what they own as of a date, as integer-keyed tables.

Inside a cohort, customers are `customer_key` (their row in `Cohort.customers`), products are `product_key`
(their row in `Cohort.products`), categories are `category_key` and skin concerns are bits of a UInt64 mask.
Every rule joins and sorts on these integers; string ids come back only in the final results.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from .configuration import OrchestratorConfig
from .dataset import Dataset
from .errors import ConfigurationError, UnknownCustomerError

MAX_CONCERNS = 64
"""Concerns are bits of a UInt64 mask, so a data set may use at most 64 distinct skin concerns."""


@dataclass(frozen=True)
class Cohort:
    """The customers analysed together and everything the rules need about them.

    - `customers`: `customer_key` (row number), the customer columns, `concern_mask`, `preferred_tier` (the stated
      tier preference, else the highest tier owned, else 1).
    - `products`: `product_key` (row number), the catalog columns, `category_key`, `upgrade_key`, `margin_value`
      (price x margin multiplier), `concern_mask`, `id_order` (rank of the product id, for tie-breaks).
    - `holdings`: one row per (customer, owned product) with `last_purchase` on or before the as-of date.
    - `categories`: `category_key`, `category`, `routine_position` (null for a non-essential category).
    - `cross_sells`: (`source_key`, `product_key`, `position`) catalog links.
    - `concerns`: the concern of each mask bit.
    """

    customers: pl.DataFrame
    products: pl.DataFrame
    holdings: pl.DataFrame
    categories: pl.DataFrame
    cross_sells: pl.DataFrame
    concerns: tuple[str, ...]
    unknown_customer_ids: tuple[str, ...]


def closest_customer_ids(dataset: Dataset, customer_id: str, limit: int = 3) -> list[str]:
    return difflib.get_close_matches(customer_id, dataset.customer_ids(), n=limit, cutoff=0.5)


def require_known(dataset: Dataset, customer_ids: Sequence[str]) -> None:
    """Raise UnknownCustomerError for the first id the dataset does not have."""
    known = set(dataset.customer_ids())
    for customer_id in customer_ids:
        if customer_id not in known:
            raise UnknownCustomerError(customer_id, closest_customer_ids(dataset, customer_id))


def concern_mask(column: str, concerns: Sequence[str]) -> pl.Expr:
    """A list-of-concerns column as a UInt64 bit mask over `concerns`."""
    bits = {concern: 1 << position for position, concern in enumerate(concerns)}
    return (
        pl.col(column)
        .list.eval(pl.element().replace_strict(bits, default=0, return_dtype=pl.UInt64))
        .list.eval(pl.element().bitwise_or())
        .list.first()
        .fill_null(0)
        .cast(pl.UInt64)
    )


def concern_names(mask: int, concerns: Sequence[str]) -> list[str]:
    return [concern for position, concern in enumerate(concerns) if mask >> position & 1]


def _categories(products: pl.DataFrame, essentials: Sequence[str]) -> pl.DataFrame:
    names = sorted(set(products.get_column("category")) | set(essentials))
    position = {category: index for index, category in enumerate(essentials)}
    return pl.DataFrame(
        {
            "category_key": list(range(len(names))),
            "category": names,
            "routine_position": [position.get(name) for name in names],
        },
        schema={"category_key": pl.UInt32, "category": pl.String, "routine_position": pl.Int32},
    )


def keyed_products(
    dataset: Dataset, categories: pl.DataFrame, concerns: Sequence[str], margin_multipliers: Mapping[str, float]
) -> pl.DataFrame:
    multiplier = pl.col("margin").replace_strict(dict(margin_multipliers), default=1.0, return_dtype=pl.Float64)
    upgrade_keys = dataset.products.select(upgrade_to="product_id").with_row_index("upgrade_key")
    return (
        dataset.products.with_row_index("product_key")
        .join(categories.select("category", "category_key"), on="category", how="left", maintain_order="left")
        .join(upgrade_keys, on="upgrade_to", how="left", maintain_order="left")
        .with_columns(
            margin_value=pl.col("price") * multiplier,
            concern_mask=concern_mask("target_concerns", concerns),
            id_order=pl.col("product_id").rank("ordinal").cast(pl.UInt32),
        )
    )


def select_cohort(
    dataset: Dataset, customer_ids: Sequence[str] | None, as_of: date, config: OrchestratorConfig
) -> Cohort:
    """The requested customers (all when `customer_ids` is None), in request order, without duplicates.

    Holdings keep one row per owned product with its last purchase on or before `as_of`: a product first
    bought after the as-of date is not owned yet, which keeps backdated runs honest.
    """
    rows = dataset.customers.with_row_index("customer_row")
    if customer_ids is None:
        selected, unknown = rows, []
    else:
        requested = pl.DataFrame({"customer_id": list(dict.fromkeys(customer_ids))}, schema={"customer_id": pl.String})
        selected = requested.join(rows, on="customer_id", how="inner", maintain_order="left")
        unknown = requested.join(rows, on="customer_id", how="anti").get_column("customer_id").to_list()
    concerns = dataset.concerns
    if len(concerns) > MAX_CONCERNS:
        raise ConfigurationError(f"{len(concerns)} distinct skin concerns; at most {MAX_CONCERNS} are supported")
    categories = _categories(dataset.products, config.essential_categories)
    products = keyed_products(dataset, categories, concerns, config.margin_multipliers)
    customers = selected.with_row_index("customer_key").with_columns(concern_mask=concern_mask("skin_concerns", concerns))
    holdings = (
        dataset.keyed_ownership.join(customers.select("customer_row", "customer_key"), on="customer_row")
        .filter(pl.col("purchase_date") <= as_of)
        .group_by("customer_key", "product_key")
        .agg(last_purchase=pl.col("purchase_date").max())
        .join(
            products.select("product_key", "category_key", "tier", "replenishment_cycle_days", "upgrade_key"),
            on="product_key",
        )
        .sort("customer_key", "product_key")
    )
    highest_owned = holdings.group_by("customer_key").agg(highest_owned_tier=pl.col("tier").max())
    customers = (
        customers.join(highest_owned, on="customer_key", how="left", maintain_order="left")
        .with_columns(
            preferred_tier=pl.coalesce("tier_preference", "highest_owned_tier", pl.lit(1, dtype=pl.Int8)).cast(pl.Int8)
        )
        .drop("customer_row", "highest_owned_tier")
    )
    return Cohort(
        customers=customers,
        products=products,
        holdings=holdings,
        categories=categories,
        cross_sells=dataset.keyed_cross_sells,
        concerns=concerns,
        unknown_customer_ids=tuple(unknown),
    )
