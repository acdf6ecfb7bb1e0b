"""A real shop's export goes through: a sniffed delimiter per file, money with currency symbols and codes and
either decimal separator, dates in the shop's format, product ids and categories in any case, one customer
per email address whatever its case, and the rows that cannot be read counted by reason."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from ingest_helpers import AS_OF, SMALL_CATALOG_CSV, write_text

from cross_sell_upsell import OrchestratorConfig
from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.cli.orchestrator import orchestrator_main
from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data.ingest import load_catalog, load_customer_attributes, load_transactions_dataset
from cross_sell_upsell.data.ingest.values import with_money
from cross_sell_upsell.errors import DataValidationError

# Comma-delimited, prices with symbols and codes, categories capitalised, a cross-sell in lower case.
SHOP_CATALOG = """
    product_id,name,category,tier,price,cross_sell_products
    P001,Foam Cleanser,Cleanser,1,$12.00,p002
    P002,Rose Toner,Toner,1,"14,99 €",
    P003,Vitamin Serum,Serum,1,EUR 22.50,
    P004,Day Cream,Moisturizer,1,£18.00,
    P005,Sun Lotion,Sunscreen,1,USD 15.00,
"""

# Semicolon-delimited, US dates, amounts with currency; `Ben@Example.com` and `ben@example.com` are one customer.
SHOP_LOG = """
    customer_id;product_id;date;quantity;amount
    Ben@Example.com;P001;01/22/2024;1;$12.00
    ben@example.com; p002 ;02/05/2024;1;14,99 €
    C-7;P003;01/10/2024;2;EUR 45.00
    C-7;P004;02/11/2024;70;"£1,234.50"
    Ann@Shop.com;P005;02/30/2024;1;$15.00
    C-7;P009;02/12/2024;1;$5.00
    C-8;P001;02/13/2024;1;1,234
"""
#   rows 1-4 valid | 5 unparseable_date (Feb 30) | 6 unknown_product | 7 ambiguous_amount: the column has
#   amounts read only with a decimal point ($12.00) and only with a decimal comma (14,99 €), so 1,234 is unsettled

# Tab-delimited; the id in yet another case.
SHOP_CUSTOMERS = "customer_id\tname\tlifetime_value\nBEN@example.com\tBen\t$1,234.50\n"

SHOP_SETTINGS = IngestSettings(category_mapping={"SunScreen": "spf"}, date_format="%m/%d/%Y")


@pytest.fixture
def shop(tmp_path) -> dict[str, Path]:
    (tmp_path / "customers.tsv.csv").write_text(SHOP_CUSTOMERS, encoding="utf-8")
    return {
        "catalog": write_text(tmp_path / "catalog.csv", SHOP_CATALOG),
        "log": write_text(tmp_path / "log.csv", SHOP_LOG),
        "customers": tmp_path / "customers.tsv.csv",
    }


def test_a_shop_export_loads_with_its_quirks(shop):
    dataset = load_transactions_dataset(
        shop["log"], shop["catalog"], shop["customers"], as_of=AS_OF, settings=SHOP_SETTINGS
    )
    assert dataset.products.select("product_id", "category", "price").rows() == [
        ("P001", "cleanser", 12.0),
        ("P002", "toner", 14.99),
        ("P003", "serum", 22.5),
        ("P004", "moisturizer", 18.0),
        ("P005", "spf", 15.0),
    ]
    assert dataset.cross_sells.select("product_id", "cross_sell_id").rows() == [("P001", "P002")]
    assert sorted(dataset.ownership.select("customer_id", "product_id", "purchase_date").rows()) == [
        ("C-7", "P003", date(2024, 1, 10)),
        ("C-7", "P004", date(2024, 2, 11)),
        ("ben@example.com", "P001", date(2024, 1, 22)),
        ("ben@example.com", "P002", date(2024, 2, 5)),
    ]
    spend = dict(dataset.customer_features.select("customer_id", "lifetime_spend").iter_rows())
    assert spend == {"C-7": pytest.approx(45.0 + 1234.5), "ben@example.com": pytest.approx(12.0 + 14.99)}
    ben = dataset.customers.filter(pl.col("customer_id") == "ben@example.com").row(0, named=True)
    assert (ben["name"], ben["lifetime_value"], ben["loyalty_tier"]) == ("Ben", 1234.5, "platinum")
    assert dataset.customers.height == 2
    assert dataset.rejected_rows.select("row", "reason", "amount").rows() == [
        (5, "unparseable_date", "$15.00"),
        (6, "unknown_product", "$5.00"),
        (7, "ambiguous_amount", "1,234"),
    ]


def test_the_batch_reads_the_shop_export_with_its_options_and_accounts_for_every_row(shop, tmp_path, capsys):
    report = tmp_path / "out" / "weekly.md"
    argv = ["--as-of", "2024-03-01", "--transactions", str(shop["log"]), "--catalog", str(shop["catalog"])]
    argv += ["--customers-file", str(shop["customers"]), "--date-format", "%m/%d/%Y", "--output", str(report)]
    config = OrchestratorConfig(ingest=IngestSettings(category_mapping={"SunScreen": "spf"}))
    assert batch_main(argv, config, Path("data/tier1"), tmp_path) == 0
    rejected = report.with_suffix(".rejected_rows.csv")
    # No warning (every essential category is in the catalog), and the rejected rows counted by reason.
    err = capsys.readouterr().err
    assert "warning" not in err
    note = (
        f"note: 3 transaction rows rejected (unparseable_date 1, ambiguous_amount 1, unknown_product 1); see {rejected}"
    )
    assert note in err.splitlines()
    summary = json.loads(report.with_suffix(".summary.json").read_text())
    assert (summary["rows_read"], summary["rows_used"], summary["rows_rejected"]) == (7, 4, 3)
    assert summary["rows_read"] == summary["rows_used"] + summary["rows_rejected"]
    assert {reason: count for reason, count in summary["rows_rejected_by_reason"].items() if count} == {
        "unparseable_date": 1,
        "ambiguous_amount": 1,
        "unknown_product": 1,
    }
    assert (summary["customers_requested"], summary["customers_processed"]) == (2, 2)


@pytest.mark.parametrize(
    ("date_format", "written", "read"),
    [("%m/%d/%Y", "01/22/2024", date(2024, 1, 22)), ("%d.%m.%Y", "05.01.2024", date(2024, 1, 5))],
)
def test_dates_in_the_shops_format(tmp_path, date_format, written, read):
    catalog = write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)
    log = write_text(tmp_path / "log.csv", f"customer_id,product_id,date,amount\nC1,P1,{written},12\n")
    settings = IngestSettings(date_format=date_format)
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=settings)
    assert dataset.ownership.select("purchase_date").item() == read
    # Without the format the default stays ISO: the row is rejected, and it is all the log has.
    with pytest.raises(DataValidationError, match="1 of 1 rows rejected .*: unparseable_date 1$"):
        load_transactions_dataset(log, catalog, as_of=AS_OF)


MONEY = [
    # text          auto       decimal comma  decimal point
    ("$14.99",      14.99,     "ambiguous",   14.99),
    ("EUR 39.98",   39.98,     "ambiguous",   39.98),
    ("14,99 €",     14.99,     14.99,         "ambiguous"),
    ("£1,234.50",   1234.5,    "ambiguous",   1234.5),
    ("1.234,50",    1234.5,    1234.5,        "ambiguous"),
    ("1 234,50 €",  1234.5,    1234.5,        "ambiguous"),
    ("CHF 1'234.50", 1234.5,   "ambiguous",   1234.5),
    ("-$3.50",      -3.5,      "ambiguous",   -3.5),
    ("1,234",       "ambiguous", 1.234,       1234.0),
    ("1.234",       "ambiguous", 1234.0,      1.234),
    ("0,125",       0.125,     0.125,         "ambiguous"),
    ("1,234,567",   1234567.0, "ambiguous",   1234567.0),
    ("12",          12.0,      12.0,          12.0),
    ("1e3",         1000.0,    1000.0,        1000.0),
    ("14.99.99",    None,      None,          None),
    ("twelve",      None,      None,          None),
]  # fmt: skip
"""Each text alone in its column: read with no setting, with --decimal-comma, with --no-decimal-comma.
"ambiguous" reads as two numbers that nothing settles, or only against the setting: a rejected row."""


def _read(frame: pl.DataFrame, decimal_comma: bool | None) -> pl.DataFrame:
    return with_money(frame, "text", pl.String, decimal_comma, value="value", ambiguous="ambiguous").drop("text")


@pytest.mark.parametrize(("text", "auto", "comma", "point"), MONEY)
def test_money_text_is_read_or_refused_never_misread(text, auto, comma, point):
    for decimal_comma, expected in ((None, auto), (True, comma), (False, point)):
        got = _read(pl.DataFrame({"text": [text]}), decimal_comma).row(0)
        assert got == ((None, True) if expected == "ambiguous" else (pytest.approx(expected), False)), decimal_comma


def test_a_value_with_two_readings_follows_its_columns_convention():
    for column, expected in ((["1,234", "14.99"], 1234.0), (["1,234", "14,99"], 1.234), (["1,234", "12"], None)):
        got = _read(pl.DataFrame({"text": column}), None).row(0)
        assert got == ((None, True) if expected is None else (pytest.approx(expected), False)), column


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_delimiter_is_sniffed_from_the_header(tmp_path, delimiter):
    catalog = write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)
    rows = [
        ["customer_id", "product_id", "date", "amount"],
        ["C1",          "P1",         "2024-01-10", "12,50"],
        ["C2",          "P2",         "2024-01-11", "20"],
    ]  # fmt: skip
    log = tmp_path / "log.csv"
    log.write_text("\n".join(delimiter.join(row) for row in rows) + "\n", encoding="utf-8")
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF)
    assert sorted(dataset.customer_features.select("customer_id", "lifetime_spend").rows()) == [
        ("C1", 12.5),
        ("C2", 20.0),
    ]


def test_a_header_that_splits_alike_on_two_delimiters_asks_for_one(tmp_path):
    catalog = write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)
    log = write_text(tmp_path / "log.csv", "customer_id;product_id,date;amount,quantity\nC1;P1,2024-01-10;12,1\n")
    with pytest.raises(DataValidationError) as raised:
        load_transactions_dataset(log, catalog, as_of=AS_OF)
    assert str(raised.value) == (
        f"{log}: record -: field '-': the header splits into 3 fields on ',' and ';' alike; "
        "give --delimiter (ingest.delimiter)"
    )
    # A given delimiter is used for every file: the log's second column is then `product_id,date`.
    write_text(catalog, "product_id;name;category;price\nP1;Foam;cleanser;12\n")
    with pytest.raises(DataValidationError, match="field 'product_id': required column is missing"):
        load_transactions_dataset(log, catalog, as_of=AS_OF, settings=IngestSettings(delimiter=";"))


def test_catalog_ids_differing_only_in_case_are_refused(tmp_path):
    path = write_text(
        tmp_path / "catalog.csv",
        """
        product_id,name,category,price
        P002,Toner,toner,14.99
        p002 ,Toner Refill,toner,12.99
        """,
    )
    with pytest.raises(DataValidationError) as raised:
        load_catalog(path, IngestSettings())
    assert str(raised.value) == (
        f"{path}: record p002: field 'product_id': differs from 'P002' only in case or surrounding spaces"
    )


def test_an_ambiguous_catalog_price_stops_the_run(tmp_path):
    path = write_text(tmp_path / "catalog.csv", 'product_id,name,category,price\nP1,Serum,serum,"1,234"\n')
    with pytest.raises(DataValidationError, match=r"record P1: field 'price': '1,234' reads as two numbers"):
        load_catalog(path, IngestSettings())
    products, _ = load_catalog(path, IngestSettings(decimal_comma=False))
    assert products.select("price").item() == 1234.0


def test_email_ids_of_the_customers_file_are_one_customer_whatever_their_case(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,name\nAna@Example.com,Ana\nC-1,Cy\n", encoding="utf-8")
    assert load_customer_attributes(path, IngestSettings()).get_column("customer_id").to_list() == [
        "ana@example.com",
        "C-1",
    ]
    path.write_text("customer_id,name\nAna@Example.com,Ana\nana@example.com,Ana B\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match="record ana@example.com: field 'customer_id': duplicate id"):
        load_customer_attributes(path, IngestSettings())


def test_a_customer_asked_for_by_email_in_another_case_is_found(shop, tmp_path, capsys):
    argv = ["--customer", "Ben@Example.com", "--as-of", "2024-03-01", "--format", "json"]
    argv += ["--transactions", str(shop["log"]), "--catalog", str(shop["catalog"]), "--date-format", "%m/%d/%Y"]
    config = OrchestratorConfig(ingest=IngestSettings(category_mapping={"SunScreen": "spf"}))
    assert orchestrator_main(argv, config, Path("data/tier1"), tmp_path) == 0
    assert json.loads(capsys.readouterr().out)["customer_id"] == "ben@example.com"
