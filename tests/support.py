"""Test support: paths, the as-of date the sample data is written for, and the hand-built mini data set laid
out as tables."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIER1 = ROOT / "data" / "tier1"
TIERED = ROOT / "data" / "tiered"
AS_OF = date(2024, 3, 1)


def rows(header: str, *lines: str) -> list[dict]:
    """Records from a pipe-separated table; cells that look like JSON (numbers, lists, null) are parsed."""
    names = [name.strip() for name in header.split("|")]
    records = []
    for line in lines:
        cells = [cell.strip() for cell in line.split("|")]
        record = {}
        for name, cell in zip(names, cells, strict=True):
            try:
                record[name] = json.loads(cell)
            except json.JSONDecodeError:
                record[name] = cell
        records.append(record)
    return records


MINI_CATALOG = rows(
    "product_id | name              | category    | tier | price | margin  | replenishment_cycle_days | cross_sell_products | upgrade_path         | target_concerns",
    'A1         | Basic Cleanser    | cleanser    | 1    | 10.0  | medium  | 30                       | ["A2", "A4"]    | {"tier_2": "B1"} | ["general"]',
    'A2         | Basic Toner       | toner       | 1    | 12.0  | low     | 40                       | ["A1"]            | {}                   | ["general"]',
    'A3         | Basic Serum       | serum       | 1    | 20.0  | high    | 30                       | []                  | {"tier_2": "B3"} | ["dryness"]',
    'A4         | Basic Moisturizer | moisturizer | 1    | 16.0  | medium  | 45                       | ["A5", "A6"]    | {}                   | ["dryness"]',
    'A5         | Basic SPF         | spf         | 1    | 14.0  | medium  | 30                       | []                  | {}                   | ["general"]',
    'A6         | Calm Mask         | mask        | 1    | 18.0  | medium  | 20                       | []                  | {}                   | ["sensitivity"]',
    'B1         | Pro Cleanser      | cleanser    | 2    | 30.0  | high    | 60                       | []                  | {}                   | ["acne"]',
    'B3         | Pro Serum         | serum       | 2    | 40.0  | premium | 60                       | []                  | {}                   | ["dryness", "aging"]',
)
"""Eight products: a Tier 1 routine, an extra, and two Tier 2 upgrades."""

MINI_CUSTOMERS = rows(
    "customer_id | name  | loyalty_tier | lifetime_value | churn_risk | price_sensitivity | tier_preference | skin_concerns           | products_owned",
    'K1          | Ana   | gold         | 250.0          | 0.2        | low               | 1               | ["dryness"]           | [{"product_id": "A1", "purchase_date": "2024-02-01"}, {"product_id": "A3", "purchase_date": "2024-01-01"}]',
    'K2          | Ben   | bronze       | 100.0          | 0.4        | high              | 1               | []                      | [{"product_id": "A1", "purchase_date": "2024-02-25"}, {"product_id": "A3", "purchase_date": "2024-02-20"}]',
    'K3          | Cleo  | silver       | 500.0          | 0.0        | medium            | null            | ["acne", "dryness"] | []',
    'K4          | Dan   | platinum     | 400.0          | 0.1        | high              | 2               | []                      | [{"product_id": "A1", "purchase_date": "2024-02-20"}, {"product_id": "A2", "purchase_date": "2024-02-20"}, {"product_id": "A3", "purchase_date": "2024-02-20"}, {"product_id": "A4", "purchase_date": "2024-02-20"}, {"product_id": "A5", "purchase_date": "2024-02-20"}]',
)
"""Four customers: K1 upgrade-ready, K2 price-sensitive bronze, K3 owns nothing, K4 has the whole routine."""


def write_data(folder: Path, catalog: list[dict], customers: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    (folder / "customers.json").write_text(json.dumps(customers), encoding="utf-8")
    return folder


GROCERY_CATALOG = """product_id,name,category,price,replenishment_cycle_days
P1,Oat Milk,dairy,3.0,14
P2,Rye Bread,bakery,4.0,
P3,Apples,produce,2.0,
P4,Pesto,pantry,5.0,
"""
"""A four-product grocery catalog as a CSV file holds it: only the oat milk has a catalog cycle."""


def write_grocery_log(folder: Path, log: str) -> tuple[Path, Path]:
    """Writes `log` (a transaction CSV) and GROCERY_CATALOG into `folder`; returns their paths (log, catalog)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.csv").write_text(GROCERY_CATALOG, encoding="utf-8")
    (folder / "log.csv").write_text(log, encoding="utf-8")
    return folder / "log.csv", folder / "catalog.csv"


def closed_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    """Another process with `path` open for writing, for `seconds`; returns once it holds the lock."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep({seconds})",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def synthetic_files(folder: Path, customers: int, seed: int) -> Path:
    """`customers` synthetic customers (`data.synth.generate`) written to `folder` as Parquet; returns `folder`."""
    from cross_sell_upsell.data.synth import generate, write_parquet

    for name, frame in generate(customers, seed).items():
        write_parquet(frame, folder / f"{name}.parquet")
    return folder


def load_synthetic(folder: Path, *, strict: bool = False):
    """The synthetic files in `folder` loaded through the transaction-log ingestion, as of the generator's
    suggested date (`strict`: any rejected row is an error)."""
    from cross_sell_upsell.data.ingest import load_transactions_dataset
    from cross_sell_upsell.data.synth import SUGGESTED_AS_OF

    files = [folder / f"{name}.parquet" for name in ("transactions", "catalog", "customers")]
    return load_transactions_dataset(*files, as_of=SUGGESTED_AS_OF, strict=strict)


def synthetic_dataset(folder: Path, customers: int, seed: int):
    """`customers` synthetic customers written to `folder` (`synthetic_files`) and loaded back (`load_synthetic`)."""
    return load_synthetic(synthetic_files(folder, customers, seed))
