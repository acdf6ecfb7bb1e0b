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

from cross_sell_upsell.models.mle import MaximumLikelihood, maximise


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
    """Each customer's log-likelihood of mean spend m over x >= 1 repeat purchases (the paper's eq. 3, the
    density of the mean of x Gamma(p, nu) amounts integrated over nu ~ Gamma(q, v)):

        f(m | x) = Gamma(p x + q) / (Gamma(p x) Gamma(q)) v^q m^(p x - 1) x^(p x) / (v + x m)^(p x + q)"""
    value, _ = _terms(np.log([params.p, params.q, params.v]), x, m, gradient=False)
    return value


def _terms(
    log_params: np.ndarray, x: np.ndarray, m: np.ndarray, gradient: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row log-likelihood and (when asked) its gradient with respect to the log parameters (rows x 3)."""
    p, q, v = np.exp(log_params)
    px = p * x
    log_spend = np.log(v + x * m)
    value = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m) + px * np.log(x)
    value = value - (px + q) * log_spend
    if not gradient:
        return value, None
    psi_total = digamma(px + q)
    d_p = x * (psi_total - digamma(px) + np.log(m) + np.log(x) - log_spend)
    d_q = psi_total - digamma(q) + np.log(v) - log_spend
    d_v = q / v - (px + q) / (v + x * m)
    return value, np.column_stack([d_p * p, d_q * q, d_v * v])


def fit(
    x: np.ndarray, m: np.ndarray, weight: np.ndarray, max_iterations: int, tolerance: float
) -> tuple[GammaGammaParams, MaximumLikelihood]:
    """Maximum-likelihood parameters from customers with x >= 1 and m > 0 (`weight` customers per row). Starts
    at p = q = 2 and v = the mean of m, so the starting population mean p v / (q - 1) is twice the observed mean
    whatever the currency; a nearby start, as the model is scale-free in v."""
    total = float(weight.sum())
    share = weight / total

    def mean_log_likelihood(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = _terms(log_params, x, m, gradient=True)
        return float(np.dot(share, value)), share @ gradient

    start = np.array([2.0, 2.0, max(float(np.dot(share, m)), 1e-6)])
    result = maximise(mean_log_likelihood, start, total, max_iterations, tolerance)
    return GammaGammaParams(*result.params), result


def population_mean_spend(params: GammaGammaParams) -> float:
    """E[spend per purchase] of a customer not yet seen buying twice: p v / (q - 1); infinite when q <= 1."""
    return params.p * params.v / (params.q - 1.0) if params.q > 1.0 else np.inf


def expected_spend(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[spend per purchase | x, m] = p (v + x m) / (p x + q - 1) (the paper's eq. 5): a weighted mean of the
    population's p v / (q - 1) (weight (q - 1) / (p x + q - 1)) and the customer's own m (weight p x /
    (p x + q - 1)). With x = 0 (m then null, read as 0) it is the population mean. Needs q > 1."""
    return params.p * (params.v + x * m) / (params.p * x + params.q - 1.0)
