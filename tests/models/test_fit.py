"""Fitting with honest gating: each way the data can fail the models gives the fallback with its reason, and
the scores stay finite, never a traceback or a NaN."""

from __future__ import annotations

import polars as pl
import pytest
from model_data import AS_OF, simulated_purchases

from cross_sell_upsell.configuration import CustomerModelSettings
from cross_sell_upsell.features.purchase_summary import purchase_summary
from cross_sell_upsell.models.fit import fit_customer_models
from cross_sell_upsell.models.scoring import SCORE_SCHEMA, fallback_reason, score_customers

DEFAULTS = CustomerModelSettings()


@pytest.fixture(scope="module")
def purchases() -> pl.DataFrame:
    return simulated_purchases()


def _assert_fallback_scores(summary: pl.DataFrame, models, window: int = 90) -> None:
    """Every customer scored, from the fallback, with no null and no NaN or infinity."""
    scores = score_customers(models, summary, window)
    assert scores.height == summary.height > 0
    assert scores.get_column("model_source").unique().to_list() == ["fallback"]
    assert scores.null_count().sum_horizontal().item() == 0
    assert scores.select(pl.all_horizontal(pl.col(pl.Float64).is_finite()).all()).item()


def test_the_simulated_log_fits(purchases):
    summary = purchase_summary(purchases, AS_OF)
    models = fit_customer_models(summary, DEFAULTS)
    assert models.fallback is None
    diagnostics = models.diagnostics
    assert diagnostics.bgnbd.converged and diagnostics.gamma_gamma.converged
    counts = summary.select(
        customers=pl.len(),
        repeat=(pl.col("frequency") > 0).sum(),
        frequent=(pl.col("frequency") >= 2).sum(),
        history=pl.col("T").max() + 1,
        rows=pl.struct("frequency", "recency", "T").n_unique(),
    ).row(0)
    got = (
        diagnostics.customers,
        diagnostics.repeat_customers,
        diagnostics.frequent_customers,
        diagnostics.history_days,
        diagnostics.collapsed_rows,
    )
    assert got == counts
    assert models.as_dict()["bgnbd"]["time_unit"] == "days"
    assert score_customers(models, summary).get_column("model_source").unique().to_list() == ["model"]


def test_customers_with_one_purchase_only_fall_back(purchases):
    summary = purchase_summary(purchases.group_by("customer_id").head(1), AS_OF)
    models = fit_customer_models(summary, DEFAULTS)
    assert models.fallback == (
        "too little data: 0 customers with a repeat purchase worth more than 0, the models need at least 200"
    )
    assert models.bgnbd is None and models.diagnostics.bgnbd is None
    _assert_fallback_scores(summary, models)


def test_purchases_all_on_one_day_fall_back(purchases):
    summary = purchase_summary(purchases.with_columns(purchase_date=pl.lit(AS_OF).dt.offset_by("-1d")), AS_OF)
    models = fit_customer_models(summary, DEFAULTS)
    assert models.fallback.startswith("too little data: 0 customers with a repeat purchase")
    assert summary.select(pl.col("T").max()).item() == 0
    _assert_fallback_scores(summary, models)


def test_zero_spend_falls_back(purchases):
    summary = purchase_summary(purchases.with_columns(amount=pl.lit(0.0)), AS_OF)
    models = fit_customer_models(summary, DEFAULTS)
    assert models.fallback.startswith("too little data: 0 customers with a repeat purchase worth more than 0")
    _assert_fallback_scores(summary, models)


def test_negative_spend_leaves_no_customer_and_falls_back(purchases):
    summary = purchase_summary(purchases.with_columns(amount=-pl.col("amount")), AS_OF)
    models = fit_customer_models(summary, DEFAULTS)
    assert summary.height == 0
    assert models.fallback == "too little data: 0 customers with a purchase, the models need at least 500"
    scores = score_customers(models, summary)
    assert scores.height == 0 and dict(scores.schema) == {"customer_id": pl.String(), **SCORE_SCHEMA}


def test_a_history_shorter_than_the_minimum_falls_back():
    summary = purchase_summary(simulated_purchases(history_days=150), AS_OF)
    models = fit_customer_models(summary, DEFAULTS)
    assert models.fallback == "too little data: 150 days of purchase history, the models need at least 180"


def test_a_history_too_short_for_the_horizon_falls_back():
    # 150 days of history cannot support a 365-day CLV (at most twice the history), even when 150 days is enough.
    summary = purchase_summary(simulated_purchases(history_days=150), AS_OF)
    models = fit_customer_models(summary, CustomerModelSettings(min_history_days=30))
    assert models.fallback == (
        "history too short: 150 days of purchases cannot support predictions 365 days ahead "
        "(at most 2 times the history)"
    )
    _assert_fallback_scores(summary, models)
    shorter = fit_customer_models(summary, CustomerModelSettings(min_history_days=30, clv_horizon_days=300))
    assert shorter.fallback is None
    # A window longer than the history allows falls back when scoring, with the reason to report.
    assert fallback_reason(shorter, 301).startswith("history too short: 150 days of purchases")
    _assert_fallback_scores(summary, shorter, window=301)


def test_a_fit_that_does_not_converge_falls_back(purchases):
    summary = purchase_summary(purchases, AS_OF)
    models = fit_customer_models(summary, CustomerModelSettings(max_iterations=1))
    assert models.fallback.startswith("the BG/NBD fit did not converge: largest gradient ")
    assert "after 1 of at most 1 iterations" in models.fallback
    assert not models.diagnostics.bgnbd.converged
    _assert_fallback_scores(summary, models)


def test_switched_off_falls_back(purchases):
    summary = purchase_summary(purchases, AS_OF)
    models = fit_customer_models(summary, CustomerModelSettings(enabled=False))
    assert models.fallback == "the customer models are switched off"
    _assert_fallback_scores(summary, models)


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ("min_customers", "1,500 customers with a purchase, the models need at least 1,501"),
        ("min_frequent_customers", "customers with three or more purchase days"),
    ],
)
def test_each_threshold_is_checked(purchases, setting, reason):
    summary = purchase_summary(purchases, AS_OF)
    counts = {"min_customers": summary.height + 1, "min_frequent_customers": summary.height + 1}
    models = fit_customer_models(summary, CustomerModelSettings(**{setting: counts[setting]}))
    assert models.fallback.startswith("too little data: ") and reason in models.fallback
