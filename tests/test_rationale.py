"""Template rationales word for word, and the optional chat-model step with fake models."""

from __future__ import annotations

import polars as pl
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.runnables import RunnableLambda

from conftest import AS_OF
from cross_sell_upsell.api import analyze_cohort, analyze_customer
from cross_sell_upsell.configuration import LLMSettings, OrchestratorConfig
from cross_sell_upsell.llm import OfferRationale, RationaleSet


def test_template_rationales_for_k1(mini):
    k1 = analyze_cohort(["K1"], as_of=AS_OF, dataset=mini)["opportunities"]
    rationale = dict(k1.select("offer_id", "rationale").iter_rows())
    assert rationale == {
        "B3": "Tier 2 step up from Basic Serum. Targets dryness.",
        "BUNDLE-A2-A4-A5": "Completes the routine with 3 missing essentials (toner, moisturizer, spf) for $35.70, "
        "saving $6.30. Targets dryness.",
        "A3": "Last bought 60 days ago on a 30-day cycle; due since 2024-01-31. Targets dryness.",
        "A4": "Adds the missing moisturizer step; the customer owns 2 of 5 routine essentials. Targets dryness.",
        "B1": "Tier 2 step up from Basic Cleanser.",
        "A5": "Adds the missing spf step; the customer owns 2 of 5 routine essentials.",
        "A1": "Last bought 29 days ago on a 30-day cycle; due on 2024-03-02.",
        "A2": "Adds the missing toner step; the customer owns 2 of 5 routine essentials.",
    }
    assert set(k1["rationale_source"]) == {"template"}


def test_cross_sell_template_names_the_owned_product(mini):
    k4 = analyze_cohort(["K4"], as_of=AS_OF, dataset=mini)["opportunities"]
    assert k4.filter(pl.col("offer_id") == "A6")["rationale"].item() == (
        "Pairs with Basic Moisturizer, which the customer already uses."
    )


class StructuredFake(GenericFakeChatModel):
    """A fake chat model whose structured output is computed from the offers in the prompt."""

    answer: object = None

    def with_structured_output(self, schema, **kwargs):
        return RunnableLambda(self.answer)


def _llm_config(offers: int = 2) -> OrchestratorConfig:
    return OrchestratorConfig(llm=LLMSettings(enabled=True, offers_per_customer=offers))


def test_model_rationales_replace_the_templates_of_the_top_offers(mini):
    def answer(messages):
        return RationaleSet(
            rationales=[OfferRationale(offer_id="B3", rationale="A richer serum for dry skin."),
                        OfferRationale(offer_id="BUNDLE-A2-A4-A5", rationale="Finish the routine in one go.")]
        )

    model = StructuredFake(messages=iter([]), answer=answer)
    report = analyze_customer("K1", as_of=AS_OF, dataset=mini, config=_llm_config(), chat_model=model)
    sources = [(offer.product_id, offer.rationale_source) for offer in report.opportunities[:3]]
    assert sources == [("B3", "llm"), ("BUNDLE-A2-A4-A5", "llm"), ("A3", "template")]
    assert report.opportunities[0].rationale == "A richer serum for dry skin."


def test_a_failing_model_falls_back_to_the_templates(mini):
    def answer(messages):
        raise TimeoutError("model took too long")

    model = StructuredFake(messages=iter([]), answer=answer)
    report = analyze_customer("K1", as_of=AS_OF, dataset=mini, config=_llm_config(), chat_model=model)
    top = report.opportunities[0]
    assert top.rationale_source == "template"
    assert top.rationale == "Tier 2 step up from Basic Serum. Targets dryness."
    assert top.rationale_error == "model call failed: TimeoutError"


def test_without_an_api_key_the_run_notes_templates(mini, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    report = analyze_customer("K1", as_of=AS_OF, dataset=mini, config=_llm_config())
    assert report.run_notes == ["LLM rationales requested but OPENAI_API_KEY is not set: templates used."]
    assert {offer.rationale_source for offer in report.opportunities} == {"template"}


@pytest.mark.parametrize("bad", ["", "x" * 301])
def test_empty_or_overlong_model_rationales_are_rejected(mini, bad):
    model = StructuredFake(
        messages=iter([]), answer=lambda messages: RationaleSet(rationales=[OfferRationale(offer_id="B3", rationale=bad)])
    )
    report = analyze_customer("K1", as_of=AS_OF, dataset=mini, config=_llm_config(1), chat_model=model)
    assert report.opportunities[0].rationale_source == "template"
    assert report.opportunities[0].rationale_error == "rationale missing, empty or too long"
