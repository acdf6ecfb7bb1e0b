"""Reading logs, catalogs and customer files: formats, column mapping, every bad-row reason, strict mode and
the structural errors that name file, record and field."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from ingest_helpers import AS_OF, SMALL_CATALOG_CSV, write_text

from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data.dataset import CUSTOMER_SCHEMA, OWNERSHIP_SCHEMA, PRODUCT_SCHEMA
from cross_sell_upsell.data.ingest import (
    REJECT_REASONS,
    REJECTED_SCHEMA,
    load_catalog,
    load_customer_attributes,
    load_transactions_dataset,
    rows_rejected_summary,
    with_column_overrides,
    write_rejected_rows,
)
from cross_sell_upsell.errors import ConfigurationError, DataValidationError

SETTINGS = IngestSettings(category_mapping={"sunscreen": "spf"}, max_rejected_share=1)  # the logs are mostly bad

# One row for each reason, between valid rows. Row numbers count data rows (the header is not one).
BAD_LOG = """
    customer_id,product_id,date,quantity,amount
    C1,P1,2024-01-10,1,12.00
    ,P1,2024-01-11,1,12.00
    C2,  ,2024-01-11,1,12.00
    C2,P1,2024-02-30,1,12.00
    C2,P1,2024-01-12,1,twelve
    C2,P1,2024-01-12,1,-3
    C2,P1,2024-01-12,1.5,12.00
    C2,P9,2024-01-12,1,12.00
    C1,P1,2024-01-10,1,12.00
    C2,P2,2024-01-12T09:30:00,2,40.00
    C1,P1,2024-01-10,1,12.00,oops
"""
#   row 1 valid | 2 missing_customer_id | 3 missing_product_id | 4 unparseable_date (Feb 30)
#   5 invalid_amount | 6 non_positive_amount | 7 invalid_quantity | 8 unknown_product | 9 duplicate of row 1
#   10 valid (a timestamp's date part counts) | 11 extra_fields (its first five fields repeat row 1)


@pytest.fixture
def catalog(tmp_path):
    return write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)


def test_every_bad_row_reason_is_counted_kept_and_written(tmp_path, catalog):
    log = write_text(tmp_path / "log.csv", BAD_LOG)
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=SETTINGS)
    rejected = dataset.rejected_rows
    assert rejected.schema == pl.Schema(REJECTED_SCHEMA)
    assert rejected.select("row", "reason").rows() == [
        (2, "missing_customer_id"),
        (3, "missing_product_id"),
        (4, "unparseable_date"),
        (5, "invalid_amount"),
        (6, "non_positive_amount"),
        (7, "invalid_quantity"),
        (8, "unknown_product"),
        (9, "duplicate"),
        (11, "extra_fields"),
    ]
    assert rejected.row(3, named=True) == {
        "source_file": str(log),
        "row": 5,
        "reason": "invalid_amount",
        "customer_id": "C2",
        "product_id": "P1",
        "date": "2024-01-12",
        "quantity": "1",
        "amount": "twelve",
        "basket_id": None,  # the log has no basket column
    }
    # Every data line of the file is read, and each is used or rejected.
    assert rows_rejected_summary(dataset) == {
        "rows_read": 11,
        "rows_used": 2,
        "total": 9,
        "by_reason": dict.fromkeys(REJECT_REASONS, 1) | {"ambiguous_amount": 0},
    }
    # The amount paid stays with each purchase, for the customer models.
    assert dataset.ownership.rows() == [("C1", "P1", date(2024, 1, 10), 12.0), ("C2", "P2", date(2024, 1, 12), 40.0)]
    written = write_rejected_rows(dataset, tmp_path / "out" / "rejected.csv")
    assert pl.read_csv(written, infer_schema=False).select("row", "reason", "amount").row(3) == (
        "5",
        "invalid_amount",
        "twelve",
    )
    assert [path.name for path in written.parent.iterdir()] == ["rejected.csv"]  # no temporary file left


def test_strict_mode_raises_on_the_first_bad_row(tmp_path, catalog):
    log = write_text(tmp_path / "log.csv", BAD_LOG)
    with pytest.raises(DataValidationError) as caught:
        load_transactions_dataset(log, catalog, as_of=AS_OF, settings=SETTINGS, strict=True)
    assert str(caught.value) == (
        f"{log}: record row 2 (customer None, product P1): field 'customer_id': the customer id is empty"
    )


def test_strict_mode_accepts_a_clean_log(tmp_path, catalog):
    log = write_text(tmp_path / "log.csv", "customer_id,product_id,date,quantity,amount\nC1,P1,2024-01-10,1,12\n")
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=SETTINGS, strict=True)
    assert dataset.rejected_rows.is_empty() and rows_rejected_summary(dataset)["total"] == 0


def test_dataset_frames_have_the_json_loaders_schemas(tmp_path, catalog):
    log = write_text(tmp_path / "log.csv", BAD_LOG)
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=SETTINGS)
    assert dataset.products.schema == pl.Schema(PRODUCT_SCHEMA)
    assert dataset.customers.schema == pl.Schema(CUSTOMER_SCHEMA)
    assert dataset.ownership.schema == pl.Schema({**OWNERSHIP_SCHEMA, "amount": pl.Float64()})
    assert dataset.customer_ids() == ["C1", "C2"]


def test_csv_catalog_lists_margin_default_and_category_mapping(catalog):
    products, cross_sells = load_catalog(catalog, SETTINGS)
    assert products.select("product_id", "category", "margin", "tier", "target_concerns").rows() == [
        ("P1", "cleanser", "medium", 1, ["acne"]),
        ("P2", "moisturizer", "high", 1, ["dryness", "general"]),
        ("P3", "spf", "medium", 1, ["general"]),  # sunscreen -> spf; no margin -> the default
    ]
    assert cross_sells.rows() == [("P1", "P2", 0), ("P1", "P3", 1), ("P2", "P1", 0)]


def test_csv_catalog_text_is_stripped(tmp_path):
    path = write_text(tmp_path / "catalog.csv", "product_id,name,category,price\n P1 , Foam , sunscreen , 12.00 \n")
    products, _ = load_catalog(path, SETTINGS)
    assert products.select("product_id", "name", "category", "price").row(0) == ("P1", "Foam", "spf", 12.0)


def test_json_catalog_is_read_like_load_dataset():
    products, _ = load_catalog("data/tiered/catalog.json", IngestSettings())
    assert products.height == 60
    assert products.filter(pl.col("product_id") == "P001").select("upgrade_to", "tier").row(0) == ("P101", 1)


def test_upgrade_to_column_becomes_the_next_tier_path(tmp_path):
    path = write_text(
        tmp_path / "catalog.csv",
        """
        product_id,name,category,price,tier,upgrade_to
        A1,Basic Cream,moisturizer,15.00,1,A2
        A2,Better Cream,moisturizer,30.00,2,
        """,
    )
    products, _ = load_catalog(path, IngestSettings())
    assert products.select("product_id", "upgrade_to").rows() == [("A1", "A2"), ("A2", None)]


def test_catalog_problems_name_file_record_and_field(tmp_path):
    path = write_text(
        tmp_path / "catalog.csv",
        """
        product_id,name,category,price,cross_sell_products
        A1,Basic Cream,moisturizer,15.00,ZZ
        """,
    )
    with pytest.raises(
        DataValidationError, match=r"catalog.csv: record A1: field 'cross_sell_products\[0\]': unknown product ZZ"
    ):
        load_catalog(path, IngestSettings())
    no_price = write_text(tmp_path / "bad.csv", "product_id,name,category\nA1,Cream,moisturizer\n")
    with pytest.raises(DataValidationError, match=r"bad.csv: record -: field 'price': required column is missing"):
        load_catalog(no_price, IngestSettings())


def test_column_mapping_reads_retailer_names(tmp_path):
    log = write_text(
        tmp_path / "log.csv",
        """
        client,sku,when,qty,paid
        K1,S1,2024-02-01,1,9.50
        """,
    )
    catalog = write_text(tmp_path / "catalog.csv", "sku,title,category,price\nS1,Bar Soap,soap,9.50\n")
    settings = with_column_overrides(
        IngestSettings(),
        [
            ("customer_id", "client"),
            ("product_id", "sku"),
            ("date", "when"),
            ("quantity", "qty"),
            ("amount", "paid"),
            ("catalog.name", "title"),
        ],
    )
    assert settings.catalog_columns == {"product_id": "sku", "name": "title"}
    assert settings.customer_columns == {"customer_id": "client"}  # an unqualified name maps every file
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=settings)
    assert dataset.ownership.rows() == [("K1", "S1", date(2024, 2, 1), 9.5)]
    assert dataset.products.select("product_id", "name").row(0) == ("S1", "Bar Soap")


def test_a_mapped_column_that_is_missing_is_named(tmp_path, catalog):
    log = write_text(tmp_path / "log.csv", "customer_id,product_id,date,amount\nC1,P1,2024-01-10,12\n")
    settings = IngestSettings(category_mapping={"sunscreen": "spf"}, transaction_columns={"quantity": "units"})
    with pytest.raises(
        DataValidationError, match=r"log.csv: record -: field 'units': required column \(mapped from 'units'\)"
    ):
        load_transactions_dataset(log, catalog, as_of=AS_OF, settings=settings)


def test_quantity_is_optional_and_defaults_to_one(tmp_path, catalog):
    log = write_text(tmp_path / "log.csv", "customer_id,product_id,date,amount\nC1,P1,2024-01-10,12\n")
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=SETTINGS)
    assert dataset.customer_features.item(0, "price_index") == pytest.approx(1.0)  # 12 / (1 x 12)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ([("sku", "x")], "--column sku: unknown field 'sku'"),
        (
            [("orders.product_id", "x")],
            "--column orders.product_id: 'orders' is not one of transactions, catalog, customers",
        ),
        ([("catalog.amount", "x")], "--column catalog.amount: unknown field 'amount'"),
    ],
)
def test_bad_column_overrides_are_configuration_errors(overrides, message):
    with pytest.raises(ConfigurationError) as caught:
        with_column_overrides(IngestSettings(), overrides)
    assert str(caught.value) == message


def test_parquet_log_with_typed_dates_and_timestamps(tmp_path, catalog):
    pl.DataFrame(
        {
            "customer_id": ["C1", "C1"],
            "product_id": ["P1", "P2"],
            "date": [datetime(2024, 1, 5, 23, 59), datetime(2024, 2, 1, 8, 0)],
            "quantity": [1, 1],
            "amount": [12.0, 20.0],
        }
    ).write_parquet(tmp_path / "log.parquet")
    dataset = load_transactions_dataset(tmp_path / "log.parquet", catalog, as_of=AS_OF, settings=SETTINGS)
    assert dataset.ownership.get_column("purchase_date").to_list() == [date(2024, 1, 5), date(2024, 2, 1)]


def test_a_custom_date_format(tmp_path, catalog):
    log = write_text(
        tmp_path / "log.csv", "customer_id,product_id,date,amount\nC1,P1,05/01/2024,12\nC1,P1,2024-01-05,12\n"
    )
    settings = SETTINGS.model_copy(update={"date_format": "%d/%m/%Y"})
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=settings)
    assert dataset.ownership.get_column("purchase_date").to_list() == [date(2024, 1, 5)]
    assert dataset.rejected_rows.select("row", "reason").rows() == [(2, "unparseable_date")]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("log.xlsx", "", "log.xlsx: record -: field '-': unsupported file type '.xlsx' (use .csv, .parquet)"),
        ("missing.csv", None, "missing.csv: record -: field '-': file not found"),
        (
            "log.csv",
            "customer_id,product_id,amount\nC1,P1,3\n",
            "log.csv: record -: field 'date': required column is missing",
        ),
        ("log.parquet", "not parquet", "log.parquet: record -: field '-': cannot be read"),
    ],
)
def test_structural_log_problems(tmp_path, catalog, name, text, message):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(DataValidationError) as caught:
        load_transactions_dataset(path, catalog, as_of=AS_OF, settings=SETTINGS)
    assert str(caught.value).startswith(f"{tmp_path}/{message}")


def test_customers_file_csv_lists_and_case(tmp_path):
    path = write_text(
        tmp_path / "customers.csv",
        """
        customer_id,name,loyalty_tier,churn_risk,skin_concerns,tier_preference
        C1,Ann Lee,Gold,0.2,acne; dryness,2
        C2,,,,,
        """,
    )
    given = load_customer_attributes(path, IngestSettings())
    # columns in CUSTOMER_SCHEMA order
    assert given.rows() == [("C1", "Ann Lee", "gold", 0.2, 2, ["acne", "dryness"]), ("C2", None, None, None, None, [])]


def test_customers_file_segments_blank_cells_are_none(tmp_path):
    path = write_text(
        tmp_path / "customers.csv",
        """
        customer_id,Segment
        C1, Loyal core
        C2,
        C3,"  "
        """,
    )
    given = load_customer_attributes(path, IngestSettings(customer_columns={"segment": "Segment"}))
    assert given.rows() == [("C1", "Loyal core"), ("C2", None), ("C3", None)]
    assert given.schema["segment"] == CUSTOMER_SCHEMA["segment"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("C1,diamond,0.2", "record C1: field 'loyalty_tier': must be one of bronze, silver, gold, platinum"),
        ("C1,gold,1.5", "record C1: field 'churn_risk': must be a fraction from 0 to 1"),
        ("C1,gold,high", "record C1: field 'churn_risk': is not a finite number"),
        (",gold,0.2", "record row 2: field 'customer_id': the customer id is empty"),
        ("C0,gold,0.2", "record C0: field 'customer_id': duplicate id"),
    ],
)
def test_customers_file_problems_name_record_and_field(tmp_path, row, message):
    path = write_text(tmp_path / "customers.csv", f"customer_id,loyalty_tier,churn_risk\nC0,silver,0.1\n{row}\n")
    with pytest.raises(DataValidationError) as caught:
        load_customer_attributes(path, IngestSettings())
    assert str(caught.value) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"transaction_columns": {"sku": "x"}}, "transaction_columns has unknown fields sku"),
        (
            {"loyalty_thresholds": {"silver": 1.0, "gold": 2.0}},
            "loyalty_thresholds needs exactly silver, gold, platinum",
        ),
        ({"loyalty_thresholds": {"silver": 3.0, "gold": 2.0, "platinum": 4.0}}, "must rise from silver to platinum"),
        ({"price_index_high_sensitivity_below": 1.5}, "must not exceed price_index_low_sensitivity_from"),
        ({"list_separator": ""}, "list_separator"),
    ],
)
def test_inconsistent_ingest_settings_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        IngestSettings(**values)
