"""Done when: two batch runs a week apart on a synthetic log, the second comparing with the first and measuring
its offers against the week's purchases, on DuckDB and on PostgreSQL; checked against a direct count from the log."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from cross_sell_upsell.cli.app import main
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.synth import generate
from cross_sell_upsell.io.database import connect
from cross_sell_upsell.store import run as store_run

FIRST = date(2024, 12, 17)
SECOND = FIRST + timedelta(days=7)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200-customer synthetic catalog and log, and the log cut at each run's as-of date."""
    folder = tmp_path_factory.mktemp("synth")
    frames = generate(200, 11)
    frames["catalog"].write_parquet(folder / "catalog.parquet")
    log = frames["transactions"]
    log.write_parquet(folder / "log.parquet")
    for as_of in (FIRST, SECOND):
        log.filter(pl.col("date") <= as_of).write_parquet(folder / f"log_{as_of}.parquet")
    return folder


def run_week(folder: Path, out: Path, as_of: date, store: str) -> dict:
    argv = ["batch", "--quiet", "--transactions", str(folder / f"log_{as_of}.parquet")]
    argv += ["--catalog", str(folder / "catalog.parquet"), "--as-of", str(as_of), "--store", store]
    assert main([*argv, "--output", str(out / f"{as_of}.md")]) == 0
    return json.loads((out / f"{as_of}.summary.json").read_text(encoding="utf-8"))


def sent_offers(out: Path, as_of: date) -> list[dict[str, str]]:
    """The offers the run sent, from its per-offer CSV: each customer's top `top_n`."""
    with open(out / f"{as_of}.recommendations.csv", newline="", encoding="utf-8") as stream:
        return [row for row in csv.DictReader(stream) if int(row["rank"]) <= OrchestratorConfig().top_n]


def direct_count(folder: Path, offers: list[dict[str, str]]) -> tuple[int, float]:
    """Offers bought in the week (a purchase of any of their products by their customer after the first as-of
    date and on or before the second) and the revenue of those purchases, counted straight from the log."""
    week = pl.read_parquet(folder / "log.parquet").filter(pl.col("date") > FIRST, pl.col("date") <= SECOND)
    bought = {(row["customer_id"], row["product_id"]) for row in week.iter_rows(named=True)}
    offered = {(offer["customer_id"], product) for offer in offers for product in offer["product_ids"].split(";")}
    hits = sum(
        any((offer["customer_id"], product) in bought for product in offer["product_ids"].split(";"))
        for offer in offers
    )
    revenue = sum(
        row["amount"] for row in week.iter_rows(named=True) if (row["customer_id"], row["product_id"]) in offered
    )
    return hits, round(revenue, 2)


def check_two_weeks(synthetic: Path, out: Path, store: str) -> None:
    first = run_week(synthetic, out, FIRST, store)
    assert (first["previous_run"], first["previous_offers"]) == (None, None)
    assert "first run in this store" in (out / f"{FIRST}.md").read_text(encoding="utf-8")
    second = run_week(synthetic, out, SECOND, store)

    offers = sent_offers(out, FIRST)
    hits, revenue = direct_count(synthetic, offers)
    measured = second["previous_offers"]
    assert (measured["sent"], measured["bought"]) == (len(offers), hits)
    assert hits > 0  # a week of synthetic purchases sells some of the offers
    assert measured["revenue"] == pytest.approx(revenue)
    assert measured["hit_rate"] == pytest.approx(hits / len(offers))
    assert sum(row["sent"] for row in measured["by_type"]) == len(offers)
    assert sum(row["bought"] for row in measured["by_segment"]) == hits

    compared = second["previous_run"]
    assert compared["as_of"] == str(FIRST)
    deltas = compared["deltas"]
    assert deltas["customers_processed"] == second["customers_processed"] - first["customers_processed"]
    potential = second["total_potential_revenue"] - first["total_potential_revenue"]
    assert deltas["potential_revenue"] == pytest.approx(potential, abs=0.005)
    migrated = sum(
        row["customers"] for row in compared["segment_migration"] if row["current_segment"] != "(not in run)"
    )
    assert migrated == second["customers_processed"]

    report = (out / f"{SECOND}.md").read_text(encoding="utf-8")
    sections = [line for line in report.splitlines() if line.startswith("## ")]
    assert sections[:2] == ["## Executive summary", "## Did last week's offers sell?"]
    with connect(store, read_only=True) as db:
        assert db.query("SELECT COUNT(*) AS n FROM runs").item() == 2
        stored = db.query(
            "SELECT CAST(SUM(sent) AS BIGINT) AS sent, CAST(SUM(bought) AS BIGINT) AS bought FROM run_previous_offers"
        ).row(0)
        assert stored == (len(offers), hits)
        # The offers' acceptance probabilities and the run's expected revenue are the batch's own.
        expected = db.query("SELECT expected_revenue FROM runs ORDER BY as_of").get_column("expected_revenue")
        assert expected.to_list() == [first["total_expected_revenue"], second["total_expected_revenue"]]
        first_offers = db.query(
            "SELECT o.customer_id, o.rank, o.probability FROM run_offers o JOIN runs r ON o.run_id = r.run_id "
            "WHERE r.as_of = $1 ORDER BY o.customer_id, o.rank",
            [FIRST],
        )
    written = sorted(
        (offer["customer_id"], int(offer["rank"]), float(offer["acceptance_probability"])) for offer in offers
    )
    assert first["total_expected_revenue"] is not None  # 200 customers' history is enough to train the model
    assert [row[:2] for row in first_offers.rows()] == [row[:2] for row in written]
    assert first_offers.get_column("probability").to_list() == pytest.approx([row[2] for row in written])


def test_two_weeks_in_a_duckdb_store(synthetic: Path, tmp_path: Path) -> None:
    check_two_weeks(synthetic, tmp_path / "out", str(tmp_path / "history.duckdb"))


def test_two_weeks_in_a_postgresql_store(synthetic: Path, tmp_path: Path, postgres_url: str) -> None:
    check_two_weeks(synthetic, tmp_path / "out", postgres_url)


def test_a_store_removed_while_the_batch_runs_is_one_line_exit_2_nothing_written(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The previous run's customers and offers are read after the chunks; a store gone by then stops the run."""
    store, out = tmp_path / "history.duckdb", tmp_path / "out"
    run_week(synthetic, out, FIRST, str(store))
    read_previous = store_run.read_previous

    def read_then_remove(target: str, as_of: date) -> dict | None:
        row = read_previous(target, as_of)
        Path(target).unlink()
        return row

    monkeypatch.setattr(store_run, "read_previous", read_then_remove)
    argv = ["batch", "--quiet", "--transactions", str(synthetic / f"log_{SECOND}.parquet"), "--as-of", str(SECOND)]
    argv += ["--catalog", str(synthetic / "catalog.parquet"), "--store", str(store)]
    capsys.readouterr()
    assert main([*argv, "--output", str(out / f"{SECOND}.md")]) == 2
    assert capsys.readouterr().err == f"error: the run store {store} is gone\n"
    assert sorted(path.name for path in out.iterdir()) == sorted(path.name for path in out.glob(f"{FIRST}*"))
    assert not store.exists()
