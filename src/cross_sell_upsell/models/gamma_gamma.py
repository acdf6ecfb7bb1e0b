"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves
for customer base analysis", Journal of Marketing Research 42(4); Fader & Hardie, "The Gamma-Gamma model of
monetary value", 2013 note): vectorised numpy/scipy.

Each purchase of a customer is worth z ~ Gamma(p, nu) (shape p, rate nu), and nu ~ Gamma(q, v) across customers,
so a customer's mean spend is p / nu, and the population's p v / (q - 1). A customer is summarised by x repeat
purchases and their mean spend m (the first purchase is left out, as in the paper). The model assumes spend per
purchase does not depend on how often one buys; the fit reports the correlation of x and m to check it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from cross_sell_upsell.models.mle import MaximumLikelihood, maximise, weighted_sum


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters, in the currency of the amounts."""

    p: float
    """Shape of the Gamma distribution of a customer's purchase amounts."""
    q: float
    """Shape of the Gamma distribution of the rate nu across customers (the mean spend is finite when q > 1)."""
    v: float
    """Rate (scale of spend) of that Gamma distribution: the population's mean spend is p v / (q - 1)."""


def log_likelihood(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood of mean spend m over x >= 1 repeat purchases (Fader & Hardie's note: the
    density of the mean of x Gamma(p, nu) amounts integrated over nu ~ Gamma(q, v)):

        f(m | x) = Gamma(p x + q) / (Gamma(p x) Gamma(q)) v^q m^(p x - 1) x^(p x) / (v + x m)^(p x + q)"""
    value, _ = _evaluate(np.log([params.p, params.q, params.v]), _Rows.of(x, m, np.ones(np.shape(x))), False)
    return value


@dataclass(frozen=True)
class _Rows:
    """Repeat customers made ready for repeated evaluations: what depends on x alone is computed once per
    distinct x and gathered, and ln m once."""

    x: np.ndarray
    m: np.ndarray
    log_m: np.ndarray
    share: np.ndarray
    x_values: np.ndarray
    x_index: np.ndarray
    share_by_x: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, m: np.ndarray, weight: np.ndarray) -> _Rows:
        share = np.asarray(weight, dtype=float) / float(np.sum(weight))
        x_values, x_index = np.unique(np.asarray(x, dtype=float), return_inverse=True)
        share_by_x = np.bincount(x_index, share, minlength=len(x_values))
        m = np.asarray(m, dtype=float)
        return cls(x_values[x_index], m, np.log(m), share, x_values, x_index, share_by_x)


def _evaluate(log_params: np.ndarray, rows: _Rows, gradient: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row log-likelihood and (when asked) the gradient of its weighted mean with respect to the log
    parameters."""
    p, q, v = np.exp(log_params)
    px_values = p * rows.x_values
    px = p * rows.x
    log_spend = np.log(v + rows.x * rows.m)
    by_x = gammaln(px_values + q) - gammaln(px_values) - gammaln(q) + q * np.log(v) + px_values * np.log(rows.x_values)
    value = by_x[rows.x_index] + (px - 1.0) * rows.log_m - (px + q) * log_spend
    if not gradient:
        return value, None
    psi_total = digamma(px_values + q)
    d_p = weighted_sum(rows.share_by_x, rows.x_values * (psi_total - digamma(px_values) + np.log(rows.x_values)))
    d_p += weighted_sum(rows.share, rows.x * (rows.log_m - log_spend))
    d_q = weighted_sum(rows.share_by_x, psi_total) - digamma(q) + np.log(v) - weighted_sum(rows.share, log_spend)
    d_v = q / v - weighted_sum(rows.share, (px + q) / (v + rows.x * rows.m))
    return value, np.array([d_p * p, d_q * q, d_v * v])


def fit(
    x: np.ndarray, m: np.ndarray, weight: np.ndarray, max_iterations: int, tolerance: float
) -> tuple[GammaGammaParams, MaximumLikelihood]:
    """Maximum-likelihood parameters from customers with x >= 1 and m > 0 (`weight` customers per row). Starts
    at p = q = 2 and v = the mean of m, so the starting population mean p v / (q - 1) is twice the observed mean
    whatever the currency; a nearby start, as the model is scale-free in v."""
    rows = _Rows.of(x, m, weight)

    def mean_log_likelihood(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = _evaluate(log_params, rows, gradient=True)
        return weighted_sum(rows.share, value), gradient

    start = np.array([2.0, 2.0, max(weighted_sum(rows.share, rows.m), 1e-6)])
    result = maximise(mean_log_likelihood, start, float(np.sum(weight)), max_iterations, tolerance)
    return GammaGammaParams(*result.params), result


def population_mean_spend(params: GammaGammaParams) -> float:
    """E[spend per purchase] of a customer not yet seen buying twice: p v / (q - 1); infinite when q <= 1."""
    return params.p * params.v / (params.q - 1.0) if params.q > 1.0 else np.inf


def expected_spend(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[spend per purchase | x, m] = p (v + x m) / (p x + q - 1) (Fader & Hardie's note): a weighted mean of the
    population's p v / (q - 1) (weight (q - 1) / (p x + q - 1)) and the customer's own m (weight p x /
    (p x + q - 1)). With x = 0 (m then null, read as 0) it is the population mean. Needs q > 1."""
    return params.p * (params.v + x * m) / (params.p * x + params.q - 1.0)
