"""Customer segments: K-means over each customer's purchase behaviour and the customer models' predictions,
fitted on a deterministic sample and assigned to everyone, ordered and named deterministically.
docs/customer-models.md ("Segments") states every choice and what it costs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import polars as pl

from cross_sell_upsell.configuration import SegmentSettings
from cross_sell_upsell.models.segment_features import Scaling, feature_means, sample_order, transformed
from cross_sell_upsell.models.segment_naming import rule_names

ASSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "segment": pl.String(),
    "segment_source": pl.String(),
}
"""One row per customer: the segment's name (null when not segmented) and where it came from: "model"
(K-means), "given" (the retailer's own) or "none"."""


@dataclass(frozen=True)
class Segment:
    """One segment of a run."""

    name: str
    """Its name: from the rules, the chat model or the retailer (`naming`)."""
    source: Literal["model", "given"]
    """K-means ("model") or the retailer's own ("given")."""
    customers: int
    """Customers in it."""
    figures: dict[str, float | None]
    """Its customers' mean of each feature (SEGMENT_FEATURES) in the feature's own units: its centroid as a
    retailer reads it. None where none of them has the feature."""
    centre: tuple[float, ...] = ()
    """K-means' centre in standardised units (how many standard deviations from the population's mean on each
    feature), which the names are made from; empty for a given segment."""
    naming: Literal["rules", "llm", "given"] = "rules"
    """Where the name came from."""
    naming_error: str | None = None
    """Why the chat model's name was not used ("reason: detail"); None when it was or was not asked."""


@dataclass(frozen=True)
class Segments:
    """A run's segments, in order: the K-means segments by their customers' mean predicted CLV, highest first,
    then the retailer's own by the same order (ties by name)."""

    segments: tuple[Segment, ...]
    """The segments."""
    population: dict[str, float | None]
    """The mean of each feature over every customer clustered (or that would have been): what a segment's
    figures compare with."""
    settings: SegmentSettings
    """The settings of the run."""
    k: int | None = None
    """Number of K-means segments; None when the customers were not clustered."""
    silhouettes: dict[int, float] = field(default_factory=dict)
    """Silhouette of each k tried when k is 'auto'."""
    reason: str | None = None
    """Why the customers were not clustered; None when they were."""

    @property
    def names(self) -> tuple[str, ...]:
        """The segments' names, in order."""
        return tuple(segment.name for segment in self.segments)

    @property
    def sizes(self) -> tuple[int, ...]:
        """The segments' customers, in order."""
        return tuple(segment.customers for segment in self.segments)

    @property
    def centroids(self) -> tuple[dict[str, float | None], ...]:
        """The segments' figures (mean features in their own units), in order."""
        return tuple(segment.figures for segment in self.segments)

    def renamed(self, names: Mapping[str, tuple[str, str, str | None]]) -> Segments:
        """A copy with segments renamed: old name -> (new name, naming, naming_error)."""
        segments = []
        for segment in self.segments:
            if segment.name in names:
                name, naming, error = names[segment.name]
                segment = replace(segment, name=name, naming=naming, naming_error=error)
            segments.append(segment)
        return replace(self, segments=tuple(segments))

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values for the summary: `segments`, a list of objects (name, source, customers, each
        figure, naming, naming_error) in order, with k, the silhouettes and the reason."""
        return {
            "k": self.k,
            "reason": self.reason,
            "silhouettes": {str(k): score for k, score in self.silhouettes.items()},
            "population": _finite(self.population),
            "segments": [
                {
                    "name": segment.name,
                    "source": segment.source,
                    "customers": segment.customers,
                    **_finite(segment.figures),
                    "naming": segment.naming,
                    "naming_error": segment.naming_error,
                }
                for segment in self.segments
            ],
        }


def _finite(values: Mapping[str, float | None]) -> dict[str, float | None]:
    return {key: value if value is not None and math.isfinite(value) else None for key, value in values.items()}


@dataclass(frozen=True)
class _Clusters:
    """K-means' result over the clustered customers, its segments in order."""

    labels: np.ndarray
    """Each clustered customer's segment, 0 the first."""
    centres: np.ndarray
    """The standardised centres, one row per segment."""
    figures: list[dict[str, float | None]]
    """Each segment's mean features in their own units."""
    sizes: np.ndarray
    """Customers of each segment."""
    silhouettes: dict[int, float]
    """Silhouette of each k tried (k 'auto')."""


def assign_segments(
    features: pl.DataFrame, settings: SegmentSettings, given: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, Segments]:
    """ASSIGNMENT_SCHEMA rows, sorted by id, for every customer of `features` (`segment_features`) and every
    customer `given` (customer_id, segment: the customers frame) a segment that is kept; and the `Segments`.

    With `settings.keep_given`, a customer with a non-blank given segment keeps it ("given") and is not
    clustered. The others are clustered when there are at least `min_customers` of them and they differ in some
    feature: standardised (`Scaling`) on a sample of at most `fit_sample_size` chosen by `sample_order`, K-means
    (lloyd, `seed`, `n_init`) fitted on the sample, every customer assigned to the nearest centre ("model").
    Otherwise they get no segment ("none") and `Segments.reason` says why; this never raises on data."""
    features = features.with_columns(pl.col("customer_id").cast(pl.String))  # a log's ids may be numbers
    kept = _kept_given(given, settings)
    clustered = features.join(kept, on="customer_id", how="anti", maintain_order="left") if kept.height else features
    population = feature_means(clustered, np.zeros(clustered.height, dtype=np.int64), 1)[0]
    given_names = sorted(set(kept.get_column("segment")))
    clusters, reason = None, _too_few(clustered.height, kept.height, settings)
    if reason is None:
        clusters, reason = _cluster(clustered, settings)
    segments: list[Segment] = []
    names: list[str] = []
    if clusters is not None:
        names = rule_names(clusters.centres, settings.name_threshold, given_names)
        segments = [
            Segment(name, "model", int(size), figures, tuple(map(float, centre)))
            for name, size, figures, centre in zip(
                names, clusters.sizes, clusters.figures, clusters.centres, strict=True
            )
        ]
    modelled = clustered.select(
        pl.col("customer_id").cast(pl.String),
        segment=pl.Series(names, dtype=pl.String).gather(clusters.labels)
        if clusters is not None
        else pl.lit(None, dtype=pl.String),
        segment_source=pl.lit("model" if clusters is not None else "none"),
    )
    assignments = pl.concat([modelled, kept.select(*ASSIGNMENT_SCHEMA)], how="vertical").sort("customer_id")
    result = Segments(
        segments=(*segments, *_given_segments(kept, features, given_names)),
        population=population,
        settings=settings,
        k=None if clusters is None else len(clusters.sizes),
        silhouettes={} if clusters is None else clusters.silhouettes,
        reason=reason,
    )
    return assignments, result


def with_names(assignments: pl.DataFrame, before: Segments, after: Segments) -> pl.DataFrame:
    """`assignments` with each segment of `before` called by its name in `after` (the same segments renamed,
    e.g. by the chat model)."""
    mapping = dict(zip(before.names, after.names, strict=True))
    return assignments.with_columns(segment=pl.col("segment").replace(mapping))


def _kept_given(given: pl.DataFrame | None, settings: SegmentSettings) -> pl.DataFrame:
    """customer_id, segment, segment_source "given" of the customers whose given segment is kept."""
    if given is None or not settings.keep_given or "segment" not in given.columns:
        return pl.DataFrame(schema=ASSIGNMENT_SCHEMA)
    return (
        given.select(pl.col("customer_id").cast(pl.String), segment=pl.col("segment").str.strip_chars())
        .filter(pl.col("segment").is_not_null() & (pl.col("segment") != ""))
        .with_columns(segment_source=pl.lit("given"))
    )


def _too_few(customers: int, given: int, settings: SegmentSettings) -> str | None:
    if customers >= settings.min_customers:
        return None
    who = "with a purchase" + (" and no segment of their own" if given else "")
    return (
        f"too few customers to segment: {customers:,} {who}, segmenting needs at least "
        f"{settings.min_customers:,} (segments.min_customers)"
    )


def _cluster(features: pl.DataFrame, settings: SegmentSettings) -> tuple[_Clusters | None, str | None]:
    """K-means over `features` (see `assign_segments`), or None and why not."""
    from threadpoolctl import threadpool_limits  # with scikit-learn: loaded only when there is work for them

    matrix = transformed(features)
    sample = matrix[sample_order(features.get_column("customer_id"), settings.fit_sample_size)]
    scaling = Scaling.fit(sample)
    standard = scaling.apply(sample)
    distinct = pl.DataFrame(standard).n_unique()
    if distinct < 2:
        return None, "the customers do not differ in any feature: there is nothing to segment"
    with threadpool_limits(limits=settings.threads):
        model, silhouettes = _fitted(standard, settings, distinct)
        labels = model.predict(scaling.apply(matrix))
    return _ordered(labels, model.cluster_centers_, features, silhouettes), None


def _fitted(standard: np.ndarray, settings: SegmentSettings, distinct: int) -> tuple[Any, dict[int, float]]:
    """The fitted KMeans and, for k 'auto', the silhouette of each k tried on the first
    `silhouette_sample_size` customers of the sample; the best k (ties: the smaller) is kept. k is never more
    than the distinct profiles in the sample."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    def fit(k: int) -> KMeans:
        return KMeans(
            n_clusters=k, init="k-means++", n_init=settings.n_init, random_state=settings.seed, algorithm="lloyd"
        ).fit(standard)

    if settings.k != "auto":
        return fit(min(settings.k, distinct)), {}
    probe = standard[: settings.silhouette_sample_size]
    models, silhouettes = {}, {}
    for k in range(2, min(settings.max_auto_k, distinct) + 1):
        models[k] = fit(k)
        labels = models[k].predict(probe)
        if 2 <= len(np.unique(labels)) < len(probe):
            silhouettes[k] = float(silhouette_score(probe, labels))
    best = max(silhouettes, key=lambda k: (silhouettes[k], -k)) if silhouettes else 2
    return models[best], silhouettes


def _ordered(
    labels: np.ndarray, centres: np.ndarray, features: pl.DataFrame, silhouettes: dict[int, float]
) -> _Clusters:
    """The clusters renumbered in segment order: by their customers' mean predicted CLV, highest first (a
    segment without any last), ties by the centre's coordinates, so that the order depends on the data only."""
    k = len(centres)
    figures = feature_means(features, labels, k)

    def key(cluster: int) -> tuple[bool, float, tuple[float, ...]]:
        clv = figures[cluster]["predicted_clv"]
        return clv is None, -(clv or 0.0), tuple(centres[cluster])

    order = sorted(range(k), key=key)
    position = np.empty(k, dtype=np.int64)
    position[order] = np.arange(k)
    labels = position[labels]
    return _Clusters(
        labels=labels,
        centres=centres[order],
        figures=[figures[cluster] for cluster in order],
        sizes=np.bincount(labels, minlength=k),
        silhouettes=silhouettes,
    )


def _given_segments(kept: pl.DataFrame, features: pl.DataFrame, names: list[str]) -> list[Segment]:
    """The retailer's segments, by their customers' mean predicted CLV (highest first, none last), then name."""
    if not names:
        return []
    members = kept.join(features, on="customer_id", how="left", maintain_order="left")
    labels = members.get_column("segment").replace_strict(names, list(range(len(names)))).to_numpy()
    figures = feature_means(members, labels.astype(np.int64), len(names))
    sizes = np.bincount(labels, minlength=len(names))
    segments = [
        Segment(name, "given", int(size), figure, naming="given")
        for name, size, figure in zip(names, sizes, figures, strict=True)
    ]
    return sorted(
        segments,
        key=lambda s: (s.figures["predicted_clv"] is None, -(s.figures["predicted_clv"] or 0.0), s.name),
    )
