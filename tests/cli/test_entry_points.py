"""Every way in: the two scripts, the `python -m` modules and the `cross-sell` entry point with its subcommands.
Each help ends with an example, each is in the README, and the installed entry point runs outside a checkout."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

import pytest
from support import AS_OF, ROOT, TIER1

from cross_sell_upsell.cli.app import PROG, main
from cross_sell_upsell.cli.backtest import backtest_parser
from cross_sell_upsell.cli.batch import batch_parser
from cross_sell_upsell.cli.commands import cross_sell_parser, environment_config
from cross_sell_upsell.cli.models import models_parser
from cross_sell_upsell.cli.orchestrator import orchestrator_main, orchestrator_parser
from cross_sell_upsell.cli.synth import synth_parser
from cross_sell_upsell.configuration import CATALOG_FIELDS, CUSTOMER_FIELDS, TRANSACTION_FIELDS, OrchestratorConfig


def entry_points() -> dict[str, str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cross_sell_parser()
    (commands,) = (action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return dict(commands.choices)


def every_parser() -> dict[str, argparse.ArgumentParser]:
    """Each command's parser, keyed by the command line that starts it."""
    return {
        "python run_orchestrator.py": orchestrator_parser(TIER1, ROOT / "output"),
        "python run_batch_analysis.py": batch_parser(TIER1, ROOT / "output"),
        "python -m cross_sell_upsell.cli.backtest": backtest_parser(),
        "python -m cross_sell_upsell.cli.synth": synth_parser(),
        "python -m cross_sell_upsell.models": models_parser(),
        PROG: cross_sell_parser(),
        **{parser.prog: parser for parser in subcommands().values()},  # an alias's parser once, by its name
    }


def test_the_entry_point_is_the_cross_sell_command() -> None:
    (spec,) = entry_points().values()
    module, function = spec.split(":")
    assert getattr(import_module(module), function) is main
    commands = subcommands()
    assert list(commands) == [
        "customer",
        "report",
        "batch",
        "backtest",
        "synth",
        "models",
        "status",
        "dashboard",
        "history",
    ]
    assert commands["report"] is commands["customer"]  # `report` stays, as an alias


@pytest.mark.parametrize(("command", "parser"), every_parser().items())
def test_every_help_ends_with_an_example_of_its_own_command(command: str, parser: argparse.ArgumentParser) -> None:
    last_paragraph = parser.format_help().rstrip().split("\n\n")[-1]
    example = re.search(r"(?:^|\n)example: (.*)\Z", last_paragraph, flags=re.DOTALL)
    assert example is not None, last_paragraph
    words, start = example.group(1).split(), command.split()
    assert words[: len(start)] == start
    parser.parse_args(words[len(start) :])  # the example's options are the command's own


@pytest.mark.parametrize(("command", "parser"), every_parser().items())
def test_every_help_lists_the_exit_codes_and_the_fields_column_accepts(
    command: str, parser: argparse.ArgumentParser
) -> None:
    text = " ".join(parser.format_help().split())  # the closing paragraphs are wrapped
    assert "exit codes: 0 done" in text or "exit codes: 0 every customer analysed" in text
    for code in ("2 bad input, arguments or settings (one line on stderr, nothing written)", "130", "143"):
        assert code in text
    if command == f"{PROG} dashboard":  # it reads a store, no data files: it has no --column
        assert "fields --column" not in text
        return
    fields = [
        *TRANSACTION_FIELDS,
        *(f"catalog.{name}" for name in CATALOG_FIELDS),
        *(f"customers.{name}" for name in CUSTOMER_FIELDS),
    ]
    listed = text.split("fields --column NAME=SOURCE maps: ", 1)[1].split(" example: ", 1)[0]
    assert re.findall(r"[a-z_.]+(?=[,;] | \(|$)", listed) == fields


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    for command in [*every_parser(), *entry_points()]:
        assert command.removeprefix("python ") in section, command


def _with_this_checkout() -> dict[str, str]:
    """The environment of a subprocess that imports this checkout's code wherever it runs."""
    paths = [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _generated_line_removed(text: str) -> str:
    return re.sub(r".*Generated at.*\n", "", text)


def test_the_installed_entry_point_writes_the_scripts_report_under_the_working_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    module, function = entry_points()["cross-sell"].split(":")
    arguments = ["--customer", "C001", "--data-dir", str(TIER1), "--as-of", AS_OF.isoformat()]
    # What the installed `cross-sell` script does, run from a folder that is no checkout.
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; from {module} import {function}; sys.exit({function}())",
            "report",
            *arguments,
        ],
        cwd=tmp_path,
        env=_with_this_checkout(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "output/reports/report_C001_2024-03-01.md\n"
    assert orchestrator_main(arguments, OrchestratorConfig(), TIER1, tmp_path / "script") == 0
    script_report = Path(capsys.readouterr().out.strip())
    assert _generated_line_removed((tmp_path / completed.stdout.strip()).read_text(encoding="utf-8")) == (
        _generated_line_removed(script_report.read_text(encoding="utf-8"))
    )


def test_python_m_runs_the_same_command(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    arguments = ["--customer", "C004", "--data-dir", str(TIER1), "--as-of", AS_OF.isoformat(), "--format", "json"]
    completed = subprocess.run(
        [sys.executable, "-m", "cross_sell_upsell.cli", "report", *arguments],
        cwd=tmp_path,
        env=_with_this_checkout(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert orchestrator_main(arguments, OrchestratorConfig(), TIER1, tmp_path / "script") == 0
    assert completed.stdout == capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


@pytest.fixture()
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder and an environment copy that loading a `.env` may change."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        os, "environ", {name: value for name, value in os.environ.items() if not name.startswith("LLM_")}
    )
    return tmp_path


def test_the_entry_point_reads_dotenv_in_the_working_folder_and_caches_under_output(environment: Path) -> None:
    (environment / ".env").write_text("LLM_MODEL=llama3.1\n", encoding="utf-8")
    settings = environment_config().llm
    assert (settings.model, settings.cache_dir) == ("llama3.1", Path("output/.llm_cache"))


def test_llm_cache_dir_in_dotenv_overrides_the_cache_folder(environment: Path) -> None:
    (environment / ".env").write_text("LLM_CACHE_DIR=off\n", encoding="utf-8")
    assert environment_config().llm.cache_dir is None


def test_the_scripts_cache_under_the_project_output_folder(environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    import config

    assert config.orchestrator_config().llm.cache_dir == ROOT / "output" / ".llm_cache"


def test_a_bad_setting_in_dotenv_is_one_line_and_exit_2(environment: Path, capsys: pytest.CaptureFixture) -> None:
    (environment / ".env").write_text("LLM_MAX_CONCURRENCY=0\n", encoding="utf-8")
    assert main(["report", "--customer", "C001", "--data-dir", str(TIER1)]) == 2
    assert capsys.readouterr().err == (
        "error: environment variable LLM_MAX_CONCURRENCY: Input should be greater than or equal to 1\n"
    )
    assert sorted(path.name for path in environment.iterdir()) == [".env"]


@pytest.mark.parametrize(("command", "parser"), every_parser().items())
def test_every_usage_error_is_one_line_and_exit_2(
    command: str, parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["--no-such-option"])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    # A command with required options names those first; argparse would have printed its usage block too.
    assert out == "" and re.fullmatch(
        r"error: (the following arguments are required|unrecognized arguments): .*\n", err
    )


@pytest.mark.parametrize(("command", "parser"), every_parser().items())
def test_help_is_argparse_own(command: str, parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["--help"])
    assert exited.value.code == 0
    assert capsys.readouterr() == (argparse.ArgumentParser.format_help(parser), "")
