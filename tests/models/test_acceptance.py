"""The acceptance model on hand-built and simulated training frames: monotone in a planted strong feature,
calibrated where the true probability is known, the same probabilities on every run, and a fallback with the
reason (never a crash) when the history is short."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_series_equal
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from support import rows

from cross_sell_upsell.configuration.acceptance import AcceptanceSettings
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.models.acceptance import design_matrix, fit_acceptance, predict_acceptance
from cross_sell_upsell.registry import OPPORTUNITY_SOURCES, OPPORTUNITY_TYPES

SETTINGS = AcceptanceSettings()


def _simulated(size: int, seed: int) -> pl.DataFrame:
    """Offers whose true acceptance probability is known: p = 1 / (1 + exp(-(4 x strength - 3))) with strength
    uniform on [0, 1] (p from 4.7% to 73%), a noise feature, and four offers per customer."""
    rng = np.random.default_rng(seed)
    strength, noise = rng.uniform(0, 1, size), rng.normal(0, 1, size)
    truth = 1 / (1 + np.exp(-(4 * strength - 3)))
    return pl.DataFrame(
        {
            "customer_id": [f"C{seed}-{index // 4}" for index in range(size)],
            "type": ["replenishment"] * size,
            "source": ["replenishment"] * size,
            "strength": strength,
            "noise": noise,
            "truth": truth,
            "bought": rng.uniform(0, 1, size) < truth,
        }
    )


@pytest.fixture(scope="module")
def simulated_model():
    return fit_acceptance(_simulated(20_000, seed=1).drop("truth"), SETTINGS)


def test_the_probability_rises_with_a_planted_strong_feature(simulated_model):
    grid = pl.DataFrame(
        {
            "customer_id": "X",
            "type": "replenishment",
            "source": "replenishment",
            "strength": np.linspace(0, 1, 21),
            "noise": 0.0,
        }
    )
    probabilities = predict_acceptance(simulated_model, grid).to_numpy()
    assert simulated_model.fallback_reason is None
    assert simulated_model.features == ("strength", "noise")
    assert np.all(np.diff(probabilities) >= 0)
    assert probabilities[-1] - probabilities[0] > 0.5


def test_held_out_deciles_are_calibrated_to_the_true_probability(simulated_model):
    # 10,000 held-out offers a decile: the observed rate's own sampling error (about 0.005) stays well inside the
    # tolerance, so the check measures the model, not the test sample's luck.
    test = _simulated(100_000, seed=2)
    predicted = predict_acceptance(simulated_model, test)
    deciles = (
        test.with_columns(predicted=predicted)
        .sort("predicted")
        .with_columns(decile=pl.int_range(pl.len()) * 10 // pl.len())
        .group_by("decile")
        .agg(pl.col("predicted").mean(), pl.col("truth").mean(), pl.col("bought").mean())
    )
    assert deciles.height == 10
    for row in deciles.iter_rows(named=True):
        assert row["predicted"] == pytest.approx(row["truth"], abs=0.03)
        assert row["predicted"] == pytest.approx(row["bought"], abs=0.04)
    assert predicted.mean() == pytest.approx(test.get_column("truth").mean(), abs=0.01)


def test_the_same_frame_gives_the_same_probabilities():
    training, test = _simulated(4_000, seed=3).drop("truth"), _simulated(500, seed=4)
    first = predict_acceptance(fit_acceptance(training, SETTINGS), test)
    second = predict_acceptance(fit_acceptance(training, SETTINGS), test)
    assert_series_equal(first, second)


SHORT = rows(
    "customer_id | type          | source        | strength | bought",
    "C1          | replenishment | replenishment | 0.9      | true",
    "C1          | cross_sell    | catalog       | 0.1      | false",
    "C2          | replenishment | replenishment | 0.8      | true",
    "C3          | cross_sell    | catalog       | 0.2      | false",
)


def test_short_history_falls_back_with_the_reason_and_null_probabilities():
    short = pl.DataFrame(SHORT)
    model = fit_acceptance(short, SETTINGS)
    assert model.estimator is None
    assert model.fallback_reason == "4 replayed offers, fewer than the 1,000 needed to train"
    assert (model.training_offers, model.positives) == (4, 2)
    assert predict_acceptance(model, short).null_count() == 4


def test_too_few_bought_offers_fall_back():
    training = _simulated(2_000, seed=5).drop("truth").with_columns(bought=pl.int_range(pl.len()) < 10)
    model = fit_acceptance(training, SETTINGS)
    assert model.fallback_reason == "10 replayed offers were bought, fewer than the 30 needed to train"
    everything = fit_acceptance(training.with_columns(bought=pl.int_range(pl.len()) >= 10), SETTINGS)
    assert everything.fallback_reason == "only 10 replayed offers were not bought: nothing to tell apart"


def test_an_empty_training_set_falls_back():
    empty = pl.DataFrame(SHORT).clear()
    assert fit_acceptance(empty, SETTINGS).fallback_reason == "0 replayed offers, fewer than the 1,000 needed to train"


def test_offers_without_a_feature_column_are_a_one_line_error(simulated_model):
    with pytest.raises(ConfigurationError, match="^the offers have no noise column for the acceptance model$"):
        predict_acceptance(simulated_model, _simulated(10, seed=6).drop("noise"))


def _by_hand(training: pl.DataFrame, test: pl.DataFrame, first: int | None) -> np.ndarray:
    """The model built by hand: out-of-fold log-odds over folds that never split a customer, an isotonic fit of
    the labels on them over each customer's `first` offers by those log-odds (all offers with None), and that
    calibration applied to one classifier trained on every offer."""
    features = design_matrix(training, ("strength", "noise"))
    labels = training.get_column("bought").to_numpy()
    groups = training.get_column("customer_id").to_numpy()
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2_000))
    folds = list(GroupKFold(n_splits=3).split(features, labels, groups))
    assert all(not set(groups[train]) & set(groups[held]) for train, held in folds)
    out_of_fold = cross_val_predict(classifier, features, labels, cv=folds, method="decision_function")
    chosen = np.ones(len(labels), dtype=bool)
    if first is not None:
        order = training.select("customer_id").with_columns(score=out_of_fold)
        ranks = order.select(pl.col("score").rank("ordinal", descending=True).over("customer_id")).to_series()
        chosen = ranks.to_numpy() <= first
    calibrator = IsotonicRegression(out_of_bounds="clip").fit(out_of_fold[chosen], labels[chosen])
    classifier.fit(features, labels)
    return calibrator.predict(classifier.decision_function(design_matrix(test, ("strength", "noise"))))


def test_one_classifier_on_all_offers_calibrated_on_its_out_of_fold_predictions_by_customer():
    training, test = _simulated(4_000, seed=7).drop("truth"), _simulated(300, seed=8)
    # Four offers per customer: every one is among the first ten a customer is sent.
    model = fit_acceptance(training, SETTINGS)
    assert predict_acceptance(model, test).to_numpy() == pytest.approx(_by_hand(training, test, None), abs=1e-9)


def test_the_calibration_is_fitted_on_the_offers_a_customer_would_be_sent():
    training, test = _simulated(4_000, seed=7).drop("truth"), _simulated(300, seed=8)
    model = fit_acceptance(training, SETTINGS.model_copy(update={"calibration_offers": 2}))
    expected = _by_hand(training, test, first=2)
    assert predict_acceptance(model, test).to_numpy() == pytest.approx(expected, abs=1e-9)
    assert not np.allclose(expected, _by_hand(training, test, None))  # the choice of offers matters here


def test_too_few_bought_offers_among_those_sent_calibrate_on_every_offer():
    training, test = _simulated(4_000, seed=7).drop("truth"), _simulated(300, seed=8)
    first_offers = _by_hand(training, test, first=1)
    # 1,000 customers' first offers hold fewer than 600 bought ones (or not bought): every offer calibrates.
    model = fit_acceptance(training, SETTINGS.model_copy(update={"calibration_offers": 1, "min_positives": 600}))
    assert predict_acceptance(model, test).to_numpy() == pytest.approx(_by_hand(training, test, None), abs=1e-9)
    assert not np.allclose(first_offers, _by_hand(training, test, None))


def test_an_infinite_feature_is_refused_as_scikit_learn_refuses_it(simulated_model):
    """scikit-learn's own checks are off during the prediction; the matrix is checked once before it."""
    offers = _simulated(10, seed=9).with_columns(pl.Series("noise", [np.inf] + [0.0] * 9))
    with pytest.raises(ValueError, match="Input contains infinity"):
        predict_acceptance(simulated_model, offers)


def test_enum_and_string_labels_give_the_same_design_matrix(simulated_model):
    offers = _simulated(10, seed=10)
    labels = {"type": OPPORTUNITY_TYPES, "source": OPPORTUNITY_SOURCES}
    enums = offers.with_columns(pl.col(name).cast(pl.Enum(values)) for name, values in labels.items())
    matrix = design_matrix(offers, simulated_model.features)
    assert matrix[:, -len(OPPORTUNITY_SOURCES) - len(OPPORTUNITY_TYPES) :].sum(axis=0).tolist() == [
        0.0,
        10.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        10.0,
        0.0,
    ]
    assert np.array_equal(design_matrix(enums, simulated_model.features), matrix)


def _with_new_products(training: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """`training`'s offers as repeat ones (score 0) followed by `new`'s new-product offers (strength 0.5)."""
    repeats = training.with_columns(new_product=pl.lit(False), score=pl.lit(0.0))
    return pl.concat(
        [
            repeats,
            new.with_columns(
                customer_id=pl.format("N{}", pl.int_range(pl.len())),
                type=pl.lit("cross_sell"),
                source=pl.lit("catalog"),
                strength=pl.lit(0.5),
                noise=pl.lit(0.0),
                new_product=pl.lit(True),
            ).select(repeats.columns),
        ]
    )


# Forty new-product offers, ten at each score. Bought at 1, 3, 2 and 6 of ten: the isotonic fit pools the two
# middle scores (3 + 2 of 20), so the probabilities are 0.1, 0.25, 0.25 and 0.6.
NEW_OFFERS = pl.DataFrame(
    {
        "score": [score for score in (1.0, 2.0, 3.0, 4.0) for _ in range(10)],
        "bought": [index < bought for bought in (1, 3, 2, 6) for index in range(10)],
    }
)


def test_new_products_get_their_score_calibrated_and_keep_its_order():
    training = _with_new_products(_simulated(4_000, seed=11).drop("truth"), NEW_OFFERS)
    model = fit_acceptance(training, AcceptanceSettings(min_positives=5))
    assert model.new_products is not None and model.new_products.fallback_reason is None
    assert (model.new_products.training_offers, model.new_products.positives) == (40, 12)
    offers = _with_new_products(
        _simulated(2, seed=12).drop("truth", "bought"), pl.DataFrame({"score": [4.0, 0.5, 2.5, 3.0, 9.0]})
    )
    probabilities = predict_acceptance(model, offers).to_list()
    assert probabilities[2:] == pytest.approx([0.6, 0.1, 0.25, 0.25, 0.6])
    # The repeat offers are the classifier's.
    classified = model.estimator.predict_proba(design_matrix(offers.head(2), model.features))[:, 1]
    assert probabilities[:2] == pytest.approx(classified.tolist(), abs=1e-12)


def test_too_few_bought_new_products_leave_them_to_the_classifier():
    training = _with_new_products(_simulated(4_000, seed=13).drop("truth"), NEW_OFFERS)
    model = fit_acceptance(training, SETTINGS)
    assert model.new_products is not None
    assert model.new_products.fallback_reason == (
        "new products: 12 of 40 replayed offers bought; calibrating the score needs 30 bought and 30 not bought"
    )
    offers = _with_new_products(_simulated(2, seed=14).drop("truth", "bought"), pl.DataFrame({"score": [1.0, 4.0]}))
    probabilities = predict_acceptance(model, offers)
    # The classifier sees the same features for both new products: one probability, whatever their scores.
    assert probabilities[2] == probabilities[3]


def test_offers_without_the_new_product_flag_are_a_one_line_error():
    training = _with_new_products(_simulated(4_000, seed=15).drop("truth"), NEW_OFFERS)
    model = fit_acceptance(training, AcceptanceSettings(min_positives=5))
    with pytest.raises(
        ConfigurationError, match="^the offers have no new_product, score column for the acceptance model$"
    ):
        predict_acceptance(model, _simulated(10, seed=16))


# Twenty new-product offers EASE scores (all of weighted score 4.0): bought 1 of 10 at EASE 0.1, 5 of 10 at 0.2.
EASE_OFFERS = pl.DataFrame(
    {
        "score": [4.0] * 20,
        "bought": [index < bought for bought in (1, 5) for index in range(10)],
        "ease_score": [ease for ease in (0.1, 0.2) for _ in range(10)],
    }
)


def _with_ease(training: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """`_with_new_products` of `new` with its `ease_score` (null for the repeat offers)."""
    frame = _with_new_products(training, new.drop("ease_score"))
    return frame.with_columns(
        ease_score=pl.concat([pl.Series([None] * (frame.height - new.height), dtype=pl.Float64), new["ease_score"]])
    )


def test_new_products_ease_scores_are_calibrated_apart_from_the_weighted_score():
    new = pl.concat([NEW_OFFERS.with_columns(ease_score=pl.lit(None, dtype=pl.Float64)), EASE_OFFERS])
    model = fit_acceptance(
        _with_ease(_simulated(4_000, seed=17).drop("truth"), new), AcceptanceSettings(min_positives=5)
    )
    assert model.new_products.ease_calibrator is not None
    asked = pl.DataFrame({"score": [4.0, 4.0, 1.0, 4.0], "ease_score": [0.2, 0.1, None, None]})
    offers = _with_ease(_simulated(2, seed=18).drop("truth", "bought"), asked)
    # EASE's offers: 0.5 and 0.1 whatever their equal scores; the others by the score's own fit (NEW_OFFERS: 0.1
    # at 1.0, 0.6 at 4.0), which EASE's twenty offers at 4.0 do not enter.
    assert predict_acceptance(model, offers).to_list()[2:] == pytest.approx([0.5, 0.1, 0.1, 0.6])


def test_too_few_bought_ease_offers_leave_every_new_product_to_the_score():
    new = pl.concat([NEW_OFFERS.with_columns(ease_score=pl.lit(None, dtype=pl.Float64)), EASE_OFFERS])
    # Six of EASE's offers were bought, fewer than 7.
    model = fit_acceptance(
        _with_ease(_simulated(4_000, seed=19).drop("truth"), new), AcceptanceSettings(min_positives=7)
    )
    assert model.new_products.ease_calibrator is None
    asked = pl.DataFrame({"score": [4.0, 2.0], "ease_score": [0.2, None]})
    offers = _with_ease(_simulated(2, seed=20).drop("truth", "bought"), asked)
    # One fit over all sixty: at 4.0, 6 + 6 of 30 bought; at 2.0 and 3.0 pooled, 5 of 20.
    assert predict_acceptance(model, offers).to_list()[2:] == pytest.approx([0.4, 0.25])
