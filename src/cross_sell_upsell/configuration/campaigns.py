"""Promotions (`OrchestratorConfig.campaigns`) and the basket-rule thresholds per customer segment
(`OrchestratorConfig.segment_rules`); docs/campaigns.md explains each default. A module of its own because the
data layer reads the campaign columns as much as the offers layer reads the boost and the cap."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cross_sell_upsell.configuration.base import Frozen

CAMPAIGN_FIELDS: tuple[str, ...] = (
    "campaign_id",
    "name",
    "start_date",
    "end_date",
    "product_id",
    "category",
    "customer_id",
    "segment",
    "discount",
    "boost",
)
"""Fields of a campaigns file. `campaign_id`, `start_date` and `end_date` are required; a row names a covered
item (`product_id` or `category`), a target (`customer_id` or `segment`), or both."""


REQUIRED_CAMPAIGN_FIELDS: tuple[str, ...] = ("campaign_id", "start_date", "end_date")


SEGMENT_LEVELS: tuple[str, ...] = ("premium", "standard", "basic")
"""Document 004's customer segments, whose basket rules need different confidence."""


SegmentLevel = Literal["premium", "standard", "basic"]


class CampaignSettings(Frozen):
    """How campaigns are read and how much of a customer's list they may take."""

    columns: dict[str, str] = Field(
        {}, description="Source column of each campaign field where it differs from the field name: {'name': 'title'}."
    )
    default_boost: float = Field(
        1.2,
        gt=0,
        description="Multiplier of a covered offer's ranking value when the row gives no boost (document 004's).",
    )
    max_share: float = Field(
        0.4,
        ge=0,
        le=1,
        description="Most boosted offers per customer, as a share of `top_n` (rounded down): 0.4 of 5 is 2, so the "
        "customer's own needs keep the majority of the slots they see.",
    )

    @model_validator(mode="after")
    def _known_columns(self) -> CampaignSettings:
        unknown = [name for name in self.columns if name not in CAMPAIGN_FIELDS]
        if unknown:
            raise ValueError(f"columns has unknown fields {', '.join(unknown)} (known: {', '.join(CAMPAIGN_FIELDS)})")
        return self

    def slots(self, top_n: int) -> int:
        """How many of a customer's offers may be boosted: floor(max_share x top_n)."""
        return int(self.max_share * top_n + 1e-9)


class SegmentRuleSettings(Frozen):
    """Basket-rule thresholds per customer segment (document 004: premium customers are offered only rules of
    confidence 0.4 or more, standard 0.2, basic 0.1). They apply on top of `signals.min_confidence` and
    `signals.min_support`, which decide which rules are mined at all."""

    levels: dict[str, SegmentLevel] = Field(
        {"premium": "premium", "standard": "standard", "basic": "basic"},
        description="Segment name (the retailer's segment column, or a customer-model segment's name; any case) -> "
        "its level. A customer whose segment is not listed gets the signals' thresholds alone.",
    )
    min_confidence: dict[SegmentLevel, float] = Field(
        {"premium": 0.4, "standard": 0.2, "basic": 0.1},
        description="Least confidence of a basket rule offered to a customer of each level.",
    )
    min_support: dict[SegmentLevel, float] = Field(
        {}, description="Least support of a basket rule offered to a customer of each level (unset: no extra bound)."
    )

    @model_validator(mode="after")
    def _shares(self) -> SegmentRuleSettings:
        for table in ("min_confidence", "min_support"):
            bad = [level for level, value in getattr(self, table).items() if not 0 <= value <= 1]
            if bad:
                raise ValueError(f"{table} of {', '.join(bad)} must be a share from 0 to 1")
        return self
