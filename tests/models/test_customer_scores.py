"""Per-customer scores: the models' predictions from hand-set parameters, their invariants on a fitted model, and
the fallback values worked out by hand."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from model_data import AS_OF, hand_set_models, simulated_summary

from cross_sell_upsell.configuration import CustomerModelSettings
from cross_sell_upsell.features.purchase_summary import SUMMARY_SCHEMA
from cross_sell_upsell.models import beta_geo
from cross_sell_upsell.models.beta_geo import BetaGeoParams
from cross_sell_upsell.models.fit import fit_customer_models
from cross_sell_upsell.models.gamma_gamma import GammaGammaParams
from cross_sell_upsell.models.scoring import fallback_scores, score_customers

PURCHASES = BetaGeoParams(r=0.5, alpha=10.0, a=0.8, b=2.5)
SPEND = GammaGammaParams(p=2.0, q=3.0, v=10.0)


def _summary(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame(
        [dict(zip(["customer_id", *SUMMARY_SCHEMA], row, strict=True)) for row in rows],
        schema={"customer_id": pl.String(), **SUMMARY_SCHEMA},
    )


# customer | first purchase | last purchase | x | t_x | T  | m   | lifetime spend | mean gap
# N        | 2024-01-30     | 2024-01-30    | 0 | 0   | 30 | -   | 20             | -
# R        | 2024-02-09     | 2024-02-21    | 2 | 12  | 20 | 4   | 18             | 6
HAND = _summary(
    ("N", date(2024, 1, 30), date(2024, 1, 30), 0, 0, 30, None, 20.0, None),
    ("R", date(2024, 2, 9), date(2024, 2, 21), 2, 12, 20, 4.0, 18.0, 6.0),
)


def test_model_scores_from_hand_set_parameters():
    settings = CustomerModelSettings(clv_horizon_days=30, annual_discount_rate=0.1)
    scores = score_customers(hand_set_models(PURCHASES, SPEND, settings), HAND, horizon_days=10).rows_by_key(
        "customer_id", named=True, unique=True
    )
    new, repeat = scores["N"], scores["R"]
    # N: no repeat purchase, so active for sure; P(no purchase in 10 days) = (40 / 50)^0.5; given a purchase in
    # the 10 days, the median wait is 4.58 days past the end of 2024-02-29 (test_beta_geo), so on the 5th day of
    # the window, 2024-03-05; spend per purchase p v / (q - 1).
    assert new["p_alive"] == 1.0
    assert new["churn_probability"] == pytest.approx(math.sqrt(0.8))
    assert new["expected_next_order"] == date(2024, 3, 5)
    assert new["expected_spend"] == pytest.approx(10.0)
    # R: spend p (v + x m) / (p x + q - 1) = 2 * 18 / 6 = 6. The 30-day CLV horizon is one period, discounted
    # from its end: 6 * P(alive) * E[purchases in 30 days | alive] * 1.1^(-30 / 365).
    alive = 1 / (1 + 0.8 / 3.5 * (30 / 22) ** 2.5)
    x, T = np.array([2.0]), np.array([20.0])
    assert repeat["p_alive"] == pytest.approx(alive)
    assert repeat["expected_spend"] == pytest.approx(6.0)
    assert repeat["expected_purchases"] == pytest.approx(
        alive * beta_geo.expected_purchases_if_alive(PURCHASES, x, T, 10)[0]
    )
    thirty_days = beta_geo.expected_purchases_if_alive(PURCHASES, x, T, 30)[0]
    assert repeat["predicted_clv"] == pytest.approx(6.0 * alive * thirty_days * 1.1 ** (-30 / 365))
    assert {new["model_source"], repeat["model_source"]} == {"model"}


@pytest.fixture(scope="module")
def fitted() -> tuple[pl.DataFrame, CustomerModelSettings]:
    summary = simulated_summary()
    return summary, fit_customer_models(summary, CustomerModelSettings(annual_discount_rate=0.0))


def test_fitted_scores_keep_their_invariants(fitted):
    summary, models = fitted
    scores = score_customers(models, summary, horizon_days=28)
    assert scores.get_column("customer_id").to_list() == summary.get_column("customer_id").to_list()
    assert scores.null_count().sum_horizontal().item() == 0
    checks = scores.select(
        probabilities=pl.col("p_alive").is_between(0, 1).all() & pl.col("churn_probability").is_between(0, 1).all(),
        # No purchase in the window happens at least whenever the customer has left.
        churn_covers_leaving=(pl.col("churn_probability") >= 1 - pl.col("p_alive") - 1e-12).all(),
        positive=(pl.col("expected_purchases") > 0).all() & (pl.col("predicted_clv") > 0).all(),
        in_the_window=pl.col("expected_next_order").is_between(AS_OF, AS_OF + timedelta(days=27)).all(),
    ).row(0)
    assert checks == (True, True, True, True)
    longer = score_customers(models, summary, horizon_days=56)
    assert (longer.get_column("expected_purchases") > scores.get_column("expected_purchases")).all()


def test_without_discounting_the_clv_is_spend_times_purchases_over_the_horizon(fitted):
    # The periods' increments add up to E[purchases in 365 days] when each counts in full.
    summary, models = fitted
    scores = score_customers(models, summary, horizon_days=365)
    expected = scores.get_column("expected_spend") * scores.get_column("expected_purchases")
    assert scores.get_column("predicted_clv").to_list() == pytest.approx(expected.to_list(), rel=1e-9)
    discounted = score_customers(fit_customer_models(summary, CustomerModelSettings()), summary, horizon_days=365)
    ratio = discounted.get_column("predicted_clv") / scores.get_column("predicted_clv")
    assert ratio.min() >= 1 / 1.1 and ratio.max() < 1


def test_fallback_values_by_hand():
    # The typical gap is the median mean gap over customers with one: R's 6 days. N has been quiet 30 days, R 8.
    # expected purchases: N 0 (no repeat); R 2 / 20 * 28 = 2.8.
    # churn: 1 - exp(-days quiet / (2 gap)): N 1 - exp(-30 / 12), R 1 - exp(-8 / 12).
    # next order: last + gap, not before 2024-03-01: N 2024-02-05 -> 2024-03-01; R 2024-02-27 -> 2024-03-01.
    # spend per purchase: lifetime spend / purchase days: N 20, R 6; CLV: the lifetime spend.
    scores = fallback_scores(HAND, 28)
    assert scores.get_column("expected_purchases").to_list() == pytest.approx([0.0, 2.8])
    churn = [1 - math.exp(-30 / 12), 1 - math.exp(-8 / 12)]
    assert scores.get_column("churn_probability").to_list() == pytest.approx(churn)
    assert scores.get_column("p_alive").to_list() == pytest.approx([1 - value for value in churn])
    assert scores.get_column("expected_next_order").to_list() == [AS_OF, AS_OF]
    assert scores.get_column("expected_spend").to_list() == pytest.approx([20.0, 6.0])
    assert scores.get_column("predicted_clv").to_list() == pytest.approx([20.0, 18.0])
    assert scores.get_column("model_source").to_list() == ["fallback", "fallback"]


def test_a_customer_without_finite_model_values_gets_the_fallback():
    broken = BetaGeoParams(r=0.5, alpha=math.nan, a=0.8, b=2.5)
    scores = score_customers(hand_set_models(broken, SPEND), HAND, horizon_days=28)
    assert scores.equals(fallback_scores(HAND, 28))
