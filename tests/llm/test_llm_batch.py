"""The batch's rationale step: the chat model writes the priority customers' top offers, asked in priority
order, and the CSV, the report and the summary carry the result. Offline, with the fake chat model."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from llm_fakes import FakeRationaleModel, honest_rationales, offline_settings, tool_answer
from support import AS_OF, TIER1

from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.io.staging import StagedOutputs
from cross_sell_upsell.pipeline.batch import priority_rationales, run_batch
from cross_sell_upsell.pipeline.totals import Limits
from cross_sell_upsell.reporting.executive import BatchFiles, RecommendationsExport, stage_report

GENERATED_AT = datetime(2024, 3, 4, 6, 0, 0)
# tier1 priority order on 2024-03-01 (test_batch_totals has the formula; the models fall back to the given churn
# risk and lifetime value): C007 148.01 (81.95 x 0.95 x 1.9012), C004 81.00 (76.85 x 0.65 x 1.6215),
# C009 74.98 (56.51 x 0.85 x 1.561), C008 72.83 (74.60 x 0.78 x 1.2516), C001 70.78 (56.61 x 0.88 x 1.4208), ...;
# C010 follows at 59.91 (59.86 x 0.82 x 1.2205): one offer per need leaves her no cleanser beside her own.
PRIORITY_ORDER = ["C007", "C004", "C009", "C008", "C001"]


def write_batch(tmp_path: Path, dataset, config: OrchestratorConfig, model, top_priority: int):
    files = BatchFiles(tmp_path / "report.md")
    with StagedOutputs() as staged:
        with RecommendationsExport(staged, files.recommendations) as export:
            result = run_batch(dataset, None, AS_OF, config, 4, limits=Limits(top_priority), on_chunk=export.append)
        result, rewritten = priority_rationales(result, dataset, config, model)
        export.replace_rationales(rewritten)
        stage_report(staged, files, result, GENERATED_AT)
        staged.commit()
    with open(files.recommendations, newline="", encoding="utf-8") as stream:
        return result, files, list(csv.DictReader(stream))


def test_the_model_writes_the_top_offers_of_the_priority_customers_in_priority_order(tmp_path: Path, tier1) -> None:
    # The report lists 3 priority customers; the model is asked about the first 5, two offers each.
    config = OrchestratorConfig(llm=offline_settings(priority_customers=5, offers_per_customer=2))
    model = FakeRationaleModel(reply=lambda data: tool_answer(honest_rationales(data)))
    result, files, rows = write_batch(tmp_path, tier1, config, model, top_priority=3)

    assert len(model.prompts) == 5
    rewritten = [(row["customer_id"], row["rank"]) for row in rows if row["rationale_source"] == "llm"]
    assert sorted(rewritten) == sorted((customer, rank) for customer in PRIORITY_ORDER for rank in ("1", "2"))
    assert all(row["rationale"].endswith("suits this customer.") for row in rows if row["rationale_source"] == "llm")
    assert len(rows) == 53  # still one row per tier1 offer

    assert result.priority_customers().select("customer_id", "lead_rationale_source").rows() == [
        ("C007", "llm"),
        ("C004", "llm"),
        ("C009", "llm"),
    ]
    assert result.rationale_stats.offers_asked == 10 and result.rationale_stats.llm == 10
    report = files.report.read_text(encoding="utf-8")
    assert "_(written by the chat model)_" in report
    assert "- **Written by the model (" in report and "10 of 10 asked" in report
    assert json.loads(files.summary.read_text(encoding="utf-8"))["rationale_stats"]["llm"] == 10


def test_offers_the_model_gets_wrong_keep_the_template_and_a_note_says_so(tmp_path: Path, tier1) -> None:
    config = OrchestratorConfig(llm=offline_settings(priority_customers=1, offers_per_customer=2))
    # Answers only the second offer: the lead offer (C007's P003) has no rationale.
    model = FakeRationaleModel(reply=lambda data: tool_answer(honest_rationales({"offers": data["offers"][1:]})))
    result, files, rows = write_batch(tmp_path, tier1, config, model, top_priority=1)

    assert [(row["customer_id"], row["rank"]) for row in rows if row["rationale_source"] == "llm"] == [("C007", "2")]
    assert result.priority_customers()["lead_rationale_source"].to_list() == ["template"]
    note = "the chat model's rationale was not used for 1 of 2 offers (missing 1): templates kept"
    assert result.rationale_notes == (note,)
    assert f"> {note}" in files.report.read_text(encoding="utf-8")


def test_without_an_api_key_the_templates_stay_and_the_run_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["--as-of", AS_OF.isoformat(), "--output", str(tmp_path / "report.md"), "--llm"]
    assert batch_main(argv, OrchestratorConfig(), TIER1, tmp_path) == 0
    note = "LLM rationales requested but OPENAI_API_KEY is not set: templates used."
    assert f"note: {note}" in capsys.readouterr().err
    assert f"> {note}" in (tmp_path / "report.md").read_text(encoding="utf-8")
    with open(tmp_path / "report.recommendations.csv", newline="", encoding="utf-8") as stream:
        assert {row["rationale_source"] for row in csv.DictReader(stream)} == {"template"}
