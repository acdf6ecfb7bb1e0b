"""CSV rows with more fields than the header: a log row is rejected as `extra_fields` with its row number (the
other rows are used), a catalog or customers-file row stops the run naming the file, the row and its line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from ingest_helpers import AS_OF, SMALL_CATALOG_CSV, write_text

from cross_sell_upsell import OrchestratorConfig
from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data.ingest import (
    load_catalog,
    load_customer_attributes,
    load_transactions_dataset,
    rows_rejected_summary,
)
from cross_sell_upsell.data.ingest import transactions as transactions_module
from cross_sell_upsell.data.ingest.tables import ExtraFields
from cross_sell_upsell.errors import DataValidationError

ANY_SHARE = IngestSettings(max_rejected_share=1)
"""Most rows of these logs are bad on purpose: no share of rejected rows stops the load."""

RAGGED_LOG = """
    customer_id,product_id,date,quantity,amount
    C1,P1,2024-01-10,1,12.00
    C1,P2,2024-01-11,1,20.00,store 7
    C2,"P1",2024-01-12,1,"12, 00"
    C2,P1,2024-01-12,1,12.00,
    C3,P3,2024-01-13,1,15.00,a,b,c
    C1,P2,2024-01-11,1,20.00

    C4,P1,2024-01-14,1,12.00
"""
#   row 1 valid | 2 one field too many | 3 a quoted comma is no extra field (but "12, 00" is no amount)
#   4 a trailing empty field is one too many | 5 four too many | 6 valid (its values are row 2's cut: not a
#   duplicate of a rejected row) | 7 a blank line, a row of empty fields | 8 valid


@pytest.fixture
def catalog(tmp_path):
    return write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)


def test_log_rows_with_extra_fields_are_rejected_and_the_rest_used(tmp_path, catalog):
    log = write_text(tmp_path / "log.csv", RAGGED_LOG)
    dataset = load_transactions_dataset(log, catalog, as_of=AS_OF, settings=ANY_SHARE)
    assert dataset.rejected_rows.select("row", "reason").rows() == [
        (2, "extra_fields"),
        (3, "invalid_amount"),
        (4, "extra_fields"),
        (5, "extra_fields"),
        (7, "missing_customer_id"),
    ]
    # The rejected row keeps the fields the header names, as they were written.
    assert dataset.rejected_rows.row(0, named=True) | {"source_file": "-"} == {
        "source_file": "-",
        "row": 2,
        "reason": "extra_fields",
        "customer_id": "C1",
        "product_id": "P2",
        "date": "2024-01-11",
        "quantity": "1",
        "amount": "20.00",
        "basket_id": None,
    }
    assert sorted(dataset.ownership.select("customer_id", "product_id").rows()) == [
        ("C1", "P1"),
        ("C1", "P2"),
        ("C4", "P1"),
    ]
    summary = rows_rejected_summary(dataset)
    assert (summary["rows_read"], summary["rows_used"], summary["total"]) == (8, 3, 5)


def test_strict_mode_names_the_row_with_extra_fields(tmp_path, catalog):
    log = write_text(tmp_path / "log.csv", RAGGED_LOG)
    with pytest.raises(DataValidationError) as raised:
        load_transactions_dataset(log, catalog, as_of=AS_OF, strict=True)
    assert str(raised.value) == (
        f"{log}: record row 2 (customer C1, product P2): field '-': the row has more fields than the header"
    )


def test_when_the_readers_disagree_the_row_and_line_are_named(tmp_path, catalog, monkeypatch):
    # Should Python's csv reader and polars ever count rows differently, the rows cannot be matched: stop.
    log = write_text(tmp_path / "log.csv", RAGGED_LOG)
    found = transactions_module.find_extra_fields(log, log, ",")
    assert (found.header_fields, found.data_rows, list(found.rows), found.first) == (5, 8, [2, 4, 5], (2, 3, 6))
    miscounted = ExtraFields(found.header_fields, found.data_rows + 1, found.rows, found.first)
    monkeypatch.setattr(transactions_module, "find_extra_fields", lambda path, source, delimiter: miscounted)
    with pytest.raises(DataValidationError) as raised:
        load_transactions_dataset(log, catalog, as_of=AS_OF)
    assert str(raised.value) == f"{log}: record row 2: field '-': the row has 6 fields where the header has 5 (line 3)"


def test_a_catalog_row_with_extra_fields_names_its_row_and_line(tmp_path):
    # The quoted description spans two lines, so row 2 ends on line 4.
    path = write_text(
        tmp_path / "catalog.csv",
        """
        product_id,name,category,price,description
        P1,Foam,cleanser,12.00,"gentle
        foam"
        P2,Cream,moisturizer,20.00,rich,thick
        """,
    )
    with pytest.raises(DataValidationError) as raised:
        load_catalog(path, IngestSettings())
    assert str(raised.value) == f"{path}: record row 2: field '-': the row has 6 fields where the header has 5 (line 4)"


def test_a_customers_file_row_with_extra_fields_names_its_row_and_line(tmp_path):
    path = write_text(tmp_path / "customers.csv", "customer_id,churn_risk\nC1,0.2\nC2,0.3,\n")
    with pytest.raises(DataValidationError) as raised:
        load_customer_attributes(path, IngestSettings())
    assert str(raised.value) == f"{path}: record row 2: field '-': the row has 3 fields where the header has 2 (line 3)"


def test_the_batch_counts_rows_with_extra_fields_and_sets_them_aside(tmp_path, catalog):
    log = write_text(tmp_path / "log.csv", RAGGED_LOG)
    report = tmp_path / "out" / "weekly.md"
    argv = ["--quiet", "--as-of", "2024-03-01", "--transactions", str(log), "--catalog", str(catalog)]
    argv += ["--max-rejected-share", "1"]  # 5 of the 8 rows are bad
    assert batch_main([*argv, "--output", str(report)], OrchestratorConfig(), Path("data/tier1"), tmp_path) == 0
    counted = json.loads(report.with_suffix(".summary.json").read_text())
    assert (counted["rows_read"], counted["rows_used"], counted["rows_rejected"]) == (8, 3, 5)
    assert counted["rows_rejected_by_reason"]["extra_fields"] == 3
    with report.with_suffix(".rejected_rows.csv").open(newline="", encoding="utf-8") as stream:
        assert [(row["row"], row["reason"]) for row in csv.DictReader(stream)][:2] == [
            ("2", "extra_fields"),
            ("3", "invalid_amount"),
        ]
    assert "| extra fields | 3 |" in report.read_text()
