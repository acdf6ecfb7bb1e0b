"""A retailer's files read into partitions of customers on disk, so that no step holds the whole log.

One streaming pass splits the log by `hashing.customer_partition` of the normalised customer id, keeping each
row's number in the file. Each partition is then checked as `read_transactions` checks the whole log (a duplicate
repeats an earlier row of the same customer, so it is found within a partition), and what is global comes from
reductions over the partitions: rows read and rejected rows added up, the repeat-interval counts summed before
their medians are taken, the typical gap the median of every customer's mean gap. A second pass derives each
partition's customers with that gap. Together the partitions are exactly `load_transactions_dataset`'s Dataset.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.data.derivations import (
    INTERVAL_COUNT_SCHEMA,
    customer_features,
    cycles_from_counts,
    derive_customers,
    interval_counts,
    typical_gap_days,
    with_learned_cycles,
)
from cross_sell_upsell.data.hashing import customer_partition
from cross_sell_upsell.data.ingest.assembly import (
    dataset_source,
    given_values_frame,
    has_baskets,
    ownership_frame,
    reason_counts,
)
from cross_sell_upsell.data.ingest.catalog import load_catalog
from cross_sell_upsell.data.ingest.customers import load_customer_attributes
from cross_sell_upsell.data.ingest.guards import check_rejected_share
from cross_sell_upsell.data.ingest.tables import file_kind, reported_as_unreadable
from cross_sell_upsell.data.ingest.transactions import (
    REJECTED_SCHEMA,
    LogRead,
    RaggedRead,
    checked_rows,
    first_rejection,
    opened_log,
    read_ragged,
    split_checked,
)
from cross_sell_upsell.data.records import DEFAULT_TIER_PRICE_RANGES
from cross_sell_upsell.errors import DataValidationError

_FRAMES = ("customers", "ownership", "customer_features", "given_values")
"""The per-customer frames of a partition, one Parquet file each."""

_PARTITION = "__partition__"


@dataclass(frozen=True)
class PartitionRead:
    """What a partitioned run tells its progress callback each time it has read one partition's purchases."""

    step: str
    """What the purchases were read for: "log checks" (`load_partitioned_dataset`), then a run's "snapshot",
    "acceptance replays" and "run history"."""
    partition: int
    """The partition read, from 1."""
    partitions: int
    customers: int
    """The partition's customers (at the log's checks, those with a purchase: the customers file is not read
    yet; for a filtered read, `PartitionedDataset.purchases`, those of the purchases read)."""
    purchases: int
    """Their purchases read."""


PartitionCallback = Callable[[PartitionRead], None]


@dataclass(frozen=True)
class PartitionedDataset:
    """A Dataset split into partitions of customers on disk: what is per customer is in the partition files,
    what is global (the catalog, the whole log's rejected rows and counts, the learned cycles) is here."""

    folder: Path
    """Where the partition files are (the caller owns it: a temporary folder per run)."""
    partitions: int
    """How many partitions; partition of a customer = `customer_partition(id, partitions)`."""
    as_of: date
    """The date the customers' features (first and last purchase, recency...) are computed as of."""
    products: pl.DataFrame
    """The catalog, with the learned cycles (as `Dataset.products`)."""
    cross_sells: pl.DataFrame
    """The catalog's cross-sell links."""
    source: str
    """Where the data came from, as `Dataset.source`."""
    rejected_rows: pl.DataFrame
    """Every rejected row of the whole log (REJECTED_SCHEMA, the file's row numbers), sorted by row."""
    rows_read: int
    """Data rows read from the whole log."""
    learned_cycles: pl.DataFrame
    """The cycles learned from the whole log's repeat purchases (`derivations.LEARNED_CYCLE_SCHEMA`)."""
    baskets: bool
    """Whether the log names baskets: then every partition's ownership has `basket_id`."""

    def partition(self, index: int, *, purchases: bool = True) -> Dataset:
        """Partition `index`'s customers (sorted by id) with all of their purchases, features and given values,
        and the catalog; without `purchases`, an ownership frame with no row (the log's part is not read). Its
        `rejected_rows` and `rows_read` are None: they are the whole log's, here, so that nothing is counted once
        per partition."""
        if not 0 <= index < self.partitions:
            raise IndexError(f"partition {index} of {self.partitions}")
        rows = {"ownership": None if purchases else 0}
        frames = {
            name: pl.read_parquet(_frame_file(self.folder, index, name), n_rows=rows.get(name)) for name in _FRAMES
        }
        ownership = frames["ownership"] if self.baskets else frames["ownership"].drop("basket_id")
        return Dataset(
            products=self.products,
            cross_sells=self.cross_sells,
            customers=frames["customers"],
            ownership=ownership,
            source=self.source,
            learned_cycles=self.learned_cycles,
            customer_features=frames["customer_features"],
            given_values=frames["given_values"],
        )

    def purchases(self, index: int, where: pl.Expr) -> pl.DataFrame:
        """Partition `index`'s purchases (its `partition(index).ownership`) that `where` keeps, in the same order,
        filtered as the file is read: the rows it drops are never built."""
        if not 0 <= index < self.partitions:
            raise IndexError(f"partition {index} of {self.partitions}")
        scan = pl.scan_parquet(_frame_file(self.folder, index, "ownership"))
        return (scan if self.baskets else scan.drop("basket_id")).filter(where).collect()


ROWS_PER_PARTITION = 2_500_000
"""Log rows per partition when a run chooses the count itself (`auto_partitions`). At a million customers (19M
rows) 8 partitions held the run to 2.6 GB at its peak, against 3.7 GB for the log read whole and 2.9 GB for 4
partitions, for 5 s more (docs/benchmarks.md); any count gives the same files."""

CSV_BYTES_PER_ROW = 40
"""A CSV log's bytes per row for `auto_partitions`' estimate: about a short row's (customer, product, date,
amount, quantity), so a log of longer rows gets more partitions than it needs, never fewer."""


def auto_partitions(transactions: str | Path) -> int | None:
    """The partitions a log of ROWS_PER_PARTITION rows each would take; None for a log that fits one (read it
    whole). A Parquet file's rows are counted from its metadata, a CSV file's estimated from its size
    (CSV_BYTES_PER_ROW). A database table, or a file that cannot be read yet, is read whole: its read reports
    what is wrong with it."""
    path = Path(transactions)
    try:
        if file_kind(path, ("csv", "parquet")) == "parquet":
            rows = pl.scan_parquet(path).select(pl.len()).collect().item()
        else:
            rows = path.stat().st_size // CSV_BYTES_PER_ROW
    except (DataValidationError, pl.exceptions.PolarsError, OSError):
        return None
    partitions = -(-rows // ROWS_PER_PARTITION)
    return partitions if partitions > 1 else None


def load_partitioned_dataset(
    transactions: str | Path,
    catalog: str | Path,
    customers_file: str | Path | None = None,
    *,
    as_of: date,
    folder: Path,
    partitions: int,
    settings: IngestSettings | None = None,
    strict: bool = False,
    tier_price_ranges: dict[int, tuple[float, float]] = DEFAULT_TIER_PRICE_RANGES,
    on_partition: PartitionCallback | None = None,
) -> PartitionedDataset:
    """`load_transactions_dataset`'s data split into `partitions` partitions of customers written under
    `folder`, holding at most one partition's log rows at a time; the same errors for the same files.
    `on_partition` is told of each partition checked (step "log checks")."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, not {partitions}")
    settings = settings or IngestSettings()
    products, cross_sells = load_catalog(catalog, settings, tier_price_ranges)
    given = load_customer_attributes(customers_file, settings) if customers_file is not None else None
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with opened_log(transactions, settings) as log, reported_as_unreadable(log.path):
        split = read_ragged(log, lambda scan, extra: (None, _split_log(scan, log, folder, partitions)))
        totals = _Totals()
        for index in range(partitions):
            checked = _check_partition(log, split, products, as_of, settings, folder, index)
            totals.add(checked)
            if on_partition is not None:
                purchases = checked.rows_read - checked.rejected.height
                on_partition(PartitionRead("log checks", index + 1, partitions, checked.gaps.height, purchases))
    rejected = pl.concat(totals.rejected, how="vertical").sort("row")
    if strict and not rejected.is_empty():
        raise first_rejection(log, rejected)
    check_rejected_share(log.path, totals.rows_read, reason_counts(rejected), settings.max_rejected_share)
    gap = typical_gap_days(pl.concat(totals.gaps), settings.default_purchase_gap_days)
    given_home = None if given is None else customer_partition(given.get_column("customer_id"), partitions)
    for index in range(partitions):
        given_here = None if given is None else given.filter(given_home == index)
        features = pl.read_parquet(_frame_file(folder, index, "customer_features"))
        _write(folder, index, "customers", derive_customers(features, given_here, settings, gap))
        _write(folder, index, "given_values", given_values_frame(given_here))
    learned = cycles_from_counts(pl.concat(totals.counts), products, settings.cycle_min_repeats)
    return PartitionedDataset(
        folder=folder,
        partitions=partitions,
        as_of=as_of,
        products=with_learned_cycles(products, learned),
        cross_sells=cross_sells,
        source=dataset_source(log.path, catalog, customers_file),
        rejected_rows=rejected,
        rows_read=totals.rows_read,
        learned_cycles=learned,
        baskets=totals.baskets,
    )


def _partition_of(customer_ids: pl.Expr, partitions: int) -> pl.Expr:
    """`customer_partition` of normalised ids, batch by batch inside a (streaming) plan."""
    return customer_ids.map_batches(
        lambda ids: customer_partition(ids, partitions), return_dtype=pl.UInt32, is_elementwise=True
    )


def _raw_folder(folder: Path) -> Path:
    return folder / "log"


def _split_log(scan: pl.LazyFrame, log: LogRead, folder: Path, partitions: int) -> int:
    """Streams the log's rows (`LogRead.scan`: the source columns and the row numbers) into Parquet files by
    partition, in file order; returns the rows written."""
    raw = _raw_folder(folder)
    shutil.rmtree(raw, ignore_errors=True)  # a first attempt refused as ragged may have left files
    customer_ids = log.customer_key(pl.col(log.sources["customer_id"]))
    keyed = scan.with_columns(_partition_of(customer_ids, partitions).alias(_PARTITION))
    target = pl.PartitionBy(
        raw,
        key=_PARTITION,
        include_key=False,
        file_path_provider=lambda file: f"{file.partition_keys.item()}-{file.index_in_partition}.parquet",
    )
    keyed.sink_parquet(target, mkdir=True, compression="lz4")  # a working file, read once: speed over size
    files = sorted(raw.glob("*.parquet"))
    return pl.scan_parquet(files).select(pl.len()).collect().item() if files else 0


def _partition_scan(folder: Path, split: RaggedRead[None], index: int) -> pl.LazyFrame:
    """The log rows of partition `index`, in file order (no rows when none of its customers bought)."""
    files = sorted(_raw_folder(folder).glob(f"{index}-*.parquet"), key=lambda file: int(file.stem.split("-")[1]))
    return pl.scan_parquet(files) if files else pl.LazyFrame(schema=split.scan.collect_schema())


@dataclass(frozen=True)
class _PartitionTotals:
    """What one partition adds to the whole log's reductions."""

    rows_read: int
    """Its log rows."""
    rejected: pl.DataFrame
    """Its rejected rows (REJECTED_SCHEMA)."""
    gaps: pl.DataFrame
    """`mean_gap_days` of each of its customers with a purchase."""
    counts: pl.DataFrame
    """Its repeat intervals counted (INTERVAL_COUNT_SCHEMA)."""
    baskets: bool
    """Whether one of its purchases names a basket."""


@dataclass
class _Totals:
    """The partitions' reductions so far: a row count and a flag, and small frames concatenated at the end."""

    rows_read: int = 0
    """Log rows of the partitions so far."""
    rejected: list[pl.DataFrame] = field(default_factory=lambda: [pl.DataFrame(schema=REJECTED_SCHEMA)])
    """Rejected rows per partition."""
    gaps: list[pl.DataFrame] = field(default_factory=lambda: [pl.DataFrame(schema={"mean_gap_days": pl.Float64})])
    """Customers' mean gaps per partition."""
    counts: list[pl.DataFrame] = field(default_factory=lambda: [pl.DataFrame(schema=INTERVAL_COUNT_SCHEMA)])
    """Repeat-interval counts per partition."""
    baskets: bool = False
    """Whether a purchase so far names a basket."""

    def add(self, part: _PartitionTotals) -> None:
        self.rows_read += part.rows_read
        self.rejected.append(part.rejected)
        self.gaps.append(part.gaps)
        self.counts.append(part.counts)
        self.baskets = self.baskets or part.baskets


def _check_partition(
    log: LogRead,
    split: RaggedRead[None],
    products: pl.DataFrame,
    as_of: date,
    settings: IngestSettings,
    folder: Path,
    index: int,
) -> _PartitionTotals:
    """Checks partition `index`'s log rows as `read_transactions` checks a whole log, writes its purchases and
    customer features, and returns what it adds to the reductions. Its split log files are then removed."""
    product_ids = products.get_column("product_id")
    scan = _partition_scan(folder, split, index)
    checked = [checked_rows(scan, log, product_ids, split.extra_rows).collect()]
    if not checked[0].get_column("row").is_sorted():  # the sink keeps file order; this makes sure of it
        checked[0] = checked[0].sort("row")
    purchases, rejected = split_checked(log, checked, scan, product_ids)
    features = customer_features(purchases, products, as_of, settings.rfm_window_days)
    _write(folder, index, "ownership", ownership_frame(purchases, baskets=True))
    _write(folder, index, "customer_features", features)
    totals = _PartitionTotals(
        rows_read=purchases.height + rejected.height,
        rejected=rejected,
        gaps=features.select("mean_gap_days"),
        counts=interval_counts(purchases, products, as_of),
        baskets=has_baskets(purchases),
    )
    for file in _raw_folder(folder).glob(f"{index}-*.parquet"):
        file.unlink()
    return totals


def _frame_file(folder: Path, index: int, name: str) -> Path:
    return folder / f"partition-{index}" / f"{name}.parquet"


def _write(folder: Path, index: int, name: str, frame: pl.DataFrame) -> None:
    """Writes one frame of a partition (a working file of the run: the folder is the caller's, not an output)."""
    path = _frame_file(folder, index, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path, compression="lz4")
