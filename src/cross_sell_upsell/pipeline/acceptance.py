"""The acceptance model's training set: the offers the orchestrator would have made at earlier dates, each
labelled with whether the customer bought it in the horizon that followed (docs/offers.md, "Acceptance").

It lives in `pipeline` because it replays the whole candidate generation (`analyze_cohort`, the graph) on a
snapshot of an earlier date; `models/acceptance.py` below it fits on the frame and knows nothing of the graph.

A replay date t = as_of - 1 - h x horizon (h = 1, or 1 and 2) sees the purchases on or before t; its offers are
labelled by the purchases in [t + 1, t + horizon], so with h = 1 the last labelled day is as_of - 1 and nothing
bought on or after `as_of` is ever read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.configuration.acceptance import AcceptanceSettings
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.data.derivations import learn_cycles, with_learned_cycles
from cross_sell_upsell.models.acceptance import LABEL
from cross_sell_upsell.models.segment_features import sample_order
from cross_sell_upsell.offers.scoring import COMPONENTS
from cross_sell_upsell.pipeline.api import analyze_cohort
from cross_sell_upsell.snapshot.build import Snapshot, build_snapshot

FEATURES: tuple[str, ...] = (
    *COMPONENTS,
    "recency",
    "frequency",
    "habit",
    "expected_purchases",
    "churn_probability",
    "relative_price",
)
"""The numeric features `offer_features` adds: the score components; for a product the customer bought,
1 / (1 + days since the last purchase), log(1 + days bought on) and the recency-weighted repeat purchases (0 for a
product never bought, and for a bundle); the customer model's expected purchases and churn probability; and
log(price / the customer's usual price), the usual price being the mean catalog price of the products they bought,
weighted by the days bought on (0 without history)."""


KEYS: tuple[str, ...] = ("customer_id", "offer_id", "type", "source")
"""The columns that name an offer in `offer_features`' frame."""


def offer_features(opportunities: pl.DataFrame, snapshot: Snapshot) -> pl.DataFrame:
    """(*KEYS, *FEATURES) per offer row of a graph run on `snapshot`, in order."""
    customer_ids = snapshot.customers.get_column("customer_id")
    owned = snapshot.holdings.select(
        customer_id=customer_ids.gather(snapshot.holdings.get_column("customer_row")),
        offer_id=snapshot.products.get_column("product_id").gather(snapshot.holdings.get_column("product_key")),
        price=snapshot.products.get_column("price").gather(snapshot.holdings.get_column("product_key")),
        days_ago=(pl.lit(snapshot.as_of) - pl.col("last_purchase")).dt.total_days(),
        purchase_days=pl.col("purchase_days"),
        habit=pl.col("habit"),
    )
    usual = owned.group_by("customer_id").agg(
        usual_price=(pl.col("price") * pl.col("purchase_days")).sum() / pl.col("purchase_days").sum()
    )
    return (
        opportunities.select("customer_id", "offer_id", "type", "source", "price", *COMPONENTS)
        .with_columns(pl.col("type", "source").cast(pl.String))
        .join(owned.drop("price"), on=["customer_id", "offer_id"], how="left", maintain_order="left")
        .join(usual, on="customer_id", how="left", maintain_order="left")
        .join(
            snapshot.customers.select("customer_id", "expected_purchases", "churn_probability"),
            on="customer_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            recency=(1.0 / (1.0 + pl.col("days_ago"))).fill_null(0.0),
            frequency=pl.col("purchase_days").cast(pl.Float64).log1p().fill_null(0.0),
            habit=pl.col("habit").fill_null(0.0),
            relative_price=(pl.col("price") / pl.col("usual_price")).log().fill_null(0.0).fill_nan(0.0),
        )
        .select(*KEYS, *FEATURES)
    )


def known_on(dataset: Dataset, day: date, config: OrchestratorConfig) -> Dataset:
    """The dataset as the retailer knew it on `day`: its purchases up to then and, for a transaction log, the
    replenishment cycles relearned from them. Cycles learned from later purchases would tell a replay when its
    customers rebought: what its labels measure. (Customer attributes derived from the log are kept: the
    dataset cannot tell them from those the retailer gave.)"""
    past = replace(dataset, ownership=dataset.ownership.filter(pl.col("purchase_date") <= day))
    if dataset.learned_cycles is None:
        return past
    cycles = pl.col("replenishment_cycle_days")
    learned_ids = dataset.learned_cycles.get_column("product_id").implode()
    catalog = dataset.products.with_columns(
        pl.when(pl.col("product_id").is_in(learned_ids))
        .then(None)
        .otherwise(cycles)
        .cast(dataset.products.schema["replenishment_cycle_days"])
        .alias("replenishment_cycle_days")
    )
    learned = learn_cycles(past.ownership, catalog, day, config.ingest.cycle_min_repeats)
    return replace(past, products=with_learned_cycles(catalog, learned), learned_cycles=learned)


def labelled_offers(
    dataset: Dataset, replay_date: date, config: OrchestratorConfig, settings: AcceptanceSettings
) -> pl.DataFrame:
    """The offers (with `replay_date`) of a graph run as of it over a stable-hash sample of the customers who bought
    before it (`settings.sample_customers`), with `offer_features` and `bought`: whether the customer bought the
    product (any product of a bundle) in [replay_date + 1, replay_date + horizon_days]. Reads no purchase after
    that window."""
    purchase_date = pl.col("purchase_date")
    window_end = replay_date + timedelta(days=settings.horizon_days)
    past = known_on(dataset, replay_date, config)
    active = past.ownership.get_column("customer_id").unique().sort()
    if active.is_empty():
        return pl.DataFrame(
            schema={
                **dict.fromkeys(KEYS, pl.String),
                **dict.fromkeys(FEATURES, pl.Float64),
                LABEL: pl.Boolean,
                "replay_date": pl.Date,
            }
        )
    sample = active.gather(sample_order(active, settings.sample_customers)).sort()
    snapshot = build_snapshot(past, replay_date, config)
    output = analyze_cohort(sample.to_list(), as_of=replay_date, dataset=past, config=config, snapshot=snapshot)
    offers = output["opportunities"].sort("customer_id", "rank")
    future = (
        dataset.ownership.filter((purchase_date > replay_date) & (purchase_date <= window_end))
        .select("customer_id", product_id="product_id")
        .unique()
        .with_columns(hit=pl.lit(True))
    )
    bought = (
        offers.select(
            "customer_id", row=pl.int_range(pl.len()), product_id=pl.coalesce("product_ids", pl.concat_list("offer_id"))
        )
        .explode("product_id")
        .join(future, on=["customer_id", "product_id"], how="left")
        .group_by("row")
        .agg(pl.col("hit").any())
        .sort("row")
    )
    return offer_features(offers, snapshot).with_columns(
        bought.get_column("hit").fill_null(False).alias(LABEL), replay_date=pl.lit(replay_date)
    )


def training_set(
    dataset: Dataset,
    as_of: date,
    config: OrchestratorConfig,
    settings: AcceptanceSettings | None = None,
    horizons: int | None = None,
) -> pl.DataFrame:
    """The labelled offers of the replay dates as_of - 1 - h x horizon for h = 1..horizons (default
    `settings.horizons`), earliest first, from the purchases before `as_of` only."""
    settings = settings or AcceptanceSettings()
    horizons = horizons or settings.horizons
    before = replace(dataset, ownership=dataset.ownership.filter(pl.col("purchase_date") < as_of))
    replays = [as_of - timedelta(days=1 + h * settings.horizon_days) for h in range(horizons, 0, -1)]
    return pl.concat([labelled_offers(before, day, config, settings) for day in replays], how="diagonal_relaxed")
