"""The customer models in the snapshot and where they show: a hand-built log where they hold, the shipped data
sets where they fall back, and a synthetic log; the priority / win-back split and no NaN anywhere."""

from __future__ import annotations

import csv
import json
import math
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from support import AS_OF, TIER1, TIERED

from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import CustomerModelSettings, OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset, load_dataset
from cross_sell_upsell.data.ingest import load_transactions_dataset
from cross_sell_upsell.data.synth import SUGGESTED_AS_OF, generate, write_parquet
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.pipeline.api import analyze_customer
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.reporting.executive.exports import RECOMMENDATION_COLUMNS
from cross_sell_upsell.snapshot.build import build_snapshot, check_snapshot
from cross_sell_upsell.snapshot.customers import CUSTOMER_MODEL_COLUMNS, NO_PURCHASE, priced_purchases

LOG_AS_OF = date(2024, 12, 31)
CONFIG = OrchestratorConfig()

PATTERNS = (
    # pattern    customers  first purchase (days before)  days between  purchases  amount
    ("weekly", 60, 300, 7, 40, 20.0),
    ("monthly", 150, 360, 30, 12, 35.0),
    ("quarterly", 100, 350, 90, 4, 60.0),
    ("lapsed", 100, 360, 20, 6, 25.0),  # six purchases in the first four months, then nothing for eight
    ("once_old", 150, 330, 0, 1, 30.0),
    ("once_new", 100, 40, 0, 1, 30.0),
)
"""Per-customer purchase patterns; customer i of a pattern starts i mod 30 days later and drifts by (i x k) mod 5
days on its k-th purchase, and pays the amount + i mod 7 dollars, so the customers are not all alike."""


def pattern_log() -> list[tuple[str, str, date, int, float]]:
    rows = []
    for name, customers, first, gap, purchases, amount in PATTERNS:
        for i in range(customers):
            start = LOG_AS_OF - timedelta(days=first - i % 30)
            rows += [
                (f"{name}-{i:03d}", "CL1", start + timedelta(days=k * gap + (i * k) % 5), 1, amount + i % 7)
                for k in range(purchases)
            ]
    return rows


@pytest.fixture(scope="module")
def pattern_dataset(tmp_path_factory) -> Dataset:
    """The pattern log, a one-product catalog (a cleanser on a 30-day cycle) and a customers file with a
    newcomer who has bought nothing yet and one whose churn risk the retailer gives."""
    folder = tmp_path_factory.mktemp("patterns")
    with open(folder / "log.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["customer_id", "product_id", "date", "quantity", "amount"])
        writer.writerows(pattern_log())
    (folder / "catalog.csv").write_text(
        "product_id,name,category,price,replenishment_cycle_days\nCL1,Cleanser,cleanser,20.00,30\n"
    )
    (folder / "customers.csv").write_text("customer_id,churn_risk\nnewcomer,\nknown-new,0.3\n")
    return load_transactions_dataset(
        folder / "log.csv", folder / "catalog.csv", folder / "customers.csv", as_of=LOG_AS_OF
    )


def by_pattern(customers: pl.DataFrame) -> pl.DataFrame:
    return customers.group_by(pattern=pl.col("customer_id").str.extract(r"^(\w+)-")).agg(
        pl.col("p_alive", "churn_probability", "expected_purchases", "predicted_clv").mean()
    )


def assert_no_nan(frame: pl.DataFrame) -> None:
    floats = frame.select(pl.col(pl.Float64))
    assert floats.select(pl.any_horizontal(pl.all().is_nan() | pl.all().is_null()).sum()).item() == 0


def test_the_models_hold_on_a_log_with_enough_customers(pattern_dataset):
    snapshot = build_snapshot(pattern_dataset, LOG_AS_OF, CONFIG)
    models = snapshot.customer_models
    assert models.fallback is None and models.diagnostics.customers == 660
    customers = snapshot.customers.filter(pl.col("customer_id").str.contains("-\\d"))
    assert customers.get_column("model_source").cast(pl.String).unique().to_list() == ["model"]
    assert customers.get_column("model_fallback_reason").null_count() == customers.height
    assert_no_nan(snapshot.customers.select(CUSTOMER_MODEL_COLUMNS))
    means = {row["pattern"]: row for row in by_pattern(customers).iter_rows(named=True)}
    # Who buys more often is expected to buy more; who stopped eight months ago has most likely left.
    assert means["weekly"]["expected_purchases"] > means["monthly"]["expected_purchases"]
    assert means["monthly"]["expected_purchases"] > means["quarterly"]["expected_purchases"]
    assert means["lapsed"]["p_alive"] < CONFIG.win_back_below_p_alive < means["monthly"]["p_alive"]
    assert means["lapsed"]["churn_probability"] > means["monthly"]["churn_probability"]
    assert means["weekly"]["predicted_clv"] > means["once_old"]["predicted_clv"]
    # The next order, for one who orders in the 90-day window, falls inside it.
    next_order = customers.get_column("expected_next_order")
    assert next_order.min() > LOG_AS_OF and next_order.max() <= LOG_AS_OF + timedelta(days=90)


def test_a_customer_without_a_purchase_gets_defined_values(pattern_dataset):
    customers = build_snapshot(pattern_dataset, LOG_AS_OF, CONFIG).customers
    rows = {
        row["customer_id"]: row
        for row in customers.filter(~pl.col("customer_id").str.contains("-\\d")).rows(named=True)
    }
    newcomer, known = rows["newcomer"], rows["known-new"]
    assert (newcomer["predicted_clv"], newcomer["churn_probability"], newcomer["p_alive"]) == (0.0, 0.5, 0.5)
    assert (newcomer["expected_purchases"], newcomer["expected_next_order"]) == (0.0, None)
    assert (newcomer["model_source"], newcomer["model_fallback_reason"]) == ("fallback", NO_PURCHASE)
    # A churn risk the retailer gives is the fallback's churn.
    assert (known["churn_probability"], known["p_alive"]) == pytest.approx((0.3, 0.7))
    assert known["model_fallback_reason"] == NO_PURCHASE + "; churn risk as the retailer gives it"


def test_lapsed_customers_are_won_back_not_reminded(pattern_dataset):
    result = run_batch(pattern_dataset, None, LOG_AS_OF, CONFIG, limits=None)
    assert result.totals.win_back_customers == 100  # every lapsed customer, and no one else
    assert set(result.win_back_list().get_column("customer_id").str.head(7)) == {"lapsed-"}
    assert not result.priority_customers().get_column("customer_id").str.starts_with("lapsed-").any()
    lapsed = analyze_customer("lapsed-000", as_of=LOG_AS_OF, dataset=pattern_dataset)
    assert lapsed.predictions.source == "model" and lapsed.predictions.p_alive < 0.5
    # Last bought some 260 days ago on a 30-day cycle: a win-back offer, not a restock reminder.
    assert [(item.product_id, item.status) for item in lapsed.replenishment_due] == [("CL1", "win_back")]
    offer = next(item for item in lapsed.opportunities if item.product_id == "CL1")
    assert offer.rationale.startswith("Win back: a favourite, last bought")
    monthly = analyze_customer("monthly-000", as_of=LOG_AS_OF, dataset=pattern_dataset)
    assert [item.status for item in monthly.replenishment_due] in ([], ["due"], ["due_soon"])


def test_a_snapshot_serves_only_runs_with_its_customer_model_settings(pattern_dataset):
    snapshot = build_snapshot(pattern_dataset, LOG_AS_OF, CONFIG)
    other = OrchestratorConfig(customer_models=CustomerModelSettings(window_days=30))
    with pytest.raises(ConfigurationError, match="built with other customer_models than the run's"):
        check_snapshot(snapshot, LOG_AS_OF, other)


@pytest.mark.parametrize(("folder", "buyers", "customers"), [(TIER1, 10, 10), (TIERED, 17, 18)])
def test_the_shipped_data_sets_fall_back_and_say_why(folder: Path, buyers: int, customers: int, tmp_path: Path):
    # One tiered customer first buys after the as-of date: 17 of 18 have a purchase to fit on.
    reason = f"too little data: {buyers} customers with a purchase, the models need at least 500"
    dataset = load_dataset(folder)
    first = dataset.customers.row(0, named=True)
    report = analyze_customer(first["customer_id"], as_of=AS_OF, dataset=dataset)
    # The retailer gives lifetime value and churn risk: they are the fallback's CLV and churn.
    assert (report.predictions.predicted_clv, report.predictions.churn_probability) == (
        first["lifetime_value"],
        first["churn_risk"],
    )
    assert report.predictions.source == "fallback"
    assert report.predictions.fallback_reason == reason + "; lifetime value and churn risk as the retailer gives them"
    assert batch_main(["--as-of", str(AS_OF), "--output", str(tmp_path / "w.md")], CONFIG, folder, tmp_path) == 0
    summary = json.loads((tmp_path / "w.summary.json").read_text())
    assert summary["customer_models"]["fallback"] == reason
    assert summary["customer_models"]["customers_analysed"] == {"model": 0, "fallback": customers}
    assert f"The customer models are not used: {reason}." in (tmp_path / "w.md").read_text()
    check_recommendations(tmp_path / "w.recommendations.csv")


def check_recommendations(path: Path) -> None:
    """The CSV has the prediction columns, finite on every row; the next order is a date but for a customer with
    no purchase yet (empty)."""
    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert tuple(rows[0]) == RECOMMENDATION_COLUMNS
    for row in rows:
        for name in ("predicted_clv", "churn_probability", "expected_purchases"):
            assert math.isfinite(float(row[name]))
    dates = [date.fromisoformat(row["expected_next_order"]) for row in rows if row["expected_next_order"]]
    assert len(dates) > len(rows) / 2


def test_a_synthetic_log_runs_on_the_models(tmp_path: Path):
    for name, frame in generate(2000, 5).items():
        write_parquet(frame, tmp_path / f"{name}.parquet")
    files = ["--transactions", "transactions.parquet", "--catalog", "catalog.parquet"]
    argv = [*(str(tmp_path / item) if item.endswith("parquet") else item for item in files)]
    argv += ["--customers-file", str(tmp_path / "customers.parquet"), "--as-of", str(SUGGESTED_AS_OF)]
    assert batch_main([*argv, "--output", str(tmp_path / "w.md"), "--quiet"], CONFIG, TIER1, tmp_path) == 0
    summary = json.loads((tmp_path / "w.summary.json").read_text())
    models = summary["customer_models"]
    assert models["fallback"] is None and models["diagnostics"]["bgnbd_fit"]["converged"] is True
    assert models["customers_analysed"]["model"] > 0.9 * summary["customers_processed"]
    assert summary["win_back"]["customers"] >= len(summary["win_back"]["top"]) > 0
    for row in summary["top_priority_customers"] + summary["win_back"]["top"]:
        assert all(not (isinstance(value, float) and math.isnan(value)) for value in row.values())
    check_recommendations(tmp_path / "w.recommendations.csv")
    report = (tmp_path / "w.md").read_text()
    assert "come from the customer models (BG/NBD and Gamma-Gamma)" in report and "## Win back" in report


def test_a_purchase_without_an_amount_is_valued_at_the_catalog_price():
    keyed = pl.DataFrame(
        {"customer_row": [0, 0], "product_key": [1, 0], "purchase_date": [LOG_AS_OF] * 2, "amount": [None, 7.5]},
        schema={"customer_row": pl.UInt32, "product_key": pl.UInt32, "purchase_date": pl.Date, "amount": pl.Float64},
    )
    prices = pl.Series([20.0, 12.0])
    assert priced_purchases(keyed, prices).collect().get_column("amount").to_list() == [12.0, 7.5]
    assert priced_purchases(keyed.drop("amount"), prices).collect().get_column("amount").to_list() == [12.0, 20.0]
