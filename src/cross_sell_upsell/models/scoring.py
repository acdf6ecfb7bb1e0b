"""Each customer's predictions from the fitted models, or the fallback values where the models do not hold.

The window W (the caller's `horizon_days`, or the settings' `window_days`) starts on the as-of date; in the
model's time it is (T, T + W], T being the end of the day before the as-of date. docs/customer-models.md states
every formula.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from cross_sell_upsell.data.derivations import churn_risk, typical_gap_days
from cross_sell_upsell.models import beta_geo, gamma_gamma
from cross_sell_upsell.models.fit import CustomerModels, horizon_reason

SCORE_SCHEMA: dict[str, pl.DataType] = {
    "expected_purchases": pl.Float64(),
    "p_alive": pl.Float64(),
    "churn_probability": pl.Float64(),
    "expected_next_order": pl.Date(),
    "expected_spend": pl.Float64(),
    "predicted_clv": pl.Float64(),
    "model_source": pl.String(),
}
"""The columns after `customer_id`, one row per customer of the summary, in its order:

- expected_purchases: purchases expected in the window;
- p_alive: the probability that the customer is still active (will buy again some day);
- churn_probability: the probability of no purchase in the window;
- expected_next_order: the day by which a customer who orders in the window has even odds of having done so;
- expected_spend: expected spend per future purchase;
- predicted_clv: expected spend over the settings' CLV horizon, discounted to the as-of date;
- model_source: "model", or "fallback" where the models do not hold (then the values are the derived ones
  described in `fallback_scores`)."""


CLV_PERIOD_DAYS = 30
"""The CLV horizon is cut into periods of about this many days; each period's expected purchases are discounted
from its end."""


def score_customers(models: CustomerModels, summary: pl.DataFrame, horizon_days: int | None = None) -> pl.DataFrame:
    """customer_id and SCORE_SCHEMA for every customer of `summary`, the one the models were fitted on (or one
    built the same way at the same as-of date). The fallback values for every customer when the models do not
    hold (`models.fallback`, or a window too long for the history), and for any customer whose model values are
    not finite."""
    window = horizon_days or models.settings.window_days
    if fallback_reason(models, window) is not None:
        return fallback_scores(summary, window)
    model = _model_scores(models, summary, window).with_columns(
        finite=pl.all_horizontal(pl.col(pl.Float64).is_finite()) & pl.col("expected_next_order").is_not_null()
    )
    if model.get_column("finite").all():
        return model.drop("finite")
    fallback = fallback_scores(summary, window)
    return model.select(
        "customer_id",
        *(
            pl.when("finite").then(pl.col(name)).otherwise(fallback.get_column(name)).alias(name)
            for name in SCORE_SCHEMA
        ),
    )


def fallback_reason(models: CustomerModels, horizon_days: int) -> str | None:
    """Why `score_customers(models, ..., horizon_days)` gives every customer the fallback values, or None."""
    return models.fallback or horizon_reason(models.settings, models.diagnostics.history_days, horizon_days)


def _model_scores(models: CustomerModels, summary: pl.DataFrame, window: int) -> pl.DataFrame:
    """The models' predictions; the costly ones (hypergeometric functions) once per distinct (frequency, T)."""
    bgnbd, spend_params, settings = models.bgnbd, models.gamma_gamma, models.settings
    pairs = summary.select("frequency", "T").unique()
    x, T = (pairs.get_column(name).to_numpy().astype(float) for name in ("frequency", "T"))
    pairs = pairs.with_columns(
        purchases_if_alive=beta_geo.expected_purchases_if_alive(bgnbd, x, T, window),
        none_if_alive=beta_geo.p_no_purchase_if_alive(bgnbd, x, T, window),
        discounted_if_alive=discounted_purchases_if_alive(
            bgnbd, x, T, settings.clv_horizon_days, settings.annual_discount_rate
        ),
        days_to_next=beta_geo.median_days_to_next_purchase(bgnbd, x, T, window),
    )
    rows = summary.join(pairs, on=["frequency", "T"], how="left", maintain_order="left")
    x, t_x, T = (rows.get_column(name).to_numpy().astype(float) for name in ("frequency", "recency", "T"))
    alive = beta_geo.p_alive(bgnbd, x, t_x, T)
    spend = gamma_gamma.expected_spend(spend_params, x, rows.get_column("monetary").fill_null(0.0).to_numpy())
    return rows.select(
        "customer_id",
        expected_purchases=pl.Series(alive) * pl.col("purchases_if_alive"),
        p_alive=pl.Series(alive),
        churn_probability=1.0 - pl.Series(alive) * (1.0 - pl.col("none_if_alive")),
        # The window's first day is the as-of date, day T + 1 after the first purchase; a purchase at time s
        # past T falls on day ceil(s) of the window.
        expected_next_order=pl.col("first_purchase")
        + pl.duration(days=pl.col("T") + pl.col("days_to_next").ceil().cast(pl.Int64, strict=False)),
        expected_spend=pl.Series(np.maximum(spend, 0.0)),
        predicted_clv=pl.Series(np.maximum(spend, 0.0) * alive) * pl.col("discounted_if_alive"),
        model_source=pl.lit("model"),
    )


def discounted_purchases_if_alive(
    params: beta_geo.BetaGeoParams, x: np.ndarray, T: np.ndarray, horizon_days: int, annual_rate: float
) -> np.ndarray:
    """Sum over the periods k = 1..n of the horizon (n = horizon / CLV_PERIOD_DAYS rounded, at least 1, ends
    t_k = k horizon / n) of [E(t_k) - E(t_(k-1))] (1 + annual_rate)^(-t_k / 365), E(t) being the expected
    purchases in the next t days of a customer active now: the purchases of the horizon, each period's counted
    at its end's discount. Times expected spend and P(alive), the CLV."""
    periods = max(1, round(horizon_days / CLV_PERIOD_DAYS))
    total = np.zeros(np.broadcast(x, T).shape)
    before = np.zeros_like(total)
    for k in range(1, periods + 1):
        end = horizon_days * k / periods
        expected = beta_geo.expected_purchases_if_alive(params, x, T, end)
        total += (expected - before) * math.pow(1.0 + annual_rate, -end / 365.0)
        before = expected
    return total


def fallback_scores(summary: pl.DataFrame, window: int) -> pl.DataFrame:
    """The values the orchestrator derives without the models (data/derivations.py), for every customer:

    - expected_purchases = frequency / T x window (the past repeat rate; 0 when T = 0);
    - churn_probability = derivations' churn risk 1 - exp(-days since the last purchase / (2 x mean gap)), the
      gap of a single-purchase customer being the customers' typical (median) gap, or the history when nobody
      bought twice; p_alive = 1 - churn_probability;
    - expected_next_order = the last purchase + the mean (or typical) gap, not before the as-of date;
    - expected_spend = lifetime spend / purchase days; predicted_clv = lifetime spend (today's lifetime value)."""
    history = int(summary.get_column("T").max() or 0) + 1
    gap = typical_gap_days(summary, float(history))
    rows = summary.with_columns(recency_days=pl.col("T") - pl.col("recency"))
    as_of = pl.col("first_purchase") + pl.duration(days=pl.col("T") + 1)
    next_gap = pl.col("mean_gap_days").fill_null(gap).round().cast(pl.Int64)
    return rows.select(
        "customer_id",
        expected_purchases=pl.when(pl.col("T") > 0).then(pl.col("frequency") / pl.col("T") * window).otherwise(0.0),
        p_alive=1.0 - churn_risk(gap),
        churn_probability=churn_risk(gap),
        expected_next_order=pl.max_horizontal(pl.col("last_purchase") + pl.duration(days=next_gap), as_of),
        expected_spend=pl.col("lifetime_spend") / (pl.col("frequency") + 1),
        predicted_clv=pl.col("lifetime_spend"),
        model_source=pl.lit("fallback"),
    ).cast(SCORE_SCHEMA)
