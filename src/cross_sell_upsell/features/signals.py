"""Signals learned from a retailer's own purchases: basket rules and item-item similarity.

Both come from sparse matrix products over integer keys, never from enumerating itemsets: with B the basket x
product incidence matrix, C = B.T @ B holds every pair's co-occurrence count and its diagonal each product's
basket count, so support, confidence and lift of every rule A -> B are a few vector operations on C's
non-zeros. Item similarity is the cosine of two products' buyer vectors, blended with their price similarity.

A basket is a basket id where the log has one (`basket_id` in the ownership frame), else a customer's
purchases on one day. Only purchases on or before the as-of date count, so a backdated run or a backtest
learns nothing from the future. Products are `product_key`s (rows of `Dataset.products`), as in the cohort.
The signals of a run are learned once, with its holdings, into its `snapshot.Snapshot`.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from scipy import sparse

from cross_sell_upsell.configuration import SignalSettings
from cross_sell_upsell.features.sorted_purchases import SortedPurchases, sort_purchases

RULE_SCHEMA: dict[str, pl.DataType] = {
    "source_key": pl.UInt32(),
    "product_key": pl.UInt32(),
    "count": pl.UInt32(),
    "support": pl.Float64(),
    "confidence": pl.Float64(),
    "lift": pl.Float64(),
}
"""A rule source -> product: baskets holding both (`count`), their share of all baskets (`support`), the share
of the source's baskets that hold the product (`confidence`) and confidence / the product's own support (`lift`)."""


CATEGORY_RULE_SCHEMA: dict[str, pl.DataType] = {
    "source_category": pl.String(),
    "category": pl.String(),
    **{name: dtype for name, dtype in RULE_SCHEMA.items() if name not in ("source_key", "product_key")},
}


NEIGHBOUR_SCHEMA: dict[str, pl.DataType] = {
    "source_key": pl.UInt32(),
    "product_key": pl.UInt32(),
    "cosine": pl.Float64(),
    "price_similarity": pl.Float64(),
    "similarity": pl.Float64(),
}
"""The most similar products of each product: cosine of their buyer vectors, price similarity
1 - |p1 - p2| / max(p1, p2), and the blend of the two that ranks them."""


_SIMILARITY_BLOCK = 512
"""Products whose similarity row is computed at once: bounds the memory of one block of B.T @ B."""


@dataclass(frozen=True)
class Signals:
    """What the purchases up to `as_of` say, keyed like the cohort's products."""

    as_of: date
    baskets: int
    """Baskets the rules were learned from."""
    rules: pl.DataFrame
    """RULE_SCHEMA rows passing the thresholds, both directions of each pair."""
    neighbours: pl.DataFrame
    """NEIGHBOUR_SCHEMA rows: up to `neighbours` per product, most similar first."""

    def rule_links(self) -> pl.DataFrame:
        """The product rules as links for `opportunities.learned_offers`: the link is the confidence."""
        return self.rules.select(
            "source_key", "product_key", link="confidence", rule_lift="lift", source=pl.lit("basket_rule")
        )

    def neighbour_links(self) -> pl.DataFrame:
        """The neighbours as links for `opportunities.learned_offers`: the link is the blended similarity."""
        return self.neighbours.select(
            "source_key",
            "product_key",
            link="similarity",
            rule_lift=pl.lit(None, dtype=pl.Float64),
            source=pl.lit("similar_customers"),
        )

    def links(self) -> pl.DataFrame:
        """Every learned link: rules and neighbours."""
        return pl.concat([self.rule_links(), self.neighbour_links()])


def keyed_purchases(keyed: pl.DataFrame) -> pl.DataFrame:
    """(customer_row, product_key, basket) of every purchase of a keyed log (`holdings.keyed_ownership`);
    `basket` numbers the baskets from 0 (a basket id with its customer and day, or the customer's day when
    the log has no id)."""
    purchases = keyed.lazy()
    # A customer's day packed in one integer (days since 1970 offset to stay positive until 2149) ranks much
    # faster than a struct of columns; a basket id needs the struct.
    customer_day = pl.col("customer_row").cast(pl.UInt64) * (1 << 17) + (
        pl.col("purchase_date").cast(pl.Int32) + (1 << 16)
    ).cast(pl.UInt64)
    basket = pl.struct("basket_id", customer_day) if "basket_id" in purchases.collect_schema() else customer_day
    return purchases.select("customer_row", "product_key", basket=(basket.rank("dense") - 1).cast(pl.UInt32)).collect()


@dataclass(frozen=True)
class Incidence:
    """A 0/1 rows x products matrix (baskets or customers x products) as the pair counts need it: the rows, the
    rows holding each product, and only the rows holding two products or more, since a row with one product
    pairs it with nothing (a log of one-product baskets keeps almost nothing)."""

    rows: int
    """How many rows the matrix has."""
    column_counts: np.ndarray
    """Per product, the rows holding it."""
    pairs: sparse.csc_matrix
    """The rows holding two products or more, 0/1, columns are products."""


def incidence(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> Incidence:
    """The `Incidence` of a one at each (row, column); repeated pairs count once."""
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, columns)), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return _incidence_of(matrix)


def _incidence_of(matrix: sparse.csr_matrix) -> Incidence:
    """The `Incidence` of a 0/1 matrix without duplicate entries."""
    counts = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.int64)
    return Incidence(matrix.shape[0], counts, matrix[np.diff(matrix.indptr) >= 2].tocsc())


def _summed(matrices: Iterable[Any]) -> Any:
    """The sum of sparse matrices or arrays of counts: integers (held as floats in a matrix), so any order of
    summing is exact."""
    return functools.reduce(operator.add, matrices)


def association_rules(baskets: np.ndarray, items: np.ndarray, n_items: int, settings: SignalSettings) -> pl.DataFrame:
    """Rules between items (`source_key` -> `product_key`) from (basket, item) pairs, with the support,
    confidence and count thresholds of `settings`. Baskets are numbered 0..n-1."""
    n_baskets = int(baskets.max()) + 1 if len(baskets) else 0
    return partitioned_rules([incidence(baskets, items, (n_baskets, n_items))], settings)


def partitioned_rules(incidences: Sequence[Incidence], settings: SignalSettings) -> pl.DataFrame:
    """`association_rules` over baskets split into partitions: one basket x item `Incidence` per partition,
    every basket in one of them. The co-occurrence counts B.T @ B are the sums of each partition's, so the rules
    are those of all the baskets at once.

    An item in fewer baskets than the minimum pair count or support can be in no rule, so only the frequent
    items enter the co-occurrence product."""
    n_baskets = sum(part.rows for part in incidences)
    if n_baskets == 0:
        return pl.DataFrame(schema=RULE_SCHEMA)
    item_baskets = _summed(part.column_counts for part in incidences)
    min_pairs = max(settings.min_count, math.ceil(settings.min_support * n_baskets - 1e-9))
    frequent = np.flatnonzero(item_baskets >= min_pairs)
    co_occurrence = _summed(part.pairs[:, frequent].T @ part.pairs[:, frequent] for part in incidences).tocoo()
    source, target, count = co_occurrence.row, co_occurrence.col, co_occurrence.data
    keep = (source != target) & (count >= min_pairs)
    source, target, count = frequent[source[keep]], frequent[target[keep]], count[keep]
    source_count, target_count = item_baskets[source], item_baskets[target]
    rules = pl.DataFrame(
        {
            "source_key": source.astype(np.uint32),
            "product_key": target.astype(np.uint32),
            "count": count.astype(np.uint32),
            "support": count / n_baskets,
            "confidence": count / source_count,
            "lift": count * n_baskets / (source_count.astype(np.float64) * target_count),
        },
        schema=RULE_SCHEMA,
    )
    return rules.filter(
        (pl.col("support") >= settings.min_support) & (pl.col("confidence") >= settings.min_confidence)
    ).sort("source_key", "confidence", "product_key", descending=[False, True, False])


def category_rules(purchases: pl.DataFrame, products: pl.DataFrame, settings: SignalSettings) -> pl.DataFrame:
    """Rules between categories (CATEGORY_RULE_SCHEMA) from `keyed_purchases`: a basket holds a category when
    it holds one of its products. For exploring; no step offers from them, so `learn_signals` skips them."""
    category = products.get_column("category")
    codes = (category.rank("dense") - 1).cast(pl.UInt32)
    names = category.unique().sort()
    categories = codes.gather(purchases.get_column("product_key")).to_numpy()
    rules = association_rules(purchases.get_column("basket").to_numpy(), categories, len(names), settings)
    rules = rules.with_columns(
        source_category=names.gather(rules.get_column("source_key")),
        category=names.gather(rules.get_column("product_key")),
    ).select(list(CATEGORY_RULE_SCHEMA))
    return rules.sort("source_category", "confidence", "category", descending=[False, True, False])


def price_similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """1 - |p1 - p2| / max(p1, p2): 1 for equal prices, towards 0 as one price dwarfs the other."""
    return 1.0 - np.abs(left - right) / np.maximum(left, right)


def item_neighbours(
    customers: np.ndarray, items: np.ndarray, prices: np.ndarray, settings: SignalSettings
) -> pl.DataFrame:
    """Up to `settings.neighbours` most similar products of each product, from (customer, item) purchase pairs
    (`partitioned_neighbours` of one partition)."""
    n_customers = int(customers.max()) + 1 if len(customers) else 0
    return partitioned_neighbours([incidence(customers, items, (n_customers, len(prices)))], prices, settings)


def partitioned_neighbours(
    incidences: Sequence[Incidence], prices: np.ndarray, settings: SignalSettings
) -> pl.DataFrame:
    """Up to `settings.neighbours` most similar products of each product, from customer x product `Incidence`s
    of disjoint partitions of the customers.

    cosine(i, j) = buyers of both / sqrt(buyers of i x buyers of j). The common buyers of every pair are the
    product X.T @ X of the customer x product matrix, the sum of each partition's, computed a block of products
    at a time so memory stays bounded. A pair needs at least `min_count` common buyers (so each product has as
    many buyers): fewer say little and would be most of the pairs. similarity = similarity_weight x cosine +
    price_similarity_weight x price similarity."""
    if not incidences or sum(part.rows for part in incidences) == 0:
        return pl.DataFrame(schema=NEIGHBOUR_SCHEMA)
    buyers = _summed(part.column_counts for part in incidences)
    eligible = np.flatnonzero(buyers >= settings.min_count)
    by_customer = [part.pairs[:, eligible] for part in incidences]
    by_item = [matrix.T.tocsr() for matrix in by_customer]
    eligible_buyers, eligible_prices = buyers[eligible].astype(np.float64), prices[eligible]
    blocks = []
    for start in range(0, len(eligible), _SIMILARITY_BLOCK):
        rows = slice(start, start + _SIMILARITY_BLOCK)
        block = _summed(items[rows] @ customers for items, customers in zip(by_item, by_customer, strict=True))
        block = block.tocoo()
        source = block.row + start
        keep = (source != block.col) & (block.data >= settings.min_count)
        source, target, common = source[keep], block.col[keep], block.data[keep]
        cosine = common / np.sqrt(eligible_buyers[source] * eligible_buyers[target])
        prices_alike = price_similarity(eligible_prices[source], eligible_prices[target])
        blocks.append(
            pl.DataFrame(
                {
                    "source_key": eligible[source].astype(np.uint32),
                    "product_key": eligible[target].astype(np.uint32),
                    "cosine": cosine,
                    "price_similarity": prices_alike,
                    "similarity": settings.similarity_weight * cosine + settings.price_similarity_weight * prices_alike,
                },
                schema=NEIGHBOUR_SCHEMA,
            )
            .sort("source_key", "similarity", "product_key", descending=[False, True, False])
            .group_by("source_key", maintain_order=True)
            .head(settings.neighbours)
        )
    return pl.concat(blocks) if blocks else pl.DataFrame(schema=NEIGHBOUR_SCHEMA)


@dataclass(frozen=True)
class SignalCounts:
    """What one partition of the customers contributes to the signals: incidences whose products, summed over
    the partitions, count every pair's baskets and common buyers."""

    baskets: Incidence
    """The partition's baskets x products (a basket holds the product): `basket_incidence`."""
    buyers: Incidence
    """The partition's customer rows x products (the customer bought the product): `buyer_incidence`."""


def basket_incidence(keyed: pl.DataFrame, n_products: int, purchases: SortedPurchases | None = None) -> Incidence:
    """`SignalCounts.baskets` of some customers' keyed purchases up to the as-of date (`holdings.keyed_ownership`);
    products are keys below `n_products`. `purchases`: the same rows sorted (`sort_purchases`), when the caller
    has them: without basket ids, a basket is a run of one customer's day there, so nothing is ranked."""
    if "basket_id" in keyed.columns:
        numbered = keyed_purchases(keyed)
        baskets = numbered.get_column("basket").to_numpy()
        n_baskets = int(baskets.max()) + 1 if len(baskets) else 0
        return incidence(baskets, numbered.get_column("product_key").to_numpy(), (n_baskets, n_products))
    distinct = (purchases or sort_purchases(keyed.drop("amount", strict=False))).distinct()
    starts = distinct.starts(by_day=True)
    # The rows are distinct and sorted by product within a basket: the matrix is already in canonical form.
    matrix = sparse.csr_matrix(
        (np.ones(distinct.rows), distinct.product.astype(np.int32), np.append(starts, distinct.rows)),
        shape=(len(starts), n_products),
    )
    return _incidence_of(matrix)


def buyer_incidence(owned: pl.DataFrame, n_products: int) -> Incidence:
    """`SignalCounts.buyers` of some customers' holdings (`holdings.holdings`: who bought what, already
    distinct, a fifth of the log's rows); products are keys below `n_products`."""
    customers = owned.get_column("customer_row").to_numpy()
    n_customers = int(customers.max()) + 1 if len(customers) else 0
    return incidence(customers, owned.get_column("product_key").to_numpy(), (n_customers, n_products))


def learn_signals(
    counts: Sequence[SignalCounts], products: pl.DataFrame, as_of: date, settings: SignalSettings
) -> Signals:
    """Basket rules and item neighbours from the `SignalCounts` of every partition of the customers (one, or
    several whose customers and baskets are disjoint: the same signals either way); `products` gives the
    prices."""
    incidences = [partition.baskets for partition in counts]
    rules = partitioned_rules(incidences, settings)
    neighbours = partitioned_neighbours(
        [partition.buyers for partition in counts], products.get_column("price").to_numpy(), settings
    )
    return Signals(as_of=as_of, baskets=sum(part.rows for part in incidences), rules=rules, neighbours=neighbours)
