"""Recording one batch run in the store: what the batch streamed (each chunk's customer summaries and the offers
sent), spilled to Parquet files chunk by chunk, then written with the run's figures and the pre-aggregated tables
in one transaction, the spilled rows straight from their files."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.io.database import connect
from cross_sell_upsell.pipeline.priority import PRIORITY_ORDER, lapsed, priority_expression
from cross_sell_upsell.pipeline.totals import BatchResult
from cross_sell_upsell.store import views
from cross_sell_upsell.store.schema import Frame, as_table, ensure_schema

Rows = pl.DataFrame | Sequence[Path]
"""A table's rows for `recorded`: a (small) frame, or the Parquet files the run spilled them to."""

_SPILL_COMPRESSION = "lz4"
"""The spilled files live for one run: fast to write and read matters more than their size."""


def _label(column: str) -> pl.Expr:
    """A segment or loyalty tier as the store writes it: missing or empty is NONE_LABEL."""
    value = pl.col(column).cast(pl.String)
    return pl.when(value.is_null() | (value == "")).then(pl.lit(views.NONE_LABEL)).otherwise(value).alias(column)


def customer_rows(summaries: pl.DataFrame, config: OrchestratorConfig) -> pl.DataFrame:
    """A chunk's `run_customers` rows (without run_id and priority_rank) and the priority and lapsed flag the
    rank is computed from once every chunk is in."""
    missing = pl.col("missing_essentials")
    return summaries.select(
        "customer_id",
        _label("segment"),
        _label("loyalty_tier"),
        gaps=missing.list.len().cast(pl.Int64),
        gap_categories=missing.list.sort().list.join(";"),
        potential_revenue=pl.col("potential_revenue").round(2),
        expected_revenue=pl.col("expected_revenue").round(2),
        predicted_clv=pl.col("predicted_clv"),
        churn_probability=pl.col("churn_probability"),
        priority=priority_expression(config.lifetime_value_reference),
        lapsed=lapsed(config).fill_null(False),
    )


def offer_rows(opportunities: pl.DataFrame, top_n: int) -> pl.DataFrame:
    """A chunk's `run_offers` rows (without run_id): each customer's top `top_n` offers, the ones sent."""
    return opportunities.filter(pl.col("rank") <= top_n).select(
        "customer_id",
        rank=pl.col("rank").cast(pl.Int64),
        product_id="offer_id",
        # A single product's offer may leave product_ids empty: it names the product itself.
        product_ids=pl.when(pl.col("product_ids").list.len() > 0)
        .then(pl.col("product_ids").list.join(";"))
        .otherwise(pl.col("offer_id")),
        name="name",
        category="category",
        offer_type="type",
        source="source",
        segment=_label("segment"),
        price=pl.col("price").round(2),
        score=pl.col("score"),
        probability="acceptance_probability",
        expected_revenue=pl.col("expected_revenue").round(2),
        rationale="rationale",
    )


def with_rationales(offers: Frame, updates: pl.DataFrame) -> Frame:
    """`run_offers` rows with the rationales of `updates` (customer_id, offer_id, rationale) where they have one."""
    new = updates.select("customer_id", product_id="offer_id", new_rationale="rationale")
    return (
        offers.join(
            new if isinstance(offers, pl.DataFrame) else new.lazy(),  # type: ignore[arg-type]
            on=["customer_id", "product_id"],
            how="left",
            maintain_order="left",
        )
        .with_columns(rationale=pl.coalesce("new_rationale", "rationale"))
        .drop("new_rationale")
    )


class RunRecorder:
    """Spills what `run_batch(..., on_results=recorder.append)` streams to Parquet files in the folder given to
    `spill_to`, one pair per chunk, so a run holds none of its customers' or offers' rows in memory; nothing is
    run twice. The caller deletes the folder once the run is recorded or has failed."""

    def __init__(self, config: OrchestratorConfig) -> None:
        self._config = config
        self._folder: Path | None = None
        self._chunks = 0
        self._rationales: list[pl.DataFrame] = []

    def spill_to(self, folder: Path) -> None:
        """Where the chunks' rows go: an empty folder that lives until the run is recorded."""
        self._folder = folder

    def append(self, opportunities: pl.DataFrame, summaries: pl.DataFrame) -> None:
        customers = customer_rows(summaries, self._config)
        offers = as_table("run_offers", offer_rows(opportunities, self._config.top_n), without_run_id=True)
        customers.write_parquet(self._spilled(f"customers-{self._chunks:06d}"), compression=_SPILL_COMPRESSION)
        offers.write_parquet(self._spilled(f"offers-{self._chunks:06d}"), compression=_SPILL_COMPRESSION)
        self._chunks += 1

    def replace_rationales(self, updates: pl.DataFrame) -> None:
        """Swaps in the chat model's rationales (customer_id, offer_id, rationale), as the exports do, when the
        offers are written (`offer_files`)."""
        if not updates.is_empty():
            self._rationales.append(updates.select("customer_id", "offer_id", "rationale"))

    def customer_file(self) -> Path:
        """A Parquet file of every analysed customer's `run_customers` row without run_id (at least one chunk must
        be in), `priority_rank` 1 for the highest priority among the customers not lapsed (the report's order),
        null for the lapsed (they are on the win-back list)."""
        rows = pl.scan_parquet(self._chunk_files("customers"))
        ranked = (
            rows.filter(~pl.col("lapsed"))
            .sort(PRIORITY_ORDER[0], descending=PRIORITY_ORDER[1])
            .select("customer_id", priority_rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
        )
        path = self._spilled("run_customers")
        customers = rows.join(ranked, on="customer_id", how="left", maintain_order="left")
        as_table("run_customers", customers, without_run_id=True).sink_parquet(path, compression=_SPILL_COMPRESSION)
        return path

    def offer_files(self) -> list[Path]:
        """Parquet files of every offer sent (`run_offers` rows without run_id), with the chat model's rationales."""
        files = self._chunk_files("offers")
        if not self._rationales:
            return files
        path = self._spilled("run_offers")
        offers = with_rationales(
            pl.scan_parquet(files), pl.concat(self._rationales).unique(["customer_id", "offer_id"], keep="last")
        )
        offers.sink_parquet(path, compression=_SPILL_COMPRESSION)
        return [path]

    def _spilled(self, name: str) -> Path:
        if self._folder is None:
            raise RuntimeError("RunRecorder.spill_to names the folder before the batch streams its chunks")
        return self._folder / f"{name}.parquet"

    def _chunk_files(self, kind: str) -> list[Path]:
        return [self._spilled(f"{kind}-{chunk:06d}") for chunk in range(self._chunks)]


def code_version() -> str:
    """The package version, and the git commit when the code runs from a checkout."""
    try:
        text = version("cross-sell-upsell")
    except PackageNotFoundError:
        text = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return text
    return f"{text}+{commit}" if commit else text


def new_run_id(result: BatchResult, generated_at: datetime) -> str:
    """'<as_of>T<generated_at %Y%m%d%H%M%S>-<8 hex>': sorts by date, unique even for two runs in one second."""
    return f"{result.as_of}T{generated_at:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"


def run_row(
    run_id: str,
    result: BatchResult,
    generated_at: datetime,
    customers: pl.LazyFrame,
    offers_sent: int,
) -> dict[str, Any]:
    """The `runs` row: the run's settings, code and headline figures (`customers`: the `run_customers` rows)."""
    rows = result.rows_rejected
    figures = (
        customers.select(
            customers_with_gaps=(pl.col("gaps") > 0).sum().cast(pl.Int64),
            total_gaps=pl.col("gaps").sum().cast(pl.Int64),
            mean_churn_probability=pl.col("churn_probability").mean(),
        )
        .collect()
        .row(0, named=True)
    )
    return {
        "run_id": run_id,
        "as_of": result.as_of,
        "generated_at": generated_at.replace(microsecond=0),
        "data_source": result.source,
        "settings_json": result.config.model_dump_json(),
        "code_version": code_version(),
        "customers_requested": result.customers_requested,
        "customers_processed": result.customers_processed,
        "customers_failed": result.customers_failed,
        "rows_read": rows.get("rows_read"),
        "rows_used": rows.get("rows_used"),
        "rows_rejected": rows["total"],
        "total_offers": result.totals.offers,
        "offers_sent": offers_sent,
        "customers_with_gaps": figures["customers_with_gaps"],
        "total_gaps": figures["total_gaps"],
        "potential_revenue": result.total_potential_revenue,
        "expected_revenue": result.total_expected_revenue,
        "mean_churn_probability": figures["mean_churn_probability"],
        "win_back_customers": result.totals.win_back_customers,
    }


def _cubes(customers: pl.LazyFrame, offers: pl.LazyFrame) -> dict[str, pl.DataFrame]:
    """The dashboard's pre-aggregated customer and offer tables, from the spilled rows."""
    customer_cube = customers.group_by("segment", "loyalty_tier").agg(
        customers=pl.len().cast(pl.Int64),
        customers_with_gaps=(pl.col("gaps") > 0).sum().cast(pl.Int64),
        gaps=pl.col("gaps").sum(),
        potential_revenue=pl.col("potential_revenue").sum().round(2),
        expected_revenue=pl.when(pl.col("expected_revenue").is_not_null().any()).then(
            pl.col("expected_revenue").sum().round(2)
        ),
        churn_probability_sum=pl.col("churn_probability").sum(),
        predicted_clv_sum=pl.col("predicted_clv").sum(),
    )
    offer_cube = (
        offers.join(customers.select("customer_id", "loyalty_tier"), on="customer_id", how="left")
        .group_by("segment", "loyalty_tier", "offer_type", "source")
        .agg(
            offers=pl.len().cast(pl.Int64),
            price_sum=pl.col("price").sum().round(2),
            expected_revenue=pl.when(pl.col("expected_revenue").is_not_null().any()).then(
                pl.col("expected_revenue").sum().round(2)
            ),
        )
    )
    customer_rows, offer_rows = pl.collect_all([customer_cube, offer_cube])
    return {"run_customer_cube": customer_rows, "run_offer_cube": offer_rows}


def run_tables(
    run: dict[str, Any],
    result: BatchResult,
    sales: dict[str, pl.DataFrame],
    customer_file: Path,
    offer_files: Sequence[Path],
    previous_offers: pl.DataFrame | None,
) -> dict[str, Rows]:
    """Every table's rows for the run `run` (its `runs` row), in the order they are written: the customers and
    offers as the files they were spilled to, the rest as frames (`sales`: `views.sales_views`)."""
    tables: dict[str, Rows] = {
        "runs": pl.DataFrame([run], schema_overrides={"rows_read": pl.Int64, "rows_used": pl.Int64}),
        "run_customers": [customer_file],
        "run_offers": offer_files,
        **_cubes(pl.scan_parquet(customer_file), pl.scan_parquet(offer_files)),
        "run_gaps": result.most_common_gaps().select("category", customers="count"),
        **sales,
    }
    if previous_offers is not None:
        tables["run_previous_offers"] = previous_offers
    return tables


@contextmanager
def recorded(target: str | Path, run_id: str, tables: dict[str, Rows]) -> Iterator[None]:
    """Writes the run's `tables` to the store at `target` in one transaction, every row with `run_id`, committed
    only when the block ends without an error: the caller publishes its files inside, so the store holds a run
    only when its files were published, and a failed or interrupted run leaves nothing. Opening a DuckDB store
    another run is writing fails at once, with one line."""
    with connect(target) as db:
        db.begin()
        ensure_schema(db)
        for name, rows in tables.items():
            if isinstance(rows, pl.DataFrame):
                db.insert(name, as_table(name, rows.with_columns(run_id=pl.lit(run_id))))
            else:
                db.insert_parquet(name, rows, {"run_id": run_id})
        yield
        db.commit()
