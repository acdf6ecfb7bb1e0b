"""Small hand-built tables for the ingestion tests, written as the files a retailer would hand over."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from textwrap import dedent

import polars as pl

from cross_sell_upsell.data.derivations import PURCHASE_SCHEMA

AS_OF = date(2024, 3, 1)


def write_text(path: Path, text: str) -> Path:
    """Writes a table laid out in the test (indentation removed) to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def purchases(rows: list[tuple[str, str, str, int, float]]) -> pl.DataFrame:
    """A PURCHASE_SCHEMA frame from (customer, product, ISO date, quantity, amount) rows."""
    return pl.DataFrame(
        [
            (customer, product, date.fromisoformat(day), quantity, amount)
            for customer, product, day, quantity, amount in rows
        ],
        schema=PURCHASE_SCHEMA,
        orient="row",
    )


SMALL_CATALOG_CSV = """
    product_id,name,category,price,margin,replenishment_cycle_days,cross_sell_products,upgrade_to,target_concerns
    P1,Foam Cleanser,cleanser,12.00,medium,30,P2;P3,,acne
    P2,Day Cream,moisturizer,20.00,high,45,P1,,dryness;general
    P3,Sun Lotion,sunscreen,15.00,,60,,,general
"""
"""Three products: P3's retailer category `sunscreen` maps to the routine's `spf`; P3 gives no margin."""
