"""Selecting a cohort of customers and what they own as of a date, as integer-keyed tables.

Inside a cohort, customers are `customer_key` (their row in `Cohort.customers`) and products are `product_key`
(their row in `Cohort.products`), so a customer's or a product's attribute for millions of offers is one
`gather` by key rather than a hash join. Skin concerns and essential categories are bits of UInt64 masks.
String ids come back only in the final results.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.errors import ConfigurationError, UnknownCustomerError
from cross_sell_upsell.features.signals import Signals, signals_as_of

MAX_CONCERNS = 64


"""Concerns are bits of a UInt64 mask, so a data set may use at most 64 distinct skin concerns."""


@dataclass(frozen=True)
class Cohort:
    """The customers analysed together and everything the rules need about them.

    - `customers`: `customer_key` (row number), the customer columns, `concern_mask`, `preferred_tier` (the stated
      tier preference, else the highest tier owned, else 1).
    - `products`: `product_key` (row number), the catalog columns, `upgrade_key`, `margin_value` (price x margin
      multiplier), `concern_mask`, `essential_bit` (the category's bit in the routine, 0 when not essential),
      `routine_position`, `id_order` (rank of the product id, for tie-breaks).
    - `holdings`: one row per (customer_key, product_key) owned, with `last_purchase` on or before the as-of date
      `purchase_days` (the days it was bought on up to then) and `habit` (see `Dataset.holdings_as_of`).
    - `cross_sells`: (`source_key`, `product_key`, `position`) catalog links.
    - `signals`: basket rules and item neighbours learned from every customer's purchases up to the as-of date
      (not only the cohort's), None when learned signals are off.
    - `essentials`: the essential categories, bit i = essentials[i].
    - `concerns`: the skin concern of each concern-mask bit.
    """

    customers: pl.DataFrame
    products: pl.DataFrame
    holdings: pl.DataFrame
    cross_sells: pl.DataFrame
    signals: Signals | None
    essentials: tuple[str, ...]
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


def mask_of(column: str, names: Sequence[str]) -> pl.Expr:
    """A list-of-names column as a UInt64 bit mask over `names` (bit i = names[i]); other names are ignored."""
    bits = {name: 1 << position for position, name in enumerate(names)}
    return (
        pl.col(column)
        .list.eval(pl.element().replace_strict(bits, default=0, return_dtype=pl.UInt64).bitwise_or())
        .list.first()
        .fill_null(0)
        .cast(pl.UInt64)
    )


def names_of(mask: int, names: Sequence[str]) -> list[str]:
    return [name for position, name in enumerate(names) if mask >> position & 1]


def keyed_products(
    dataset: Dataset, essentials: Sequence[str], concerns: Sequence[str], margin_multipliers: Mapping[str, float]
) -> pl.DataFrame:
    multiplier = pl.col("margin").replace_strict(dict(margin_multipliers), default=1.0, return_dtype=pl.Float64)
    position = {category: index for index, category in enumerate(essentials)}
    bit = {category: 1 << index for index, category in enumerate(essentials)}
    upgrade_keys = dataset.products.select(upgrade_to="product_id").with_row_index("upgrade_key")
    return (
        dataset.products.with_row_index("product_key")
        .join(upgrade_keys, on="upgrade_to", how="left", maintain_order="left")
        .with_columns(
            margin_value=pl.col("price") * multiplier,
            concern_mask=mask_of("target_concerns", concerns),
            routine_position=pl.col("category").replace_strict(position, default=None, return_dtype=pl.Int8),
            id_order=pl.col("product_id").rank("ordinal").cast(pl.UInt32),
            essential_bit=pl.col("category").replace_strict(bit, default=0, return_dtype=pl.UInt64),
        )
    )


def _selected_rows(dataset: Dataset, customer_ids: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    """Dataset rows of the requested customers in request order, without duplicates, and the unknown ids."""
    if customer_ids is None:
        return np.arange(dataset.customers.height, dtype=np.uint32), []
    row_of = dataset.customer_row_of
    requested = list(dict.fromkeys(customer_ids))
    rows = [row_of[customer_id] for customer_id in requested if customer_id in row_of]
    unknown = [customer_id for customer_id in requested if customer_id not in row_of]
    return np.asarray(rows, dtype=np.uint32), unknown


def select_cohort(
    dataset: Dataset, customer_ids: Sequence[str] | None, as_of: date, config: OrchestratorConfig
) -> Cohort:
    """The requested customers (all when `customer_ids` is None), in request order, without duplicates.

    Holdings keep one row per owned product with its last purchase on or before `as_of`: a product first
    bought after the as-of date is not owned yet, which keeps backdated runs honest.
    """
    concerns = dataset.concerns
    if len(concerns) > MAX_CONCERNS:
        raise ConfigurationError(f"{len(concerns)} distinct skin concerns; at most {MAX_CONCERNS} are supported")
    rows, unknown = _selected_rows(dataset, customer_ids)
    products = keyed_products(dataset, config.essential_categories, concerns, config.margin_multipliers)
    key_of_row = np.full(dataset.customers.height, np.iinfo(np.uint32).max, dtype=np.uint32)
    key_of_row[rows] = np.arange(len(rows), dtype=np.uint32)
    # Learned first: learning groups the holdings on one thread while it counts baskets on another.
    signals = signals_as_of(dataset, as_of, config.signals) if config.signals.enabled else None
    owned = dataset.holdings_as_of(as_of, config.signals.habit_half_life_days)
    owned = owned.slice(*_row_span(owned, rows)) if _contiguous(rows) else owned.filter(pl.col("customer_row").is_in(pl.Series(rows).implode()))
    holdings = (
        owned.with_columns(customer_key=pl.Series(key_of_row).gather(owned.get_column("customer_row")))
        .select("customer_key", "product_key", "last_purchase", "purchase_days", "habit")
        .sort("customer_key", "product_key")
    )
    tiers = products.get_column("tier").gather(holdings.get_column("product_key"))
    highest_owned = holdings.select("customer_key").with_columns(tier=tiers).group_by("customer_key").agg(
        highest_owned_tier=pl.col("tier").max()
    )
    customers = (
        dataset.customers[rows]
        .with_row_index("customer_key")
        .with_columns(concern_mask=mask_of("skin_concerns", concerns))
        .join(highest_owned, on="customer_key", how="left", maintain_order="left")
        .with_columns(
            preferred_tier=pl.coalesce("tier_preference", "highest_owned_tier", pl.lit(1, dtype=pl.Int8)).cast(pl.Int8)
        )
        .drop("highest_owned_tier")
    )
    return Cohort(
        customers=customers,
        products=products,
        holdings=holdings,
        cross_sells=dataset.keyed_cross_sells,
        signals=signals,
        essentials=tuple(config.essential_categories),
        concerns=concerns,
        unknown_customer_ids=tuple(unknown),
    )


def _contiguous(rows: np.ndarray) -> bool:
    return len(rows) > 0 and int(rows[-1]) - int(rows[0]) == len(rows) - 1 and bool(np.all(np.diff(rows) == 1))


def _row_span(owned: pl.DataFrame, rows: np.ndarray) -> tuple[int, int]:
    """Offset and length of the holdings of a contiguous range of customer rows (holdings are sorted by row)."""
    customer_rows = owned.get_column("customer_row")
    start = int(customer_rows.search_sorted(int(rows[0]), side="left"))
    end = int(customer_rows.search_sorted(int(rows[-1]), side="right"))
    return start, end - start
