"""Cross-Sell & Upsell Orchestrator: what to offer each customer next, and why.

Start with `analyze_customer("C001", as_of=date(2024, 3, 1))` in a notebook, or the compiled LangGraph
graph in `cross_sell_upsell.pipeline.graph` to watch it node by node.

The names below are imported on first use (PEP 562), so importing a domain module such as
`cross_sell_upsell.offers.scoring` does not load the LLM stack and LangGraph that `analyze_customer` needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cross_sell_upsell.configuration import LLMSettings, OrchestratorConfig, ScoringWeights
    from cross_sell_upsell.data.dataset import Dataset, load_dataset
    from cross_sell_upsell.errors import (
        ConfigurationError,
        CrossSellError,
        DataValidationError,
        UnknownCustomerError,
    )
    from cross_sell_upsell.offers.results import CustomerReport, Opportunity
    from cross_sell_upsell.pipeline.api import analyze_cohort, analyze_customer

_MODULE_OF: dict[str, str] = {
    "ConfigurationError": "cross_sell_upsell.errors",
    "CrossSellError": "cross_sell_upsell.errors",
    "CustomerReport": "cross_sell_upsell.offers.results",
    "DataValidationError": "cross_sell_upsell.errors",
    "Dataset": "cross_sell_upsell.data.dataset",
    "LLMSettings": "cross_sell_upsell.configuration",
    "Opportunity": "cross_sell_upsell.offers.results",
    "OrchestratorConfig": "cross_sell_upsell.configuration",
    "ScoringWeights": "cross_sell_upsell.configuration",
    "UnknownCustomerError": "cross_sell_upsell.errors",
    "analyze_cohort": "cross_sell_upsell.pipeline.api",
    "analyze_customer": "cross_sell_upsell.pipeline.api",
    "load_dataset": "cross_sell_upsell.data.dataset",
}
"""The module that defines each public name."""

__all__ = [
    "ConfigurationError",
    "CrossSellError",
    "CustomerReport",
    "DataValidationError",
    "Dataset",
    "LLMSettings",
    "Opportunity",
    "OrchestratorConfig",
    "ScoringWeights",
    "UnknownCustomerError",
    "analyze_cohort",
    "analyze_customer",
    "load_dataset",
]


def __getattr__(name: str) -> Any:
    """Imports a public name's module the first time the name is asked for, and keeps the name here."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
