"""The orchestrator on transaction logs: the same offers as on the equivalent JSON profiles, a routine outside
skincare configured end to end, and the command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from ingest_helpers import AS_OF, SMALL_CATALOG_CSV, write_text
from polars.testing import assert_frame_equal

from cross_sell_upsell import OrchestratorConfig, analyze_cohort, load_dataset
from cross_sell_upsell.cli.orchestrator import orchestrator_main
from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data.ingest import learned_cycles_note, load_transactions_dataset


def test_a_csv_log_and_customers_file_give_the_json_profiles_offers(tier1_as_files):
    folder = tier1_as_files
    from_json = analyze_cohort(as_of=AS_OF, dataset=load_dataset("data/tier1"))
    from_log = analyze_cohort(
        as_of=AS_OF,
        dataset=load_transactions_dataset(
            folder / "transactions.csv", folder / "catalog.csv", folder / "customers.csv", as_of=AS_OF
        ),
    )
    assert from_json["opportunities"].height > 0
    assert_frame_equal(from_log["opportunities"], from_json["opportunities"])
    assert_frame_equal(from_log["customer_summaries"], from_json["customer_summaries"])


def test_run_orchestrator_reports_the_same_on_the_log_as_on_the_profiles(tier1_as_files, tmp_path, capsys):
    folder = tier1_as_files
    common = ["--customer", "C004", "--as-of", "2024-03-01", "--format", "json"]
    assert _cli([*common, "--data-dir", "data/tier1"], tmp_path) == 0
    from_json = json.loads(capsys.readouterr().out)
    log_args = ["--transactions", str(folder / "transactions.csv"), "--catalog", str(folder / "catalog.csv")]
    assert _cli([*common, *log_args, "--customers-file", str(folder / "customers.csv")], tmp_path) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no rejected row, no learned cycle
    assert json.loads(captured.out) == from_json
    assert from_json["opportunities"]


PERSONAL_CARE_CATALOG = """
    sku,title,dept,price,cycle
    H1,Daily Shampoo,hair_wash,8.00,30
    H2,Silk Conditioner,hair_care,9.00,
    S1,Oat Soap Bar,body_wash,4.00,21
    D1,Fresh Deodorant,deo,6.00,40
    R1,Travel Razor,shaving,12.00,
"""
# H2 has no cycle: three customers rebought it after 28, 30 and 32, 29 and 31 days -> 5 intervals, median 30.
PERSONAL_CARE_LOG = """
    customer_id,sku,date,qty,amount
    K1,H1,2024-01-20,1,8.00
    K1,S1,2024-02-25,1,4.00
    K2,H2,2023-11-01,1,9.00
    K2,H2,2023-11-29,1,9.00
    K2,H2,2023-12-29,1,9.00
    K3,H2,2023-12-01,1,9.00
    K3,H2,2024-01-02,1,9.00
    K4,H2,2023-12-01,1,9.00
    K4,H2,2023-12-30,1,9.00
    K4,H2,2024-01-30,1,9.00
"""


def test_a_personal_care_routine_runs_unchanged_from_configuration(tmp_path):
    config = OrchestratorConfig(
        essential_categories=("shampoo", "conditioner", "soap", "deodorant"),
        ingest=IngestSettings(
            transaction_columns={"product_id": "sku", "quantity": "qty"},
            catalog_columns={
                "product_id": "sku",
                "name": "title",
                "category": "dept",
                "replenishment_cycle_days": "cycle",
            },
            category_mapping={
                "hair_wash": "shampoo",
                "hair_care": "conditioner",
                "body_wash": "soap",
                "deo": "deodorant",
            },
        ),
    )
    dataset = load_transactions_dataset(
        write_text(tmp_path / "log.csv", PERSONAL_CARE_LOG),
        write_text(tmp_path / "catalog.csv", PERSONAL_CARE_CATALOG),
        as_of=AS_OF,
        settings=config.ingest,
    )
    assert dataset.learned_cycles.rows() == [
        ("H2", "conditioner", 30, "product", 5),
        ("R1", "shaving", None, "none", 0),
    ]
    assert learned_cycles_note(dataset) == (
        "replenishment cycles learned from the log: H2 30 days (product median of 5 repeats), R1 none (too few repeats)"
    )
    assert learned_cycles_note(dataset, limit=1).endswith("H2 30 days (product median of 5 repeats) and 1 more")
    output = analyze_cohort(["K1"], as_of=AS_OF, dataset=dataset, config=config)
    summary = output["customer_summaries"].row(0, named=True)
    assert summary["missing_essentials"] == ["conditioner", "deodorant"]
    assert summary["routine_completeness"] == pytest.approx(0.5)  # owns shampoo and soap: 2 of 4
    offers = {row["offer_id"]: row for row in output["opportunities"].iter_rows(named=True)}
    # H1 bought 2024-01-20 on a 30-day cycle: 41 days ago on 2024-03-01, so due since 2024-02-19
    assert offers["H1"]["type"] == "replenishment" and offers["H1"]["due_date"] == date(2024, 2, 19)
    assert offers["H2"]["type"] == "routine_gap" and offers["D1"]["type"] == "routine_gap"
    assert offers["BUNDLE-H2-D1"]["type"] == "bundle"
    assert "S1" not in offers  # 5 days into a 21-day cycle


def _cli(argv, tmp_path):
    return orchestrator_main(argv, OrchestratorConfig(), Path("data/tier1"), tmp_path / "output")


def _log_args(folder: Path, log: Path) -> list[str]:
    return ["--transactions", str(log), "--catalog", str(folder / "catalog.csv"), "--as-of", "2024-03-01"]


def test_cli_report_from_a_log_writes_rejected_rows_beside_it(tmp_path, capsys):
    write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)
    log = write_text(
        tmp_path / "log.csv", "customer_id,product_id,date,amount\nC1,P1,2024-01-10,12\nC1,P7,2024-01-10,5\n"
    )
    code = _cli(["--customer", "C1", *_log_args(tmp_path, log), "--output", str(tmp_path / "out" / "c1.md")], tmp_path)
    captured = capsys.readouterr()
    assert code == 0
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["c1.md", "rejected_rows_2024-03-01.csv"]
    assert captured.err == (
        # The small catalog has no toner or serum, and its `sunscreen` is not mapped to `spf` here.
        f"warning: {tmp_path}/catalog.csv: essential categories 'toner', 'serum', 'spf' match no catalog category; "
        "the catalog has cleanser, moisturizer, sunscreen (map yours with ingest.category_mapping, or set "
        "essential_categories)\n"
        f"note: 1 transaction rows rejected (unknown_product 1); see {tmp_path}/out/rejected_rows_2024-03-01.csv\n"
    )
    assert "**Products owned:** 1 (P1)" in (tmp_path / "out" / "c1.md").read_text()


def test_cli_strict_exits_2_and_writes_nothing(tmp_path, capsys):
    write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)
    log = write_text(
        tmp_path / "log.csv", "customer_id,product_id,date,amount\nC1,P1,2024-01-10,12\nC1,P7,2024-01-10,5\n"
    )
    code = _cli(["--customer", "C1", *_log_args(tmp_path, log), "--strict"], tmp_path)
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {log}: record row 2 (customer C1, product P7): field 'product_id': the product is not in the catalog\n"
    )
    assert not (tmp_path / "output").exists()


def test_cli_column_option_maps_a_retailer_column(tmp_path, capsys):
    write_text(tmp_path / "catalog.csv", SMALL_CATALOG_CSV)
    log = write_text(tmp_path / "log.csv", "customer_id,sku,date,amount\nC1,P1,2024-01-10,12\n")
    code = _cli(
        ["--customer", "C1", *_log_args(tmp_path, log), "--column", "transactions.product_id=sku", "--format", "json"],
        tmp_path,
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["products_owned"] == ["P1"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--data-dir", "data/tier1", "--transactions", "log.csv"],
            "error: --data-dir and --transactions are alternatives",
        ),
        (["--transactions", "log.csv"], "error: --transactions needs --catalog"),
        (["--catalog", "catalog.csv"], "error: --catalog, --customers-file and --column go with --transactions"),
        (["--column", "product_id"], "'product_id' is not NAME=SOURCE"),
        (
            ["--transactions", "log.csv", "--catalog", "c.csv", "--column", "sku=x"],
            "error: --column sku: unknown field",
        ),
    ],
)
def test_cli_rejects_inconsistent_data_options(tmp_path, capsys, extra, message):
    try:
        code = _cli(["--customer", "C1", *extra], tmp_path)
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "output").exists()
