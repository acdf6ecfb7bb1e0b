"""Explainable scores: five components on a 0-100 scale and their weighted mean.

| component | formula |
|---|---|
| business_value | min(100, 100 x margin_value / business_value_reference), margin_value = price x margin multiplier |
| customer_fit | 100 x mean(price fit, loyalty score, 1 - churn_risk, min(1, lifetime_value / lifetime_value_reference)), price fit = 1 - sensitivity penalty x min(1, price / price_reference) |
| routine_completeness | 100 when the offer adds a missing essential (every bundle does), 50 when it keeps an owned essential category stocked or upgrades it, else 0 |
| replenishment_urgency | 100 x min(1, days since purchase / cycle) for replenishment offers, else 0 |
| concern_match | 100 x share of the customer's skin concerns the offer targets (0 for a customer with none) |

score = sum(weight x component) / sum(weight).
"""

from __future__ import annotations

import polars as pl

from .configuration import OrchestratorConfig
from .opportunities import customer_product_key

COMPONENTS: tuple[str, ...] = (
    "business_value",
    "customer_fit",
    "routine_completeness",
    "replenishment_urgency",
    "concern_match",
)

_CUSTOMER_COLUMNS = ("loyalty_tier", "price_sensitivity", "churn_risk", "lifetime_value")


def _lookup(column: str, table: dict[str, float]) -> pl.Expr:
    return pl.col(column).replace_strict(table, default=0.0, return_dtype=pl.Float64)


def component_expressions(config: OrchestratorConfig) -> dict[str, pl.Expr]:
    """The five components as expressions over an offer joined with its customer's attributes, the
    customer's concern mask (`customer_concerns`) and the routine flags."""
    price_fit = 1.0 - _lookup("price_sensitivity", config.price_sensitivity_penalty) * (
        pl.col("price") / config.price_reference
    ).clip(upper_bound=1.0)
    fit = (
        price_fit
        + _lookup("loyalty_tier", config.loyalty_scores)
        + (1.0 - pl.col("churn_risk"))
        + (pl.col("lifetime_value") / config.lifetime_value_reference).clip(upper_bound=1.0)
    ) / 4.0
    concerns = pl.col("customer_concerns").bitwise_count_ones()
    matched = (pl.col("concern_mask") & pl.col("customer_concerns")).bitwise_count_ones()
    return {
        "business_value": (100.0 * pl.col("margin_value") / config.business_value_reference).clip(upper_bound=100.0),
        "customer_fit": 100.0 * fit,
        "routine_completeness": pl.when(pl.col("fills_missing_essential"))
        .then(100.0)
        .when(pl.col("maintains_essential"))
        .then(50.0)
        .otherwise(0.0),
        "replenishment_urgency": pl.when(pl.col("type") == "replenishment")
        .then(100.0 * (pl.col("days_since_purchase") / pl.col("cycle_days")).clip(upper_bound=1.0))
        .otherwise(0.0),
        "concern_match": pl.when(concerns > 0).then(100.0 * matched / concerns).otherwise(0.0),
    }


def score_offers(
    candidates: pl.DataFrame,
    customers: pl.DataFrame,
    holdings: pl.DataFrame,
    gaps: pl.DataFrame,
    categories: pl.DataFrame,
    config: OrchestratorConfig,
) -> pl.DataFrame:
    """Scores, de-duplicates and ranks a cohort's candidate offers.

    A product proposed by several steps is offered once, under the highest-scoring reason. Ranks run from 1
    per customer: score, then the type order of `OPPORTUNITY_TYPES`, then the higher price, then the product id.
    """
    weights = config.weights.as_dict()
    total_weight = sum(weights.values())
    essential = categories.filter(pl.col("routine_position").is_not_null()).get_column("category_key")
    owned_categories = holdings.select("customer_key", "category_key").unique().with_columns(owns_category=pl.lit(True))
    missing = gaps.select("customer_key", "category_key").with_columns(category_missing=pl.lit(True))
    scored = (
        candidates.join(
            customers.select("customer_key", *_CUSTOMER_COLUMNS, customer_concerns="concern_mask"), on="customer_key"
        )
        .join(missing, on=["customer_key", "category_key"], how="left")
        .join(owned_categories, on=["customer_key", "category_key"], how="left")
        .with_columns(
            fills_missing_essential=(pl.col("type") == "bundle") | pl.col("category_missing").fill_null(False),
            maintains_essential=pl.col("category_key").is_in(essential.implode())
            & pl.col("owns_category").fill_null(False)
            & pl.col("type").is_in(["replenishment", "tier_upgrade"]),
        )
        .with_columns(**component_expressions(config))
        .with_columns(
            score=(pl.sum_horizontal(pl.col(name) * weight for name, weight in weights.items()) / total_weight).round(2)
        )
        .sort(
            ["customer_key", "score", "type", "price", "id_order"],
            descending=[False, True, False, True, False],
        )
    )
    single = pl.col("product_key").is_not_null()
    return (
        scored.filter(~single | customer_product_key().is_first_distinct())
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("customer_key"))
        .drop("category_missing", "owns_category", *_CUSTOMER_COLUMNS)
        .with_columns(pl.col(name).round(2) for name in COMPONENTS)
    )
