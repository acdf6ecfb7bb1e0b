"""The dashboard's server side without a browser: the KPI texts and what the page says when the store cannot be
read at the moment (a batch holding DuckDB's write lock), over the hand-built store of store_tables.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from store_tables import build_store

from cross_sell_upsell.dashboard import queries
from cross_sell_upsell.dashboard.app import create_app, kpi_panel
from cross_sell_upsell.dashboard.queries import Filters


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    return build_store(tmp_path / "history.duckdb")


def test_the_kpi_texts(store: Path) -> None:
    # R2 as in test_queries: 5 customers (potential 340), offers 102, 2 of 5 bought, churn 0.25.
    assert kpi_panel(store, "R2", Filters()) == [
        "5",
        "potential $340.00",
        "$102.00",
        "",
        "40.0%",
        "2 of 5 offers bought",
        "25.0%",
        "over the customers with a churn model",
        "",
    ]
    assert kpi_panel(store, "R1", Filters())[4:6] == ["n/a", "no earlier run measured"]


def test_while_a_batch_holds_the_store_the_kpis_say_why(store: Path) -> None:
    # A writer's connection: DuckDB will not open the file read-only beside it (another process's writer holds
    # the file's lock instead, and the reader says the store is being written).
    with duckdb.connect(str(store)):
        panel = kpi_panel(store, "R2", Filters())
        page = create_app(store).layout()
    assert panel[:-1] == ["n/a", ""] * 4
    assert panel[-1].startswith(f"store {store} cannot be opened (")
    assert panel[-1].endswith("; reload in a moment")
    (message,) = [child for child in page.children if getattr(child, "id", None) == "store-error"]
    assert message.children.startswith(f"store {store} cannot be opened (")


def test_without_expected_revenue_the_offers_figure_is_not_available(store: Path) -> None:
    # The acceptance model fell back: offers sent, but no expected revenue; a segment without offers still has 0.
    with duckdb.connect(str(store)) as connection:
        connection.execute("UPDATE run_offer_cube SET expected_revenue = NULL")
    assert kpi_panel(store, "R2", Filters())[2] == "n/a"
    with queries.open_store(store) as connection:
        by_segment = queries.segments(connection, "R2", Filters(tiers=("Silver",)))
    assert by_segment.select("segment", "expected_revenue").rows() == [("(none)", None), ("Value", 0.0)]


def test_the_page_over_a_postgresql_store(postgres_url: str) -> None:
    # The same hand-built store in PostgreSQL: the same KPI texts as test_the_kpi_texts; the page names the URL.
    build_store(postgres_url)
    texts = kpi_panel(postgres_url, "R2", Filters())
    assert texts[:7] == ["5", "potential $340.00", "$102.00", "", "40.0%", "2 of 5 offers bought", "25.0%"]
    (name,) = [
        child for child in create_app(postgres_url).layout().children if getattr(child, "id", None) == "store-name"
    ]
    assert name.children == f"store: {postgres_url}, 2 runs"
