"""The dashboard's queries over the hand-built store of store_tables.py, in a DuckDB file and in PostgreSQL (the same
tables, the same figures): each figure worked out from its rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from store_tables import build_store

from cross_sell_upsell.dashboard import queries
from cross_sell_upsell.dashboard.queries import Filters
from cross_sell_upsell.io.database import Database, DatabaseError, connect


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if request.param == "duckdb":
        target = tmp_path_factory.mktemp("store") / "history.duckdb"
    else:
        target = request.getfixturevalue("module_postgres_url")
    db = queries.open_store(build_store(target))
    yield db
    db.close()


def test_the_runs_oldest_first_and_the_filter_choices(store) -> None:
    assert queries.runs(store).get_column("run_id").to_list() == ["R1", "R2"]
    assert queries.choices(store) == {
        "segments": ["(none)", "Premium", "Value"],
        "tiers": ["Gold", "Silver"],
        "offer_types": ["product_cross_sell", "replenishment", "tier_upgrade"],
    }


def test_the_kpis_of_the_latest_run(store) -> None:
    kpis = queries.kpis(store, "R2", Filters())
    assert kpis["customers"] == 5  # 2 + 1 + 1 + 1
    assert kpis["expected_revenue"] == pytest.approx(102.0)  # 25 + 15 + 50 + 12, the offer cube
    assert kpis["potential_revenue"] == pytest.approx(340.0)  # 120 + 0 + 180 + 40
    # (0.6 + 0.2 + 0.2) over the 4 customers with a churn probability: (none)'s one customer has none.
    assert kpis["mean_churn"] == pytest.approx(0.25)
    assert (kpis["sent"], kpis["bought"], kpis["hit_rate"]) == (5, 2, pytest.approx(0.4))


def test_the_first_run_has_no_earlier_offers_to_measure(store) -> None:
    kpis = queries.kpis(store, "R1", Filters())
    assert (kpis["customers"], kpis["expected_revenue"], kpis["mean_churn"]) == (4, 100.0, pytest.approx(0.25))
    assert kpis["hit_rate"] is None and kpis["sent"] is None


@pytest.mark.parametrize(
    ("filters", "customers", "expected", "churn", "hit_rate"),
    [
        # Value: Gold (2) + Silver (1); offers 25 + 15; churn (0.6 + 0.2) / 3; measured 1 bought of 2 + 1 sent.
        (Filters(segments=("Value",)), 3, 40.0, 0.8 / 3, 1 / 3),
        (Filters(segments=("Premium",)), 1, 50.0, 0.2, 0.5),
        # Silver: Value's C3 (no offers) and (none)'s C5 (12, no churn); the measured offers have no tier.
        (Filters(tiers=("Silver",)), 2, 12.0, 0.2, 0.4),
        # Cross-sells: 25 + 50; measured 1 of 2 (Value) + 1 of 2 (Premium). Customers are not narrowed by type.
        (Filters(offer_types=("product_cross_sell",)), 5, 75.0, 0.25, 0.5),
        (Filters(segments=("Value",), offer_types=("tier_upgrade",)), 3, 15.0, 0.8 / 3, 0.0),
        (Filters(segments=("Value", "Premium"), tiers=("Gold",)), 3, 90.0, 0.8 / 3, 0.4),
    ],
)
def test_the_filters_narrow_the_kpis(store, filters, customers, expected, churn, hit_rate) -> None:
    kpis = queries.kpis(store, "R2", filters)
    assert kpis["customers"] == customers
    assert kpis["expected_revenue"] == pytest.approx(expected)
    assert kpis["mean_churn"] == pytest.approx(churn)
    assert kpis["hit_rate"] == pytest.approx(hit_rate)


def test_a_filter_that_keeps_nothing_gives_zero_customers_and_no_churn(store) -> None:
    kpis = queries.kpis(store, "R1", Filters(segments=("(none)",)))
    assert (kpis["customers"], kpis["expected_revenue"], kpis["mean_churn"], kpis["hit_rate"]) == (0, 0.0, None, None)


def test_an_unknown_run_is_one_line(store) -> None:
    with pytest.raises(DatabaseError, match="no run R9 in the store"):
        queries.kpis(store, "R9", Filters())


def test_the_trends_have_one_row_per_run(store) -> None:
    trends = queries.per_run(store, Filters(segments=("Value",)))
    assert trends.select("run_id", "customers", "expected_revenue", "potential_revenue").rows() == [
        ("R1", 3, 40.0, 150.0),
        ("R2", 3, 40.0, 120.0),
    ]
    assert trends.get_column("hit_rate").to_list() == [None, pytest.approx(1 / 3)]


def test_the_segments_side_by_side(store) -> None:
    rows = queries.segments(store, "R2", Filters()).rows()
    assert rows == [
        ("(none)", 1, 1, 40.0, 12.0, None),
        ("Premium", 1, 1, 180.0, 50.0, pytest.approx(0.2)),
        ("Value", 3, 2, 120.0, 40.0, pytest.approx(0.8 / 3)),
    ]
    narrowed = queries.segments(store, "R2", Filters(tiers=("Gold",), offer_types=("tier_upgrade",))).rows()
    assert narrowed == [("Premium", 1, 1, 180.0, 0.0, pytest.approx(0.2)), ("Value", 2, 2, 120.0, 15.0, 0.3)]


def test_the_descriptive_views(store) -> None:
    weekly = queries.weekly_sales(store, "R2")
    assert weekly.get_column("revenue").to_list() == [120.0, 200.0, 130.0]
    assert [str(day) for day in weekly.get_column("week_start")] == ["2024-02-19", "2024-02-26", "2024-03-04"]
    assert queries.top_products(store, "R2", "revenue", limit=2).get_column("product_id").to_list() == ["P2", "P1"]
    assert queries.top_products(store, "R2", "units").get_column("product_id").to_list() == ["P3", "P1", "P4", "P2"]
    assert queries.top_categories(store, "R2", "revenue").get_column("category").to_list() == [
        "kitchen",
        "hair",
        "bath",
    ]
    assert queries.top_categories(store, "R2", "units").get_column("units").to_list() == [10, 5, 1]
    assert queries.pareto(store, "R2").row(1) == (0.2, 0.5)
    with pytest.raises(ValueError, match="revenue or units"):
        queries.top_products(store, "R2", "price")


def test_the_top_customers_by_priority_in_the_filters(store) -> None:
    assert queries.top_customers(store, "R2", Filters()).get_column("customer_id").to_list() == ["C4", "C1", "C2", "C5"]
    # C3 is a Silver customer too, but unranked in R2.
    assert queries.top_customers(store, "R2", Filters(tiers=("Silver",))).get_column("customer_id").to_list() == ["C5"]
    assert queries.top_customers(store, "R2", Filters(), limit=2).get_column("priority_rank").to_list() == [1, 2]


def test_one_customers_offers_and_summary(store) -> None:
    offers = queries.customer_offers(store, "R2", "C1")
    assert offers.select("rank", "name", "probability", "price").rows() == [
        (1, "Conditioner", 0.5, 30.0),
        (2, "Hair oil", 0.2, 25.0),
    ]
    assert offers.item(0, "rationale") == "Bought shampoo <b>often</b> & no conditioner"
    summary = queries.customer(store, "R2", "C1")
    assert (summary["segment"], summary["priority_rank"], summary["expected_revenue"]) == ("Value", 2, 20.0)
    assert queries.customer(store, "R1", "C5") is None
    assert queries.customer_offers(store, "R1", "C5").height == 0


def test_the_dashboard_cannot_change_the_store(store) -> None:
    # DuckDB opened read-only, PostgreSQL in a read-only session: a slip in a query cannot damage the runs.
    with pytest.raises(DatabaseError, match="read-only"):
        store.execute("DELETE FROM runs")


def test_a_missing_file_is_no_store(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=r"^store .*missing\.duckdb does not exist$"):
        queries.open_store(tmp_path / "missing.duckdb")


def test_a_text_file_is_not_a_duckdb_store(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("customer_id,amount\nC1,10\n", encoding="utf-8")
    with pytest.raises(DatabaseError, match=r"notes\.duckdb is not a DuckDB database$") as raised:
        queries.open_store(path)
    assert "\n" not in str(raised.value)


def test_a_duckdb_file_without_the_tables_is_not_a_run_store(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE customers (customer_id TEXT)")
    with pytest.raises(DatabaseError, match=r"other\.duckdb holds no run store \(no store_meta table\)$"):
        queries.open_store(path)


def test_a_postgresql_database_without_the_tables_is_not_a_run_store(postgres_url: str) -> None:
    with pytest.raises(DatabaseError, match=r"^store postgresql://.* holds no run store \(no store_meta table\)$"):
        queries.open_store(postgres_url)


def test_a_store_of_a_newer_schema_version_is_named(tmp_path: Path) -> None:
    path = build_store(tmp_path / "history.duckdb")
    with connect(path) as db:
        db.execute("UPDATE store_meta SET value = '3' WHERE key = 'schema_version'")
    with pytest.raises(DatabaseError, match="has schema version 3, newer than this version's 2; upgrade"):
        queries.open_store(path)
