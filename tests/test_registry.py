"""The registry of offer types and sources: its order, its Literals, its wording, and that the offer steps, the
rationale templates and the executive report all follow it."""

from __future__ import annotations

import typing
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from support import AS_OF

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.offers.candidates import CANDIDATE_SCHEMA
from cross_sell_upsell.offers.rationale import SOURCE_TEMPLATES, TEMPLATES
from cross_sell_upsell.pipeline.api import analyze_cohort
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.registry import (
    CUSTOMER_SUMMARY_ORDER,
    OPPORTUNITY_SOURCES,
    OPPORTUNITY_TYPES,
    SOURCE_ENTRIES,
    TYPE_ENTRIES,
    OpportunitySource,
    OpportunityType,
)
from cross_sell_upsell.reporting.executive import BatchFiles
from cross_sell_upsell.reporting.executive.markdown import render_markdown


def test_the_tie_break_order() -> None:
    assert OPPORTUNITY_TYPES == ("routine_gap", "replenishment", "tier_upgrade", "product_cross_sell", "bundle")
    assert OPPORTUNITY_SOURCES == (
        "catalog",
        "basket_rule",
        "similar_customers",
        "routine_gap",
        "replenishment",
        "upgrade",
    )


def test_the_candidate_columns_sort_in_registry_order() -> None:
    assert CANDIDATE_SCHEMA["type"].categories.to_list() == list(OPPORTUNITY_TYPES)
    assert CANDIDATE_SCHEMA["source"].categories.to_list() == list(OPPORTUNITY_SOURCES)


def test_the_literals_name_the_registered_keys() -> None:
    assert set(typing.get_args(OpportunityType)) == set(OPPORTUNITY_TYPES)
    assert set(typing.get_args(OpportunitySource)) == set(OPPORTUNITY_SOURCES)


def test_the_customer_summary_lists_every_type_once() -> None:
    assert sorted(CUSTOMER_SUMMARY_ORDER) == sorted(OPPORTUNITY_TYPES)


@pytest.mark.parametrize("entries", [TYPE_ENTRIES, SOURCE_ENTRIES], ids=["types", "sources"])
def test_every_entry_has_a_distinct_key_and_label_and_a_meaning(entries) -> None:
    assert all(entry.key and entry.label.strip() and entry.meaning.strip() for entry in entries)
    assert len({entry.key for entry in entries}) == len(entries)
    assert len({entry.label for entry in entries}) == len(entries)


def test_every_type_has_a_template_rationale() -> None:
    assert set(TEMPLATES) == set(OPPORTUNITY_TYPES)
    assert set(SOURCE_TEMPLATES) <= set(OPPORTUNITY_SOURCES)


def test_the_offer_steps_emit_exactly_the_registered_sources_and_types(tier1, tiered) -> None:
    # Between them the two samples have an offer of every kind: tier1 from similar customers, tiered from
    # basket rules and upgrade paths.
    offers = pl.concat(
        [analyze_cohort(None, as_of=AS_OF, dataset=data)["opportunities"] for data in (tier1, tiered)],
        how="vertical_relaxed",
    )
    assert set(offers.get_column("source").cast(pl.String).unique()) == set(OPPORTUNITY_SOURCES)
    assert set(offers.get_column("type").cast(pl.String).unique()) == set(OPPORTUNITY_TYPES)


def test_the_report_legends_follow_the_registry(tmp_path: Path, tier1) -> None:
    result = run_batch(tier1, None, AS_OF, OrchestratorConfig())
    text = render_markdown(result, BatchFiles(tmp_path / "r.md"), [], datetime(2024, 3, 4))
    for entries in (TYPE_ENTRIES, SOURCE_ENTRIES):
        legend = "\n".join(f"- **{entry.label}:** {entry.meaning}." for entry in entries)
        assert f"\n\n{legend}\n" in text
