"""The vocabulary every settings module shares: the loyalty tiers, price sensitivities and margin levels a
retailer's data may use, and the frozen base of every settings model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

LOYALTY_TIERS: tuple[str, ...] = ("bronze", "silver", "gold", "platinum")


PRICE_SENSITIVITIES: tuple[str, ...] = ("low", "medium", "high")


MARGIN_LEVELS: tuple[str, ...] = ("low", "medium", "high", "premium")


class Frozen(BaseModel):
    """A settings model: immutable, and an unknown key is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")
