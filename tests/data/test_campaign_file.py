"""Reading a campaigns file (`data.campaigns.load_campaigns`): every bad row counted by its reason, the --strict
error naming the row and field, the formats and the column mapping. As of 2024-03-01 throughout."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from cross_sell_upsell.configuration import CampaignSettings
from cross_sell_upsell.data.campaigns import CAMPAIGN_REJECT_REASONS, campaigns_note, load_campaigns
from cross_sell_upsell.errors import DataValidationError

AS_OF = date(2024, 3, 1)

PRODUCTS = pl.DataFrame({"product_id": ["P001", "P002", "P003"], "category": ["cleanser", "toner", "serum"]})

HEADER = "campaign_id,name,start_date,end_date,product_id,category,customer_id,segment,discount,boost"
GOOD = [
    "SPR,Spring,2024-02-01,2024-03-31,p001,,,,0.15,1.5",  # product id in any case
    "SPR,Spring,2024-02-01,2024-03-31,,TONER,,,0.15,",  # category in any case; boost defaults to 1.2
    "SPR,Spring,2024-02-01,2024-03-31,,,Ben@Example.com,,,",  # a target row: the customer, keyed in lower case
    "ONE,,2024-03-01,2024-03-01,P003,,,premium,0,2",  # one day; the name defaults to the id
]
BAD = {
    "missing_campaign_id": ",X,2024-02-01,2024-03-31,P001,,,,0.1,1.2",
    "invalid_date": "D1,X,2024-02-30,2024-03-31,P001,,,,0.1,1.2",
    "end_before_start": "D2,X,2024-03-05,2024-03-01,P001,,,,0.1,1.2",
    "no_item_or_target": "D3,X,2024-02-01,2024-03-31,,,,,0.1,1.2",
    "unknown_product": "D4,X,2024-02-01,2024-03-31,P999,,,,0.1,1.2",
    "unknown_category": "D5,X,2024-02-01,2024-03-31,,mask,,,0.1,1.2",
    "invalid_boost": "D6,X,2024-02-01,2024-03-31,P001,,,,0.1,0",
    "invalid_discount": "D7,X,2024-02-01,2024-03-31,P001,,,,1.0,1.2",
    "inactive": "D8,X,2024-03-02,2024-03-31,P001,,,,0.1,1.2",
}
MORE_BAD = [
    "D9,X,2024-02-01,2024-03-31,P001,,,,0.1,-1.5",  # invalid_boost
    "D10,X,2024-02-01,2024-03-31,P001,,,,-0.1,1.2",  # invalid_discount
    "D11,X,2024-01-01,2024-02-29,P001,,,,0.1,1.2",  # inactive: ended the day before
]


def write(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "campaigns.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_good_rows_are_kept_and_every_bad_row_is_counted_by_its_reason(tmp_path: Path) -> None:
    campaigns = load_campaigns(write(tmp_path, *GOOD, *BAD.values(), *MORE_BAD), PRODUCTS, AS_OF)
    assert campaigns.rows.select("campaign_id", "name", "product_id", "category", "customer_id", "boost").rows() == [
        ("SPR", "Spring", "P001", None, None, 1.5),
        ("SPR", "Spring", None, "toner", None, 1.2),
        ("SPR", "Spring", None, None, "ben@example.com", 1.2),
        ("ONE", "ONE", "P003", None, None, 2.0),
    ]
    assert campaigns.rows.get_column("discount").to_list() == [0.15, 0.15, None, 0.0]
    expected = dict.fromkeys(CAMPAIGN_REJECT_REASONS, 1) | {"invalid_boost": 2, "invalid_discount": 2, "inactive": 2}
    assert campaigns.rejected == expected
    assert campaigns.rows_read == 4 + 9 + 3
    assert campaigns_note(campaigns) == (
        "campaigns: 12 of 16 rows left out (missing_campaign_id 1, invalid_date 1, end_before_start 1, "
        "no_item_or_target 1, unknown_product 1, unknown_category 1, invalid_boost 2, invalid_discount 2, inactive 2)"
    )


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("end_before_start", "record row 1 (campaign D2): field 'end_date': the campaign ends before it starts"),
        ("unknown_product", "record row 1 (campaign D4): field 'product_id': the product is not in the catalog"),
        ("unknown_category", "record row 1 (campaign D5): field 'category': the category is not in the catalog"),
        ("invalid_boost", "record row 1 (campaign D6): field 'boost': the boost is not a number above 0"),
        ("invalid_discount", "record row 1 (campaign D7): field 'discount': the discount is not a fraction"),
        ("missing_campaign_id", "record row 1: field 'campaign_id': the campaign id is empty"),
    ],
)
def test_strict_makes_the_first_bad_row_a_one_line_error(tmp_path: Path, reason: str, message: str) -> None:
    path = write(tmp_path, BAD[reason], *GOOD)
    with pytest.raises(DataValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_campaigns(path, PRODUCTS, AS_OF, strict=True)


def test_strict_accepts_a_campaign_that_is_not_running(tmp_path: Path) -> None:
    campaigns = load_campaigns(write(tmp_path, BAD["inactive"], GOOD[0]), PRODUCTS, AS_OF, strict=True)
    assert campaigns.rows.height == 1
    assert campaigns.rejected["inactive"] == 1


def test_columns_are_mapped_and_json_and_parquet_read_alike(tmp_path: Path) -> None:
    header = HEADER.replace("name,", "title,").replace("boost", "weight")
    csv = load_campaigns(
        write(tmp_path, *GOOD, header=header),
        PRODUCTS,
        AS_OF,
        CampaignSettings(columns={"name": "title", "boost": "weight"}),
    )
    frame = pl.read_csv(write(tmp_path, *GOOD), infer_schema=False)
    frame.write_json(tmp_path / "campaigns.json")
    frame.with_columns(pl.col("start_date", "end_date").str.to_date(), pl.col("boost").cast(pl.Float64)).write_parquet(
        tmp_path / "campaigns.parquet"
    )
    for name in ("campaigns.json", "campaigns.parquet"):
        assert load_campaigns(tmp_path / name, PRODUCTS, AS_OF).rows.equals(csv.rows)


def test_a_missing_required_column_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "SPR,P001", header="campaign_id,product_id")
    with pytest.raises(DataValidationError, match="field 'start_date': required column is missing"):
        load_campaigns(path, PRODUCTS, AS_OF)


def test_campaigns_are_read_from_a_database_table_as_from_a_file(tmp_path: Path) -> None:
    csv = write(tmp_path, *GOOD, BAD["unknown_product"])
    with duckdb.connect(str(tmp_path / "shop.duckdb")) as connection:
        connection.execute(f"CREATE TABLE promotions AS SELECT * FROM read_csv('{csv}', all_varchar = true)")
    from_table = load_campaigns(f"duckdb:{tmp_path / 'shop.duckdb'}::promotions", PRODUCTS, AS_OF)
    from_file = load_campaigns(csv, PRODUCTS, AS_OF)
    assert from_table.rows.equals(from_file.rows)
    assert from_table.rejected == from_file.rejected
    with pytest.raises(DataValidationError, match="no such table"):
        load_campaigns(f"duckdb:{tmp_path / 'shop.duckdb'}::missing", PRODUCTS, AS_OF)
