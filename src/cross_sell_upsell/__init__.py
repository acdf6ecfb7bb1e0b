"""Cross-Sell & Upsell Orchestrator: what to offer each customer next, and why.

Start with `analyze_customer("C001", as_of=date(2024, 3, 1))` in a notebook, or the compiled LangGraph
graph in `cross_sell_upsell.graph` to watch it node by node.
"""

from cross_sell_upsell.configuration import LLMSettings, OrchestratorConfig, ScoringWeights
from cross_sell_upsell.data.dataset import Dataset, load_dataset
from cross_sell_upsell.errors import ConfigurationError, CrossSellError, DataValidationError, UnknownCustomerError
from cross_sell_upsell.offers.results import CustomerReport, Opportunity
from cross_sell_upsell.pipeline.api import analyze_cohort, analyze_customer

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
