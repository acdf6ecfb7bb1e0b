"""The per-customer export on hand-built tables: offers as columns, CRM headers, size-limit parts, formula guard."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.io.staging import StagedOutputs
from cross_sell_upsell.reporting.executive.cells import safe_text_cells
from cross_sell_upsell.reporting.executive.customer_export import CRM_FORMATS, CustomerExport, customer_rows

OFFERS = pl.DataFrame(
    [
        # customer_id, rank, offer_id, name,          price,  type,                 campaign_name
        ("K1", 1, "B1", "Pro Cleanser", 30.0, "tier_upgrade", None),
        ("K1", 2, "A5", "Basic SPF", 14.0, "routine_gap", "Summer Sun"),
        ("K1", 3, "A6", "=HYPERLINK(1)", 18.0, "product_cross_sell", None),
        ("K2", 1, "A3", "Basic Serum", 19.999, "replenishment", None),
    ],
    schema=["customer_id", "rank", "offer_id", "name", "price", "type", "campaign_name"],
    orient="row",
)

SUMMARIES = pl.DataFrame(
    [
        # customer_id, email,            potential_revenue, expected_revenue, predicted_clv
        ("K1", "Ana@Example.com", 62.0, 9.3051, 310.5),
        ("K2", None, 20.0, None, 120.0),
        ("K3", "ana@example.com", 0.0, 0.0, 15.0),
    ],
    schema=["customer_id", "email", "potential_revenue", "expected_revenue", "predicted_clv"],
    orient="row",
)


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_one_row_per_customer_with_the_top_offers_as_columns() -> None:
    rows = customer_rows(OFFERS, SUMMARIES, 2, email=True)
    assert rows.columns == [
        "customer_id",
        "email",
        "offer_1_product_id",
        "offer_1_name",
        "offer_1_price",
        "offer_1_type",
        "offer_1_campaign",
        "offer_2_product_id",
        "offer_2_name",
        "offer_2_price",
        "offer_2_type",
        "offer_2_campaign",
        "potential_revenue",
        "expected_revenue",
        "predicted_clv",
    ]
    assert rows.get_column("customer_id").to_list() == ["K1", "K2", "K3"]
    assert rows.row(0) == (
        "K1",
        "Ana@Example.com",
        "B1",
        "Pro Cleanser",
        Decimal("30.00"),
        "tier_upgrade",
        None,
        "A5",
        "Basic SPF",
        Decimal("14.00"),
        "routine_gap",
        "Summer Sun",
        Decimal("62.00"),
        Decimal("9.31"),
        310.5,
    )
    # K2 has one offer: the second offer's columns are empty; K3 has none.
    assert rows.row(1)[2:12] == ("A3", "Basic Serum", Decimal("20.00"), "replenishment", None, *(None,) * 5)
    assert rows.row(2)[2:12] == (None,) * 10


def test_without_email_or_model_fields_the_columns_are_left_out() -> None:
    rows = customer_rows(OFFERS, SUMMARIES.drop("predicted_clv"), 1, email=False)
    assert rows.columns == [
        "customer_id",
        "offer_1_product_id",
        "offer_1_name",
        "offer_1_price",
        "offer_1_type",
        "offer_1_campaign",
        "potential_revenue",
        "expected_revenue",
    ]


def test_text_that_starts_like_a_formula_is_neutralised() -> None:
    cells = pl.DataFrame({"text": ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "plain", "a=b", None], "n": range(8)})
    assert safe_text_cells(cells).get_column("text").to_list() == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        "a=b",
        None,
    ]
    assert safe_text_cells(cells).get_column("n").to_list() == list(range(8))


def export(tmp_path: Path, top: int, crm: str | None, max_bytes: int | None = None, chunks: int = 1) -> tuple:
    with StagedOutputs() as staged:
        customers = CustomerExport(
            staged, tmp_path / "r.customers.csv", top, email=True, crm=CRM_FORMATS.get(crm), max_bytes=max_bytes
        )
        for chunk in SUMMARIES.iter_slices(SUMMARIES.height // chunks):
            customers.append(OFFERS, chunk)
        parts = customers.close()
        staged.commit()
    return parts, customers.left_out


def test_plain_file_neutralises_names(tmp_path: Path) -> None:
    (path,), _ = export(tmp_path, 3, None)
    rows = read(path)
    assert [row["customer_id"] for row in rows] == ["K1", "K2", "K3"]
    assert rows[0]["offer_3_name"] == "'=HYPERLINK(1)"
    assert rows[1]["email"] == "" and rows[1]["offer_1_price"] == "20.00"


def test_braze_headers(tmp_path: Path) -> None:
    (path,), left_out = export(tmp_path, 1, "braze")
    assert path.read_text(encoding="utf-8").splitlines()[0] == (
        "external_id,email,offer_1_product_id,offer_1_name,offer_1_price,offer_1_type,offer_1_campaign,potential_revenue,expected_revenue,predicted_clv"
    )
    assert [row["external_id"] for row in read(path)] == ["K1", "K2", "K3"]
    assert left_out == {"no email": 0, "repeated email": 0}


@pytest.mark.parametrize("chunks", [1, 3])
def test_klaviyo_keeps_one_row_per_email_and_puts_it_first(tmp_path: Path, chunks: int) -> None:
    (path,), left_out = export(tmp_path, 1, "klaviyo", chunks=chunks)
    rows = read(path)
    assert list(rows[0])[:2] == ["Email", "customer_id"]
    # K2 has no email; K3's is K1's in another case, and K1 comes first.
    assert [(row["Email"], row["customer_id"]) for row in rows] == [("Ana@Example.com", "K1")]
    assert left_out == {"no email": 1, "repeated email": 1}


def test_klaviyo_without_any_email_is_refused(tmp_path: Path) -> None:
    with StagedOutputs() as staged, pytest.raises(ConfigurationError, match="--crm klaviyo: Klaviyo imports need"):
        CustomerExport(staged, tmp_path / "r.customers.csv", 3, email=False, crm=CRM_FORMATS["klaviyo"])
    assert list(tmp_path.iterdir()) == []


def test_a_file_over_the_limit_is_split_into_parts_with_whole_rows(tmp_path: Path) -> None:
    header = "external_id,email,offer_1_product_id,offer_1_name,offer_1_price,offer_1_type,offer_1_campaign,potential_revenue,expected_revenue,predicted_clv\n"
    row_k1 = "K1,Ana@Example.com,B1,Pro Cleanser,30.00,tier_upgrade,,62.00,9.31,310.5\n"
    limit = len(header) + len(row_k1) + 5  # room for one row and a bit, not two
    parts, _ = export(tmp_path, 1, "braze", max_bytes=limit)
    assert [part.name for part in parts] == ["r.customers.part1.csv", "r.customers.part2.csv", "r.customers.part3.csv"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [part.name for part in parts]
    assert all(part.stat().st_size <= limit for part in parts)
    assert parts[0].read_text(encoding="utf-8") == header + row_k1
    assert [row["external_id"] for part in parts for row in read(part)] == ["K1", "K2", "K3"]
    assert pl.concat([pl.read_csv(part, infer_schema=False) for part in parts]).height == 3


def test_a_row_bigger_than_the_limit_is_an_error_and_nothing_is_left(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="over the 100-byte file limit"):
        export(tmp_path, 1, "braze", max_bytes=100)
    assert list(tmp_path.iterdir()) == []


def test_no_customer_gives_a_header_only_file(tmp_path: Path) -> None:
    with StagedOutputs() as staged:
        (path,) = CustomerExport(staged, tmp_path / "r.customers.csv", 1, email=False).close()
        staged.commit()
    assert path.read_text(encoding="utf-8") == (
        "customer_id,offer_1_product_id,offer_1_name,offer_1_price,offer_1_type,offer_1_campaign,potential_revenue,expected_revenue\n"
    )
