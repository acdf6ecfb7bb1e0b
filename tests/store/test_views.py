"""The store's descriptive views on a hand-built purchase table: weekly sales, top products and categories, the
Pareto of revenue by customer."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from support import rows

from cross_sell_upsell.store.views import (
    SalesCounts,
    combined,
    pareto,
    priced_purchases,
    sales_counts,
    sales_views,
    top_categories,
    top_products,
    until,
    weekly_sales,
)

PRODUCTS = pl.DataFrame(
    rows(
        "product_id | name    | category | price",
        "P1         | Cleanse | cleanser | 10.0",
        "P2         | Tone    | toner    | 20.0",
        "P3         | Serum   | serum    | 40.0",
    )
)
OWNERSHIP = pl.DataFrame(
    rows(
        "customer_id | product_id | purchase_date | amount",
        "C1          | P1         | 2024-03-04    | 12.0",  # a Monday
        "C1          | P2         | 2024-03-10    | null",  # the Sunday of the same week: at the catalog price, 20
        "C2          | P1         | 2024-03-11    | 8.0",
        "C3          | P3         | 2024-03-12    | 40.0",
        "C3          | P3         | 2024-03-20    | 40.0",  # after the as-of date
    ),
    schema_overrides={"amount": pl.Float64},
).with_columns(pl.col("purchase_date").str.to_date())
AS_OF = date(2024, 3, 15)


@pytest.fixture()
def purchases() -> SalesCounts:
    return sales_counts(until(priced_purchases(OWNERSHIP, PRODUCTS), AS_OF))


def test_weeks_start_on_monday_and_a_missing_amount_is_the_catalog_price(purchases: SalesCounts) -> None:
    assert weekly_sales(purchases).rows() == [
        (date(2024, 3, 4), 32.0, 2, 1),
        (date(2024, 3, 11), 48.0, 2, 2),
    ]


def test_top_products_and_categories(purchases: SalesCounts) -> None:
    assert top_products(purchases, PRODUCTS).rows() == [
        ("P3", "Serum", "serum", 40.0, 1),
        ("P1", "Cleanse", "cleanser", 20.0, 2),
        ("P2", "Tone", "toner", 20.0, 1),
    ]
    # By revenue P3 is first; by units, with a limit of 1, P1: the union holds both.
    assert top_products(purchases, PRODUCTS, limit=1).get_column("product_id").to_list() == ["P3", "P1"]
    assert top_categories(purchases, PRODUCTS).rows() == [
        ("serum", 40.0, 1),
        ("cleanser", 20.0, 2),
        ("toner", 20.0, 1),
    ]


def test_the_pareto_is_the_cumulative_revenue_share_of_the_top_customers(purchases: SalesCounts) -> None:
    # Revenue by customer: C3 40, C1 32, C2 8 (total 80). With 5 points: shares 0, .25, .5, .75, 1 take the
    # top floor(s x 3) = 0, 0, 1, 2, 3 customers.
    curve = pareto(purchases, points=5)
    assert curve.get_column("customer_share").to_list() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert curve.get_column("revenue_share").to_list() == pytest.approx([0.0, 0.0, 0.5, 0.9, 1.0])
    assert pareto(purchases).height == 101


def test_no_purchase_gives_a_flat_pareto() -> None:
    empty = sales_counts(until(priced_purchases(OWNERSHIP, PRODUCTS), date(2024, 1, 1)))
    assert pareto(empty, points=3).get_column("revenue_share").to_list() == [0.0, 0.0, 0.0]


def test_the_store_tables_are_the_four_views(purchases: SalesCounts) -> None:
    tables = sales_views(purchases, PRODUCTS)
    assert sorted(tables) == ["run_pareto", "run_sales_weekly", "run_top_categories", "run_top_products"]
    assert tables["run_sales_weekly"].equals(weekly_sales(purchases))
    assert tables["run_top_products"].equals(top_products(purchases, PRODUCTS))
    assert tables["run_top_categories"].equals(top_categories(purchases, PRODUCTS))
    assert tables["run_pareto"].equals(pareto(purchases))
    assert tables["run_sales_weekly"].get_column("units").sum() == 4  # the purchase after the as-of date is out


def test_the_counts_of_partitions_of_the_customers_give_the_same_views(purchases: SalesCounts) -> None:
    # C1 in one partition, C2 and C3 in the other: the week of 11 March is C2's 8 + C3's 40 = 48, two buyers.
    priced = until(priced_purchases(OWNERSHIP, PRODUCTS), AS_OF)
    first = pl.col("customer_id") == "C1"
    parts = combined([sales_counts(priced.filter(first)), sales_counts(priced.filter(~first))])
    assert weekly_sales(parts).rows() == [(date(2024, 3, 4), 32.0, 2, 1), (date(2024, 3, 11), 48.0, 2, 2)]
    for name, view in sales_views(parts, PRODUCTS).items():
        assert view.equals(sales_views(purchases, PRODUCTS)[name]), name
