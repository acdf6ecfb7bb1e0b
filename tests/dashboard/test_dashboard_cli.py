"""`cross-sell dashboard`: a store it cannot read, a URL it cannot reach, a port in use or the extra not installed is one line on
stderr and exit 2 before anything listens; a good store is served until Ctrl-C (exit 130)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from store_tables import build_store
from support import ROOT

from cross_sell_upsell.cli.app import main

STARTUP_SECONDS = 60


def run(capsys: pytest.CaptureFixture, *arguments: str) -> tuple[int, str, str]:
    code = main(["dashboard", *arguments])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_missing_store_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "history.duckdb"
    assert run(capsys, "--store", str(missing)) == (2, "", f"error: store {missing} does not exist\n")


def test_a_file_that_is_not_duckdb_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "history.duckdb"
    path.write_text("not a database\n", encoding="utf-8")
    code, out, err = run(capsys, "--store", str(path))
    assert (code, out) == (2, "")
    assert err == f"error: store {path} is not a DuckDB database\n"


def test_an_unreachable_database_url_is_one_line_without_its_password(capsys: pytest.CaptureFixture) -> None:
    with socket.socket() as probe:  # a port of this machine nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = run(capsys, "--store", f"postgresql://shop:secret@127.0.0.1:{port}/retail")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: postgresql://shop:***@127.0.0.1:{port}/retail cannot be reached (")
    assert err.count("\n") == 1 and "secret" not in err


def test_a_port_out_of_range_is_one_line(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dashboard", "--store", "history.duckdb", "--port", "70000"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == "error: argument --port: '70000' is not a port number from 1 to 65535\n"


def test_a_port_in_use_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    store = build_store(tmp_path / "history.duckdb")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run(capsys, "--store", str(store), "--port", str(port))
    assert (code, out, err) == (2, "", f"error: --host 127.0.0.1 --port {port}: Address already in use\n")


def test_without_the_dashboard_extra_it_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cross_sell_upsell.dashboard.app", None)  # as if dash were not installed
    code, out, err = run(capsys, "--store", str(build_store(tmp_path / "history.duckdb")))
    assert (code, out) == (2, "")
    assert err.startswith(
        "error: the dashboard needs the 'dashboard' extra (pip install 'cross-sell-upsell[dashboard]')"
    )


def test_the_command_serves_the_store_until_interrupted(tmp_path: Path) -> None:
    store = build_store(tmp_path / "history.duckdb")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "cross_sell_upsell.cli", "dashboard", "--store", str(store), "--port", str(port)]
    server = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        layout = _get(f"http://127.0.0.1:{port}/_dash-layout", server)
        assert '"store: history.duckdb, 2 runs"' in layout
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    assert server.returncode == 130, err
    assert out == f"dashboard over {store} on http://127.0.0.1:{port}/ (Ctrl-C stops it)\n"
    assert err.endswith("error: interrupted; no output was written\n")


def _get(url: str, server: subprocess.Popen) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the dashboard exited with {server.returncode}: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode("utf-8")
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the dashboard did not answer in {STARTUP_SECONDS} s")
