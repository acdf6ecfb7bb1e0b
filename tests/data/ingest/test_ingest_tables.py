"""The column expressions every kind of file shares: dates, numbers and lists read from text, and the
field -> source column lookup."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from cross_sell_upsell.data.ingest.tables import as_date, as_list, as_number, field_sources
from cross_sell_upsell.errors import DataValidationError


def test_dates_from_text_keep_the_date_part_of_a_timestamp_and_null_what_is_not_a_date():
    text = pl.DataFrame(
        {
            "raw": [
                "2024-01-05",
                " 2024-01-05 ",
                "2024-01-05T10:30:00",
                "2024-01-05 10:30",
                "2024-01-05x",
                "2024-02-30",
                "05/01/2024",
                "",
                None,
            ]
        }
    )
    parsed = text.select(as_date(pl.col("raw"), pl.String(), None)).to_series().to_list()
    day = date(2024, 1, 5)
    assert parsed == [day, day, day, day, None, None, None, None, None]
    custom = text.select(as_date(pl.col("raw"), pl.String(), "%d/%m/%Y")).to_series().to_list()
    assert custom == [None] * 6 + [day, None, None]


def test_a_timestamp_column_gives_its_date_without_a_time_zone_shift():
    stamps = pl.DataFrame({"raw": [datetime(2024, 1, 5, 23, 30)]}).with_columns(
        pl.col("raw").dt.replace_time_zone("America/New_York")
    )
    assert stamps.select(as_date(pl.col("raw"), stamps.schema["raw"], None)).item() == date(2024, 1, 5)


def test_numbers_from_text_are_null_when_not_numbers():
    text = pl.DataFrame({"raw": [" 12.50", "1e2", "twelve", "", None]})
    assert text.select(as_number(pl.col("raw"), pl.String())).to_series().to_list() == [12.5, 100.0, None, None, None]


def test_lists_from_separated_text_drop_empty_parts():
    text = pl.DataFrame({"raw": ["acne; dryness;;", "", None]})
    lists = text.select(as_list(pl.col("raw"), pl.String(), ";")).to_series().to_list()
    assert lists == [["acne", "dryness"], [], []]


def test_sources_skip_a_missing_optional_field_and_name_a_missing_mapped_one():
    fields, required = ("customer_id", "quantity", "amount"), ("customer_id", "amount")
    path = Path("log.csv")
    columns = ["client", "customer_id", "amount"]
    assert field_sources(path, columns, fields, {}, required) == {"customer_id": "customer_id", "amount": "amount"}
    assert field_sources(path, columns, fields, {"customer_id": "client"}, required) == {
        "customer_id": "client",
        "amount": "amount",
    }
    with pytest.raises(DataValidationError, match=r"field 'units': required column \(mapped from 'units'\)"):
        field_sources(path, columns, fields, {"quantity": "units"}, required)
