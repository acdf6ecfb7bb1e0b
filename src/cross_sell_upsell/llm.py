"""The optional chat-model rationale step. Any failure keeps the template, so it never fails a run."""

from __future__ import annotations

import os
from typing import Any

import polars as pl
from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from .configuration import LLMSettings
from .prompts import rationale_messages

MAX_RATIONALE_CHARS = 300
_PROMPT_CUSTOMER_FIELDS = ("loyalty_tier", "price_sensitivity", "skin_concerns", "tier_preference")
_PROMPT_OFFER_FIELDS = ("offer_id", "type", "name", "category", "price", "list_price", "rationale")


class OfferRationale(BaseModel):
    offer_id: str = Field(description="The offer's id, exactly as given.")
    rationale: str = Field(description="The reason for this offer, one or two sentences.")


class RationaleSet(BaseModel):
    """The structured answer the model must give: one rationale per offer."""

    rationales: list[OfferRationale]


def build_chat_model(settings: LLMSettings) -> BaseChatModel | None:
    """An OpenAI-compatible chat model from the settings and OPENAI_API_KEY, or None without a key."""
    if not os.environ.get("OPENAI_API_KEY"):
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.model,
        temperature=settings.temperature,
        base_url=settings.base_url or os.environ.get("OPENAI_BASE_URL"),
        timeout=settings.timeout_seconds,
        max_retries=settings.max_retries,
    )


def _accepted(answer: RationaleSet, offered: set[str]) -> dict[str, str]:
    return {
        item.offer_id: item.rationale.strip()
        for item in answer.rationales
        if item.offer_id in offered and 0 < len(item.rationale.strip()) <= MAX_RATIONALE_CHARS
    }


def llm_rationales(
    opportunities: pl.DataFrame, customers: pl.DataFrame, chat_model: BaseChatModel, settings: LLMSettings
) -> pl.DataFrame:
    """Rewrites the rationale of each customer's top `offers_per_customer` offers with the chat model.
    Offers the model fails on, skips, or answers badly keep the template and say why in `rationale_error`."""
    top = opportunities.filter(pl.col("rank") <= settings.offers_per_customer)
    if top.is_empty():
        return opportunities
    structured = chat_model.with_structured_output(RationaleSet)
    profiles = {row["customer_id"]: row for row in customers.iter_rows(named=True)}
    updates: list[dict[str, Any]] = []
    for (customer_id,), offers in top.group_by("customer_id", maintain_order=True):
        customer = {field: profiles[customer_id].get(field) for field in _PROMPT_CUSTOMER_FIELDS}
        offer_rows = offers.select(_PROMPT_OFFER_FIELDS).to_dicts()
        offered = {row["offer_id"] for row in offer_rows}
        try:
            answer = structured.invoke(rationale_messages(customer, offer_rows, MAX_RATIONALE_CHARS))
            written = _accepted(RationaleSet.model_validate(answer), offered)
            error = "rationale missing, empty or too long"
        except Exception as exc:  # noqa: BLE001 - any model failure falls back to the template
            written, error = {}, f"model call failed: {type(exc).__name__}"
        for offer_id in sorted(offered):
            text = written.get(offer_id)
            updates.append(
                {
                    "customer_id": customer_id,
                    "offer_id": offer_id,
                    "llm_rationale": text,
                    "llm_error": None if text else error,
                }
            )
    replacements = pl.DataFrame(
        updates,
        schema={"customer_id": pl.String, "offer_id": pl.String, "llm_rationale": pl.String, "llm_error": pl.String},
    )
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
