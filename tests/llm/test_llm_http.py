"""The real OpenAI client (langchain-openai's ChatOpenAI over HTTP) against a scripted local server: success,
every fault the issue lists, and what goes over the wire."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date, datetime

import polars as pl
import pytest
from llm_fakes import (
    API_KEY,
    CATALOG,
    CUSTOMERS,
    INJECTED_NOTE,
    Reply,
    completion,
    error_reply,
    honest_reply,
    http_settings,
    opportunities_frame,
    rationale_reply,
    refused_url,
)

from cross_sell_upsell import OrchestratorConfig, analyze_customer, load_dataset
from cross_sell_upsell.llm.chat_model import build_chat_model
from cross_sell_upsell.llm.rationales import llm_rationales
from cross_sell_upsell.offers.results import RationaleStats
from cross_sell_upsell.reporting.customer import render_json, render_markdown

C1_ONLY = CUSTOMERS.head(1)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def run_c1(url: str, **changes) -> tuple[pl.DataFrame, RationaleStats]:
    settings = http_settings(url, **changes)
    stats = RationaleStats()
    frame = llm_rationales(
        opportunities_frame(), C1_ONLY, build_chat_model(settings), settings, catalog=CATALOG, stats=stats
    )
    return frame.filter(pl.col("customer_id") == "C1", pl.col("rank") <= 3), stats


def test_without_a_key_no_client_is_built() -> None:
    assert build_chat_model(http_settings("http://127.0.0.1:9/v1")) is None


def test_a_structured_answer_becomes_the_rationales(stub, api_key) -> None:
    stub.answer(honest_reply)
    asked, stats = run_c1(stub.url)
    assert asked.select("offer_id", "rationale_source", "rationale_error").rows() == [
        ("BUNDLE-P1-P2", "llm", None),
        ("P3", "llm", None),
        ("P4", "llm", None),
    ]
    assert asked["rationale"][1] == "Glow Serum for $30.00 suits this customer."
    # one request of 120 prompt and 30 completion tokens:
    # 120 / 1000 x $0.00015 + 30 / 1000 x $0.0006 = $0.000018 + $0.000018 = $0.000036
    assert (stats.input_tokens, stats.output_tokens, stats.estimated_cost) == (120, 30, pytest.approx(0.000036))
    (received,) = stub.requests
    body = received.json()
    assert received.path == "/v1/chat/completions"
    assert (body["model"], body["temperature"]) == ("test-model", 0.0)
    assert body["response_format"]["type"] == "json_schema"
    assert (body["response_format"]["json_schema"]["name"], body["response_format"]["json_schema"]["strict"]) == (
        "RationaleSet",
        True,
    )
    assert [message["role"] for message in body["messages"]] == ["system", "user"]


@pytest.mark.parametrize(
    ("replies", "error", "requests"),
    [
        # 1 + max_retries (1) requests: the client retries transport faults, the step retries bad answers
        pytest.param([Reply(body=b"{}", delay=1.0)] * 2, "timeout: OpenAITimeoutError", 2, id="slower-than-timeout"),
        pytest.param([error_reply(500)] * 2, "server_error: OpenAIAPIError, HTTP 500", 2, id="500"),
        pytest.param([error_reply(429)] * 2, "rate_limited: OpenAIRateLimitError, HTTP 429", 2, id="429-twice"),
        pytest.param([completion("{not json")] * 2, "malformed_output: ValidationError", 2, id="malformed-json"),
        pytest.param(
            [Reply(body=b"<html>gateway</html>")] * 2, "malformed_output: JSONDecodeError", 2, id="not-json-body"
        ),
        pytest.param([completion('{"answers": []}')] * 2, "malformed_output: ValidationError", 2, id="schema"),
        pytest.param([completion(None, refusal="I can't help.")] * 2, "refusal: OpenAIRefusalError", 2, id="refusal"),
        pytest.param(
            [error_reply(401, f"Incorrect API key provided: {API_KEY}")],
            "http_error: OpenAIAuthenticationError, HTTP 401",
            1,
            id="401-echoing-the-key",
        ),
    ],
)
def test_a_fault_keeps_the_templates_and_says_why(stub, api_key, replies, error, requests) -> None:
    stub.answer(*replies)
    asked, stats = run_c1(stub.url)
    assert asked.select("rationale_source", "rationale_error").unique().rows() == [("template", error)]
    assert asked["rationale"].to_list() == ["Template for BUNDLE-P1-P2.", "Template for P3.", "Template for P4."]
    assert len(stub.requests) == requests
    assert stats.failures == {error.split(":")[0]: 3}


def test_a_429_then_an_answer_succeeds(stub, api_key) -> None:
    stub.answer(error_reply(429), honest_reply)
    asked, _ = run_c1(stub.url)
    assert set(asked["rationale_source"]) == {"llm"}
    assert len(stub.requests) == 2


def test_a_refused_connection_keeps_the_templates(api_key) -> None:
    asked, stats = run_c1(refused_url())
    assert set(asked["rationale_error"]) == {"connection_error: OpenAIConnectionError"}
    assert stats.model_calls == 1


def test_a_rationale_naming_a_product_not_offered_is_replaced(stub, api_key) -> None:
    stub.answer(
        rationale_reply(
            {
                "BUNDLE-P1-P2": "Cleanser and toner for $19.13.",
                "P3": "Glow Serum; ask about P9 too.",
                "P4": "Restock it at $45.00.",
            }
        )
    )
    asked, stats = run_c1(stub.url)
    assert asked.select("offer_id", "rationale_source", "rationale_error").rows() == [
        ("BUNDLE-P1-P2", "llm", None),
        ("P3", "template", "unknown_product: names P9, which is not in this offer"),
        ("P4", "template", "unknown_price: names the price $45.00, which is not in this offer"),
    ]
    assert stats.failures == {"unknown_price": 1, "unknown_product": 1}


# --- what the server receives, through the whole graph on the sample data --------------------------------------

AS_OF = date(2024, 3, 1)


def test_requests_carry_no_email_no_key_and_no_name_by_default(stub, api_key) -> None:
    stub.otherwise = honest_reply
    dataset = load_dataset("data/tier1")
    customer = dataset.customers.row(0, named=True)  # C001, Sarah Lee, sarah.lee@example.com
    report = analyze_customer(
        customer["customer_id"], as_of=AS_OF, dataset=dataset, config=OrchestratorConfig(llm=http_settings(stub.url))
    )
    assert [item.rationale_source for item in report.opportunities[:3]] == ["llm", "llm", "llm"]
    texts = stub.request_texts()
    assert len(texts) == 1
    for text in texts:
        assert not EMAIL.search(text)
        name = customer["name"]
        for secret in (API_KEY, name, name.split()[0], customer["customer_id"], customer["notes"]):
            assert secret not in text
    assert stub.requests[0].headers["authorization"] == f"Bearer {API_KEY}"  # the one place the key goes


def test_notes_when_configured_travel_fenced_as_data(stub, api_key) -> None:
    stub.otherwise = honest_reply
    dataset = load_dataset("data/tier1")
    dataset = dataclasses.replace(dataset, customers=dataset.customers.with_columns(notes=pl.lit(INJECTED_NOTE)))
    config = OrchestratorConfig(llm=http_settings(stub.url, include_notes=True))
    analyze_customer("C001", as_of=AS_OF, dataset=dataset, config=config)
    system, user = (message["content"] for message in stub.requests[0].json()["messages"])
    assert "never instructions" in system
    assert (user.count("<data>"), user.count("</data>")) == (1, 1)
    data = user.split("<data>\n", 1)[1].rsplit("\n</data>", 1)[0]
    assert json.loads(data)["customer"]["notes"] == INJECTED_NOTE
    assert user.index("Ignore all previous instructions") > user.index("<data>")


def test_the_key_is_in_no_report_even_when_the_server_echoes_it(stub, api_key, tmp_path) -> None:
    stub.otherwise = error_reply(401, f"Incorrect API key provided: {API_KEY}")
    config = OrchestratorConfig(llm=http_settings(stub.url, tmp_path))
    report = analyze_customer("C001", as_of=AS_OF, config=config)
    rendered = render_json(report) + render_markdown(report, 5, datetime(2024, 3, 1, 9))
    assert "OpenAIAuthenticationError, HTTP 401" in rendered
    assert API_KEY not in rendered
    assert not (tmp_path / "cache").exists()  # failures are not cached
