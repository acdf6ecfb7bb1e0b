"""How sure is a difference between two methods of the backtest? A paired bootstrap over users.

    python scripts/paired_bootstrap.py [--cutoff 2017-10-01] [--horizon-days 28] [--k 10] [--resamples 2000]

On Complete Journey with the grocery configuration: per user, the orchestrator's NDCG on new items minus item
kNN's, and its precision on repeat items minus buy-again's; the mean difference and a 95% percentile interval
from resampling the users with replacement (fixed seed, so the figures repeat). Needs the backtest extra.
"""

from __future__ import annotations

import argparse
from datetime import date

import numpy as np
import polars as pl

from cross_sell_upsell.data.completejourney import grocery_config, load_before
from cross_sell_upsell.evaluation.backtest import _at_level, method_lists, temporal_split
from cross_sell_upsell.evaluation.metrics import per_user

COMPARISONS = (("new", "item_knn", "ndcg"), ("repeat", "buy_again", "precision"))


def _per_user(
    split, ranked: pl.DataFrame, relevant: pl.DataFrame, owned: pl.DataFrame, part: str, k: int
) -> pl.DataFrame:
    items = _at_level(ranked.sort("user", "rank"), {}, "product").with_columns(price=pl.lit(0.0))
    mine = items.join(owned, on=["user", "item"], how="semi" if part == "repeat" else "anti")
    users = per_user(mine, relevant, k)
    return users.select("user", ndcg=pl.col("dcg") / pl.col("idcg"), precision=pl.col("hits") / k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cutoff", type=date.fromisoformat, default=date(2017, 10, 1))
    parser.add_argument("--horizon-days", type=int, default=28)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--resamples", type=int, default=2000)
    args = parser.parse_args()
    config = grocery_config()
    split = temporal_split(load_before(args.cutoff, config), args.cutoff, args.horizon_days)
    lists = method_lists(split, config, args.k, ("item_knn", "buy_again", "orchestrator"))
    owned = split.train.ownership.select(user="customer_id", item="product_id").unique()
    future = split.future.select(user="customer_id", item="product_id").unique()
    future = future.join(owned.select("user").unique(), on="user")
    relevant = {
        "new": future.join(owned, on=["user", "item"], how="anti"),
        "repeat": future.join(owned, on=["user", "item"], how="semi"),
    }
    generator = np.random.default_rng(20261122)
    print(f"Cutoff {args.cutoff}, horizon {args.horizon_days} days, K = {args.k}, {args.resamples} resamples\n")
    print("| items | metric | orchestrator - baseline | mean difference | 95% interval | users better / worse |")
    print("|---|---|---|---:|---|---|")
    for part, baseline, metric in COMPARISONS:
        ours = _per_user(split, lists["orchestrator"], relevant[part], owned, part, args.k)
        theirs = _per_user(split, lists[baseline], relevant[part], owned, part, args.k)
        difference = (
            ours.join(theirs, on="user", suffix="_b")
            .select(pl.col(metric) - pl.col(f"{metric}_b"))
            .to_series()
            .to_numpy()
        )
        means = generator.choice(difference, size=(args.resamples, len(difference)), replace=True).mean(axis=1)
        low, high = np.percentile(means, [2.5, 97.5])
        print(
            f"| {part} | {metric} | orchestrator - {baseline} | {difference.mean():+.4f} | [{low:+.4f}, {high:+.4f}] "
            f"| {(difference > 0).sum()} / {(difference < 0).sum()} |"
        )


if __name__ == "__main__":
    main()
