"""Generated JSON data folders (`--data-dir`): a well-formed catalog and customers, then zero or more hostile
edits: a field deleted, added or given a wrong value, a record repeated, an id renamed everywhere to a path or
markdown, a text field set to markdown, or a whole file replaced by bytes that are not a JSON array."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hostile_values import HOSTILE_NUMBERS, MARKDOWN_TEXTS, hostile_ids, hostile_json_values
from hypothesis import strategies as st

from cross_sell_upsell.configuration import LOYALTY_TIERS, MARGIN_LEVELS, PRICE_SENSITIVITIES

CATEGORIES = ("cleanser", "toner", "serum", "moisturizer", "spf", "mask")
CONCERNS = ("dryness", "acne", "aging", "sensitivity", "general")

PRODUCT_FIELDS = (
    "product_id",
    "name",
    "category",
    "tier",
    "price",
    "margin",
    "replenishment_cycle_days",
    "cross_sell_products",
    "upgrade_path",
    "target_concerns",
    "description",
    "unexpected_field",
)
CUSTOMER_FIELDS = (
    "customer_id",
    "name",
    "email",
    "loyalty_tier",
    "lifetime_value",
    "churn_risk",
    "price_sensitivity",
    "tier_preference",
    "skin_concerns",
    "products_owned",
    "purchase_history",
    "notes",
    "unexpected_field",
)
NUMBER_FIELDS = {
    "catalog": ("price", "tier", "replenishment_cycle_days"),
    "customers": ("lifetime_value", "churn_risk", "tier_preference"),
}
TEXT_FIELDS = {"catalog": ("name", "description", "category"), "customers": ("name", "email", "notes")}
"""Free-text fields that end up in reports, where markdown would do harm."""


def dates(low: date = date(2023, 1, 1), high: date = date(2024, 4, 30)) -> st.SearchStrategy[str]:
    """ISO dates around the as-of date, some after it."""
    return st.dates(low, high).map(date.isoformat)


def cents(low: int, high: int) -> st.SearchStrategy[float]:
    """A price in dollars with whole cents."""
    return st.integers(low, high).map(lambda amount: amount / 100)


@st.composite
def catalogs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A valid catalog: 1-5 Tier 1 products, some with a Tier 2 upgrade in the same category, priced within
    their tier's band, with cross-sells among themselves."""
    products = []
    for number in range(1, draw(st.integers(1, 5)) + 1):
        product = {
            "product_id": f"P{number}",
            "name": f"Product {number}",
            "category": draw(st.sampled_from(CATEGORIES)),
            "price": draw(cents(1000, 2499)),
            "margin": draw(st.sampled_from(MARGIN_LEVELS)),
            "replenishment_cycle_days": draw(st.integers(7, 120)),
            "target_concerns": draw(st.lists(st.sampled_from(CONCERNS), max_size=2, unique=True)),
        }
        if draw(st.booleans()):  # a catalog need not declare tiers (the Tier 1 sample does not)
            product["tier"] = 1
        products.append(product)
        if draw(st.booleans()):
            upgrade = {**product, "product_id": f"P{number}-PRO", "name": f"Pro {number}", "tier": 2}
            upgrade["price"] = draw(cents(2500, 5999))
            product["upgrade_path"] = {"tier_2": upgrade["product_id"]}
            products.append(upgrade)
    ids = [product["product_id"] for product in products]
    for product in products:
        others = [other for other in ids if other != product["product_id"]]
        product["cross_sell_products"] = (
            draw(st.lists(st.sampled_from(others), max_size=3, unique=True)) if others else []
        )
    return products


@st.composite
def customer_records(draw: st.DrawFn, product_ids: list[str]) -> list[dict[str, Any]]:
    """1-5 valid customer profiles owning some of `product_ids`, with dated purchase histories."""
    customers = []
    for number in range(1, draw(st.integers(1, 5)) + 1):
        owned = draw(st.lists(st.sampled_from(product_ids), max_size=4, unique=True))
        products_owned = [{"product_id": product_id, "purchase_date": draw(dates())} for product_id in owned]
        history = [
            {"product_id": item["product_id"], "date": day, "amount": draw(cents(500, 6000))}
            for item in products_owned
            for day in [item["purchase_date"], *draw(st.lists(dates(), max_size=2))]
        ]
        customers.append(
            {
                "customer_id": f"C{number}",
                "name": f"Customer {number}",
                "email": f"c{number}@example.com",
                "loyalty_tier": draw(st.sampled_from(LOYALTY_TIERS)),
                "lifetime_value": draw(cents(0, 500_000)),
                "churn_risk": draw(st.integers(0, 100)) / 100,
                "price_sensitivity": draw(st.sampled_from(PRICE_SENSITIVITIES)),
                "tier_preference": draw(st.sampled_from((None, 1, 2))),
                "skin_concerns": draw(st.lists(st.sampled_from(CONCERNS), max_size=2, unique=True)),
                "products_owned": products_owned,
                "purchase_history": history,
                "notes": "",
            }
        )
    return customers


RAW_FILES = (
    b"",
    b"[",
    b"null",
    b'{"product_id": "P1"}',
    b"[1, 2, 3]",
    b'[{"a": 1}]',
    '[{"name": "Crème"}]'.encode("latin-1"),
    b"\xff\xfe[\x00]\x00",
)
"""Whole-file replacements: empty, cut short, not an array, not records, Latin-1, UTF-16."""


@dataclass
class DataFolder:
    """A `--data-dir` folder to write: each file's records, or raw bytes in place of them (None: no file)."""

    catalog: list[Any] | bytes | None
    customers: list[Any] | bytes | None
    edits: list[tuple[Any, ...]] = field(default_factory=list)
    """The hostile edits made to the well-formed data, for the counterexample's description."""

    def write(self, folder: Path) -> Path:
        """Writes the files into `folder` (JSON allowing NaN and Infinity, as Python writes them)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in (("catalog.json", self.catalog), ("customers.json", self.customers)):
            if content is None:
                continue
            data = content if isinstance(content, bytes) else json.dumps(content, allow_nan=True).encode("utf-8")
            (folder / name).write_bytes(data)
        return folder

    def rename_customer(self, old: str, new: str) -> None:
        """Gives the customer `old` the id `new` (the id a run then asks for)."""
        if isinstance(self.customers, list):
            self.customers = [
                {**record, "customer_id": new}
                if isinstance(record, dict) and record.get("customer_id") == old
                else record
                for record in self.customers
            ]

    def ids(self, file: str, key: str) -> list[str]:
        """The ids of one file's records, as strings (for choosing customers to request)."""
        records = getattr(self, file)
        if not isinstance(records, list):
            return []
        return [str(record[key]) for record in records if isinstance(record, dict) and key in record]


def _rename_everywhere(value: Any, old: str, new: str) -> Any:
    """`value` with every string equal to `old` replaced by `new`, at any depth."""
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, list):
        return [_rename_everywhere(item, old, new) for item in value]
    if isinstance(value, dict):
        return {key: _rename_everywhere(item, old, new) for key, item in value.items()}
    return value


def _apply(files: dict[str, Any], edit: tuple[Any, ...]) -> None:
    """Applies one hostile edit in place."""
    kind, file, position = edit[0], edit[1], edit[2]
    if kind == "raw":
        files[file] = edit[3]
        return
    if kind == "missing":
        files[file] = None
        return
    records = files[file]
    if not isinstance(records, list) or not records:
        return
    record = records[position % len(records)]
    if kind == "delete":
        record.pop(edit[3], None)
    elif kind == "set":
        record[edit[3]] = edit[4]
    elif kind == "markdown":
        record[TEXT_FIELDS[file][edit[3] % len(TEXT_FIELDS[file])]] = edit[4]
    elif kind == "number":
        record[NUMBER_FIELDS[file][edit[3] % len(NUMBER_FIELDS[file])]] = edit[4]
    elif kind == "duplicate":
        records.append(copy.deepcopy(record))
    elif kind == "owned":
        owned = record.get("products_owned")
        if isinstance(owned, list) and owned:
            owned[0][edit[3]] = edit[4]
    elif kind == "rename":
        key = "product_id" if file == "catalog" else "customer_id"
        old = record.get(key)
        if isinstance(old, str):
            for name in ("catalog", "customers"):
                if isinstance(files[name], list):
                    files[name] = _rename_everywhere(files[name], old, edit[3])


def _edit_kinds() -> dict[str, st.SearchStrategy[tuple[Any, ...]]]:
    """Each kind of hostile edit, as (kind, file, record position, ...) tuples."""
    files = st.sampled_from(("catalog", "customers"))
    position = st.integers(0, 9)
    owned_fields = st.sampled_from(("product_id", "purchase_date"))
    return {
        "rename": st.tuples(st.just("rename"), files, position, hostile_ids()),
        "markdown": st.tuples(st.just("markdown"), files, position, st.integers(0, 2), st.sampled_from(MARKDOWN_TEXTS)),
        "number": st.tuples(st.just("number"), files, position, st.integers(0, 2), st.sampled_from(HOSTILE_NUMBERS)),
        "duplicate": st.tuples(st.just("duplicate"), files, position),
        "set": st.one_of(
            st.tuples(
                st.just("set"), st.just("catalog"), position, st.sampled_from(PRODUCT_FIELDS), hostile_json_values()
            ),
            st.tuples(
                st.just("set"), st.just("customers"), position, st.sampled_from(CUSTOMER_FIELDS), hostile_json_values()
            ),
        ),
        "delete": st.one_of(
            st.tuples(st.just("delete"), st.just("catalog"), position, st.sampled_from(PRODUCT_FIELDS)),
            st.tuples(st.just("delete"), st.just("customers"), position, st.sampled_from(CUSTOMER_FIELDS)),
        ),
        "owned": st.tuples(st.just("owned"), st.just("customers"), position, owned_fields, hostile_json_values()),
        "raw": st.tuples(st.just("raw"), files, position, st.sampled_from(RAW_FILES)),
        "missing": st.tuples(st.just("missing"), files, position),
    }


LOADABLE_EDITS = ("rename", "markdown", "number", "delete")
"""The edits after which the data often still loads, so a run goes on to analyse it."""


@st.composite
def data_folders(
    draw: st.DrawFn, min_edits: int = 0, max_edits: int = 3, kinds: tuple[str, ...] | None = None
) -> DataFolder:
    """A well-formed data folder with `min_edits` to `max_edits` hostile edits of the given kinds (any kind
    by default)."""
    catalog = draw(catalogs())
    customers = draw(customer_records([product["product_id"] for product in catalog]))
    strategies = _edit_kinds()
    edit = st.one_of([strategies[kind] for kind in kinds or strategies])
    edits = draw(st.lists(edit, min_size=min_edits, max_size=max_edits))
    files: dict[str, Any] = {"catalog": catalog, "customers": customers}
    for edit in edits:
        _apply(files, edit)
    return DataFolder(files["catalog"], files["customers"], edits)


def data_folder_sources() -> st.SearchStrategy[DataFolder]:
    """A third with any hostile edits, a third with edits after which the data often still loads (so a run
    goes on to analyse it), a third with one number that is not a number."""
    return st.one_of(
        data_folders(),
        data_folders(min_edits=1, kinds=LOADABLE_EDITS),
        data_folders(min_edits=1, max_edits=1, kinds=("number",)),
    )
