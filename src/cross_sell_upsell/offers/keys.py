"""Integer keys shared by every offer step: attribute lookups by row, packed customer-product keys, and positions
within groups of rows without polars' hash-grouped `over()` windows (slow with hundreds of thousands of groups)."""

from __future__ import annotations

import numpy as np
import polars as pl


def lookup(values: pl.Series, key: str) -> pl.Expr:
    """`values[key]` for every row: the attribute of the customer or product a key column points at."""
    return pl.lit(values).gather(pl.col(key))


def customer_product_key() -> pl.Expr:
    """(customer_key, product_key) packed into one UInt64: one-column distinct checks are much faster."""
    return pl.col("customer_key").cast(pl.UInt64) * (1 << 32) + pl.col("product_key").cast(pl.UInt64)


def rank_in_runs(column: str = "customer_key") -> pl.Expr:
    """1, 2, ... along each run of equal consecutive values of `column` (UInt32): on rows sorted by it, the same
    as `pl.int_range(1, pl.len() + 1).over(column)`, without grouping."""
    row = pl.int_range(0, pl.len(), dtype=pl.UInt32)
    starts = pl.col(column).ne_missing(pl.col(column).shift())
    return row + 1 - pl.when(starts).then(row).forward_fill().fill_null(0)


def position_within(keys: pl.Series) -> pl.Series:
    """Per row, how many earlier rows have the same key (nulls count as one key), in row order: the same as
    `pl.int_range(pl.len()).over(keys)`, by one stable sort instead of a hash group-by."""
    order = keys.to_frame("key").select(pl.arg_sort_by("key", maintain_order=True)).to_series().to_numpy()
    in_runs = keys.gather(order).to_frame("key").select(rank_in_runs("key") - 1).to_series().to_numpy()
    positions = np.empty(len(keys), dtype=np.int64)
    positions[order] = in_runs
    return pl.Series(keys.name, positions)
