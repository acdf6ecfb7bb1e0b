"""The Gamma-Gamma formulas against values worked out by hand, and the fit against known parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from model_data import standard_errors

from cross_sell_upsell.models import gamma_gamma
from cross_sell_upsell.models.gamma_gamma import GammaGammaParams

PARAMS = GammaGammaParams(p=2.0, q=3.0, v=10.0)


def test_log_likelihood_of_two_customers_by_hand():
    # f(m | x) = Gamma(p x + q) / (Gamma(p x) Gamma(q)) v^q m^(p x - 1) x^(p x) / (v + x m)^(p x + q)
    # x = 1, m = 5 (p x = 2): 4! / (1! 2!) 10^3 5^1 1^2 / 15^5 = 12 * 1000 * 5 / 759375
    first = 12 * 1000 * 5 / 15**5
    # x = 2, m = 4 (p x = 4): 6! / (3! 2!) 10^3 4^3 2^4 / 18^7 = 60 * 1000 * 64 * 16 / 18^7
    second = 60 * 1000 * 64 * 16 / 18**7
    got = gamma_gamma.log_likelihood(PARAMS, np.array([1.0, 2.0]), np.array([5.0, 4.0]))
    assert got == pytest.approx([math.log(first), math.log(second)], rel=1e-12)


def test_expected_spend_by_hand():
    # p (v + x m) / (p x + q - 1): x = 2, m = 4 gives 2 * 18 / 6 = 6; x = 0 gives the population's p v / (q - 1) = 10.
    got = gamma_gamma.expected_spend(PARAMS, np.array([2.0, 0.0]), np.array([4.0, 0.0]))
    assert got == pytest.approx([6.0, 10.0])
    assert gamma_gamma.population_mean_spend(PARAMS) == pytest.approx(10.0)
    assert gamma_gamma.population_mean_spend(GammaGammaParams(p=2.0, q=0.9, v=10.0)) == math.inf


def test_the_fit_recovers_known_parameters():
    # 3,000 customers: nu ~ Gamma(q, rate v), each of x purchases ~ Gamma(p, rate nu), m their mean. Each log
    # parameter within 3 standard errors (observed information) of the truth; p and v trade off against each
    # other (both move the mean spend), so theirs are the larger errors.
    true = GammaGammaParams(p=6.0, q=4.0, v=15.0)
    generator = np.random.default_rng(2)
    x = generator.integers(1, 10, 3000).astype(float)
    nu = generator.gamma(true.q, 1.0 / true.v, len(x))
    m = generator.gamma(true.p * x, 1.0 / nu) / x  # the sum of x Gamma(p, nu) draws is Gamma(p x, nu)
    # 1e-6, not tighter: the optimiser stops when a step gains less than 1e-15 of mean log-likelihood, which near
    # this optimum leaves a gradient of about 1e-7 or less, depending on the machine's rounding (7e-8 on one).
    fitted, result = gamma_gamma.fit(x, m, np.ones(len(x)), max_iterations=500, tolerance=1e-6)
    assert result.converged
    errors = standard_errors(lambda params: gamma_gamma.log_likelihood(GammaGammaParams(*params), x, m), vars(fitted))
    assert np.all(errors < [0.3, 0.1, 0.3])
    assert np.all(np.abs(np.log(list(vars(fitted).values())) - np.log(list(vars(true).values()))) < 3 * errors)
