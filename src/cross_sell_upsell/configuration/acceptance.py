"""The acceptance model's knobs (`models/acceptance.py`, `pipeline/acceptance.py`); docs/offers.md explains each
default. A module of its own, like the customer models' settings, because the models below read it as much as the
orchestrator above."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cross_sell_upsell.configuration.base import Frozen


class AcceptanceSettings(Frozen):
    """The probability that a customer buys an offered product within the horizon, learned from the retailer's
    own earlier offers and what followed them (docs/offers.md, "Acceptance")."""

    enabled: bool = Field(
        True,
        description="Train the model before each run and rank by it; off (or too little history), the weighted score "
        "ranks and there is no expected revenue.",
    )
    horizon_days: int = Field(28, ge=1, description="Days after an offer in which a purchase of it counts as accepted.")
    horizons: int = Field(
        1, ge=1, le=2, description="Earlier dates replayed for training: as-of minus one, or one and two, horizons."
    )
    sample_customers: int = Field(
        2_000, ge=10, description="Most customers (by a stable hash of the id) whose offers are replayed per date."
    )
    replay_population: int = Field(
        100_000,
        ge=10,
        description="Most customers (by the same stable hash, the replayed ones among them) whose purchases the "
        "replays fit the customer models, segments and signals on: a larger shop's training costs the same at any "
        "size, a smaller one's replays see everyone.",
    )
    min_training_offers: int = Field(
        1_000, ge=10, description="Fewest replayed offers to train on; fewer and the weighted score ranks, and why."
    )
    min_positives: int = Field(
        30,
        ge=5,
        description="Fewest accepted (and fewest not accepted) replayed offers to train on; fewer and the weighted "
        "score ranks, and why.",
    )
    calibration: Literal["isotonic", "sigmoid"] = Field(
        "isotonic",
        description="How the classifier's scores become probabilities: an increasing isotonic regression, or a "
        "logistic curve (Platt's sigmoid).",
    )
    calibration_offers: int = Field(
        10,
        ge=1,
        description="Each replayed customer's first offers by probability that the calibration is fitted on: the "
        "offers a customer is sent, whose probabilities the expected revenue sums.",
    )
    calibration_folds: int = Field(
        3, ge=2, le=10, description="Folds, split by customer, for the out-of-fold scores the calibration is fitted on."
    )
    regularization: float = Field(
        1.0, gt=0, description="Inverse L2 strength of the logistic regression (scikit-learn's C) on scaled features."
    )
