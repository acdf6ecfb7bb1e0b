"""The library's front door for scripts and notebooks: analyse customers without touching the graph."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from cross_sell_upsell.configuration import DEFAULT_DATA_DIR, OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset, load_dataset
from cross_sell_upsell.data.keys import customer_id_key
from cross_sell_upsell.offers.cohort import require_known
from cross_sell_upsell.offers.results import CustomerReport, customer_report
from cross_sell_upsell.pipeline.context import Context
from cross_sell_upsell.pipeline.naming import named_snapshot
from cross_sell_upsell.snapshot.build import Snapshot, build_snapshot


def analyze_cohort(
    customer_ids: Sequence[str] | None = None,
    *,
    as_of: date | None = None,
    dataset: Dataset | None = None,
    data_dir: str | Path = DEFAULT_DATA_DIR,
    config: OrchestratorConfig | None = None,
    chat_model: BaseChatModel | None = None,
    snapshot: Snapshot | None = None,
) -> dict[str, Any]:
    """Runs the graph once over a cohort (every customer when `customer_ids` is None) and returns its output
    state: `opportunities` and `customer_summaries` frames, `unknown_customer_ids`, `as_of`. `snapshot`, when
    given, must be the dataset's as of `as_of` with `config`'s settings; else one is built for this call. The
    acceptance model is trained for it unless it carries one (`acceptance.with_acceptance`). With the chat model
    on, its segments are named by it first (`naming.named_snapshot`)."""
    from cross_sell_upsell.pipeline.acceptance import with_acceptance
    from cross_sell_upsell.pipeline.graph import graph

    config, as_of = config or OrchestratorConfig(), as_of or date.today()
    if snapshot is None or snapshot.acceptance is None:
        dataset = dataset or load_dataset(data_dir)
    if snapshot is None:
        snapshot = build_snapshot(dataset, as_of, config)
    snapshot = named_snapshot(with_acceptance(snapshot, dataset, config), config, chat_model)
    context = Context(dataset=dataset, snapshot=snapshot, config=config, chat_model=chat_model)
    request = {"customer_ids": None if customer_ids is None else list(customer_ids), "as_of": as_of}
    return graph.invoke(request, context=context)


def analyze_customer(
    customer_id: str,
    *,
    as_of: date | None = None,
    dataset: Dataset | None = None,
    data_dir: str | Path = DEFAULT_DATA_DIR,
    config: OrchestratorConfig | None = None,
    chat_model: BaseChatModel | None = None,
) -> CustomerReport:
    """The typed report of one customer (an email-like id matched in any case). Raises UnknownCustomerError, with the closest ids, for an unknown id."""
    dataset, customer_id = dataset or load_dataset(data_dir), customer_id_key(customer_id)
    require_known(dataset, [customer_id])
    config = config or OrchestratorConfig()
    output = analyze_cohort([customer_id], as_of=as_of, dataset=dataset, config=config, chat_model=chat_model)
    return customer_report(output, customer_id, config.customer_models)
