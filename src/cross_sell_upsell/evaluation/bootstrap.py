"""How sure is a difference between two methods of the backtest? A paired bootstrap over the users scored.

Both methods are scored on the same users, so the difference is taken user by user (the reference's metric
minus the other method's), and the users are resampled with replacement: the interval is the central
`confidence` share of the resampled mean differences (percentile bootstrap). The generator is seeded, and every
comparison draws the same resamples, so the figures repeat exactly for the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

REFERENCE = "orchestrator"
"""The method every other one is compared with."""

HEADLINE: tuple[tuple[str, str], ...] = (("new", "ndcg"), ("repeat", "precision"))
"""(split, metric) pairs that get an interval: the cross-sell and the replenishment question's headline."""

_DRAWS_PER_BATCH = 10_000_000
"""Resampled user indices held in memory at once (80 MB)."""


@dataclass(frozen=True)
class BootstrapSettings:
    """How the intervals are drawn."""

    resamples: int = 2000
    """Resamples of the users."""
    seed: int = 20261122
    """Seed of the generator (numpy's default, PCG64)."""
    confidence: float = 0.95
    """Share of the resampled mean differences inside the interval."""


DEFAULT_BOOTSTRAP = BootstrapSettings()
"""2,000 resamples, the seed above, 95%."""


def paired_interval(difference: np.ndarray, settings: BootstrapSettings = DEFAULT_BOOTSTRAP) -> dict[str, float]:
    """`difference` (one value per user) summarised: its mean, the bootstrap interval of the mean (`low`,
    `high`), and how many users have a positive (`better`) and a negative (`worse`) difference."""
    users = len(difference)
    if users == 0:
        return {"difference": 0.0, "low": 0.0, "high": 0.0, "better": 0, "worse": 0}
    generator = np.random.default_rng(settings.seed)
    batch = max(1, _DRAWS_PER_BATCH // users)
    means = np.concatenate(
        [
            difference[generator.integers(0, users, size=(min(batch, settings.resamples - done), users))].mean(axis=1)
            for done in range(0, settings.resamples, batch)
        ]
    )
    tail = (1 - settings.confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return {
        "difference": float(difference.mean()),
        "low": float(low),
        "high": float(high),
        "better": int((difference > 0).sum()),
        "worse": int((difference < 0).sum()),
    }


def versus_reference(
    users: dict[str, dict[str, pl.DataFrame]], settings: BootstrapSettings = DEFAULT_BOOTSTRAP
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """For every method but the reference: {split: {metric: `paired_interval` of reference - method}} over
    the HEADLINE metrics. `users[method][split]` holds the per-user metrics (`metrics.user_metrics`); every
    method's frame has the same users. Empty when the reference was not run."""
    if REFERENCE not in users:
        return {}
    result: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for method, splits in users.items():
        if method == REFERENCE:
            continue
        result[method] = {}
        for split, metric in HEADLINE:
            paired = users[REFERENCE][split].join(splits[split], on="user", suffix="_other").sort("user")
            difference = paired.select(pl.col(metric) - pl.col(f"{metric}_other")).to_series().to_numpy()
            interval = paired_interval(difference, settings)
            result[method].setdefault(split, {})[metric] = interval
    return result
