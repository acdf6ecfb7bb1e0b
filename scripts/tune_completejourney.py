"""Tunes the grocery weights and signal settings on a validation cutoff of Complete Journey, never the test one.

    python scripts/tune_completejourney.py [--cutoff 2017-08-01] [--horizon-days 28] [--k 10]

Prints one markdown row per (signal settings, weights) variant: new-item NDCG and repeat-item precision of the
orchestrator, and the baselines for each signal setting. docs/backtest.md records the run that chose
`completejourney.GROCERY_WEIGHTS` and `GROCERY_SIGNALS`. Needs the backtest extra; takes a few minutes.
"""

from __future__ import annotations

import argparse
from datetime import date

from cross_sell_upsell.configuration import OrchestratorConfig, ScoringWeights, SignalSettings
from cross_sell_upsell.data.completejourney import GROCERY_SIGNALS, GROCERY_WEIGHTS, grocery_config, load_before
from cross_sell_upsell.evaluation.backtest import METHODS, evaluate, method_lists, temporal_split

DOCUMENT_SIGNALS: dict[str, float] = {field: SignalSettings.model_fields[field].default for field in GROCERY_SIGNALS}
"""Documents 002 and 004's settings: support 1%, confidence 10%, similarity blend 0.84 / 0.16."""
SIGNAL_VARIANTS: dict[str, dict[str, float]] = {
    "documents": DOCUMENT_SIGNALS,
    "rules 0.05%/5%, blend 0.84/0.16": {**GROCERY_SIGNALS, "similarity_weight": 0.84, "price_similarity_weight": 0.16},
    "rules 0.05%/5%, cosine only (chosen)": GROCERY_SIGNALS,
}
WEIGHT_VARIANTS: dict[str, dict[str, float]] = {
    "default weights": {field: ScoringWeights.model_fields[field].default for field in GROCERY_WEIGHTS},
    "value 5, urgency 0, affinity 60, lift 0": {**GROCERY_WEIGHTS, "business_value": 5.0},
    "value 0, urgency 10, affinity 60, lift 0": {**GROCERY_WEIGHTS, "replenishment_urgency": 10.0},
    "value 0, urgency 0, affinity 60, lift 5": {**GROCERY_WEIGHTS, "lift": 5.0},
    "value 0, urgency 0, affinity 60, lift 0 (chosen)": GROCERY_WEIGHTS,
}


def _variant(base: OrchestratorConfig, signals: dict[str, float], weights: dict[str, float]) -> OrchestratorConfig:
    return base.model_copy(
        update={
            "signals": base.signals.model_copy(update=signals),
            "weights": base.weights.model_copy(update=weights),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cutoff", type=date.fromisoformat, default=date(2017, 8, 1))
    parser.add_argument("--horizon-days", type=int, default=28)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    base = grocery_config()
    split = temporal_split(load_before(args.cutoff, base), args.cutoff, args.horizon_days)
    print(f"Validation cutoff {args.cutoff}, horizon {args.horizon_days} days, K = {args.k}\n")
    print("| signals | weights | method | new NDCG | new precision | repeat precision | repeat NDCG |")
    print("|---|---|---|---:|---:|---:|---:|")
    for signal_name, signals in SIGNAL_VARIANTS.items():
        for position, (weight_name, weights) in enumerate(WEIGHT_VARIANTS.items()):
            config = _variant(base, signals, weights)
            methods = METHODS if position == 0 else ("orchestrator",)
            result = evaluate(split, method_lists(split, config, args.k, methods), args.k)
            for method, scores in result["methods"].items():
                label = weight_name if method == "orchestrator" else "-"
                print(
                    f"| {signal_name} | {label} | {method} | {scores['new']['ndcg']:.4f} | "
                    f"{scores['new']['precision']:.4f} | {scores['repeat']['precision']:.4f} | "
                    f"{scores['repeat']['ndcg']:.4f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
