"""The one check of the data-source options, through every command that reads data: each problem is one line on
stderr, exit code 2, and nothing written."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from cross_sell_upsell.cli.app import main
from cross_sell_upsell.cli.common import data_source
from cross_sell_upsell.errors import ConfigurationError

ALTERNATIVES = "error: --data-dir and --transactions are alternatives: give one"
NEEDS_CATALOG = "error: --transactions needs --catalog"
NOT_DATA_DIR = "error: --catalog, --customers-file and --column go with --transactions, not --data-dir"
NOT_DATASET = "error: --catalog, --customers-file and --column go with --transactions, not --dataset"
BACKTEST = ["backtest", "--cutoff", "2024-03-01", "--horizon-days", "7", "--k", "2"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "--customer", "C1", "--data-dir", "data", "--transactions", "log.csv"], ALTERNATIVES),
        (["report", "--customer", "C1", "--transactions", "log.csv"], NEEDS_CATALOG),
        (["report", "--customer", "C1", "--customers-file", "customers.csv"], NOT_DATA_DIR),
        (["batch", "--data-dir", "data", "--transactions", "log.csv", "--catalog", "catalog.csv"], ALTERNATIVES),
        (["batch", "--transactions", "log.csv", "--column", "product_id=sku"], NEEDS_CATALOG),
        (["batch", "--column", "product_id=sku"], NOT_DATA_DIR),
        (
            [*BACKTEST, "--dataset", "completejourney", "--transactions", "log.csv"],
            "error: --transactions and --dataset are alternatives: give one",
        ),
        ([*BACKTEST, "--transactions", "log.csv"], NEEDS_CATALOG),
        ([*BACKTEST, "--dataset", "completejourney", "--catalog", "catalog.csv"], NOT_DATASET),
        (BACKTEST, "error: no data: give --transactions with its --catalog, or --dataset"),
    ],
)
def test_a_bad_data_source_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)  # the command's default output folder is ./output
    assert main(argv) == 2
    assert capsys.readouterr() == ("", f"{message}\n")
    assert list(tmp_path.iterdir()) == []


def _options(**given: object) -> argparse.Namespace:
    return argparse.Namespace(**{"catalog": None, "customers_file": None, "column": [], **given})


@pytest.mark.parametrize(
    ("options", "source"),
    [
        (_options(data_dir=Path("data/tier1"), transactions=None), "data_dir"),  # the default folder
        (_options(data_dir=Path("x"), data_dir_given=True, transactions=None), "data_dir"),
        (_options(data_dir=Path("data/tier1"), transactions=Path("log.csv"), catalog=Path("c.csv")), "transactions"),
        (_options(transactions=Path("log.csv"), catalog=Path("c.csv"), dataset=None), "transactions"),
        (_options(transactions=None, dataset="completejourney"), "dataset"),
    ],
)
def test_the_source_the_options_name(options: argparse.Namespace, source: str) -> None:
    assert data_source(options) == source


def test_the_log_companions_are_named_in_the_error() -> None:
    with pytest.raises(ConfigurationError, match="^--catalog, --customers-file and --column go with --transactions"):
        data_source(_options(data_dir=Path("data/tier1"), transactions=None, column=[("product_id", "sku")]))
