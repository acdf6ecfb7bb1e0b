"""Does the acceptance model's money hold up? The backtest's `calibration` object: the expected revenue of the
offers the orchestrator would send against what their customers then spent on them, and the predicted
probability against the observed purchase rate, by decile (docs/backtest.md).

Pure functions over the orchestrator's offers and the purchases in the horizon.
"""

from __future__ import annotations

from typing import Any

import polars as pl

DECILES = 10


def sent_offers(offers: pl.DataFrame, k: int) -> pl.DataFrame:
    """Each customer's first `k` offers that count toward revenue (a bundle's products shown on their own are in
    the bundle): those the expected revenue is summed over."""
    return offers.filter(pl.col("counts_toward_revenue") & (pl.col("rank") <= k))


def labelled(offers: pl.DataFrame, bought: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """`offers` (customer_id, offer_id, product_ids: a bundle's members, else null) with `bought`, whether the
    customer bought the offered product (any product of a bundle, as the model's label) in the horizon, and
    `realised`, what that is worth: the price of each offered product bought, once (a bundle's members at their
    catalog price). `bought` has (customer_id, product_id) rows of the purchases in the horizon."""
    members = (
        offers.select(
            "customer_id", row=pl.int_range(pl.len()), product_id=pl.coalesce("product_ids", pl.concat_list("offer_id"))
        )
        .explode("product_id")
        .join(
            bought.select("customer_id", "product_id").unique().with_columns(hit=pl.lit(True)),
            on=["customer_id", "product_id"],
            how="left",
        )
        .join(catalog.select("product_id", "price"), on="product_id", how="left")
        .group_by("row")
        .agg(bought=pl.col("hit").any(), members_realised=pl.col("price").filter(pl.col("hit").fill_null(False)).sum())
        .sort("row")
    )
    single = pl.col("product_ids").is_null()
    return offers.with_columns(bought=members.get_column("bought").fill_null(False)).with_columns(
        realised=pl.when(~pl.col("bought"))
        .then(0.0)
        .when(single)
        .then(pl.col("price"))
        .otherwise(members.get_column("members_realised"))
    )


def deciles(offers: pl.DataFrame) -> list[dict[str, Any]]:
    """DECILES rows of as equally many offers as integer division makes them (offer i of n in decile
    floor(10 i / n) + 1; fewer rows for fewer than ten offers), from the lowest predicted probability up: offers, mean predicted probability, observed purchase rate. `offers` has
    `acceptance_probability` and `bought`; ties are ordered by customer and offer id, so the rows repeat."""
    ordered = offers.sort("acceptance_probability", "customer_id", "offer_id")
    size = ordered.height
    return (
        ordered.with_columns(decile=(pl.int_range(pl.len()) * DECILES // max(size, 1) + 1).cast(pl.Int64))
        .group_by("decile", maintain_order=True)
        .agg(
            offers=pl.len().cast(pl.Int64),
            mean_predicted=pl.col("acceptance_probability").mean(),
            observed_rate=pl.col("bought").cast(pl.Float64).mean(),
        )
        .to_dicts()
    )


def calibration(offers: pl.DataFrame, bought: pl.DataFrame, catalog: pl.DataFrame, k: int) -> dict[str, Any]:
    """The calibration object of the offers sent (`sent_offers`, top `k`): how many, `expected_revenue` (the sum of
    probability x price), `realised_revenue` (`labelled`'s `realised`, summed), their ratio, the mean predicted
    probability and the observed rate, and the `deciles`. Without probabilities (no acceptance model) the
    expected figures are null and there are no deciles."""
    sent = labelled(sent_offers(offers, k), bought, catalog)
    realised = float(sent.get_column("realised").sum())
    with_probability = sent.filter(pl.col("acceptance_probability").is_not_null())
    if with_probability.is_empty():
        expected = mean = None
        rows: list[dict[str, Any]] = []
    else:
        expected = float(sent.select((pl.col("acceptance_probability") * pl.col("price")).sum()).item())
        mean = float(with_probability.get_column("acceptance_probability").mean())
        rows = deciles(with_probability)
    return {
        "offers": sent.height,
        "expected_revenue": expected,
        "realised_revenue": realised,
        "realised_over_expected": realised / expected if expected else None,
        "mean_predicted": mean,
        "observed_rate": float(sent.get_column("bought").mean()) if sent.height else None,
        "deciles": rows,
    }
