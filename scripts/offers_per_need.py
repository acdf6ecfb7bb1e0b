"""How much of a batch's potential revenue is a second offer for one need? Read from a batch's CSV export.

    python scripts/offers_per_need.py RECOMMENDATIONS.csv [--transactions LOG.parquet --as-of YYYY-MM-DD]
        [--essentials cleanser,toner,serum,moisturizer,spf]

Prints the potential revenue (offers that count toward it), the share of it that is the second or later counted
offer in one of a customer's categories (bundles aside), customers with two single offers in one essential
category, and, with a log, its sales in the year up to the as-of date. Used for docs/offers.md.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta

import polars as pl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recommendations")
    parser.add_argument("--transactions")
    parser.add_argument("--as-of", type=date.fromisoformat)
    parser.add_argument("--essentials", default="cleanser,toner,serum,moisturizer,spf")
    args = parser.parse_args()
    essentials = args.essentials.split(",")
    offers = pl.read_csv(args.recommendations, infer_schema_length=0).with_columns(
        pl.col("rank").cast(pl.Int64),
        pl.col("price").cast(pl.Float64),
        counted=pl.col("counts_toward_revenue") == "true",
    )
    singles = offers.filter(pl.col("type") != "bundle").sort("customer_id", "rank")
    counted = singles.filter("counted").with_columns(later=pl.int_range(pl.len()).over("customer_id", "category") > 0)
    total = offers.filter("counted").get_column("price").sum()
    later = counted.filter("later").get_column("price").sum()
    doubled = (
        singles.filter(pl.col("category").is_in(essentials))
        .group_by("customer_id", "category")
        .len()
        .filter(pl.col("len") > 1)
        .get_column("customer_id")
        .n_unique()
    )
    print(f"customers with offers: {offers.get_column('customer_id').n_unique():,}; offers: {offers.height:,}")
    print(f"potential revenue: ${total:,.2f}")
    print(f"second or later counted offer in a customer's category: ${later:,.2f} ({100 * later / total:.1f}%)")
    print(f"customers with two single offers in one essential category: {doubled:,}")
    if args.transactions and args.as_of:
        log = pl.read_parquet(args.transactions)
        year = log.filter(pl.col("date").is_between(args.as_of - timedelta(days=364), args.as_of))
        print(f"the log's sales in the year to {args.as_of}: ${year.get_column('amount').sum():,.2f}")


if __name__ == "__main__":
    main()
