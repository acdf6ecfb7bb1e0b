"""llm_rationales with langchain-core's fake chat model: which offers the model writes, the fallback to the
template on every kind of fault, retries, stats, concurrency, and the graph's rationale step."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

import polars as pl
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from llm_fakes import (
    CATALOG,
    CUSTOMERS,
    FakeRationaleModel,
    honest_answer,
    offline_settings,
    opportunities_frame,
    scripted,
    tool_answer,
)

from cross_sell_upsell import OrchestratorConfig, analyze_customer
from cross_sell_upsell.llm.rationales import customer_requests, llm_rationales
from cross_sell_upsell.offers.results import RationaleStats
from cross_sell_upsell.reporting.customer import render_json, render_markdown

C1_ONLY = CUSTOMERS.head(1)
C1_ASKED = ["BUNDLE-P1-P2", "P3", "P4"]


def sources(frame: pl.DataFrame) -> list[tuple[str, str, str, str | None]]:
    return frame.select("customer_id", "offer_id", "rationale_source", "rationale_error").rows()


def test_the_model_writes_the_top_offers_of_each_customer(opportunities) -> None:
    model = FakeRationaleModel(reply=honest_answer)
    stats = RationaleStats()
    result = llm_rationales(opportunities, CUSTOMERS, model, offline_settings(), catalog=CATALOG, stats=stats)
    assert sources(result) == [
        ("C1", "BUNDLE-P1-P2", "llm", None),
        ("C1", "P3", "llm", None),
        ("C1", "P4", "llm", None),
        ("C1", "P9", "template", None),  # rank 4: not asked
        ("C2", "P9", "llm", None),
    ]
    assert result["rationale"].to_list()[:2] == [
        "Complete Your Routine Bundle for $19.13 suits this customer.",
        "Glow Serum for $30.00 suits this customer.",
    ]
    assert result.columns == opportunities.columns
    sent = [[(message.type, message.content) for message in prompt] for prompt in model.prompts]
    built = customer_requests(opportunities, CUSTOMERS, offline_settings(), CATALOG)
    expected = [[("system", system), ("human", human)] for (_, system), (_, human) in (r.messages for r in built)]
    assert sorted(sent) == sorted(expected)  # requests run concurrently, so in any order
    # two requests (C1, C2) of 100 input and 20 output tokens each:
    # 200 / 1000 x $0.00015 + 40 / 1000 x $0.0006 = $0.00003 + $0.000024 = $0.000054
    assert stats.model_dump() == {
        "model": "gpt-4o-mini",
        "customers": 2,
        "offers_asked": 4,
        "llm": 4,
        "template": 1,
        "failures": {},
        "model_calls": 2,
        "cache_hits": 0,
        "input_tokens": 200,
        "output_tokens": 40,
        "input_price_per_1k": 0.00015,
        "output_price_per_1k": 0.0006,
        "estimated_cost": pytest.approx(0.000054),
    }


def test_a_transport_fault_keeps_every_template_of_the_customer_without_a_retry(opportunities) -> None:
    model = FakeRationaleModel(reply=scripted(TimeoutError("slow")))
    stats = RationaleStats()
    result = llm_rationales(opportunities, C1_ONLY, model, offline_settings(max_retries=2), stats=stats)
    assert sources(result)[:3] == [("C1", offer, "template", "timeout: TimeoutError") for offer in C1_ASKED]
    assert result["rationale"].to_list()[:3] == ["Template for BUNDLE-P1-P2.", "Template for P3.", "Template for P4."]
    assert (len(model.prompts), stats.failures, stats.llm) == (1, {"timeout": 3}, 0)


def test_a_malformed_answer_is_asked_again(opportunities) -> None:
    good = {"BUNDLE-P1-P2": "Both for $19.13.", "P3": "A bright serum.", "P4": "Time to restock."}
    model = FakeRationaleModel(reply=scripted(tool_answer(args={"rationales": "not a list"}), tool_answer(good)))
    stats = RationaleStats()
    result = llm_rationales(opportunities, C1_ONLY, model, offline_settings(max_retries=1), stats=stats)
    assert [source for _, _, source, _ in sources(result)[:3]] == ["llm", "llm", "llm"]
    # both calls' tokens count: 2 x 100 input, 2 x 20 output
    assert (stats.model_calls, stats.input_tokens, stats.output_tokens) == (2, 200, 40)


def test_answers_that_stay_malformed_end_in_the_template_after_the_retries(opportunities) -> None:
    malformed = tool_answer(args={"rationales": [{"offer_id": "P3"}]})  # no rationale field: breaks the schema
    model = FakeRationaleModel(reply=scripted(malformed, malformed, malformed))
    stats = RationaleStats()
    result = llm_rationales(opportunities, C1_ONLY, model, offline_settings(max_retries=2), stats=stats)
    assert {error for _, _, _, error in sources(result)[:3]} == {"malformed_output: ValidationError"}
    assert (len(model.prompts), stats.failures) == (3, {"malformed_output": 3})


def test_each_offer_is_checked_on_its_own(opportunities) -> None:
    answer = tool_answer(
        {
            "BUNDLE-P1-P2": "  Both steps for $19.13.  ",
            "P3": "Glow Serum, and the Night Cream too.",
            "P99": "An offer that was never made.",
        }
    )
    stats = RationaleStats()
    result = llm_rationales(
        opportunities,
        C1_ONLY,
        FakeRationaleModel(reply=scripted(answer)),
        offline_settings(),
        catalog=CATALOG,
        stats=stats,
    )
    assert sources(result)[:3] == [
        ("C1", "BUNDLE-P1-P2", "llm", None),
        ("C1", "P3", "template", "unknown_product: names Night Cream, which is not in this offer"),
        ("C1", "P4", "template", "missing: the answer has no rationale for this offer"),
    ]
    assert result["rationale"][0] == "Both steps for $19.13."
    assert (stats.llm, stats.failures) == (1, {"missing": 1, "unknown_product": 1})


def test_a_model_without_structured_output_keeps_the_templates(opportunities) -> None:
    stats = RationaleStats()
    result = llm_rationales(
        opportunities, CUSTOMERS, GenericFakeChatModel(messages=iter([])), offline_settings(), stats=stats
    )
    assert {error for _, _, source, error in sources(result) if error} == {"unexpected_error: NotImplementedError"}
    assert (stats.llm, stats.template, stats.model_calls) == (0, 5, 0)


def test_no_offer_asked_means_no_call_and_an_unchanged_frame(opportunities) -> None:
    model = FakeRationaleModel(reply=honest_answer)
    stats = RationaleStats()
    result = llm_rationales(opportunities, CUSTOMERS, model, offline_settings(offers_per_customer=0), stats=stats)
    assert result.equals(opportunities)
    assert (model.prompts, stats.offers_asked, stats.template) == ([], 0, 5)


def test_one_stats_collector_adds_up_several_calls(opportunities) -> None:
    stats = RationaleStats()
    for _ in range(2):
        llm_rationales(
            opportunities, CUSTOMERS, FakeRationaleModel(reply=honest_answer), offline_settings(), stats=stats
        )
    assert (stats.customers, stats.llm, stats.template, stats.input_tokens) == (4, 8, 2, 400)


def _many_customers(count: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`count` copies of C1 and its offers, told apart by their tier preference (1, 2, ...)."""
    ids = [f"K{number:02d}" for number in range(1, count + 1)]
    customers = pl.concat(
        C1_ONLY.with_columns(customer_id=pl.lit(key), tier_preference=pl.lit(number, dtype=pl.Int8))
        for number, key in enumerate(ids, start=1)
    )
    c1_offers = opportunities_frame().filter(pl.col("customer_id") == "C1")
    offers = pl.concat(c1_offers.with_columns(customer_id=pl.lit(key)) for key in ids)
    return customers, offers


def test_concurrent_requests_give_the_same_result_as_sequential_ones() -> None:
    customers, offers = _many_customers(8)

    def reply(data: dict[str, Any]) -> Any:
        tier = data["customer"]["tier_preference"]
        time.sleep(0.002 * (8 - tier))  # later customers answer first, to shuffle completion order
        return tool_answer({offer["offer_id"]: f"For tier {tier}." for offer in data["offers"]})

    results = [
        llm_rationales(offers, customers, FakeRationaleModel(reply=reply), offline_settings(max_concurrency=n))
        for n in (1, 4)
    ]
    assert results[0].equals(results[1])
    asked = results[1].filter(pl.col("rank") <= 3)
    assert asked["rationale"].to_list() == [f"For tier {tier}." for tier in range(1, 9) for _ in range(3)]


def test_priority_customers_limits_who_is_asked() -> None:
    customers, offers = _many_customers(8)
    model = FakeRationaleModel(reply=honest_answer)
    result = llm_rationales(offers, customers, model, offline_settings(priority_customers=3))
    asked = result.filter(pl.col("rationale_source") == "llm")["customer_id"].unique(maintain_order=True)
    assert (asked.to_list(), len(model.prompts)) == (["K01", "K02", "K03"], 3)


# --- through the graph -------------------------------------------------------------------------------------------

AS_OF = date(2024, 3, 1)


def llm_config(**changes: Any) -> OrchestratorConfig:
    return OrchestratorConfig(llm=offline_settings(**changes))


def test_the_report_shows_the_sources_and_the_stats() -> None:
    model = FakeRationaleModel(reply=honest_answer)
    report = analyze_customer("C001", as_of=AS_OF, config=llm_config(), chat_model=model)
    assert [item.rationale_source for item in report.opportunities[:4]] == ["llm", "llm", "llm", "template"]
    assert report.rationale_stats is not None
    assert (report.rationale_stats.llm, report.rationale_stats.input_tokens, report.run_notes) == (3, 100, [])
    markdown = render_markdown(report, 5, generated_at=datetime(2024, 3, 1, 9))
    assert "- **Written by the model (gpt-4o-mini):** 3 of 3 asked (0 of 1 answers from the cache)" in markdown
    # 100 / 1000 x $0.00015 + 20 / 1000 x $0.0006 = $0.000015 + $0.000012 = $0.000027
    assert "- **Estimated cost:** $0.000027 (at $0.00015 per 1K input and $0.0006 per 1K output tokens)" in markdown
    assert "_(source: llm)_" in markdown
    assert '"estimated_cost": 2.7e-05' in render_json(report)


def test_a_failing_model_leaves_a_note_and_templates() -> None:
    model = FakeRationaleModel(reply=scripted(ConnectionError("refused")))
    report = analyze_customer("C001", as_of=AS_OF, config=llm_config(), chat_model=model)
    assert report.run_notes == [
        "the chat model's rationale was not used for 3 of 3 offers (connection_error 3): templates kept"
    ]
    assert {item.rationale_source for item in report.opportunities} == {"template"}
    markdown = render_markdown(report, 1, generated_at=datetime(2024, 3, 1, 9))
    assert "_(source: template; model rationale not used: connection_error: ConnectionError)_" in markdown


def test_without_an_api_key_the_run_says_so_once_and_uses_templates() -> None:
    report = analyze_customer("C001", as_of=AS_OF, config=llm_config())
    assert report.run_notes == ["LLM rationales requested but OPENAI_API_KEY is not set: templates used."]
    assert report.rationale_stats is None
    assert {(item.rationale_source, item.rationale_error) for item in report.opportunities} == {("template", None)}
