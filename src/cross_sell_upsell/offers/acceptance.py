"""Acceptance in the offers: each scored offer's features for the acceptance model (`models/acceptance.py`), its
probability, and the ranking policy that orders a customer's offers by it (docs/offers.md, "Acceptance").

The features are computed here, on the cohort's keyed frames, for the graph's scoring step and for the replayed
training set alike (`pipeline/acceptance.offer_features` maps the published offers back to keys and calls
`acceptance_features`), so the model is trained and used on one definition.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
from scipy import sparse

from cross_sell_upsell.models.acceptance import (
    EASE_SCORE,
    NEW_PRODUCT,
    PROBABILITY,
    SCORE,
    AcceptanceModel,
    predict_acceptance,
)
from cross_sell_upsell.models.ease import EaseModel
from cross_sell_upsell.offers.keys import customer_product_key, lookup, rank_in_runs
from cross_sell_upsell.offers.scoring import COMPONENTS

FEATURES: tuple[str, ...] = (
    *COMPONENTS,
    "recency",
    "log_days_since",
    "purchase_rate",
    "habit",
    "expected_purchases",
    "churn_probability",
    "relative_price",
    "similar_owned",
    "recent_popularity",
    "rebuy_rate",
)
"""The numeric features of an offer: the score components; for a product the customer bought,
1 / (1 + days since the last purchase), log(1 + days since the last purchase), the purchase rate
log(1 + days bought on x horizon / the days since the customer's first purchase of anything, at least one horizon)
and the recency-weighted repeat purchases (0 for a product never bought, and for a bundle); the customer model's
expected purchases and churn probability; log(price / the customer's usual price), the usual price being the mean
catalog price of the products they bought, weighted by the days bought on (0 without history); the summed
similarity of the product to everything else the customer owns (the item neighbours' links into it, 0 without
signals: what item kNN ranks by, where the score keeps only the strongest link); the share of the customers
buying lately who bought the product (`Snapshot.products.recent_buyer_share`, 0 for a bundle); and log(1 + how
often the product's buyers buy it again per horizon) (`Snapshot.products.rebuy_rate`: how much of a habit the
product is for anyone, 0 for a bundle).

No feature counts over the whole history: a log covers one more month at every run, so a count (days bought on, a
share of buyers who bought twice) is larger at the as-of date than at the replays the model learned from, and the
model, reading a stronger habit, promised more than the month then held (docs/backtest.md, "Features that do not
grow with the log")."""


RANKING_VALUE = "ranking_value"
"""The column `ranked_by_policy` orders by when the acceptance probability ranks: the probability, or the
probability x margin value."""


PROBABILITY_DECIMALS = 4
"""A probability is kept to 4 decimals: finer digits can differ with how many rows the estimator is given at once,
and a customer's order must not depend on the chunk they are scored in."""


def acceptance_features(
    offers: pl.DataFrame,
    customers: pl.DataFrame,
    holdings: pl.DataFrame,
    products: pl.DataFrame,
    as_of: date,
    horizon_days: int,
    neighbours: pl.DataFrame | None,
    ease: EaseModel | None = None,
) -> pl.DataFrame:
    """FEATURES per row of `offers` (customer_key, product_key (null for a bundle), price, the COMPONENTS and
    SCORE), in order, followed by SCORE as it is, EASE_SCORE (`ease_scores`) and NEW_PRODUCT (a product not in
    the customer's holdings; false for a bundle): what the model's new-product calibration reads.
    `customers` and `products` are indexed by their keys; `holdings` are (customer_key, product_key,
    first_purchase, last_purchase, purchase_days, habit) as of `as_of`, every product of each offered customer;
    `horizon_days` the acceptance horizon the purchase rate is counted per; `neighbours` the signals' item
    neighbours (source_key, product_key, similarity), None when the signals are off; `ease` the snapshot's EASE
    model."""
    owned = holdings.select(
        "customer_key",
        "purchase_days",
        "habit",
        "first_purchase",
        days_ago=(pl.lit(as_of) - pl.col("last_purchase")).dt.total_days(),
        owned_price=lookup(products.get_column("price"), "product_key"),
        offer=customer_product_key(),
    )
    return (
        offers.select("customer_key", "product_key", "price", *COMPONENTS, SCORE, offer=customer_product_key())
        # One packed key joins much faster than the (customer_key, product_key) pair; a bundle's is null.
        .join(
            owned.drop("owned_price", "customer_key", "first_purchase"), on="offer", how="left", maintain_order="left"
        )
        .join(_customer_history(owned, as_of), on="customer_key", how="left", maintain_order="left")
        .with_columns(
            recency=(1.0 / (1.0 + pl.col("days_ago"))).fill_null(0.0),
            # 1 / (1 + days) is near 0 for everything bought more than a few weeks ago; the log tells a month
            # from a year, which a logistic regression cannot do with the reciprocal alone.
            log_days_since=pl.col("days_ago").cast(pl.Float64).log1p().fill_null(0.0),
            purchase_rate=(pl.col("purchase_days") * horizon_days / pl.max_horizontal("history_days", horizon_days))
            .log1p()
            .fill_null(0.0),
            habit=pl.col("habit").fill_null(0.0),
            expected_purchases=lookup(customers.get_column("expected_purchases"), "customer_key"),
            churn_probability=lookup(customers.get_column("churn_probability"), "customer_key"),
            relative_price=(pl.col("price") / pl.col("usual_price")).log().fill_null(0.0).fill_nan(0.0),
            similar_owned=_similar_owned(offers, holdings, neighbours, customers.height, products.height),
            recent_popularity=lookup(products.get_column("recent_buyer_share"), "product_key").fill_null(0.0),
            rebuy_rate=lookup(products.get_column("rebuy_rate"), "product_key").log1p().fill_null(0.0),
        )
        .select(
            *FEATURES,
            SCORE,
            ease_scores(offers, holdings, ease, products.height),
            (pl.col("offer").is_not_null() & pl.col("days_ago").is_null()).alias(NEW_PRODUCT),
        )
    )


def _customer_history(owned: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Per customer_key of `owned` (holdings with `owned_price`): `usual_price`, the catalog price of what they
    bought weighted by the days bought on, and `history_days`, the days from their first purchase to `as_of`."""
    return owned.group_by("customer_key").agg(
        usual_price=(pl.col("owned_price") * pl.col("purchase_days")).sum() / pl.col("purchase_days").sum(),
        history_days=(pl.lit(as_of) - pl.col("first_purchase").min()).dt.total_days() + 1,
    )


def _similar_owned(
    offers: pl.DataFrame, holdings: pl.DataFrame, neighbours: pl.DataFrame | None, customers: int, products: int
) -> np.ndarray:
    """Per offer row, the summed similarity of its product to every product the customer owns (0 for a bundle,
    for a product with no neighbour owned, or without signals): one sparse product of what is owned and the
    neighbours, read at the offers' keys, so no pair is enumerated per customer."""
    if neighbours is None or offers.is_empty():
        return np.zeros(offers.height)
    owned = sparse.csr_matrix(
        (np.ones(holdings.height), (holdings["customer_key"].to_numpy(), holdings["product_key"].to_numpy())),
        shape=(customers, products),
    )
    links = sparse.csr_matrix(
        (
            neighbours["similarity"].to_numpy(),
            (neighbours["source_key"].to_numpy(), neighbours["product_key"].to_numpy()),
        ),
        shape=(products, products),
    )
    product = offers.get_column("product_key")
    summed = (owned @ links)[offers.get_column("customer_key").to_numpy(), product.fill_null(0).to_numpy()]
    return np.where(product.is_null().to_numpy(), 0.0, np.asarray(summed).ravel())


def ease_scores(offers: pl.DataFrame, holdings: pl.DataFrame, ease: EaseModel | None, products: int) -> pl.Series:
    """EASE_SCORE per offer row: the EASE model's score of the product for the customer (`EaseModel.scores`, the
    sum of its weights from what they own); null for a bundle, a product it does not model, a customer who owns
    none of the products it models, or without a model."""
    product = offers.get_column("product_key")
    if ease is None or offers.is_empty():
        return pl.Series(EASE_SCORE, [None] * offers.height, dtype=pl.Float64)
    scores = ease.scores(
        holdings.get_column("customer_key").to_numpy(),
        holdings.get_column("product_key").to_numpy(),
        offers.get_column("customer_key").to_numpy(),
        product.fill_null(0).to_numpy(),
        products,
    )
    scores[product.is_null().to_numpy()] = np.nan
    return pl.Series(EASE_SCORE, scores, dtype=pl.Float64).fill_nan(None)


def fitted(model: AcceptanceModel | None) -> bool:
    """Whether `model` is a fitted classifier (not None, not switched off, not fallen back)."""
    return model is not None and model.estimator is not None


def ranking_note(model: AcceptanceModel | None) -> str | None:
    """The run note when offers are ranked by the weighted score for want of a fitted model; None with one."""
    if fitted(model):
        return None
    reason = model.fallback_reason if model is not None else "not trained for this run"
    return f"Offers are ranked by the weighted score: expected revenue needs the acceptance model: {reason}."


def acceptance_probabilities(
    scored: pl.DataFrame,
    model: AcceptanceModel | None,
    customers: pl.DataFrame,
    holdings: pl.DataFrame,
    products: pl.DataFrame,
    as_of: date,
    neighbours: pl.DataFrame | None,
    ease: EaseModel | None = None,
) -> pl.DataFrame:
    """`acceptance_probability` of every scored offer (`scoring.score_offers`' frame), to PROBABILITY_DECIMALS,
    and its EASE_SCORE, what `ranked_by_policy` orders equally probable offers by; both null for every row without
    a fitted model."""
    if not fitted(model):
        return pl.DataFrame(
            {PROBABILITY: [None] * scored.height, EASE_SCORE: [None] * scored.height},
            schema={PROBABILITY: pl.Float64, EASE_SCORE: pl.Float64},
        )
    features = acceptance_features(
        scored, customers, holdings, products, as_of, model.settings.horizon_days, neighbours, ease
    ).with_columns(scored.select("type", "source"))
    probability = predict_acceptance(model, features).round(PROBABILITY_DECIMALS)
    return features.select(probability, EASE_SCORE)


def ranked_by_policy(scored: pl.DataFrame, policy: str) -> pl.DataFrame:
    """A customer's offers in the order of the ranking `policy` (`OrchestratorConfig.ranking`), ranks from 1:
    `acceptance` by the probability, `expected_value` by probability x price x margin multiplier
    (`margin_value`); equal values by the EASE score (a calibration's step holds many new products, which the
    EASE score tells apart), then, and for `score` or without probabilities, in `score_offers`' order (score, type,
    source, higher price, product id). `scored` is in customer and rank order, with `acceptance_probability` and
    EASE_SCORE. When the probability ranks, the value it ranks by is kept as RANKING_VALUE (what a campaign
    boosts)."""
    if policy == "score" or scored.get_column(PROBABILITY).null_count() == scored.height:
        return scored
    value = pl.col(PROBABILITY) * (pl.col("margin_value") if policy == "expected_value" else 1.0)
    valued = scored.with_columns(value.alias(RANKING_VALUE))
    # Rows are in rank order within a customer, so a stable sort breaks the remaining ties by rank.
    order = valued.select(
        pl.arg_sort_by(
            ["customer_key", RANKING_VALUE, EASE_SCORE],
            descending=[False, True, True],
            nulls_last=True,
            maintain_order=True,
        )
    )
    return valued[order.to_series()].with_columns(
        pl.col("customer_key").set_sorted(),
        rank=rank_in_runs(),
    )
