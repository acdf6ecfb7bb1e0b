"""Ranking metrics at K, as Microsoft Recommenders defines them, over polars frames.

`recommended` has one row per (user, item) with `rank` (1 = first) and `price`; `relevant` one row per
(user, item) the user really bought. The users scored are those with at least one relevant item; a user
without recommendations scores 0 on every metric.

| metric | per user, then the mean over users |
|---|---|
| hit_rate | 1 when at least one of the top K is relevant, else 0 |
| precision | relevant items in the top K / K |
| recall | relevant items in the top K / relevant items |
| ndcg | DCG / ideal DCG, binary relevance: DCG = sum over relevant items in the top K of 1 / log2(rank + 1), ideal DCG = the same for min(K, relevant items) items ranked first |
| revenue | the sum over users (not the mean) of the prices of the relevant items in the top K |
"""

from __future__ import annotations

import polars as pl

RANKING_METRICS: tuple[str, ...] = ("hit_rate", "precision", "recall", "ndcg", "revenue")


def top_k(recommended: pl.DataFrame, k: int) -> pl.DataFrame:
    """Each user's first K recommendations, ranked again from 1 in their order."""
    return (
        recommended.sort("user", "rank")
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("user"))
        .filter(pl.col("rank") <= k)
    )


def discount(rank: pl.Expr) -> pl.Expr:
    return 1.0 / (rank.cast(pl.Float64) + 1.0).log(2)


def per_user(recommended: pl.DataFrame, relevant: pl.DataFrame, k: int) -> pl.DataFrame:
    """One row per user with a relevant item: hits, relevant, dcg, idcg, revenue in the top K."""
    relevant = relevant.select("user", "item").unique()
    shown = top_k(recommended, k).join(relevant.with_columns(hit=pl.lit(True)), on=["user", "item"], how="left")
    gains = (
        shown.filter(pl.col("hit"))
        .group_by("user")
        .agg(hits=pl.len().cast(pl.UInt32), dcg=discount(pl.col("rank")).sum(), revenue=pl.col("price").sum())
    )
    ideal = relevant.group_by("user").agg(relevant=pl.len().cast(pl.UInt32))
    return (
        ideal.join(gains, on="user", how="left")
        .with_columns(pl.col("hits").fill_null(0), pl.col("dcg", "revenue").fill_null(0.0))
        .with_columns(
            idcg=pl.int_ranges(1, pl.min_horizontal("relevant", pl.lit(k)) + 1)
            .list.eval(discount(pl.element()))
            .list.sum()
        )
        .sort("user")
    )


def user_metrics(users: pl.DataFrame, k: int) -> pl.DataFrame:
    """Each user's hit_rate, precision, recall, ndcg and revenue from `per_user`'s rows, sorted by user."""
    return users.select(
        "user",
        hit_rate=(pl.col("hits") > 0).cast(pl.Float64),
        precision=pl.col("hits") / k,
        recall=pl.col("hits") / pl.col("relevant"),
        ndcg=pl.col("dcg") / pl.col("idcg"),
        revenue="revenue",
    )


def ranking_metrics(recommended: pl.DataFrame, relevant: pl.DataFrame, k: int) -> dict[str, float]:
    """hit_rate, precision, recall, ndcg (means over users with a relevant item) and revenue (their sum);
    `users` is how many users were scored."""
    return summarize(user_metrics(per_user(recommended, relevant, k), k))


def summarize(users: pl.DataFrame) -> dict[str, float]:
    """The means over `user_metrics`' users (revenue: the sum) and `users`, how many there are."""
    if users.is_empty():
        return {**dict.fromkeys(RANKING_METRICS, 0.0), "users": 0}
    means = [pl.col(name).sum() if name == "revenue" else pl.col(name).mean() for name in RANKING_METRICS]
    return {**users.select(means).row(0, named=True), "users": users.height}
