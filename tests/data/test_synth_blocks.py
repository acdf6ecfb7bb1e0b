"""The synthetic data drawn and written in blocks of customers: what a multi-block run writes, and that a run
failing midway publishes nothing. Tiny blocks (a `block_size` of 20) stand in for the million of the real runs."""

from __future__ import annotations

import errno
import hashlib
from functools import partial
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import load_synthetic

from cross_sell_upsell.cli import synth as synth_cli
from cross_sell_upsell.data import synth
from cross_sell_upsell.data.ingest import rows_rejected_summary
from cross_sell_upsell.data.synth import generate, parquet_bytes
from cross_sell_upsell.data.synth_files import FILE_NAMES, write_synthetic

CUSTOMERS, SEED, BLOCK = 50, 3, 20  # three blocks: customers 1-20, 21-40 and 41-50

SCHEMA = {
    "customer_id": pl.String,
    "product_id": pl.String,
    "date": pl.Date,
    "quantity": pl.Int32,
    "amount": pl.Float64,
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    folder = tmp_path_factory.mktemp("blocks")
    paths, rows = write_synthetic(folder, CUSTOMERS, SEED, block_size=BLOCK)
    assert paths == [folder / name for name in FILE_NAMES]
    return folder, rows


def _block_of(customer_id: pl.Expr) -> pl.Expr:
    return (customer_id.str.slice(1).cast(pl.Int64) - 1) // BLOCK


def test_the_folder_holds_the_three_files_and_nothing_else(written):
    folder, _ = written
    assert sorted(path.name for path in folder.iterdir()) == sorted(FILE_NAMES)


def test_the_streamed_files_are_the_bytes_of_the_whole_frames(written):
    # Writing block by block changes nothing in the files: they are what writing the frames in one go writes.
    folder, _ = written
    frames = generate(CUSTOMERS, SEED, block_size=BLOCK)
    for name, frame in frames.items():
        assert (folder / f"{name}.parquet").read_bytes() == parquet_bytes(frame), name


def test_the_same_seed_and_size_write_the_same_bytes(written, tmp_path):
    folder, _ = written
    write_synthetic(tmp_path, CUSTOMERS, SEED, block_size=BLOCK)
    for name in FILE_NAMES:
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes(), name


def test_customer_ids_are_numbered_across_blocks(written):
    customers = pl.read_parquet(written[0] / "customers.parquet")
    assert customers.get_column("customer_id").to_list() == [f"C{number:07d}" for number in range(1, CUSTOMERS + 1)]
    assert customers.get_column("email").to_list()[20] == "customer21@example.com"


def test_the_log_is_one_parquet_file_of_every_block_whose_customers_are_on_file(written):
    folder, rows = written
    log = pl.read_parquet(folder / "transactions.parquet")
    customers = pl.read_parquet(folder / "customers.parquet")
    assert log.schema == pl.Schema(SCHEMA)
    assert log.height == rows
    assert log.join(customers, on="customer_id", how="anti").is_empty()
    per_block = log.group_by(_block_of(pl.col("customer_id")).alias("block")).len().sort("block")
    assert per_block.get_column("block").to_list() == [0, 1, 2]
    assert per_block.get_column("len").sum() == rows


def test_the_files_load_through_ingestion_without_a_rejected_row(written):
    folder, _ = written
    dataset = load_synthetic(folder, strict=True)
    assert rows_rejected_summary(dataset)["total"] == 0
    assert dataset.customers.height == CUSTOMERS


def test_the_log_is_ordered_by_block_then_day_customer_and_product(written):
    log = pl.read_parquet(written[0] / "transactions.parquet").with_columns(block=_block_of(pl.col("customer_id")))
    assert_frame_equal(log, log.sort("block", "date", "customer_id", "product_id", maintain_order=True))


def test_the_first_block_is_what_a_run_of_one_block_draws(written):
    # Block 0 draws from the seed itself, so sizes up to one block keep the bytes they always had.
    folder, _ = written
    alone = generate(BLOCK, SEED)
    customers = pl.read_parquet(folder / "customers.parquet").head(BLOCK)
    log = pl.read_parquet(folder / "transactions.parquet")
    assert_frame_equal(customers, alone["customers"])
    assert_frame_equal(log.filter(_block_of(pl.col("customer_id")) == 0), alone["transactions"])


def test_each_block_draws_from_its_own_generator(written):
    # The same generator in every block would repeat block 0's customers: the same names, the same purchases.
    customers = pl.read_parquet(written[0] / "customers.parquet")
    names = customers.get_column("name").to_list()
    assert names[:BLOCK] != names[BLOCK : 2 * BLOCK]
    log = pl.read_parquet(written[0] / "transactions.parquet").with_columns(
        block=_block_of(pl.col("customer_id")), number=(pl.col("customer_id").str.slice(1).cast(pl.Int64) - 1) % BLOCK
    )
    first, second = (log.filter(pl.col("block") == block).drop("customer_id", "block") for block in (0, 1))
    assert not first.equals(second)


def test_the_files_of_400_customers_keep_their_bytes(tmp_path):
    # The bytes the generator wrote before it drew in blocks (and the recorded benchmarks' data was written
    # with): a change here changes every data set regenerated from a seed.
    write_synthetic(tmp_path, 400, 11)
    digests = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()[:16] for name in FILE_NAMES}
    assert digests == EXPECTED_DIGESTS


EXPECTED_DIGESTS = {
    "catalog.parquet": "de394bed126cc5dc",
    "customers.parquet": "b8d9869d84ba8a7e",
    "transactions.parquet": "e4a390d6f2b4d878",
}


def test_a_block_without_a_buyer_is_written(tmp_path):
    # Seed 60 in blocks of one: customer 2 is a prospect, so the second block has no transaction at all.
    _, rows = write_synthetic(tmp_path, 3, 60, block_size=1)
    log = pl.read_parquet(tmp_path / "transactions.parquet")
    assert sorted(log.get_column("customer_id").unique()) == ["C0000001", "C0000003"]
    assert pl.read_parquet(tmp_path / "customers.parquet").height == 3
    assert log.height == rows
    assert (tmp_path / "transactions.parquet").read_bytes() == parquet_bytes(
        generate(3, 60, block_size=1)["transactions"]
    )


def test_a_run_of_one_prospect_writes_an_empty_log(tmp_path):
    # Seed 25's only customer never buys.
    assert synth_cli.main(["--customers", "1", "--seed", "25", "--out", str(tmp_path)]) == 0
    log = pl.read_parquet(tmp_path / "transactions.parquet")
    assert log.schema == pl.Schema(SCHEMA)
    assert log.height == 0


def _fail_in_second_block(failure: BaseException, monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes the CLI draw blocks of BLOCK customers and fail while drawing the second."""
    draw = synth._draw_block

    def failing(catalog, rng, first, size, width):
        if first > 0:
            raise failure
        return draw(catalog, rng, first, size, width)

    monkeypatch.setattr(synth, "_draw_block", failing)
    monkeypatch.setattr(synth_cli, "write_synthetic", partial(write_synthetic, block_size=BLOCK))


def _refused_for_a_full_disk(out: Path, capsys: pytest.CaptureFixture) -> None:
    """The run exits 2 with one line naming the log it could not write, and publishes nothing."""
    assert synth_cli.main(["--customers", str(CUSTOMERS), "--out", str(out)]) == 2
    target = out / "transactions.parquet"
    assert capsys.readouterr().err == f"error: cannot write {target}: No space left on device\n"
    assert list(out.iterdir()) == []


def test_a_run_failing_midway_publishes_nothing(tmp_path, monkeypatch, capsys):
    _fail_in_second_block(OSError(errno.ENOSPC, "No space left on device"), monkeypatch)
    _refused_for_a_full_disk(tmp_path / "out", capsys)


def test_a_sink_failing_midway_publishes_nothing(tmp_path, monkeypatch, capsys):
    # The disk fills while the log is written: the sink fails after its first row group, while blocks remain.
    sink_parquet = pl.LazyFrame.sink_parquet

    def filling(frame: pl.LazyFrame, path: object, **options: object) -> None:
        if not str(path).endswith(".tmp") or "transactions" not in str(path):
            return sink_parquet(frame, path, **options)  # the other files (polars' write_parquet sinks too)
        sink_parquet(frame.head(1), path, **options)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pl.LazyFrame, "sink_parquet", filling)
    monkeypatch.setattr(synth_cli, "write_synthetic", partial(write_synthetic, block_size=BLOCK))
    _refused_for_a_full_disk(tmp_path / "out", capsys)


def test_an_interrupted_run_publishes_nothing(tmp_path, monkeypatch, capsys):
    _fail_in_second_block(KeyboardInterrupt(), monkeypatch)
    out = tmp_path / "out"
    assert synth_cli.main(["--customers", str(CUSTOMERS), "--out", str(out)]) == 130
    assert list(out.iterdir()) == []


def test_a_negative_seed_is_an_error(tmp_path, capsys):
    assert synth_cli.main(["--customers", "5", "--seed", "-1", "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err == "error: --seed must be at least 0\n"
    assert not (tmp_path / "x").exists()
