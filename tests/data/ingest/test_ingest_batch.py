"""The weekly batch on a transaction log: the same offers as on the JSON profiles, bad rows set aside and
reported, --strict."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ingest_helpers import SMALL_CATALOG_CSV, write_text

from cross_sell_upsell import OrchestratorConfig
from cross_sell_upsell.cli.batch import batch_main


def _batch(argv: list[str], tmp_path: Path) -> int:
    return batch_main(["--quiet", "--as-of", "2024-03-01", *argv], OrchestratorConfig(), Path("data/tier1"), tmp_path)


def _offers(report: Path) -> list[dict[str, str]]:
    with report.with_suffix(".recommendations.csv").open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_the_batch_on_a_log_and_customers_file_gives_the_json_profiles_offers(tier1_as_files, tmp_path):
    from_json, from_log = tmp_path / "json" / "weekly.md", tmp_path / "log" / "weekly.md"
    assert _batch(["--data-dir", "data/tier1", "--output", str(from_json)], tmp_path) == 0
    log_args = [
        "--transactions",
        str(tier1_as_files / "transactions.csv"),
        "--catalog",
        str(tier1_as_files / "catalog.csv"),
        "--customers-file",
        str(tier1_as_files / "customers.csv"),
    ]
    assert _batch([*log_args, "--output", str(from_log)], tmp_path) == 0
    # 53 offers: six cross-sold cleansers P001 are no longer made beside a customer's own cleanser or their
    # bundle's (docs/offers.md)
    assert len(_offers(from_json)) == 53
    assert _offers(from_log) == _offers(from_json)
    summary = json.loads(from_log.with_suffix(".summary.json").read_text())
    log_rows = len((tier1_as_files / "transactions.csv").read_text().splitlines()) - 1  # the header is no row
    assert (summary["rows_read"], summary["rows_used"], summary["rows_rejected"]) == (log_rows, log_rows, 0)
    assert not from_log.with_suffix(".rejected_rows.csv").exists()
    assert f"{log_rows:,} transaction rows read: {log_rows:,} used, 0 set aside." in from_log.read_text()
    # Profiles are no log: no rows are read, and the report has no data-quality section.
    from_profiles = json.loads(from_json.with_suffix(".summary.json").read_text())
    assert (from_profiles["rows_read"], from_profiles["rows_used"], from_profiles["rows_rejected"]) == (None, None, 0)
    assert "## Data quality" not in from_json.read_text()


def test_bad_rows_are_set_aside_beside_the_report_and_counted(tmp_path):
    catalog = write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)
    log = write_text(
        tmp_path / "log.csv",
        "customer_id,product_id,date,amount\nC1,P1,2024-01-10,12\nC1,P7,2024-01-10,5\nC2,P1,not-a-date,12\n"
        "C2,P2,2024-01-11,20\nC3,P1,2024-01-12,12\n",
    )
    report = tmp_path / "out" / "weekly.md"
    code = _batch(["--transactions", str(log), "--catalog", str(catalog), "--output", str(report)], tmp_path)
    assert code == 0
    summary = json.loads(report.with_suffix(".summary.json").read_text())
    assert (summary["rows_read"], summary["rows_used"], summary["rows_rejected"]) == (5, 3, 2)
    assert {reason: count for reason, count in summary["rows_rejected_by_reason"].items() if count} == {
        "unknown_product": 1,
        "unparseable_date": 1,
    }
    with report.with_suffix(".rejected_rows.csv").open(newline="", encoding="utf-8") as stream:
        assert sorted(row["reason"] for row in csv.DictReader(stream)) == ["unknown_product", "unparseable_date"]
    text = report.read_text()
    assert "## Data quality" in text
    assert "5 transaction rows read: 3 used, 2 set aside." in text
    assert "| unknown product | 1 |" in text
    assert "`weekly.rejected_rows.csv`: the input rows set aside, with the reason." in text


def test_strict_batch_exits_2_and_writes_nothing(tmp_path, capsys):
    catalog = write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)
    log = write_text(tmp_path / "log.csv", "customer_id,product_id,date,amount\nC1,P7,2024-01-10,5\n")
    out = tmp_path / "out"
    code = _batch(
        ["--transactions", str(log), "--catalog", str(catalog), "--strict", "--output", str(out / "weekly.md")],
        tmp_path,
    )
    assert code == 2
    assert capsys.readouterr().err.startswith(
        f"error: {log}: record row 1 (customer C1, product P7): field 'product_id'"
    )
    assert not out.exists()
