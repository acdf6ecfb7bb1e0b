"""Guard rails for cron and the shop-export options' bad values: a log mostly rejected, a run with no customer
to analyse, an essential category the catalog does not have, and every bad option value stop the run with one
line, exit code 2 and nothing written (or, for the category, warn)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import SMALL_CATALOG_CSV, write_text
from pydantic import ValidationError
from support import TIER1

from cross_sell_upsell.cli.app import main
from cross_sell_upsell.configuration import IngestSettings

AS_OF = ["--as-of", "2024-03-01"]

# Three rows: two are bad (P7 is no product, Feb 30 no date).
MOSTLY_BAD = """
    customer_id,product_id,date,amount
    C1,P1,2024-01-10,12
    C1,P7,2024-01-10,5
    C2,P1,2024-02-30,12
"""

MOSTLY_BAD_PROBLEM = (
    "2 of 3 rows rejected (67%), more than the 50% allowed (--max-rejected-share, ingest.max_rejected_share): "
    "unparseable_date 1, unknown_product 1"
)

NOBODY = "no customer can be analysed: none has a valid purchase on or before 2024-03-01 or a profile"

# Four rows: two are bad, exactly half.
HALF_BAD = MOSTLY_BAD + "    C3,P2,2024-01-11,20\n"

# Every essential category of the default routine, `sunscreen` named as the routine's `spf`.
FULL_CATALOG = """
    product_id,name,category,price
    P1,Foam Cleanser,cleanser,12.00
    P2,Rose Toner,toner,14.00
    P3,Serum,serum,22.00
    P4,Day Cream,moisturizer,18.00
    P5,Sun Lotion,spf,15.00
"""


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the commands' default output folder is ./output
    write_text(tmp_path / "in" / "catalog.csv", FULL_CATALOG)
    return tmp_path / "in"


def _log(folder: Path, text: str) -> list[str]:
    log = write_text(folder / "log.csv", text)
    return ["--transactions", str(log), "--catalog", str(folder / "catalog.csv")]


def _run(argv: list[str]) -> int:
    """`cross-sell` with `argv`: its exit code, whether returned or raised by the option parser."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def _written(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file() and "in" not in path.parts)


COMMANDS = [["batch"], ["report", "--customer", "C1"]]


@pytest.mark.parametrize("command", COMMANDS)
def test_more_than_half_of_the_rows_rejected_stops_the_run(files, capsys, command):
    assert main([*command, *_log(files, MOSTLY_BAD), *AS_OF]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"error: {files}/log.csv: record -: field '-': {MOSTLY_BAD_PROBLEM}\n")
    assert _written(files.parent) == []


def test_half_of_the_rows_rejected_is_still_a_run_and_the_share_can_be_raised(files, capsys):
    assert main(["batch", "--quiet", *_log(files, HALF_BAD), *AS_OF, "--output", "out/a.md"]) == 0
    assert main(["batch", "--quiet", *_log(files, MOSTLY_BAD), *AS_OF, "--max-rejected-share", "0.7"]) == 0
    assert main(["batch", "--quiet", *_log(files, HALF_BAD), *AS_OF, "--max-rejected-share", "0.49"]) == 2
    assert capsys.readouterr().err.endswith(
        "2 of 4 rows rejected (50%), more than the 49% allowed (--max-rejected-share, ingest.max_rejected_share): "
        "unparseable_date 1, unknown_product 1\n"
    )


def test_every_row_rejected_leaves_no_customer_to_analyse(files, capsys):
    log = "customer_id,product_id,date,amount\nC1,P7,2024-01-10,5\nC2,P1,2024-02-30,12\n"
    assert main(["batch", *_log(files, log), *AS_OF, "--max-rejected-share", "1"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"error: {files}/log.csv + {files}/catalog.csv: record -: field '-': {NOBODY}\n")
    assert _written(files.parent) == []


def test_a_batch_whose_every_requested_customer_fails_writes_nothing(files, capsys):
    assert main(["batch", "--quiet", "--customers", "C999", "--data-dir", str(TIER1), *AS_OF]) == 2
    assert capsys.readouterr().err == (
        f"error: {TIER1}: record -: field '-': no customer can be analysed: all 1 requested failed, the first "
        "(C999) with: unknown customer id 'C999'; closest known ids: C009\n"
    )
    assert _written(files.parent) == []


def test_an_essential_category_the_catalog_lacks_warns_and_is_an_error_under_strict(files, capsys):
    catalog = write_text(files / "catalog.csv", SMALL_CATALOG_CSV)  # cleanser, moisturizer, sunscreen
    argv = ["batch", *_log(files, "customer_id,product_id,date,amount\nC1,P1,2024-01-10,12\n"), *AS_OF]
    problem = (
        f"{catalog}: essential categories 'toner', 'serum', 'spf' match no catalog category; the catalog has "
        "cleanser, moisturizer, sunscreen (map yours with ingest.category_mapping, or set essential_categories)"
    )
    assert main([*argv, "--output", "out/a.md"]) == 0
    assert f"warning: {problem}" in capsys.readouterr().err.splitlines()
    assert main([*argv, "--strict", "--output", "out/b.md"]) == 2
    assert capsys.readouterr().err == (
        f"error: {catalog}: record -: field 'category': essential categories 'toner', 'serum', 'spf' match no "
        "catalog category; the catalog has cleanser, moisturizer, sunscreen (map yours with "
        "ingest.category_mapping, or set essential_categories)\n"
    )
    assert not (files.parent / "out" / "b.md").exists()


BAD_OPTIONS = [
    (["--delimiter", ";;"], "argument --delimiter: ';;' is not one character other than a quote or a line break"),
    (["--delimiter", '"'], "argument --delimiter: '\"' is not one character other than a quote or a line break"),
    (["--date-format", "%Y"], "argument --date-format: '%Y' is not a strftime format of a whole date"),
    (["--date-format", "dd/mm/yyyy"], "argument --date-format: 'dd/mm/yyyy' is not a strftime format"),
    (["--max-rejected-share", "1.5"], "argument --max-rejected-share: '1.5' is not a share from 0 to 1"),
    (["--max-rejected-share", "50%"], "argument --max-rejected-share: '50%' is not a share from 0 to 1"),
    (["--max-rejected-share", "nan"], "argument --max-rejected-share: 'nan' is not a share from 0 to 1"),
    (["--decimal-comma=yes"], "argument --decimal-comma/--no-decimal-comma: ignored explicit argument 'yes'"),
]


@pytest.mark.parametrize(
    "command", [*COMMANDS, ["backtest", "--cutoff", "2024-03-01", "--horizon-days", "7", "--k", "2"]]
)
@pytest.mark.parametrize(("option", "message"), BAD_OPTIONS)
def test_a_bad_shop_option_is_one_line_exit_2_and_writes_nothing(files, capsys, command, option, message):
    assert _run([*command, *_log(files, HALF_BAD), *AS_OF, *option]) == 2
    out, err = capsys.readouterr()
    assert (out, err.count("\n")) == ("", 1)
    assert err.startswith(f"error: {message}")
    assert _written(files.parent) == []


@pytest.mark.parametrize("option", [["--delimiter", ";"], ["--decimal-comma"], ["--date-format", "%d.%m.%Y"]])
def test_the_shop_options_go_with_a_log(files, capsys, option):
    assert main(["batch", "--data-dir", str(TIER1), *AS_OF, *option]) == 2
    name = option[0]
    assert capsys.readouterr().err == f"error: {name} goes with --transactions, not --data-dir\n"
    assert _written(files.parent) == []


def test_the_backtest_reads_the_log_with_the_shop_options(files, capsys):
    argv = ["backtest", "--cutoff", "2024-03-01", "--horizon-days", "7", "--k", "2", *_log(files, MOSTLY_BAD)]
    assert main([*argv, "--max-rejected-share", "0.1"]) == 2
    assert "2 of 3 rows rejected (67%), more than the 10% allowed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ({"date_format": "%m/%Y"}, "date_format"),
        ({"delimiter": "ab"}, "delimiter"),
        ({"delimiter": "\n"}, "delimiter"),
        ({"max_rejected_share": -0.1}, "max_rejected_share"),
        ({"decimal_comma": "sometimes"}, "decimal_comma"),
    ],
)
def test_bad_shop_settings_in_the_configuration_name_the_key(setting, field):
    with pytest.raises(ValidationError) as raised:
        IngestSettings(**setting)
    assert [error["loc"] for error in raised.value.errors()] == [(field,)]
