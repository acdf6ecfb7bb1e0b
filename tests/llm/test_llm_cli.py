"""The acceptance runs: `run_orchestrator.py --customer C001 --llm` and `run_batch_analysis.py --llm` as
subprocesses against the stub server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from llm_fakes import API_KEY, PROJECT_ROOT, Reply, error_reply, honest_reply, prompt_data, rationale_reply

COMMAND = [sys.executable, str(PROJECT_ROOT / "run_orchestrator.py"), "--customer", "C001", "--as-of", "2024-03-01"]
BATCH = [
    sys.executable,
    str(PROJECT_ROOT / "run_batch_analysis.py"),
    "--data-dir",
    str(PROJECT_ROOT / "data" / "tier1"),
]
NO_KEY_NOTE = "note: LLM rationales requested but OPENAI_API_KEY is not set: templates used.\n"


def run_cli(
    args: list[str], cwd: Path, command: list[str] = COMMAND, **variables: str
) -> subprocess.CompletedProcess[str]:
    """The command in a clean environment: no key, endpoint, LLM setting or tracing but `variables`."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OPENAI_", "LLM_", "LANGSMITH_", "LANGCHAIN_"))
    }
    return subprocess.run(
        command + args, cwd=cwd, env=inherited | variables, capture_output=True, text=True, timeout=120, check=False
    )


def stub_variables(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": url,
        "LLM_MODEL": "test-model",
        "LLM_TIMEOUT_SECONDS": "0.5",
        "LLM_MAX_RETRIES": "1",
        "LLM_CACHE_DIR": str(tmp_path / "cache"),
    }


def test_against_a_working_server_the_top_rationales_are_the_models_and_a_rerun_is_free(stub, tmp_path) -> None:
    stub.otherwise = honest_reply
    variables = stub_variables(stub.url, tmp_path)
    result = run_cli(["--llm", "--format", "json"], tmp_path, **variables)
    assert (result.returncode, result.stderr) == (0, "")
    report = json.loads(result.stdout)
    assert [item["rationale_source"] for item in report["opportunities"][:4]] == ["llm", "llm", "llm", "template"]
    assert report["opportunities"][1]["rationale"] == "Hydrating Hyaluronic Serum for $19.99 suits this customer."
    stats = report["rationale_stats"]
    # one request: 120 / 1000 x $0.00015 + 30 / 1000 x $0.0006 = $0.000018 + $0.000018 = $0.000036
    assert (stats["llm"], stats["input_tokens"], stats["output_tokens"]) == (3, 120, 30)
    assert stats["estimated_cost"] == 0.000036

    markdown = tmp_path / "report.md"
    result = run_cli(["--llm", "--output", str(markdown)], tmp_path, **variables)
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{markdown}\n", "")
    assert len(stub.requests) == 1  # the second run was served by the cache
    text = markdown.read_text()
    assert "- **Written by the model (test-model):** 3 of 3 asked (1 of 1 answers from the cache)" in text
    assert "- **Estimated cost:** $0.000000" in text  # nothing was spent on the cached run
    assert "_(source: llm)_" in text
    written = [path.read_text() for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) == 2  # the report and one cache file
    assert not any(API_KEY in content for content in [*written, result.stdout, result.stderr])


def test_against_a_failing_server_the_run_uses_templates_and_exits_0(stub, tmp_path) -> None:
    stub.otherwise = error_reply(500, f"upstream failed for key {API_KEY}")
    result = run_cli(["--llm", "--format", "json"], tmp_path, **stub_variables(stub.url, tmp_path))
    assert result.returncode == 0
    assert result.stderr == (
        "note: the chat model's rationale was not used for 3 of 3 offers (server_error 3): templates kept\n"
    )
    report = json.loads(result.stdout)
    assert {item["rationale_source"] for item in report["opportunities"]} == {"template"}
    assert report["opportunities"][0]["rationale_error"] == "server_error: OpenAIAPIError, HTTP 500"
    assert len(stub.requests) == 2  # the client's one retry
    assert API_KEY not in result.stdout + result.stderr


def test_without_a_key_the_run_says_so_once_and_uses_templates(tmp_path) -> None:
    result = run_cli(["--llm", "--format", "json"], tmp_path)
    assert (result.returncode, result.stderr) == (0, NO_KEY_NOTE)
    assert {item["rationale_source"] for item in json.loads(result.stdout)["opportunities"]} == {"template"}


def test_a_bad_llm_setting_is_one_line_and_exit_2_with_nothing_written(tmp_path) -> None:
    report = tmp_path / "report.md"
    result = run_cli(["--llm", "--output", str(report)], tmp_path, LLM_MAX_CONCURRENCY="0")
    assert result.returncode == 2
    assert result.stderr == (
        "error: environment variable LLM_MAX_CONCURRENCY: Input should be greater than or equal to 1\n"
    )
    assert list(tmp_path.iterdir()) == []


# --- rationales that name product ids (issue 14) -----------------------------------------------------------------


def naming(product_id: str | None) -> Callable[[dict[str, Any]], Reply]:
    """A server whose every rationale names `product_id`, or each offer's own id when None."""

    def reply(request: dict[str, Any]) -> Reply:
        offers = prompt_data(request["messages"])["offers"]
        return rationale_reply(
            {o["offer_id"]: f"{product_id or o['offer_id']} is a natural next step." for o in offers}
        )

    return reply


NAMED = [
    # named id, rationale source, stderr of the single-customer run
    pytest.param(None, "llm", "", id="own-id"),
    pytest.param(
        "P999",
        "template; model rationale not used: unknown_product: names P999, which is not in this offer",
        "note: the chat model's rationale was not used for 3 of 3 offers (unknown_product 3): templates kept\n",
        id="unknown-id",
    ),
]


@pytest.mark.parametrize(("product_id", "source", "stderr"), NAMED)
def test_a_report_whose_rationales_name_product_ids(stub, tmp_path, product_id, source, stderr) -> None:
    stub.otherwise = naming(product_id)
    report = tmp_path / "report.md"
    result = run_cli(["--llm", "--output", str(report)], tmp_path, **stub_variables(stub.url, tmp_path))
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{report}\n", stderr)
    assert report.read_text().count(f"_(source: {source})_") == 3  # the three asked of the five shown


@pytest.mark.parametrize(("product_id", "source", "stderr"), NAMED)
def test_a_batch_whose_rationales_name_product_ids(stub, tmp_path, product_id, source, stderr) -> None:
    stub.otherwise = naming(product_id)
    output = tmp_path / "out" / "batch.md"
    args = ["--as-of", "2024-03-01", "--output", str(output), "--quiet", "--llm", "--store", str(tmp_path / "h.duckdb")]
    result = run_cli(args, tmp_path, BATCH, **stub_variables(stub.url, tmp_path))
    assert (result.returncode, result.stderr) == (0, "")  # --quiet
    assert len(stub.requests) == 10  # every tier1 customer has offers
    written = sorted(path.name for path in output.parent.iterdir())
    assert written == [
        "batch.customers.csv",
        "batch.gaps.png",
        "batch.md",
        "batch.opportunity_mix.png",
        "batch.recommendations.csv",
        "batch.revenue_by_segment.png",
        "batch.summary.json",
    ]
    summary = json.loads((output.parent / "batch.summary.json").read_text(encoding="utf-8"))
    lead = "llm" if product_id is None else "template"
    assert {row["lead_rationale_source"] for row in summary["top_priority_customers"]} == {lead}
    assert summary["rationale_stats"]["offers_asked"] == 30
    assert summary["rationale_stats"]["failures"] == ({} if product_id is None else {"unknown_product": 30})
