"""Cross-Sell & Upsell Orchestrator: what to offer each customer next, and why.

Start with `analyze_customer("C001", as_of=date(2024, 3, 1))` in a notebook, or the compiled LangGraph
graph in `cross_sell_upsell.graph` to watch it node by node.
"""

from .api import analyze_cohort, analyze_customer
from .configuration import LLMSettings, OrchestratorConfig, ScoringWeights
from .dataset import Dataset, load_dataset
from .errors import ConfigurationError, CrossSellError, DataValidationError, UnknownCustomerError
from .results import CustomerReport, Opportunity

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
