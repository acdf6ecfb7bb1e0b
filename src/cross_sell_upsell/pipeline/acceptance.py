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
from cross_sell_upsell.data.dataset import Dataset, only_customers
from cross_sell_upsell.data.derivations import learn_cycles, with_learned_cycles
from cross_sell_upsell.models.acceptance import (
    EASE_SCORE,
    LABEL,
    NEW_PRODUCT,
    SCORE,
    AcceptanceModel,
    fit_acceptance,
)
from cross_sell_upsell.models.segment_features import sample_order
from cross_sell_upsell.offers.acceptance import FEATURES, acceptance_features
from cross_sell_upsell.offers.scoring import COMPONENTS
from cross_sell_upsell.pipeline.api import analyze_cohort
from cross_sell_upsell.snapshot.build import Snapshot, build_snapshot

KEYS: tuple[str, ...] = ("customer_id", "offer_id", "type", "source")
"""The columns that name an offer in `offer_features`' frame."""


def offer_features(opportunities: pl.DataFrame, snapshot: Snapshot) -> pl.DataFrame:
    """(*KEYS, *FEATURES) per offer row of a graph run on `snapshot`, in order: the published offers keyed back
    to the snapshot's customer rows and product keys, then `offers.acceptance.acceptance_features` (rates per the
    snapshot's acceptance horizon), the one definition the graph's scoring step uses too."""
    product_keys = snapshot.products.select(offer_id="product_id", product_key="product_key")
    keyed = opportunities.select(
        "customer_id",
        "offer_id",
        pl.col("type", "source").cast(pl.String),
        "price",
        *COMPONENTS,
        "score",
        customer_key=snapshot.customer_rows.rows_of(opportunities.get_column("customer_id")),
    ).join(product_keys, on="offer_id", how="left", maintain_order="left")
    holdings = snapshot.holdings.rename({"customer_row": "customer_key"})
    neighbours = None if snapshot.signals is None else snapshot.signals.neighbours
    features = acceptance_features(
        keyed,
        snapshot.customers,
        holdings,
        snapshot.products,
        snapshot.as_of,
        snapshot.horizon_days,
        neighbours,
        snapshot.ease,
    )
    return keyed.select(KEYS).with_columns(features)


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
    before it (`settings.sample_customers`), on a snapshot of the first `settings.replay_population` of them in
    the same order (the sample among them), with `offer_features` and `bought`: whether the customer bought the
    product (any product of a bundle) in [replay_date + 1, replay_date + horizon_days]. Reads no purchase after
    that window. The graph runs with `replay_config`: the offers as the weighted score ranks them."""
    purchase_date, config = pl.col("purchase_date"), replay_config(config)
    window_end = replay_date + timedelta(days=settings.horizon_days)
    active = dataset.ownership.filter(purchase_date <= replay_date).get_column("customer_id").unique().sort()
    if active.is_empty():
        return pl.DataFrame(
            schema={
                **dict.fromkeys(KEYS, pl.String),
                **dict.fromkeys(FEATURES, pl.Float64),
                SCORE: pl.Float64,
                EASE_SCORE: pl.Float64,
                NEW_PRODUCT: pl.Boolean,
                LABEL: pl.Boolean,
                "replay_date": pl.Date,
            }
        )
    population = replay_population(active, settings)
    sample = population.head(settings.sample_customers).sort()
    # The customer models, segments and signals the sampled customers' offers depend on are fitted on the
    # population sample (everyone in a shop smaller than it), so training costs the same at any size: a million
    # customers' replay fitted on all of them cost as much as the run it trains for.
    past = known_on(
        dataset if population.len() == active.len() else only_customers(dataset, population), replay_date, config
    )
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


def replay_dates(as_of: date, settings: AcceptanceSettings, horizons: int | None = None) -> list[date]:
    """The replay dates as_of - 1 - h x horizon for h = 1..horizons (default `settings.horizons`), earliest first."""
    count = horizons or settings.horizons
    return [as_of - timedelta(days=1 + h * settings.horizon_days) for h in range(count, 0, -1)]


def replay_population(active: pl.Series, settings: AcceptanceSettings) -> pl.Series:
    """The customers a replay's snapshot is built on, among the `active` ones (who bought on or before its day,
    sorted): the first `replay_population` (at least `sample_customers`) in stable-hash order (`sample_order`)."""
    return active.gather(sample_order(active, max(settings.replay_population, settings.sample_customers)))


def labelled_purchases(purchases: pl.DataFrame, as_of: date, settings: AcceptanceSettings) -> int:
    """The (customer, product) purchases (of `purchases`, a dataset's ownership) in the replays' label windows:
    at most this many replayed offers can be labelled bought, so fewer than `settings.min_positives` cannot train,
    and no replay needs to run to know it. Customers count apart, so the figures of partitions of the customers
    add up."""
    purchase_date = pl.col("purchase_date")
    return sum(
        purchases.filter((purchase_date > day) & (purchase_date <= day + timedelta(days=settings.horizon_days)))
        .select("customer_id", "product_id")
        .unique()
        .height
        for day in replay_dates(as_of, settings)
    )


def training_set(
    dataset: Dataset,
    as_of: date,
    config: OrchestratorConfig,
    settings: AcceptanceSettings | None = None,
    horizons: int | None = None,
) -> pl.DataFrame:
    """The labelled offers of the replay dates as_of - 1 - h x horizon for h = 1..horizons (default
    `settings.horizons`), earliest first, from the purchases before `as_of` only (`labelled_offers`)."""
    settings = settings or AcceptanceSettings()
    replays = replay_dates(as_of, settings, horizons)
    # Every replay reads up to the end of its label window, as_of - 1 at the latest, so the log is not copied
    # without its as-of day (a million customers' log is gigabytes).
    return pl.concat([labelled_offers(dataset, day, config, settings) for day in replays], how="diagonal_relaxed")


SWITCHED_OFF = "switched off (acceptance.enabled = false)"
"""The fallback reason of a run whose settings switch the acceptance model off."""


def replay_config(config: OrchestratorConfig) -> OrchestratorConfig:
    """The settings the training replays run with: no acceptance model (the replays are what trains it) and no
    chat model (the rationales are not features)."""
    return config.model_copy(
        update={
            "acceptance": config.acceptance.model_copy(update={"enabled": False}),
            "llm": config.llm.model_copy(update={"enabled": False}),
        }
    )


def with_acceptance(
    snapshot: Snapshot, dataset: Dataset, config: OrchestratorConfig, *, labelled: int | None = None
) -> Snapshot:
    """`snapshot` carrying the acceptance model of `config.acceptance`, trained once on the replayed offers
    before the snapshot's date (`training_set`, `fit_acceptance`), or the reason there is none (switched off,
    too little history). Derived state like the customer models, but trained here and not in `build_snapshot`
    because the replays run the graph. No replay runs when the label windows hold fewer purchases than
    `min_positives` (`labelled_purchases`): a shop's first weeks cost nothing. A snapshot that already carries a
    model of these settings is returned as it is; `dataset` must be the one the snapshot was built from, or hold
    every purchase the replays read (`partitioned.replay_dataset`), with `labelled`, the whole log's
    `labelled_purchases`."""
    settings = config.acceptance
    if snapshot.acceptance is not None and snapshot.acceptance.settings == settings:
        return snapshot
    if labelled is None and settings.enabled:
        labelled = labelled_purchases(dataset.ownership, snapshot.as_of, settings)
    bought = labelled or 0
    if not settings.enabled:
        model = AcceptanceModel(settings, (), None, 0, 0, SWITCHED_OFF)
    elif bought < settings.min_positives:
        reason = (
            f"{bought:,} products bought in the {settings.horizon_days} days the replayed offers are labelled "
            f"from, fewer than the {settings.min_positives:,} bought offers needed to train"
        )
        model = AcceptanceModel(settings, FEATURES, None, 0, 0, reason)
    else:
        model = fit_acceptance(training_set(dataset, snapshot.as_of, config, settings), settings)
    return replace(snapshot, acceptance=model)
