"""Purchase logs drawn from the BG/NBD and Gamma-Gamma processes, and hand-set models, for the customer model
tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import polars as pl

from cross_sell_upsell.configuration import CustomerModelSettings
from cross_sell_upsell.features.purchase_summary import purchase_summary
from cross_sell_upsell.models import beta_geo
from cross_sell_upsell.models.beta_geo import BetaGeoParams
from cross_sell_upsell.models.fit import CustomerModels, FitDiagnostics
from cross_sell_upsell.models.gamma_gamma import GammaGammaParams

AS_OF = date(2024, 3, 1)
ACTIVE = BetaGeoParams(r=0.6, alpha=15.0, a=0.7, b=3.0)
"""A purchase about every 25 days while active; about one in five customers leaves after each purchase."""


def simulated_purchases(customers: int = 1500, history_days: int = 365, seed: int = 5) -> pl.DataFrame:
    """customer_id, purchase_date, amount: one row per purchase day of `customers` drawn from ACTIVE, first
    purchases spread over the `history_days` days before AS_OF, amounts Gamma(4) around a customer's own mean."""
    generator = np.random.default_rng(seed)
    T = np.floor(generator.uniform(0, history_days, customers))
    x, t_x = beta_geo.simulate(ACTIVE, T, generator)
    days = x + 1
    customer = np.repeat(np.arange(customers), days)
    position = np.arange(len(customer)) - np.repeat(np.cumsum(days) - days, days)
    when = np.where(position == 0, 0.0, generator.uniform(0, 1, len(customer)) * t_x[customer])
    when = np.where((position == x[customer]) & (position > 0), t_x[customer], when)
    day = (AS_OF - date(1970, 1, 1)).days - 1 - T[customer] + np.floor(when)
    mean_spend = generator.gamma(3.0, 10.0, customers)
    return pl.DataFrame(
        {
            "customer_id": pl.Series(customer).cast(pl.String).str.zfill(5).str.replace("^", "C"),
            "purchase_date": pl.Series(day.astype(np.int32)).cast(pl.Date),
            "amount": generator.gamma(4.0, mean_spend[customer] / 4.0),
        }
    )


def simulated_summary(**options: int) -> pl.DataFrame:
    """The purchase summary of `simulated_purchases(**options)` at AS_OF."""
    return purchase_summary(simulated_purchases(**options), AS_OF)


def hand_set_models(
    bgnbd: BetaGeoParams, spend: GammaGammaParams, settings: CustomerModelSettings | None = None
) -> CustomerModels:
    """Models with the given parameters, as if fitted on a 365-day history."""
    diagnostics = FitDiagnostics(
        customers=0,
        repeat_customers=0,
        frequent_customers=0,
        history_days=365,
        collapsed_rows=0,
        bgnbd=None,
        gamma_gamma=None,
        spend_frequency_correlation=None,
        seconds=0.0,
    )
    return CustomerModels(settings or CustomerModelSettings(), bgnbd, spend, diagnostics, None)


def standard_errors(log_likelihood: Callable[[np.ndarray], np.ndarray], fitted: dict[str, float]) -> np.ndarray:
    """Standard errors of the log parameters at the maximum `fitted`: the inverse of the observed information,
    by central second differences of the summed `log_likelihood(params)`."""
    point, step, size = np.log(list(fitted.values())), 1e-3, len(fitted)

    def total(log_params: np.ndarray) -> float:
        return float(np.sum(log_likelihood(np.exp(log_params))))

    hessian = np.empty((size, size))
    for i in range(size):
        for j in range(size):
            ends = [point + (np.eye(size)[i] * si + np.eye(size)[j] * sj) * step for si in (1, -1) for sj in (1, -1)]
            values = [total(end) for end in ends]
            hessian[i, j] = (values[0] - values[1] - values[2] + values[3]) / (4 * step * step)
    return np.sqrt(np.diag(np.linalg.inv(-hessian)))
