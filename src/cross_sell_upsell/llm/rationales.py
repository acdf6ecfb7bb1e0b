"""The optional chat-model rationale step: structured, private, checked, cached, and never fatal.

One request per customer asks for a rationale of each of its top offers (a `RationaleSet`, keyed by offer id).
A model rationale replaces the template only when it passes the output checks; otherwise the template stays
and `rationale_error` says why. Only the first `priority_customers` customers are asked, `max_concurrency` at a
time, and every parsed answer is cached on disk under a hash of the model and the prompt.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl
from langchain_core.language_models import BaseChatModel

from cross_sell_upsell.configuration import LLMSettings
from cross_sell_upsell.llm.cache import AnswerCache, model_identity
from cross_sell_upsell.llm.chat_model import Answer, RationaleSet, ask, classify_fault
from cross_sell_upsell.llm.checks import OfferScope, OutputCheck
from cross_sell_upsell.llm.prompts import rationale_messages
from cross_sell_upsell.offers.rationale import money
from cross_sell_upsell.offers.results import RationaleStats

CUSTOMER_FACTS: tuple[str, ...] = ("loyalty_tier", "price_sensitivity", "skin_concerns", "tier_preference")
"""The customer attributes every prompt carries: none of them identifies a person."""


NO_KEY_NOTE = "LLM rationales requested but OPENAI_API_KEY is not set: templates used."


def _asked_offers(opportunities: pl.DataFrame, customers: pl.DataFrame, settings: LLMSettings) -> pl.DataFrame:
    """The top `offers_per_customer` offers of the first `priority_customers` customers, in the order of the
    `customers` frame, that have any offer; in that order, then by rank."""
    top = opportunities.filter(pl.col("rank") <= settings.offers_per_customer)
    chosen = (
        customers.select("customer_id")
        .join(top.select("customer_id").unique(), on="customer_id", how="semi", maintain_order="left")
        .head(settings.priority_customers)
        .with_row_index("priority")
    )
    return top.join(chosen, on="customer_id", how="inner").sort("priority", "rank").drop("priority")


def _offer_facts(asked: pl.DataFrame, catalog: pl.DataFrame | None) -> pl.DataFrame:
    """Per asked offer, what the prompt says about it and what its rationale may name (`allowed_*`, never null:
    every offer has at least its own id). Works on the scored frame and on the published one
    (`OPPORTUNITY_COLUMNS`): product facts come from the catalog."""
    offers = _with_product_facts(asked.with_columns(saving=(pl.col("list_price") - pl.col("price")).round(2)), catalog)
    is_bundle = pl.col("type") == "bundle"
    return offers.select(
        "customer_id",
        "offer_id",
        offer_type="type",
        product="name",
        category="category",
        price=money("price"),
        list_price=pl.when(pl.col("list_price") != pl.col("price")).then(money("list_price")),
        saving=pl.when(pl.col("saving") > 0).then(money("saving")),
        bundle_products=pl.when(is_bundle).then("member_names"),
        targets_concerns="target_concerns",
        active_ingredients="active_ingredients",
        description="description",
        related_owned_product=pl.when(pl.col("source_product_id") != pl.col("offer_id")).then("source_name"),
        days_since_last_purchase="days_since_purchase",
        replenishment_cycle_days="cycle_days",
        due_date="due_date",
        replenishment_status="replenishment_status",
        template_rationale="rationale",
        allowed_ids=pl.concat_list("offer_id", "products", "source_product_id").list.drop_nulls(),
        allowed_names=pl.concat_list(pl.col("name"), pl.col("member_names"), pl.col("source_name")).list.drop_nulls(),
        allowed_prices=pl.concat_list("price", "list_price", "saving"),
    )


def _with_product_facts(offers: pl.DataFrame, catalog: pl.DataFrame | None) -> pl.DataFrame:
    """The offers with `products` (a bundle's members, or the one product of any other offer, whose
    `product_ids` is null) and their facts from the catalog: `member_names` (a product the catalog lacks keeps
    its id), the products' `target_concerns`, and the offer's `active_ingredients` and `description`. Without a
    catalog the products are named by id and the other facts are null."""
    offers = offers.with_columns(products=pl.coalesce("product_ids", pl.concat_list("offer_id")))
    if catalog is None:
        return offers.with_columns(
            member_names=pl.col("products"),
            target_concerns=pl.lit(None, dtype=pl.List(pl.String)),
            active_ingredients=pl.lit(None, dtype=pl.List(pl.String)),
            description=pl.lit(None, dtype=pl.String),
        )
    members = (
        offers.select("customer_id", "offer_id", "products")
        .explode("products")
        .join(
            catalog.select(products="product_id", member_name="name", member_concerns="target_concerns"),
            on="products",
            how="left",
            maintain_order="left",
        )
        .group_by("customer_id", "offer_id", maintain_order=True)
        .agg(
            member_names=pl.coalesce("member_name", "products"),
            target_concerns=pl.col("member_concerns")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique(maintain_order=True),
        )
    )
    return offers.join(members, on=["customer_id", "offer_id"], how="left", maintain_order="left").join(
        catalog.select(offer_id="product_id", active_ingredients="active_ingredients", description="description"),
        on="offer_id",
        how="left",
        maintain_order="left",
    )


_NOT_PROMPTED = ("customer_id", "allowed_ids", "allowed_names", "allowed_prices")


def _present(facts: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in facts.items() if value not in (None, "", [])}


@dataclass(frozen=True)
class CustomerRequest:
    """What one customer's model call asks and what its answer is checked against."""

    customer_id: str
    """The customer asked about."""
    messages: list[tuple[str, str]]
    """The chat messages: the system prompt and the customer's data."""
    offers: list[dict[str, Any]]
    """The asked offers' facts (`_offer_facts` rows), with what each rationale may name."""


def customer_requests(
    opportunities: pl.DataFrame,
    customers: pl.DataFrame,
    settings: LLMSettings,
    catalog: pl.DataFrame | None = None,
) -> list[CustomerRequest]:
    """The prompt of each customer that gets LLM rationales, in priority order. A prompt carries the offers,
    the product facts and the customer's non-identifying attributes; the name and the free-text notes only
    when the settings allow them."""
    return _requests(_asked_offers(opportunities, customers, settings), customers, settings, catalog)


def _requests(
    asked: pl.DataFrame, customers: pl.DataFrame, settings: LLMSettings, catalog: pl.DataFrame | None
) -> list[CustomerRequest]:
    """`customer_requests` of the asked offers (`_asked_offers`)."""
    facts = _offer_facts(asked, catalog)
    asked_customers = customers.join(facts.select("customer_id").unique(), on="customer_id", how="semi")
    profiles = {row["customer_id"]: row for row in asked_customers.iter_rows(named=True)}
    requests = []
    for (customer_id,), offers in facts.group_by("customer_id", maintain_order=True):
        profile = profiles[customer_id]
        customer = {name: profile.get(name) for name in CUSTOMER_FACTS}
        if settings.include_customer_name:
            customer["name"] = profile.get("name")
        if settings.include_notes:
            customer["notes"] = profile.get("notes")
        prompt_offers = [_present(offer) for offer in offers.drop(_NOT_PROMPTED).to_dicts()]
        messages = rationale_messages(_present(customer), prompt_offers, settings.max_rationale_chars)
        requests.append(CustomerRequest(customer_id, messages, offers.to_dicts()))
    return requests


def _answers(
    requests: list[CustomerRequest], chat_model: BaseChatModel, settings: LLMSettings, cache: AnswerCache | None
) -> list[Answer]:
    """Each request's answer, in request order, asking at most `max_concurrency` at a time."""
    if not requests:
        return []
    try:
        structured = chat_model.with_structured_output(RationaleSet, include_raw=True)
    except Exception as exc:  # noqa: BLE001 - a model without structured output keeps the templates
        return [Answer(fault=classify_fault(exc)) for _ in requests]

    def answer(request: CustomerRequest) -> Answer:
        key = cache.key(request.messages) if cache else ""
        cached = cache.get(key) if cache else None
        if cached is not None:
            return cached
        fresh = ask(structured, request.messages, settings.max_retries)
        if cache and fresh.fault is None:
            cache.put(key, fresh)
        return fresh

    with ThreadPoolExecutor(max_workers=settings.max_concurrency) as pool:
        return list(pool.map(answer, requests))


def llm_rationales(
    opportunities: pl.DataFrame,
    customers: pl.DataFrame,
    chat_model: BaseChatModel,
    settings: LLMSettings,
    *,
    catalog: pl.DataFrame | None = None,
    stats: RationaleStats | None = None,
) -> pl.DataFrame:
    """Rewrites the rationale of the top `offers_per_customer` offers of the first `priority_customers`
    customers (in the order of `customers`) with the chat model. A rationale the model wrote and the checks
    accepted gets `rationale_source` "llm"; every other asked offer keeps its template and says why in
    `rationale_error`. Never raises for a fault of the model, of its answer or of the step itself: the step is
    optional, so whatever it raises leaves every asked offer on its template with `unexpected_error`.

    `catalog` (the products frame) lets the checks catch other catalog products named by name and gives the
    model each product's ingredients and description. `stats` is added to: pass one collector to every call
    of a run to report its total."""
    stats = stats if stats is not None else RationaleStats()
    stats.input_price_per_1k, stats.output_price_per_1k = settings.input_price_per_1k, settings.output_price_per_1k
    # Chosen before anything that can fail, so that a failure can name every offer it leaves on its template.
    asked = _asked_offers(opportunities, customers, settings)
    try:
        replacements = _replacements(asked, customers, chat_model, settings, catalog, stats)
    except Exception as exc:  # noqa: BLE001 - the step is optional: its own fault keeps the templates
        replacements = asked.select(
            "customer_id",
            "offer_id",
            llm_rationale=pl.lit(None, dtype=pl.String),
            llm_error=pl.lit(f"unexpected_error: {type(exc).__name__}"),
        )
    result = _with_replacements(opportunities, replacements)
    stats.offers_asked += replacements.height
    stats.llm += replacements["llm_rationale"].is_not_null().sum()
    stats.template += (result["rationale_source"] == "template").sum()
    reasons = Counter(error.split(":", 1)[0] for error in replacements["llm_error"].drop_nulls())
    for reason, count in reasons.items():
        stats.failures[reason] = stats.failures.get(reason, 0) + count
    return result


def _replacements(
    asked: pl.DataFrame,
    customers: pl.DataFrame,
    chat_model: BaseChatModel,
    settings: LLMSettings,
    catalog: pl.DataFrame | None,
    stats: RationaleStats,
) -> pl.DataFrame:
    """Per asked offer, the model's rationale when it passed the checks (`llm_rationale`), or why it did not
    (`llm_error`). Adds the customers, calls, cache hits and tokens to `stats` as they are spent."""
    identity = model_identity(chat_model, settings)
    stats.model = identity["model"]
    requests = _requests(asked, customers, settings, catalog)
    cache = AnswerCache(settings.cache_dir, identity) if settings.cache_dir is not None else None
    check = OutputCheck(catalog, settings.max_rationale_chars)
    rows: list[dict[str, Any]] = []
    for request, answer in zip(requests, _answers(requests, chat_model, settings, cache), strict=True):
        stats.customers += 1
        stats.model_calls += answer.calls
        stats.cache_hits += answer.cached
        stats.input_tokens += answer.input_tokens
        stats.output_tokens += answer.output_tokens
        for offer in request.offers:
            text = answer.rationales.get(offer["offer_id"], "").strip()
            problem = _problem(offer, text, answer, check)
            rows.append(
                {
                    "customer_id": request.customer_id,
                    "offer_id": offer["offer_id"],
                    "llm_rationale": None if problem else text,
                    "llm_error": f"{problem[0]}: {problem[1]}" if problem else None,
                }
            )
    return pl.DataFrame(
        rows,
        schema={"customer_id": pl.String, "offer_id": pl.String, "llm_rationale": pl.String, "llm_error": pl.String},
    )


def _problem(offer: dict[str, Any], text: str, answer: Answer, check: OutputCheck) -> tuple[str, str] | None:
    """(reason, detail) when the model's `text` for an asked offer cannot replace its template."""
    if answer.fault is not None:
        return answer.fault.reason, answer.fault.detail
    if offer["offer_id"] not in answer.rationales:
        return "missing", "the answer has no rationale for this offer"
    scope = OfferScope.of(offer["allowed_ids"], offer["allowed_names"], offer["allowed_prices"])
    return check.problem(text, scope)


def _with_replacements(opportunities: pl.DataFrame, replacements: pl.DataFrame) -> pl.DataFrame:
    """The offers with the accepted model rationales in place of the templates and the failures' reasons in
    `rationale_error`."""
    return (
        opportunities.join(replacements, on=["customer_id", "offer_id"], how="left", maintain_order="left")
        .with_columns(
            rationale=pl.coalesce("llm_rationale", "rationale"),
            rationale_source=pl.when(pl.col("llm_rationale").is_not_null())
            .then(pl.lit("llm"))
            .otherwise(pl.col("rationale_source")),
            rationale_error=pl.coalesce("llm_error", "rationale_error"),
        )
        .drop("llm_rationale", "llm_error")
    )


def fallback_note(stats: RationaleStats) -> str | None:
    """A one-line note when some asked offers kept their template, with the reasons."""
    failed = sum(stats.failures.values())
    if not failed:
        return None
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(stats.failures.items()))
    return (
        f"the chat model's rationale was not used for {failed} of {stats.offers_asked} offers ({reasons}): "
        "templates kept"
    )
