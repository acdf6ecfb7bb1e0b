"""The shape every backtest method's output takes: a ranked list of products per customer."""

from __future__ import annotations

import polars as pl

LIST_SCHEMA: dict[str, pl.DataType] = {
    "user": pl.String(),
    "product_id": pl.String(),
    "rank": pl.UInt32(),
    "due_date": pl.Date(),
}
"""A method's ranked list: one row per (user, product), `due_date` when the method predicts one."""


def ranked(frame: pl.DataFrame) -> pl.DataFrame:
    """A list in LIST_SCHEMA from (user, product_id[, due_date]) rows in each user's order."""
    if "due_date" not in frame.columns:
        frame = frame.with_columns(due_date=pl.lit(None, dtype=pl.Date))
    return frame.select(
        "user",
        "product_id",
        rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("user"),
        due_date="due_date",
    ).cast(LIST_SCHEMA)  # type: ignore[arg-type]


def best_new_and_repeat(scored: pl.DataFrame, k: int) -> pl.DataFrame:
    """Each user's K best-scored new products and K best-scored repeat ones, merged by score (ties by product
    id), from (user, product_id, score, owned) rows; a product scoring 0 or less has no evidence and is left out.
    The backtest scores the new and the repeat part of a list separately, so a method lists K of each."""
    return ranked(
        scored.filter(pl.col("score") > 0)
        .sort(["user", "score", "product_id"], descending=[False, True, False])
        .filter(pl.int_range(pl.len()).over("user", "owned") < k)
    )
