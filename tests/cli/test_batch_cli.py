"""`run_batch_analysis.py` end to end on the shipped data: figures, exit codes, files, determinism."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import AS_OF, ROOT, TIER1, TIERED

from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.reporting.executive.exports import RECOMMENDATION_COLUMNS

CHART_FILES = ("report.gaps.png", "report.opportunity_mix.png", "report.revenue_by_segment.png")


def run(tmp_path: Path, *args: str, data_dir: Path = TIER1, config: OrchestratorConfig | None = None) -> int:
    argv = ["--as-of", AS_OF.isoformat(), "--output", str(tmp_path / "report.md"), *args]
    return batch_main(argv, config or OrchestratorConfig(), data_dir, tmp_path / "default-output")


def summary(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "report.summary.json").read_text(encoding="utf-8"))


def recommendations(tmp_path: Path) -> list[dict[str, str]]:
    with open(tmp_path / "report.recommendations.csv", newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_tier1_gaps_table(tmp_path: Path) -> None:
    assert run(tmp_path, "--quiet") == 0
    assert summary(tmp_path)["most_common_gaps"] == [
        {"category": "spf", "count": 8, "percentage": 80.0},
        {"category": "toner", "count": 6, "percentage": 60.0},
        {"category": "serum", "count": 6, "percentage": 60.0},
        {"category": "cleanser", "count": 5, "percentage": 50.0},
        {"category": "moisturizer", "count": 5, "percentage": 50.0},
    ]
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    rows = [
        "| SPF | 8 | 80% |",
        "| Toner | 6 | 60% |",
        "| Serum | 6 | 60% |",
        "| Cleanser | 5 | 50% |",
        "| Moisturizer | 5 | 50% |",
    ]
    assert "\n".join(rows) in report


def test_every_file_is_written_beside_the_report_and_linked(tmp_path: Path) -> None:
    assert run(tmp_path, "--quiet", "--no-store") == 0  # the run store (tests/store/) is not a file of the run
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted(
        ["report.md", "report.recommendations.csv", "report.customers.csv", "report.summary.json", *CHART_FILES]
    )
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    for chart in CHART_FILES:
        assert f"]({chart})" in report
        assert (tmp_path / chart).read_bytes().startswith(b"\x89PNG")


def test_summary_holds_the_required_figures(tmp_path: Path) -> None:
    assert run(tmp_path, "--quiet") == 0
    figures = summary(tmp_path)
    assert (figures["customers_requested"], figures["customers_processed"], figures["customers_failed"]) == (10, 10, 0)
    assert figures["errors"] == []
    # tier1 per-customer potential revenue: 56.61 + 70.76 + 51.82 + 76.85 + 53.52 + 55.22 + 81.95 + 74.60
    # + 56.51 + 59.86 = 637.70 (C010 owns a cleanser, so the cross-sold cleanser P001, $14.99, is not offered
    # beside it: 74.85 - 14.99 = 59.86)
    assert figures["total_potential_revenue"] == pytest.approx(637.70)
    assert figures["average_potential_revenue_per_customer"] == pytest.approx(63.77)


def test_unknown_customer_exits_1_with_the_id_in_the_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run(tmp_path, "--customers", "C001", "C999") == 1
    figures = summary(tmp_path)
    assert (figures["customers_requested"], figures["customers_processed"], figures["customers_failed"]) == (2, 1, 1)
    assert [error["customer_id"] for error in figures["errors"]] == ["C999"]
    assert "unknown customer id 'C999'" in figures["errors"][0]["error"]
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Errors" in report and "| C999 | unknown customer id 'C999'" in report
    assert {row["customer_id"] for row in recommendations(tmp_path)} == {"C001"}
    assert "error: 1 of 2 customers could not be analysed" in capsys.readouterr().err


def test_every_requested_customer_is_counted_once(tmp_path: Path) -> None:
    # Duplicates are dropped; the rest are either processed or in the errors, never both, never neither.
    assert run(tmp_path, "--quiet", "--chunk-size", "2", "--customers", "C002", "C998", "C001", "C002", "C999") == 1
    figures = summary(tmp_path)
    errors = [error["customer_id"] for error in figures["errors"]]
    assert errors == ["C998", "C999"]
    assert {row["customer_id"] for row in recommendations(tmp_path)} == {"C001", "C002"}
    assert figures["customers_requested"] == 4 == figures["customers_processed"] + figures["customers_failed"]


def test_a_failing_chunk_fails_its_customers_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cross_sell_upsell.pipeline import graph as graph_module

    invoke = graph_module.graph.invoke

    def flaky_invoke(request, **kwargs):
        if "C003" in request["customer_ids"]:
            raise RuntimeError("disk on fire\nsecond line that must not show")
        return invoke(request, **kwargs)

    monkeypatch.setattr(graph_module.graph, "invoke", flaky_invoke)
    assert run(tmp_path, "--quiet", "--chunk-size", "2") == 1  # chunks C001-2, C003-4, C005-6, C007-8, C009-10
    figures = summary(tmp_path)
    assert figures["customers_processed"] == 8
    assert figures["errors"] == [
        {"customer_id": "C003", "error": "RuntimeError: disk on fire"},
        {"customer_id": "C004", "error": "RuntimeError: disk on fire"},
    ]
    assert {row["customer_id"] for row in recommendations(tmp_path)}.isdisjoint({"C003", "C004"})


def test_csv_round_trips_with_one_row_per_offer(tmp_path: Path, tiered) -> None:
    from cross_sell_upsell import analyze_cohort

    assert run(tmp_path, "--quiet", data_dir=TIERED) == 0
    rows = recommendations(tmp_path)
    expected = analyze_cohort(None, as_of=AS_OF, dataset=tiered)["opportunities"]
    assert list(rows[0]) == list(RECOMMENDATION_COLUMNS)
    assert len(rows) == expected.height == summary(tmp_path)["total_offers"]
    for row, offer in zip(rows, expected.iter_rows(named=True), strict=True):
        assert (row["customer_id"], int(row["rank"]), row["product_id"]) == (
            offer["customer_id"],
            offer["rank"],
            offer["offer_id"],
        )
        assert row["product_ids"].split(";") == (offer["product_ids"] or [offer["offer_id"]])
        assert float(row["price"]) == pytest.approx(offer["price"])
        assert re.fullmatch(r"\d+\.\d\d?", row["list_price"]), row  # whole cents, even for a bundle's summed price
        assert float(row["customer_fit"]) == pytest.approx(offer["customer_fit"])
        assert row["rationale"] == offer["rationale"]  # commas and quotes survive
        assert row["counts_toward_revenue"] == str(offer["counts_toward_revenue"]).lower()


@pytest.mark.parametrize("data_dir", [TIER1, TIERED])
def test_potential_revenue_never_double_counts(tmp_path: Path, data_dir: Path) -> None:
    assert run(tmp_path, "--quiet", data_dir=data_dir) == 0
    rows = recommendations(tmp_path)
    counted = {(row["customer_id"], row["product_id"]) for row in rows if row["counts_toward_revenue"] == "true"}
    for bundle in (row for row in rows if row["type"] == "bundle"):
        assert (bundle["customer_id"], bundle["product_id"]) in counted
        for member in bundle["product_ids"].split(";"):
            assert (bundle["customer_id"], member) not in counted
    total = sum(float(row["price"]) for row in rows if row["counts_toward_revenue"] == "true")
    assert summary(tmp_path)["total_potential_revenue"] == pytest.approx(total)


def _without_generated_at(text: str) -> str:
    return re.sub(r".*[Gg]enerated.at.*\n", "", text)


@pytest.mark.parametrize("data_dir", [TIER1, TIERED])
def test_same_inputs_give_the_same_files_whatever_the_chunk_size(tmp_path: Path, data_dir: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    # Without a store: the summary names the store, which is each run's own here.
    assert run(first, "--quiet", "--no-store", data_dir=data_dir) == 0
    assert run(second, "--quiet", "--no-store", "--chunk-size", "3", data_dir=data_dir) == 0
    names = sorted(path.name for path in first.iterdir())
    assert names == sorted(path.name for path in second.iterdir())
    for name in names:
        one, two = (first / name).read_bytes(), (second / name).read_bytes()
        if name.endswith((".md", ".json")):
            assert one.count(b"enerated") == 1  # the generated-at line is the only difference allowed
            one, two = _without_generated_at(one.decode()), _without_generated_at(two.decode())
        assert one == two, name


def test_progress_log_lines_when_not_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run(tmp_path, "--chunk-size", "4") == 0
    out, err = capsys.readouterr()
    assert out == f"{tmp_path / 'report.md'}\n"
    assert err.splitlines() == [
        "4 of 10 customers done, 0 failed",
        "8 of 10 customers done, 0 failed",
        "10 of 10 customers done, 0 failed",
        "analysed 10 of 10 customers; potential revenue $637.70",
    ]


def test_verbose_adds_chunk_and_phase_timing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run(tmp_path, "--verbose", "--chunk-size", "6") == 0
    lines = capsys.readouterr().err.splitlines()
    phase = r"{}: \d+\.\d s, peak RSS [\d,]+ MiB"
    assert re.fullmatch(phase.format("read the data"), lines[0])
    assert re.fullmatch(phase.format(r"built the snapshot \(holdings, signals, customer models, segments\)"), lines[1])
    assert re.fullmatch(phase.format("trained the acceptance model"), lines[2])
    assert re.fullmatch(r"chunk 1/2: 6 customers in \d+\.\d\d s; 6 of 10 customers done, 0 failed", lines[3])
    assert re.fullmatch(r"chunk 2/2: 4 customers in \d+\.\d\d s; 10 of 10 customers done, 0 failed", lines[4])
    assert re.fullmatch(phase.format("analysed the customers and wrote the files"), lines[5])


def test_quiet_prints_nothing_on_success(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run(tmp_path, "--quiet") == 0
    assert capsys.readouterr() == ("", "")


def test_default_output_name(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["--as-of", "2024-03-01", "--customers", "C001"]
    assert batch_main(argv, OrchestratorConfig(), TIER1, tmp_path) == 0
    report = Path(capsys.readouterr().out.strip())
    assert report.parent == tmp_path / "batch_reports"
    assert re.fullmatch(r"batch_analysis_2024-03-01_\d{8}_\d{6}\.md", report.name)
    assert report.with_suffix(".recommendations.csv").is_file() and report.with_suffix(".summary.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chunk-size", "0"], "error: --chunk-size must be at least 1"),
        (["--top-priority", "0"], "error: --top-priority must be at least 1"),
        (["--output", "report.txt"], "error: --output must name a .md file, not 'report.txt'"),
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    assert batch_main(["--as-of", "2024-03-01", *args], OrchestratorConfig(), TIER1, tmp_path / "out") == 2
    assert capsys.readouterr().err.strip() == message
    assert not (tmp_path / "out").exists()


def test_output_that_is_a_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "report.md").mkdir()
    assert run(tmp_path) == 2
    assert "is a folder" in capsys.readouterr().err
    assert [path.name for path in tmp_path.iterdir()] == ["report.md"]


def test_bad_date_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        batch_main(["--as-of", "2024-13-01"], OrchestratorConfig(), TIER1, tmp_path)
    assert exit_info.value.code == 2
    assert "'2024-13-01' is not a date in YYYY-MM-DD form" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_missing_data_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run(tmp_path / "out", data_dir=tmp_path / "nowhere") == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {tmp_path / 'nowhere' / 'catalog.json'}: record -: field '-': file not found"
    )
    assert not (tmp_path / "out").exists()


def test_bad_record_exits_2_naming_file_record_and_field(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "catalog.json").write_text((TIER1 / "catalog.json").read_text(encoding="utf-8"), encoding="utf-8")
    customers = json.loads((TIER1 / "customers.json").read_text(encoding="utf-8"))
    customers[1]["churn_risk"] = 7
    (data / "customers.json").write_text(json.dumps(customers), encoding="utf-8")
    assert run(tmp_path / "out", data_dir=data) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {data / 'customers.json'}: record C002: field 'churn_risk':")
    assert not (tmp_path / "out").exists()


def test_script_runs_from_the_repository_root(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "run_batch_analysis.py",
            "--data-dir",
            "data/tiered",
            "--as-of",
            "2024-03-01",
            "--output",
            str(tmp_path / "report.md"),
            "--top-priority",
            "3",
            "--store",
            str(tmp_path / "history.duckdb"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"{tmp_path / 'report.md'}\n"
    assert "## Top 3 priority customers" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_an_output_name_too_long_for_the_file_system_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / f"{'x' * 300}.md"  # over the 255 bytes a file name may have
    argv = ["--as-of", "2024-03-01", "--output", str(output)]
    assert batch_main(argv, OrchestratorConfig(), TIER1, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --output '") and err.endswith("' cannot be written: File name too long\n")
    assert list(tmp_path.iterdir()) == []
