"""EASE, an item-item model in closed form (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data",
WWW '19): each product's buyers regressed on every other product's, with a ridge penalty and no product
predicting itself. It orders the products a customer never bought (docs/offers.md, "New products").

X is the customers x products matrix of who bought what (0/1), G = X'X its gram matrix (the common buyers of every
pair, what the item neighbours are counted from). With P = (G + lambda I)^-1 the weights are B = I - P diag(1 /
diag P): B[i, j] is how much buying i says about buying j, negative where the two substitute. A customer's score
of a product is the sum of B over what they own. On Complete Journey it ordered households' new products ahead of
item kNN and SAR at three cutoffs (docs/backtest.md, "EASE orders new products better").

Lambda is chosen on the retailer's own purchases (`choose_regularization`): the model is fitted on what was bought
up to `validation_days` before the as-of date and judged by the new products bought after, the way the backtest
judges the offers; nothing is set for a data set. The weights are dense, so only the most-bought products are
modelled (`SignalSettings.ease_products`): the long tail keeps its place from the weighted score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl
from scipy import sparse
from scipy.linalg import lapack

from cross_sell_upsell.configuration import SignalSettings

VALIDATION_K = 10
"""The list length the validation's NDCG is measured at: the offers a customer is shown, as the backtest's K."""

_SCORE_BLOCK = 1_000
"""Validation customers scored at once: bounds the customers x products score matrix."""

DENSE_PRODUCTS = 1_024
"""Up to this many modelled products, `EaseModel.scores` scores every product for every customer of a chunk (a
chunk of 50,000 customers: 200 MB at most) and reads the pairs; with more it sums each pair's weights alone. Fixed
by the model's size only, so a customer's scores never depend on the chunk they are in."""

_GRAM_BLOCK = 4_000_000
"""Holdings turned into one sparse block of the gram matrix at once."""


@dataclass(frozen=True)
class EaseModel:
    """EASE fitted on every customer's purchases up to a snapshot's date."""

    product_keys: np.ndarray
    """The product keys it models, most-bought first: row and column i of `weights` is product_keys[i]."""
    weights: np.ndarray = field(repr=False)
    """B, float32, zero diagonal."""
    regularization: float
    """Lambda, the validation's multiplier times the mean buyers of a modelled product."""
    validation: dict[float, float]
    """Each multiplier of the mean buyers tried as lambda, and the NDCG@VALIDATION_K it reached on the validation
    customers' new products (empty when there were too few to validate on and the middle of the grid was taken)."""
    validation_customers: int
    """The customers the validation measured."""

    def index_of(self, product_keys: np.ndarray, products: int) -> np.ndarray:
        """The row of `weights` of each product key (keys below `products`), -1 for a product not modelled."""
        return _rows_of(self.product_keys, products)[product_keys]

    def scores(
        self, owners: np.ndarray, owned: np.ndarray, customers: np.ndarray, products: np.ndarray, n_products: int
    ) -> np.ndarray:
        """Each pair's (customers[i], products[i]) score, `pair_scores` over what the customers own (the holdings
        `owners[j]` owns `owned[j]`; keys of products below `n_products`); NaN for a product not modelled or a
        customer who owns no modelled product (a score of nothing would say nothing)."""
        row_of = _rows_of(self.product_keys, n_products)
        held = row_of[owned]
        inside = held >= 0
        rows = int(max(owners.max(initial=0), customers.max(initial=0))) + 1
        matrix = sparse.csr_matrix(
            (np.ones(int(inside.sum()), dtype=np.float32), (owners[inside], held[inside])),
            shape=(rows, len(self.product_keys)),
        )
        target = row_of[products]
        scored = (target >= 0) & (np.diff(matrix.indptr)[customers] > 0)
        result = np.full(len(customers), np.nan)
        if len(self.product_keys) <= DENSE_PRODUCTS:
            # Every customer's every score at once, then read at the pairs: a few hundred products make a small
            # matrix, and one sparse x dense product is much cheaper than gathering each pair's owned products.
            result[scored] = (matrix @ self.weights)[customers[scored], target[scored]]
        else:
            result[scored] = pair_scores(self.weights, matrix, customers[scored], target[scored])
        return result


def _rows_of(modelled: np.ndarray, products: int) -> np.ndarray:
    """Per product key below `products`, its position in `modelled` (the keys a model covers), -1 for the others."""
    rows = np.full(products, -1, dtype=np.int64)
    rows[modelled] = np.arange(len(modelled))
    return rows


def ease_weights(gram: np.ndarray, regularization: float) -> np.ndarray:
    """B (n x n, float32, zero diagonal) of the gram matrix G (n x n, symmetric) with ridge `regularization`
    (lambda > 0). G + lambda I is symmetric positive definite, so it is inverted by its Cholesky factor (LAPACK
    potrf + potri), about twice as fast as a general inverse; in single precision, which halves the memory and
    time and gave the same lists as double on Complete Journey (docs/backtest.md).

    Raises ValueError when lambda is not positive."""
    if not regularization > 0:
        raise ValueError(f"the EASE regularization must be positive, not {regularization}")
    precision = np.array(gram, dtype=np.float32, order="F")
    precision[np.diag_indices_from(precision)] += regularization
    factor, info = lapack.spotrf(precision, lower=False, overwrite_a=True, clean=True)
    if info == 0:
        inverse, info = lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise ValueError("the EASE gram matrix plus its regularization is not positive definite")
    # potri fills the upper triangle only.
    lower = np.tril_indices_from(inverse, -1)
    inverse[lower] = inverse.T[lower]
    inverse /= -np.diag(inverse)[np.newaxis, :]
    np.fill_diagonal(inverse, 0.0)
    return inverse


def pair_scores(
    weights: np.ndarray, owned: sparse.csr_matrix, customers: np.ndarray, products: np.ndarray
) -> np.ndarray:
    """For each pair (customers[i], products[i]), the sum of weights[j, products[i]] over the products j the
    customer owns (`owned`: customers x products, its nonzero entries what they own): only the pairs asked for are
    summed, so scoring a chunk's candidates costs their count times the products owned, not customers x products."""
    owned = owned.tocsr()
    starts, ends = owned.indptr[customers], owned.indptr[customers + 1]
    lengths = (ends - starts).astype(np.int64)
    positions = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))
    values = weights[owned.indices[positions], np.repeat(products, lengths)]
    return np.bincount(np.repeat(np.arange(len(customers)), lengths), weights=values, minlength=len(customers))


def validation_ndcg(weights: np.ndarray, owned: sparse.csr_matrix, bought: sparse.csr_matrix, k: int) -> float:
    """The mean NDCG@k of the customers who bought something new (`bought`: customers x products, first purchases
    after the fit's purchases) when each is offered the k products they do not own (`owned`) with the highest
    score (`_top_k`): binary relevance, DCG = sum of 1 / log2(rank + 1) over
    hits, ideal DCG the same for min(k, products bought) hits first (the backtest's NDCG, evaluation/metrics.py)."""
    bought, owned = bought.tocsr(), owned.tocsr()
    counts = np.diff(bought.indptr)
    users = np.flatnonzero(counts)
    if len(users) == 0:
        return 0.0
    k = min(k, weights.shape[0])
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    total = 0.0
    for start in range(0, len(users), _SCORE_BLOCK):
        block = users[start : start + _SCORE_BLOCK]
        owned_rows = owned[block]
        scores = np.asarray(owned_rows @ weights, dtype=np.float64)
        scores[owned_rows.nonzero()] = -np.inf
        top = _top_k(scores, k)
        hits = np.take_along_axis(bought[block].toarray() > 0, top, axis=1)
        ideal = np.cumsum(discounts)[np.minimum(counts[block], k) - 1]
        total += float(((hits * discounts).sum(axis=1) / ideal).sum())
    return total / len(users)


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row, the columns of the k highest scores, highest first, ties to the lower column among them. Only the
    k best are sorted (a partition finds them: a row of 5,000 products sorted whole cost ten times as much); which
    of several columns tied at the k-th score gets in is the partition's choice, the same on every run."""
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.lexsort((best, -np.take_along_axis(scores, best, axis=1)), axis=1)
    return np.take_along_axis(best, order, axis=1)


def choose_regularization(
    gram: np.ndarray, evaluate: Callable[[np.ndarray], float], max_steps: int = 4
) -> tuple[float, dict[float, float]]:
    """The multiplier m of the mean diagonal of `gram` (the mean buyers of a product) whose lambda = m x that mean
    gives the weights `evaluate` finds best, and each multiplier's figure. Decades 1, 10, 100 first, one more
    decade out while the best is at an edge (at most `max_steps` more), then the vertex of the parabola through
    the best and its neighbours in log10 m: a decade off the optimum cost up to a tenth of the NDCG on Complete
    Journey, half a decade still a few percent. Lambda scales with the buyers, so the multiplier carries from a
    small shop to a large one; ties go to the smaller multiplier."""
    scale = float(np.mean(np.diag(gram)))
    figures: dict[float, float] = {}

    def tried(exponent: float) -> float:
        multiplier = float(10.0**exponent)
        if multiplier not in figures:
            figures[multiplier] = evaluate(ease_weights(gram, multiplier * scale))
        return figures[multiplier]

    exponents = [0.0, 1.0, 2.0]
    for exponent in exponents:
        tried(exponent)
    for _ in range(max_steps):
        best = max(exponents, key=lambda value: (tried(value), -value))
        if best == exponents[0]:
            exponents.insert(0, exponents[0] - 1.0)
        elif best == exponents[-1]:
            exponents.append(exponents[-1] + 1.0)
        else:
            break
        tried(exponents[0] if best == exponents[1] else exponents[-1])
    best = max(exponents, key=lambda value: (tried(value), -value))
    position = exponents.index(best)
    if 0 < position < len(exponents) - 1:
        around = exponents[position - 1 : position + 2]
        tried(_vertex(around, [tried(value) for value in around]))
    chosen = max(sorted(figures), key=lambda value: figures[value])
    return chosen, dict(sorted(figures.items()))


def _vertex(xs: list[float], ys: list[float]) -> float:
    """The x of the vertex of the parabola through three equally spaced points (x1 the middle one, the highest),
    kept within the outer two."""
    (left, middle, right), (y_left, y_middle, y_right) = xs, ys
    curvature = y_left - 2.0 * y_middle + y_right
    if curvature >= 0:
        return middle
    offset = 0.5 * (y_left - y_right) / curvature * (right - middle)
    return float(np.clip(middle + offset, left, right))


VALIDATION_MIN_CUSTOMERS = 30
"""Fewest customers with a new product in the validation window to choose lambda on; with fewer the middle of the
grid (lambda = 10 x the mean buyers of a product) is taken, and the model says so (`EaseModel.validation` empty)."""

DEFAULT_MULTIPLIER = 10.0
"""The multiplier taken when there is too little to validate on: the middle of `choose_regularization`'s grid."""


def fit_ease(holdings: pl.DataFrame, products: int, as_of: date, settings: SignalSettings) -> EaseModel | None:
    """EASE on every customer's `holdings` as of `as_of` (customer_row, product_key, first_purchase; sorted by
    customer row) over the `settings.ease_products` products with the most buyers (ties to the lower key; each
    bought by at least `settings.min_count` customers, as an item neighbour must be), lambda chosen on the new
    products bought in the `settings.ease_validation_days` up to `as_of` (`choose_regularization`). None when it is
    switched off (ease_products = 0) or fewer than two products have the buyers."""
    keys = holdings.get_column("product_key").to_numpy()
    buyers = np.bincount(keys, minlength=products)
    eligible = np.flatnonzero(buyers >= max(settings.min_count, 2))
    if settings.ease_products == 0 or len(eligible) < 2:
        return None
    modelled = eligible[np.lexsort((eligible, -buyers[eligible]))][: settings.ease_products]
    columns = _rows_of(modelled, products)[keys]
    inside = columns >= 0
    rows, columns = holdings.get_column("customer_row").to_numpy()[inside], columns[inside]
    cutoff = as_of - timedelta(days=settings.ease_validation_days)
    before = (holdings.get_column("first_purchase") <= cutoff).to_numpy()[inside]
    owned, bought = _validation_customers(rows, columns, before, len(modelled), settings.ease_validation_customers)
    if owned.shape[0] < VALIDATION_MIN_CUSTOMERS:
        multiplier, figures = DEFAULT_MULTIPLIER, {}
    else:
        multiplier, figures = choose_regularization(
            _gram(rows[before], columns[before], len(modelled)),
            lambda weights: validation_ndcg(weights, owned, bought, VALIDATION_K),
        )
    gram = _gram(rows, columns, len(modelled))
    regularization = multiplier * float(np.mean(np.diag(gram)))
    return EaseModel(modelled, ease_weights(gram, regularization), regularization, figures, owned.shape[0])


def _gram(rows: np.ndarray, columns: np.ndarray, products: int) -> np.ndarray:
    """X'X (float64) of the 0/1 customers x products matrix with a one at each (rows[i], columns[i]), pairs
    distinct and sorted by row: summed over blocks of whole customers, so no block's sparse product outgrows
    memory however many customers there are."""
    gram = np.zeros((products, products))
    start = 0
    while start < len(rows):
        end = min(start + _GRAM_BLOCK, len(rows))
        if end < len(rows):
            end = max(int(np.searchsorted(rows, rows[end], side="left")), start + 1)
        block_rows = rows[start:end] - rows[start]
        matrix = sparse.csr_matrix(
            (np.ones(end - start), (block_rows, columns[start:end])), shape=(int(block_rows[-1]) + 1, products)
        )
        gram += (matrix.T @ matrix).toarray()
        start = end
    return gram


def _validation_customers(
    rows: np.ndarray, columns: np.ndarray, before: np.ndarray, products: int, limit: int
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """What the validation customers owned up to the cutoff (`before`) and first bought after it, as customers x
    products matrices: the customers who had something and then bought something new, at most `limit` of them
    evenly spread over the customer rows (the same ones however the customers were partitioned)."""
    candidates = np.intersect1d(rows[before], rows[~before])
    if len(candidates) > limit:
        candidates = candidates[(np.arange(limit) * len(candidates)) // limit]
    position = np.searchsorted(candidates, rows)
    chosen = np.isin(rows, candidates, assume_unique=False)

    def matrix(pairs: np.ndarray) -> sparse.csr_matrix:
        return sparse.csr_matrix(
            (np.ones(int(pairs.sum())), (position[pairs], columns[pairs])), shape=(len(candidates), products)
        )

    return matrix(chosen & before), matrix(chosen & ~before)
