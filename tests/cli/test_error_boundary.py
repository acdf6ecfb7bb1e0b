"""The one error boundary of every command: a file that cannot be written, a bad setting and a 10,000-character
value each give one line on stderr (naming the file), exit code 2, and leave nothing behind."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from support import AS_OF, ROOT, TIER1

from cross_sell_upsell.cli.app import main
from cross_sell_upsell.cli.backtest import main as backtest_main
from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.cli.common import run_guarded
from cross_sell_upsell.cli.orchestrator import orchestrator_main
from cross_sell_upsell.cli.synth import main as synth_main
from cross_sell_upsell.configuration import OrchestratorConfig

LONG_ID = "A" * 4_995 + "Z" * 5_005
SHOWN_ID = "A" * 40 + "..." + "Z" * 10
BAD_TIMEOUT = (
    "error: environment variable LLM_TIMEOUT_SECONDS: Input should be a valid number, unable to parse string as a "
    "number\n"
)


@pytest.fixture()
def places(tmp_path: Path) -> Path:
    """A folder with an empty folder and a regular file in it, and a device that is always full when it can be
    made (root can write anywhere, so a read-only folder is no test; a path under a file is)."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("not a folder\n", encoding="utf-8")
    try:
        os.mknod(tmp_path / "full", stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except OSError:
        pass
    return tmp_path


def left_behind(folder: Path) -> dict[str, str]:
    """What is in `folder` now, each entry with its kind and, for a file, its text."""
    kinds = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        kind = "folder" if stat.S_ISDIR(mode) else "device" if stat.S_ISCHR(mode) else path.read_text()
        kinds[str(path.relative_to(folder))] = kind
    return kinds


@pytest.fixture()
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder (for the entry point's `.env` and `output/`) and no LLM settings."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name in [name for name in os.environ if name.startswith("LLM_")]:
        monkeypatch.delenv(name)
    return folder


@pytest.mark.parametrize("output_format", ["markdown", "json"])
@pytest.mark.parametrize(
    ("output", "reason"),
    [("folder", "Is a directory"), ("file/report.md", "Not a directory"), ("full", "No space left on device")],
)
def test_a_report_that_cannot_be_written_is_one_line_naming_it(
    places: Path, capsys: pytest.CaptureFixture, output: str, reason: str, output_format: str
) -> None:
    if output == "full" and not (places / "full").exists():
        pytest.skip("cannot make a device node here")
    before = left_behind(places)
    argv = ["--customer", "C001", "--as-of", AS_OF.isoformat(), "--format", output_format]
    code = orchestrator_main([*argv, "--output", str(places / output)], OrchestratorConfig(), TIER1, places / "out")
    assert (code, capsys.readouterr()) == (2, ("", f"error: cannot write {places / output}: {reason}\n"))
    assert left_behind(places) == before


def test_the_entry_point_reports_the_same_way(environment: Path, capsys: pytest.CaptureFixture) -> None:
    (environment / "folder").mkdir()
    assert main(["report", "--customer", "C001", "--data-dir", str(TIER1), "--output", "folder"]) == 2
    assert capsys.readouterr().err == "error: cannot write folder: Is a directory\n"
    assert left_behind(environment) == {"folder": "folder"}


def test_a_full_disk_mid_batch_names_the_file_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(frame: pl.DataFrame, file: object = None, **options: object) -> None:
        raise OSError("No space left on device (os error 28)")  # what polars raises

    monkeypatch.setattr(pl.DataFrame, "write_csv", full_disk)
    argv = ["--as-of", AS_OF.isoformat(), "--quiet", "--output", str(tmp_path / "report.md")]
    assert batch_main(argv, OrchestratorConfig(), TIER1, tmp_path / "out") == 2
    assert capsys.readouterr().err == (
        f"error: cannot write {tmp_path / 'report.recommendations.csv'}: No space left on device (os error 28)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_batch_under_a_file_names_the_file_it_could_not_write(places: Path, capsys: pytest.CaptureFixture) -> None:
    before = left_behind(places)
    argv = ["--as-of", AS_OF.isoformat(), "--quiet", "--output", str(places / "file" / "report.md")]
    assert batch_main(argv, OrchestratorConfig(), TIER1, places / "out") == 2
    target = places / "file" / "report.recommendations.csv"
    assert capsys.readouterr().err == f"error: cannot write {target}: Not a directory\n"
    assert left_behind(places) == before


def test_backtest_and_synth_outputs_that_cannot_be_written(places: Path, capsys: pytest.CaptureFixture) -> None:
    (places / "catalog.csv").write_text("product_id,name,category,price\nP1,Oat Milk,dairy,3.0\n", encoding="utf-8")
    (places / "log.csv").write_text("customer_id,product_id,date,amount\nC1,P1,2024-02-01,3.0\n", encoding="utf-8")
    before = left_behind(places)
    data = ["--transactions", str(places / "log.csv"), "--catalog", str(places / "catalog.csv")]
    backtest = [*data, "--cutoff", "2024-03-01", "--horizon-days", "7", "--k", "2", "--output", str(places / "folder")]
    assert backtest_main(backtest) == 2
    assert capsys.readouterr().err == f"error: cannot write {places / 'folder'}: Is a directory\n"
    assert synth_main(["--customers", "5", "--out", str(places / "file")]) == 2
    assert capsys.readouterr().err == f"error: cannot write {places / 'file' / 'catalog.parquet'}: Not a directory\n"
    assert left_behind(places) == before


@pytest.mark.parametrize("script", ["run_orchestrator.py", "run_batch_analysis.py"])
def test_a_bad_setting_is_one_line_and_exit_2_in_each_script(tmp_path: Path, script: str) -> None:
    environment = {**os.environ, "LLM_TIMEOUT_SECONDS": "soon", "PYTHONPATH": str(ROOT / "src")}
    completed = subprocess.run(
        [sys.executable, str(ROOT / script), "--customer", "C001", "--output", str(tmp_path / "report.md")],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (completed.returncode, completed.stdout, completed.stderr) == (2, "", BAD_TIMEOUT)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["report", "--customer", "C001"], ["batch"]])
def test_a_bad_setting_is_one_line_and_exit_2_in_each_subcommand(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, command: list[str]
) -> None:
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "soon")
    assert main([*command, "--data-dir", str(TIER1)]) == 2
    assert capsys.readouterr() == ("", BAD_TIMEOUT)
    assert list(environment.iterdir()) == []


def test_an_unknown_10000_character_id_is_elided_in_the_report_command(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert orchestrator_main(["--customer", LONG_ID], OrchestratorConfig(), TIER1, tmp_path) == 2
    assert capsys.readouterr().err == f"error: unknown customer id '{SHOWN_ID}'\n"
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_10000_character_id_is_elided_in_the_batch(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["--as-of", AS_OF.isoformat(), "--quiet", "--output", str(tmp_path / "report.md"), "--customers", LONG_ID]
    assert batch_main([*argv, "C001"], OrchestratorConfig(), TIER1, tmp_path / "out") == 1
    assert capsys.readouterr().err == (
        f"error: 1 of 2 customers could not be analysed; the report's Errors section lists them: {tmp_path}/report.md\n"
    )
    summary = json.loads((tmp_path / "report.summary.json").read_text(encoding="utf-8"))
    assert summary["errors"] == [{"customer_id": LONG_ID, "error": f"unknown customer id '{SHOWN_ID}'"}]


DATE_PROBLEM = "' is not a date in YYYY-MM-DD form"


@pytest.mark.parametrize(
    ("run", "argv", "prefix", "suffix"),
    [
        (main, ["report", "--customer", "C001", "--as-of", LONG_ID], "argument --as-of: '", DATE_PROBLEM),
        (main, ["batch", "--as-of", LONG_ID], "argument --as-of: '", DATE_PROBLEM),
        (backtest_main, ["--cutoff", LONG_ID, "--k", "1", "--horizon-days", "1"], "argument --cutoff: '", DATE_PROBLEM),
        (synth_main, ["--customers", LONG_ID, "--out", "nowhere"], "argument --customers: invalid int value: '", "'"),
    ],
)
def test_a_10000_character_option_value_is_one_capped_line(
    environment: Path, capsys: pytest.CaptureFixture, run, argv: list[str], prefix: str, suffix: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(argv)
    # The message's first 300 characters and its last 100, the long value's middle elided.
    shown = f"{prefix}{'A' * (300 - len(prefix))}...{'Z' * (100 - len(suffix))}{suffix}"
    assert (exited.value.code, capsys.readouterr().err) == (2, f"error: {shown}\n")
    assert list(environment.iterdir()) == []


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            PermissionError(13, "Permission denied", "/srv/shared/cache"),
            "error: /srv/shared/cache: Permission denied\n",
        ),
        (BrokenPipeError(32, "Broken pipe"), "error: Broken pipe\n"),
        (OSError("No space left on device (os error 28)"), "error: No space left on device (os error 28)\n"),
    ],
)
def test_any_other_os_error_is_one_line_naming_its_file(
    capsys: pytest.CaptureFixture, error: OSError, line: str
) -> None:
    def command() -> int:
        raise error

    assert run_guarded(command) == 2
    assert capsys.readouterr().err == line
