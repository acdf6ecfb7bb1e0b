"""The store's schema: every table of the contract created once, a store of an older version migrated in the
writer's transaction (version 1's primary keys dropped, its rows kept), a newer one refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from cross_sell_upsell.io.database import DatabaseError, connect
from cross_sell_upsell.store.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    TABLES,
    create_statement,
    ensure_schema,
    stored_version,
)


def test_an_empty_database_gets_every_table_and_the_version(target: str) -> None:
    with connect(target) as db:
        ensure_schema(db)
        ensure_schema(db)  # a second run finds them
        assert stored_version(db) == SCHEMA_VERSION == 2
        for table, columns in TABLES.items():
            assert db.columns(table) == [name for name, _ in columns]


def test_a_store_of_an_older_version_is_migrated(tmp_path: Path) -> None:
    # A version-0 store: one without the previous-offers table (a migration's statements are the store's own SQL).
    with connect(tmp_path / "s.duckdb") as db:
        ensure_schema(db)
        db.execute("DROP TABLE run_previous_offers")
        db.execute("UPDATE store_meta SET value = '0' WHERE key = 'schema_version'")
        ensure_schema(db, migrations={0: [create_statement("run_previous_offers")], 1: MIGRATIONS[1]})
        assert stored_version(db) == 2
        assert db.columns("run_previous_offers") == [name for name, _ in TABLES["run_previous_offers"]]


# Version 1's two tables as it created them: with composite primary keys.
VERSION_1_KEYS = {"run_customers": "run_id, customer_id", "run_offers": "run_id, customer_id, rank"}


def test_a_version_1_store_keeps_its_rows_and_loses_its_primary_keys(target: str) -> None:
    with connect(target) as db:
        ensure_schema(db)
        for table, key in VERSION_1_KEYS.items():
            db.execute(f"DROP TABLE {table}")
            db.execute(_version_1_statement(table, key))
        db.execute(
            "INSERT INTO run_customers (run_id, customer_id, segment, loyalty_tier, gaps, gap_categories, "
            "potential_revenue) VALUES ('r1', 'C1', 'A', 'gold', 1, 'toner', 12.5)"
        )
        db.execute("UPDATE store_meta SET value = '1' WHERE key = 'schema_version'")
        db.commit()
        db.begin()
        ensure_schema(db)
        assert stored_version(db) == 2
        assert db.columns("run_customers") == [name for name, _ in TABLES["run_customers"]]
        kept = db.query("SELECT run_id, customer_id, gaps, potential_revenue FROM run_customers")
        assert kept.rows() == [("r1", "C1", 1, 12.5)]
        # No key refuses the same (run, customer) twice any more: the writer makes the rows unique.
        db.execute("INSERT INTO run_customers SELECT * FROM run_customers")
        assert db.query("SELECT COUNT(*) AS n FROM run_customers").item() == 2


def _version_1_statement(table: str, key: str) -> str:
    return create_statement(table)[:-1] + f", PRIMARY KEY ({key}))"


def test_a_server_store_has_the_lookup_indexes(postgres_url: str) -> None:
    with connect(postgres_url) as db:
        ensure_schema(db)
        indexes = db.query(
            "SELECT indexname::text AS name, indexdef::text AS definition FROM pg_indexes "
            "WHERE schemaname = current_schema() AND indexname LIKE '%_lookup' ORDER BY 1"
        )
        assert indexes.get_column("name").to_list() == ["run_customers_lookup", "run_offers_lookup"]
        assert all(definition.endswith("(run_id, customer_id)") for definition in indexes.get_column("definition"))


def test_an_older_version_without_a_migration_is_one_line(tmp_path: Path) -> None:
    with connect(tmp_path / "s.duckdb") as db:
        ensure_schema(db)
        db.execute("UPDATE store_meta SET value = '0' WHERE key = 'schema_version'")
        with pytest.raises(DatabaseError, match=r"^store .* has schema version 0, which no migration upgrades$"):
            ensure_schema(db, migrations={})


def test_a_newer_version_is_refused(tmp_path: Path) -> None:
    with connect(tmp_path / "s.duckdb") as db:
        ensure_schema(db)
        db.execute("UPDATE store_meta SET value = '3' WHERE key = 'schema_version'")
        with pytest.raises(DatabaseError, match=r"has schema version 3, newer than this version's 2; upgrade"):
            ensure_schema(db)
