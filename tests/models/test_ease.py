"""EASE's weights, pair scores and choice of lambda (`models/ease.py`), on matrices small enough to work out by
hand, and the closed form's defining property on a random one."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy import sparse
from support import rows

from cross_sell_upsell.configuration import SignalSettings
from cross_sell_upsell.models import ease
from cross_sell_upsell.models.ease import (
    DEFAULT_MULTIPLIER,
    EaseModel,
    choose_regularization,
    ease_weights,
    fit_ease,
    pair_scores,
    validation_ndcg,
)


def test_two_products_weights_are_the_ridge_regression_of_one_on_the_other():
    # G + I = [[4, 2], [2, 5]], det 16, P = [[5, -2], [-2, 4]] / 16: B[0, 1] = 2/16 / (4/16), B[1, 0] = 2/16 / (5/16).
    weights = ease_weights(np.array([[3.0, 2.0], [2.0, 4.0]]), 1.0)
    assert weights == pytest.approx(np.array([[0.0, 0.5], [0.4, 0.0]]))


def test_the_weights_solve_the_constrained_regression():
    rng = np.random.default_rng(5)
    bought = (rng.random((60, 8)) < 0.3).astype(float)
    gram = bought.T @ bought
    weights = ease_weights(gram, 2.5)
    assert np.diag(weights) == pytest.approx(np.zeros(8))
    # (G + lambda I) B - G is zero off the diagonal: only the zero-diagonal constraint's multipliers remain.
    residual = (gram + 2.5 * np.eye(8)) @ weights - gram
    # Single precision: about 1e-7 of the gram's entries (at most 60).
    assert residual[~np.eye(8, dtype=bool)] == pytest.approx(np.zeros(56), abs=1e-5)


@pytest.mark.parametrize("regularization", [0.0, -1.0])
def test_the_regularization_must_be_positive(regularization):
    with pytest.raises(ValueError, match="must be positive"):
        ease_weights(np.eye(2), regularization)


WEIGHTS = np.array(
    [
        [0.0, 0.5, 0.2, -0.1],
        [0.3, 0.0, 0.0, 0.4],
        [0.1, 0.6, 0.0, 0.0],
        [0.0, 0.2, 0.7, 0.0],
    ]
)
# Customer 0 owns products 0 and 2, customer 1 product 3, customer 2 nothing.
OWNED = sparse.csr_matrix(np.array([[1, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]))


def test_a_pairs_score_sums_the_weights_from_what_the_customer_owns():
    scores = pair_scores(WEIGHTS, OWNED, np.array([0, 0, 1, 2, 0]), np.array([1, 3, 2, 1, 1]))
    assert scores == pytest.approx([0.5 + 0.6, -0.1 + 0.0, 0.7, 0.0, 1.1])


def test_validation_ndcg_of_the_top_two_not_owned():
    # Scores of what is not owned: customer 0: product 1 1.1, product 3 -0.1 -> [1, 3];
    # customer 1: products 0 0.0, 1 0.2, 2 0.7 -> [2, 1]; customer 2 bought nothing new and is not counted.
    bought = sparse.csr_matrix(np.array([[0, 0, 0, 1], [1, 1, 0, 0], [0, 0, 0, 0]]))
    # Customer 0: its one purchase at rank 2: (1 / log2 3) / 1. Customer 1: product 1 at rank 2, two bought:
    # (1 / log2 3) / (1 + 1 / log2 3).
    expected = (1 / math.log2(3) + (1 / math.log2(3)) / (1 + 1 / math.log2(3))) / 2
    assert validation_ndcg(WEIGHTS, OWNED, bought, 2) == pytest.approx(expected)


# G = [[4, 2], [2, 4]]: mean buyers 4, so lambda = 4 m, and B[0, 1] = 2 / (4 + lambda) tells which m was tried.
PAIR_GRAM = np.array([[4.0, 2.0], [2.0, 4.0]])


def _peaked_at(exponent: float):
    """A validation figure of the weights peaking where log10 m = `exponent`: -(log10 m - exponent)^2."""

    def figure(weights: np.ndarray) -> float:
        multiplier = (2.0 / float(weights[0, 1]) - 4.0) / 4.0
        return -((math.log10(multiplier) - exponent) ** 2)

    return figure


def test_lambda_is_refined_to_the_parabolas_vertex_between_the_decades():
    # Decades 1, 10, 100 score -1.69, -0.09, -0.49: the best inside, and the parabola through them peaks at 10^1.3.
    chosen, figures = choose_regularization(PAIR_GRAM, _peaked_at(1.3))
    assert chosen == pytest.approx(10**1.3, rel=1e-4)
    assert list(figures) == pytest.approx([1.0, 10.0, 10**1.3, 100.0], rel=1e-4)
    assert figures[10.0] == pytest.approx(-0.09, abs=1e-5)


def test_the_search_goes_a_decade_further_while_the_best_is_at_an_edge():
    # Peak at 10^-1.4: 1 is best of the first three, then 0.1 (-0.16) beats 0.01 (-0.36) and 1 (-1.96).
    chosen, figures = choose_regularization(PAIR_GRAM, _peaked_at(-1.4))
    assert list(figures) == pytest.approx([0.01, 10**-1.4, 0.1, 1.0, 10.0, 100.0], rel=1e-4)
    assert chosen == pytest.approx(10**-1.4, rel=1e-4)


def test_the_search_stops_after_its_last_decade():
    chosen, figures = choose_regularization(PAIR_GRAM, _peaked_at(-10.0), max_steps=2)
    assert list(figures) == pytest.approx([0.01, 0.1, 1.0, 10.0, 100.0])
    assert chosen == pytest.approx(0.01)


def _holdings(*lines: str) -> pl.DataFrame:
    return pl.DataFrame(
        rows("customer_row | product_key | first_purchase", *lines),
        schema={"customer_row": pl.UInt32, "product_key": pl.UInt32, "first_purchase": pl.String},
    ).with_columns(pl.col("first_purchase").str.to_date())


AS_OF = date(2024, 3, 1)

# Product 0: 3 buyers, 1: 3, 2: 2, 3: 1 (fewer than min_count). Customers 0 and 1 bought both 0 and 1.
HOLDINGS = _holdings(
    "0 | 0 | 2024-01-05",
    "0 | 1 | 2024-01-06",
    "1 | 0 | 2024-01-07",
    "1 | 1 | 2024-02-20",
    "1 | 2 | 2024-01-08",
    "2 | 0 | 2024-01-09",
    "2 | 2 | 2024-01-10",
    "3 | 1 | 2024-02-25",
    "3 | 3 | 2024-01-11",
)


def test_the_most_bought_products_are_modelled_and_lambda_defaults_without_enough_to_validate():
    settings = SignalSettings(min_count=2, ease_products=2)
    model = fit_ease(HOLDINGS, 4, AS_OF, settings)
    # Products 0 and 1 have 3 buyers each (2 has 2, 3 too few); ties to the lower key.
    assert model.product_keys.tolist() == [0, 1]
    # Only customer 1 owned a modelled product before the 28 days up to the as-of date and bought a new one in them
    # (customer 3 owned nothing modelled before), fewer than the 30 needed: lambda = 10 x the mean buyers (3) = 30,
    # and B[0, 1] = common buyers / (buyers of 0 + lambda) = 2 / 33.
    assert (model.validation, model.validation_customers) == ({}, 1)
    assert model.regularization == pytest.approx(DEFAULT_MULTIPLIER * 3.0)
    assert model.weights[0, 1] == pytest.approx(2 / 33)
    assert model.index_of(np.array([1, 3, 0]), 4).tolist() == [1, -1, 0]


def test_no_model_when_switched_off_or_too_few_products_have_buyers():
    assert fit_ease(HOLDINGS, 4, AS_OF, SignalSettings(min_count=2, ease_products=0)) is None
    assert fit_ease(HOLDINGS, 4, AS_OF, SignalSettings(min_count=4)) is None


def test_lambda_is_validated_on_an_evenly_spread_sample_of_customers_with_new_products():
    # 60 customers who each owned product 0 before the window and bought product 1 or 2 in it.
    lines = []
    for customer in range(60):
        lines += [f"{customer} | 0 | 2024-01-01", f"{customer} | {1 + customer % 2} | 2024-02-20"]
    settings = SignalSettings(min_count=2, ease_validation_customers=40)
    model = fit_ease(_holdings(*lines), 3, AS_OF, settings)
    assert model.validation_customers == 40
    assert len(model.validation) >= 4
    assert model.regularization / 40.0 == pytest.approx(max(model.validation, key=model.validation.get))


def test_small_and_large_models_score_pairs_alike(monkeypatch):
    # A model of a few products scores every product of every customer at once; a large one each pair alone.
    rng = np.random.default_rng(3)
    model = EaseModel(
        product_keys=np.array([4, 0, 2, 5, 1]),
        weights=rng.normal(size=(5, 5)).astype(np.float32),
        regularization=1.0,
        validation={},
        validation_customers=0,
    )
    owners, owned = np.array([0, 0, 1, 2, 2, 2]), np.array([4, 3, 3, 0, 1, 5])
    customers, products = np.array([0, 0, 1, 2, 2, 3]), np.array([2, 3, 2, 2, 4, 2])
    dense = model.scores(owners, owned, customers, products, 6)
    monkeypatch.setattr(ease, "DENSE_PRODUCTS", 0)
    by_pair = model.scores(owners, owned, customers, products, 6)
    # Customer 0 owns 4 (row 0) and 3 (not modelled): product 2 (row 2) scores B[0, 2]. Product 3 is not modelled,
    # customer 1 owns nothing modelled, customer 3 nothing at all.
    assert np.isnan(dense[[1, 2, 5]]).all() and np.isnan(by_pair[[1, 2, 5]]).all()
    assert dense[0] == pytest.approx(model.weights[0, 2])
    assert dense[[0, 3, 4]] == pytest.approx(by_pair[[0, 3, 4]], rel=1e-6)
    # Customer 2 owns 0, 1 and 5 (rows 1, 4, 3): product 4 (row 0) scores B[1, 0] + B[4, 0] + B[3, 0].
    assert by_pair[4] == pytest.approx(model.weights[[1, 4, 3], 0].sum(), rel=1e-6)
