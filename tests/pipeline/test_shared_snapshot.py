"""Runs share one explicit snapshot: a batch builds it once, a context checks the one it is given, and the
dataset holds no state derived along the way."""

from __future__ import annotations

import functools
from dataclasses import fields
from datetime import date

import pytest
from polars.testing import assert_frame_equal
from support import AS_OF, TIER1

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset, load_dataset
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.pipeline.api import analyze_cohort
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.pipeline.context import Context
from cross_sell_upsell.pipeline.graph import graph
from cross_sell_upsell.snapshot.build import build_snapshot

CONFIG = OrchestratorConfig()


def test_a_dataset_holds_only_its_loaded_frames_after_a_full_run():
    assert not any(isinstance(member, functools.cached_property) for member in vars(Dataset).values())
    dataset = load_dataset(TIER1)
    run_batch(dataset, None, AS_OF, CONFIG, chunk_size=4)
    analyze_cohort(["C001"], as_of=AS_OF, dataset=dataset)
    graph.invoke({"customer_ids": ["C002"], "as_of": AS_OF}, context=Context(dataset=dataset))
    assert set(vars(dataset)) == {field.name for field in fields(Dataset)}


def test_a_batch_given_the_snapshot_matches_one_that_builds_it(tier1):
    built = run_batch(tier1, None, AS_OF, CONFIG, chunk_size=3)
    given = run_batch(tier1, None, AS_OF, CONFIG, chunk_size=3, snapshot=build_snapshot(tier1, AS_OF, CONFIG))
    assert_frame_equal(given.totals.priority, built.totals.priority)
    assert given.total_potential_revenue == built.total_potential_revenue


def test_a_snapshot_for_another_date_is_refused(tier1):
    february = build_snapshot(tier1, date(2024, 2, 1), CONFIG)
    message = "the snapshot is as of 2024-02-01, the run as of 2024-03-01"
    with pytest.raises(ConfigurationError, match=message):
        graph.invoke({"customer_ids": ["C001"], "as_of": AS_OF}, context=Context(snapshot=february))
    with pytest.raises(ConfigurationError, match=message):
        run_batch(tier1, None, AS_OF, CONFIG, snapshot=february)
