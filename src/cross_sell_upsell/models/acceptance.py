"""Acceptance: the probability that a customer buys an offered product within the horizon, learned from the
retailer's own replayed offers (`pipeline/acceptance.training_set`) and what each customer bought after them.

The model is a logistic regression on standardised features, calibrated by isotonic (or sigmoid) regression
on its out-of-fold scores across folds split by customer (`CalibratedClassifier`: one classifier fitted on all
the offers and one calibrator, so scoring costs one pass, not one per fold). The calibrator is fitted on the offers
a customer would be sent (`AcceptanceSettings.calibration_offers`, each replayed customer's first offers by
out-of-fold probability), not on every replayed offer: those are the probabilities the expected revenue sums, and
the many unlikely offers below them, which a customer is never sent, would otherwise set the calibration where
the sent ones fall. Every weight is learned from the
retailer's own log, none is set by hand, and the same code fits a skincare shop and a grocer. A logistic
regression rather than gradient boosting because it trains in seconds on millions of offers with no tuning, is
monotone in each feature (a stronger habit never lowers the probability), and stays stable with the few hundred
positives a small shop has; the calibration fixes its probabilities where the log-odds are not linear.

The training frame has `customer_id`, `bought` (the label), `type`, `source` and numeric feature columns; the
model's features are the type and source one-hot (`registry`) and every other numeric column, in frame order.
Too little history (`AcceptanceSettings.min_training_offers`, `min_positives`) gives a model with no estimator
and the reason, whose predictions are null: the caller ranks by the weighted score instead.

New products (NEW_PRODUCT: a product the customer never bought, not a bundle) are the exception: their
probability is one number calibrated by an increasing isotonic regression on the replayed new-product offers, so
a customer's new products keep that number's order: the EASE item-item model's score (EASE_SCORE, `models/ease.py`)
where EASE models the product and the customer owns something it models, else the offer's weighted score (SCORE).
Measured on Complete Journey (docs/backtest.md), every classifier of these features ordered a household's new
products worse than the score's affinity did, and EASE better than both; with too few new-product offers bought,
the classifier scores them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from cross_sell_upsell.configuration.acceptance import AcceptanceSettings
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.registry import OPPORTUNITY_SOURCES, OPPORTUNITY_TYPES

LABEL = "bought"
"""The training frame's label: the customer bought the offered product (any product of a bundle) in the horizon."""

NEW_PRODUCT = "new_product"
"""Whether the offer is of a product the customer never bought (not a bundle): the offers the score ranks."""

SCORE = "score"
"""The offer's weighted score (`offers/scoring.py`), what a new product's probability is calibrated from."""

EASE_SCORE = "ease_score"
"""The EASE model's score of the offered product for the customer (`offers/acceptance.ease_scores`), null where EASE
does not score it: what a new product's probability is calibrated from where it is there."""

KEY_COLUMNS: tuple[str, ...] = ("customer_id", LABEL, "type", "source", NEW_PRODUCT, SCORE, EASE_SCORE)
"""Training columns that are not numeric features."""

PROBABILITY = "acceptance_probability"
"""The name of `predict_acceptance`'s series."""


@dataclass(frozen=True)
class ScoreCalibration:
    """New products' probability: the EASE score, else the weighted score, calibrated on the replayed new-product
    offers; or why the classifier scores them instead."""

    calibrator: Any | None
    """The increasing isotonic regression from SCORE to probability, for the new products without an EASE_SCORE (and
    all of them without `ease_calibrator`); None when the classifier scores new products."""
    ease_calibrator: Any | None
    """The increasing isotonic regression from EASE_SCORE to probability, for the new products with one; None when
    too few replayed offers had one (`calibrator` scores them all)."""
    training_offers: int
    """Replayed new-product offers."""
    positives: int
    """Of them, offers the customer bought in the horizon."""
    fallback_reason: str | None = None
    """Why the score is not calibrated (the classifier scores new products); None when it is."""


@dataclass(frozen=True)
class CalibratedClassifier:
    """The classifier and the calibration of its scores, with scikit-learn's `predict_proba`."""

    classifier: Any
    """The scaled logistic regression fitted on every replayed offer."""
    calibrator: Any
    """From the classifier's decision value to the probability: an IsotonicRegression, or a one-feature
    LogisticRegression (sigmoid); fitted on out-of-fold decision values."""

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        """(1 - p, p) per row of the design matrix, as scikit-learn's classifiers return them."""
        probability = _calibrated_scores(self.calibrator, self.classifier.decision_function(matrix))
        return np.column_stack([1.0 - probability, probability])


def _calibrated_scores(calibrator: Any, scores: np.ndarray) -> np.ndarray:
    if hasattr(calibrator, "predict_proba"):  # the sigmoid: a logistic regression on the one score
        return calibrator.predict_proba(scores.reshape(-1, 1))[:, 1]
    return calibrator.predict(scores)


@dataclass(frozen=True)
class AcceptanceModel:
    """A fitted acceptance model, or why there is none (`fallback_reason`)."""

    settings: AcceptanceSettings
    """The settings it was fitted with."""
    features: tuple[str, ...]
    """The numeric feature columns an offers frame must have, in the order the estimator reads them."""
    estimator: Any | None
    """The calibrated classifier; None when the history was too short."""
    training_offers: int
    """Replayed offers it was trained on."""
    positives: int
    """Of them, offers the customer bought in the horizon."""
    fallback_reason: str | None = None
    """Why no classifier was fitted (the weighted score ranks instead); None when one was."""
    new_products: ScoreCalibration | None = None
    """How new products get their probability; None when the training frame had no NEW_PRODUCT and SCORE."""


def numeric_features(training: pl.DataFrame) -> tuple[str, ...]:
    """The numeric columns of a training frame that are features: all but KEY_COLUMNS."""
    return tuple(name for name, dtype in training.schema.items() if name not in KEY_COLUMNS and dtype.is_numeric())


def _labels(offers: pl.DataFrame, column: str, values: tuple[str, ...]) -> pl.Expr:
    """`column` as text to compare with `values`; an Enum of exactly them (the graph's offers) as it is, compared
    by category without writing out every row's string."""
    return pl.col(column) if offers.schema[column] == pl.Enum(values) else pl.col(column).cast(pl.String)


def design_matrix(offers: pl.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    """The estimator's input: the numeric features (nulls as 0), then the type and source one-hot."""
    missing = [name for name in (*features, "type", "source") if name not in offers.columns]
    if missing:
        raise ConfigurationError(f"the offers have no {', '.join(missing)} column for the acceptance model")
    one_hot = [
        (_labels(offers, column, values) == value).cast(pl.Float64).alias(f"{column}={value}")
        for column, values in (("type", OPPORTUNITY_TYPES), ("source", OPPORTUNITY_SOURCES))
        for value in values
    ]
    numeric = [pl.col(name).cast(pl.Float64).fill_null(0.0).fill_nan(0.0) for name in features]
    return offers.select(*numeric, *one_hot).to_numpy()


def _fallback_reason(rows: int, positives: int, settings: AcceptanceSettings) -> str | None:
    if rows < settings.min_training_offers:
        return f"{rows:,} replayed offers, fewer than the {settings.min_training_offers:,} needed to train"
    if positives < settings.min_positives:
        return f"{positives:,} replayed offers were bought, fewer than the {settings.min_positives:,} needed to train"
    if rows - positives < settings.min_positives:
        return f"only {rows - positives:,} replayed offers were not bought: nothing to tell apart"
    return None


def _score_calibration(training: pl.DataFrame, settings: AcceptanceSettings) -> ScoreCalibration:
    """The new-product offers' score calibrations (see the module docstring), or why there is none."""
    offers = training.filter(pl.col(NEW_PRODUCT))
    rows, positives = offers.height, int(offers.get_column(LABEL).sum())
    # One increasing function of one number needs the bought and not-bought offers the classifier's calibration
    # needs, not the classifier's many offers.
    if min(positives, rows - positives) < settings.min_positives:
        reason = (
            f"new products: {positives:,} of {rows:,} replayed offers bought; calibrating the score needs "
            f"{settings.min_positives:,} bought and {settings.min_positives:,} not bought"
        )
        return ScoreCalibration(None, None, rows, positives, reason)
    with_ease = pl.col(EASE_SCORE).is_not_null() if EASE_SCORE in offers.columns else pl.lit(False)
    ease = _isotonic(offers.filter(with_ease), EASE_SCORE, settings.min_positives)
    # The score calibrates the offers EASE does not score; all of them when those are too few to fit alone.
    score = _isotonic(offers.filter(~with_ease), SCORE, settings.min_positives) if ease is not None else None
    if score is None:
        score = _isotonic(offers, SCORE, 0)
    return ScoreCalibration(score, ease, rows, positives)


def _isotonic(offers: pl.DataFrame, column: str, min_positives: int) -> Any | None:
    """The increasing isotonic regression of LABEL on `column` over `offers`, or None when fewer than
    `min_positives` of them were bought or fewer were not."""
    from sklearn.isotonic import IsotonicRegression

    labels = offers.get_column(LABEL).cast(pl.Int8).to_numpy()
    if offers.is_empty() or min(int(labels.sum()), len(labels) - int(labels.sum())) < min_positives:
        return None
    return IsotonicRegression(increasing=True, out_of_bounds="clip").fit(offers.get_column(column).to_numpy(), labels)


def fit_acceptance(training: pl.DataFrame, settings: AcceptanceSettings) -> AcceptanceModel:
    """The calibrated classifier fitted on `training` (see the module docstring) and, when it has NEW_PRODUCT
    and SCORE, the new products' score calibration; or a model with the reason when the history is too short.
    Deterministic: the same frame gives the same probabilities."""
    # Imported here, as the segments' K-means is: scikit-learn takes about two seconds to import, which every
    # command (a usage error too) paid through the snapshot's import of this module.
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features = numeric_features(training)
    labels = training.get_column(LABEL).cast(pl.Int8).to_numpy() if LABEL in training.columns else np.zeros(0)
    rows, positives = training.height, int(labels.sum())
    customers = training.get_column("customer_id").n_unique() if rows else 0
    reason = _fallback_reason(rows, positives, settings)
    if reason is None and customers < settings.calibration_folds:
        reason = f"{customers} customers, fewer than the {settings.calibration_folds} calibration folds"
    if reason is not None:
        return AcceptanceModel(settings, features, None, rows, positives, reason)
    groups = training.get_column("customer_id").cast(pl.String).to_numpy()
    # Folds by customer: a customer's offers are alike, and the calibration must be fitted on customers the
    # classifier did not see. GroupKFold has no randomness, so the folds repeat.
    folds = list(GroupKFold(n_splits=settings.calibration_folds).split(labels, labels, groups))
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=settings.regularization, max_iter=2_000))
    matrix = design_matrix(training, features)
    try:
        scores = cross_val_predict(classifier, matrix, labels, cv=folds, method="decision_function")
        classifier.fit(matrix, labels)
    except ValueError as error:  # a fold with one class only: too little history all the same
        return AcceptanceModel(settings, features, None, rows, positives, f"the classifier could not fit: {error}")
    new_products = _score_calibration(training, settings) if {NEW_PRODUCT, SCORE} <= set(training.columns) else None
    calibrated = _sent(training, scores, new_products, settings)
    estimator = CalibratedClassifier(classifier, _calibrator(scores[calibrated], labels[calibrated], settings))
    return AcceptanceModel(settings, features, estimator, rows, positives, new_products=new_products)


def _sent(
    training: pl.DataFrame, scores: np.ndarray, new_products: ScoreCalibration | None, settings: AcceptanceSettings
) -> np.ndarray:
    """The training rows the classifier's calibration is fitted on: of each customer's first
    `settings.calibration_offers` offers by probability (the classifier's out-of-fold `scores` through the logistic
    function; a new product's calibrated score where new products have their own), those the classifier scores.
    Every row the classifier scores when those hold fewer than `min_positives` bought or not bought offers."""
    from scipy.special import expit

    probability = expit(scores)
    own = new_products is not None and new_products.calibrator is not None
    new = _new_products(training) if own else np.zeros(training.height, dtype=bool)
    if new.any():
        probability[new] = _calibrated(new_products, training.filter(new))
    ranks = pl.DataFrame({"customer_id": training.get_column("customer_id"), "probability": probability}).select(
        pl.col("probability").rank("ordinal", descending=True).over("customer_id")
    )
    first = ranks.to_series().to_numpy() <= settings.calibration_offers
    chosen = first & ~new
    bought = int(training.get_column(LABEL).to_numpy()[chosen].sum())
    if min(bought, int(chosen.sum()) - bought) < settings.min_positives:
        return ~new
    return chosen


def _calibrator(scores: np.ndarray, labels: np.ndarray, settings: AcceptanceSettings) -> Any:
    """The increasing map from the classifier's decision values to probabilities (`settings.calibration`)."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if settings.calibration == "sigmoid":
        return LogisticRegression().fit(scores.reshape(-1, 1), labels)
    return IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(scores, labels)


def predict_acceptance(model: AcceptanceModel, offers: pl.DataFrame) -> pl.Series:
    """Per offer row, the probability that the customer buys it within the horizon; null for every row when the
    model fell back (`model.fallback_reason`). Raises ConfigurationError naming a missing feature column."""
    if model.estimator is None:
        return pl.Series(PROBABILITY, [None] * offers.height, dtype=pl.Float64)
    if offers.is_empty():
        return pl.Series(PROBABILITY, [], dtype=pl.Float64)
    from sklearn import config_context
    from sklearn.utils import assert_all_finite

    calibration = model.new_products
    calibrated = calibration is not None and calibration.calibrator is not None
    new = _new_products(offers) if calibrated else np.zeros(offers.height, dtype=bool)
    matrix = design_matrix(offers.filter(~new) if new.any() else offers, model.features)
    # Checked once here instead of in each step of scikit-learn's pipeline (about a sixth of the prediction);
    # the same error on an infinite value, the same probabilities.
    assert_all_finite(matrix)
    probabilities = np.empty(offers.height)
    with config_context(assume_finite=True):
        if matrix.shape[0]:
            probabilities[~new] = model.estimator.predict_proba(matrix)[:, 1]
    if new.any():
        probabilities[new] = _calibrated(calibration, offers.filter(new))
    return pl.Series(PROBABILITY, probabilities, dtype=pl.Float64)


def _calibrated(calibration: ScoreCalibration, offers: pl.DataFrame) -> np.ndarray:
    """The new-product `offers`' probabilities: from EASE_SCORE where there is one and an EASE calibrator, else
    from SCORE."""
    probabilities = calibration.calibrator.predict(offers.get_column(SCORE).to_numpy())
    if calibration.ease_calibrator is not None and EASE_SCORE in offers.columns:
        ease = offers.get_column(EASE_SCORE)
        scored = ease.is_not_null().to_numpy()
        if scored.any():
            probabilities[scored] = calibration.ease_calibrator.predict(ease.to_numpy()[scored])
    return probabilities


def _new_products(offers: pl.DataFrame) -> np.ndarray:
    """The NEW_PRODUCT mask of `offers`; a ConfigurationError naming NEW_PRODUCT or SCORE when one is missing."""
    missing = [name for name in (NEW_PRODUCT, SCORE) if name not in offers.columns]
    if missing:
        raise ConfigurationError(f"the offers have no {', '.join(missing)} column for the acceptance model")
    return offers.get_column(NEW_PRODUCT).fill_null(False).to_numpy()
