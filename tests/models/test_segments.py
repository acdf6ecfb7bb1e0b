"""Segments from hand-built feature tables: the exact assignment and names, determinism (repeated runs, input
order, one or two threads), the paths that give no segments, the retailer's own segments, and 'auto'."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError
from segment_data import GROUPS, drawn_clusters, feature_table, grouped
from support import AS_OF, TIER1
from threadpoolctl import threadpool_limits

from cross_sell_upsell.configuration import OrchestratorConfig, SegmentSettings
from cross_sell_upsell.data.dataset import load_dataset
from cross_sell_upsell.models.segment_features import segment_features
from cross_sell_upsell.models.segment_naming import SEGMENT_FEATURES
from cross_sell_upsell.models.segments import ASSIGNMENT_SCHEMA, assign_segments, with_names

SMALL = SegmentSettings(k=3, min_customers=2)


def test_obvious_groups_get_their_segment_and_name():
    assignments, segments = assign_segments(grouped(), SMALL)
    assert assignments.schema == pl.Schema(ASSIGNMENT_SCHEMA)
    names = dict(assignments.select("customer_id", "segment").iter_rows())
    assert {customer: names[customer] for customer in ("A1", "A4", "B2", "C3")} == {
        "A1": "High-value regulars",
        "A4": "High-value regulars",
        "B2": "Lapsing bargain hunters",
        "C3": "Mid-value premium buyers",
    }
    assert set(assignments["segment_source"]) == {"model"}
    # ordered by mean predicted CLV: A 3,000, C 350, B 40
    assert segments.names == ("High-value regulars", "Mid-value premium buyers", "Lapsing bargain hunters")
    assert segments.sizes == (4, 4, 4)
    assert (segments.k, segments.reason) == (3, None)
    assert segments.centroids[2] == dict(zip(SEGMENT_FEATURES, GROUPS["B"], strict=True))
    assert segments.population["predicted_clv"] == pytest.approx((3000 + 40 + 350) / 3)


def test_centres_are_standardised_log_features_worked_by_hand():
    _, segments = assign_segments(grouped(), SMALL)
    high, middle, lapsing = (segment.centre for segment in segments.segments)
    # purchases: log1p 20, 3, 6 = 3.044522, 1.386294, 1.945910; mean 2.125576, sd (population) 0.688787
    assert high[0] == pytest.approx((math.log(21) - 2.125576) / 0.688787, abs=1e-5)
    # predicted CLV: log1p 3000, 40, 350: A +1.2246 (high), C +0.0002 (middle), B -1.2248
    assert (high[5], middle[5], lapsing[5]) == pytest.approx((1.2246, 0.0002, -1.2248), abs=1e-3)
    # churn 0.05, 0.9, 0.3 (not logged): mean 0.4167, sd 0.3567, so B +1.355: lapsing
    assert lapsing[6] == pytest.approx((0.9 - 1.25 / 3) / math.sqrt(0.127222), abs=1e-4)
    # unit price log1p 25, 5, 80: C +1.170 is the strongest habit of the middle group: premium buyers
    assert middle[2] == pytest.approx(1.170, abs=1e-3)
    # categories are 3 for everyone: no spread, standardised to 0 (not NaN)
    assert (high[3], middle[3], lapsing[3]) == (0.0, 0.0, 0.0)


def test_two_runs_and_any_row_order_give_the_same_segments():
    features = drawn_clusters([GROUPS["A"], GROUPS["B"], GROUPS["C"]], per_cluster=400, spread=0.6, seed=3)
    first, first_segments = assign_segments(features, SegmentSettings())
    again, again_segments = assign_segments(features, SegmentSettings())
    shuffled, shuffled_segments = assign_segments(
        features.sample(fraction=1.0, shuffle=True, seed=9), SegmentSettings()
    )
    assert first.equals(again) and first.equals(shuffled)
    assert first_segments == again_segments
    assert shuffled_segments.names == first_segments.names and shuffled_segments.sizes == first_segments.sizes
    assert first_segments.k == 5 and sum(first_segments.sizes) == 1200


@pytest.mark.parametrize("threads", [1, 2])
def test_the_labels_do_not_depend_on_the_threads(threads):
    features = drawn_clusters([GROUPS["A"], GROUPS["B"], GROUPS["C"]], per_cluster=600, spread=0.7, seed=4)
    with threadpool_limits(limits=1):
        reference, reference_segments = assign_segments(features, SegmentSettings(threads=1))
    with threadpool_limits(limits=threads):
        assignments, segments = assign_segments(features, SegmentSettings(threads=threads))
    assert assignments.equals(reference)
    assert segments.sizes == reference_segments.sizes
    for segment, expected in zip(segments.segments, reference_segments.segments, strict=True):
        assert segment.centre == pytest.approx(expected.centre, abs=1e-9)


def test_too_few_customers_get_no_segment_and_a_reason():
    features = grouped(per_group=3).head(8)  # ten customers or fewer, like the tier1 sample
    assignments, segments = assign_segments(features, SegmentSettings())
    assert assignments["segment"].null_count() == 8
    assert set(assignments["segment_source"]) == {"none"}
    assert segments.reason == (
        "too few customers to segment: 8 with a purchase, segmenting needs at least 100 (segments.min_customers)"
    )
    assert (segments.segments, segments.k) == ((), None)
    assert segments.as_dict()["segments"] == []


def test_no_customers_at_all():
    assignments, segments = assign_segments(feature_table([]), SegmentSettings())
    assert assignments.is_empty() and assignments.schema == pl.Schema(ASSIGNMENT_SCHEMA)
    assert segments.population == dict.fromkeys(SEGMENT_FEATURES)
    assert segments.reason.startswith("too few customers to segment: 0 with a purchase")


def test_identical_customers_are_not_segmented_and_nothing_is_nan():
    features = feature_table([(f"K{n:03d}", *GROUPS["C"]) for n in range(150)])
    assignments, segments = assign_segments(features, SegmentSettings())
    assert segments.reason == "the customers do not differ in any feature: there is nothing to segment"
    assert set(assignments["segment_source"]) == {"none"}
    assert segments.population == pytest.approx(dict(zip(SEGMENT_FEATURES, GROUPS["C"], strict=True)))
    json.dumps(segments.as_dict(), allow_nan=False)


def test_fewer_distinct_profiles_than_k_make_fewer_segments():
    _, segments = assign_segments(grouped(), SegmentSettings(k=5, min_customers=2))
    assert segments.k == 3 and segments.sizes == (4, 4, 4)


def test_missing_scores_count_as_average_and_report_as_none():
    features = grouped().with_columns(
        predicted_clv=pl.when(pl.col("customer_id") == "C1").then(None).otherwise(pl.col("predicted_clv"))
    )
    assignments, segments = assign_segments(features, SMALL)
    # C1's CLV is missing: standardised to the mean, which is C's own log CLV within 0.0002, so C1 stays with C
    assert assignments.filter(pl.col("customer_id") == "C1")["segment"].item() == "Mid-value premium buyers"
    assert segments.centroids[1]["predicted_clv"] == 350.0  # over the three Cs that have one
    json.dumps(segments.as_dict(), allow_nan=False)


GIVEN = pl.DataFrame(
    {"customer_id": ["A1", "A2", "Z9", "B1"], "segment": ["High-value regulars", "High-value regulars", "Staff", " "]}
)
"""A1 and A2 carry the retailer's "High-value regulars"; Z9 bought nothing yet; B1's blank segment is none."""


def test_given_segments_are_kept_and_their_names_are_not_reused():
    settings = SegmentSettings(k=3, min_customers=2)
    assignments, segments = assign_segments(grouped(), settings, GIVEN)
    rows = dict(assignments.select("customer_id", pl.struct("segment", "segment_source")).iter_rows())
    assert rows["A1"] == {"segment": "High-value regulars", "segment_source": "given"}
    assert rows["Z9"] == {"segment": "Staff", "segment_source": "given"}
    assert rows["B1"]["segment_source"] == "model"
    assert assignments.height == 13  # 12 with purchases and Z9
    # A3 and A4 are clustered without A1 and A2; the rule name is taken by the retailer's, so the next one
    assert [(segment.name, segment.source, segment.customers) for segment in segments.segments] == [
        ("High-value customers", "model", 2),
        ("Mid-value premium buyers", "model", 4),
        ("Lapsing bargain hunters", "model", 4),
        ("High-value regulars", "given", 2),
        ("Staff", "given", 1),
    ]
    assert rows["A3"] == {"segment": "High-value customers", "segment_source": "model"}
    given = {segment.name: segment for segment in segments.segments if segment.source == "given"}
    assert (given["High-value regulars"].customers, given["Staff"].customers) == (2, 1)
    assert given["High-value regulars"].figures["predicted_clv"] == 3000.0
    assert given["Staff"].figures == dict.fromkeys(SEGMENT_FEATURES)  # no purchase, no figures
    assert [segment.naming for segment in segments.segments if segment.source == "given"] == ["given", "given"]
    assert len({name.casefold() for name in segments.names}) == len(segments.names)


def test_numeric_ids_meet_the_given_text_ids():
    features = grouped().with_columns(customer_id=pl.int_range(1, 13).cast(pl.Int64))
    given = pl.DataFrame({"customer_id": ["1", "99"], "segment": ["VIP", "Staff"]})
    assignments, _ = assign_segments(features, SMALL, given)
    assert assignments.filter(pl.col("customer_id").is_in(["1", "99"])).rows() == [
        ("1", "VIP", "given"),
        ("99", "Staff", "given"),
    ]
    assert assignments.height == 13


def test_given_segments_can_be_ignored():
    assignments, segments = assign_segments(grouped(), SegmentSettings(k=3, min_customers=2, keep_given=False), GIVEN)
    assert set(assignments["segment_source"]) == {"model"} and assignments.height == 12
    assert segments.names == ("High-value regulars", "Mid-value premium buyers", "Lapsing bargain hunters")


PLANTED = [
    (20, 2000.0, 25.0, 6, 7.0, 3000.0, 0.05),
    (3, 60.0, 5.0, 1, 60.0, 40.0, 0.90),
    (6, 600.0, 80.0, 3, 30.0, 350.0, 0.30),
]
"""GROUPS with the categories apart too: a feature whose only spread is rounding noise would be standardised to
unit variance like any other and split the clusters along its integer steps."""


def test_auto_finds_three_planted_clusters():
    features = drawn_clusters(PLANTED, per_cluster=200, spread=0.3, seed=7)
    assignments, segments = assign_segments(features, SegmentSettings(k="auto"))
    assert segments.k == 3
    assert sorted(segments.silhouettes) == list(range(2, 9))
    assert max(segments.silhouettes, key=segments.silhouettes.get) == 3
    assert segments.sizes == (200, 200, 200)
    # every drawn cluster is one segment: ids C00000-C00199 are the first, C00200-C00399 the second, ...
    drawn = assignments.with_columns(cluster=pl.col("customer_id").str.slice(1).cast(pl.Int64) // 200)
    assert drawn.group_by("cluster").agg(pl.col("segment").n_unique()).sort("cluster")["segment"].to_list() == [1, 1, 1]
    assert drawn["segment"].n_unique() == 3


def test_the_summary_lists_every_segment_with_its_figures():
    _, segments = assign_segments(grouped(), SMALL)
    summary = segments.as_dict()
    assert summary["k"] == 3 and summary["reason"] is None
    first = summary["segments"][0]
    assert list(first) == ["name", "source", "customers", *SEGMENT_FEATURES, "naming", "naming_error"]
    assert (first["name"], first["customers"], first["predicted_clv"]) == ("High-value regulars", 4, 3000.0)
    json.dumps(summary, allow_nan=False)


def test_renamed_segments_rename_the_assignments():
    assignments, segments = assign_segments(grouped(), SMALL)
    renamed = segments.renamed({"Lapsing bargain hunters": ("Drifting deal seekers", "llm", None)})
    assert renamed.names == ("High-value regulars", "Mid-value premium buyers", "Drifting deal seekers")
    assert renamed.segments[2].naming == "llm" and renamed.segments[0].naming == "rules"
    relabelled = with_names(assignments, segments, renamed)
    assert relabelled.filter(pl.col("customer_id") == "B1")["segment"].item() == "Drifting deal seekers"
    assert relabelled.filter(pl.col("customer_id") == "A1")["segment"].item() == "High-value regulars"


def test_a_small_fitting_sample_finds_the_same_segments():
    features = drawn_clusters([GROUPS["A"], GROUPS["B"]], per_cluster=300, spread=0.5, seed=5)
    _, sampled = assign_segments(features, SegmentSettings(k=2, fit_sample_size=100))
    _, full = assign_segments(features, SegmentSettings(k=2))
    assert sampled.sizes == full.sizes == (300, 300)
    assert np.allclose(sampled.segments[0].centre, full.segments[0].centre, atol=0.3)


def test_the_tier1_sample_is_too_small_to_segment():
    dataset = load_dataset(TIER1)
    purchases = dataset.ownership.with_columns(amount=pl.lit(None, dtype=pl.Float64))  # the catalog's prices
    scores = dataset.customers.select("customer_id", predicted_clv="lifetime_value", churn_probability="churn_risk")
    features = segment_features(purchases, dataset.products, scores, AS_OF)
    assignments, segments = assign_segments(features, SegmentSettings(), dataset.customers)
    assert features.height == 10 and features.null_count().sum_horizontal().item() == 0
    assert segments.reason == (
        "too few customers to segment: 10 with a purchase, segmenting needs at least 100 (segments.min_customers)"
    )
    assert assignments.height == 10 and set(assignments["segment_source"]) == {"none"}


@pytest.mark.parametrize(
    ("values", "field"),
    [({"k": 1}, "k"), ({"k": "many"}, "k"), ({"n_init": 0}, "n_init"), ({"clusters": 4}, "clusters")],
)
def test_bad_segment_settings_name_the_field(values, field):
    with pytest.raises(ValidationError) as raised:
        SegmentSettings(**values)
    assert {error["loc"][0] for error in raised.value.errors()} == {field}


def test_the_configuration_carries_the_segment_settings():
    config = OrchestratorConfig(segments={"k": "auto", "keep_given": False})
    assert (config.segments.k, config.segments.keep_given, config.segments.min_customers) == ("auto", False, 100)
    assert OrchestratorConfig().segments == SegmentSettings()
