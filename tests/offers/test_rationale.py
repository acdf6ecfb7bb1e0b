"""Template rationales word for word (the chat-model step is tested in tests/llm)."""

from __future__ import annotations

import polars as pl
from support import AS_OF

from cross_sell_upsell.configuration import LLMSettings, OrchestratorConfig
from cross_sell_upsell.pipeline.api import analyze_cohort, analyze_customer


def test_template_rationales_for_k1(mini):
    # The restocks A1 and A3 are not made: the upgrades B1 and B3 outscore them for the same steps.
    k1 = analyze_cohort(["K1"], as_of=AS_OF, dataset=mini)["opportunities"]
    rationale = dict(k1.select("offer_id", "rationale").iter_rows())
    assert rationale == {
        "B3": "Tier 2 step up from Basic Serum. Targets dryness.",
        "BUNDLE-A2-A4-A5": "Completes the routine with 3 missing essentials (toner, moisturizer, spf) for $35.70, "
        "saving $6.30. Targets dryness.",
        "A4": "Adds the missing moisturizer step; the customer owns 2 of 5 routine essentials. Targets dryness.",
        "B1": "Tier 2 step up from Basic Cleanser.",
        "A5": "Adds the missing spf step; the customer owns 2 of 5 routine essentials.",
        "A2": "Adds the missing toner step; the customer owns 2 of 5 routine essentials.",
    }
    assert set(k1["rationale_source"]) == {"template"}


def test_cross_sell_template_names_the_owned_product(mini):
    k4 = analyze_cohort(["K4"], as_of=AS_OF, dataset=mini)["opportunities"]
    assert k4.filter(pl.col("offer_id") == "A6")["rationale"].item() == (
        "Pairs with Basic Moisturizer, which the customer already uses."
    )


def test_without_an_api_key_the_run_notes_templates(mini, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = OrchestratorConfig(llm=LLMSettings(enabled=True))
    report = analyze_customer("K1", as_of=AS_OF, dataset=mini, config=config)
    assert report.run_notes == ["LLM rationales requested but OPENAI_API_KEY is not set: templates used."]
    # the mini data's few days of history train no acceptance model either: a note of its own
    assert report.acceptance_note.startswith("Offers are ranked by the weighted score: expected revenue needs the")
    assert {offer.rationale_source for offer in report.opportunities} == {"template"}
