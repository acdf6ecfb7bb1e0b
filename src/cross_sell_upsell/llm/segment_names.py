"""Segment names from the chat model (with `--llm`): one structured request at temperature 0 for every K-means
segment, cached on disk by the model and the prompt (which holds the segments' figures, so in effect by the
centroids). A name is the model's text, so it is data: markdown and control characters are stripped, and a name
that is empty, too long, not plain words or not unique falls back to the segment's rule name, as every name
does on any fault of the model or the step; `Segment.naming_error` says why."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from cross_sell_upsell.configuration import LLMSettings
from cross_sell_upsell.llm.cache import AnswerCache, model_identity
from cross_sell_upsell.llm.chat_model import Answer, Fault, ask, classify_fault
from cross_sell_upsell.llm.prompts import segment_name_messages
from cross_sell_upsell.models.segments import Segment, Segments


# No docstring: pydantic would send it to the model as part of the answer schema.
class SegmentName(BaseModel):
    segment: str = Field(description="The segment's key, exactly as given (S1, S2, ...).")
    name: str = Field(description="A short, plain name for the segment: two to four words.")


class SegmentNameSet(BaseModel):
    """The structured answer the model must give: one name per segment."""

    names: list[SegmentName] = Field(description="One entry per segment in the data.")

    def texts(self) -> dict[str, str]:
        """The names by segment key; the first one stands when the model repeats a key."""
        names: dict[str, str] = {}
        for item in self.names:
            names.setdefault(item.segment, item.name)
        return names

    @classmethod
    def from_texts(cls, texts: dict[str, str]) -> SegmentNameSet:
        """The answer holding these names by segment key (what the cache stores)."""
        return cls(names=[SegmentName(segment=key, name=name) for key, name in texts.items()])


_MARKDOWN = re.compile(r"[*_`#~>|]+")
_PLAIN = re.compile(r"[^\W\d_](?:[\w '&/+.-]*[\w.])?")
_LINK = re.compile(r"://|www\.|\.(?:com|net|org|io)\b", re.IGNORECASE)


def clean_name(text: str) -> str:
    """The model's name with control and format characters and markdown marks removed, white space collapsed
    and surrounding quotes and punctuation stripped."""
    visible = "".join(" " if unicodedata.category(char).startswith("C") else char for char in text)
    return " ".join(_MARKDOWN.sub(" ", visible).split()).strip(" \"'.,:;!?-")


def name_problem(name: str, max_chars: int) -> tuple[str, str] | None:
    """(reason, detail) when a cleaned name must not be used."""
    if not name:
        return "empty", "no name left after cleaning"
    if len(name) > max_chars:
        return "too_long", f"{len(name)} characters, more than {max_chars}"
    if _LINK.search(name) or not _PLAIN.fullmatch(name):
        return "unsafe", "not plain words (letters, digits, spaces and ' & / + . -, starting with a letter)"
    return None


def llm_segment_names(segments: Segments, chat_model: BaseChatModel, settings: LLMSettings) -> Segments:
    """`segments` with each K-means segment named by the chat model where its name passes the checks
    (naming "llm"); every other keeps its rule name and says why in `naming_error`. Never raises: any fault
    keeps the rule names."""
    asked = {f"S{position}": segment for position, segment in enumerate(_model_segments(segments), start=1)}
    if not asked:
        return segments
    max_chars = segments.settings.max_name_chars
    try:
        answer = _answer(_prompt(asked, segments, max_chars), chat_model, settings)
    except Exception as exc:  # noqa: BLE001 - the step is optional: its own fault keeps the rule names
        answer = Answer(fault=Fault("unexpected_error", type(exc).__name__))
    return segments.renamed(_checked(asked, answer, segments, max_chars))


def _model_segments(segments: Segments) -> list[Segment]:
    return [segment for segment in segments.segments if segment.source == "model"]


def _prompt(asked: dict[str, Segment], segments: Segments, max_chars: int) -> list[tuple[str, str]]:
    """The messages: per segment its key, customers, figures (rounded) and figures over the population's."""
    rows: list[dict[str, Any]] = []
    for key, segment in asked.items():
        figures = {name: round(value, 2) for name, value in segment.figures.items() if value is not None}
        versus = {
            name: round(value / average, 2)
            for name, value in segment.figures.items()
            if value is not None and (average := segments.population.get(name))
        }
        rows.append({"segment": key, "customers": segment.customers, "averages": figures, "vs_average": versus})
    return segment_name_messages(rows, max_chars)


def _answer(messages: list[tuple[str, str]], chat_model: BaseChatModel, settings: LLMSettings) -> Answer:
    """The cached answer to `messages`, or the model's at temperature 0 (stored when it parsed)."""
    if getattr(chat_model, "temperature", None) not in (None, 0):
        chat_model = chat_model.model_copy(update={"temperature": 0.0})  # stable names for the same segments
    identity = model_identity(chat_model, settings)
    cache = AnswerCache(settings.cache_dir, identity, SegmentNameSet) if settings.cache_dir is not None else None
    key = cache.key(messages) if cache else ""
    cached = cache.get(key) if cache else None
    if cached is not None:
        return cached
    try:
        structured = chat_model.with_structured_output(SegmentNameSet, include_raw=True)
    except Exception as exc:  # noqa: BLE001 - a model without structured output keeps the rule names
        return Answer(fault=classify_fault(exc))
    fresh = ask(structured, messages, settings.max_retries, SegmentNameSet)
    if cache and fresh.fault is None:
        cache.put(key, fresh)
    return fresh


def _checked(
    asked: dict[str, Segment], answer: Answer, segments: Segments, max_chars: int
) -> dict[str, tuple[str, str, str | None]]:
    """Per asked segment (by its rule name): the name to use, its naming and why the model's was not used."""
    errors: dict[str, str] = {}
    accepted: dict[str, str] = {}
    for key in asked:
        if answer.fault is not None:
            errors[key] = f"{answer.fault.reason}: {answer.fault.detail}"
        elif key not in answer.rationales:
            errors[key] = "missing: the answer has no name for this segment"
        elif problem := name_problem(clean_name(answer.rationales[key]), max_chars):
            errors[key] = f"{problem[0]}: {problem[1]}"
        else:
            accepted[key] = clean_name(answer.rationales[key])
    given = [segment.name for segment in segments.segments if segment.source == "given"]
    while clashing := _clashing(asked, accepted, given):
        for key in clashing:
            errors[key] = f"duplicate: another segment is also called {accepted.pop(key)!r}"
    return {
        segment.name: (accepted[key], "llm", None) if key in accepted else (segment.name, "rules", errors[key])
        for key, segment in asked.items()
    }


def _clashing(asked: dict[str, Segment], accepted: dict[str, str], given: list[str]) -> list[str]:
    """The keys whose accepted model name another segment's final name (model, rule or given) shares."""
    final = [accepted.get(key, segment.name) for key, segment in asked.items()] + given
    counts = Counter(name.casefold() for name in final)
    return [key for key, name in accepted.items() if counts[name.casefold()] > 1]
