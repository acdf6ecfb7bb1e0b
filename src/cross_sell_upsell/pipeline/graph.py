"""The orchestrator graph. Each node unpacks the state, calls a pure function over the cohort's frames
and returns only the keys it changes.

    load_customers -> detect_routine_gaps -> (check_replenishment | find_cross_sells | find_tier_upgrades
    | build_bundles, in parallel) -> score_opportunities -> [write_rationales] -> assemble_results
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal, get_args

import polars as pl
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from cross_sell_upsell.data.dataset import load_dataset
from cross_sell_upsell.llm.chat_model import build_chat_model
from cross_sell_upsell.llm.rationales import NO_KEY_NOTE, fallback_note, llm_rationales
from cross_sell_upsell.offers.acceptance import (
    RANKING_VALUE,
    acceptance_probabilities,
    fitted,
    ranked_by_policy,
    ranking_note,
)
from cross_sell_upsell.offers.campaigns import boost, campaign_rationales
from cross_sell_upsell.offers.candidates import (
    CANDIDATE_SCHEMA,
    bundle_offers,
    cross_sell_offers,
    replenishment_offers,
    routine_gap_offers,
    routine_gaps,
    routine_status,
    tier_upgrade_offers,
    win_back_restocks,
)
from cross_sell_upsell.offers.cohort import select_cohort
from cross_sell_upsell.offers.needs import one_offer_per_need, without_unneeded
from cross_sell_upsell.offers.rationale import template_rationales
from cross_sell_upsell.offers.results import (
    RationaleStats,
    describe_offers,
    flag_revenue,
    publish_opportunities,
    summarize_customers,
)
from cross_sell_upsell.offers.scoring import score_offers
from cross_sell_upsell.offers.segment_rules import segment_learned_offers
from cross_sell_upsell.pipeline.acceptance import with_acceptance
from cross_sell_upsell.pipeline.context import Context
from cross_sell_upsell.pipeline.state import InputState, OutputState, State
from cross_sell_upsell.snapshot.build import Snapshot, build_snapshot, check_snapshot

CANDIDATE_KEYS = ("gap_offers", "replenishment_offers", "cross_sell_offers", "upgrade_offers", "bundle_offers")


def _as_of(value: date | str | None) -> date:
    if value is None:
        return date.today()
    return value if isinstance(value, date) else date.fromisoformat(value)


def _snapshot(context: Context, as_of: date) -> Snapshot:
    """The context's snapshot, checked against the run; else one built for it, with its acceptance model (one
    customer, LangGraph Studio)."""
    if context.snapshot is not None:
        check_snapshot(context.snapshot, as_of, context.config)
        return context.snapshot
    dataset = context.dataset or load_dataset(context.data_dir)
    return with_acceptance(build_snapshot(dataset, as_of, context.config), dataset, context.config)


def load_customers(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    as_of = _as_of(state.get("as_of"))
    snapshot = _snapshot(runtime.context, as_of)
    cohort = select_cohort(snapshot, state.get("customer_ids"))
    return {
        "acceptance": snapshot.acceptance,
        "as_of": as_of,
        "customers": cohort.customers,
        "products": cohort.products,
        "holdings": cohort.holdings,
        "cross_sells": cohort.cross_sells,
        "signals": cohort.signals,
        "ease": cohort.ease,
        "essentials": cohort.essentials,
        "concerns": cohort.concerns,
        "unknown_customer_ids": list(cohort.unknown_customer_ids),
    }


def detect_routine_gaps(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    routine = routine_status(state["customers"], state["holdings"], state["products"], state["essentials"])
    gaps = routine_gaps(routine, state["essentials"])
    return {
        "routine": routine,
        "gap_offers": routine_gap_offers(state["customers"], gaps, state["products"], runtime.context.config),
    }


def check_replenishment(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    config = runtime.context.config
    offers = replenishment_offers(
        state["holdings"], state["products"], state["as_of"], config.due_soon_days, habits=state["signals"] is not None
    )
    lapsed = state["customers"].get_column("p_alive") < config.win_back_below_p_alive
    return {
        "replenishment_offers": win_back_restocks(offers, state["holdings"], lapsed, config.win_back_overdue_cycles)
    }


def find_cross_sells(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """The catalog's cross-sells and, with learned signals, those of basket rules (held to the customer's segment's
    thresholds, `offers/segment_rules.py`) and similar customers, chosen among by EASE when there is a model."""
    holdings, products, signals = state["holdings"], state["products"], state["signals"]
    offers = [cross_sell_offers(holdings, state["cross_sells"], products)]
    if signals is not None:
        config = runtime.context.config
        limit = config.signals.learned_offers
        offers.append(
            segment_learned_offers(
                holdings, signals, products, limit, state["customers"], config.segment_rules, state.get("ease")
            )
        )
    return {"cross_sell_offers": pl.concat(offers)}


def find_tier_upgrades(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    offers = tier_upgrade_offers(state["customers"], state["holdings"], state["products"], runtime.context.config)
    return {"upgrade_offers": offers}


def build_bundles(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    return {"bundle_offers": bundle_offers(state["gap_offers"], runtime.context.config)}


def score_opportunities(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Scores the candidates, adds each one's acceptance probability and orders them by the ranking policy
    (`offers/acceptance.py`), keeps one offer per need (`offers/needs.py`), then names and explains them."""
    candidates = pl.concat([state[key].select(list(CANDIDATE_SCHEMA)) for key in CANDIDATE_KEYS])
    config, customers = runtime.context.config, state["customers"]
    scored = score_offers(candidates, customers, state["routine"], config)
    campaigns = runtime.context.run_campaigns()
    if campaigns is None:
        # Offers no need takes are dropped before the prediction (about 40% of them); a campaign's cap counts every
        # boosted offer of the ranked list, so with campaigns they stay until `one_offer_per_need`.
        scored = without_unneeded(scored, state["bundle_offers"], state["products"])
    signals = state["signals"]
    probabilities = acceptance_probabilities(
        scored,
        state.get("acceptance"),
        customers,
        state["holdings"],
        state["products"],
        state["as_of"],
        None if signals is None else signals.neighbours,
        state.get("ease"),
    )
    ranked = ranked_by_policy(scored.hstack(probabilities), config.ranking)
    # A campaign boosts what the offers are ranked by: the policy's value, else the score.
    by = RANKING_VALUE if RANKING_VALUE in ranked.columns else "score"
    promoted = boost(ranked, campaigns, state["as_of"], config, by, customers=customers, products=state["products"])
    made = one_offer_per_need(promoted, state["bundle_offers"], state["products"], config)
    described = describe_offers(made, state["bundle_offers"], state["customers"], state["products"])
    opportunities = template_rationales(
        described,
        customers,
        state["routine"],
        len(state["essentials"]),
        state["concerns"],
        config.acceptance.horizon_days,
    )
    return {"opportunities": campaign_rationales(opportunities)}


RationaleRoute = Literal["write_rationales", "assemble_results"]


def route_rationales(state: State, runtime: Runtime[Context]) -> RationaleRoute:
    return "write_rationales" if runtime.context.config.llm.enabled else "assemble_results"


def write_rationales(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    settings = runtime.context.config.llm
    chat_model = runtime.context.chat_model or build_chat_model(settings)
    if chat_model is None:
        return {"rationale_notes": [NO_KEY_NOTE]}
    stats = RationaleStats()
    opportunities = llm_rationales(
        state["opportunities"], state["customers"], chat_model, settings, catalog=state["products"], stats=stats
    )
    note = fallback_note(stats)
    return {"opportunities": opportunities, "rationale_stats": stats, "rationale_notes": [note] if note else []}


def assemble_results(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    flagged = flag_revenue(state["opportunities"])
    sent, model = runtime.context.config.top_n, state.get("acceptance")
    return {
        "opportunities": publish_opportunities(flagged),
        "customer_summaries": summarize_customers(
            state["customers"], state["holdings"], state["products"], state["routine"], flagged, sent, fitted(model)
        ),
        "acceptance_note": ranking_note(model),
    }


CANDIDATE_STEPS = (check_replenishment, find_cross_sells, find_tier_upgrades, build_bundles)
"""The candidate steps, run in parallel branches between `detect_routine_gaps` and `score_opportunities`."""
FINAL_STEPS = (write_rationales, assemble_results)


def build_graph(builder: StateGraph | None = None, adapt: Callable[[Callable], Callable] = lambda step: step):
    """The uncompiled graph, for callers that compile it with their own checkpointer or options. The server layer
    passes its own `builder` (JSON schemas) and `adapt`, which wraps every node and the rationale route, to run
    the same steps over JSON state; the defaults build the in-process graph over frames."""
    if builder is None:
        builder = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    for step in (load_customers, detect_routine_gaps, *CANDIDATE_STEPS, score_opportunities, *FINAL_STEPS):
        builder.add_node(step.__name__, adapt(step))
    builder.add_edge(START, "load_customers")
    builder.add_edge("load_customers", "detect_routine_gaps")
    for step in CANDIDATE_STEPS:
        builder.add_edge("detect_routine_gaps", step.__name__)
    builder.add_edge([step.__name__ for step in CANDIDATE_STEPS], "score_opportunities")
    builder.add_conditional_edges("score_opportunities", adapt(route_rationales), list(get_args(RationaleRoute)))
    builder.add_edge("write_rationales", "assemble_results")
    builder.add_edge("assemble_results", END)
    return builder


graph = build_graph().compile(name="Cross-Sell & Upsell Orchestrator")
