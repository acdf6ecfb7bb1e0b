"""A model rationale that names a product id, for every offer type: its own id passes, another offer's id or an
unknown one sends the offer back to its template; and whatever the step raises, the run keeps its templates,
a note says why, and nothing fails. Offline, with the fake chat model."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from llm_fakes import (
    CATALOG,
    CUSTOMERS,
    FakeRationaleModel,
    honest_rationales,
    offline_settings,
    opportunities_frame,
    tool_answer,
)
from support import AS_OF, TIER1, TIERED

from cross_sell_upsell import OrchestratorConfig, analyze_customer, load_dataset
from cross_sell_upsell.llm.chat_model import UnavailableChatModel, build_chat_model
from cross_sell_upsell.llm.checks import OutputCheck
from cross_sell_upsell.llm.rationales import fallback_note, llm_rationales
from cross_sell_upsell.offers.results import RationaleStats
from cross_sell_upsell.pipeline.batch import priority_rationales, run_batch

# fmt: off
ONE_OF_EACH = [
    # customer, rank, offer_id,     type,                 product_ids,  name,                           category,
    #   price, list_price, source, source_name,       days_since, cycle, due_date
    ("C1", 1, "P2", "routine_gap", None, "Calm Toner", "toner",
     12.50, 12.50, None, None, None, None, None),
    ("C1", 2, "P4", "replenishment", None, "Daily Moisturizer", "moisturizer",
     20.00, 20.00, "P4", "Daily Moisturizer", 40, 30, date(2024, 2, 20)),
    ("C1", 3, "P3", "product_cross_sell", None, "Glow Serum", "serum",
     30.00, 30.00, "P4", "Daily Moisturizer", None, None, None),
    ("C1", 4, "P9", "tier_upgrade", None, "Night Cream", "moisturizer",
     45.00, 45.00, "P3", "Glow Serum", None, None, None),
    ("C1", 5, "BUNDLE-P1-P2", "bundle", ["P1", "P2"], "Complete Your Routine Bundle", "bundle",
     19.13, 22.50, None, None, None, None, None),
]
# fmt: on
"""One offer of each type for C1, laid out as the graph publishes them: `product_ids` only for the bundle."""

# offer id      its own ids                  an id of another of C1's offers, outside its scope
NAMING = {
    "P2": (["P2"], "P4"),
    "P4": (["P4"], "P3"),
    "P3": (["P3", "P4"], "P9"),  # P4: the moisturizer the serum pairs with
    "P9": (["P9", "P3"], "P4"),  # P3: the serum it upgrades from
    "BUNDLE-P1-P2": (["BUNDLE-P1-P2", "P1", "P2"], "P9"),
}


def rewrite(offer_id: str, text: str, catalog: pl.DataFrame | None = CATALOG) -> tuple[pl.DataFrame, RationaleStats]:
    """C1's five offers after a model that answers `text` for `offer_id` and honestly for the others."""

    def reply(data: dict[str, Any]) -> Any:
        return tool_answer(honest_rationales(data) | {offer_id: text})

    stats = RationaleStats()
    model, settings = FakeRationaleModel(reply=reply), offline_settings(offers_per_customer=5)
    frame = llm_rationales(opportunities_frame(ONE_OF_EACH), CUSTOMERS, model, settings, catalog=catalog, stats=stats)
    return frame, stats


def outcome(frame: pl.DataFrame, offer_id: str) -> tuple[str, str, str | None]:
    row = frame.filter(pl.col("offer_id") == offer_id).row(0, named=True)
    return row["rationale"], row["rationale_source"], row["rationale_error"]


@pytest.mark.parametrize("offer_id", list(NAMING))
@pytest.mark.parametrize("catalog", [CATALOG, None], ids=["catalog", "no-catalog"])
def test_a_rationale_naming_its_own_ids_is_the_models(offer_id: str, catalog: pl.DataFrame | None) -> None:
    text = f"{' and '.join(NAMING[offer_id][0])} is a natural next step."
    frame, stats = rewrite(offer_id, text, catalog)
    assert outcome(frame, offer_id) == (text, "llm", None)
    assert (stats.llm, stats.failures) == (5, {})


@pytest.mark.parametrize("offer_id", list(NAMING))
@pytest.mark.parametrize("kind", ["another-offer", "unknown"])
def test_a_rationale_naming_another_id_keeps_the_template(offer_id: str, kind: str) -> None:
    stranger = NAMING[offer_id][1] if kind == "another-offer" else "P77"
    frame, stats = rewrite(offer_id, f"{stranger} is a natural next step.")
    assert outcome(frame, offer_id) == (
        f"Template for {offer_id}.",
        "template",
        f"unknown_product: names {stranger}, which is not in this offer",
    )
    assert (stats.llm, stats.failures) == (4, {"unknown_product": 1})


# --- the real frames, through the graph and the batch ------------------------------------------------------------


def own_ids(data: dict[str, Any]) -> Any:
    """Each rationale names its own offer id: "P003 is a natural next step." """
    return tool_answer({offer["offer_id"]: f"{offer['offer_id']} is a natural next step." for offer in data["offers"]})


def unknown_ids(data: dict[str, Any]) -> Any:
    return tool_answer({offer["offer_id"]: "P999 is a natural next step." for offer in data["offers"]})


@pytest.mark.parametrize("folder", [TIER1, TIERED], ids=["tier1", "tiered"])
def test_every_offer_type_of_the_sample_data_may_name_its_own_id(folder) -> None:
    dataset = load_dataset(folder)
    config = OrchestratorConfig(llm=offline_settings(offers_per_customer=10))
    types = set()
    for customer_id in dataset.customers["customer_id"]:
        model = FakeRationaleModel(reply=own_ids)
        report = analyze_customer(customer_id, as_of=AS_OF, dataset=dataset, config=config, chat_model=model)
        asked = report.opportunities[:10]
        assert [(item.rationale_source, item.rationale_error) for item in asked] == [("llm", None)] * len(asked)
        assert report.run_notes == []
        types |= {item.type for item in asked}
    assert types >= {"routine_gap", "replenishment", "product_cross_sell", "bundle"}
    if folder == TIERED:
        assert "tier_upgrade" in types


def test_every_offer_naming_an_unknown_id_keeps_its_template_and_the_run_says_so() -> None:
    config = OrchestratorConfig(llm=offline_settings())
    report = analyze_customer("C001", as_of=AS_OF, config=config, chat_model=FakeRationaleModel(reply=unknown_ids))
    assert {(item.rationale_source, item.rationale_error) for item in report.opportunities[:3]} == {
        ("template", "unknown_product: names P999, which is not in this offer")
    }
    assert report.run_notes == [
        "the chat model's rationale was not used for 3 of 3 offers (unknown_product 3): templates kept"
    ]


# --- whatever the step raises, the run keeps its templates -------------------------------------------------------


def broken_check(self: OutputCheck, text: str, scope: Any) -> None:
    raise ZeroDivisionError("a bug in a check")


def test_a_check_that_raises_keeps_every_asked_template(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OutputCheck, "problem", broken_check)
    frame, stats = rewrite("P2", "P2 is a natural next step.")
    assert frame.select("rationale_source", "rationale_error").unique().rows() == [
        ("template", "unexpected_error: ZeroDivisionError")
    ]
    assert frame["rationale"].to_list() == [f"Template for {offer}." for offer in NAMING]
    assert (stats.offers_asked, stats.llm, stats.template, stats.failures) == (5, 0, 5, {"unexpected_error": 5})
    assert (stats.customers, stats.model_calls) == (1, 1)  # the call was made and is counted
    assert fallback_note(stats) == (
        "the chat model's rationale was not used for 5 of 5 offers (unexpected_error 5): templates kept"
    )


def test_a_check_that_raises_in_the_graph_gives_templates_and_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OutputCheck, "problem", broken_check)
    config = OrchestratorConfig(llm=offline_settings())
    report = analyze_customer("C001", as_of=AS_OF, config=config, chat_model=FakeRationaleModel(reply=own_ids))
    assert [item.rationale_source for item in report.opportunities] == ["template"] * len(report.opportunities)
    assert report.run_notes == [
        "the chat model's rationale was not used for 3 of 3 offers (unexpected_error 3): templates kept"
    ]


def test_a_check_that_raises_in_the_batch_gives_templates_and_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OutputCheck, "problem", broken_check)
    dataset = load_dataset(TIER1)
    config = OrchestratorConfig(llm=offline_settings(priority_customers=2, offers_per_customer=1))
    result = run_batch(dataset, None, AS_OF, config, 4)
    result, rewritten = priority_rationales(result, dataset, config, FakeRationaleModel(reply=own_ids))
    assert rewritten.is_empty()
    assert set(result.priority_customers()["lead_rationale_source"]) == {"template"}
    assert result.rationale_notes == (
        "the chat model's rationale was not used for 2 of 2 offers (unexpected_error 2): templates kept",
    )


def test_a_client_that_cannot_be_built_fails_its_requests_not_the_run(api_key) -> None:
    settings = offline_settings(base_url="http://[::1")  # the HTTP library rejects the port
    model = build_chat_model(settings)
    assert isinstance(model, UnavailableChatModel)
    report = analyze_customer("C001", as_of=AS_OF, config=OrchestratorConfig(llm=settings))
    assert {item.rationale_error for item in report.opportunities[:3]} == {"client_error: InvalidURL"}
    assert report.run_notes == [
        "the chat model's rationale was not used for 3 of 3 offers (client_error 3): templates kept"
    ]
