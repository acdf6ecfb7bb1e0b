"""A `Dataset` from a retailer's transaction log, catalog and optional customers file, and what a run says
about that ingestion: the rejected rows and the replenishment cycles learned from the log.

Customer attributes the retailer does not give are derived from purchases made up to the as-of date by the
pure functions of `derivations`; docs/ingest.md gives every formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from cross_sell_upsell.configuration import CATALOG_FIELDS, CUSTOMER_FIELDS, TRANSACTION_FIELDS, IngestSettings
from cross_sell_upsell.data.dataset import GIVEN_VALUE_COLUMNS, OWNERSHIP_SCHEMA, Dataset
from cross_sell_upsell.data.derivations import customer_features, derive_customers, learn_cycles, with_learned_cycles
from cross_sell_upsell.data.ingest.catalog import load_catalog
from cross_sell_upsell.data.ingest.customers import load_customer_attributes
from cross_sell_upsell.data.ingest.guards import check_rejected_share
from cross_sell_upsell.data.ingest.tables import database_table
from cross_sell_upsell.data.ingest.transactions import REJECT_REASONS, REJECTED_SCHEMA, read_transactions
from cross_sell_upsell.data.records import DEFAULT_TIER_PRICE_RANGES
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.io.files import write_atomic


def load_transactions_dataset(
    transactions: str | Path,
    catalog: str | Path,
    customers_file: str | Path | None = None,
    *,
    as_of: date,
    settings: IngestSettings | None = None,
    strict: bool = False,
    tier_price_ranges: dict[int, tuple[float, float]] = DEFAULT_TIER_PRICE_RANGES,
) -> Dataset:
    """A Dataset with the same frames as `load_dataset`, from a transaction log, a catalog and optional
    customer attributes.

    The customers are those with a valid purchase on or before `as_of` and everyone in the customers file.
    Every product a customer bought counts as owned: ownership holds each dated purchase with its `amount` (and
    its `basket_id` when the log has them), so the cohort sees what was owned on the as-of date and the customer
    models what was paid. Attributes the customers file does not give are derived from purchases up to `as_of`.
    Bad log rows are kept in `rejected_rows`, or raise DataValidationError in strict mode, or when they are more
    than `settings.max_rejected_share` of the rows."""
    settings = settings or IngestSettings()
    products, cross_sells = load_catalog(catalog, settings, tier_price_ranges)
    given = load_customer_attributes(customers_file, settings) if customers_file is not None else None
    purchases, rejected, rows_read = read_transactions(
        transactions, products.get_column("product_id"), settings, strict=strict
    )
    log = database_table(transactions) or Path(transactions)  # a URL's password is not written in messages
    check_rejected_share(log, rows_read, reason_counts(rejected), settings.max_rejected_share)
    features = customer_features(purchases, products, as_of, settings.rfm_window_days)
    learned = learn_cycles(purchases, products, as_of, settings.cycle_min_repeats)
    return Dataset(
        products=with_learned_cycles(products, learned),
        cross_sells=cross_sells,
        customers=derive_customers(features, given, settings),
        ownership=ownership_frame(purchases, has_baskets(purchases)),
        source=dataset_source(log, catalog, customers_file),
        rejected_rows=rejected,
        rows_read=rows_read,
        learned_cycles=learned,
        customer_features=features,
        given_values=given_values_frame(given),
    )


def has_baskets(purchases: pl.DataFrame) -> bool:
    """Whether any purchase names its basket (else ownership leaves the column out)."""
    return purchases.get_column("basket_id").null_count() < purchases.height


def ownership_frame(purchases: pl.DataFrame, baskets: bool) -> pl.DataFrame:
    """`Dataset.ownership` from the valid purchases, with `basket_id` when the log names `baskets`."""
    return purchases.select(*OWNERSHIP_SCHEMA, "amount", *(["basket_id"] if baskets else []))


def given_values_frame(given: pl.DataFrame | None) -> pl.DataFrame:
    """`Dataset.given_values` from the customers file's attributes (None without a file)."""
    if given is None:
        return pl.DataFrame(schema={"customer_id": pl.String()})
    return given.select("customer_id", *(name for name in GIVEN_VALUE_COLUMNS if name in given.columns))


def dataset_source(log: object, catalog: str | Path, customers_file: str | Path | None) -> str:
    """`Dataset.source`: the files (or table) the data came from, as the reports name them."""
    return f"{log} + {catalog}" + (f" + {customers_file}" if customers_file is not None else "")


def rows_rejected_summary(dataset: Dataset) -> dict[str, Any]:
    """{"rows_read": n, "rows_used": u, "total": r, "by_reason": {reason: count}} over every reason of
    REJECT_REASONS (zeros included), where every row read is used or rejected: n = u + r. `rows_read` and
    `rows_used` only for a dataset read from a transaction log."""
    counts = reason_counts(dataset.rejected_rows)
    total = sum(counts.values())
    rows = {} if dataset.rows_read is None else {"rows_read": dataset.rows_read, "rows_used": dataset.rows_read - total}
    return {**rows, "total": total, "by_reason": counts}


def reason_counts(rejected: pl.DataFrame | None) -> dict[str, int]:
    """Rejected rows per reason, every reason of REJECT_REASONS in order (zeros included)."""
    counts = dict.fromkeys(REJECT_REASONS, 0)
    if rejected is not None:
        for reason, count in rejected.get_column("reason").value_counts().iter_rows():
            counts[reason] = count
    return counts


def learned_cycles_note(dataset: Dataset, limit: int = 10) -> str | None:
    """One line on the cycles learned from the log, e.g. "replenishment cycles learned from the log: H2 30
    days (product median of 5 repeats), R1 none (too few repeats)"; None when the catalog gave every cycle."""
    if dataset.learned_cycles is None or dataset.learned_cycles.is_empty():
        return None
    parts = [
        f"{row['product_id']} none (too few repeats)"
        if row["basis"] == "none"
        else f"{row['product_id']} {row['cycle_days']} days ({row['basis']} median of {row['repeats']} repeats)"
        for row in dataset.learned_cycles.head(limit).iter_rows(named=True)
    ]
    more = dataset.learned_cycles.height - limit
    return "replenishment cycles learned from the log: " + ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def write_rejected_rows(dataset: Dataset, path: str | Path) -> Path:
    """Writes the rejected rows as CSV (REJECTED_SCHEMA columns), atomically."""
    rejected = dataset.rejected_rows if dataset.rejected_rows is not None else pl.DataFrame(schema=REJECTED_SCHEMA)
    return write_atomic(path, rejected.write_csv())


def with_column_overrides(settings: IngestSettings, overrides: Iterable[tuple[str, str]]) -> IngestSettings:
    """Settings with column mappings from `--column NAME=SOURCE` options. NAME is a field (mapped in every
    file that has it) or a field qualified by its file: transactions.product_id, catalog.name, customers.name."""
    tables = {
        "transactions": ("transaction_columns", TRANSACTION_FIELDS),
        "catalog": ("catalog_columns", CATALOG_FIELDS),
        "customers": ("customer_columns", CUSTOMER_FIELDS),
    }
    updates = {table: dict(getattr(settings, table)) for table, _ in tables.values()}
    for name, source in overrides:
        qualifier, _, field = name.rpartition(".")
        if qualifier and qualifier not in tables:
            raise ConfigurationError(f"--column {name}: '{qualifier}' is not one of {', '.join(tables)}")
        targets = [tables[qualifier]] if qualifier else list(tables.values())
        matched = [table for table, fields in targets if field in fields]
        if not matched:
            raise ConfigurationError(f"--column {name}: unknown field '{field}'")
        for table in matched:
            updates[table][field] = source
    return settings.model_copy(update=updates)
