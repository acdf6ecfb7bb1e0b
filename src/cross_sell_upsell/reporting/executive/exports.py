"""The per-offer recommendations CSV for marketing tools, written chunk by chunk while the graph runs."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Self

import polars as pl

from cross_sell_upsell.io.staging import StagedOutputs
from cross_sell_upsell.offers.campaigns import CAMPAIGN_COLUMNS
from cross_sell_upsell.offers.results import CUSTOMER_PREDICTION_COLUMNS
from cross_sell_upsell.offers.scoring import COMPONENTS
from cross_sell_upsell.reporting.executive.cells import neutralised, safe_text_cells

RECOMMENDATION_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "rank",
    "product_id",
    "product_ids",
    "type",
    "source",
    "name",
    "category",
    "tier",
    "price",
    "list_price",
    "score",
    *COMPONENTS,
    "acceptance_probability",
    "expected_revenue",
    "counts_toward_revenue",
    "rationale",
    "rationale_source",
    *CUSTOMER_PREDICTION_COLUMNS,
    *CAMPAIGN_COLUMNS,
)
"""The CSV's columns. `product_id` is the product offered, or the bundle's id; `product_ids` lists the products
in the offer, separated by ';' (one for a single product, the members for a bundle); `source` is the signal that
proposed it. `acceptance_probability` is the probability that the customer buys the offer within the acceptance
horizon and `expected_revenue` that times the price (both empty without an acceptance model). The last columns are the customer's predicted CLV, churn probability, expected purchases in the
window, expected next order date and segment (empty when the customers were not segmented;
`offers.results.CUSTOMER_PREDICTION_COLUMNS`), on each of their rows; then the campaign that covers the offer
(`offers.campaigns.CAMPAIGN_COLUMNS`: empty without one, and a boost of 1.0 when none or capped)."""


PRODUCT_ID_SEPARATOR = ";"
"""Between the products of a bundle in the `product_ids` column."""


_MONEY_AND_SCORES = ("price", "list_price", "score", *COMPONENTS, "expected_revenue", "predicted_clv")

_FOUR_DECIMALS = (  # probabilities and the campaign fractions
    "acceptance_probability",
    "churn_probability",
    "expected_purchases",
    "campaign_discount",
    "campaign_boost",
)

RECOMMENDATION_SCHEMA: dict[str, pl.DataType] = {
    name: pl.Decimal(14, 2)
    if name in _MONEY_AND_SCORES
    else pl.Decimal(14, 4)
    if name in _FOUR_DECIMALS
    else {"rank": pl.UInt32(), "tier": pl.Int8(), "counts_toward_revenue": pl.Boolean()}.get(name, pl.String())
    for name in RECOMMENDATION_COLUMNS
}
"""The CSV's column types, as the Parquet copy holds them."""


def recommendations_frame(opportunities: pl.DataFrame) -> pl.DataFrame:
    """The graph's opportunities in the CSV's columns. Prices, scores and components are written with exactly two
    decimals (12.99, 100.00): fixed-point text is what spreadsheets and marketing tools expect, and formatting
    decimals is much cheaper than formatting floats over millions of rows. Text that a spreadsheet would take
    for a formula is neutralised (`cells.neutralised`)."""
    published = opportunities.with_columns(
        pl.col(*_MONEY_AND_SCORES).round(2).cast(pl.Decimal(14, 2)),
        pl.col(*_FOUR_DECIMALS).round(4).cast(pl.Decimal(14, 4)),
        product_id=pl.col("offer_id"),
        product_ids=pl.coalesce(pl.col("product_ids").list.join(PRODUCT_ID_SEPARATOR), pl.col("offer_id")),
    ).select(RECOMMENDATION_COLUMNS)
    return safe_text_cells(published)


class RecommendationsExport:
    """The per-offer CSV, appended chunk by chunk to a staged file, so memory stays at one chunk.

    A chunk is written by a background thread while the graph computes the next one (a million customers make
    gigabytes of CSV); at most one write is pending. With `top` set, only each customer's `top` best offers
    (rank 1 to `top`) are written: the file every offer makes is the run's largest write. Use it as a context
    manager: leaving the block waits for the last write and raises its error, if any."""

    def __init__(self, staged: StagedOutputs, target: Path, top: int | None = None) -> None:
        self._staged = staged
        self._target = target
        self._top = top
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-export")
        self._pending: Future[None] | None = None
        staged.add(target, ",".join(RECOMMENDATION_COLUMNS) + "\n")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._wait()
        finally:
            self._writer.shutdown()

    def append(self, opportunities: pl.DataFrame) -> None:
        """Queues a chunk's offers for writing, once the previous chunk is written."""
        self._wait()
        self._pending = self._writer.submit(self._write, opportunities)

    def _write(self, opportunities: pl.DataFrame) -> None:
        if self._top is not None:
            opportunities = opportunities.filter(pl.col("rank") <= self._top)
        with self._staged.appending(self._target) as stream:
            recommendations_frame(opportunities).write_csv(stream, include_header=False)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def replace_rationales(self, updates: pl.DataFrame) -> None:
        """Swaps in new rationales (customer_id, offer_id, rationale, rationale_source), streaming the file
        through polars as text so every other cell keeps its exact bytes."""
        self._wait()
        if updates.is_empty():
            return
        new = updates.select(
            "customer_id", product_id="offer_id", new_rationale="rationale", new_source="rationale_source"
        ).cast(pl.String)
        patched = (
            pl.scan_csv(self._staged.temporary(self._target), infer_schema=False)
            .join(new.lazy(), on=["customer_id", "product_id"], how="left", maintain_order="left")
            .with_columns(
                rationale=pl.coalesce(neutralised(pl.col("new_rationale")), "rationale"),
                rationale_source=pl.coalesce("new_source", "rationale_source"),
            )
            .select(RECOMMENDATION_COLUMNS)
        )
        self._staged.sink(self._target, lambda temporary: patched.sink_csv(temporary, check_extension=False))

    def stage_parquet(self, target: Path) -> None:
        """Stages a Parquet copy of the CSV as it stands (rationales replaced) for `target`: the same rows and
        cells, typed (RECOMMENDATION_SCHEMA), streamed so it never has to fit in memory."""
        self._wait()
        copy = pl.scan_csv(self._staged.temporary(self._target), schema=RECOMMENDATION_SCHEMA)
        self._staged.sink(target, copy.sink_parquet)
