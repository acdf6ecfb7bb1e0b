"""The as-of snapshot: what it holds for the mini data (worked out by hand), that it pickles to about the size of
its frames and gives the same cohorts back, and that a run refuses one built for another date or settings."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import AS_OF, synthetic_dataset

from cross_sell_upsell.configuration import OrchestratorConfig, SignalSettings
from cross_sell_upsell.configuration.acceptance import AcceptanceSettings
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.data.synth import SUGGESTED_AS_OF
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.offers.cohort import select_cohort
from cross_sell_upsell.pipeline.api import analyze_cohort
from cross_sell_upsell.snapshot.build import build_snapshot, check_snapshot, without_signals

CONFIG = OrchestratorConfig()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Dataset:
    """2,000 synthetic customers with a year of purchases: enough rows that the frames outweigh pickle's overhead."""
    return synthetic_dataset(tmp_path_factory.mktemp("synth"), 2000, 5)


def test_holdings_and_preferred_tiers_of_the_mini_data(mini):
    snapshot = build_snapshot(mini, AS_OF, CONFIG)
    # Rows: K1 0, K2 1, K3 2, K4 3. Keys: A1 0, A2 1, A3 2, A4 3, A5 4. One purchase day each: no repeat, no habit.
    assert snapshot.holdings.select(
        "customer_row", "product_key", pl.col("last_purchase").cast(pl.String), "purchase_days", "habit"
    ).rows() == [
        (0, 0, "2024-02-01", 1, 0.0),
        (0, 2, "2024-01-01", 1, 0.0),
        (1, 0, "2024-02-25", 1, 0.0),
        (1, 2, "2024-02-20", 1, 0.0),
        *((3, key, "2024-02-20", 1, 0.0) for key in range(5)),
    ]
    # K1, K2 and K4 state a preference; K3 states none and owns nothing: tier 1.
    assert snapshot.customers.get_column("preferred_tier").to_list() == [1, 1, 1, 2]
    # Concerns sorted: acne, aging, dryness, general, sensitivity. K1 dryness = bit 2; K3 acne + dryness = 1 + 4.
    assert snapshot.concerns == ("acne", "aging", "dryness", "general", "sensitivity")
    assert snapshot.customers.get_column("concern_mask").to_list() == [4, 0, 5, 0]
    assert snapshot.customer_rows.rows_of(pl.Series(["K3", "K1", "K9", "K4"])).to_list() == [2, 0, None, 3]


def test_a_purchase_after_the_as_of_date_is_not_held(mini):
    # K2 bought A1 on 2024-02-25 and A3 on 2024-02-20.
    snapshot = build_snapshot(mini, date(2024, 2, 22), CONFIG)
    assert snapshot.holdings.filter(pl.col("customer_row") == 1).get_column("product_key").to_list() == [2]


def test_signals_are_learned_only_when_switched_on(mini):
    assert build_snapshot(mini, AS_OF, CONFIG).signals is not None
    off = OrchestratorConfig(signals=SignalSettings(enabled=False))
    assert build_snapshot(mini, AS_OF, off).signals is None
    assert without_signals(build_snapshot(mini, AS_OF, CONFIG)).signals is None


def test_a_pickled_snapshot_gives_the_same_cohorts_and_weighs_about_its_frames(synthetic):
    snapshot = build_snapshot(synthetic, SUGGESTED_AS_OF, CONFIG)
    pickled = pickle.dumps(snapshot)
    restored = pickle.loads(pickled)
    ids = synthetic.customer_ids()[::7]
    original, again = select_cohort(snapshot, ids), select_cohort(restored, ids)
    for name in ("customers", "products", "holdings", "cross_sells"):
        assert_frame_equal(getattr(again, name), getattr(original, name))
    assert_frame_equal(again.signals.links(), original.signals.links())
    runs = [analyze_cohort(ids, as_of=SUGGESTED_AS_OF, config=CONFIG, snapshot=one) for one in (snapshot, restored)]
    assert_frame_equal(runs[1]["opportunities"], runs[0]["opportunities"])
    assert_frame_equal(runs[1]["customer_summaries"], runs[0]["customer_summaries"])
    frames = (snapshot.customers, snapshot.products, snapshot.holdings, snapshot.cross_sells)
    frame_bytes = sum(
        frame.estimated_size() for frame in (*frames, snapshot.signals.rules, snapshot.signals.neighbours)
    )
    assert frame_bytes / 2 < len(pickled) < 2 * frame_bytes


def test_a_snapshot_serves_only_runs_of_its_date_and_settings(mini):
    snapshot = build_snapshot(mini, AS_OF, CONFIG)
    check_snapshot(snapshot, AS_OF, CONFIG)
    # The offers read these two: a snapshot serves runs that differ only in them.
    offer_time = SignalSettings(learned_offers=3, lift_reference=2.0)
    check_snapshot(snapshot, AS_OF, OrchestratorConfig(signals=offer_time))
    with pytest.raises(ConfigurationError, match="the snapshot is as of 2024-03-01, the run as of 2024-02-01"):
        check_snapshot(snapshot, date(2024, 2, 1), CONFIG)
    other = OrchestratorConfig(essential_categories=("cleanser",), signals=SignalSettings(habit_half_life_days=30))
    with pytest.raises(ConfigurationError, match="built with other essential_categories, signals than the run's"):
        check_snapshot(snapshot, AS_OF, other)
    with pytest.raises(ConfigurationError, match="built with other signals"):
        check_snapshot(snapshot, AS_OF, OrchestratorConfig(signals=SignalSettings(enabled=False)))
    check_snapshot(without_signals(snapshot), AS_OF, OrchestratorConfig(signals=SignalSettings(enabled=False)))
    # The products' rebuy rates are counted per the acceptance horizon.
    with pytest.raises(ConfigurationError, match="built with other acceptance than the run's"):
        check_snapshot(snapshot, AS_OF, OrchestratorConfig(acceptance=AcceptanceSettings(horizon_days=14)))


@pytest.mark.parametrize("partitions", [2, 3, 7])
def test_the_snapshot_is_the_same_whatever_the_number_of_partitions(synthetic, partitions):
    # The partitions' reductions (summed signal counts, concatenated summaries and totals), grouped two at a time,
    # against one pass; thresholds low enough that the synthetic baskets give rules.
    config = OrchestratorConfig(signals=SignalSettings(min_support=0.0, min_confidence=0.0, min_count=2))
    whole = build_snapshot(synthetic, SUGGESTED_AS_OF, config, partitions=1)
    split = build_snapshot(synthetic, SUGGESTED_AS_OF, config, partitions=partitions)
    assert not whole.signals.rules.is_empty() and not whole.signals.neighbours.is_empty()
    assert whole.customer_models.fallback is None and whole.segments.reason is None
    for name in ("customers", "products", "holdings", "cross_sells"):
        assert_frame_equal(getattr(split, name), getattr(whole, name), check_exact=True)
        # What polars knows of a column's order changes the path, and the last bits, of what is computed on it.
        assert [column.flags for column in getattr(split, name)] == [column.flags for column in getattr(whole, name)]
    assert split.signals.baskets == whole.signals.baskets
    assert_frame_equal(split.signals.rules, whole.signals.rules, check_exact=True)
    assert_frame_equal(split.signals.neighbours, whole.signals.neighbours, check_exact=True)
    assert split.customer_models.as_dict() == whole.customer_models.as_dict()
    # K-means' centres vary in their last digits from fit to fit (its threads sum in any order); all else is equal.
    assert replace(split.segments, segments=()) == replace(whole.segments, segments=())
    for mine, theirs in zip(split.segments.segments, whole.segments.segments, strict=True):
        assert replace(mine, centre=()) == replace(theirs, centre=())
        assert mine.centre == pytest.approx(theirs.centre, rel=1e-12, abs=1e-12)
    assert split.customer_rows.sorted_ids.equals(whole.customer_rows.sorted_ids)
    assert split.customer_rows.rows.equals(whole.customer_rows.rows)


def test_partitions_must_be_at_least_one(mini):
    with pytest.raises(ConfigurationError, match="partitions must be at least 1, not 0"):
        build_snapshot(mini, AS_OF, CONFIG, partitions=0)


def test_a_cohorts_holdings_are_its_customers_rows_of_the_snapshots(synthetic):
    snapshot = build_snapshot(synthetic, SUGGESTED_AS_OF, CONFIG)
    ids = synthetic.customer_ids()
    # Scattered rows in no order, one repeated, one unknown, and customers without holdings among them.
    requested = [ids[1500], ids[3], "nobody", *ids[700:720], ids[3], ids[1999], ids[0]]
    cohort = select_cohort(snapshot, requested)
    rows = snapshot.customer_rows.rows_of(cohort.customers.get_column("customer_id"))
    expected = (
        snapshot.holdings.join(pl.DataFrame({"customer_row": rows}).with_row_index("customer_key"), on="customer_row")
        .select("customer_key", pl.exclude("customer_key", "customer_row"))
        .sort("customer_key", "product_key")
    )
    assert_frame_equal(cohort.holdings, expected, check_dtypes=False)
    assert not cohort.holdings.is_empty()
    assert cohort.unknown_customer_ids == ("nobody",)
