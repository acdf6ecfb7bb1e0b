"""The run context LangGraph's server and Studio give the orchestrator: plain JSON, checked here and turned into
the pipeline's `Context` (loaded data, validated rules) once per run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError

from cross_sell_upsell.configuration import DEFAULT_DATA_DIR, OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset, load_dataset
from cross_sell_upsell.data.ingest import load_transactions_dataset
from cross_sell_upsell.errors import LINE_HEAD, LINE_TAIL, elided
from cross_sell_upsell.pipeline.context import Context


class ServerInputError(ValueError):
    """A bad context or input value, or a domain error (a data file that breaks its contract), on one line. A
    ValueError because LangGraph's server passes only such errors' messages to the client; any other error
    reaches it as "An internal error occurred"."""

    def __init__(self, message: str) -> None:
        super().__init__(elided(message, LINE_HEAD, LINE_TAIL))


@dataclass
class ServerContext:
    """What a run on LangGraph's server is given (Studio's context form, or `context=` of `langgraph_sdk`). Paths
    are relative to the folder the server runs in (where `langgraph.json` is). One instance serves one run: the
    server makes one from the JSON of each run."""

    data_dir: Annotated[
        str | None,
        Field(
            description="Folder with catalog.json and customers.json (the JSON sample format). Default: data/tier1 "
            "when no transaction log is given."
        ),
    ] = None
    transactions: Annotated[
        str | None,
        Field(
            description="A transaction log, CSV or Parquet (customer id, product id, date, quantity, amount), "
            "instead of data_dir."
        ),
    ] = None
    catalog: Annotated[
        str | None, Field(description="The catalog (CSV, JSON or Parquet) that goes with `transactions`.")
    ] = None
    customers_file: Annotated[
        str | None, Field(description="Optional customer attributes (CSV, JSON or Parquet) for `transactions`.")
    ] = None
    as_of: Annotated[
        str | None,
        Field(
            description="Date the analysis is relative to, YYYY-MM-DD, for runs whose input has none. Default: today."
        ),
    ] = None
    customer_ids: Annotated[
        list[str] | None,
        Field(description="Customers to analyse for runs whose input names none. Default: every customer."),
    ] = None
    config: Annotated[
        dict[str, Any],
        Field(
            description='OrchestratorConfig settings to change, as JSON, e.g. {"due_soon_days": 14, '
            '"weights": {"concern_match": 40}, "ingest": {"transaction_columns": {"product_id": "sku"}}}. '
            "Unknown keys and bad values are errors."
        ),
    ] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("data_dir", "transactions", "catalog", "customers_file", "as_of"):
            _require(name, getattr(self, name), str, "a string")
        _require("customer_ids", self.customer_ids, list, "a list of ids")
        if self.customer_ids is not None and not all(isinstance(one, str) for one in self.customer_ids):
            raise ServerInputError("context customer_ids: every id must be a string")
        _require("config", self.config, dict, "an object of OrchestratorConfig settings")
        if self.data_dir is not None and self.transactions is not None:
            raise ServerInputError("context data_dir and transactions are alternatives: give one")
        if self.transactions is None and (self.catalog is not None or self.customers_file is not None):
            raise ServerInputError("context catalog and customers_file go with transactions, not data_dir")
        if self.transactions is not None and self.catalog is None:
            raise ServerInputError("context transactions needs catalog")
        self.settings = config_from_overrides(self.config)
        """The validated rules of this run."""
        self.default_as_of = parse_date("context as_of", self.as_of)
        """`as_of` as a date, or None."""
        self.values: dict[str, Any] = {}
        """This run's state as the nodes made it (frames, not records); filled by `start`."""
        self.pipeline: Context | None = None
        """The pipeline's context for this run; built by `start`."""

    def start(self, request: Mapping[str, Any]) -> Context:
        """Begins a run: resolves the as-of date and customers (the input's, else the context's, else today and
        everyone), loads the data and returns the pipeline's context. Raises ServerInputError."""
        as_of = parse_date("input as_of", request.get("as_of")) or self.default_as_of or date.today()
        customer_ids = request.get("customer_ids") if "customer_ids" in request else self.customer_ids
        self.values = {"as_of": as_of, "customer_ids": customer_ids}
        self.pipeline = Context(dataset=self._dataset(as_of), config=self.settings)
        return self.pipeline

    def current(self) -> Context:
        """The pipeline's context of the run `start` began."""
        if self.pipeline is None:
            raise ServerInputError("the orchestrator runs from its first step: start a new run, not a resumed one")
        return self.pipeline

    def _dataset(self, as_of: date) -> Dataset:
        ingest = self.settings.ingest
        if self.transactions is None:
            folder = Path(self.data_dir or DEFAULT_DATA_DIR)
            if not folder.is_dir():
                raise ServerInputError(
                    f"context data_dir: no folder {elided(str(folder))!r} (relative to {Path.cwd()})"
                )
            return load_dataset(folder, encoding=ingest.encoding)
        return load_transactions_dataset(
            self.transactions, self.catalog, self.customers_file, as_of=as_of, settings=ingest
        )


def _require(name: str, value: Any, kind: type, meaning: str) -> None:
    if value is not None and not isinstance(value, kind):
        raise ServerInputError(f"context {name}: expected {meaning}, not {elided(repr(value))}")


def parse_date(name: str, value: Any) -> date | None:
    """`value` (an ISO date string, a date or None) as a date; ServerInputError naming `name` otherwise."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ServerInputError(f"{name}: {elided(repr(value))} is not a date in YYYY-MM-DD form") from None


def config_from_overrides(overrides: Mapping[str, Any]) -> OrchestratorConfig:
    """The default OrchestratorConfig with `overrides` (plain JSON, nested objects for nested settings) applied;
    an unknown key or a bad value is a ServerInputError naming the key, e.g. `config key 'weights.lift': ...`."""
    try:
        return OrchestratorConfig.model_validate(dict(overrides))
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        problem = "not a setting" if error["type"] == "extra_forbidden" else error["msg"]
        where = f" key '{elided(key)}'" if key else ""  # a check across settings names none
        raise ServerInputError(f"context config{where}: {problem}") from None
