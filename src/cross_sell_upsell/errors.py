"""Domain errors. Each renders as one line; the CLIs turn them into exit code 2 at the boundary."""

from __future__ import annotations


class CrossSellError(Exception):
    """Base class for every error the orchestrator reports to a user."""


class DataValidationError(CrossSellError):
    """A record in an input file breaks the data contract."""

    def __init__(self, file: str, record_id: str, field: str, problem: str) -> None:
        self.file = file
        self.record_id = record_id
        self.field = field
        self.problem = problem
        super().__init__(f"{file}: record {record_id}: field '{field}': {problem}")


class UnknownCustomerError(CrossSellError):
    """A requested customer id is not in the data."""

    def __init__(self, customer_id: str, suggestions: list[str]) -> None:
        self.customer_id = customer_id
        self.suggestions = suggestions
        hint = f"; closest known ids: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"unknown customer id '{customer_id}'{hint}")


class ConfigurationError(CrossSellError):
    """A configuration value (from the environment, a file or an option) is invalid."""
