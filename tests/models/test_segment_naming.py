"""The rule names: each status and behaviour from a hand-set centre, and uniqueness however alike the segments."""

from __future__ import annotations

import numpy as np
import pytest

from cross_sell_upsell.models.segment_naming import SEGMENT_FEATURES, candidate_names, rule_names


def centre(**coordinates: float) -> list[float]:
    """A standardised centre: 0 (the population's mean) on every feature not named."""
    return [coordinates.get(name, 0.0) for name in SEGMENT_FEATURES]


@pytest.mark.parametrize(
    ("coordinates", "name"),
    [
        ({"predicted_clv": 1.0, "purchases": 1.2, "mean_gap_days": -1.0}, "High-value regulars"),
        ({"churn_probability": 0.9, "mean_unit_price": -0.8}, "Lapsing bargain hunters"),
        ({"churn_probability": 0.5, "predicted_clv": 0.5}, "At-risk high-value customers"),
        ({"predicted_clv": -0.7, "categories": 0.6}, "Low-value explorers"),
        ({"mean_unit_price": 0.6, "categories": -0.9}, "Mid-value specialists"),
        ({"purchases": -0.6, "mean_gap_days": 0.6, "mean_unit_price": 0.5}, "Mid-value occasional buyers"),
        ({"predicted_clv": 0.49, "churn_probability": 0.49, "categories": 0.49}, "Mid-value customers"),
    ],
)
def test_names_from_the_status_and_the_strongest_habit(coordinates, name):
    assert rule_names(np.array([centre(**coordinates)]), 0.5) == [name]


def test_a_tie_between_habits_goes_to_the_first_in_order():
    # frequency (0.6 + 0.6) / 2 = 0.6 against a unit price of 0.6: frequency comes first
    tied = centre(purchases=0.6, mean_gap_days=-0.6, mean_unit_price=0.6)
    assert candidate_names(tied, 0.5, 1) == [
        "Mid-value regulars",
        "Mid-value premium buyers",
        "Mid-value customers",
        "Mid-value customers 1",
    ]


def test_alike_segments_still_get_unique_names():
    alike = np.array([centre(predicted_clv=1.0, purchases=1.0, categories=0.2)] * 4)
    assert rule_names(alike, 0.5) == [
        "High-value regulars",
        "High-value customers",
        "High-value explorers",  # the weaker habit
        "High-value customers 4",
    ]


def test_names_taken_by_the_retailer_are_skipped_without_case():
    names = rule_names(np.array([centre(predicted_clv=1.0, purchases=1.0)]), 0.5, taken=["high-value REGULARS"])
    assert names == ["High-value customers"]


def test_the_numbered_name_moves_on_until_it_is_free():
    centres = np.array([centre()] * 2)
    taken = ["Mid-value customers", "Mid-value customers 1", "Mid-value customers 2"]
    assert rule_names(centres, 0.5, taken) == ["Mid-value customers 3", "Mid-value customers 4"]
