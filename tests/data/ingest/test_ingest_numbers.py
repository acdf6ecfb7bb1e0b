"""Numbers that are not numbers: NaN, infinities and absurd magnitudes are refused at load, in every numeric
field of every kind of file, naming file, record and field (reference data) or rejecting the log row."""

from __future__ import annotations

import copy
from pathlib import Path

import polars as pl
import pytest
from ingest_helpers import AS_OF, SMALL_CATALOG_CSV, write_text
from support import MINI_CATALOG, MINI_CUSTOMERS, write_data

from cross_sell_upsell import OrchestratorConfig
from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data.dataset import load_dataset
from cross_sell_upsell.data.ingest import load_catalog, load_customer_attributes, load_transactions_dataset
from cross_sell_upsell.errors import DataValidationError

INF, NAN = float("inf"), float("nan")
FINITE = "Input should be a finite number"


def _changed(records: list[dict], index: int, **changes) -> list[dict]:
    records = copy.deepcopy(records)
    records[index].update(changes)
    return records


@pytest.mark.parametrize(
    ("catalog", "customers", "file", "record", "field", "problem"),
    [
        (_changed(MINI_CATALOG, 0, price=INF), None, "catalog.json", "A1", "price", FINITE),
        (_changed(MINI_CATALOG, 0, price=NAN), None, "catalog.json", "A1", "price", FINITE),
        (
            _changed(MINI_CATALOG, 0, price=1e308),
            None,
            "catalog.json",
            "A1",
            "price",
            "Input should be less than or equal to 1000000000",
        ),
        (
            _changed(MINI_CATALOG, 1, tier=1000),
            None,
            "catalog.json",
            "A2",
            "tier",
            "Input should be less than or equal to 99",
        ),
        (_changed(MINI_CATALOG, 1, tier=INF), None, "catalog.json", "A2", "tier", FINITE),
        (
            _changed(MINI_CATALOG, 2, replenishment_cycle_days=1e9),
            None,
            "catalog.json",
            "A3",
            "replenishment_cycle_days",
            "Input should be less than or equal to 36500",
        ),
        (None, _changed(MINI_CUSTOMERS, 0, lifetime_value=INF), "customers.json", "K1", "lifetime_value", FINITE),
        (
            None,
            _changed(MINI_CUSTOMERS, 0, lifetime_value=1e12),
            "customers.json",
            "K1",
            "lifetime_value",
            "Input should be less than or equal to 1000000000",
        ),
        (None, _changed(MINI_CUSTOMERS, 1, churn_risk=NAN), "customers.json", "K2", "churn_risk", FINITE),
        (None, _changed(MINI_CUSTOMERS, 1, tier_preference=-INF), "customers.json", "K2", "tier_preference", FINITE),
        (
            None,
            _changed(MINI_CUSTOMERS, 2, purchase_history=[{"product_id": "A1", "date": "2024-02-01", "amount": INF}]),
            "customers.json",
            "K3",
            "purchase_history[0].amount",
            FINITE,
        ),
    ],
)
def test_json_profiles_refuse_numbers_that_are_not_numbers(tmp_path, catalog, customers, file, record, field, problem):
    # json.dumps writes NaN and infinities as the bare words Python's json module reads back.
    folder = write_data(tmp_path / "bad", catalog or MINI_CATALOG, customers or MINI_CUSTOMERS)
    with pytest.raises(DataValidationError) as raised:
        load_dataset(folder)
    assert str(raised.value) == f"{folder / file}: record {record}: field '{field}': {problem}"


def test_the_money_bound_itself_is_accepted(tmp_path):
    catalog = _changed(MINI_CATALOG, 5, price=1e9, tier=None)  # A6, no tier: no price band applies
    assert load_dataset(write_data(tmp_path / "ok", catalog, MINI_CUSTOMERS)).products.item(5, "price") == 1e9


def _catalog_file(tmp_path: Path, kind: str, price: float | str) -> Path:
    """A one-product catalog of the given kind with the given price (text for CSV, as written)."""
    row = {"product_id": "P1", "name": "Foam", "category": "cleanser", "price": price}
    path = tmp_path / f"catalog.{kind}"
    if kind == "csv":
        path.write_text(f"product_id,name,category,price\nP1,Foam,cleanser,{price}\n", encoding="utf-8")
    elif kind == "json":
        path.write_text(f'[{{"product_id": "P1", "name": "Foam", "category": "cleanser", "price": {price}}}]')
    else:
        pl.DataFrame([row]).write_parquet(path)
    return path


@pytest.mark.parametrize(
    ("kind", "price", "problem"),
    [
        ("csv", "Infinity", FINITE),
        ("csv", "NaN", FINITE),
        ("csv", "-inf", FINITE),
        ("csv", "1e308", "Input should be less than or equal to 1000000000"),
        ("json", "Infinity", FINITE),
        ("json", "1e400", FINITE),  # too large for a float: read as infinity
        ("parquet", INF, FINITE),
        ("parquet", NAN, FINITE),
        ("parquet", 1e308, "Input should be less than or equal to 1000000000"),
    ],
)
def test_catalog_files_refuse_prices_that_are_not_numbers(tmp_path, kind, price, problem):
    path = _catalog_file(tmp_path, kind, price)
    with pytest.raises(DataValidationError) as raised:
        load_catalog(path, IngestSettings())
    assert str(raised.value) == f"{path}: record P1: field 'price': {problem}"


@pytest.mark.parametrize(
    ("header", "value", "field", "problem"),
    [
        ("lifetime_value", "Infinity", "lifetime_value", "is not a finite number"),
        ("lifetime_value", "NaN", "lifetime_value", "is not a finite number"),
        ("lifetime_value", "1e12", "lifetime_value", "must be from 0 to 1,000,000,000"),
        ("lifetime_value", "-5", "lifetime_value", "must be from 0 to 1,000,000,000"),
        ("churn_risk", "nan", "churn_risk", "is not a finite number"),
        ("tier_preference", "inf", "tier_preference", "is not a finite number"),
        ("tier_preference", "200", "tier_preference", "must be a whole number from 1 to 99"),
    ],
)
def test_customers_csv_refuses_numbers_that_are_not_numbers(tmp_path, header, value, field, problem):
    path = write_text(tmp_path / "customers.csv", f"customer_id,{header}\nC0,1\nC1,{value}\n")
    with pytest.raises(DataValidationError) as raised:
        load_customer_attributes(path, IngestSettings())
    assert str(raised.value) == f"{path}: record C1: field '{field}': {problem}"


def test_customers_parquet_and_json_refuse_infinities(tmp_path):
    parquet = tmp_path / "customers.parquet"
    pl.DataFrame({"customer_id": ["C1"], "lifetime_value": [INF]}).write_parquet(parquet)
    json_file = write_text(tmp_path / "customers.json", '[{"customer_id": "C1", "churn_risk": NaN}]')
    for path, field in ((parquet, "lifetime_value"), (json_file, "churn_risk")):
        with pytest.raises(DataValidationError) as raised:
            load_customer_attributes(path, IngestSettings())
        assert str(raised.value) == f"{path}: record C1: field '{field}': is not a finite number"


LOG = """
    customer_id,product_id,date,quantity,amount
    C1,P1,2024-01-10,1,12.00
    C1,P1,2024-01-11,1,Infinity
    C1,P1,2024-01-12,1,NaN
    C1,P1,2024-01-13,1,1e308
    C1,P1,2024-01-14,1,1000000000.01
    C1,P1,2024-01-15,1,1000000000
    C1,P1,2024-01-16,inf,12.00
    C1,P1,2024-01-17,NaN,12.00
    C1,P1,2024-01-18,1e308,12.00
    C1,P1,2024-01-19,1,-1e308
    C1,P1,2024-01-20,1,-inf
"""
#   rows 2-5 invalid_amount (infinite, NaN, beyond the bound) | 6 the bound itself is valid
#   7-9 invalid_quantity | 10 non_positive_amount (finite) | 11 invalid_amount (infinite)


def test_log_rows_with_numbers_that_are_not_numbers_are_rejected(tmp_path):
    catalog = write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)
    log = write_text(tmp_path / "log.csv", LOG)
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=IngestSettings(max_rejected_share=1))
    assert dataset.rejected_rows.select("row", "reason").rows() == [
        (2, "invalid_amount"),
        (3, "invalid_amount"),
        (4, "invalid_amount"),
        (5, "invalid_amount"),
        (7, "invalid_quantity"),
        (8, "invalid_quantity"),
        (9, "invalid_quantity"),
        (10, "non_positive_amount"),
        (11, "invalid_amount"),
    ]
    assert dataset.customer_features.item(0, "lifetime_spend") == pytest.approx(1e9 + 12.0)
    with pytest.raises(DataValidationError) as raised:
        load_transactions_dataset(log, catalog, as_of=AS_OF, strict=True)
    assert str(raised.value) == (
        f"{log}: record row 2 (customer C1, product P1): field 'amount': "
        "the amount is empty, not a finite number or above 1,000,000,000"
    )


def test_parquet_log_rows_with_infinite_or_nan_numbers_are_rejected(tmp_path):
    catalog = write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)
    log = tmp_path / "log.parquet"
    pl.DataFrame(
        {
            "customer_id": ["C1"] * 5,
            "product_id": ["P1"] * 5,
            "date": ["2024-01-10"] * 5,
            "quantity": [1.0, 1.0, 1.0, INF, NAN],
            "amount": [12.0, INF, NAN, 12.0, 12.0],
        }
    ).write_parquet(log)
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=IngestSettings(max_rejected_share=1))
    assert dataset.rejected_rows.select("row", "reason").rows() == [
        (2, "invalid_amount"),
        (3, "invalid_amount"),
        (4, "invalid_quantity"),
        (5, "invalid_quantity"),
    ]


def test_the_batch_refuses_an_infinite_catalog_price_and_writes_nothing(tmp_path, capsys):
    catalog = write_text(tmp_path / "catalog.csv", "product_id,name,category,price\nP1,Foam,cleanser,Infinity\n")
    log = write_text(tmp_path / "log.csv", "customer_id,product_id,date,amount\nC1,P1,2024-01-10,12\n")
    out = tmp_path / "out"
    argv = ["--quiet", "--as-of", "2024-03-01", "--transactions", str(log), "--catalog", str(catalog)]
    code = batch_main([*argv, "--output", str(out / "weekly.md")], OrchestratorConfig(), Path("data/tier1"), out)
    assert code == 2
    assert capsys.readouterr().err == f"error: {catalog}: record P1: field 'price': {FINITE}\n"
    assert not out.exists()


def test_the_batch_refuses_an_infinite_lifetime_value_in_json_profiles(tmp_path, capsys):
    folder = write_data(tmp_path / "data", MINI_CATALOG, _changed(MINI_CUSTOMERS, 3, lifetime_value=INF))
    out = tmp_path / "out"
    argv = ["--quiet", "--as-of", "2024-03-01", "--data-dir", str(folder), "--output", str(out / "weekly.md")]
    assert batch_main(argv, OrchestratorConfig(), Path("data/tier1"), out) == 2
    assert (
        capsys.readouterr().err == f"error: {folder / 'customers.json'}: record K4: field 'lifetime_value': {FINITE}\n"
    )
    assert not out.exists()
