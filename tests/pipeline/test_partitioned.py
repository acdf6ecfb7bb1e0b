"""A run over partitions of the customers gives what one pass over the whole log gives: the same snapshot (its
acceptance model trained on replays sampled from the partitions) and so the same batch, byte for byte."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import synthetic_dataset

from cross_sell_upsell.configuration import AcceptanceSettings, OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset, only_customers
from cross_sell_upsell.data.hashing import customer_partition
from cross_sell_upsell.data.ingest.partitioned import PartitionRead
from cross_sell_upsell.data.synth import SUGGESTED_AS_OF
from cross_sell_upsell.pipeline.acceptance import with_acceptance
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.pipeline.partitioned import BatchInputs, customers_only, replay_dataset
from cross_sell_upsell.pipeline.totals import BatchResult
from cross_sell_upsell.snapshot.build import build_snapshot

# A replay population smaller than the customers who bought, so the replays sample from the partitions.
CONFIG = OrchestratorConfig(acceptance=AcceptanceSettings(replay_population=300, sample_customers=200))


@dataclass(frozen=True)
class InMemoryPartitions:
    """A loaded dataset split by `customer_partition`: each partition its customers and their purchases."""

    dataset: Dataset
    partitions: int
    as_of: date = SUGGESTED_AS_OF
    """What `synthetic_dataset` computes the customer features as of."""

    @property
    def rejected_rows(self) -> pl.DataFrame | None:
        return self.dataset.rejected_rows

    @property
    def rows_read(self) -> int | None:
        return self.dataset.rows_read

    def partition(self, index: int, *, purchases: bool = True) -> Dataset:
        ids = self.dataset.customers.get_column("customer_id")
        part = only_customers(self.dataset, ids.filter(customer_partition(ids, self.partitions) == index))
        return part if purchases else replace(part, ownership=part.ownership.clear())

    def purchases(self, index: int, where: pl.Expr) -> pl.DataFrame:
        return self.partition(index).ownership.filter(where)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Dataset:
    """600 synthetic customers with two years of purchases: enough for the models, segments and replays."""
    return synthetic_dataset(tmp_path_factory.mktemp("synth"), 600, 11)


@pytest.fixture(scope="module")
def whole(synthetic):
    """The snapshot of one pass over the whole log, with its acceptance model."""
    return with_acceptance(build_snapshot(synthetic, SUGGESTED_AS_OF, CONFIG), synthetic, CONFIG)


def test_the_customers_of_the_partitions_are_the_datasets(synthetic):
    customers = customers_only(InMemoryPartitions(synthetic, 3))
    assert_frame_equal(customers.customers, synthetic.customers)
    assert_frame_equal(customers.customer_features, synthetic.customer_features)
    assert customers.ownership.is_empty() and customers.ownership.schema == synthetic.ownership.schema
    assert customers.rows_read == synthetic.rows_read


def test_the_replays_read_the_purchases_of_the_sampled_customers_only(synthetic):
    settings = CONFIG.acceptance
    replay, labelled = replay_dataset(
        InMemoryPartitions(synthetic, 3), customers_only(InMemoryPartitions(synthetic, 1)), SUGGESTED_AS_OF, settings
    )
    # At most the population of each replay date (one date with the default one horizon), all of their rows.
    kept = replay.ownership.get_column("customer_id").unique()
    assert 0 < kept.len() <= settings.replay_population
    assert_frame_equal(
        replay.ownership, only_customers(synthetic, kept).ownership, check_row_order=False, check_exact=True
    )
    # More customers had bought than the population holds, so a replay is built on the sampled ones alone: the
    # others are not kept beside them (`labelled_offers` reads every customer only in a smaller shop).
    assert replay.customers.get_column("customer_id").sort().equals(kept.sort())
    assert replay.customer_features.height == kept.len()
    small = settings.model_copy(update={"replay_population": synthetic.customers.height})
    every, _ = replay_dataset(
        InMemoryPartitions(synthetic, 3), customers_only(InMemoryPartitions(synthetic, 1)), SUGGESTED_AS_OF, small
    )
    assert_frame_equal(every.customers, synthetic.customers)
    one_pass = replay_dataset(
        InMemoryPartitions(synthetic, 1), customers_only(InMemoryPartitions(synthetic, 1)), SUGGESTED_AS_OF, settings
    )
    assert labelled == one_pass[1] > settings.min_positives


def test_the_replays_refuse_features_older_than_their_days(synthetic):
    # The one replay day is as_of - 1 - 28 days; features as of the day before cannot say who had bought by then.
    day = SUGGESTED_AS_OF - timedelta(days=29)
    source = InMemoryPartitions(synthetic, 3, as_of=day - timedelta(days=1))
    with pytest.raises(ValueError, match=f"the replays of {day} need customer features as of that day or later"):
        replay_dataset(source, customers_only(source), SUGGESTED_AS_OF, CONFIG.acceptance)


def batch(dataset: Dataset, snapshot) -> tuple[BatchResult, list[tuple[pl.DataFrame, pl.DataFrame]]]:
    """The batch over every customer of `dataset` on `snapshot`, in chunks of 250, and each chunk's outputs."""
    chunks: list[tuple[pl.DataFrame, pl.DataFrame]] = []
    result = run_batch(
        dataset, None, SUGGESTED_AS_OF, CONFIG, 250, snapshot=snapshot, on_results=lambda o, s: chunks.append((o, s))
    )
    return result, chunks


@pytest.fixture(scope="module")
def one_pass(synthetic, whole):
    return batch(synthetic, whole)


def test_a_partitioned_run_gives_the_same_batch_as_one_pass(synthetic, whole, one_pass):
    # 7 partitions of 600 customers (1, 3 and 7 for the snapshot alone: tests/snapshot/test_snapshot.py).
    partitions = 7
    source = InMemoryPartitions(synthetic, partitions)
    customers = customers_only(source)
    reads: list[PartitionRead] = []
    inputs = BatchInputs(customers, source, reads.append)
    snapshot = inputs.with_acceptance(inputs.snapshot(SUGGESTED_AS_OF, CONFIG), CONFIG)
    history = list(inputs.purchases())
    # Progress: each step reads every partition once, in order.
    steps = ["snapshot", "acceptance replays", "run history"]
    expected = [(step, index) for step in steps for index in range(1, partitions + 1)]
    assert [(read.step, read.partition) for read in reads] == expected
    for step in ("snapshot", "run history"):
        done = [read for read in reads if read.step == step]
        assert sum(read.customers for read in done) == synthetic.customers.height
        assert sum(read.purchases for read in done) == synthetic.ownership.height
    # The replays read only the sampled customers' purchases and those in a label window (the model below is the
    # one-pass model all the same).
    replayed = [read for read in reads if read.step == "acceptance replays"]
    assert 0 < sum(read.purchases for read in replayed) < synthetic.ownership.height
    assert sum(frame.height for frame in history) == synthetic.ownership.height
    assert whole.acceptance.estimator is not None
    assert snapshot.acceptance.training_offers == whole.acceptance.training_offers
    assert snapshot.acceptance.positives == whole.acceptance.positives
    (result, chunks), (their_result, their_chunks) = batch(customers, snapshot), one_pass
    assert len(chunks) == len(their_chunks) == 3
    for (offers, summaries), (their_offers, their_summaries) in zip(chunks, their_chunks, strict=True):
        assert_frame_equal(offers, their_offers, check_exact=True)
        assert_frame_equal(summaries, their_summaries, check_exact=True)
    assert_same_fields(result.totals, their_result.totals)
    assert result.rows_rejected == their_result.rows_rejected
    assert result.customer_models.as_dict() == their_result.customer_models.as_dict()


def assert_same_fields(mine: object, theirs: object) -> None:
    """Every field of two dataclasses equal, frames exactly, nested dataclasses field by field."""
    for name, value in vars(theirs).items():
        if isinstance(value, pl.DataFrame):
            assert_frame_equal(getattr(mine, name), value, check_exact=True)
        elif hasattr(value, "__dataclass_fields__"):
            assert_same_fields(getattr(mine, name), value)
        else:
            assert getattr(mine, name) == value, name
