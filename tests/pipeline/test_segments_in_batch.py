"""The customer segments where they show: the single-customer report and JSON, the per-offer CSV column, the
summary JSON's `segments` (checked by invariants on a synthetic log) and the batch totals' independence of
the chunk size."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import TIER1, load_synthetic, synthetic_files

from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.synth import SUGGESTED_AS_OF
from cross_sell_upsell.pipeline.acceptance import with_acceptance
from cross_sell_upsell.pipeline.api import analyze_cohort, analyze_customer
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.pipeline.customer_totals import NOT_SEGMENTED
from cross_sell_upsell.reporting.customer import render_json, render_markdown
from cross_sell_upsell.reporting.executive.charts import render_charts
from cross_sell_upsell.reporting.executive.files import BatchFiles
from cross_sell_upsell.reporting.executive.segments import segment_table
from cross_sell_upsell.reporting.executive.summary import render_summary
from cross_sell_upsell.snapshot.build import build_snapshot

CONFIG = OrchestratorConfig()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """A 2,000-customer synthetic log as Parquet files."""
    return synthetic_files(tmp_path_factory.mktemp("synthetic"), 2000, 5)


def test_summary_segments_are_the_per_customer_figures_aggregated(synthetic: Path, tmp_path: Path):
    argv = ["--transactions", str(synthetic / "transactions.parquet"), "--catalog", str(synthetic / "catalog.parquet")]
    argv += ["--customers-file", str(synthetic / "customers.parquet"), "--as-of", str(SUGGESTED_AS_OF)]
    assert batch_main([*argv, "--output", str(tmp_path / "w.md"), "--quiet"], CONFIG, TIER1, tmp_path) == 0
    summary = json.loads((tmp_path / "w.summary.json").read_text())
    listed = summary["segments"]
    assert summary["segmentation"]["reason"] is None and summary["segmentation"]["k"] == 5
    assert sum(row["customers"] for row in listed) == summary["customers_processed"] == 2000
    # The per-customer summaries of the same run, aggregated directly.
    dataset = load_synthetic(synthetic)
    customers = analyze_cohort(None, as_of=SUGGESTED_AS_OF, dataset=dataset)["customer_summaries"]
    direct = customers.group_by(name=pl.col("segment").fill_null(NOT_SEGMENTED)).agg(
        customers=pl.len(),
        spend=pl.col("lifetime_value").mean(),
        predicted_clv=pl.col("predicted_clv").mean(),
        churn_probability=pl.col("churn_probability").mean(),
        potential_revenue=pl.col("potential_revenue").sum(),
    )
    expected = {row["name"]: row for row in direct.iter_rows(named=True)}
    assert {row["name"] for row in listed} == set(expected)
    for row in listed:
        want = expected[row["name"]]
        assert row["customers"] == want["customers"]
        for figure in ("spend", "predicted_clv", "potential_revenue"):
            assert row[figure] == pytest.approx(want[figure], abs=0.01)
        assert row["churn_probability"] == pytest.approx(want["churn_probability"], abs=1e-4)
    # The model segments come first, in the snapshot's order, and revenue by segment leads with them.
    names = build_snapshot(dataset, SUGGESTED_AS_OF, CONFIG).segments.names
    assert [row["name"] for row in listed][: len(names)] == list(names)
    assert [row["segment"] for row in summary["revenue_by_segment"]["segment"]][: len(names)] == list(names)
    # The per-offer CSV carries each customer's segment.
    offers = pl.read_csv(tmp_path / "w.recommendations.csv", infer_schema=False)
    joined = (
        offers.select("customer_id", "segment")
        .unique()
        .join(customers.select("customer_id", expected="segment"), on="customer_id")
    )
    assert joined.height == offers.get_column("customer_id").n_unique()
    assert (joined.get_column("segment") == joined.get_column("expected")).all()
    check_customers_section(summary, (tmp_path / "w.md").read_text())
    assert (tmp_path / "w.segment_profiles.png").read_bytes()[:4] == b"\x89PNG"


def check_customers_section(summary: dict, report: str) -> None:
    """The report's customers section has the bands and a row per segment of the summary, and links the chart."""
    section = report[report.index("## Customers\n") : report.index("## Top")]
    for bands in summary["customer_bands"].values():
        assert sum(row["customers"] for row in bands) == summary["customers_processed"]
        assert all(f"| {row['band']} | {row['customers']:,} |" in section for row in bands)
    rows = [line for line in section.splitlines() if line.startswith("| ") and "$" in line.split("|")[3]]
    assert [row.split(" | ")[0][2:] for row in rows] == [row["name"] for row in summary["segments"]]
    assert "come from the customer models for" in section
    assert "![Segment profiles](w.segment_profiles.png)" in section


def test_batch_figures_do_not_depend_on_the_chunk_size_or_the_run(synthetic: Path, tmp_path: Path):
    dataset = load_synthetic(synthetic)
    # Trained once and shared: each run would otherwise train the same acceptance model again.
    snapshot = with_acceptance(build_snapshot(dataset, SUGGESTED_AS_OF, CONFIG), dataset, CONFIG)
    chosen = dataset.customer_ids()[:24]
    runs = [
        run_batch(dataset, chosen, SUGGESTED_AS_OF, CONFIG, chunk_size=size, snapshot=snapshot) for size in (5, 24, 24)
    ]
    files, when = BatchFiles(tmp_path / "w.md"), datetime(2024, 1, 1)
    first = render_summary(runs[0], files, [], when)
    for other in runs[1:]:
        assert_frame_equal(segment_table(other), segment_table(runs[0]))
        assert render_summary(other, files, [], when) == first
    listed = json.loads(first)["segments"]
    assert sum(row["customers"] for row in listed) == 24
    # A run that builds its own snapshot has the same segments and members.
    own = run_batch(dataset, chosen, SUGGESTED_AS_OF, CONFIG, chunk_size=24)
    assert (
        segment_table(own).select("segment", "customers").equals(segment_table(runs[0]).select("segment", "customers"))
    )


def test_the_single_customer_report_says_the_segment_and_its_source(synthetic: Path):
    dataset = load_synthetic(synthetic)
    snapshot = build_snapshot(dataset, SUGGESTED_AS_OF, CONFIG)
    row = snapshot.customers.filter(pl.col("segment_source") == "model").row(0, named=True)
    report = analyze_customer(row["customer_id"], as_of=SUGGESTED_AS_OF, dataset=dataset)
    assert (report.segment, report.segment_source) == (row["segment"], "model")
    text = render_markdown(report, 5, datetime(2024, 1, 1))
    assert f"- **Segment:** {row['segment']} (customer segments of the retailer's customers)" in text
    assert json.loads(render_json(report))["segment"] == row["segment"]


def test_the_segment_profiles_chart_is_the_same_bytes_every_time(synthetic: Path):
    dataset = load_synthetic(synthetic)
    result = run_batch(dataset, dataset.customer_ids()[:40], SUGGESTED_AS_OF, CONFIG, chunk_size=40)
    first, second = render_charts(result), render_charts(result)
    assert first["segment_profiles"] == second["segment_profiles"] and first["segment_profiles"][:4] == b"\x89PNG"


def test_an_unsegmented_sample_says_so_in_one_line(tmp_path: Path):
    assert (
        batch_main(["--as-of", "2024-03-01", "--output", str(tmp_path / "t.md"), "--quiet"], CONFIG, TIER1, tmp_path)
        == 0
    )
    report = (tmp_path / "t.md").read_text()
    section = report[report.index("## Customers\n") : report.index("## Top")]
    reason = "too few customers to segment: 10 with a purchase, segmenting needs at least 100 (segments.min_customers)"
    assert [line for line in section.splitlines() if "segment" in line.lower()] == [f"No customer segments: {reason}."]
    assert "are the fallback values: too little data" in section
    assert not (tmp_path / "t.segment_profiles.png").exists()
    summary = json.loads((tmp_path / "t.summary.json").read_text())
    assert summary["segments"] == [{**summary["segments"][0], "name": NOT_SEGMENTED, "source": "none", "customers": 10}]
    assert summary["segmentation"]["reason"].startswith("too few customers to segment")


def test_a_customer_of_an_unsegmented_sample_is_said_to_be_so(tier1):
    report = analyze_customer("C001", as_of=SUGGESTED_AS_OF, dataset=tier1)
    assert (report.segment, report.segment_source) == (None, "none")
    assert "- **Segment:** not segmented (too few customers, or they do not differ)" in render_markdown(
        report, 5, datetime(2024, 1, 1)
    )
