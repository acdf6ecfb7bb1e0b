"""Batch files: staging and publishing, chat-model rationales for priority customers, the progress bar."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from cross_sell_upsell import load_dataset
from cross_sell_upsell.batch import Limits, priority_rationales, run_batch
from cross_sell_upsell.batch_report import (
    BatchFiles,
    RecommendationsExport,
    StagedOutputs,
    render_charts,
    render_markdown,
    stage_report,
)
from cross_sell_upsell.cli import batch_main
from cross_sell_upsell.configuration import LLMSettings, OrchestratorConfig
from cross_sell_upsell.progress import batch_progress

ROOT = Path(__file__).resolve().parent.parent
TIER1 = ROOT / "data" / "tier1"
AS_OF = date(2024, 3, 1)
GENERATED_AT = datetime(2024, 3, 4, 6, 0, 0)


@pytest.fixture(scope="module")
def dataset():
    return load_dataset(TIER1)


def test_staged_files_appear_only_on_commit(tmp_path: Path) -> None:
    with StagedOutputs() as staged:
        staged.add(tmp_path / "a.md", "text")
        staged.add(tmp_path / "b.png", b"\x89PNG")
        assert [path.name for path in tmp_path.iterdir() if not path.name.startswith(".")] == []
        staged.commit()
    assert (tmp_path / "a.md").read_text() == "text" and (tmp_path / "b.png").read_bytes() == b"\x89PNG"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.md", "b.png"]


def test_an_error_before_commit_leaves_nothing(tmp_path: Path, dataset) -> None:
    files = BatchFiles(tmp_path / "report.md")
    with pytest.raises(RuntimeError), StagedOutputs() as staged:
        export = RecommendationsExport(staged, files.recommendations)
        run_batch(dataset, None, AS_OF, OrchestratorConfig(), 4, on_chunk=export.append)
        raise RuntimeError("interrupted before the report was staged")
    assert list(tmp_path.iterdir()) == []


def test_charts_are_the_same_bytes_every_time(dataset) -> None:
    result = run_batch(dataset, None, AS_OF, OrchestratorConfig())
    first, second = render_charts(result), render_charts(result)
    assert sorted(first) == ["gaps", "opportunity_mix", "revenue_by_segment"]
    assert first == second


def test_no_customer_analysed_gives_a_report_without_charts(tmp_path: Path, dataset) -> None:
    result = run_batch(dataset, ["C999"], AS_OF, OrchestratorConfig())
    assert render_charts(result) == {}
    text = render_markdown(result, BatchFiles(tmp_path / "r.md"), [], GENERATED_AT)
    assert "![" not in text
    assert "- **Customers analysed:** 0 of 1 requested\n- **Customers not analysed:** 1 (see Errors)" in text


class ScriptedChatModel:
    """Stands in for a chat model: answers every offer it is shown with a fixed sentence, except `skip`."""

    def __init__(self, skip: str | None = None) -> None:
        self.skip = skip
        self.customers_asked = 0

    def with_structured_output(self, schema):
        return self

    def invoke(self, messages):
        self.customers_asked += 1
        offer_ids = re.findall(r'"offer_id": "([^"]+)"', str(messages))
        return {
            "rationales": [
                {"offer_id": offer_id, "rationale": f"A friendly word about {offer_id}, with a comma."}
                for offer_id in offer_ids
                if offer_id != self.skip
            ]
        }


def test_chat_model_writes_the_priority_customers_rationales_into_the_exports(tmp_path: Path, dataset) -> None:
    config = OrchestratorConfig(llm=LLMSettings(enabled=True, offers_per_customer=2))
    files = BatchFiles(tmp_path / "report.md")
    model = ScriptedChatModel()
    with StagedOutputs() as staged:
        export = RecommendationsExport(staged, files.recommendations)
        result = run_batch(dataset, None, AS_OF, config, 4, limits=Limits(top_priority=3), on_chunk=export.append)
        result, rewritten = priority_rationales(result, dataset, config, model)
        export.replace_rationales(rewritten)
        stage_report(staged, files, result, GENERATED_AT)
        staged.commit()
    assert model.customers_asked == 3  # the priority customers only: C004, C007, C002 on tier1
    with open(files.recommendations, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    rewritten_rows = {(row["customer_id"], row["rank"]) for row in rows if row["rationale_source"] == "llm"}
    assert rewritten_rows == {(customer, rank) for customer in ("C004", "C007", "C002") for rank in ("1", "2")}
    assert all(row["rationale"].startswith("A friendly word") for row in rows if row["rationale_source"] == "llm")
    assert len(rows) == 59  # still one row per tier1 offer
    lead = result.priority_customers().select("customer_id", "lead_rationale_source").rows()
    assert lead == [("C004", "llm"), ("C007", "llm"), ("C002", "llm")]
    assert "_(written by the chat model)_" in files.report.read_text(encoding="utf-8")


def test_offers_the_model_skips_keep_the_template_and_a_note_says_so(dataset) -> None:
    config = OrchestratorConfig(llm=LLMSettings(enabled=True, offers_per_customer=1))
    result = run_batch(dataset, None, AS_OF, config, limits=Limits(top_priority=1))  # C004, lead offer P003
    result, rewritten = priority_rationales(result, dataset, config, ScriptedChatModel(skip="P003"))
    assert rewritten.is_empty()
    assert result.priority_customers()["lead_rationale_source"].to_list() == ["template"]
    assert result.rationale_notes == ("The chat model gave no usable rationale for 1 offer; the template text stays.",)


def test_llm_without_an_api_key_keeps_templates_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    argv = ["--as-of", "2024-03-01", "--output", str(tmp_path / "report.md"), "--llm"]
    assert batch_main(argv, OrchestratorConfig(), TIER1, tmp_path) == 0
    note = "LLM rationales requested but OPENAI_API_KEY is not set: templates used."
    assert f"note: {note}" in capsys.readouterr().err
    assert f"> {note}" in (tmp_path / "report.md").read_text(encoding="utf-8")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(dataset) -> None:
    stream = Terminal()
    with batch_progress(stream, quiet=False, verbose=True) as on_progress:
        run_batch(dataset, None, AS_OF, OrchestratorConfig(), 5, on_progress)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue())  # without the terminal's colour codes
    assert "analysing customers" in shown and "10/10" in shown
    assert "chunk 2/2: 5 customers in" in shown


def test_quiet_progress_has_no_callback() -> None:
    with batch_progress(Terminal(), quiet=True, verbose=True) as on_progress:
        assert on_progress is None
