"""How long segmenting takes on a million customers (a benchmark script, not a test).

    python benchmarks/bench_segments.py [--customers 1000000] [--rows-per-customer 5] [--k 5]

Draws a purchase log (string customer ids, a few rows each over a 60-product catalog of six categories, some
amounts null so the catalog price is used) and scores as the customer models would give them, then times
`segment_features` and `assign_segments` (K-means fitted on the default 50,000-customer sample, every customer
assigned). The target is about 2 s or less for `assign_segments`. scikit-learn is imported before the clock
starts (its import alone can take seconds on a busy machine), as a batch imports it once. The CPU time beside the
wall time tells a busy machine from a slow step.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
import polars as pl

from cross_sell_upsell.configuration import SegmentSettings
from cross_sell_upsell.models.segment_features import segment_features
from cross_sell_upsell.models.segments import assign_segments

AS_OF = date(2026, 1, 1)


def synthetic(customers: int, rows_per_customer: float, generator: np.random.Generator) -> tuple[pl.DataFrame, ...]:
    """purchases, products and scores for `customers` customers."""
    products = pl.DataFrame(
        {
            "product_id": [f"P{n:03d}" for n in range(60)],
            "category": [f"category{n % 6}" for n in range(60)],
            "price": np.round(generator.gamma(3.0, 10.0, 60), 2),
        }
    )
    rows = 1 + generator.poisson(rows_per_customer - 1, customers)
    customer = np.repeat(np.arange(customers), rows)
    product = generator.integers(0, 60, len(customer))
    paid = products["price"].to_numpy()[product] * generator.uniform(0.7, 1.1, len(customer))
    purchases = pl.DataFrame(
        {
            "customer_id": pl.Series(customer).cast(pl.String).str.zfill(8),
            "product_id": products["product_id"].gather(product),
            "purchase_date": pl.Series(AS_OF.toordinal() - 719163 - generator.integers(0, 730, len(customer))).cast(
                pl.Date
            ),
            "amount": np.where(generator.uniform(size=len(customer)) < 0.05, np.nan, np.round(paid, 2)),
            "quantity": 1 + generator.poisson(0.3, len(customer)),
        }
    ).with_columns(amount=pl.col("amount").fill_nan(None))
    scores = pl.DataFrame(
        {
            "customer_id": pl.Series(np.arange(customers)).cast(pl.String).str.zfill(8),
            "predicted_clv": generator.gamma(1.5, 120.0, customers),
            "churn_probability": generator.beta(2.0, 2.0, customers),
        }
    )
    return purchases, products, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rows-per-customer", type=float, default=5.0)
    parser.add_argument("--k", default="5", help="a number, or auto")
    args = parser.parse_args()
    started = time.perf_counter()
    import sklearn.cluster  # noqa: F401 - loaded before the clock, as a batch loads it once

    print(f"scikit-learn import: {time.perf_counter() - started:.2f} s")
    purchases, products, scores = synthetic(args.customers, args.rows_per_customer, np.random.default_rng(12))
    print(f"{purchases.height:,} rows of {args.customers:,} customers drawn")

    started, cpu = time.perf_counter(), time.process_time()
    features = segment_features(purchases, products, scores, AS_OF)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"segment_features: {features.height:,} customers in {seconds:.2f} s ({cpu:.2f} s of CPU)")
    settings = SegmentSettings(k=args.k if args.k == "auto" else int(args.k))
    started, cpu = time.perf_counter(), time.process_time()
    assignments, segments = assign_segments(features, settings)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"assign_segments: {assignments.height:,} customers, k = {segments.k}, in {seconds:.2f} s "
        f"({cpu:.2f} s of CPU over all threads; target about 2 s)"
    )
    for segment in segments.segments:
        print(f"  {segment.name}: {segment.customers:,}")


if __name__ == "__main__":
    main()
