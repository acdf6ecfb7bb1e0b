"""Measures the acceptance model on Complete Journey: trained before one cutoff, its calibration on the offers of a
later, held-out cutoff.

    python scripts/acceptance_completejourney.py [--train-cutoff 2017-08-15] [--test-cutoff 2017-09-12]
        [--horizon-days 28] [--horizons 1|2]

Trains on the offers replayed one (or two) horizons before the training cutoff (purchases before it only), then replays the
offers of the day before the test cutoff, labels them with the purchases in the horizon after it, and prints the
predicted probability against the observed purchase rate by decile of the prediction, with the time to build the
training set and to fit. Grocery settings (`grocery_config()`), acceptance defaults. Needs the backtest extra.
docs/offers.md records the run.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

import polars as pl

from cross_sell_upsell.configuration.acceptance import AcceptanceSettings
from cross_sell_upsell.data.completejourney import grocery_config, load_before
from cross_sell_upsell.models.acceptance import LABEL, fit_acceptance, predict_acceptance
from cross_sell_upsell.pipeline.acceptance import labelled_offers, training_set

DECILES = 10


def deciles(predicted: pl.Series, bought: pl.Series) -> pl.DataFrame:
    """Offers in ten equal-count groups by predicted probability: the mean prediction and the observed rate."""
    frame = pl.DataFrame({"p": predicted, "y": bought.cast(pl.Float64)}).sort("p")
    return (
        frame.with_columns(decile=(pl.int_range(pl.len()) * DECILES // pl.len() + 1))
        .group_by("decile", maintain_order=True)
        .agg(offers=pl.len(), predicted=pl.col("p").mean(), observed=pl.col("y").mean())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-cutoff", type=date.fromisoformat, default=date(2017, 8, 15))
    parser.add_argument("--test-cutoff", type=date.fromisoformat, default=date(2017, 9, 12))
    parser.add_argument("--horizon-days", type=int, default=28)
    parser.add_argument("--horizons", type=int, choices=(1, 2), default=1)
    args = parser.parse_args()
    config, settings = grocery_config(), AcceptanceSettings(horizon_days=args.horizon_days, horizons=args.horizons)
    train = load_before(args.train_cutoff, config)
    started = time.perf_counter()
    training = training_set(train, args.train_cutoff, config, settings)
    built = time.perf_counter()
    model = fit_acceptance(training, settings)
    fitted = time.perf_counter()
    print(f"training set: {training.height:,} offers, {model.positives:,} bought, {built - started:.1f} s to build")
    print(f"fit: {fitted - built:.1f} s; fallback: {model.fallback_reason}")
    test = labelled_offers(
        load_before(args.test_cutoff, config), args.test_cutoff - timedelta(days=1), config, settings
    )
    predicted = predict_acceptance(model, test)
    observed = test.get_column(LABEL)
    print(f"test: {test.height:,} offers, {int(observed.sum()):,} bought")
    print(f"mean predicted {predicted.mean():.4f}, observed rate {observed.mean():.4f}\n")
    print("| decile | offers | predicted | observed |\n|---:|---:|---:|---:|")
    for row in deciles(predicted, observed).iter_rows(named=True):
        print(f"| {row['decile']} | {row['offers']:,} | {row['predicted']:.4f} | {row['observed']:.4f} |")


if __name__ == "__main__":
    main()
