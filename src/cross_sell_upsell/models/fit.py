"""Fitting the customer models on a purchase summary, with honest gating: where the data cannot support the
models, or a fit does not converge, the result says so (`fallback`) instead of raising."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from cross_sell_upsell.configuration import CustomerModelSettings
from cross_sell_upsell.features.sorted_purchases import run_starts, sort_rows
from cross_sell_upsell.models import beta_geo, gamma_gamma
from cross_sell_upsell.models.beta_geo import BetaGeoParams
from cross_sell_upsell.models.gamma_gamma import GammaGammaParams
from cross_sell_upsell.models.mle import MaximumLikelihood


@dataclass(frozen=True)
class FitDiagnostics:
    """What the data held and how the fits went."""

    customers: int
    """Customers in the summary (each with a purchase before the as-of date)."""
    repeat_customers: int
    """Customers with a repeat purchase whose repeat purchases are worth more than zero (the spend model's data)."""
    frequent_customers: int
    """Customers with three purchase days or more."""
    history_days: int
    """Days from the first purchase in the data to the as-of date (the oldest customer's T + 1)."""
    collapsed_rows: int
    """Distinct (frequency, recency, T) rows the BG/NBD was fitted on."""
    bgnbd: MaximumLikelihood | None
    """The BG/NBD fit; None when the gating stopped before it."""
    gamma_gamma: MaximumLikelihood | None
    """The Gamma-Gamma fit; None when the gating or the BG/NBD stopped before it."""
    spend_frequency_correlation: float | None
    """Pearson correlation of frequency and mean spend among repeat customers: the Gamma-Gamma assumes none."""
    seconds: float
    """Time the fitting took."""

    def as_dict(self) -> dict[str, Any]:
        """The diagnostics as plain JSON values, without `seconds`, so the same data gives the same document;
        each fit as its log-likelihood (summed, time in days), largest gradient, iterations and convergence."""
        fits = {
            f"{name}_fit": None
            if fit is None
            else {
                "log_likelihood": fit.log_likelihood,
                "gradient": fit.gradient,
                "iterations": fit.iterations,
                "converged": fit.converged,
                "message": fit.message,
            }
            for name, fit in (("bgnbd", self.bgnbd), ("gamma_gamma", self.gamma_gamma))
        }
        return {
            "repeat_customers": self.repeat_customers,
            "frequent_customers": self.frequent_customers,
            "history_days": self.history_days,
            "collapsed_rows": self.collapsed_rows,
            **fits,
            "spend_frequency_correlation": self.spend_frequency_correlation,
        }


@dataclass(frozen=True)
class CustomerModels:
    """The fitted BG/NBD and Gamma-Gamma models (time in days), or the reason they are not used."""

    settings: CustomerModelSettings
    """The settings they were fitted and are scored with."""
    bgnbd: BetaGeoParams | None
    """BG/NBD parameters (also when a fit did not converge, for the diagnostics); None when not fitted."""
    gamma_gamma: GammaGammaParams | None
    """Gamma-Gamma parameters, as `bgnbd`."""
    diagnostics: FitDiagnostics
    """What the data held and how the fits went."""
    fallback: str | None
    """Why every customer gets the fallback values instead of the models' predictions; None when the models hold."""

    def as_dict(self) -> dict[str, Any]:
        """The parameters and the fallback as plain JSON values (issue #11's `models` output)."""
        return {
            "customers": self.diagnostics.customers,
            "bgnbd": None if self.bgnbd is None else {**vars(self.bgnbd), "time_unit": "days"},
            "gamma_gamma": None if self.gamma_gamma is None else vars(self.gamma_gamma),
            "fallback": self.fallback,
        }


def fit_customer_models(summary: pl.DataFrame, settings: CustomerModelSettings) -> CustomerModels:
    """The models fitted on `summary` (features/purchase_summary.py), or the first reason not to trust them:
    switched off, too little data (settings' thresholds), a fit that does not converge, or a spend model
    without a finite mean. Never raises on data."""
    started = time.perf_counter()
    counts = summary.select(
        customers=pl.len(),
        repeat_customers=((pl.col("frequency") > 0) & (pl.col("monetary") > 0)).sum(),
        frequent_customers=(pl.col("frequency") >= 2).sum(),
        history_days=pl.col("T").max().fill_null(-1) + 1,
    ).row(0, named=True)
    collapsed = _collapsed(summary, "frequency", "recency", "T")
    diagnostics = FitDiagnostics(
        **counts,
        collapsed_rows=len(collapsed[-1]),
        bgnbd=None,
        gamma_gamma=None,
        spend_frequency_correlation=None,
        seconds=0.0,
    )
    reason = _data_reason(diagnostics, settings) or horizon_reason(
        settings, diagnostics.history_days, settings.clv_horizon_days
    )
    if reason is not None:
        return CustomerModels(settings, None, None, _timed(diagnostics, started), reason)
    x, t_x, T, weight = collapsed
    bgnbd, bgnbd_fit = beta_geo.fit(x, t_x, T, weight, settings.max_iterations, settings.gradient_tolerance)
    repeat = summary.filter((pl.col("frequency") > 0) & (pl.col("monetary") > 0))
    x, m, weight = _collapsed(repeat, "frequency", "monetary")
    spend_params, spend_fit = gamma_gamma.fit(x, m, weight, settings.max_iterations, settings.gradient_tolerance)
    # In numpy over the rows in order: polars' corr sums chunk by chunk, so a frame assembled from partitions gave
    # other last digits than the same rows in one chunk.
    correlation = None
    if repeat.height > 2:
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant column: NaN, dropped below
            matrix = np.corrcoef(repeat.get_column("frequency").to_numpy(), repeat.get_column("monetary").to_numpy())
        correlation = float(matrix[0, 1])
    diagnostics = replace(
        diagnostics,
        bgnbd=bgnbd_fit,
        gamma_gamma=spend_fit,
        spend_frequency_correlation=None if correlation is None or not np.isfinite(correlation) else correlation,
    )
    reason = _fit_reason(bgnbd_fit, spend_fit, spend_params, settings)
    return CustomerModels(settings, bgnbd, spend_params, _timed(diagnostics, started), reason)


def _collapsed(summary: pl.DataFrame, *columns: str) -> list[np.ndarray]:
    """The distinct values of `columns` in `summary` (floats), sorted by the first column, then the second..., and
    last the rows holding each. Sorted, because the likelihood summed in another order differs in its last
    digits, enough to change the fitted parameters' last digits and the report with them; by a numpy sort and
    runs of equal rows, several times faster than a polars group-by on two or three columns."""
    keys = [summary.get_column(name).to_numpy() for name in columns]
    if all(np.issubdtype(key.dtype, np.integer) for key in keys):
        keys, _ = sort_rows(keys)
    else:
        order = np.lexsort(keys[::-1])
        keys = [key[order] for key in keys]
    starts = run_starts(*keys)
    return [key[starts].astype(float) for key in keys] + [np.diff(np.append(starts, summary.height)).astype(float)]


def _timed(diagnostics: FitDiagnostics, started: float) -> FitDiagnostics:
    return replace(diagnostics, seconds=time.perf_counter() - started)


def _data_reason(counts: FitDiagnostics, settings: CustomerModelSettings) -> str | None:
    """Why the data cannot support the models, or None."""
    if not settings.enabled:
        return "the customer models are switched off"
    checks = (
        (counts.customers, settings.min_customers, "customers with a purchase"),
        (counts.repeat_customers, settings.min_repeat_customers, "customers with a repeat purchase worth more than 0"),
        (counts.frequent_customers, settings.min_frequent_customers, "customers with three or more purchase days"),
        (counts.history_days, settings.min_history_days, "days of purchase history"),
    )
    for value, minimum, what in checks:
        if value < minimum:
            return f"too little data: {value:,} {what}, the models need at least {minimum:,}"
    return None


def horizon_reason(settings: CustomerModelSettings, history_days: int, horizon_days: int) -> str | None:
    """Why predictions `horizon_days` ahead (or the CLV horizon or window, if longer) reach too far past a
    `history_days` history (settings' max_horizon_ratio), or None."""
    longest = max(horizon_days, settings.clv_horizon_days, settings.window_days)
    if longest > settings.max_horizon_ratio * history_days:
        return (
            f"history too short: {history_days:,} days of purchases cannot support predictions {longest:,} days "
            f"ahead (at most {settings.max_horizon_ratio:g} times the history)"
        )
    return None


def _fit_reason(
    bgnbd: MaximumLikelihood, spend: MaximumLikelihood, spend_params: GammaGammaParams, settings: CustomerModelSettings
) -> str | None:
    """Why a fit is not trusted, or None."""
    for name, fit in (("BG/NBD", bgnbd), ("Gamma-Gamma", spend)):
        if not fit.converged:
            return (
                f"the {name} fit did not converge: largest gradient {fit.gradient:.3g} (tolerance "
                f"{settings.gradient_tolerance:g}) after {fit.iterations:,} of at most {settings.max_iterations:,} "
                f"iterations ({fit.message})"
            )
    if spend_params.q <= 1.0:
        return f"the Gamma-Gamma fit has no finite mean spend (q = {spend_params.q:.3g} <= 1)"
    return None
