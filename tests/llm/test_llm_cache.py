"""The on-disk answer cache: a second identical run sends no request and costs nothing."""

from __future__ import annotations

import json

import polars as pl
from llm_fakes import (
    API_KEY,
    CATALOG,
    CUSTOMERS,
    FakeRationaleModel,
    error_reply,
    honest_answer,
    honest_reply,
    http_settings,
    offline_settings,
    opportunities_frame,
    scripted,
    tool_answer,
)

from cross_sell_upsell.llm.chat_model import build_chat_model
from cross_sell_upsell.llm.rationales import llm_rationales
from cross_sell_upsell.offers.results import RationaleStats


def run(settings, chat_model=None) -> tuple[pl.DataFrame, RationaleStats]:
    stats = RationaleStats()
    model = chat_model or build_chat_model(settings)
    return llm_rationales(opportunities_frame(), CUSTOMERS, model, settings, catalog=CATALOG, stats=stats), stats


def test_a_second_identical_run_sends_no_request(stub, api_key, tmp_path) -> None:
    stub.otherwise = honest_reply
    settings = http_settings(stub.url, tmp_path)
    first, first_stats = run(settings)
    assert len(stub.requests) == 2  # C1 and C2
    second, second_stats = run(settings)
    assert len(stub.requests) == 2
    assert second.equals(first)
    assert (second_stats.llm, second_stats.cache_hits, second_stats.model_calls) == (4, 2, 0)
    assert (second_stats.input_tokens, second_stats.output_tokens, second_stats.estimated_cost) == (0, 0, 0.0)
    assert first_stats.input_tokens == 240  # 2 requests x 120 prompt tokens


def test_a_cache_file_holds_the_answer_and_its_tokens_but_never_the_key(stub, api_key, tmp_path) -> None:
    stub.otherwise = honest_reply
    run(http_settings(stub.url, tmp_path))
    files = sorted((tmp_path / "cache").iterdir())
    assert len(files) == 2 and all(len(file.stem) == 64 for file in files)  # sha256 hex names
    assert not [file for file in (tmp_path / "cache").iterdir() if file.name.startswith(".")]  # no temporary left
    record = json.loads(files[0].read_text())
    assert set(record) == {"model", "answer", "input_tokens", "output_tokens"}
    assert (record["model"], record["input_tokens"], record["output_tokens"]) == ("test-model", 120, 30)
    assert all(API_KEY not in file.read_text() for file in files)


def test_another_model_or_prompt_is_asked_again(stub, api_key, tmp_path) -> None:
    stub.otherwise = honest_reply
    run(http_settings(stub.url, tmp_path))
    run(http_settings(stub.url, tmp_path, model="other-model"))
    assert len(stub.requests) == 4
    run(http_settings(stub.url, tmp_path, max_rationale_chars=200))  # the limit is in the prompt
    assert len(stub.requests) == 6


def test_failures_are_not_cached(stub, api_key, tmp_path) -> None:
    stub.answer(error_reply(500), error_reply(500))
    stub.otherwise = honest_reply
    settings = http_settings(stub.url, tmp_path, max_concurrency=1)
    first, _ = run(settings)
    assert set(first.filter(pl.col("customer_id") == "C1", pl.col("rank") <= 3)["rationale_source"]) == {"template"}
    second, stats = run(settings)
    assert set(second.filter(pl.col("rank") <= 3)["rationale_source"]) == {"llm"}
    assert stats.cache_hits == 1  # C2, answered the first time


def test_a_cached_answer_goes_through_the_checks_again(tmp_path) -> None:
    settings = offline_settings(cache_dir=tmp_path, priority_customers=1, offers_per_customer=1)
    straying = tool_answer({"BUNDLE-P1-P2": "Add P9 as well."})
    first, _ = run(settings, FakeRationaleModel(reply=scripted(straying)))
    model = FakeRationaleModel(reply=honest_answer)
    second, stats = run(settings, model)
    expected = ("template", "unknown_product: names P9, which is not in this offer")
    assert first.row(0, named=True)["rationale_error"] == second.row(0, named=True)["rationale_error"] == expected[1]
    assert second.row(0, named=True)["rationale_source"] == expected[0]
    assert (model.prompts, stats.cache_hits) == ([], 1)


def test_an_unreadable_cache_file_is_asked_again_and_rewritten(tmp_path) -> None:
    settings = offline_settings(cache_dir=tmp_path)
    run(settings, FakeRationaleModel(reply=honest_answer))
    for file in tmp_path.iterdir():
        file.write_text("{half a file")
    model = FakeRationaleModel(reply=honest_answer)
    _, stats = run(settings, model)
    assert (len(model.prompts), stats.cache_hits) == (2, 0)
    assert all(json.loads(file.read_text())["answer"] for file in tmp_path.iterdir())
