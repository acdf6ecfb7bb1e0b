"""How long learning the signals takes on a large synthetic log (a benchmark script, not a test).

    python benchmarks/bench_signals.py [--rows 20000000] [--products 50000] [--basket-size 10]

Baskets of `basket-size` products drawn with Zipf-like popularity; each customer shops 8 baskets. Times the
basket rules (products and categories) and the item neighbours on integer keys, then the same log as a Dataset:
keyed once (the id joins), its holdings grouped, and `learn_signals` on them (which adds the basket numbering).
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
import polars as pl

from cross_sell_upsell.configuration import SignalSettings
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.features.holdings import holdings, keyed_ownership
from cross_sell_upsell.features.signals import (
    association_rules,
    category_rules,
    item_neighbours,
    keyed_purchases,
    learn_signals,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--basket-size", type=int, default=10)
    parser.add_argument("--min-support", type=float, default=0.001)
    args = parser.parse_args()
    generator = np.random.default_rng(7)
    baskets = args.rows // args.basket_size
    basket = np.repeat(np.arange(baskets, dtype=np.int64), args.basket_size)
    popularity = 1.0 / np.arange(1, args.products + 1) ** 0.9
    item = generator.choice(args.products, size=len(basket), p=popularity / popularity.sum())
    customer = basket // 8
    prices = np.round(generator.uniform(1, 20, args.products), 2)
    settings = SignalSettings(min_support=args.min_support)
    print(f"{len(basket):,} rows, {baskets:,} baskets, {customer.max() + 1:,} customers, {args.products:,} products")

    started = time.perf_counter()
    rules = association_rules(basket, item, args.products, settings)
    print(f"product rules: {len(rules):,} in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    neighbours = item_neighbours(customer, item, prices, settings)
    print(f"item neighbours: {len(neighbours):,} in {time.perf_counter() - started:.1f} s")

    products = pl.DataFrame(
        {
            "product_id": [f"P{key}" for key in range(args.products)],
            "category": [f"C{key % 300}" for key in range(args.products)],
            "price": prices,
        }
    )
    ownership = pl.DataFrame(
        {
            "customer_id": pl.Series(customer).cast(pl.String),
            "product_id": pl.Series(item).cast(pl.String).str.replace(r"^", "P"),
            "purchase_date": pl.Series(17000 + basket % 365).cast(pl.Int32).cast(pl.Date),
            "basket_id": pl.Series(basket),
        }
    )
    customers = ownership.select("customer_id").unique()
    dataset = Dataset(products, pl.DataFrame(), customers, ownership)
    as_of = date(2030, 1, 1)
    started = time.perf_counter()
    keyed = keyed_ownership(dataset, as_of)
    owned = holdings(keyed, as_of, settings.habit_half_life_days)
    print(f"keyed log and holdings: {len(owned):,} holdings in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    signals = learn_signals(keyed, owned, products, as_of, settings)
    print(
        f"learn_signals: {len(signals.rules):,} rules, {len(signals.neighbours):,} neighbours "
        f"in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    categories = category_rules(keyed_purchases(keyed), products, settings)
    print(f"category rules: {len(categories):,} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
