"""The chat model and one structured request to it: the answer schema, the client, and asking again on an
answer fault, with every fault told by kind (never by the exception's message)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field

from cross_sell_upsell.configuration import LLMSettings


# No docstring: pydantic would send it to the model as part of the answer schema.
class OfferRationale(BaseModel):
    offer_id: str = Field(description="The offer's offer_id, exactly as given.")
    rationale: str = Field(description="Why this offer suits the customer, in one or two sentences.")


class RationaleSet(BaseModel):
    """The structured answer the model must give: one rationale per offer."""

    rationales: list[OfferRationale] = Field(description="One entry per offer in the data.")

    def texts(self) -> dict[str, str]:
        """The rationales by offer id; the first one stands when the model repeats an offer."""
        rationales: dict[str, str] = {}
        for item in self.rationales:
            rationales.setdefault(item.offer_id, item.rationale)
        return rationales

    @classmethod
    def from_texts(cls, texts: dict[str, str]) -> RationaleSet:
        """The answer holding these rationales by offer id (what the cache stores)."""
        return cls(rationales=[OfferRationale(offer_id=key, rationale=text) for key, text in texts.items()])


class TextAnswer(Protocol):
    """A structured answer that is one text per key (`RationaleSet`, `segment_names.SegmentNameSet`): what
    `ask` parses and the cache stores."""

    def texts(self) -> dict[str, str]: ...

    @classmethod
    def from_texts(cls, texts: dict[str, str]) -> TextAnswer: ...

    @classmethod
    def model_validate(cls, value: Any) -> TextAnswer: ...

    def model_dump(self) -> dict[str, Any]: ...


def build_chat_model(settings: LLMSettings) -> BaseChatModel | None:
    """An OpenAI-compatible chat model from the settings, or None when OPENAI_API_KEY is not set. The client
    reads the key from the environment itself, so it never passes through the settings. A client that cannot
    be built (an `OPENAI_BASE_URL` the HTTP library rejects) is an `UnavailableChatModel`: the step is optional,
    so its requests fail, not the run."""
    if not os.environ.get("OPENAI_API_KEY"):
        return None
    try:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=settings.model,
            temperature=settings.temperature,
            base_url=settings.base_url,
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
        )
    except Exception as exc:  # noqa: BLE001 - told by kind in every offer's rationale_error
        return UnavailableChatModel(error=type(exc).__name__)


class ClientUnavailable(RuntimeError):
    """What every request to an `UnavailableChatModel` raises; its message is the building error's type."""


class UnavailableChatModel(BaseChatModel):
    """Stands in for a chat model whose client could not be built: every request raises `ClientUnavailable`,
    which the step records as `client_error` on each asked offer."""

    error: str = Field(description="The type of the exception that building the client raised.")

    @property
    def _llm_type(self) -> str:
        return "unavailable"

    def _generate(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ClientUnavailable(self.error)

    def with_structured_output(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ClientUnavailable(self.error)


@dataclass(frozen=True)
class Fault:
    """Why a model call gave no usable answer, told without the exception's message (an openai error can carry
    request details). `retry`: an answer fault worth asking again; the client already retried transport faults."""

    reason: str
    """The kind of fault, e.g. "timeout" or "malformed_output" (a key of the fallback counts)."""
    detail: str
    """The exception's type, and the HTTP status where there is one."""
    retry: bool = False


def classify_fault(exc: BaseException) -> Fault:
    """The fault an exception from the client or the answer parser stands for."""
    import openai
    from langchain_openai.chat_models.base import OpenAIRefusalError

    name = type(exc).__name__
    if isinstance(exc, ClientUnavailable):
        return Fault("client_error", str(exc))
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
    """One request's answer: the texts by key (a customer's rationales by offer id, or the segment names by
    segment key), or the fault that left none, and what it cost."""

    rationales: dict[str, str] = field(default_factory=dict)
    """The model's text by key, before the output checks."""
    fault: Fault | None = None
    """Why there are no rationales; None when the answer parsed."""
    input_tokens: int = 0
    """Prompt tokens the server reported over all calls."""
    output_tokens: int = 0
    """Completion tokens the server reported over all calls."""
    calls: int = 0
    """Calls made to the model (0 for a cached answer)."""
    cached: bool = False
    """Whether the answer came from the cache."""


def ask(
    structured: Runnable,
    messages: Sequence[tuple[str, str]],
    retries: int,
    schema: type[TextAnswer] = RationaleSet,
) -> Answer:
    """Asks `structured` (a `with_structured_output(schema, include_raw=True)` runnable) until an answer
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
            answer.rationales = schema.model_validate(result.get("parsed")).texts()
            answer.fault = None
            return answer
        except Exception as exc:  # noqa: BLE001 - every fault falls back to the template
            answer.fault = classify_fault(exc)
            if not answer.fault.retry:
                return answer
    return answer
