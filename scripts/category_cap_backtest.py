"""Measures the cap on offers per category outside the routine (`offers_per_category`) on Complete Journey.

    python scripts/category_cap_backtest.py [--cutoffs 2017-07-01 2017-08-15] [--caps 1 2 3 5 none]
        [--horizon-days 28] [--k 10]

A grocer has no routine, so every category is capped. For each cutoff: the orchestrator's new-item NDCG and
precision and repeat-item precision and NDCG at K for each cap, beside buy-again and item kNN (which no cap
touches), every other setting at the grocery defaults. docs/backtest.md records the run that chose the default.
Needs the backtest extra; a few minutes per cutoff.
"""

from __future__ import annotations

import argparse
from datetime import date

from cross_sell_upsell.data.completejourney import grocery_config, load_before
from cross_sell_upsell.evaluation.backtest import evaluate, method_lists, temporal_split


def _cap(text: str) -> int | None:
    return None if text == "none" else int(text)


def _row(cutoff: date, label: str, scores: dict) -> str:
    new, repeat = scores["new"], scores["repeat"]
    return (
        f"| {cutoff} | {label} | {new['ndcg']:.4f} | {new['precision']:.4f} | "
        f"{repeat['precision']:.4f} | {repeat['ndcg']:.4f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cutoffs", type=date.fromisoformat, nargs="+", default=[date(2017, 7, 1), date(2017, 8, 15)])
    parser.add_argument("--caps", type=_cap, nargs="+", default=[1, 2, 3, 5, None])
    parser.add_argument("--horizon-days", type=int, default=28)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    base = grocery_config()
    print(f"Horizon {args.horizon_days} days, K = {args.k}\n")
    print("| cutoff | method | new NDCG | new precision | repeat precision | repeat NDCG |")
    print("|---|---|---:|---:|---:|---:|")
    for cutoff in args.cutoffs:
        split = temporal_split(load_before(cutoff, base), cutoff, args.horizon_days)
        baselines = evaluate(split, method_lists(split, base, args.k, ("buy_again", "item_knn")), args.k)
        for method, scores in baselines["methods"].items():
            print(_row(cutoff, method, scores), flush=True)
        for cap in args.caps:
            config = base.model_copy(update={"offers_per_category": cap})
            result = evaluate(split, method_lists(split, config, args.k, ("orchestrator",)), args.k)
            label = f"orchestrator, cap {cap if cap is not None else 'none'}"
            print(_row(cutoff, label, result["methods"]["orchestrator"]), flush=True)


if __name__ == "__main__":
    main()
