"""The BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005, "Counting your customers the easy way: an
alternative to the Pareto/NBD model", Marketing Science 24(2)): vectorised numpy/scipy, time in days.

While active, a customer buys as a Poisson process of rate lambda ~ Gamma(r, alpha) (shape r, rate alpha); after
each purchase they leave for good with probability p ~ Beta(a, b). A customer is summarised by x repeat purchases,
the last at t_x, observed until T (days from the first purchase; features/purchase_summary.py). Each formula is
in its function's docstring, with its equation in the paper (or Fader, Hardie & Lee's technical notes);
docs/customer-models.md has them all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, log_expit

from cross_sell_upsell.models.mle import MaximumLikelihood, maximise, weighted_sum

_NEAR_ONE = 1e-6
"""The expected-purchases formula divides by a - 1; a closer to 1 than this is moved this far from it (the
result changes by about this share, where the exact formula would be 0 / 0)."""


@dataclass(frozen=True)
class BetaGeoParams:
    """BG/NBD parameters, time in days."""

    r: float
    """Shape of the Gamma distribution of purchase rates across customers."""
    alpha: float
    """Rate (in days) of that Gamma distribution: the mean purchase rate is r / alpha per day."""
    a: float
    """First shape of the Beta distribution of dropout probabilities across customers."""
    b: float
    """Second shape of that Beta distribution: the mean dropout probability after a purchase is a / (a + b)."""


def log_likelihood(params: BetaGeoParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood (paper, eq. 6):

        L = B(a, b + x) / B(a, b) * Gamma(r + x) alpha^r / (Gamma(r) (alpha + T)^(r + x))
          + [x > 0] B(a + 1, b + x - 1) / B(a, b) * Gamma(r + x) alpha^r / (Gamma(r) (alpha + t_x)^(r + x))

    computed as lnGamma(r + x) - lnGamma(r) + r ln alpha - lnB(a, b) + ln(e^A1 + e^A2) with
    A1 = lnB(a, b + x) - (r + x) ln(alpha + T) and A2 = lnB(a + 1, b + x - 1) - (r + x) ln(alpha + t_x)."""
    rows = _Rows.of(x, t_x, T, np.ones(np.shape(x)))
    value, _ = _evaluate(np.log([params.r, params.alpha, params.a, params.b]), rows, gradient=False)
    return value


@dataclass(frozen=True)
class _Rows:
    """Collapsed summaries made ready for repeated evaluations: what depends on x, T or t_x alone is computed once
    per distinct value (a few hundred) and gathered, not once per row (hundreds of thousands)."""

    x: np.ndarray
    share: np.ndarray
    x_values: np.ndarray
    x_index: np.ndarray
    share_by_x: np.ndarray
    T_values: np.ndarray
    T_index: np.ndarray
    t_values: np.ndarray
    t_index: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weight: np.ndarray) -> _Rows:
        share = np.asarray(weight, dtype=float) / float(np.sum(weight))
        x_values, x_index = np.unique(np.asarray(x, dtype=float), return_inverse=True)
        T_values, T_index = np.unique(np.asarray(T, dtype=float), return_inverse=True)
        t_values, t_index = np.unique(np.asarray(t_x, dtype=float), return_inverse=True)
        share_by_x = np.bincount(x_index, share, minlength=len(x_values))
        return cls(x_values[x_index], share, x_values, x_index, share_by_x, T_values, T_index, t_values, t_index)


def _evaluate(log_params: np.ndarray, rows: _Rows, gradient: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row log-likelihood and (when asked) the gradient of its weighted mean with respect to the log
    parameters."""
    r, alpha, a, b = np.exp(log_params)
    x_values, x_index, repeat = rows.x_values, rows.x_index, rows.x_values > 0
    log_T = np.log(alpha + rows.T_values)[rows.T_index]
    log_t = np.log(alpha + rows.t_values)[rows.t_index]
    rate_power = r + rows.x
    first = betaln(a, b + x_values)[x_index] - rate_power * log_T
    # B(a + 1, b + x - 1) needs b + x - 1 > 0: only rows with a repeat purchase have the second term.
    left = np.where(repeat, betaln(a + 1, np.where(repeat, b + x_values - 1, 1.0)), -np.inf)
    second = left[x_index] - rate_power * log_t
    # ln(e^first + e^second) = first - ln(w_first), w_first = expit(first - second) the posterior weight of
    # "still active" (w_second = 1 - w_first of "left after the last purchase"); log_expit keeps it finite.
    log_w_first = log_expit(first - second)
    value = (gammaln(r + x_values) - gammaln(r) + r * np.log(alpha) - betaln(a, b))[x_index] + first - log_w_first
    if not gradient:
        return value, None
    w_first = np.exp(log_w_first)
    w_second = 1.0 - w_first
    first_by_x = np.bincount(x_index, rows.share * w_first, minlength=len(x_values))
    second_by_x = rows.share_by_x - first_by_x
    psi_abx = weighted_sum(rows.share_by_x, digamma(a + b + x_values))
    inverse_T = (1.0 / (alpha + rows.T_values))[rows.T_index]
    inverse_t = (1.0 / (alpha + rows.t_values))[rows.t_index]
    d_r = weighted_sum(rows.share_by_x, digamma(r + x_values)) - digamma(r) + np.log(alpha)
    d_r -= weighted_sum(rows.share, w_first * log_T + w_second * log_t)
    d_alpha = r / alpha - weighted_sum(rows.share, rate_power * (w_first * inverse_T + w_second * inverse_t))
    d_a = digamma(a + b) - digamma(a) + digamma(a) * first_by_x.sum() + digamma(a + 1) * second_by_x.sum() - psi_abx
    psi_left = digamma(np.where(repeat, b + x_values - 1, 1.0))
    d_b = digamma(a + b) - digamma(b) - psi_abx
    d_b += weighted_sum(first_by_x, digamma(b + x_values)) + weighted_sum(second_by_x, psi_left)
    return value, np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])


def fit(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weight: np.ndarray, max_iterations: int, tolerance: float
) -> tuple[BetaGeoParams, MaximumLikelihood]:
    """Maximum-likelihood parameters from collapsed summaries (each row a distinct (x, t_x, T), `weight`
    customers having it). Starts at r = 1, a = 1, b = 1 and alpha = mean T / mean x, so the starting mean rate
    r / alpha is the customers' mean repeat rate whatever the time scale of the data."""
    rows = _Rows.of(x, t_x, T, weight)
    mean_x = max(weighted_sum(rows.share, rows.x), 1e-3)
    mean_T = max(weighted_sum(rows.share, rows.T_values[rows.T_index]), 1.0)

    def mean_log_likelihood(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = _evaluate(log_params, rows, gradient=True)
        return weighted_sum(rows.share, value), gradient

    start = np.array([1.0, mean_T / mean_x, 1.0, 1.0])
    result = maximise(mean_log_likelihood, start, float(np.sum(weight)), max_iterations, tolerance)
    return BetaGeoParams(*result.params), result


def _log_dropout_odds(params: BetaGeoParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """ln of [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x): the odds of having left after the
    last purchase against still being active; -inf without a repeat purchase (a customer cannot leave before)."""
    repeat = x > 0
    odds = (
        np.log(params.a)
        - np.log(np.where(repeat, params.b + x - 1, 1.0))
        + (params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + t_x))
    )
    return np.where(repeat, odds, -np.inf)


def p_alive(params: BetaGeoParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still active at T | x, t_x, T) = 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))
    (Fader, Hardie & Lee's note "Computing P(alive) using the BG/NBD model"); 1 without a repeat purchase."""
    return expit(-_log_dropout_odds(params, x, t_x, T))


def expected_purchases_if_alive(params: BetaGeoParams, x: np.ndarray, T: np.ndarray, horizon: float) -> np.ndarray:
    """Expected purchases in (T, T + horizon] of a customer still active at T (the bracket of the paper's eq. 10,
    the unconditional E[X(t)] of eq. 9 with the posterior parameters r + x, alpha + T, a, b + x):

        (a + b + x - 1) / (a - 1) * [1 - ((alpha + T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x; a + b + x - 1; z)]

    with t = horizon and z = t / (alpha + T + t). Euler's transformation 2F1(A, B; C; z) = (1 - z)^(C - A - B)
    2F1(C - A, C - B; C; z) makes the second term (1 - z)^(a - 1) 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z),
    whose series does not overflow for large x; it does when a and b are very large (a fit with almost no
    spread in the dropout probability), where the paper's form does not. Each row takes the Euler form, or the
    paper's where that is not finite. Depends on x and T only."""
    r, alpha, b = params.r, params.alpha, params.b
    a = params.a if abs(params.a - 1.0) >= _NEAR_ONE else 1.0 + np.copysign(_NEAR_ONE, params.a - 1.0)
    x, T = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(T, dtype=float))
    z = horizon / (alpha + T + horizon)
    c = a + b + x - 1.0
    with np.errstate(all="ignore"):
        second = (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
        paper = ~np.isfinite(second)
        if paper.any():
            xp, zp = x[paper], z[paper]
            second[paper] = np.exp((r + xp) * np.log1p(-zp)) * hyp2f1(r + xp, b + xp, c[paper], zp)
    return c / (a - 1.0) * (1.0 - second)


def expected_purchases(
    params: BetaGeoParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, horizon: float
) -> np.ndarray:
    """E[purchases in (T, T + horizon] | x, t_x, T] = P(alive) * expected_purchases_if_alive (paper, eq. 10)."""
    return p_alive(params, x, t_x, T) * expected_purchases_if_alive(params, x, T, horizon)


def p_no_purchase_if_alive(params: BetaGeoParams, x: np.ndarray, T: np.ndarray, horizon: float) -> np.ndarray:
    """P(no purchase in (T, T + horizon] | active at T) = ((alpha + T) / (alpha + T + horizon))^(r + x): the
    Poisson zero probability exp(-lambda horizon) averaged over the posterior lambda ~ Gamma(r + x, alpha + T).
    A customer leaves only right after a purchase, so one who does not buy stays active."""
    return np.exp((params.r + x) * (np.log(params.alpha + T) - np.log(params.alpha + T + horizon)))


def p_no_purchase(params: BetaGeoParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, horizon: float) -> np.ndarray:
    """P(no purchase in (T, T + horizon] | x, t_x, T) = 1 - P(alive) + P(alive) p_no_purchase_if_alive: the
    customer has left, or is active and does not buy (a customer who does not buy cannot leave). The churn
    probability."""
    alive = p_alive(params, x, t_x, T)
    return 1.0 - alive + alive * p_no_purchase_if_alive(params, x, T, horizon)


def median_days_to_next_purchase(params: BetaGeoParams, x: np.ndarray, T: np.ndarray, horizon: float) -> np.ndarray:
    """Median days from T to the next purchase of a customer who buys again within `horizon` days: with
    G(s) = p_no_purchase_if_alive(s), P(next purchase by s | a purchase by horizon) = (1 - G(s)) / (1 - G(horizon))
    (P(alive) cancels: only an active customer buys), which is 1/2 at

        s = (alpha + T) [((1 + G(horizon)) / 2)^(-1 / (r + x)) - 1],

    always within (0, horizon]. Not the median given alive, (alpha + T)(2^(1 / (r + x)) - 1): with the few
    purchases of most customers the Gamma posterior of their rate has so heavy a tail that it puts a CDNOW
    one-time buyer's next order 13 years away (docs/customer-models.md)."""
    power = params.r + x
    # 1 - G(horizon), and ln((1 + G) / 2) = ln(1 - (1 - G) / 2), computed without cancelling when G is near 1.
    buys = -np.expm1(power * (np.log(params.alpha + T) - np.log(params.alpha + T + horizon)))
    return (params.alpha + T) * np.expm1(-np.log1p(-buys / 2) / power)


def simulate(params: BetaGeoParams, T: np.ndarray, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(x, t_x) of customers drawn from the model, each observed for its T days in continuous time: for checking
    a fit against known parameters and for benchmarks. A customer with rate lambda would make N ~ Poisson(lambda T)
    repeat purchases in (0, T] and leaves right after its J-th, J ~ Geometric(p), so x = min(N, J); given N = n,
    the purchase times are n uniform points on (0, T], so the x-th is T times a Beta(x, n - x + 1) draw."""
    rate = generator.gamma(params.r, 1.0 / params.alpha, size=len(T))
    dropout = generator.beta(params.a, params.b, size=len(T))
    possible = generator.poisson(rate * T)
    x = np.minimum(possible, generator.geometric(dropout))
    repeat = x > 0
    t_x = np.zeros(len(T))
    t_x[repeat] = T[repeat] * generator.beta(x[repeat], possible[repeat] - x[repeat] + 1)
    return x, t_x
