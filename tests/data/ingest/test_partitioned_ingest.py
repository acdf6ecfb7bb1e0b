"""The partitioned ingest: the log split by customer into partitions on disk gives, partition by partition, exactly
the Dataset of the one-pass ingest (frames, rejected rows, counts, learned cycles), and the same errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from ingest_helpers import AS_OF, write_text
from polars.testing import assert_frame_equal

from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data.hashing import customer_partition
from cross_sell_upsell.data.ingest import load_transactions_dataset, partitioned
from cross_sell_upsell.data.ingest.partitioned import PartitionRead, auto_partitions, load_partitioned_dataset
from cross_sell_upsell.errors import DataValidationError

SETTINGS = IngestSettings(max_rejected_share=1, cycle_min_repeats=2, encoding="latin-1")
"""Many rows of these logs are bad on purpose; two repeats learn a cycle; a log not in UTF-8 is in Latin-1."""

CATALOG = """
    product_id,name,category,price,margin,replenishment_cycle_days
    P1,Foam Cleanser,cleanser,12.00,medium,30
    P2,Day Cream,moisturizer,20.00,high,
    P3,Sun Lotion,sunscreen,15.00,,
    P4,Night Cream,moisturizer,25.00,high,
"""
"""P2, P3 and P4 have no catalog cycle: P3 learns its own, P2 and P4 (one repeat each) their category's."""

LOG = """
    customer_id,product_id,date,quantity,amount,basket_id
    C1,P1,2024-01-10,1,12.00,b1
    Ben@X.com,P2,2024-01-11,1,20.00,b2
    ben@x.com,P2,2024-02-11,1,20.00,b3
    C2,P3,2024-01-12,1,15.00,b4
    C2,P3,2024-02-12,1,15.00,b5
    C2,P3,2024-02-12,1,15.00,b5
    ,P1,2024-01-12,1,12.00,
    C3,PX,2024-01-13,1,15.00,
    C3,P3,2024-13-01,1,15.00,
    C4,p3 ,2024-01-14,2,30.00,b6
    C4,P3,2024-02-01,1,15.00,b7
    C5,P1,2024-01-20,1,-3,b8
    C5,P4,2024-01-21,1,25.00,b9
    C5,P4,2024-02-20,1,25.00,b10,extra
    C5,P4,2024-02-25,1.5,25.00,b11
    C6,P4,2024-01-02,1,25.00,b12
    C6,P4,2024-01-30,1,25.00,b13
    C6,P1,2024-04-02,1,12.00,b14
    " c7 ",P1,2024-02-02,1,12.00,b15
    Zoé@X.com,P1,2024-02-03,1,12.00,b16
"""
#   2-3 one customer: the email's case differs | 6 a duplicate of 5 | 7 no customer | 8 no such product
#   9 no date | 10 `p3 ` is P3 | 12 a negative amount | 14 a field too many | 15 a fractional quantity
#   18 after the as-of date | 19 the id's spaces are stripped | 20 a letter outside ASCII

CUSTOMERS = """
    customer_id,name,lifetime_value
    BEN@x.com,Ben,500
    C9,Nina,
    C2,,120.5
"""
"""Ben's email in a third case; C9 bought nothing; C2 gives a lifetime value."""

PER_CUSTOMER = ("customers", "ownership", "customer_features", "given_values")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "log": write_text(tmp_path / "log.csv", LOG),
        "catalog": write_text(tmp_path / "catalog.csv", CATALOG),
        "customers": write_text(tmp_path / "customers.csv", CUSTOMERS),
    }


def _csv_log(files: dict[str, Path]) -> Path:
    return files["log"]


def _parquet_log(files: dict[str, Path]) -> Path:
    """The log without its ragged row, as a typed Parquet file."""
    path = files["log"].with_suffix(".parquet")
    lines = [line for line in files["log"].read_text().splitlines() if not line.endswith(",extra")]
    files["log"].write_text("\n".join(lines) + "\n")
    pl.read_csv(files["log"], schema_overrides={"customer_id": pl.String}).write_parquet(path)
    return path


def _latin_1_log(files: dict[str, Path]) -> Path:
    """The CSV log in Latin-1, read as a UTF-8 copy."""
    files["log"].write_bytes(files["log"].read_text(encoding="utf-8").encode("latin-1"))
    return files["log"]


def _table_log(files: dict[str, Path]) -> str:
    """The Parquet log as a DuckDB table."""
    database = files["log"].with_suffix(".duckdb")
    with duckdb.connect(str(database)) as connection:
        connection.execute(f"CREATE TABLE sales AS SELECT * FROM read_parquet('{_parquet_log(files)}')")
    return f"duckdb:{database}::sales"


@pytest.mark.parametrize(
    ("kind", "partitions"),
    [("csv", 1), ("csv", 3), ("csv", 7), ("parquet", 3), ("parquet", 7), ("table", 3), ("latin-1", 3)],
)
def test_the_partitions_together_are_the_one_pass_dataset(tmp_path, files, kind, partitions):
    log = {"csv": _csv_log, "parquet": _parquet_log, "table": _table_log, "latin-1": _latin_1_log}[kind](files)
    whole = load_transactions_dataset(log, files["catalog"], files["customers"], as_of=AS_OF, settings=SETTINGS)
    reads: list[PartitionRead] = []
    split = load_partitioned_dataset(
        log,
        files["catalog"],
        files["customers"],
        as_of=AS_OF,
        folder=tmp_path / "parts",
        partitions=partitions,
        settings=SETTINGS,
        on_partition=reads.append,
    )
    parts = [split.partition(index) for index in range(partitions)]
    # Progress: one report per partition checked, with its customers who bought and its purchases kept.
    assert [(read.step, read.partition, read.partitions) for read in reads] == [
        ("log checks", index, partitions) for index in range(1, partitions + 1)
    ]
    assert [(read.customers, read.purchases) for read in reads] == [
        (part.customer_features.height, part.ownership.height) for part in parts
    ]
    for name in PER_CUSTOMER:
        # Each partition holds exactly the one-pass rows of the customers its ids hash to, in the same order.
        whole_frame = getattr(whole, name)
        home = customer_partition(whole_frame.get_column("customer_id"), partitions)
        for index, part in enumerate(parts):
            assert_frame_equal(getattr(part, name), whole_frame.filter(home == index))
    assert_frame_equal(split.rejected_rows, whole.rejected_rows)
    assert_frame_equal(split.learned_cycles, whole.learned_cycles)
    assert_frame_equal(split.products, whole.products)
    assert_frame_equal(split.cross_sells, whole.cross_sells)
    assert (split.rows_read, split.source) == (whole.rows_read, whole.source)
    assert sorted(pl.concat([part.customers for part in parts]).get_column("customer_id")) == whole.customer_ids()
    assert all(part.rejected_rows is None and part.rows_read is None for part in parts)
    # Without its purchases, a partition is the same but for an ownership frame of the same columns and no row.
    light = split.partition(0, purchases=False)
    assert light.ownership.is_empty() and light.ownership.schema == parts[0].ownership.schema
    assert_frame_equal(light.customers, parts[0].customers)
    # A filtered read is the partition's purchases that the filter keeps, in order.
    recent = pl.col("purchase_date") >= pl.col("purchase_date").min() + pl.duration(days=30)
    for index, part in enumerate(parts):
        assert_frame_equal(split.purchases(index, recent), part.ownership.filter(recent))
    # The nine customers spread: with 7 partitions, 2 have none (an empty partition is a Dataset too).
    assert sum(part.customers.height > 0 for part in parts) == {1: 1, 3: 3, 7: 5}[partitions]


def test_the_log_is_the_one_the_one_pass_test_expects(files):
    """The fixture's rows are what its comments say: every reason, the cases folded, cycles from every basis."""
    whole = load_transactions_dataset(
        files["log"], files["catalog"], files["customers"], as_of=AS_OF, settings=SETTINGS
    )
    assert whole.rejected_rows.select("row", "reason").rows() == [
        (6, "duplicate"),
        (7, "missing_customer_id"),
        (8, "unknown_product"),
        (9, "unparseable_date"),
        (12, "non_positive_amount"),
        (14, "extra_fields"),
        (15, "invalid_quantity"),
    ]
    # C3's rows are both rejected; C9 is only in the customers file.
    assert whole.customer_ids() == ["C1", "C2", "C4", "C5", "C6", "C9", "ben@x.com", "c7", "zoé@x.com"]
    # P3: intervals 31 (C2) and 18 (C4), median 24.5 -> 25; moisturizers: 31 (P2) and 28 (P4), median 29.5 -> 30.
    assert whole.learned_cycles.select("product_id", "cycle_days", "basis", "repeats").rows() == [
        ("P2", 30, "category", 2),
        ("P3", 25, "product", 2),
        ("P4", 30, "category", 2),
    ]


def test_strict_mode_raises_the_one_pass_error(tmp_path, files):
    with pytest.raises(DataValidationError) as whole:
        load_transactions_dataset(files["log"], files["catalog"], as_of=AS_OF, settings=SETTINGS, strict=True)
    with pytest.raises(DataValidationError) as split:
        load_partitioned_dataset(
            files["log"], files["catalog"], as_of=AS_OF, folder=tmp_path, partitions=3, settings=SETTINGS, strict=True
        )
    assert str(split.value) == str(whole.value)
    assert "row 6 (customer C2, product P3)" in str(split.value)  # the lowest row number of all partitions


def test_the_rejected_share_guard_counts_the_whole_log(tmp_path, files):
    strict_share = IngestSettings(max_rejected_share=0.3)  # 7 of 20 rows rejected: 35%
    with pytest.raises(DataValidationError) as whole:
        load_transactions_dataset(files["log"], files["catalog"], as_of=AS_OF, settings=strict_share)
    with pytest.raises(DataValidationError) as split:
        load_partitioned_dataset(
            files["log"], files["catalog"], as_of=AS_OF, folder=tmp_path, partitions=7, settings=strict_share
        )
    assert str(split.value) == str(whole.value)
    assert "7 of 20 rows rejected (35%)" in str(split.value)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("log.xlsx", ""),
        ("missing.csv", None),
        ("log.csv", "customer_id,product_id,amount\nC1,P1,3\n"),
        ("log.parquet", "not parquet"),
        ("log.csv", 'customer_id,product_id,date,amount\nC1,P1,2024-01-01,3\nC2\x00,"P1,2024-01-02,4\n'),
    ],
)
def test_an_unreadable_log_is_the_one_pass_error(tmp_path, files, name, text):
    path = tmp_path / "in" / name
    path.parent.mkdir()
    if text is not None:
        path.write_text(text)
    with pytest.raises(DataValidationError) as whole:
        load_transactions_dataset(path, files["catalog"], as_of=AS_OF, settings=SETTINGS)
    with pytest.raises(DataValidationError) as split:
        load_partitioned_dataset(path, files["catalog"], as_of=AS_OF, folder=tmp_path / "p", partitions=3)
    assert str(split.value) == str(whole.value)


def test_the_customer_partition_is_the_stable_hash_modulo_the_partitions():
    ids = pl.Series(["C001", "", None])
    # stable_hash("C001") is pinned in tests/models/test_segment_features.py; the empty and missing ids hash to 0.
    assert customer_partition(ids, 7).to_list() == [3992376122031484571 % 7, 0, 0]
    assert customer_partition(ids, 1).to_list() == [0, 0, 0]
    assert customer_partition(ids, 7).dtype == pl.UInt32
    with pytest.raises(ValueError, match="partitions must be at least 1, not 0"):
        customer_partition(ids, 0)


def test_no_partitions_is_refused_before_anything_is_read(tmp_path):
    with pytest.raises(ValueError, match="partitions must be at least 1, not 0"):
        load_partitioned_dataset(
            tmp_path / "none.csv", tmp_path / "none.csv", as_of=AS_OF, folder=tmp_path, partitions=0
        )


def test_auto_partitions_count_a_parquet_logs_rows_and_estimate_a_csv_logs(tmp_path, monkeypatch):
    monkeypatch.setattr(partitioned, "ROWS_PER_PARTITION", 4)
    parquet = tmp_path / "log.parquet"
    pl.DataFrame({"customer_id": [f"C{n}" for n in range(10)]}).write_parquet(parquet)
    assert auto_partitions(parquet) == 3  # 10 rows at 4 a partition: 4 + 4 + 2
    monkeypatch.setattr(partitioned, "ROWS_PER_PARTITION", 10)
    assert auto_partitions(parquet) is None  # one partition: the log is read whole
    csv = tmp_path / "log.csv"
    csv.write_bytes(b"x" * (11 * partitioned.CSV_BYTES_PER_ROW))  # about 11 rows
    assert auto_partitions(csv) == 2
    # What cannot be counted is read whole, and its own read says what is wrong with it.
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    assert auto_partitions(broken) is None
    assert auto_partitions(tmp_path / "missing.csv") is None
    assert auto_partitions(f"duckdb:{tmp_path / 'sales.duckdb'}::sales") is None
