"""The customer segments in the snapshot: the same as `assign_segments` on the same inputs, a documented value
for customers without a purchase, the shipped samples not segmented (too few), and only runs with the
snapshot's segment settings served."""

from __future__ import annotations

import polars as pl
import pytest
from support import AS_OF
from test_customer_models import CONFIG, LOG_AS_OF, pattern_dataset  # noqa: F401 (the fixture)

from cross_sell_upsell.configuration import OrchestratorConfig, SegmentSettings
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.models.segment_features import segment_features
from cross_sell_upsell.models.segments import assign_segments
from cross_sell_upsell.snapshot.build import build_snapshot, check_snapshot
from cross_sell_upsell.snapshot.segments import NO_PURCHASE_SEGMENT, SEGMENT_COLUMNS


@pytest.fixture(scope="module")
def snapshot(pattern_dataset):  # noqa: F811
    return build_snapshot(pattern_dataset, LOG_AS_OF, CONFIG)


def test_the_snapshot_segments_are_assign_segments_on_the_same_inputs(pattern_dataset, snapshot):  # noqa: F811
    scores = snapshot.customers.select("customer_id", "predicted_clv", "churn_probability")
    features = segment_features(pattern_dataset.ownership, pattern_dataset.products, scores, LOG_AS_OF)
    assignments, segments = assign_segments(features, CONFIG.segments, pattern_dataset.customers)
    assert snapshot.segments.names == segments.names and snapshot.segments.sizes == segments.sizes
    assert snapshot.segments.k == segments.k == 5 and snapshot.segments.reason is None
    for built, direct in zip(snapshot.segments.segments, segments.segments, strict=True):
        assert built.centre == pytest.approx(direct.centre)
        assert built.figures == pytest.approx(direct.figures)
    bought = snapshot.customers.join(assignments.select("customer_id"), on="customer_id", how="semi")
    assert bought.select("customer_id", *SEGMENT_COLUMNS).sort("customer_id").equals(assignments)


def test_customers_without_a_purchase_get_the_no_purchase_segment(snapshot):
    newcomers = snapshot.customers.filter(~pl.col("customer_id").str.contains("-\\d")).sort("customer_id")
    assert newcomers.select("customer_id", *SEGMENT_COLUMNS).rows() == [
        ("known-new", NO_PURCHASE_SEGMENT, "none"),
        ("newcomer", NO_PURCHASE_SEGMENT, "none"),
    ]
    # Every customer with a purchase is in a K-means segment: the five sum to the 660 buyers.
    assert sum(snapshot.segments.sizes) == 660 == snapshot.customers.height - 2
    assert snapshot.customers.get_column("segment").null_count() == 0


def test_the_shipped_sample_is_not_segmented_and_says_why(tier1):
    snapshot = build_snapshot(tier1, AS_OF, OrchestratorConfig())
    assert snapshot.segments.segments == () and snapshot.segments.k is None
    assert snapshot.segments.reason == (
        "too few customers to segment: 10 with a purchase, segmenting needs at least 100 (segments.min_customers)"
    )
    assert snapshot.customers.get_column("segment_source").unique().to_list() == ["none"]
    assert snapshot.customers.get_column("segment").null_count() == 10


def test_a_snapshot_serves_only_runs_with_its_segment_settings(snapshot):
    other = OrchestratorConfig(segments=SegmentSettings(k=3))
    with pytest.raises(ConfigurationError, match="built with other segments than the run's"):
        check_snapshot(snapshot, LOG_AS_OF, other)
    check_snapshot(snapshot, LOG_AS_OF, CONFIG)
