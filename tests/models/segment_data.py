"""Feature tables for the segment tests: hand-built groups laid out as tables, and drawn clusters."""

from __future__ import annotations

import numpy as np
import polars as pl

from cross_sell_upsell.models.segment_features import FEATURE_SCHEMA

# group | purchases | spend  | mean unit price | categories | mean gap | predicted CLV | churn
GROUPS = {
    "A": (20, 2000.0, 25.0, 3, 7.0, 3000.0, 0.05),  # frequent, valuable, staying
    "B": (3, 60.0, 5.0, 3, 60.0, 40.0, 0.90),  # rare, cheap, leaving
    "C": (6, 600.0, 80.0, 3, 30.0, 350.0, 0.30),  # in between, buys dear
}
"""Three groups of identical customers. Every categories value is 3: a feature that does not vary."""


def feature_table(rows: list[tuple]) -> pl.DataFrame:
    """A segment feature table from (customer_id, *FEATURE_SCHEMA values) rows."""
    return pl.DataFrame(rows, schema={"customer_id": pl.String(), **FEATURE_SCHEMA}, orient="row")


def grouped(per_group: int = 4) -> pl.DataFrame:
    """`per_group` customers of each of GROUPS, ids A1.., B1.., C1.., interleaved (A1, B1, C1, A2, ...)."""
    return feature_table(
        [(f"{group}{n}", *values) for n in range(1, per_group + 1) for group, values in GROUPS.items()]
    )


def drawn_clusters(centres: list[tuple[float, ...]], per_cluster: int, spread: float, seed: int) -> pl.DataFrame:
    """`per_cluster` customers around each of `centres` (feature values as in GROUPS): the counts and money
    scattered by `spread` in log1p units, the churn probability by spread / 10; ids C00000.. in drawing order."""
    generator = np.random.default_rng(seed)
    rows = []
    for cluster, centre in enumerate(centres):
        logged = np.log1p(centre[:-1]) + generator.normal(0, spread, (per_cluster, len(centre) - 1))
        churn = np.clip(centre[-1] + generator.normal(0, spread / 10, per_cluster), 0, 1)
        for index, (purchases, spend, price, categories, gap, clv) in enumerate(np.expm1(logged)):
            number = cluster * per_cluster + index
            counts = max(1, round(purchases)), max(1, round(categories))
            rows.append((f"C{number:05d}", counts[0], spend, price, counts[1], gap, clv, float(churn[index])))
    return feature_table(rows)
