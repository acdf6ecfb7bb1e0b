"""The Complete Journey adapter's catalog and grocery configuration, on hand-built tables shaped like the
package's (the package itself is only needed for the full run, scripts/backtest_completejourney.sh)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from cross_sell_upsell.data.completejourney import catalog_frame, grocery_config

TRANSACTIONS = pl.DataFrame(
    {
        "product_id": [1, 1, 1, 2, 2, 3],
        "quantity": [1, 2, 1, 1, 0, 1],
        "sales_value": [2.0, 5.0, 9.0, 1.5, 3.0, 0.0],
        "transaction_timestamp": [
            datetime(2017, 1, 2, 9),
            datetime(2017, 2, 3, 10),
            datetime(2017, 11, 1, 8),
            datetime(2017, 12, 1, 12),
            datetime(2017, 3, 1, 12),
            datetime(2017, 1, 5, 9),
        ],
    }
)
PRODUCTS = pl.DataFrame(
    {
        "product_id": [1, 2, 3],
        "department": ["GROCERY", "PRODUCE", "GROCERY"],
        "brand": ["National", None, "Private"],
        "product_category": ["FLUID MILK", None, "SOUP"],
        "product_type": ["MILK 2%", "BANANAS", "SOUP: CANNED"],
        "package_size": ["1 GA", None, None],
    }
)


def test_catalog_prices_from_before_the_cutoff_and_names_from_the_product_table():
    catalog = catalog_frame(TRANSACTIONS, PRODUCTS, priced_before=date(2017, 10, 1))
    assert catalog.rows() == [
        # Unit prices of 1 before October: 2.0 and 5.0 / 2 = 2.5 -> median 2.25 (the $9 in November is later).
        ("1", "MILK 2% (National, 1 GA)", "FLUID MILK", 2.25),
        # 2 sold only in December (the 0-quantity row is no sale): priced from all its sales, 1.5.
        ("2", "BANANAS (unbranded)", "PRODUCE", 1.5),
        # 3 never sold for money, so it is not in the catalog.
    ]


def test_grocery_config_has_no_routine_and_maps_the_log_columns():
    config = grocery_config()
    assert config.essential_categories == ()
    assert config.due_soon_days == 28
    assert config.ingest.transaction_columns == {
        "customer_id": "household_id",
        "date": "transaction_timestamp",
        "amount": "sales_value",
    }
    assert config.weights.affinity == 60.0 and config.weights.business_value == 0.0
