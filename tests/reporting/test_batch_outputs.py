"""Batch files: staging and publishing, charts, a run with nobody analysed, and the progress bar."""

from __future__ import annotations

import io
import re
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from support import AS_OF

from cross_sell_upsell.cli.progress import batch_progress
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.errors import OutputError
from cross_sell_upsell.io.staging import StagedOutputs
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.reporting.executive import BatchFiles, RecommendationsExport
from cross_sell_upsell.reporting.executive.charts import render_charts
from cross_sell_upsell.reporting.executive.markdown import render_markdown

GENERATED_AT = datetime(2024, 3, 4, 6, 0, 0)


def test_staged_files_appear_only_on_commit(tmp_path: Path) -> None:
    with StagedOutputs() as staged:
        staged.add(tmp_path / "a.md", "text")
        staged.add(tmp_path / "b.png", b"\x89PNG")
        assert [path.name for path in tmp_path.iterdir() if not path.name.startswith(".")] == []
        staged.commit()
    assert (tmp_path / "a.md").read_text() == "text" and (tmp_path / "b.png").read_bytes() == b"\x89PNG"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.md", "b.png"]


def test_an_error_before_commit_leaves_nothing(tmp_path: Path, tier1) -> None:
    files = BatchFiles(tmp_path / "report.md")
    with pytest.raises(RuntimeError), StagedOutputs() as staged:
        with RecommendationsExport(staged, files.recommendations) as export:
            run_batch(tier1, None, AS_OF, OrchestratorConfig(), 4, on_chunk=export.append)
        raise RuntimeError("interrupted before the report was staged")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("published", [True, False])
def test_a_scratch_folder_is_deleted_whether_the_files_are_published_or_not(tmp_path: Path, published: bool) -> None:
    with pytest.raises(RuntimeError) if not published else nullcontext(), StagedOutputs() as staged:
        staged.add(tmp_path / "out" / "a.md", "text")
        scratch = staged.scratch(tmp_path / "out" / "a.md")
        (scratch / "customers-000000.parquet").write_bytes(b"spilled rows")
        assert scratch.parent == tmp_path / "out" and scratch.name.startswith(".a.md.")
        if not published:
            raise RuntimeError("interrupted before the files were published")
        staged.commit()
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == (["a.md"] if published else [])


def test_a_scratch_folder_under_a_file_is_one_error_naming_the_target(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with StagedOutputs() as staged, pytest.raises(OutputError, match="report.md: Not a directory"):
        staged.scratch(tmp_path / "file" / "report.md")


def test_charts_are_the_same_bytes_every_time(tier1) -> None:
    result = run_batch(tier1, None, AS_OF, OrchestratorConfig())
    first, second = render_charts(result), render_charts(result)
    assert sorted(first) == ["gaps", "opportunity_mix", "revenue_by_segment"]
    assert first == second


def test_no_customer_analysed_gives_a_report_without_charts(tmp_path: Path, tier1) -> None:
    result = run_batch(tier1, ["C999"], AS_OF, OrchestratorConfig())
    assert render_charts(result) == {}
    text = render_markdown(result, BatchFiles(tmp_path / "r.md"), [], GENERATED_AT)
    assert "![" not in text
    assert "- **Customers analysed:** 0 of 1 requested\n- **Customers not analysed:** 1 (see Errors)" in text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(tier1) -> None:
    stream = Terminal()
    with batch_progress(stream, quiet=False, verbose=True) as on_progress:
        run_batch(tier1, None, AS_OF, OrchestratorConfig(), 5, on_progress)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue())  # without the terminal's colour codes
    assert "analysing customers" in shown and "10/10" in shown
    assert "chunk 2/2: 5 customers in" in shown


def test_quiet_progress_has_no_callback() -> None:
    with batch_progress(Terminal(), quiet=True, verbose=True) as on_progress:
        assert on_progress is None


def test_a_failed_background_write_is_raised_when_the_export_closes(tmp_path: Path) -> None:
    files = BatchFiles(tmp_path / "report.md")
    with (
        StagedOutputs() as staged,
        pytest.raises(pl.exceptions.ColumnNotFoundError),
        RecommendationsExport(staged, files.recommendations) as export,
    ):
        export.append(pl.DataFrame({"customer_id": ["C001"]}))  # none of the CSV's other columns
    assert list(tmp_path.iterdir()) == []
