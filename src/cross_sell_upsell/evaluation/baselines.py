"""Baselines the orchestrator has to beat in the backtest: each a pure function from the training purchases
(`Dataset.ownership` before the cutoff: customer_id, product_id, purchase_date and, when the log has one,
basket_id) to a ranked list per customer (`lists.LIST_SCHEMA`). The formulas are in docs/backtest.md.

A basket is a `basket_id` when the log has one, else a customer's purchases of one day. Every setting below is
the published default of the method or fixed a priori; none was tuned on a backtest cutoff.

| function | ranking |
|---|---|
| `popularity` | products by how many customers bought them (since a date, for recent popularity) |
| `basket_buy_again` | the customer's own products by the number of distinct baskets holding them |
| `tifu_knn` | TIFU-KNN: the customer's time-decayed item frequencies blended with their nearest customers' |
| `sar` | SAR: time-decayed affinity to items times the items' Jaccard similarity |

The score-based methods list each customer's K best new products and K best repeat products (the backtest
scores the two parts separately), merged by score, ties by product id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
import scipy.sparse as sp

from cross_sell_upsell.evaluation.lists import best_new_and_repeat, ranked

_CELLS_PER_CHUNK = 8_000_000
"""Dense scores are computed for this many (customer, product) cells at a time: about 64 MB of float64."""


@dataclass(frozen=True)
class TifuSettings:
    """TIFU-KNN's parameters (Hu, He, Gao and Zhang, SIGIR 2020): the values its authors' reference runs use
    for the Dunnhumby grocery data, taken as they are, not tuned here."""

    neighbours: int = 900
    """Nearest customers (Euclidean distance between the customers' vectors) whose vectors are averaged."""
    within_decay: float = 0.9
    """r_b: a basket one step older within its group weighs this much of the next one."""
    group_decay: float = 0.6
    """r_g: a group of baskets one step older weighs this much of the next one."""
    groups: int = 3
    """The customer's baskets, oldest to newest, are split into this many groups of near-equal size."""
    alpha: float = 0.2
    """Weight of the customer's own vector; the neighbours' mean gets 1 - alpha."""


@dataclass(frozen=True)
class SarSettings:
    """SAR's parameters (Microsoft Recommenders' defaults: Jaccard similarity, a 30-day time decay) and how
    its item-item similarity is kept small."""

    half_life_days: float = 30.0
    """A purchase this many days before the as-of date adds half as much affinity as one on it."""
    min_buyers: int = 20
    """Items bought by fewer customers get no similarity to other items (only to themselves): a Jaccard
    similarity from fewer buyers is mostly noise, and these items hold most of the co-occurrence matrix."""
    max_items: int = 10_000
    """At most this many items (the most bought) get similarities: the dense similarity matrix then holds at
    most 10^8 float32 cells (400 MB)."""


def popularity(purchases: pl.DataFrame, k: int, since: date | None = None) -> pl.DataFrame:
    """The K most popular products each customer lacks and the K most popular of their own; popularity is the
    number of customers who bought the product (on or after `since`, when given), ties by product id."""
    window = purchases if since is None else purchases.filter(pl.col("purchase_date") >= since)
    buyers = window.group_by("product_id").agg(score=pl.col("customer_id").n_unique().cast(pl.Float64))
    popular = buyers.sort(["score", "product_id"], descending=[True, False]).with_row_index("position")
    owned = purchases.select(user="customer_id", product_id="product_id").unique()
    # A customer owning n products lacks at least K of the K + n most popular (or all there are).
    reach = owned.group_by("user").agg(position=pl.int_ranges(0, pl.len() + k, dtype=pl.UInt32)).explode("position")
    lacking = (
        reach.join(popular, on="position")
        .join(owned, on=["user", "product_id"], how="anti")
        .select("user", "product_id", "score", owned=pl.lit(False))
    )
    own = owned.join(buyers, on="product_id").with_columns(owned=pl.lit(True))
    return best_new_and_repeat(pl.concat([lacking, own]), k)


def basket_buy_again(purchases: pl.DataFrame) -> pl.DataFrame:
    """The customer's own products by the number of distinct baskets holding them, then the latest purchase,
    then the product id."""
    # `_baskets` has one row per product in a basket, so a product's rows are its baskets.
    counts = (
        _baskets(purchases)
        .group_by("customer_id", "product_id")
        .agg(baskets=pl.len(), latest=pl.col("purchase_date").max())
    )
    return ranked(
        counts.sort(["customer_id", "baskets", "latest", "product_id"], descending=[False, True, True, False]).select(
            user="customer_id", product_id="product_id"
        )
    )


def tifu_knn(purchases: pl.DataFrame, k: int, settings: TifuSettings = TifuSettings()) -> pl.DataFrame:
    """TIFU-KNN: each customer's vector is their time-decayed item frequency (`tifu_vectors`); a product's
    score is alpha x the customer's value + (1 - alpha) x the mean value over the `neighbours` customers
    nearest to them (Euclidean distance, the customer excluded, ties by customer id)."""
    vectors = tifu_vectors(purchases, settings)
    users, items, matrix = _matrix(vectors, "weight")
    nearest = min(settings.neighbours, len(users) - 1)
    squared = np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()
    by_item = matrix.T.tocsr()

    def scores(start: int, stop: int) -> np.ndarray:
        # Sparse x dense products: a sparse x sparse product of these shapes is several times slower.
        own = matrix[start:stop].toarray()
        if nearest == 0:
            return own
        distance = squared[start:stop, None] + squared[None, :] - 2 * (matrix @ own.T).T
        distance[np.arange(stop - start), np.arange(start, stop)] = np.inf
        closest = np.argsort(distance, axis=1, kind="stable")[:, :nearest]
        mean = np.zeros_like(distance)
        np.put_along_axis(mean, closest, 1 / nearest, axis=1)
        return settings.alpha * own + (1 - settings.alpha) * (by_item @ mean.T).T

    return _best_scored(users, items, matrix, scores, k)


def tifu_vectors(purchases: pl.DataFrame, settings: TifuSettings = TifuSettings()) -> pl.DataFrame:
    """(customer_id, product_id, weight): a customer's n baskets, newest first, fall into G = min(groups, n)
    groups of consecutive baskets (the newest groups one basket larger when n is not a multiple of G); a
    basket at position a (0 = newest) within a group of s baskets at position g (0 = newest) weighs
    within_decay^a / s x group_decay^g / G, and a product's weight is the sum over the baskets holding it."""
    baskets = _baskets(purchases)
    ages = (
        baskets.select("customer_id", "purchase_date", "basket")
        .unique()
        .sort(["customer_id", "purchase_date", "basket"], descending=[False, True, True])
        .with_columns(age=pl.int_range(pl.len()).over("customer_id"), count=pl.len().over("customer_id"))
        .with_columns(groups=pl.min_horizontal("count", pl.lit(settings.groups)))
        .with_columns(group=pl.col("age") * pl.col("groups") // pl.col("count"))
        .with_columns(
            within=pl.col("age") - pl.col("age").min().over("customer_id", "group"),
            size=pl.len().over("customer_id", "group"),
        )
    )
    weights = ages.select(
        "customer_id",
        "purchase_date",
        "basket",
        weight=pl.lit(settings.within_decay).pow(pl.col("within"))
        / pl.col("size")
        * pl.lit(settings.group_decay).pow(pl.col("group"))
        / pl.col("groups"),
    )
    return (
        baskets.join(weights, on=["customer_id", "purchase_date", "basket"])
        .group_by("customer_id", "product_id")
        .agg(pl.col("weight").sum())
    )


def sar(purchases: pl.DataFrame, as_of: date, k: int, settings: SarSettings = SarSettings()) -> pl.DataFrame:
    """SAR: a customer's affinity to a product is the sum over the baskets holding it of
    0.5^(days before `as_of` / half-life); a product's score is the affinity vector times the products'
    Jaccard similarity (customers who bought both / customers who bought either). Products outside the
    `min_buyers`/`max_items` set are similar only to themselves (similarity 1)."""
    days = (pl.lit(as_of) - pl.col("purchase_date")).dt.total_days()
    affinity = (
        _baskets(purchases)
        .group_by("customer_id", "product_id")
        .agg(weight=pl.lit(0.5).pow(days / settings.half_life_days).sum())
    )
    users, items, matrix = _matrix(affinity, "weight")
    kept = _most_bought(matrix, settings)
    bought = matrix[:, kept].tocsr()
    both = (bought.T.astype(bool).astype(np.float32) @ bought.astype(bool).astype(np.float32)).tocsr()
    buyers = both.diagonal()
    rows = np.repeat(np.arange(both.shape[0]), np.diff(both.indptr))
    both.data = both.data / (buyers[rows] + buyers[both.indices] - both.data)
    similarity = both.toarray()  # at most max_items^2 float32 cells; sparse x dense is the fast product

    def scores(start: int, stop: int) -> np.ndarray:
        values = matrix[start:stop].toarray()
        values[:, kept] = bought[start:stop] @ similarity
        return values

    return _best_scored(users, items, matrix, scores, k)


def _most_bought(matrix: sp.csr_matrix, settings: SarSettings) -> np.ndarray:
    """Column indices, ascending, of the at most `max_items` items with the most buyers (ties by product id)
    among those with at least `min_buyers`."""
    buyers = np.diff(matrix.tocsc().indptr)
    order = np.lexsort((np.arange(len(buyers)), -buyers))
    order = order[buyers[order] >= settings.min_buyers][: settings.max_items]
    return np.sort(order)


def _baskets(purchases: pl.DataFrame) -> pl.DataFrame:
    """(customer_id, product_id, purchase_date, basket): one row per product in a basket; `basket` is the
    basket id, or "" when the log has none (the day's purchases are then one basket)."""
    basket = pl.col("basket_id").cast(pl.String).fill_null("") if "basket_id" in purchases.columns else pl.lit("")
    return purchases.select("customer_id", "product_id", "purchase_date", basket=basket).unique()


def _matrix(frame: pl.DataFrame, value: str) -> tuple[pl.Series, pl.Series, sp.csr_matrix]:
    """The customers (sorted ids), the products (sorted ids) and the customer x product matrix of `value`."""
    users = frame.get_column("customer_id").unique().sort()
    items = frame.get_column("product_id").unique().sort()
    indexed = frame.select(
        row=pl.col("customer_id").rank("dense") - 1, column=pl.col("product_id").rank("dense") - 1, value=value
    )
    matrix = sp.csr_matrix(
        (
            indexed.get_column("value").to_numpy(),
            (indexed.get_column("row").to_numpy(), indexed.get_column("column").to_numpy()),
        ),
        shape=(len(users), len(items)),
    )
    return users, items, matrix


def _best_scored(
    users: pl.Series,
    items: pl.Series,
    owned: sp.csr_matrix,
    scores: Callable[[int, int], np.ndarray],
    k: int,
) -> pl.DataFrame:
    """`lists.best_new_and_repeat` of the dense scores `scores(start, stop)` of customers start..stop-1,
    computed a chunk of customers at a time; `owned`'s non-zero cells are each customer's own products."""
    top = min(k, len(items))
    chunk = max(1, _CELLS_PER_CHUNK // max(1, len(items)))
    parts = []
    for start in range(0, len(users), chunk):
        stop = min(start + chunk, len(users))
        values = scores(start, stop)
        rows, columns = owned[start:stop].nonzero()
        parts.append(_scored_rows(rows + start, columns, values[rows, columns], owned=True))
        values[rows, columns] = 0.0
        kth = np.partition(values, values.shape[1] - top, axis=1)[:, values.shape[1] - top]
        rows, columns = np.nonzero((values >= kth[:, None]) & (values > 0))
        parts.append(_scored_rows(rows + start, columns, values[rows, columns], owned=False))
    frame = pl.concat(parts)
    return best_new_and_repeat(
        frame.select(
            user=users.gather(frame.get_column("row")),
            product_id=items.gather(frame.get_column("column")),
            score="score",
            owned="owned",
        ),
        k,
    )


def _scored_rows(rows: np.ndarray, columns: np.ndarray, values: np.ndarray, owned: bool) -> pl.DataFrame:
    return pl.DataFrame(
        {"row": rows.astype(np.int64), "column": columns.astype(np.int64), "score": values, "owned": owned},
        schema={"row": pl.Int64, "column": pl.Int64, "score": pl.Float64, "owned": pl.Boolean},
    )
