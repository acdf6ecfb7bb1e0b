"""SIGINT and SIGTERM: one line on stderr, exit 130 or 143, no traceback, and nothing left in the output folder,
whether the signal comes while the library loads, mid-batch, or twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ROOT

from cross_sell_upsell.cli import app
from cross_sell_upsell.cli.common import run_guarded
from cross_sell_upsell.cli.interrupts import finish_uninterrupted, interrupts_raised, run_interruptible
from cross_sell_upsell.io.staging import StagedOutputs

EXPECTED = {
    signal.SIGINT: (130, "error: interrupted; no output was written\n"),
    signal.SIGTERM: (143, "error: terminated; no output was written\n"),
}


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture()
def handlers() -> Iterator[None]:
    """Puts back this process's signal handlers, which a reported interrupt leaves ignoring later signals."""
    saved = {signum: signal.getsignal(signum) for signum in EXPECTED}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", list(EXPECTED))
def test_a_signal_in_a_guarded_command_deletes_its_staged_files(
    tmp_path: Path, capsys: pytest.CaptureFixture, signum: int
) -> None:
    before = {number: signal.getsignal(number) for number in EXPECTED}

    def command() -> int:
        with StagedOutputs() as staged:
            staged.add(tmp_path / "report.md", "half a run\n")
            try:
                signal.raise_signal(signum)
            finally:
                signal.raise_signal(signal.SIGINT)  # a second one, while the first is cleaned up, is ignored
            staged.commit()
        return 0

    assert run_guarded(command) == EXPECTED[signum][0]
    assert capsys.readouterr().err == EXPECTED[signum][1]
    assert list(tmp_path.iterdir()) == []
    assert {number: signal.getsignal(number) for number in EXPECTED} == before


def test_a_signal_while_the_files_are_published_lets_the_run_finish(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    before = {number: signal.getsignal(number) for number in EXPECTED}

    def command() -> int:
        with StagedOutputs() as staged:
            staged.add(tmp_path / "report.md", "report\n")
            staged.add(tmp_path / "report.csv", "offers\n")
            finish_uninterrupted()
            signal.raise_signal(signal.SIGTERM)  # too late: stopping now would publish one file of two
            staged.commit()
        return 0

    assert run_guarded(command) == 0
    assert capsys.readouterr().err == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.csv", "report.md"]
    assert {number: signal.getsignal(number) for number in EXPECTED} == before


@pytest.mark.parametrize("signum", list(EXPECTED))
def test_a_signal_before_the_guard_is_one_line_too(capsys: pytest.CaptureFixture, handlers: None, signum: int) -> None:
    def main() -> int:
        signal.raise_signal(signum)  # as while the library is imported
        return run_guarded(lambda: 0)

    assert run_interruptible(main) == EXPECTED[signum][0]
    assert capsys.readouterr().err == EXPECTED[signum][1]
    assert signal.getsignal(signum) is signal.SIG_IGN  # until the process exits, however slowly


def test_the_entry_point_loads_the_library_with_the_handlers_in_place(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, handlers: None
) -> None:
    def load(name: str) -> object:
        if name != "cross_sell_parser":
            raise AttributeError(name)
        signal.raise_signal(signal.SIGINT)  # Ctrl-C while the commands are imported
        return None

    commands = types.ModuleType("cross_sell_upsell.cli.commands")
    commands.__getattr__ = load
    monkeypatch.setitem(sys.modules, commands.__name__, commands)
    assert app.main(["report", "--customer", "C001"]) == 130
    assert capsys.readouterr().err == EXPECTED[signal.SIGINT][1]


def test_a_signal_ignored_from_the_start_stays_ignored(handlers: None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as under nohup
    with interrupts_raised():
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN


@pytest.mark.parametrize("script", ["run_orchestrator.py", "run_batch_analysis.py"])
@pytest.mark.parametrize("signum", list(EXPECTED))
def test_a_script_interrupted_while_it_loads_exits_cleanly(tmp_path: Path, script: str, signum: int) -> None:
    # The script beside a config.py that signals while it is imported, which is when the library loads.
    shutil.copy(ROOT / script, tmp_path / script)
    (tmp_path / "config.py").write_text(f"import signal\nsignal.raise_signal({int(signum)})\n", encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, script, "--as-of", "2024-03-01"],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (completed.returncode, completed.stderr) == EXPECTED[signum]
    assert sorted(path.name for path in tmp_path.iterdir() if path.name != "__pycache__") == ["config.py", script]


@pytest.fixture(scope="session")
def synthetic_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 customers: with 100 per chunk, a batch that runs for seconds."""
    folder = tmp_path_factory.mktemp("synth")
    command = [sys.executable, "-m", "cross_sell_upsell.cli.synth", "--customers", "20000", "--seed", "3"]
    subprocess.run([*command, "--out", str(folder)], env=environment(), capture_output=True, timeout=120, check=True)
    return folder


@pytest.mark.parametrize("signum", list(EXPECTED))
def test_a_batch_stopped_mid_run_leaves_nothing(synthetic_log: Path, tmp_path: Path, signum: int) -> None:
    batch = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run_batch_analysis.py"),
            *("--transactions", str(synthetic_log / "transactions.parquet")),
            *("--catalog", str(synthetic_log / "catalog.parquet")),
            *("--customers-file", str(synthetic_log / "customers.parquet")),
            *("--as-of", "2024-12-31", "--chunk-size", "100", "--output", str(tmp_path / "out" / "report.md")),
        ],
        env=environment(),
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    first = batch.stderr.readline()
    assert first.endswith(" customers done, 0 failed\n"), first  # the graph is running, the export is staged
    assert list((tmp_path / "out").glob(".report.recommendations.csv.*.tmp"))
    assert list((tmp_path / "out").glob(".report.md.*.tmp/customers-*.parquet"))  # the store's spilled rows
    batch.send_signal(signum)
    out, err = batch.communicate(timeout=120)
    lines = [line for line in err.splitlines(keepends=True) if not line.endswith(" failed\n")]
    assert (batch.returncode, "".join(lines)) == EXPECTED[signum]
    assert out == ""
    assert list((tmp_path / "out").iterdir()) == []
