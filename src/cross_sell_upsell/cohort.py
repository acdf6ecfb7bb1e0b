"""Selecting a cohort of customers and what they own as of a date."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from .dataset import Dataset
from .errors import UnknownCustomerError
from .opportunities import with_margin_value


@dataclass(frozen=True)
class Cohort:
    """The customers analysed together, the catalog priced by margin, and the products each customer owns
    as of the as-of date (one row per product, with its catalog columns and `last_purchase`)."""

    customers: pl.DataFrame
    products: pl.DataFrame
    holdings: pl.DataFrame
    unknown_customer_ids: list[str]


def closest_customer_ids(dataset: Dataset, customer_id: str, limit: int = 3) -> list[str]:
    return difflib.get_close_matches(customer_id, dataset.customer_ids(), n=limit, cutoff=0.5)


def require_known(dataset: Dataset, customer_ids: Sequence[str]) -> None:
    """Raise UnknownCustomerError for the first id the dataset does not have."""
    known = set(dataset.customer_ids())
    for customer_id in customer_ids:
        if customer_id not in known:
            raise UnknownCustomerError(customer_id, closest_customer_ids(dataset, customer_id))


def select_cohort(
    dataset: Dataset, customer_ids: Sequence[str] | None, as_of: date, margin_multipliers: Mapping[str, float]
) -> Cohort:
    """The requested customers (all when `customer_ids` is None), in request order, without duplicates.

    Holdings keep one row per owned product with its last purchase on or before `as_of`: a product first
    bought after the as-of date is not owned yet, which keeps backdated runs honest.
    """
    if customer_ids is None:
        customers = dataset.customers
        unknown: list[str] = []
    else:
        requested = pl.DataFrame({"customer_id": list(dict.fromkeys(customer_ids))}, schema={"customer_id": pl.String})
        customers = requested.join(dataset.customers, on="customer_id", how="inner", maintain_order="left")
        unknown = requested.join(dataset.customers, on="customer_id", how="anti").get_column("customer_id").to_list()
    products = with_margin_value(dataset.products, margin_multipliers)
    holdings = (
        dataset.ownership.join(customers.select("customer_id"), on="customer_id", how="semi")
        .filter(pl.col("purchase_date") <= as_of)
        .group_by("customer_id", "product_id")
        .agg(last_purchase=pl.col("purchase_date").max())
        .join(products, on="product_id", how="inner")
        .sort("customer_id", "product_id")
    )
    return Cohort(customers=customers, products=products, holdings=holdings, unknown_customer_ids=unknown)
