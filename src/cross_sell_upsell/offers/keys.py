"""Integer keys shared by every offer step: attribute lookups by row and packed customer-product keys."""

from __future__ import annotations

import polars as pl


def lookup(values: pl.Series, key: str) -> pl.Expr:
    """`values[key]` for every row: the attribute of the customer or product a key column points at."""
    return pl.lit(values).gather(pl.col(key))


def customer_product_key() -> pl.Expr:
    """(customer_key, product_key) packed into one UInt64: one-column distinct checks are much faster."""
    return pl.col("customer_key").cast(pl.UInt64) * (1 << 32) + pl.col("product_key").cast(pl.UInt64)
