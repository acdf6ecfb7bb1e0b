"""How transaction logs, catalogs and customer files are read (`OrchestratorConfig.ingest`): the fields each file
may map and the ingest settings, with their defaults and why. A module of its own, because the data layer below
reads it as much as the orchestrator above."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cross_sell_upsell.configuration.base import LOYALTY_TIERS
from cross_sell_upsell.configuration.base import Frozen as _Frozen

TRANSACTION_FIELDS: tuple[str, ...] = ("customer_id", "product_id", "date", "quantity", "amount", "basket_id")
"""Fields of a transaction log. `quantity` is optional (1 when the log has no such column); so is `basket_id`
(without it, a customer's purchases on one day are one basket for the learned basket rules)."""


OPTIONAL_TRANSACTION_FIELDS: tuple[str, ...] = ("quantity", "basket_id")


CATALOG_FIELDS: tuple[str, ...] = (
    "product_id",
    "name",
    "category",
    "price",
    "tier",
    "margin",
    "replenishment_cycle_days",
    "cross_sell_products",
    "upgrade_to",
    "target_concerns",
    "active_ingredients",
    "description",
)
"""Fields of a catalog file; the first four are required."""


CUSTOMER_FIELDS: tuple[str, ...] = (
    "customer_id",
    "name",
    "email",
    "loyalty_tier",
    "lifetime_value",
    "churn_risk",
    "price_sensitivity",
    "tier_preference",
    "skin_concerns",
    "notes",
    "segment",
)
"""Fields of a customers file; only `customer_id` is required, the rest default from the transactions."""


class IngestSettings(_Frozen):
    """How transaction logs, catalogs and customer files are read, and how customer attributes are derived
    from purchases when the retailer does not give them (see docs/ingest.md for every formula)."""

    transaction_columns: dict[str, str] = Field(
        {},
        description="Source column of each transaction field where it differs from the field name: {'product_id': 'sku'}.",
    )
    catalog_columns: dict[str, str] = Field(
        {}, description="Source column of each catalog field where it differs from the field name."
    )
    customer_columns: dict[str, str] = Field(
        {}, description="Source column of each customers-file field where it differs from the field name."
    )
    category_mapping: dict[str, str] = Field(
        {},
        description="Retailer category -> category the routine uses ({'sunscreen': 'spf'}); unmapped categories stay as they are.",
    )
    date_format: str | None = Field(
        None,
        description="strftime format of text dates in the log (e.g. '%d/%m/%Y'); None reads ISO dates and the date part of ISO timestamps.",
    )
    delimiter: str | None = Field(
        None,
        pattern='^[^"\r\n]$',
        description="The one character between the fields of CSV files; None tries comma, semicolon, tab and pipe on "
        "each file's header.",
    )
    decimal_comma: bool | None = Field(
        None,
        description="True: amounts and prices write decimals after a comma (1.234,50); False: after a dot; None: "
        "whichever reading a value has, and its column's where it has two (docs/ingest.md).",
    )
    max_rejected_share: float = Field(
        0.5, ge=0, le=1, description="The run stops when more than this share of the log's rows is rejected."
    )
    list_separator: str = Field(
        ";",
        min_length=1,
        description="Separator of list values (cross-sells, concerns) in CSV catalog and customer files.",
    )
    encoding: str | None = Field(
        None,
        description="Encoding of CSV and JSON files that are not UTF-8, e.g. 'latin-1' or 'cp1252' (UTF-8 files, with "
        "or without a byte-order mark, are always read as UTF-8); None refuses such files, naming them.",
    )
    default_margin: Literal["low", "medium", "high", "premium"] = Field(
        "medium", description="Margin level of catalog products that give none."
    )
    rfm_window_days: int = Field(
        90,
        ge=1,
        description="Frequency and monetary value count purchases made in this many days up to the as-of date.",
    )
    cycle_min_repeats: int = Field(
        5,
        ge=1,
        description="A product's replenishment cycle is learned from its own repeat purchases when it has at least this many; "
        "else from its category's.",
    )
    default_purchase_gap_days: float = Field(
        60.0,
        gt=0,
        description="Typical gap between purchases assumed for churn risk when no customer in the log has bought twice.",
    )
    price_index_high_sensitivity_below: float = Field(
        0.6,
        gt=0,
        description="A customer paying less than this share of the median catalog price of what they buy is highly "
        "price-sensitive.",
    )
    price_index_low_sensitivity_from: float = Field(
        1.0,
        gt=0,
        description="A customer paying at least the median catalog price of what they buy, times this, has low price "
        "sensitivity.",
    )
    loyalty_thresholds: dict[str, float] = Field(
        {"silver": 200.0, "gold": 500.0, "platinum": 1000.0},
        description="Lifetime spend from which a customer without a given loyalty tier is silver, gold or platinum (else bronze).",
    )

    @field_validator("date_format")
    @classmethod
    def _whole_date(cls, text: str | None) -> str | None:
        # Writing a date and reading it back fails for a format without a day, a month or a year.
        sample = datetime(2024, 1, 22)
        try:
            readable = text is None or datetime.strptime(sample.strftime(text), text) == sample
        except ValueError:
            readable = False
        if not readable:
            raise ValueError(f"'{text}' is not a strftime format of a whole date, e.g. %d.%m.%Y or %m/%d/%Y")
        return text

    @model_validator(mode="after")
    def _consistent(self) -> IngestSettings:
        for table, fields in (
            ("transaction_columns", TRANSACTION_FIELDS),
            ("catalog_columns", CATALOG_FIELDS),
            ("customer_columns", CUSTOMER_FIELDS),
        ):
            unknown = [name for name in getattr(self, table) if name not in fields]
            if unknown:
                raise ValueError(f"{table} has unknown fields {', '.join(unknown)} (known: {', '.join(fields)})")
        if sorted(self.loyalty_thresholds) != sorted(LOYALTY_TIERS[1:]):
            raise ValueError(f"loyalty_thresholds needs exactly {', '.join(LOYALTY_TIERS[1:])}")
        spends = [self.loyalty_thresholds[tier] for tier in LOYALTY_TIERS[1:]]
        if spends != sorted(spends):
            raise ValueError("loyalty_thresholds must rise from silver to platinum")
        if self.price_index_high_sensitivity_below > self.price_index_low_sensitivity_from:
            raise ValueError("price_index_high_sensitivity_below must not exceed price_index_low_sensitivity_from")
        return self
