"""Parsed model answers kept on disk, so a rerun with the same model and prompt costs nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from cross_sell_upsell.configuration import LLMSettings
from cross_sell_upsell.io.files import write_atomic
from cross_sell_upsell.llm.chat_model import Answer, RationaleSet, TextAnswer

CACHE_SCHEMA_VERSION = 1
"""Part of every cache key: bump it when the answer schema or the prompt's layout changes."""


class AnswerCache:
    """Parsed model answers on disk, one JSON file per sha256 of (schema version, model, prompt). A file holds
    the answer (as `schema`, the rationales by default) and its token counts only: never the API key or anything
    else about the client."""

    def __init__(self, folder: Path, model_identity: dict[str, Any], schema: type[TextAnswer] = RationaleSet) -> None:
        self.folder = folder
        self.model_identity = model_identity
        self.schema = schema

    def key(self, messages: Sequence[tuple[str, str]]) -> str:
        """The file name (without `.json`) of the answer to `messages`."""
        material = {"schema": CACHE_SCHEMA_VERSION, "model": self.model_identity, "messages": list(messages)}
        return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode("utf-8")).hexdigest()

    def get(self, key: str) -> Answer | None:
        """The cached answer, or None when there is none or it is unreadable (then it is asked again)."""
        try:
            stored = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            return Answer(self.schema.model_validate(stored["answer"]).texts(), cached=True)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, answer: Answer) -> None:
        """Stores a parsed answer; a cache that cannot be written only costs a request next time."""
        record = {
            "model": self.model_identity["model"],
            "answer": self.schema.from_texts(answer.rationales).model_dump(),
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
