"""The customer segments' names for a run with a chat model: one function the batch and the single-customer run
share, applied to the snapshot before any cohort reads it."""

from __future__ import annotations

from dataclasses import replace

from langchain_core.language_models import BaseChatModel

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.llm.chat_model import build_chat_model
from cross_sell_upsell.llm.segment_names import llm_segment_names
from cross_sell_upsell.models.segments import Segments, with_names
from cross_sell_upsell.snapshot.build import Snapshot


def _asked(segments: Segments) -> bool:
    """Whether the chat model was already asked to name these segments (it named one, or said why not)."""
    return any(segment.naming == "llm" or segment.naming_error for segment in segments.segments)


def named_snapshot(snapshot: Snapshot, config: OrchestratorConfig, chat_model: BaseChatModel | None) -> Snapshot:
    """The snapshot a run's cohorts read. With `config.llm` on and a chat model (`chat_model`, else the one the
    settings build; none without an API key), a copy whose K-means segments the model names
    (`llm_segment_names`: a name that fails the checks keeps its rule name, with the reason), in `segments` and
    in every customer's `segment`; else `snapshot` itself, with the rule names. The snapshot is never modified,
    and one already named is not asked again."""
    if not config.llm.enabled or _asked(snapshot.segments):
        return snapshot
    chat_model = chat_model or build_chat_model(config.llm)
    if chat_model is None:
        return snapshot
    named = llm_segment_names(snapshot.segments, chat_model, config.llm)
    customers = with_names(snapshot.customers, snapshot.segments, named)
    return replace(snapshot, segments=named, customers=customers)
