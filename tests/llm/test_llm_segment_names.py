"""Segment names from the chat model: used when they pass the checks, the rule name kept with the reason on a
model that raises, an answer with duplicates, markdown, unsafe or missing names; the cache; temperature 0."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from llm_fakes import FakeRationaleModel, completion, http_settings, offline_settings, scripted

from cross_sell_upsell.configuration import SegmentSettings
from cross_sell_upsell.llm.chat_model import build_chat_model
from cross_sell_upsell.llm.segment_names import clean_name, llm_segment_names
from cross_sell_upsell.models.segment_naming import SEGMENT_FEATURES
from cross_sell_upsell.models.segments import Segment, Segments


def figures(*values: float | None) -> dict[str, float | None]:
    return dict(zip(SEGMENT_FEATURES, values, strict=True))


# name                       | customers | purchases | spend | unit price | categories | gap | CLV | churn
SEGMENTS = Segments(
    segments=(
        Segment("High-value regulars", "model", 40, figures(12, 900.0, 25.0, 4, 10.0, 1200.0, 0.1)),
        Segment("Mid-value premium buyers", "model", 35, figures(4, 400.0, 80.0, 2, 40.0, 300.0, 0.4)),
        Segment("Lapsing bargain hunters", "model", 25, figures(2, 30.0, 5.0, 1, 90.0, 20.0, 0.9)),
        Segment("Staff", "given", 3, figures(*[None] * 7), naming="given"),
    ),
    population=figures(6.0, 500.0, 40.0, 2.5, 40.0, 600.0, 0.4),
    settings=SegmentSettings(),
    k=3,
)
RULE_NAMES = SEGMENTS.names


def names_answer(names: dict[str, str]) -> AIMessage:
    """A tool-calling model's answer for `with_structured_output(SegmentNameSet)`."""
    args = {"names": [{"segment": key, "name": name} for key, name in names.items()]}
    return AIMessage(content="", tool_calls=[{"name": "SegmentNameSet", "args": args, "id": "call-1"}])


def answering(names: dict[str, str]) -> FakeRationaleModel:
    return FakeRationaleModel(reply=lambda data: names_answer(names))


def namings(segments: Segments) -> list[tuple[str, str, str | None]]:
    return [(segment.name, segment.naming, segment.naming_error) for segment in segments.segments]


def test_the_models_names_replace_the_rule_names():
    model = answering({"S1": "Loyal regulars", "S2": "Premium occasionals", "S3": "Fading deal seekers"})
    named = llm_segment_names(SEGMENTS, model, offline_settings())
    assert namings(named) == [
        ("Loyal regulars", "llm", None),
        ("Premium occasionals", "llm", None),
        ("Fading deal seekers", "llm", None),
        ("Staff", "given", None),  # the retailer's segment is not asked
    ]
    assert named.sizes == SEGMENTS.sizes and named.centroids == SEGMENTS.centroids
    ((system, human),) = [[message.content for message in prompt] for prompt in model.prompts]
    assert "at most 40 characters" in system
    data = json.loads(human.split("<data>\n", 1)[1].rsplit("\n</data>", 1)[0])
    assert [row["segment"] for row in data["segments"]] == ["S1", "S2", "S3"]
    first = data["segments"][0]
    assert (first["customers"], first["averages"]["predicted_clv"]) == (40, 1200.0)
    # CLV 1,200 against the population's 600; purchases 12 against 6; churn 0.1 against 0.4
    assert (first["vs_average"]["predicted_clv"], first["vs_average"]["purchases"]) == (2.0, 2.0)
    assert first["vs_average"]["churn_probability"] == 0.25


def test_a_model_that_raises_keeps_every_rule_name():
    model = FakeRationaleModel(reply=scripted(TimeoutError("slow")))
    named = llm_segment_names(SEGMENTS, model, offline_settings())
    assert namings(named)[:3] == [(name, "rules", "timeout: TimeoutError") for name in RULE_NAMES[:3]]


def test_a_malformed_answer_is_asked_again_then_falls_back():
    model = FakeRationaleModel(reply=scripted(*[ValueError("bad json")] * 3))
    named = llm_segment_names(SEGMENTS, model, offline_settings(max_retries=2))
    assert len(model.prompts) == 3
    assert {segment.naming_error for segment in named.segments[:3]} == {"malformed_output: ValueError"}


def test_duplicate_markdown_unsafe_and_missing_names():
    many = SEGMENTS.segments[:3] * 2
    six = Segments(
        segments=tuple(
            Segment(f"{segment.name} {n}", "model", segment.customers, segment.figures)
            for n, segment in enumerate(many)
        )
        + SEGMENTS.segments[3:],
        population=SEGMENTS.population,
        settings=SegmentSettings(max_name_chars=20),
        k=6,
    )
    model = answering(
        {
            "S1": "**Loyal fans**",
            "S2": "loyal  FANS",  # the same name without case: both fall back
            "S3": "`Deal\x07 hunters`",  # markdown and a control character stripped: used
            "S4": "Staff",  # the retailer's segment name
            "S5": "An extraordinarily long segment name",
            # S6: missing
        }
    )
    named = llm_segment_names(six, model, offline_settings())
    assert namings(named)[:6] == [
        ("High-value regulars 0", "rules", "duplicate: another segment is also called 'Loyal fans'"),
        ("Mid-value premium buyers 1", "rules", "duplicate: another segment is also called 'loyal FANS'"),
        ("Deal hunters", "llm", None),
        ("High-value regulars 3", "rules", "duplicate: another segment is also called 'Staff'"),
        ("Mid-value premium buyers 4", "rules", "too_long: 36 characters, more than 20"),
        ("Lapsing bargain hunters 5", "rules", "missing: the answer has no name for this segment"),
    ]
    assert len({name.casefold() for name in named.names}) == len(named.names)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("see www.example.com", "unsafe"),
        ("<b>Bold</b> buyers", "unsafe"),
        ("Top 10% buyers", "unsafe"),
        ("***", "empty"),
        ("42 regulars", "unsafe"),
    ],
)
def test_names_that_are_not_plain_words_fall_back(text: str, error: str):
    named = llm_segment_names(
        SEGMENTS, answering({"S1": text, "S2": "Premium buyers", "S3": "Deal seekers"}), offline_settings()
    )
    assert named.segments[0].name == "High-value regulars"
    assert named.segments[0].naming_error.startswith(f"{error}: ")
    assert named.segments[1].naming == "llm"


def test_clean_name_strips_markdown_controls_and_quotes():
    assert clean_name('  "## Night\u200b owls\n"  ') == "Night owls"
    assert clean_name("_Rock & roll_ fans.") == "Rock & roll fans"


def test_unclustered_segments_ask_nothing():
    unclustered = Segments(segments=SEGMENTS.segments[3:], population=SEGMENTS.population, settings=SegmentSettings())
    model = answering({})
    assert llm_segment_names(unclustered, model, offline_settings()) == unclustered
    assert model.prompts == []


def test_the_answer_is_cached_by_the_figures(tmp_path):
    settings = offline_settings(cache_dir=tmp_path)
    names = {"S1": "Loyal regulars", "S2": "Premium occasionals", "S3": "Fading deal seekers"}
    first = llm_segment_names(SEGMENTS, answering(names), settings)
    failing = FakeRationaleModel(reply=scripted(TimeoutError("down")))
    again = llm_segment_names(SEGMENTS, failing, settings)
    assert again == first and failing.prompts == []  # from the cache: no call
    other = Segments(
        segments=(SEGMENTS.segments[0], SEGMENTS.segments[2]),
        population=SEGMENTS.population,
        settings=SegmentSettings(),
    )
    assert llm_segment_names(other, failing, settings).segments[0].naming_error == "timeout: TimeoutError"
    stored: list[Any] = [json.loads(file.read_text()) for file in tmp_path.iterdir()]
    assert [record["answer"] for record in stored] == [
        {"names": [{"segment": key, "name": name} for key, name in names.items()]}
    ]


def test_the_request_goes_at_temperature_zero(stub, api_key):
    stub.answer(completion(json.dumps({"names": [{"segment": "S1", "name": "Loyal regulars"}]})))
    model = build_chat_model(http_settings(stub.url, temperature=0.7))
    named = llm_segment_names(SEGMENTS, model, http_settings(stub.url, temperature=0.7))
    body = stub.requests[0].json()
    assert body["temperature"] == 0.0
    assert namings(named)[0] == ("Loyal regulars", "llm", None)
    assert namings(named)[1][2] == "missing: the answer has no name for this segment"
