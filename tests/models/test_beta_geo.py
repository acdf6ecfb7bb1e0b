"""The BG/NBD formulas against values worked out by hand, an independent integral and simulation, and the fit
against known parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from model_data import standard_errors
from scipy import integrate, stats

from cross_sell_upsell.models import beta_geo
from cross_sell_upsell.models.beta_geo import BetaGeoParams

PARAMS = BetaGeoParams(r=0.5, alpha=10.0, a=0.8, b=2.5)

# customer | x | t_x | T
#  1       | 0 | 0   | 30
#  2       | 1 | 5   | 20
#  3       | 2 | 12  | 20
X = np.array([0.0, 1.0, 2.0])
T_X = np.array([0.0, 5.0, 12.0])
T = np.array([30.0, 20.0, 20.0])


def test_log_likelihood_of_three_customers_by_hand():
    r, alpha, a, b = 0.5, 10.0, 0.8, 2.5
    # B(a, b + x) / B(a, b) and B(a + 1, b + x - 1) / B(a, b) are ratios of rising factorials:
    #   x = 1: b / (a + b) and a / (a + b); x = 2: b (b + 1) / ((a + b)(a + b + 1)) and a b / ((a + b)(a + b + 1));
    # Gamma(r + x) / Gamma(r) = r for x = 1 and r (r + 1) for x = 2.
    # Customer 1 (x = 0): L = (alpha / (alpha + T))^r = (10 / 40)^0.5 = 0.5.
    first = 0.5
    # Customer 2: L = r alpha^r [b / (a + b) (alpha + 20)^-(r + 1) + a / (a + b) (alpha + 5)^-(r + 1)].
    second = r * alpha**r * (b / (a + b) * 30**-1.5 + a / (a + b) * 15**-1.5)
    # Customer 3: L = r (r + 1) alpha^r [b (b + 1) (alpha + 20)^-(r + 2) + a b (alpha + 12)^-(r + 2)]
    #                 / ((a + b)(a + b + 1)).
    third = r * (r + 1) * alpha**r * (b * (b + 1) * 30**-2.5 + a * b * 22**-2.5) / ((a + b) * (a + b + 1))
    expected = [math.log(first), math.log(second), math.log(third)]
    assert beta_geo.log_likelihood(PARAMS, X, T_X, T) == pytest.approx(expected, rel=1e-12)


def test_p_alive_by_hand():
    # 1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)); 1 without a repeat purchase.
    second = 1 / (1 + 0.8 / 2.5 * (30 / 15) ** 1.5)
    third = 1 / (1 + 0.8 / 3.5 * (30 / 22) ** 2.5)
    assert beta_geo.p_alive(PARAMS, X, T_X, T) == pytest.approx([1.0, second, third], rel=1e-12)


def test_no_purchase_and_median_wait_by_hand():
    # Customer 1 is active (x = 0): P(no purchase in 10 days) G = (40 / 50)^0.5. Given a purchase within the 10
    # days, the median wait s solves (1 - (40 / (40 + s))^0.5) / (1 - G) = 1/2: s = 40 (((1 + G) / 2)^-2 - 1).
    none = math.sqrt(0.8)
    assert beta_geo.p_no_purchase(PARAMS, X[:1], T_X[:1], T[:1], 10.0) == pytest.approx([none])
    median = 40 * (((1 + none) / 2) ** -2 - 1)
    assert beta_geo.median_days_to_next_purchase(PARAMS, X[:1], T[:1], 10.0) == pytest.approx([median])
    assert median == pytest.approx(4.5825, abs=1e-4)
    # Customer 2 may have left: P(none) = 1 - P(alive) + P(alive) (30 / 40)^1.5.
    alive = 1 / (1 + 0.8 / 2.5 * 2**1.5)
    expected = 1 - alive + alive * 0.75**1.5
    assert beta_geo.p_no_purchase(PARAMS, X[1:2], T_X[1:2], T[1:2], 10.0) == pytest.approx([expected])


@pytest.mark.parametrize("params", [PARAMS, BetaGeoParams(0.01, 500.0, 0.8, 2.5), BetaGeoParams(3.0, 2.0, 0.8, 2.5)])
def test_the_median_wait_halves_the_chance_of_buying_within_the_horizon(params):
    x, T = np.array([0.0, 1.0, 40.0, 500.0]), np.array([0.0, 30.0, 200.0, 700.0])
    median = beta_geo.median_days_to_next_purchase(params, x, T, 365.0)
    buys_by = [1 - beta_geo.p_no_purchase_if_alive(params, x, T, days) for days in (median, 365.0)]
    assert np.all((median > 0) & (median <= 365))
    assert buys_by[0] / buys_by[1] == pytest.approx(np.full(4, 0.5), rel=1e-9)


def _purchases_if_alive_by_integral(params: BetaGeoParams, x: float, T: float, horizon: float) -> float:
    """The same expectation from the individual level: a customer with rate lambda and dropout p makes
    (1 - exp(-lambda p t)) / p purchases in t days (paper, eq. 7); averaged over lambda ~ Gamma(r + x, alpha + T)
    that is (1 - ((alpha + T) / (alpha + T + p t))^(r + x)) / p, then integrated over p ~ Beta(a, b + x)."""

    def integrand(p: float) -> float:
        purchases = -math.expm1((params.r + x) * math.log((params.alpha + T) / (params.alpha + T + p * horizon)))
        return stats.beta.pdf(p, params.a, params.b + x) * purchases / p

    # Over all but 1e-12 of the Beta's mass at each end, so a narrow Beta is not missed between quadrature points.
    low, high = stats.beta.ppf([1e-12, 1 - 1e-12], params.a, params.b + x)
    return integrate.quad(integrand, low, high, limit=200)[0]


@pytest.mark.parametrize(
    ("params", "x", "T"),
    [
        (PARAMS, 0.0, 30.0),
        (PARAMS, 2.0, 20.0),
        (PARAMS, 300.0, 700.0),  # large x: the Euler form
        (BetaGeoParams(0.35, 45.0, 4e6, 1e7), 3.0, 100.0),  # a, b huge: the paper's form
        (BetaGeoParams(1.0, 20.0, 1.0, 4.0), 5.0, 50.0),  # a = 1: the formula's 0 / 0
    ],
)
def test_expected_purchases_if_alive_match_the_individual_level_integral(params, x, T):
    expected = _purchases_if_alive_by_integral(params, x, T, 90.0)
    got = beta_geo.expected_purchases_if_alive(params, np.array([x]), np.array([T]), 90.0)
    assert got == pytest.approx([expected], rel=1e-5)


def test_simulated_customers_buy_as_the_model_expects():
    # A new customer (x = 0 at T = 0) is active, so E[X(t)] (paper, eq. 9) is expected_purchases_if_alive at 0.
    generator = np.random.default_rng(3)
    T = np.full(200_000, 120.0)
    x, t_x = beta_geo.simulate(PARAMS, T, generator)
    expected = beta_geo.expected_purchases_if_alive(PARAMS, np.array([0.0]), np.array([0.0]), 120.0)[0]
    assert abs(x.mean() - expected) < 3 * x.std() / math.sqrt(len(x))
    assert np.all((t_x <= T) & ((t_x > 0) == (x > 0)))


def test_the_fit_recovers_known_parameters():
    # 4,000 customers drawn with known parameters, observed for 0-365 days. Maximum likelihood is asymptotically
    # normal, so each log parameter should land within 3 standard errors (from the observed information) of the
    # truth, and with this many customers those errors are small enough for the check to mean something.
    true = BetaGeoParams(r=0.6, alpha=15.0, a=0.7, b=3.0)
    generator = np.random.default_rng(7)
    T = generator.uniform(0, 365, 4000)
    x, t_x = beta_geo.simulate(true, T, generator)
    fitted, result = beta_geo.fit(x.astype(float), t_x, T, np.ones(len(T)), max_iterations=500, tolerance=1e-6)
    assert result.converged
    errors = standard_errors(lambda params: beta_geo.log_likelihood(BetaGeoParams(*params), x, t_x, T), vars(fitted))
    assert np.all(errors < [0.1, 0.15, 0.3, 0.3])
    distance = np.abs(
        np.log([fitted.r, fitted.alpha, fitted.a, fitted.b]) - np.log([true.r, true.alpha, true.a, true.b])
    )
    assert np.all(distance < 3 * errors)


def test_collapsed_rows_fit_like_the_customers_they_stand_for():
    # Weights are customer counts: the distinct (x, t_x, T) rows with their counts fit like every customer's row.
    generator = np.random.default_rng(11)
    T = np.floor(generator.uniform(0, 60, 3000))
    x, t_x = beta_geo.simulate(PARAMS, T, generator)
    rows = np.column_stack([x, np.floor(t_x), T])
    distinct, weight = np.unique(rows, axis=0, return_counts=True)
    assert len(distinct) < len(rows) / 2
    collapsed, _ = beta_geo.fit(*distinct.T, weight.astype(float), max_iterations=500, tolerance=1e-9)
    every, _ = beta_geo.fit(*rows.T, np.ones(len(rows)), max_iterations=500, tolerance=1e-9)
    assert vars(collapsed) == pytest.approx(vars(every), rel=1e-4)
