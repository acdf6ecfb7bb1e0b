"""Deterministic segment names from the segments' standardised centres (docs/customer-models.md, "Segment names").

A centre's coordinate is how many standard deviations the segment's centre sits from the population's mean on
that feature (after log1p for counts and money), so "high" and "low" are relative to this retailer's own
customers, never to a fixed amount. A name is a status (from predicted CLV and churn) and a behaviour (the
segment's most distinctive habit): "High-value regulars", "Lapsing bargain hunters", "Mid-value customers".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

SEGMENT_FEATURES: tuple[str, ...] = (
    "purchases",
    "spend",
    "mean_unit_price",
    "categories",
    "mean_gap_days",
    "predicted_clv",
    "churn_probability",
)
"""The features segments are clustered on, in the order of a centre's coordinates."""

_INDEX = {name: position for position, name in enumerate(SEGMENT_FEATURES)}

BEHAVIOURS: tuple[tuple[str, str, str], ...] = (
    ("frequency", "regulars", "occasional buyers"),
    ("mean_unit_price", "premium buyers", "bargain hunters"),
    ("categories", "explorers", "specialists"),
)
"""(trait, noun when the trait is high, noun when it is low), in the order that breaks ties. The frequency trait
is the mean of the purchases coordinate and the negated gap coordinate: both say how often a customer buys. Spend
is not one: it moves with predicted CLV, which the status already names."""


def status(centre: Sequence[float], threshold: float) -> str:
    """The first words of a name, from predicted CLV and churn: a customer base's first questions are whether a
    segment is worth much and whether it is leaving."""
    clv, churn = centre[_INDEX["predicted_clv"]], centre[_INDEX["churn_probability"]]
    if churn >= threshold:
        return "At-risk high-value" if clv >= threshold else "Lapsing"
    if clv >= threshold:
        return "High-value"
    return "Low-value" if clv <= -threshold else "Mid-value"


def behaviours(centre: Sequence[float]) -> list[tuple[float, str]]:
    """(strength, noun) of every behaviour trait, the strongest first (ties in BEHAVIOURS' order); a trait at
    exactly the mean names nothing."""
    traits = {
        "frequency": (centre[_INDEX["purchases"]] - centre[_INDEX["mean_gap_days"]]) / 2.0,
        "mean_unit_price": centre[_INDEX["mean_unit_price"]],
        "categories": centre[_INDEX["categories"]],
    }
    found = [(abs(traits[trait]), high if traits[trait] > 0 else low) for trait, high, low in BEHAVIOURS]
    ranked = sorted(enumerate(found), key=lambda item: (-item[1][0], item[0]))
    return [trait for _, trait in ranked if trait[0] > 0]


def candidate_names(centre: Sequence[float], threshold: float, position: int) -> list[str]:
    """The names a segment may take, best first: the status with each behaviour at least `threshold` away from
    the mean (strongest first), the status with "customers", the status with the weaker behaviours, and last the
    status, "customers" and the segment's position (1 for the first segment)."""
    first = status(centre, threshold)
    traits = behaviours(centre)
    strong = [f"{first} {noun}" for strength, noun in traits if strength >= threshold]
    weak = [f"{first} {noun}" for strength, noun in traits if strength < threshold]
    return [*strong, f"{first} customers", *weak, f"{first} customers {position}"]


def rule_names(centres: np.ndarray, threshold: float, taken: Iterable[str] = ()) -> list[str]:
    """One name per centre (rows in segment order), unique within the run: each segment, in order, takes its
    first candidate that no earlier segment and no name in `taken` (the retailer's own segments) has, compared
    without case; the positional last candidate is numbered on until it is free."""
    used = {name.casefold() for name in taken}
    names = []
    for position, centre in enumerate(centres, start=1):
        candidates = candidate_names(centre, threshold, position)
        name = next((candidate for candidate in candidates if candidate.casefold() not in used), None)
        number = position
        while name is None:
            number += len(centres)
            candidate = f"{status(centre, threshold)} customers {number}"
            name = None if candidate.casefold() in used else candidate
        used.add(name.casefold())
        names.append(name)
    return names
