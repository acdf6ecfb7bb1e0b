"""Loading and validating the data files: every violation names the file, the record and the field."""

from __future__ import annotations

import copy
import json

import polars as pl
import pytest
from support import MINI_CATALOG, MINI_CUSTOMERS, ROOT, TIER1, TIERED, write_data

from cross_sell_upsell.data.dataset import customers_frame, load_dataset
from cross_sell_upsell.data.records import CustomerRecord
from cross_sell_upsell.errors import DataValidationError


def test_tier1_holds_the_shared_reference_data(tier1):
    assert tier1.products.height == 10
    assert tier1.customers.height == 10
    shared = ROOT.parent / "shared" / "data" / "tier1"
    if not shared.is_dir():
        pytest.skip("the shared reference data sits beside the checkout only on the team's machines and in CI")
    for name in ("catalog.json", "customers.json"):
        assert json.loads((TIER1 / name).read_text()) == json.loads((shared / name).read_text())


def test_tiered_catalog_has_the_planned_tiers(tiered):
    counts = dict(tiered.products.group_by("tier").len().sort("tier").iter_rows())
    assert counts == {1: 10, 2: 20, 3: 30}
    assert 15 <= tiered.customers.height <= 20
    ids = tiered.products.get_column("product_id").to_list()
    assert [i for i in ids if i.startswith("P0")] == [f"P{n:03d}" for n in range(1, 11)]


def test_tiered_upgrade_paths_go_up_one_tier_in_the_same_category(tiered):
    products = tiered.products
    upgrades = products.filter(pl.col("upgrade_to").is_not_null()).join(
        products.select(upgrade_to="product_id", target_category="category", target_tier="tier"), on="upgrade_to"
    )
    assert upgrades.height == 30  # every Tier 1 and Tier 2 product
    assert (upgrades["target_category"] == upgrades["category"]).all()
    assert (upgrades["target_tier"] == upgrades["tier"] + 1).all()


def test_ownership_keeps_every_dated_purchase_of_owned_products(mini):
    k1 = mini.ownership.filter(pl.col("customer_id") == "K1").sort("product_id")
    assert k1.get_column("product_id").to_list() == ["A1", "A3"]


def _mutated(tmp_path, catalog=None, customers=None):
    return write_data(
        tmp_path / "bad", catalog or copy.deepcopy(MINI_CATALOG), customers or copy.deepcopy(MINI_CUSTOMERS)
    )


def _catalog_with(index, **changes):
    catalog = copy.deepcopy(MINI_CATALOG)
    catalog[index].update(changes)
    return catalog


def _customers_with(index, **changes):
    customers = copy.deepcopy(MINI_CUSTOMERS)
    customers[index].update(changes)
    return customers


@pytest.mark.parametrize(
    ("catalog", "customers", "file", "record", "field", "problem"),
    [
        (_catalog_with(1, product_id="A1"), None, "catalog.json", "A1", "product_id", "duplicate id"),
        (_catalog_with(0, price=-3), None, "catalog.json", "A1", "price", "greater than 0"),
        (_catalog_with(0, price=99.0), None, "catalog.json", "A1", "price", "outside the Tier 1 range"),
        (_catalog_with(0, margin="huge"), None, "catalog.json", "A1", "margin", "'low', 'medium', 'high' or 'premium'"),
        (
            _catalog_with(0, cross_sell_products=["Z9"]),
            None,
            "catalog.json",
            "A1",
            "cross_sell_products[0]",
            "unknown product Z9",
        ),
        (
            _catalog_with(0, upgrade_path={"tier_2": "Z9"}),
            None,
            "catalog.json",
            "A1",
            "upgrade_path.tier_2",
            "unknown product Z9",
        ),
        (
            _catalog_with(0, upgrade_path={"tier_2": "B3"}),
            None,
            "catalog.json",
            "A1",
            "upgrade_path.tier_2",
            "B3 is a serum, not a cleanser",
        ),
        (
            _catalog_with(0, upgrade_path={"tier_3": "B1"}),
            None,
            "catalog.json",
            "A1",
            "upgrade_path.tier_3",
            "one tier up",
        ),
        (None, _customers_with(0, customer_id="K2"), "customers.json", "K2", "customer_id", "duplicate id"),
        (None, _customers_with(1, churn_risk=35), "customers.json", "K2", "churn_risk", "less than or equal to 1"),
        (None, _customers_with(1, loyalty_tier="diamond"), "customers.json", "K2", "loyalty_tier", "'bronze'"),
        (
            None,
            _customers_with(0, products_owned=[{"product_id": "A1", "purchase_date": "2024-02-31"}]),
            "customers.json",
            "K1",
            "products_owned[0].purchase_date",
            "valid date",
        ),
        (
            None,
            _customers_with(0, purchase_history=[{"product_id": "Z9", "date": "2024-02-01", "amount": 3}]),
            "customers.json",
            "K1",
            "purchase_history[0].product_id",
            "unknown product Z9",
        ),
        (None, _customers_with(2, price_sensitivity=None), "customers.json", "K3", "price_sensitivity", "'low'"),
    ],
)
def test_a_violation_names_file_record_and_field(tmp_path, catalog, customers, file, record, field, problem):
    folder = _mutated(tmp_path, catalog, customers)
    with pytest.raises(DataValidationError) as raised:
        load_dataset(folder)
    error = raised.value
    assert (error.file, error.record_id, error.field) == (str(folder / file), record, field)
    assert problem in error.problem
    assert "\n" not in str(error)
    assert str(error).startswith(f"{folder / file}: record {record}: field '{field}': ")


def test_a_record_without_an_id_is_named_by_position(tmp_path):
    catalog = copy.deepcopy(MINI_CATALOG)
    del catalog[2]["product_id"]
    with pytest.raises(DataValidationError, match=r"catalog.json: record #3: field 'product_id': Field required"):
        load_dataset(_mutated(tmp_path, catalog=catalog))


def test_unreadable_files_are_named(tmp_path):
    folder = _mutated(tmp_path)
    (folder / "customers.json").write_text("[{", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"customers.json: record -: field '-': not valid JSON"):
        load_dataset(folder)
    (folder / "customers.json").write_text('{"customer_id": "K1"}', encoding="utf-8")
    with pytest.raises(DataValidationError, match="expected a JSON array"):
        load_dataset(folder)
    with pytest.raises(DataValidationError, match=r"nowhere/catalog.json: record -: field '-': file not found"):
        load_dataset(tmp_path / "nowhere")


def test_shipped_tiered_data_validates():
    assert load_dataset(TIERED).customers.height == 18


def test_a_retailer_segment_is_kept_and_a_blank_one_is_none(tmp_path):
    customers = copy.deepcopy(MINI_CUSTOMERS)
    customers[0]["segment"] = "  VIP  "
    customers[1]["segment"] = "   "
    customers[2]["segment"] = None
    loaded = load_dataset(_mutated(tmp_path, customers=customers)).customers
    assert loaded.select("customer_id", "segment").rows() == [("K1", "VIP"), ("K2", None), ("K3", None), ("K4", None)]


def test_a_segment_that_is_not_text_names_the_field(tmp_path):
    with pytest.raises(DataValidationError) as raised:
        load_dataset(_mutated(tmp_path, customers=_customers_with(1, segment=["VIP"])))
    assert (raised.value.record_id, raised.value.field) == ("K2", "segment")


def test_json_purchases_keep_the_amount_paid_and_a_listed_purchase_has_none():
    record = CustomerRecord.model_validate(
        {
            "customer_id": "K1",
            "loyalty_tier": "gold",
            "lifetime_value": 50.0,
            "churn_risk": 0.1,
            "price_sensitivity": "low",
            "products_owned": [
                {"product_id": "A1", "purchase_date": "2024-01-10"},  # also in the history: counted once
                {"product_id": "A2", "purchase_date": "2024-02-01"},  # only listed: no amount
            ],
            "purchase_history": [
                {"product_id": "A1", "date": "2023-12-01", "amount": 9.5},
                {"product_id": "A1", "date": "2024-01-10", "price_paid": 10.0},
                {"product_id": "A9", "date": "2024-01-10", "amount": 5.0},  # not owned: not ownership
            ],
        }
    )
    _, ownership = customers_frame([record])
    assert ownership.select("product_id", pl.col("purchase_date").cast(pl.String), "amount").rows() == [
        ("A2", "2024-02-01", None),
        ("A1", "2023-12-01", 9.5),
        ("A1", "2024-01-10", 10.0),
    ]


def test_json_profiles_match_categories_and_email_ids_in_any_case(tmp_path):
    catalog = _catalog_with(0, category=" Cleanser ")
    customers = _customers_with(0, customer_id="Ana@Example.COM")
    loaded = load_dataset(_mutated(tmp_path, catalog=catalog, customers=customers))
    assert loaded.products.get_column("category")[0] == "cleanser"
    assert loaded.customers.get_column("customer_id")[0] == "ana@example.com"
    assert loaded.ownership.filter(pl.col("customer_id") == "ana@example.com").height > 0
