"""Fixtures of the ingestion tests."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest


@pytest.fixture
def tier1_as_files(tmp_path):
    """data/tier1 rewritten as a retailer would send it: a CSV log of the purchase histories, a CSV catalog
    with `;`-separated cross-sells and a CSV customers file with the profiles' attributes."""
    catalog = json.loads(Path("data/tier1/catalog.json").read_text(encoding="utf-8"))
    customers = json.loads(Path("data/tier1/customers.json").read_text(encoding="utf-8"))
    pl.DataFrame(
        {
            "product_id": [item["product_id"] for item in catalog],
            "name": [item["name"] for item in catalog],
            "category": [item["category"] for item in catalog],
            "price": [item["price"] for item in catalog],
            "margin": [item["margin"] for item in catalog],
            "replenishment_cycle_days": [item["replenishment_cycle_days"] for item in catalog],
            "cross_sell_products": [";".join(item["recommended_cross_sells"]) for item in catalog],
        }
    ).write_csv(tmp_path / "catalog.csv")
    pl.DataFrame(
        [
            (customer["customer_id"], item["product_id"], item["date"], 1, item["amount"])
            for customer in customers
            for item in customer["purchase_history"]
        ],
        schema=["customer_id", "product_id", "date", "quantity", "amount"],
        orient="row",
    ).write_csv(tmp_path / "transactions.csv")
    attributes = [
        "customer_id",
        "name",
        "email",
        "loyalty_tier",
        "lifetime_value",
        "churn_risk",
        "price_sensitivity",
        "notes",
    ]
    pl.DataFrame([{key: customer[key] for key in attributes} for customer in customers]).with_columns(
        skin_concerns=pl.lit("")
    ).write_csv(tmp_path / "customers.csv")
    return tmp_path
