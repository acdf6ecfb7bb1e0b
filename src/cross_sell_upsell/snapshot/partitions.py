"""A snapshot's log-wide work done one partition of the customers at a time, and the partitions' reduction.

Customers are split by a stable hash of their id (`data.hashing.customer_partition`), so a customer and all of
their purchases are in one partition. What is per customer (the purchase summary, the segment features' totals,
the holdings) is computed per partition and concatenated in customer-row order; what is global is reduced from
partial counts that add up exactly (the signals' basket and buyer incidence matrices, `features.signals`), or
fitted on the concatenated per-customer rows (the customer models on the collapsed summary, K-means on a sample
drawn by the stable hash). So the snapshot is the same, bit for bit, whatever the number of partitions, and the
grouping of a partition needs memory for that partition's rows only.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import polars as pl

from cross_sell_upsell.configuration import SignalSettings
from cross_sell_upsell.data.hashing import customer_partition
from cross_sell_upsell.features.holdings import sorted_holdings
from cross_sell_upsell.features.signals import SignalCounts, basket_incidence, buyer_incidence
from cross_sell_upsell.features.sorted_purchases import sort_purchases
from cross_sell_upsell.ordered import in_submission_order
from cross_sell_upsell.snapshot.customers import customer_summary, priced_purchases
from cross_sell_upsell.snapshot.segments import segment_totals

GROUPING_THREADS = 2
"""Partitions grouped at a time (`partition_partials`). A partition's grouping is polars and numpy's sorts and
reductions, which run outside the interpreter's lock, so two threads keep two cores busy where one left the
second idle for most of the snapshot; each holds one partition's rows."""


@dataclass(frozen=True)
class PartitionPartial:
    """What one partition of the customers contributes to the snapshot; every frame is by customer row."""

    summary: pl.DataFrame
    """The purchase summary of its buying customers (`customers.customer_summary`)."""
    segment_totals: pl.DataFrame
    """Their segment features' totals (`segments.segment_totals`)."""
    holdings: pl.DataFrame
    """What its customers own (`holdings.holdings`)."""
    signals: SignalCounts | None
    """Its basket and buyer incidence; None when the signals are off."""


def split_by_customer(keyed: pl.DataFrame, customer_ids: pl.Series, partitions: int) -> list[pl.DataFrame]:
    """The keyed purchases (`holdings.keyed_ownership`) split into `partitions` frames by their customer's
    `customer_partition` (`customer_ids`: one per customer row); a partition without purchases is an empty frame.
    One partition is the frame itself, and no id is hashed."""
    if partitions == 1:
        return [keyed]
    partition = customer_partition(customer_ids, partitions)
    parts = keyed.with_columns(partition=pl.lit(partition).gather(pl.col("customer_row"))).partition_by(
        "partition", include_key=False, as_dict=True
    )
    empty = keyed.clear()
    return [parts.get((index,), empty) for index in range(partitions)]


def partition_partial(
    keyed: pl.DataFrame, catalog: pl.DataFrame, as_of: date, settings: SignalSettings
) -> PartitionPartial:
    """The `PartitionPartial` of one partition's keyed purchases up to `as_of`; `catalog`: the dataset's products
    in product-key order. The rows are priced and sorted once by customer, day and product (`sort_purchases`),
    and the summary, the totals, the holdings and the baskets are each one pass over runs of the sorted rows
    (four polars group-bys over the same rows took about three times as long at a million customers)."""
    purchases = sort_purchases(priced_purchases(keyed, catalog.get_column("price")).collect())
    summary = customer_summary(purchases, as_of)
    totals = segment_totals(purchases, catalog)
    owned = sorted_holdings(purchases, as_of, settings.habit_half_life_days)
    counts = None
    if settings.enabled:
        baskets = basket_incidence(keyed, catalog.height, purchases)
        counts = SignalCounts(baskets, buyer_incidence(owned, catalog.height))
    return PartitionPartial(summary=summary, segment_totals=totals, holdings=owned, signals=counts)


def partition_partials(
    keyed_parts: Iterable[pl.DataFrame],
    catalog: pl.DataFrame,
    as_of: date,
    settings: SignalSettings,
    threads: int = GROUPING_THREADS,
) -> list[PartitionPartial]:
    """`partition_partial` of each of `keyed_parts`, in their order, `threads` at a time: the next partition is read
    from the iterable while they are grouped, so at most `threads` + 1 partitions' rows are held."""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="snapshot-partition") as pool:

        def submit(keyed: pl.DataFrame) -> Future[PartitionPartial]:
            return pool.submit(partition_partial, keyed, catalog, as_of, settings)

        return list(in_submission_order(submit, Future.result, keyed_parts, threads + 1))


def by_customer_row(frames: list[pl.DataFrame], *keys: str) -> pl.DataFrame:
    """Per-customer frames of the partitions as one, in the order of `keys` (unique per row), as one pass over
    every customer would have given it, the first key flagged sorted whatever the number of partitions: polars
    takes another path over a column it knows is sorted, whose float sums differ in the last bit (a group-by's
    mean price of a customer's holdings did), so the flag must not depend on the partitions."""
    frame = frames[0] if len(frames) == 1 else pl.concat(frames).sort(*keys)
    return frame.set_sorted(keys[0])
