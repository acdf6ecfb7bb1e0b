"""The batch's marketing exports end to end: the per-customer file read back with csv and polars, the CRM
headers, parts under a size limit, the Parquet copy, the formula guard and every bad value of the new options."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from support import AS_OF, MINI_CATALOG, MINI_CUSTOMERS, TIER1, write_data

from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.reporting.executive import customer_export
from cross_sell_upsell.reporting.executive.exports import RECOMMENDATION_SCHEMA


def run(tmp_path: Path, *args: str, data_dir: Path = TIER1) -> int:
    argv = ["--as-of", AS_OF.isoformat(), "--output", str(tmp_path / "report.md"), "--quiet", *args]
    return batch_main(argv, OrchestratorConfig(), data_dir, tmp_path / "default-output")


def dict_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_one_row_per_customer_read_back_with_csv_and_polars(tmp_path: Path) -> None:
    assert run(tmp_path) == 0
    path = tmp_path / "report.customers.csv"
    rows = dict_rows(path)
    assert [row["customer_id"] for row in rows] == [f"C{n:03d}" for n in range(1, 11)]
    assert rows[0]["email"] == "sarah.lee@example.com"
    assert (rows[0]["offer_1_product_id"], rows[0]["offer_1_type"], rows[0]["offer_1_price"]) == (
        "BUNDLE-P002-P003-P005",
        "bundle",
        "41.62",
    )
    frame = pl.read_csv(path)
    assert frame.height == 10 and frame.get_column("customer_id").n_unique() == 10
    # The per-customer potential revenue adds up to the report's total (see test_batch_cli: 637.70).
    summary = json.loads((tmp_path / "report.summary.json").read_text(encoding="utf-8"))
    assert frame.get_column("potential_revenue").sum() == pytest.approx(summary["total_potential_revenue"])
    assert summary["total_potential_revenue"] == pytest.approx(637.70)
    assert summary["files"]["customers"] == ["report.customers.csv"]
    assert "recommendations_parquet" not in summary["files"]


def test_each_customers_offer_columns_are_their_best_offers_in_rank_order(tmp_path: Path) -> None:
    assert run(tmp_path, "--export-top", "4") == 0
    offers = pl.read_csv(tmp_path / "report.recommendations.csv", infer_schema=False)
    for row in dict_rows(tmp_path / "report.customers.csv"):
        best = offers.filter(pl.col("customer_id") == row["customer_id"]).head(4)
        assert [row[f"offer_{k}_product_id"] for k in range(1, best.height + 1)] == best["product_id"].to_list()
        assert [row[f"offer_{k}_price"] for k in range(1, best.height + 1)] == best["price"].to_list()
    assert "offer_5_product_id" not in dict_rows(tmp_path / "report.customers.csv")[0]


@pytest.mark.parametrize(
    ("crm", "first_columns"),
    [("klaviyo", ["Email", "customer_id", "offer_1_product_id"]), ("braze", ["external_id", "email"])],
)
def test_crm_headers(tmp_path: Path, crm: str, first_columns: list[str]) -> None:
    assert run(tmp_path, "--crm", crm) == 0
    rows = dict_rows(tmp_path / "report.customers.csv")
    assert list(rows[0])[: len(first_columns)] == first_columns
    assert len(rows) == 10


def test_a_crm_limit_splits_the_file_into_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = replace(customer_export.CRM_FORMATS["braze"], max_bytes=1_000)
    monkeypatch.setitem(customer_export.CRM_FORMATS, "braze", small)
    assert run(tmp_path, "--crm", "braze") == 0
    parts = sorted(tmp_path.glob("report.customers*.csv"))
    assert len(parts) > 1 and not (tmp_path / "report.customers.csv").exists()
    assert [part.name for part in parts] == [f"report.customers.part{n}.csv" for n in range(1, len(parts) + 1)]
    assert all(part.stat().st_size <= 1_000 for part in parts)
    ids = [row["external_id"] for part in parts for row in dict_rows(part)]
    assert ids == [f"C{n:03d}" for n in range(1, 11)]
    summary = json.loads((tmp_path / "report.summary.json").read_text(encoding="utf-8"))
    assert summary["files"]["customers"] == [part.name for part in parts]
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert all(f"`{part.name}`" in report for part in parts)


def test_parquet_copy_equals_the_csv_rows(tmp_path: Path) -> None:
    assert run(tmp_path, "--parquet") == 0
    parquet = pl.read_parquet(tmp_path / "report.recommendations.parquet")
    from_csv = pl.read_csv(tmp_path / "report.recommendations.csv", schema=RECOMMENDATION_SCHEMA)
    summary = json.loads((tmp_path / "report.summary.json").read_text(encoding="utf-8"))
    assert parquet.height == summary["total_offers"] > 0
    assert summary["files"]["recommendations_parquet"] == "report.recommendations.parquet"
    assert parquet.equals(from_csv)
    with open(tmp_path / "report.recommendations.csv", newline="", encoding="utf-8") as stream:
        text_rows = list(csv.reader(stream))[1:]
    assert parquet.cast(pl.String).with_columns(pl.col("counts_toward_revenue").str.to_lowercase()).fill_null(
        ""
    ).rows() == [tuple(row) for row in text_rows]


def test_names_that_look_like_formulas_are_neutralised_in_both_csv_files(tmp_path: Path) -> None:
    catalog = [
        dict(product, name='=HYPERLINK("x")') if product["product_id"] == "A5" else product for product in MINI_CATALOG
    ]
    data = write_data(tmp_path / "data", catalog, MINI_CUSTOMERS)
    assert run(tmp_path, "--export-top", "8", data_dir=data) == 0
    offers = dict_rows(tmp_path / "report.recommendations.csv")
    assert {row["name"] for row in offers if row["product_id"] == "A5"} == {'\'=HYPERLINK("x")'}
    names = {value for row in dict_rows(tmp_path / "report.customers.csv") for value in row.values()}
    assert '\'=HYPERLINK("x")' in names and '=HYPERLINK("x")' not in names


def test_without_emails_there_is_no_email_column_and_klaviyo_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = write_data(tmp_path / "data", MINI_CATALOG, MINI_CUSTOMERS)
    assert run(tmp_path / "plain", data_dir=data) == 0
    assert "email" not in dict_rows(tmp_path / "plain" / "report.customers.csv")[0]
    capsys.readouterr()
    assert run(tmp_path / "klaviyo", "--crm", "klaviyo", data_dir=data) == 2
    assert capsys.readouterr().err == "error: --crm klaviyo: Klaviyo imports need an email; the data has none\n"
    assert not (tmp_path / "klaviyo").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--export-top", "0"], "error: argument --export-top: '0' must be at least 1\n"),
        (["--export-top", "-2"], "error: argument --export-top: '-2' must be at least 1\n"),
        (["--export-top", "three"], "error: argument --export-top: 'three' is not a whole number\n"),
        (
            ["--crm", "mailchimp"],
            "error: argument --crm: invalid choice: 'mailchimp' (choose from 'braze', 'klaviyo')\n",
        ),
        (["--parquet=yes"], "error: argument --parquet: ignored explicit argument 'yes'\n"),
        (["--offers-per-customer", "0"], "error: argument --offers-per-customer: '0' must be at least 1\n"),
    ],
)
def test_bad_export_options_are_one_line_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(tmp_path, *args)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == message
    assert list(tmp_path.iterdir()) == []


def test_the_per_offer_file_can_keep_each_customers_best_offers(tmp_path: Path) -> None:
    assert run(tmp_path / "all") == 0
    assert run(tmp_path / "best", "--offers-per-customer", "2", "--parquet") == 0
    every = pl.read_csv(tmp_path / "all" / "report.recommendations.csv", infer_schema=False)
    best = pl.read_csv(tmp_path / "best" / "report.recommendations.csv", infer_schema=False)
    assert best.equals(every.filter(pl.col("rank").cast(pl.Int64) <= 2))
    assert best.group_by("customer_id").len().get_column("len").max() == 2
    assert pl.read_parquet(tmp_path / "best" / "report.recommendations.parquet").height == best.height
    # The per-customer file and the figures do not depend on how many offers the per-offer file keeps.
    for name in ("report.customers.csv", "report.gaps.png"):
        assert (tmp_path / "best" / name).read_bytes() == (tmp_path / "all" / name).read_bytes()
