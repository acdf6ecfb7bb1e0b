"""The checks a model rationale must pass before it replaces the template."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

_PRODUCT_ID = r"P\d+"


_PRICE = re.compile(r"\$\s?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)|(?<![\w.,$])(\d+\.\d{2})(?![\d.])")


@dataclass(frozen=True)
class OfferScope:
    """What the rationale of one offer may name. Every offer type has one: a single product (routine gap,
    replenishment, cross-sell, upgrade) its id, name and price and the owned product it pairs with or upgrades
    from; a bundle its id, its name, its members, its price, list price and saving."""

    ids: frozenset[str] = frozenset()
    """Product and offer ids the rationale may name."""
    names: frozenset[str] = frozenset()
    """Product names the rationale may name, lower-cased."""
    prices: tuple[float, ...] = ()
    """Dollar amounts the rationale may name."""

    @classmethod
    def of(
        cls,
        ids: Iterable[str | None] | None,
        names: Iterable[str | None] | None,
        prices: Iterable[float | None] | None,
    ) -> OfferScope:
        """The scope of an offer from its facts, any of which may be missing: a missing list or value widens
        nothing (so a missing fact can only make the check stricter)."""
        return cls(
            ids=frozenset(value for value in ids or () if value),
            names=frozenset(value.lower() for value in names or () if value),
            prices=tuple(value for value in prices or () if value is not None and math.isfinite(value)),
        )


class OutputCheck:
    """Decides whether a model rationale may replace the template: not empty, not too long, and naming no
    product (by catalog name or id) and no price that is not part of its own offer."""

    def __init__(self, catalog: pl.DataFrame | None, max_chars: int) -> None:
        self.max_chars = max_chars
        names = [] if catalog is None else sorted(set(filter(None, catalog.get_column("name"))), key=len, reverse=True)
        ids = [] if catalog is None else list(filter(None, catalog.get_column("product_id")))
        any_name = r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)"
        self._names = re.compile(any_name, re.IGNORECASE) if names else None
        self._ids = re.compile(r"\b(?:" + "|".join([_PRODUCT_ID, *map(re.escape, ids)]) + r")\b")

    def problem(self, text: str, scope: OfferScope) -> tuple[str, str] | None:
        """(reason, detail) when `text` must not be used as the rationale of the offer of `scope`."""
        if not text:
            return "empty", "empty rationale"
        if len(text) > self.max_chars:
            return "too_long", f"{len(text)} characters, more than {self.max_chars}"
        stranger = next((found for found in self._ids.findall(text) if found not in scope.ids), None)
        if stranger is None and self._names is not None:
            stranger = next((found for found in self._names.findall(text) if found.lower() not in scope.names), None)
        if stranger is not None:
            return "unknown_product", f"names {stranger}, which is not in this offer"
        for dollars, bare in _PRICE.findall(text):
            amount = float((dollars or bare).replace(",", ""))
            if not any(abs(amount - price) < 0.005 for price in scope.prices):
                shown = f"${dollars}" if dollars else bare
                return "unknown_price", f"names the price {shown}, which is not in this offer"
        return None
