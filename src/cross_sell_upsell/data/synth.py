"""Synthetic retailer data at scale: a catalog, customers and a transaction log as Parquet.

    python -m cross_sell_upsell.cli.synth --customers 1000000 --seed 7 --out benchmarks/.data/1m

Customers join over two years (HISTORY_START + HISTORY_DAYS), adopt routine categories over time, rebuy each
product at roughly its replenishment cycle (lognormal noise, shorter SPF cycles in summer and shorter
moisturizer cycles in winter), sometimes upgrade along the product's upgrade path, and stop buying after a
random active life. Price sensitivity shows in what they buy: sensitive customers start at lower tiers,
upgrade less and buy on promotion more (November most of all). About 20 transactions per customer.

Customers are drawn in blocks of BLOCK_CUSTOMERS, each block array at a time with numpy's PCG64 from its own
generator derived from the seed (`_block_generator`), so the same seed and catalog give the same bytes on any
machine (with the pinned numpy and polars). `synth_files.write_synthetic` writes each block while the next is
drawn, so memory is bounded by two blocks whatever the size: ten million customers take about 250 s of CPU and
3.3 GiB. The log is ordered by block (customers 1 to
BLOCK_CUSTOMERS first), then within a block by day, customer and product; nothing reads it in order (ingestion
groups by customer).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from cross_sell_upsell.configuration import CATALOG_FIELDS, SAMPLE_DATA, IngestSettings
from cross_sell_upsell.data.ingest import load_catalog
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.io.files import write_atomic

DEFAULT_CATALOG = SAMPLE_DATA / "tiered" / "catalog.json"
"""The sample tiered catalog."""


HISTORY_START = date(2023, 1, 1)


HISTORY_DAYS = 730


SUGGESTED_AS_OF = HISTORY_START + timedelta(days=HISTORY_DAYS)
"""The first day after the generated history: the natural as-of date for analysing it."""


SENSITIVITY_SHARE = (0.25, 0.45, 0.30)


START_TIER_PROBABILITY = ((0.10, 0.40, 0.50), (0.30, 0.55, 0.15), (0.85, 0.14, 0.01))
"""Per sensitivity (low, medium, high): the probability of starting at Tier 1, 2 and 3 (or the nearest tier the
category stocks)."""


UPGRADE_PROBABILITY = (0.06, 0.03, 0.005)
"""Per sensitivity: the chance that a repurchase moves up the product's upgrade path."""


PROMOTION_PROBABILITY = (0.05, 0.15, 0.40)
"""Per sensitivity: the chance a purchase is on promotion (twice that in November)."""


DISCOUNT_RANGE = (0.10, 0.25)


ADOPTION_PROBABILITY = {
    "cleanser": 0.9,
    "moisturizer": 0.85,
    "serum": 0.6,
    "spf": 0.55,
    "toner": 0.45,
    "mask": 0.3,
    "eye_cream": 0.25,
    "treatment": 0.2,
}
"""The chance a customer ever takes up a category; other catalogs' categories get OTHER_ADOPTION."""


OTHER_ADOPTION = 0.3


ADOPTION_DELAY_DAYS = 90.0
"""Mean delay (exponential) between joining and taking up each further category."""


ACTIVE_LIFE_DAYS = 1000.0
"""Mean (exponential) time a customer keeps buying."""


PROSPECT_SHARE = 0.02
"""Customers on file who never bought anything."""


CYCLE_NOISE_SIGMA = 0.25
"""Sigma of the lognormal factor on each repurchase interval."""


DOUBLE_QUANTITY_PROBABILITY = 0.08
"""The chance a purchase is of two units, which lasts twice as long."""


UNKNOWN_CYCLE_DAYS = 60
"""How often a product whose catalog entry has no replenishment cycle is rebought, on average."""


CONCERN_MATCH_PROBABILITY = 0.7
"""The chance a customer picks a product that targets their main concern, where the category has one."""


SEASONAL_FACTOR = {
    "spf": (1.35, 1.35, 1.1, 0.9, 0.75, 0.75, 0.75, 0.75, 0.9, 1.1, 1.35, 1.35),
    "moisturizer": (0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.2, 1.1, 1.0, 0.9, 0.8, 0.8),
}
"""Multiplier of a repurchase interval by the month it starts in: below 1 means bought more often."""


FIRST_NAMES = ("Ava", "Ben", "Chloe", "Daniel", "Ella", "Finn", "Grace", "Hugo", "Isla", "Jack", "Maya", "Priya")


LAST_NAMES = ("Adams", "Brown", "Chen", "Davis", "Garcia", "Ito", "Khan", "Lee", "Nguyen", "Okafor", "Patel", "Smith")


BLOCK_CUSTOMERS = 1_000_000
"""Customers drawn, held and written at a time. A block of a million (about 19 M log rows, 2.4 GiB at the peak of
drawing and sorting it) bounds memory whatever the size, and keeps the files of every size up to a million (the
recorded benchmarks' data among them) as they were before the generator drew in blocks. Changing it changes every
larger size's files, since each block draws from a generator of its own."""


PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "statistics": True, "row_group_size": 1_000_000}
"""Fixed Parquet settings (polars writes no timestamp): the same frame gives the same bytes."""


@dataclass(frozen=True)
class _Catalog:
    """The catalog as arrays indexed by product position."""

    frame: pl.DataFrame
    category: np.ndarray
    tier: np.ndarray
    price: np.ndarray
    cycle: np.ndarray
    upgrade: np.ndarray
    categories: list[str]
    concerns: list[str]
    choices: np.ndarray
    """[category, tier, concern + 1] -> candidate products, padded with -1 (concern 0 = any)."""
    choice_counts: np.ndarray


def _catalog(products: pl.DataFrame) -> _Catalog:
    ids = products.get_column("product_id").to_list()
    position = {product_id: index for index, product_id in enumerate(ids)}
    categories = sorted(set(products.get_column("category").to_list()))
    concerns = sorted({concern for items in products.get_column("target_concerns").to_list() for concern in items})
    concerns = concerns or ["general"]  # a catalog without concerns: every pick is then a plain category pick
    category = np.array([categories.index(name) for name in products.get_column("category").to_list()], np.int16)
    tier = products.get_column("tier").to_numpy().astype(np.int16)
    cycles = products.get_column("replenishment_cycle_days").fill_null(UNKNOWN_CYCLE_DAYS).to_numpy().astype(np.float64)
    upgrade = np.array([position.get(target, -1) for target in products.get_column("upgrade_to").to_list()], np.int32)
    top_tier = int(tier.max())
    candidates: dict[tuple[int, int, int], list[int]] = {}
    for index, product_concerns in enumerate(products.get_column("target_concerns").to_list()):
        keys = [0] + [concerns.index(concern) + 1 for concern in product_concerns]
        for key in keys:
            candidates.setdefault((int(category[index]), int(tier[index]), key), []).append(index)
    width = max(len(items) for items in candidates.values())
    choices = np.full((len(categories), top_tier + 1, len(concerns) + 1, width), -1, np.int32)
    counts = np.zeros((len(categories), top_tier + 1, len(concerns) + 1), np.int32)
    for (cat, level, key), items in candidates.items():
        choices[cat, level, key, : len(items)] = items
        counts[cat, level, key] = len(items)
    return _Catalog(
        frame=products,
        category=category,
        tier=tier,
        price=products.get_column("price").to_numpy(),
        cycle=cycles,
        upgrade=upgrade,
        categories=categories,
        concerns=concerns,
        choices=choices,
        choice_counts=counts,
    )


def _nearest_stocked_tier(catalog: _Catalog, category: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """The wanted tier where the category has products in it, else the closest tier that does (lower first)."""
    stocked = catalog.choice_counts[:, :, 0] > 0
    tier = np.clip(tier, 1, stocked.shape[1] - 1)
    result = tier.copy()
    missing = ~stocked[category, result]
    for step in range(1, stocked.shape[1]):
        for candidate in (tier - step, tier + step):
            usable = missing & (candidate >= 1) & (candidate < stocked.shape[1])
            usable[usable] = stocked[category[usable], candidate[usable]]
            result[usable] = candidate[usable]
            missing &= ~usable
    return result


def _pick_products(
    rng: np.random.Generator, catalog: _Catalog, category: np.ndarray, tier: np.ndarray, concern: np.ndarray
) -> np.ndarray:
    """A product of the category at (or near) the tier, targeting the concern with CONCERN_MATCH_PROBABILITY."""
    tier = _nearest_stocked_tier(catalog, category, tier)
    key = np.where(rng.random(category.size) < CONCERN_MATCH_PROBABILITY, concern + 1, 0)
    key = np.where(catalog.choice_counts[category, tier, key] > 0, key, 0)
    count = catalog.choice_counts[category, tier, key]
    slot = (rng.random(category.size) * count).astype(np.int64)
    return catalog.choices[category, tier, key, slot]


def _streams(rng: np.random.Generator, catalog: _Catalog, customers: int) -> dict[str, np.ndarray]:
    """Customers' latent traits and one purchase stream per (customer, adopted category)."""
    sensitivity = rng.choice(3, size=customers, p=SENSITIVITY_SHARE).astype(np.int8)
    start_tier = np.empty(customers, np.int16)
    for level, probabilities in enumerate(START_TIER_PROBABILITY):
        chosen = sensitivity == level
        start_tier[chosen] = rng.choice(3, size=int(chosen.sum()), p=probabilities) + 1
    concern = rng.integers(0, len(catalog.concerns), size=customers)
    join = rng.integers(0, HISTORY_DAYS, size=customers)
    end = np.minimum(join + rng.exponential(ACTIVE_LIFE_DAYS, size=customers), HISTORY_DAYS - 1).astype(np.int32)
    prospect = rng.random(customers) < PROSPECT_SHARE
    adoption = np.array([ADOPTION_PROBABILITY.get(name, OTHER_ADOPTION) for name in catalog.categories])
    adopts = rng.random((customers, adoption.size)) < adoption
    delay = rng.exponential(ADOPTION_DELAY_DAYS, size=(customers, adoption.size))
    first = np.argmin(np.where(adopts, delay, np.inf), axis=1)
    nothing = ~adopts.any(axis=1)
    first[nothing] = int(np.argmax(adoption))
    adopts[np.arange(customers), first] = True
    delay[np.arange(customers), first] = 0.0
    adopts &= ~prospect[:, None]
    owner, category = np.nonzero(adopts)
    start = (join[owner] + delay[owner, category]).astype(np.int32)
    keep = start <= end[owner]
    owner, category, start = owner[keep], category[keep].astype(np.int16), start[keep]
    product = _pick_products(rng, catalog, category, start_tier[owner], concern[owner])
    return {
        "sensitivity": sensitivity,
        "concern": concern,
        "owner": owner.astype(np.int32),
        "product": product,
        "day": start,
        "end": end[owner],
    }


_MONTH_OF_DAY = (
    (np.datetime64(HISTORY_START, "D") + np.arange(HISTORY_DAYS).astype("timedelta64[D]")).astype("datetime64[M]")
).astype(np.int64) % 12
"""The month (0 = January) of each day of the history: converting dates per purchase took almost half the drawing."""


def _month_of(days: np.ndarray) -> np.ndarray:
    """The month of each day of the history (purchases are only ever drawn inside it)."""
    return _MONTH_OF_DAY[days].astype(np.int8)


def _transactions(rng: np.random.Generator, catalog: _Catalog, streams: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every purchase of every stream: rebuy at the product's cycle x noise x season x quantity until the
    customer's active life ends, moving up the upgrade path now and then."""
    seasonal = np.ones((len(catalog.categories), 12))
    for name, factors in SEASONAL_FACTOR.items():
        if name in catalog.categories:
            seasonal[catalog.categories.index(name)] = factors
    upgrade_probability = np.array(UPGRADE_PROBABILITY)[streams["sensitivity"]]
    owner, product, day, end = streams["owner"], streams["product"], streams["day"], streams["end"]
    # Each list starts empty-typed, so that a block of prospects only (no purchase at all) concatenates too.
    emitted = {"owner": [owner[:0]], "product": [product[:0]], "day": [day[:0]], "quantity": [np.empty(0, np.int8)]}
    while owner.size:
        quantity = np.where(rng.random(owner.size) < DOUBLE_QUANTITY_PROBABILITY, 2, 1).astype(np.int8)
        for name, values in (("owner", owner), ("product", product), ("day", day), ("quantity", quantity)):
            emitted[name].append(values)
        noise = rng.lognormal(0.0, CYCLE_NOISE_SIGMA, size=owner.size)
        interval = catalog.cycle[product] * noise * seasonal[catalog.category[product], _month_of(day)] * quantity
        day = day + np.maximum(1, np.rint(interval)).astype(np.int32)
        upgrade = catalog.upgrade[product]
        moves = (upgrade >= 0) & (rng.random(owner.size) < upgrade_probability[owner])
        product = np.where(moves, upgrade, product)
        active = day <= end
        owner, product, day, end = owner[active], product[active], day[active], end[active]
    purchases = {name: np.concatenate(parts) for name, parts in emitted.items()}
    size = purchases["owner"].size
    november = _month_of(purchases["day"]) == 10
    promotion = np.array(PROMOTION_PROBABILITY)[streams["sensitivity"][purchases["owner"]]] * np.where(november, 2, 1)
    discount = np.where(rng.random(size) < promotion, rng.uniform(*DISCOUNT_RANGE, size=size), 0.0)
    purchases["amount"] = np.round(catalog.price[purchases["product"]] * purchases["quantity"] * (1 - discount), 2)
    return purchases


def _id_width(customers: int) -> int:
    return max(7, len(str(customers)))


def _customer_ids(first: int, size: int, width: int) -> pl.Series:
    """The ids of customers `first` + 1 to `first` + `size` (C0000001 ...), zero-padded to `width` digits."""
    number = pl.int_range(first + 1, first + size + 1, dtype=pl.Int64, eager=True)
    return pl.select(pl.lit("C") + pl.lit(number).cast(pl.String).str.zfill(width)).to_series()


def _block_generator(seed: int, block: int) -> np.random.Generator:
    """Block 0 draws from the seed itself, so a run of one block writes what the generator wrote before it drew
    in blocks; block b from the seed's b-th spawned child (`SeedSequence(seed).spawn`): independent streams, the
    same on every machine."""
    if block == 0:
        return np.random.default_rng(seed)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))


def _blocks(
    catalog: _Catalog, customers: int, seed: int, block_size: int
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Each block's customers and transactions frames, drawn one block at a time."""
    width = _id_width(customers)
    for block, first in enumerate(range(0, customers, block_size)):
        yield _draw_block(catalog, _block_generator(seed, block), first, min(block_size, customers - first), width)


def _draw_block(
    catalog: _Catalog, rng: np.random.Generator, first: int, size: int, width: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Customers `first` + 1 to `first` + `size`: their customers and transactions frames. The names are drawn
    after the purchases, as they always were, so that one block keeps the bytes it had."""
    streams = _streams(rng, catalog, size)
    purchases = _transactions(rng, catalog, streams)
    ids = _customer_ids(first, size, width)
    return (
        _customers_frame(rng, catalog, streams["concern"], first, ids),
        _transactions_frame(catalog, purchases, ids),
    )


def synthetic_blocks(
    customers: int, seed: int, catalog_path: str | Path = DEFAULT_CATALOG, block_size: int = BLOCK_CUSTOMERS
) -> tuple[pl.DataFrame, Iterator[tuple[pl.DataFrame, pl.DataFrame]]]:
    """The catalog frame (CATALOG_FIELDS columns) and the blocks' (customers, transactions) frames, each block
    drawn only when the iterator reaches it. The options are checked and the catalog loaded before this returns,
    so a bad option fails before anything is drawn or written."""
    if customers < 1:
        raise ConfigurationError("--customers must be at least 1")
    if seed < 0:
        raise ConfigurationError("--seed must be at least 0")
    products, cross_sells = load_catalog(catalog_path, IngestSettings())
    return _catalog_frame(products, cross_sells), _blocks(_catalog(products), customers, seed, block_size)


def generate(
    customers: int, seed: int, catalog_path: str | Path = DEFAULT_CATALOG, block_size: int = BLOCK_CUSTOMERS
) -> dict[str, pl.DataFrame]:
    """The three frames in memory: catalog, customers and transactions, in a fixed order. For sizes that fit in
    memory (tests, notebooks); `synth_files.write_synthetic` writes the same rows block by block."""
    catalog, blocks = synthetic_blocks(customers, seed, catalog_path, block_size)
    drawn = list(blocks)
    return {
        "catalog": catalog,
        "customers": pl.concat([people for people, _ in drawn]),
        "transactions": pl.concat([log for _, log in drawn]),
    }


_DAYS_BEFORE_HISTORY = (HISTORY_START - date(1970, 1, 1)).days
"""HISTORY_START as a polars Date's number: a day of the history plus this is its date."""


def _transactions_frame(catalog: _Catalog, purchases: dict[str, np.ndarray], ids: pl.Series) -> pl.DataFrame:
    """The log in TRANSACTION_FIELDS columns, by day, then customer, then product: one packed 64-bit key sorts
    several times faster than the three columns (stable, so ties keep the order they were drawn in)."""
    products = catalog.price.size
    key = (purchases["day"].astype(np.int64) * ids.len() + purchases["owner"]) * products + purchases["product"]
    return (
        pl.DataFrame(
            {
                "key": key,
                "owner": purchases["owner"],
                "product": purchases["product"].astype(np.int32),
                "day": purchases["day"],
                "quantity": purchases["quantity"].astype(np.int32),
                "amount": purchases["amount"],
            }
        )
        .sort("key", maintain_order=True)
        .select(
            customer_id=pl.lit(ids).gather(pl.col("owner")),
            product_id=pl.lit(catalog.frame.get_column("product_id")).gather(pl.col("product")),
            date=(pl.col("day") + _DAYS_BEFORE_HISTORY).cast(pl.Date),
            quantity="quantity",
            amount="amount",
        )
    )


def _customers_frame(
    rng: np.random.Generator, catalog: _Catalog, concern: np.ndarray, first: int, ids: pl.Series
) -> pl.DataFrame:
    """Id, name, email and skin concerns (each customer's main `concern` and a second drawn one) per customer."""
    customers = len(concern)
    first_name = rng.integers(0, len(FIRST_NAMES), size=customers)
    last_name = rng.integers(0, len(LAST_NAMES), size=customers)
    second_concern = rng.integers(0, len(catalog.concerns), size=customers)
    concerns = pl.Series(catalog.concerns)
    return pl.DataFrame(
        {
            "customer_id": ids,
            "number": np.arange(first + 1, first + customers + 1),
            "first": first_name,
            "last": last_name,
            "concern": concern,
            "second": second_concern,
        }
    ).select(
        "customer_id",
        name=pl.lit(pl.Series(FIRST_NAMES)).gather(pl.col("first"))
        + pl.lit(" ")
        + pl.lit(pl.Series(LAST_NAMES)).gather(pl.col("last")),
        email=pl.lit("customer") + pl.col("number").cast(pl.String) + pl.lit("@example.com"),
        skin_concerns=pl.concat_list(
            pl.lit(concerns).gather(pl.col("concern")), pl.lit(concerns).gather(pl.col("second"))
        ).list.unique(maintain_order=True),
    )


def _catalog_frame(products: pl.DataFrame, cross_sells: pl.DataFrame) -> pl.DataFrame:
    """The catalog in CATALOG_FIELDS columns, each product with its cross-sells as a list."""
    links = (
        cross_sells.sort("product_id", "position")
        .group_by("product_id", maintain_order=True)
        .agg(cross_sell_products="cross_sell_id")
    )
    return (
        products.join(links, on="product_id", how="left", maintain_order="left")
        .with_columns(pl.col("cross_sell_products").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .select(CATALOG_FIELDS)
    )


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as Parquet with PARQUET_OPTIONS."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer, **PARQUET_OPTIONS)
    return buffer.getvalue()


def write_parquet(frame: pl.DataFrame, path: Path) -> Path:
    """Parquet with fixed settings and no timestamps, written atomically: the same frame gives the same bytes."""
    return write_atomic(path, parquet_bytes(frame))
