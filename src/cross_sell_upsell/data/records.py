"""Pydantic records of the JSON catalog and customer files, and the checks that tie them together."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal, NoReturn

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from cross_sell_upsell.data.encodings import read_text
from cross_sell_upsell.data.keys import category_key, customer_id_key
from cross_sell_upsell.errors import DataValidationError

DEFAULT_TIER_PRICE_RANGES: dict[int, tuple[float, float]] = {1: (10.0, 24.99), 2: (25.0, 59.99), 3: (60.0, 149.99)}
"""The price band of each product tier; checked only for products that declare a tier."""


MAX_MONEY = 1e9
"""The largest price, amount or lifetime value accepted, in dollars (a larger one is a unit or export error).
Money is summed in whole cents as 64-bit integers (at most 9.2e18): a price at the bound is 1e11 cents, so
some 90 million offers at the bound still sum without overflow, and a float holds every cent exactly up to
9e13 dollars."""


MAX_TIER = 99
"""The highest product tier or tier preference accepted (the frames keep tiers as 8-bit integers)."""


MAX_CYCLE_DAYS = 36_500
"""The longest replenishment cycle accepted, a hundred years: any due date stays a real date."""


class _Record(BaseModel):
    # NaN and infinities are refused in every number field: they pass `gt`/`le` bounds and would break the
    # sums and the JSON written later.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, allow_inf_nan=False)


class ProductRecord(_Record):
    """One catalog entry. Accepts the Tier 1 sample's names and the multi-tier plan's names."""

    product_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    tier: int | None = Field(None, ge=1, le=MAX_TIER)
    price: float = Field(gt=0, le=MAX_MONEY)
    margin: Literal["low", "medium", "high", "premium"]
    replenishment_cycle_days: int | None = Field(None, gt=0, le=MAX_CYCLE_DAYS)
    cross_sell_products: list[str] = Field(
        default_factory=list, validation_alias=AliasChoices("cross_sell_products", "recommended_cross_sells")
    )
    upgrade_path: dict[str, str] = Field(default_factory=dict)
    active_ingredients: list[str] = Field(default_factory=list)
    target_concerns: list[str] = Field(default_factory=list)
    description: str = ""

    @field_validator("category")
    @classmethod
    def _category_key(cls, value: str) -> str:
        # `Toner` and `toner ` are the routine's `toner`: the essential categories are matched in lower case.
        return category_key(value)


class OwnedProduct(_Record):
    """A product a customer profile says the customer owns, and when it was bought."""

    product_id: str = Field(min_length=1)
    purchase_date: date


class Purchase(_Record):
    """One line of a customer profile's purchase history."""

    product_id: str = Field(min_length=1)
    purchase_date: date = Field(validation_alias=AliasChoices("purchase_date", "date"))
    amount: float | None = Field(
        None, ge=-MAX_MONEY, le=MAX_MONEY, validation_alias=AliasChoices("amount", "price_paid")
    )


class CustomerRecord(_Record):
    """One customer profile. Accepts the Tier 1 sample's names and the multi-tier plan's names."""

    customer_id: str = Field(min_length=1)
    name: str = ""
    email: str | None = None
    loyalty_tier: Literal["bronze", "silver", "gold", "platinum"]
    lifetime_value: float = Field(ge=0, le=MAX_MONEY)
    churn_risk: float = Field(ge=0, le=1, description="Probability of churn, a fraction from 0 to 1.")
    price_sensitivity: Literal["low", "medium", "high"]
    products_owned: list[OwnedProduct] = Field(
        default_factory=list, validation_alias=AliasChoices("products_owned", "current_products")
    )
    purchase_history: list[Purchase] = Field(default_factory=list)
    skin_concerns: list[str] = Field(default_factory=list)
    tier_preference: int | None = Field(None, ge=1, le=MAX_TIER)
    notes: str = ""
    segment: str | None = Field(None, description="The retailer's own segment for the customer; blank means none.")

    @field_validator("customer_id")
    @classmethod
    def _customer_id_key(cls, value: str) -> str:
        return customer_id_key(value)

    @field_validator("notes", mode="before")
    @classmethod
    def _null_notes(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("segment", mode="before")
    @classmethod
    def _blank_segment(cls, value: Any) -> Any:
        return value.strip() or None if isinstance(value, str) else value


def field_path(location: Sequence[int | str]) -> str:
    """A pydantic error location as a field path, e.g. `purchase_history[2].product_id`."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def read_records(path: Path, encoding: str | None = None) -> list[Any]:
    """The records of a JSON file holding an array, in UTF-8 or else in the fallback `encoding`
    (`encodings.read_text`); raises DataValidationError for a missing file, text in neither encoding, invalid
    JSON or another top-level value."""
    if not path.is_file():
        raise DataValidationError(str(path), "-", "-", "file not found")
    try:
        records = json.loads(read_text(path, encoding))
    # ValueError: also a number of more than 4,300 digits; RecursionError: arrays nested too deep.
    except (ValueError, RecursionError) as exc:
        raise DataValidationError(str(path), "-", "-", f"not valid JSON ({exc})") from None
    if not isinstance(records, list):
        raise DataValidationError(str(path), "-", "-", "expected a JSON array of records")
    return records


def validate_records(path: Path, records: list[Any], model: type[_Record], id_field: str) -> list[Any]:
    """The records parsed as `model`; the first invalid record or repeated id raises DataValidationError naming
    the record (by id, or by position when it has none) and the field."""
    parsed = []
    seen: set[str] = set()
    for index, raw in enumerate(records):
        record_id = str(raw.get(id_field)) if isinstance(raw, dict) and raw.get(id_field) else f"#{index + 1}"
        try:
            record = model.model_validate(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            raise DataValidationError(str(path), record_id, field_path(error["loc"]), error["msg"]) from None
        record_key = getattr(record, id_field)
        if record_key in seen:
            raise DataValidationError(str(path), record_id, id_field, "duplicate id")
        seen.add(record_key)
        parsed.append(record)
    return parsed


def check_catalog(path: Path, products: list[ProductRecord], price_ranges: dict[int, tuple[float, float]]) -> None:
    """Raises DataValidationError for the first product whose price is outside its tier's range, whose
    cross-sell is unknown or itself, or whose upgrade is not a known product one tier up in the same category."""
    by_id = {product.product_id: product for product in products}
    for product in products:
        fail = failer(path, product.product_id)
        if product.tier is not None and product.tier in price_ranges:
            low, high = price_ranges[product.tier]
            if not low <= product.price <= high:
                fail("price", f"{product.price} is outside the Tier {product.tier} range {low}-{high}")
        for position, other in enumerate(product.cross_sell_products):
            if other not in by_id:
                fail(f"cross_sell_products[{position}]", f"unknown product {other}")
            if other == product.product_id:
                fail(f"cross_sell_products[{position}]", "a product cannot cross-sell itself")
        for key, target_id in product.upgrade_path.items():
            field = f"upgrade_path.{key}"
            target = by_id.get(target_id)
            tier = product.tier or 1
            if target is None:
                fail(field, f"unknown product {target_id}")
            elif key != f"tier_{tier + 1}" or (target.tier or 1) != tier + 1:
                fail(field, f"{target_id} must be one tier up (tier_{tier + 1}) from Tier {tier}")
            elif target.category != product.category:
                fail(field, f"{target_id} is a {target.category}, not a {product.category}")


def failer(path: Path, record_id: str) -> Callable[[str, str], NoReturn]:
    """A function raising DataValidationError for a field of the record `record_id` in `path`."""

    def fail(field: str, problem: str) -> NoReturn:
        raise DataValidationError(str(path), record_id, field, problem)

    return fail


def check_customer_products(path: Path, customers: list[CustomerRecord], product_ids: set[str]) -> None:
    """Raises DataValidationError for the first owned or purchased product that is not in `product_ids`."""
    for customer in customers:
        fail = failer(path, customer.customer_id)
        for field, items in (
            ("products_owned", customer.products_owned),
            ("purchase_history", customer.purchase_history),
        ):
            for position, item in enumerate(items):
                if item.product_id not in product_ids:
                    fail(f"{field}[{position}].product_id", f"unknown product {item.product_id}")
