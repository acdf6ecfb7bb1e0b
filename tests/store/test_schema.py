"""The store's schema: every table of the contract created once, a store of an older version migrated in the
writer's transaction, a newer one refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from cross_sell_upsell.io.database import DatabaseError, connect
from cross_sell_upsell.store.schema import SCHEMA_VERSION, TABLES, create_statement, ensure_schema, stored_version


def test_an_empty_database_gets_every_table_and_the_version(tmp_path: Path) -> None:
    with connect(tmp_path / "s.duckdb") as db:
        ensure_schema(db)
        ensure_schema(db)  # a second run finds them
        assert stored_version(db) == SCHEMA_VERSION == 1
        for table, columns in TABLES.items():
            assert db.columns(table) == [name for name, _ in columns]


def test_a_store_of_an_older_version_is_migrated(tmp_path: Path) -> None:
    # A version-0 store: one without the previous-offers table (a migration's statements are the store's own SQL).
    with connect(tmp_path / "s.duckdb") as db:
        ensure_schema(db)
        db.execute("DROP TABLE run_previous_offers")
        db.execute("UPDATE store_meta SET value = '0' WHERE key = 'schema_version'")
        ensure_schema(db, migrations={0: [create_statement("run_previous_offers")]})
        assert stored_version(db) == 1
        assert db.columns("run_previous_offers") == [name for name, _ in TABLES["run_previous_offers"]]


def test_an_older_version_without_a_migration_is_one_line(tmp_path: Path) -> None:
    with connect(tmp_path / "s.duckdb") as db:
        ensure_schema(db)
        db.execute("UPDATE store_meta SET value = '0' WHERE key = 'schema_version'")
        with pytest.raises(DatabaseError, match=r"^store .* has schema version 0, which no migration upgrades$"):
            ensure_schema(db, migrations={})


def test_a_newer_version_is_refused(tmp_path: Path) -> None:
    with connect(tmp_path / "s.duckdb") as db:
        ensure_schema(db)
        db.execute("UPDATE store_meta SET value = '2' WHERE key = 'schema_version'")
        with pytest.raises(DatabaseError, match=r"has schema version 2, newer than this version's 1; upgrade"):
            ensure_schema(db)
