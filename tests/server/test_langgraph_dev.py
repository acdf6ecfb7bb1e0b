"""`langgraph dev` (LangGraph's in-memory server, dev extra) serves the graph `langgraph.json` names: a run streamed
with `langgraph_sdk` gives every node's update and the in-process graph's offers, as JSON; a bad context reaches the
client as its one-line message. Offline: no LangSmith tracing, no CLI analytics, no version check."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from langgraph_sdk import get_client
from support import AS_OF, ROOT, TIER1

from cross_sell_upsell.pipeline.context import Context
from cross_sell_upsell.pipeline.graph import graph as frame_graph
from cross_sell_upsell.server.graph import as_json

OFFLINE = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",  # the CLI posts each command to its analytics endpoint otherwise
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGGRAPH_NO_VERSION_CHECK": "true",  # else the server asks PyPI for newer versions
}
STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"langgraph dev exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ok", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"langgraph dev did not answer in {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    """`langgraph dev` on a free port, run from a scratch folder (its `.langgraph_api` store goes there) with the
    repository's langgraph.json; always stopped."""
    folder = tmp_path_factory.mktemp("langgraph_dev")
    log = folder / "server.log"
    port = _free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("LANGSMITH_API")}
    environment |= OFFLINE | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    }
    command = [sys.executable, "-m", "langgraph_cli", "dev", "--config", str(ROOT / "langgraph.json")]
    command += ["--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as output:
        server = subprocess.Popen(
            command, cwd=folder, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, server, log)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


async def _stream(url: str, request: dict, context: dict) -> tuple[list, list, dict | None]:
    """The run's (node, update) pairs and error events, and the thread's final state values."""
    client = get_client(url=url)
    thread = await client.threads.create()
    updates, errors = [], []
    stream = client.runs.stream(
        thread["thread_id"], "cross_sell_upsell", input=request, context=context, stream_mode="updates"
    )
    async for part in stream:
        if part.event == "updates":
            updates.extend(part.data.items())
        elif part.event == "error":
            errors.append(part.data)
    state = await client.threads.get_state(thread["thread_id"])
    return updates, errors, state["values"]


def test_a_streamed_run_matches_the_in_process_graph(server_url: str) -> None:
    request = {"customer_ids": ["C001", "C002", "C003"], "as_of": AS_OF.isoformat()}
    updates, errors, values = asyncio.run(_stream(server_url, request, {"data_dir": str(TIER1)}))
    assert errors == []
    expected = [
        next(iter(update.items()))
        for update in frame_graph.stream(
            {**request, "as_of": AS_OF}, context=Context(data_dir=str(TIER1)), stream_mode="updates"
        )
    ]
    assert sorted(node for node, _ in updates) == sorted(node for node, _ in expected)
    assert [node for node, _ in updates][:2] == ["load_customers", "detect_routine_gaps"]
    assert [node for node, _ in updates][-2:] == ["score_opportunities", "assemble_results"]
    final = dict(expected)["assemble_results"]
    # The server streams the output keys of each update; the thread's state holds every key, as JSON.
    assert dict(updates)["assemble_results"] == as_json(final)
    assert dict(updates)["load_customers"] == {"as_of": "2024-03-01", "unknown_customer_ids": []}
    assert values["opportunities"] == as_json(final["opportunities"])
    assert values["routine"] == as_json(dict(expected)["detect_routine_gaps"]["routine"])
    top = values["opportunities"][0]
    assert (top["customer_id"], top["type"], top["product_ids"]) == ("C001", "bundle", ["P002", "P003", "P005"])


def test_a_bad_context_reaches_the_client_as_its_one_line(server_url: str) -> None:
    context = {"data_dir": str(TIER1), "config": {"weights": {"lift": "high"}}}
    updates, errors, _ = asyncio.run(_stream(server_url, {"as_of": "2024-03-01"}, context))
    assert updates == []
    assert [error["message"] for error in errors] == [
        "context config key 'weights.lift': Input should be a valid number, unable to parse string as a number"
    ]
    _, errors, _ = asyncio.run(_stream(server_url, {}, {"data_dir": "no/such/folder"}))
    assert [error["error"] for error in errors] == ["ServerInputError"]
    assert errors[0]["message"].startswith("context data_dir: no folder 'no/such/folder'")
