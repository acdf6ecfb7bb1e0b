"""run_orchestrator.py as an analyst runs it: outputs, formats, exit codes, and clean errors."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import MINI_CATALOG, MINI_CUSTOMERS, ROOT, TIER1, write_data

from cross_sell_upsell.cli.orchestrator import orchestrator_main
from cross_sell_upsell.configuration import OrchestratorConfig


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "run_orchestrator.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_markdown_report_for_c001(tmp_path):
    target = tmp_path / "c001.md"
    result = run("--customer", "C001", "--data-dir", str(TIER1), "--as-of", "2024-03-01", "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(target)
    report = target.read_text()
    assert "**Missing essentials:** toner, serum, spf" in report
    for section in (
        "## Customer overview",
        "## Routine analysis",
        "## Opportunities summary",
        "## Bundles",
        "## Top 5 recommendations",
        "## All opportunities",
    ):
        assert section in report
    assert "| Gentle Foaming Cleanser (P001) | 2024-01-10 | 51 | 30 | 2024-02-09 | due |" in report
    assert "- **Price:** $41.62 instead of $48.97 (saves $7.35)" in report


def test_markdown_goes_to_output_reports_by_default(tmp_path, capsys):
    code = orchestrator_main(
        ["--customer", "C002", "--as-of", "2024-03-01", "--top", "2"], OrchestratorConfig(), TIER1, tmp_path
    )
    assert code == 0
    expected = tmp_path / "reports" / "report_C002_2024-03-01.md"
    assert capsys.readouterr().out.strip() == str(expected)
    assert "## Top 2 recommendations" in expected.read_text()


def test_json_format(tmp_path):
    result = run("--customer", "C001", "--data-dir", str(TIER1), "--as-of", "2024-03-01", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["customer_id"] == "C001"
    assert report["as_of"] == "2024-03-01"
    assert report["missing_essentials"] == ["toner", "serum", "spf"]
    assert report["routine_completeness"] == pytest.approx(0.4)
    assert [item["product_id"] for item in report["replenishment_due"]] == ["P001"]
    scores = [offer["score"] for offer in report["opportunities"]]
    assert scores == sorted(scores, reverse=True)
    bundle = next(offer for offer in report["opportunities"] if offer["type"] == "bundle")
    assert bundle["product_ids"] == ["P002", "P003", "P005"]
    for offer in report["opportunities"]:
        assert offer["type"] in {"routine_gap", "product_cross_sell", "replenishment", "tier_upgrade", "bundle"}
        assert offer["source"] in {
            "catalog",
            "basket_rule",
            "similar_customers",
            "routine_gap",
            "replenishment",
            "upgrade",
        }
        assert set(offer["components"]) == {
            "business_value",
            "customer_fit",
            "routine_completeness",
            "replenishment_urgency",
            "concern_match",
            "affinity",
            "lift",
        }
        assert offer["rationale"] and offer["rationale_source"] == "template"


def test_reports_are_deterministic_apart_from_the_generated_at_line(tmp_path):
    texts = []
    for name in ("a.md", "b.md"):
        result = run(
            "--customer", "C009", "--data-dir", str(TIER1), "--as-of", "2024-03-01", "--output", str(tmp_path / name)
        )
        assert result.returncode == 0, result.stderr
        texts.append([line for line in (tmp_path / name).read_text().splitlines() if "Generated at" not in line])
    assert texts[0] == texts[1]


def test_unknown_customer_exits_2_with_the_closest_ids_and_writes_nothing(tmp_path):
    target = tmp_path / "never.md"
    result = run("--customer", "C01", "--data-dir", str(TIER1), "--output", str(target))
    assert result.returncode == 2
    assert result.stderr == "error: unknown customer id 'C01'; closest known ids: C010, C001, C009\n"
    assert result.stdout == ""
    assert not target.exists()


def test_invalid_data_exits_2_naming_file_record_and_field(tmp_path):
    customers = [dict(MINI_CUSTOMERS[0], churn_risk=12)]
    folder = write_data(tmp_path / "bad", MINI_CATALOG, customers)
    target = tmp_path / "never.md"
    result = run("--customer", "K1", "--data-dir", str(folder), "--output", str(target))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {folder / 'customers.json'}: record K1: field 'churn_risk': ")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not target.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customer", "C001", "--as-of", "2024-13-01"], "'2024-13-01' is not a date in YYYY-MM-DD form"),
        (["--customer", "C001", "--top", "0"], "--top must be at least 1"),
        (["--customer", "C001", "--format", "pdf"], "invalid choice: 'pdf'"),
        ([], "the following arguments are required: --customer"),
    ],
)
def test_bad_arguments_exit_2(tmp_path, capsys, args, message):
    # In process: a script's start-up costs seconds, and the script's own error boundary is tested as a
    # subprocess in test_error_boundary.py.
    argv = [*args, "--output", str(tmp_path / "never.md")]
    try:
        code = orchestrator_main(argv, OrchestratorConfig(), TIER1, tmp_path)
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "never.md").exists()


def test_help_shows_an_example():
    result = run("--help")
    assert result.returncode == 0
    assert "example: python run_orchestrator.py --customer C001" in result.stdout


HOSTILE_IDS = ["../../../../x", "/tmp/x", "Q" * 10_000, "K4\nsecond line\x00", "a/b", "a?b"]


def test_ids_that_are_no_file_names_write_their_reports_in_the_reports_folder(tmp_path, capsys):
    customers = [dict(MINI_CUSTOMERS[index % 4], customer_id=value) for index, value in enumerate(HOSTILE_IDS)]
    data = write_data(tmp_path / "data", MINI_CATALOG, customers)
    reports = tmp_path / "out" / "reports"
    for customer_id in HOSTILE_IDS:
        argv = ["--customer", customer_id, "--as-of", "2024-03-01"]
        assert orchestrator_main(argv, OrchestratorConfig(), data, tmp_path / "out") == 0
    digest = hashlib.sha256(b"../../../../x").hexdigest()[:12]
    written = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert written[0] == reports / f"report_{'_' * 12}x~{digest}_2024-03-01.md"
    assert [path.parent for path in written] == [reports] * 6
    assert len(set(written)) == 6  # a/b and a?b read alike, yet get a file each
    assert sorted(tmp_path.rglob("*.md")) == sorted(written)
    assert all(len(path.name) < 80 for path in written)
