"""A run over a log split into partitions of customers (issue #16): no step holds the whole log.

A partitioned source (`data.ingest.partitioned`, or any `Partitions`) gives each partition as an ordinary
`Dataset`: some customers and every purchase of theirs. What a batch reads per customer is small beside the log,
so it is gathered for every customer (`customers_only`: the customers frame, their features and given values,
with no purchase); what is learned from the log is reduced from the partitions, one at a time:

- the snapshot (`snapshot.build.snapshot_from_parts`): holdings, summaries and segment totals per partition,
  the signals from summed counts;
- the acceptance model's replays (`replay_dataset`): they read only the purchases of the customers the replays
  sample (`AcceptanceSettings.replay_population`, by stable hash, among those active on each replay date), which
  are gathered from the partitions, and the count of purchases their labels could hold, summed.

The result is the same snapshot, bit for bit, as one pass over the whole log gives (tests/pipeline/
test_partitioned.py), so the batch's chunks, exports and report are the same whatever the number of partitions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

import polars as pl

from cross_sell_upsell.configuration import AcceptanceSettings, OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset, only_customers
from cross_sell_upsell.data.ingest.partitioned import PartitionCallback, PartitionRead
from cross_sell_upsell.data.ingest.transactions import grouped_by_customer
from cross_sell_upsell.features.holdings import keyed_ownership
from cross_sell_upsell.pipeline.acceptance import labelled_purchases, replay_dates, replay_population, with_acceptance
from cross_sell_upsell.snapshot.build import CustomerIndex, Snapshot, build_snapshot, snapshot_from_parts


class Partitions(Protocol):
    """Disjoint partitions of a dataset's customers, each with every purchase of its customers
    (`data.ingest.partitioned.PartitionedDataset`)."""

    @property
    def partitions(self) -> int:
        """How many partitions there are."""
        ...

    @property
    def as_of(self) -> date:
        """The date the partitions' customer features are as of."""
        ...

    @property
    def rejected_rows(self) -> pl.DataFrame | None:
        """The whole log's rejected rows (`Dataset.rejected_rows`)."""
        ...

    @property
    def rows_read(self) -> int | None:
        """The whole log's rows read (`Dataset.rows_read`)."""
        ...

    def partition(self, index: int, *, purchases: bool = True) -> Dataset:
        """Partition `index` (from 0) as a Dataset: its customers (sorted by id), their purchases (none read
        without `purchases`), features and given values, and the whole catalog."""
        ...

    def purchases(self, index: int, where: pl.Expr) -> pl.DataFrame:
        """The rows of `partition(index).ownership` that `where` keeps, in order, without reading the others whole."""
        ...


@dataclass(frozen=True)
class _Observed:
    """A `Partitions` that tells `on_read` each time a partition's purchases are read."""

    source: Partitions
    step: str
    on_read: PartitionCallback

    @property
    def partitions(self) -> int:
        return self.source.partitions

    @property
    def as_of(self) -> date:
        return self.source.as_of

    @property
    def rejected_rows(self) -> pl.DataFrame | None:
        return self.source.rejected_rows

    @property
    def rows_read(self) -> int | None:
        return self.source.rows_read

    def partition(self, index: int, *, purchases: bool = True) -> Dataset:
        part = self.source.partition(index, purchases=purchases)
        if purchases:
            self.on_read(
                PartitionRead(self.step, index + 1, self.partitions, part.customers.height, part.ownership.height)
            )
        return part

    def purchases(self, index: int, where: pl.Expr) -> pl.DataFrame:
        read = self.source.purchases(index, where)
        customers = read.get_column("customer_id").n_unique()
        self.on_read(PartitionRead(self.step, index + 1, self.partitions, customers, read.height))
        return read


def observed(source: Partitions, step: str, on_read: PartitionCallback | None) -> Partitions:
    """`source`, telling `on_read` (when given) of every partition whose purchases are read for `step`."""
    return source if on_read is None else _Observed(source, step, on_read)


def customers_only(source: Partitions) -> Dataset:
    """Every customer of every partition, sorted by id as one pass over the log lists them, with their features
    and given values, the catalog, the whole log's rejected rows and rows read, and no purchase: an ownership
    frame with the partitions' columns and no row."""
    first = source.partition(0, purchases=False)
    customers, features, given = [first.customers], [first.customer_features], [first.given_values]
    for index in range(1, source.partitions):
        part = source.partition(index, purchases=False)
        customers.append(part.customers)
        features.append(part.customer_features)
        given.append(part.given_values)
    return replace(
        first,
        customers=pl.concat(customers).sort("customer_id"),
        ownership=first.ownership,
        customer_features=None if first.customer_features is None else pl.concat(features).sort("customer_id"),
        given_values=None if first.given_values is None else pl.concat(given).sort("customer_id"),
        rejected_rows=source.rejected_rows,
        rows_read=source.rows_read,
    )


def partitioned_snapshot(source: Partitions, customers: Dataset, as_of: date, config: OrchestratorConfig) -> Snapshot:
    """The snapshot of the whole log as of `as_of` (`build_snapshot`'s) from `customers` (`customers_only`) and
    each partition's purchases, one partition at a time; without the acceptance model (`partitioned_acceptance`)."""
    return snapshot_from_parts(customers, as_of, config, _keyed_parts(source, customers, as_of))


def partitioned_acceptance(
    snapshot: Snapshot, source: Partitions, customers: Dataset, config: OrchestratorConfig
) -> Snapshot:
    """`snapshot` with the acceptance model `with_acceptance` trains on the whole log, its replays reading only
    the purchases of the customers they sample (`replay_dataset`; no pass over the partitions when the model is
    off)."""
    if not config.acceptance.enabled:
        return with_acceptance(snapshot, customers, config)
    replay, labelled = replay_dataset(source, customers, snapshot.as_of, config.acceptance)
    return with_acceptance(snapshot, replay, config, labelled=labelled)


def _keyed_parts(source: Partitions, customers: Dataset, as_of: date) -> Iterator[pl.DataFrame]:
    """Each partition's purchases up to `as_of`, keyed by the rows of every customer (`keyed_ownership`). A
    partition's customers are looked up among every customer's sorted ids, and its purchases joined to those
    alone: a join against every customer hashed all ten million ids once per partition."""
    every = CustomerIndex.of(customers.customers.get_column("customer_id"))
    for index in range(source.partitions):
        part = source.partition(index)
        ids = part.customers.get_column("customer_id")
        rows = pl.DataFrame({"customer_id": ids, "customer_row": every.rows_of(ids)})
        purchases = replace(customers, ownership=part.ownership)
        yield keyed_ownership(purchases, as_of, rows.drop_nulls("customer_row"))


def replay_dataset(
    source: Partitions, customers: Dataset, as_of: date, settings: AcceptanceSettings
) -> tuple[Dataset, int]:
    """What the acceptance model's replays before `as_of` read of the log (`pipeline.acceptance`), and the
    purchases their label windows hold (`labelled_purchases` of the whole log, summed over the partitions), in
    one pass over the partitions.

    A replay on day d samples, in stable-hash order, the first `replay_population` customers who bought on or
    before d; every customer sampled on some replay day is kept with all of their purchases. When on some day no
    more customers had bought than that, its replay is built on every customer (`labelled_offers`), and so every
    customer of `customers` is kept too (with no purchase, as in the whole log); else only the sampled ones (at ten
    million customers, a replay built beside every customer's rows cost three quarters of the model's time). Who
    had bought by d is read from `customers`' features (their first purchase), which `source` computed as of a date
    no earlier than the last replay day. Among the kept customers, a replay then finds the same active ones first
    in hash order, so it samples the same customers and reads the same purchases as over the whole log."""
    days = replay_dates(as_of, settings)
    if customers.customer_features is None or source.as_of < days[-1]:
        raise ValueError(
            f"the replays of {days[-1]} need customer features as of that day or later, not {source.as_of}"
        )
    first = customers.customer_features.select("customer_id", "first_purchase")
    active = [first.filter(pl.col("first_purchase") <= day).get_column("customer_id").sort() for day in days]
    sampled = [replay_population(ids, settings) for ids in active]
    kept_ids = pl.concat(sampled).unique().sort()
    kept = pl.col("customer_id").is_in(kept_ids.implode())
    # What a label window holds (`labelled_purchases` counts nothing else) or a sampled customer bought: at ten
    # million customers reading each partition whole for these was most of the model's time.
    horizon = timedelta(settings.horizon_days)
    labelled_window = pl.any_horizontal(
        [pl.col("purchase_date").is_between(day, day + horizon, "right") for day in days]
    )
    labelled, owned = 0, []
    for index in range(source.partitions):
        purchases = source.purchases(index, kept | labelled_window)
        labelled += labelled_purchases(purchases, as_of, settings)
        owned.append(purchases.filter(kept))
    # In the order one pass over the log leaves them (`read_transactions`).
    replay = replace(customers, ownership=grouped_by_customer(pl.concat(owned)))
    if all(len(population) < len(ids) for population, ids in zip(sampled, active, strict=True)):
        replay = only_customers(replay, kept_ids)
    return replay, labelled


@dataclass(frozen=True)
class BatchInputs:
    """What a batch reads: the dataset, whole or (`partitioned`) every customer without the purchases, whose
    log is then read one partition at a time."""

    dataset: Dataset
    """The dataset the batch runs over (`customers_only` when partitioned)."""
    partitioned: Partitions | None = None
    """The log's partitions; None when `dataset` holds the whole log."""
    on_partition: PartitionCallback | None = None
    """Told of every partition read (`PartitionRead`): a partitioned run's progress through its passes over the
    log."""

    def snapshot(self, as_of: date, config: OrchestratorConfig) -> Snapshot:
        """The run's snapshot, without the acceptance model."""
        if self.partitioned is None:
            return build_snapshot(self.dataset, as_of, config)
        return partitioned_snapshot(
            observed(self.partitioned, "snapshot", self.on_partition), self.dataset, as_of, config
        )

    def with_acceptance(self, snapshot: Snapshot, config: OrchestratorConfig) -> Snapshot:
        """`snapshot` with the run's acceptance model."""
        if self.partitioned is None:
            return with_acceptance(snapshot, self.dataset, config)
        replays = observed(self.partitioned, "acceptance replays", self.on_partition)
        return partitioned_acceptance(snapshot, replays, self.dataset, config)

    def purchases(self) -> Iterator[pl.DataFrame]:
        """The log's purchases: the whole ownership, or each partition's in turn."""
        if self.partitioned is None:
            yield self.dataset.ownership
            return
        source = observed(self.partitioned, "run history", self.on_partition)
        for index in range(source.partitions):
            yield source.partition(index).ownership
