"""The optional chat-model rationale step: structured, private, checked, cached, and never fatal.

One request per customer asks for a rationale of each of its top offers (a `RationaleSet`, keyed by offer id).
A model rationale replaces the template only when it passes the output checks; otherwise the template stays
and `rationale_error` says why. Only the first `priority_customers` customers are asked, `max_concurrency` at a
time, and every parsed answer is cached on disk under a hash of the model and the prompt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field

from cross_sell_upsell.configuration import LLMSettings
from cross_sell_upsell.io.files import write_atomic
from cross_sell_upsell.llm.prompts import rationale_messages
from cross_sell_upsell.offers.rationale import money
from cross_sell_upsell.offers.results import RationaleStats

CACHE_SCHEMA_VERSION = 1


"""Part of every cache key: bump it when the answer schema or the prompt's layout changes."""


CUSTOMER_FACTS: tuple[str, ...] = ("loyalty_tier", "price_sensitivity", "skin_concerns", "tier_preference")


"""The customer attributes every prompt carries: none of them identifies a person."""


_PRODUCT_ID = r"P\d+"


_PRICE = re.compile(r"\$\s?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)|(?<![\w.,$])(\d+\.\d{2})(?![\d.])")


class OfferRationale(BaseModel):
    offer_id: str = Field(description="The offer's offer_id, exactly as given.")
    rationale: str = Field(description="Why this offer suits the customer, in one or two sentences.")


class RationaleSet(BaseModel):
    """The structured answer the model must give: one rationale per offer."""

    rationales: list[OfferRationale] = Field(description="One entry per offer in the data.")


NO_KEY_NOTE = "LLM rationales requested but OPENAI_API_KEY is not set: templates used."


def build_chat_model(settings: LLMSettings) -> BaseChatModel | None:
    """An OpenAI-compatible chat model from the settings, or None when OPENAI_API_KEY is not set. The client
    reads the key from the environment itself, so it never passes through the settings."""
    if not os.environ.get("OPENAI_API_KEY"):
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.model,
        temperature=settings.temperature,
        base_url=settings.base_url,
        timeout=settings.timeout_seconds,
        max_retries=settings.max_retries,
    )


@dataclass(frozen=True)
class Fault:
    """Why a model call gave no usable answer, told without the exception's message (an openai error can carry
    request details). `retry`: an answer fault worth asking again; the client already retried transport faults."""

    reason: str
    detail: str
    retry: bool = False


def classify_fault(exc: BaseException) -> Fault:
    import openai
    from langchain_openai.chat_models.base import OpenAIRefusalError

    name = type(exc).__name__
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return Fault("timeout", name)
    if isinstance(exc, openai.APIConnectionError | ConnectionError):
        return Fault("connection_error", name)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        reason = "rate_limited" if status == 429 else "server_error" if status >= 500 else "http_error"
        return Fault(reason, f"{name}, HTTP {status}")
    if isinstance(exc, OpenAIRefusalError | openai.ContentFilterFinishReasonError):
        return Fault("refusal", name, retry=True)
    if isinstance(exc, ValueError | KeyError | OutputParserException | openai.LengthFinishReasonError):
        return Fault("malformed_output", name, retry=True)
    return Fault("unexpected_error", name)


@dataclass
class Answer:
    """One customer's answer: the rationales by offer id, or the fault that left none, and what it cost."""

    rationales: dict[str, str] = field(default_factory=dict)
    fault: Fault | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    cached: bool = False


def _by_offer(answer: RationaleSet) -> dict[str, str]:
    rationales: dict[str, str] = {}
    for item in answer.rationales:
        rationales.setdefault(item.offer_id, item.rationale)
    return rationales


def ask(structured: Runnable, messages: Sequence[tuple[str, str]], retries: int) -> Answer:
    """Asks `structured` (a `with_structured_output(RationaleSet, include_raw=True)` runnable) until an answer
    parses: up to 1 + `retries` calls for malformed answers and refusals; a transport fault ends it at once."""
    answer = Answer()
    for _ in range(retries + 1):
        answer.calls += 1
        try:
            result = structured.invoke(list(messages))
            usage = getattr(result.get("raw"), "usage_metadata", None) or {}
            answer.input_tokens += usage.get("input_tokens", 0)
            answer.output_tokens += usage.get("output_tokens", 0)
            if result.get("parsing_error") is not None:
                raise result["parsing_error"]
            answer.rationales = _by_offer(RationaleSet.model_validate(result.get("parsed")))
            answer.fault = None
            return answer
        except Exception as exc:  # noqa: BLE001 - every fault falls back to the template
            answer.fault = classify_fault(exc)
            if not answer.fault.retry:
                return answer
    return answer


class AnswerCache:
    """Parsed model answers on disk, one JSON file per sha256 of (schema version, model, prompt). A file holds
    the answer and its token counts only: never the API key or anything else about the client."""

    def __init__(self, folder: Path, model_identity: dict[str, Any]) -> None:
        self.folder = folder
        self.model_identity = model_identity

    def key(self, messages: Sequence[tuple[str, str]]) -> str:
        material = {"schema": CACHE_SCHEMA_VERSION, "model": self.model_identity, "messages": list(messages)}
        return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode("utf-8")).hexdigest()

    def get(self, key: str) -> Answer | None:
        """The cached answer, or None when there is none or it is unreadable (then it is asked again)."""
        try:
            stored = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            return Answer(_by_offer(RationaleSet.model_validate(stored["answer"])), cached=True)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, answer: Answer) -> None:
        """Stores a parsed answer; a cache that cannot be written only costs a request next time."""
        answer_set = RationaleSet(
            rationales=[
                OfferRationale(offer_id=offer_id, rationale=text) for offer_id, text in answer.rationales.items()
            ]
        )
        record = {
            "model": self.model_identity["model"],
            "answer": answer_set.model_dump(),
            "input_tokens": answer.input_tokens,
            "output_tokens": answer.output_tokens,
        }
        try:
            write_atomic(self.folder / f"{key}.json", json.dumps(record, indent=1, sort_keys=True))
        except OSError:
            pass


def model_identity(chat_model: BaseChatModel, settings: LLMSettings) -> dict[str, Any]:
    """What makes two answers to one prompt comparable: the model, its server and its temperature."""
    return {
        "client": type(chat_model).__name__,
        "model": getattr(chat_model, "model_name", None) or settings.model,
        "base_url": getattr(chat_model, "openai_api_base", None) or settings.base_url,
        "temperature": getattr(chat_model, "temperature", settings.temperature),
    }


class OutputCheck:
    """Decides whether a model rationale may replace the template: not empty, not too long, and naming no
    product (by catalog name or id) and no price that is not part of its own offer."""

    def __init__(self, catalog: pl.DataFrame | None, max_chars: int) -> None:
        self.max_chars = max_chars
        names = [] if catalog is None else sorted(set(catalog.get_column("name").to_list()), key=len, reverse=True)
        ids = [] if catalog is None else catalog.get_column("product_id").to_list()
        self._names = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)", re.I) if names else None
        self._ids = re.compile(r"\b(?:" + "|".join([_PRODUCT_ID, *map(re.escape, ids)]) + r")\b")

    def problem(
        self, text: str, ids: Sequence[str], names: Sequence[str], prices: Sequence[float]
    ) -> tuple[str, str] | None:
        """(reason, detail) when `text` must not be used, given its offer's product ids, names and prices."""
        if not text:
            return "empty", "empty rationale"
        if len(text) > self.max_chars:
            return "too_long", f"{len(text)} characters, more than {self.max_chars}"
        stranger = next((found for found in self._ids.findall(text) if found not in ids), None)
        if stranger is None and self._names is not None:
            allowed = {name.lower() for name in names}
            stranger = next((found for found in self._names.findall(text) if found.lower() not in allowed), None)
        if stranger is not None:
            return "unknown_product", f"names {stranger}, which is not in this offer"
        for dollars, bare in _PRICE.findall(text):
            amount = float((dollars or bare).replace(",", ""))
            if not any(price is not None and abs(amount - price) < 0.005 for price in prices):
                shown = f"${dollars}" if dollars else bare
                return "unknown_price", f"names the price {shown}, which is not in this offer"
        return None


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
    """Per asked offer, what the prompt says about it and what its rationale may name (`allowed_*`). Works on
    the scored frame and on the published one (`OPPORTUNITY_COLUMNS`): product facts come from the catalog."""
    offers = asked.with_columns(saving=(pl.col("list_price") - pl.col("price")).round(2))
    if catalog is None:
        offers = offers.with_columns(
            member_names=pl.col("product_ids"),
            target_concerns=pl.lit(None, dtype=pl.List(pl.String)),
            active_ingredients=pl.lit(None, dtype=pl.List(pl.String)),
            description=pl.lit(None, dtype=pl.String),
        )
    else:
        members = (
            offers.select("customer_id", "offer_id", "product_ids")
            .explode("product_ids")
            .join(
                catalog.select(product_ids="product_id", member_name="name", member_concerns="target_concerns"),
                on="product_ids",
                how="left",
                maintain_order="left",
            )
            .group_by("customer_id", "offer_id", maintain_order=True)
            .agg(
                member_names=pl.coalesce("member_name", "product_ids"),
                target_concerns=pl.col("member_concerns")
                .list.explode(keep_nulls=False, empty_as_null=False)
                .unique(maintain_order=True),
            )
        )
        offers = offers.join(members, on=["customer_id", "offer_id"], how="left", maintain_order="left").join(
            catalog.select(offer_id="product_id", active_ingredients="active_ingredients", description="description"),
            on="offer_id",
            how="left",
            maintain_order="left",
        )
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
        allowed_ids=pl.concat_list(
            pl.col("offer_id"), pl.col("product_ids"), pl.col("source_product_id")
        ).list.drop_nulls(),
        allowed_names=pl.concat_list(
            pl.col("name"), pl.col("member_names"), pl.col("source_name")
        ).list.drop_nulls(),
        allowed_prices=pl.concat_list("price", "list_price", "saving"),
    )


_NOT_PROMPTED = ("customer_id", "allowed_ids", "allowed_names", "allowed_prices")


def _present(facts: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in facts.items() if value not in (None, "", [])}


@dataclass(frozen=True)
class CustomerRequest:
    customer_id: str
    messages: list[tuple[str, str]]
    offers: list[dict[str, Any]]


def customer_requests(
    opportunities: pl.DataFrame,
    customers: pl.DataFrame,
    settings: LLMSettings,
    catalog: pl.DataFrame | None = None,
) -> list[CustomerRequest]:
    """The prompt of each customer that gets LLM rationales, in priority order. A prompt carries the offers,
    the product facts and the customer's non-identifying attributes; the name and the free-text notes only
    when the settings allow them."""
    facts = _offer_facts(_asked_offers(opportunities, customers, settings), catalog)
    asked = customers.join(facts.select("customer_id").unique(), on="customer_id", how="semi")
    profiles = {row["customer_id"]: row for row in asked.iter_rows(named=True)}
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
    `rationale_error`. Never raises for a model fault.

    `catalog` (the products frame) lets the checks catch other catalog products named by name and gives the
    model each product's ingredients and description. `stats` is added to: pass one collector to every call
    of a run to report its total."""
    stats = stats if stats is not None else RationaleStats()
    stats.input_price_per_1k, stats.output_price_per_1k = settings.input_price_per_1k, settings.output_price_per_1k
    identity = model_identity(chat_model, settings)
    stats.model = identity["model"]
    requests = customer_requests(opportunities, customers, settings, catalog)
    cache = AnswerCache(settings.cache_dir, identity) if settings.cache_dir is not None else None
    check = OutputCheck(catalog, settings.max_rationale_chars)
    updates: list[dict[str, Any]] = []
    for request, answer in zip(requests, _answers(requests, chat_model, settings, cache), strict=True):
        stats.customers += 1
        stats.model_calls += answer.calls
        stats.cache_hits += answer.cached
        stats.input_tokens += answer.input_tokens
        stats.output_tokens += answer.output_tokens
        for offer in request.offers:
            text = answer.rationales.get(offer["offer_id"], "").strip()
            if answer.fault is not None:
                problem = (answer.fault.reason, answer.fault.detail)
            elif offer["offer_id"] not in answer.rationales:
                problem = ("missing", "the answer has no rationale for this offer")
            else:
                problem = check.problem(text, offer["allowed_ids"], offer["allowed_names"], offer["allowed_prices"])
            if problem is not None:
                stats.failures[problem[0]] = stats.failures.get(problem[0], 0) + 1
            updates.append(
                {
                    "customer_id": request.customer_id,
                    "offer_id": offer["offer_id"],
                    "llm_rationale": None if problem else text,
                    "llm_error": f"{problem[0]}: {problem[1]}" if problem else None,
                }
            )
    replacements = pl.DataFrame(
        updates,
        schema={"customer_id": pl.String, "offer_id": pl.String, "llm_rationale": pl.String, "llm_error": pl.String},
    )
    result = (
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
    stats.offers_asked += replacements.height
    stats.llm += replacements["llm_rationale"].is_not_null().sum()
    stats.template += (result["rationale_source"] == "template").sum()
    return result


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
