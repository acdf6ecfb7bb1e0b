"""The checks a model rationale must pass before it replaces the template."""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

_PRODUCT_ID = r"P\d+"


_PRICE = re.compile(r"\$\s?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)|(?<![\w.,$])(\d+\.\d{2})(?![\d.])")


class OutputCheck:
    """Decides whether a model rationale may replace the template: not empty, not too long, and naming no
    product (by catalog name or id) and no price that is not part of its own offer."""

    def __init__(self, catalog: pl.DataFrame | None, max_chars: int) -> None:
        self.max_chars = max_chars
        names = [] if catalog is None else sorted(set(catalog.get_column("name").to_list()), key=len, reverse=True)
        ids = [] if catalog is None else catalog.get_column("product_id").to_list()
        any_name = r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)"
        self._names = re.compile(any_name, re.IGNORECASE) if names else None
        self._ids = re.compile(r"\b(?:" + "|".join([_PRODUCT_ID, *map(re.escape, ids)]) + r")\b")

    def problem(
        self, text: str, ids: Sequence[str], names: Sequence[str], prices: Sequence[float]
    ) -> tuple[str, str] | None:
        """(reason, detail) when `text` must not be used, given its offer's product ids, names and prices."""
        if not text:
            return "empty", "empty rationale"
        if len(text) > self.max_chars:
            return "too_long", f"{len(text)} characters, more than {self.max_chars}"
        stranger = next((found for found in self._ids.findall(text) if found not in ids), None)
        if stranger is None and self._names is not None:
            allowed = {name.lower() for name in names}
            stranger = next((found for found in self._names.findall(text) if found.lower() not in allowed), None)
        if stranger is not None:
            return "unknown_product", f"names {stranger}, which is not in this offer"
        for dollars, bare in _PRICE.findall(text):
            amount = float((dollars or bare).replace(",", ""))
            if not any(price is not None and abs(amount - price) < 0.005 for price in prices):
                shown = f"${dollars}" if dollars else bare
                return "unknown_price", f"names the price {shown}, which is not in this offer"
        return None
