"""The customer models fitted once per as-of date into the snapshot, and each customer's predictions.

The purchase summary is built from the keyed purchases the holdings and signals start from, so the log is read
once; a purchase without an amount (a JSON profile's listed purchase) is valued at the catalog price. Where the
models do not hold, each customer gets the fallback values (`models.scoring.fallback_scores`), and where the
retailer gives a lifetime value or churn risk (the JSON profiles do, a customers file may), the given values are
the fallback's CLV and churn. docs/customer-models.md states every value.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from cross_sell_upsell.configuration import CustomerModelSettings
from cross_sell_upsell.data.dataset import GIVEN_VALUE_COLUMNS
from cross_sell_upsell.data.derivations import NO_PURCHASE_CHURN_RISK
from cross_sell_upsell.features.purchase_summary import sorted_purchase_summary
from cross_sell_upsell.features.sorted_purchases import SortedPurchases
from cross_sell_upsell.models.fit import CustomerModels, fit_customer_models
from cross_sell_upsell.models.scoring import fallback_reason, score_customers

ModelSource = pl.Enum(["model", "fallback"])
"""Where a customer's predictions come from."""


CUSTOMER_MODEL_COLUMNS: tuple[str, ...] = (
    "predicted_clv",
    "churn_probability",
    "expected_purchases",
    "expected_next_order",
    "p_alive",
    "model_source",
    "model_fallback_reason",
)
"""The columns `customer_predictions` adds to every customer of the snapshot (models.scoring.SCORE_SCHEMA's
meaning; `model_fallback_reason` says why a fallback customer has no model values, null for the others)."""


NO_PURCHASE = "no purchase on or before the as-of date"
"""The fallback reason of a customer with no purchase: the models have nothing to go on."""


NOT_FINITE = "the models' values for this customer are not finite"
"""The fallback reason of a customer whose model values are not finite while the models hold for the rest."""


GIVEN_NOTES: dict[tuple[bool, bool], str] = {
    (False, False): "",
    (True, False): "; lifetime value as the retailer gives it",
    (False, True): "; churn risk as the retailer gives it",
    (True, True): "; lifetime value and churn risk as the retailer gives them",
}
"""Added to a fallback reason, by (lifetime value given, churn risk given)."""


def priced_purchases(keyed: pl.DataFrame, prices: pl.Series) -> pl.LazyFrame:
    """customer_row, product_key, purchase_date, amount from the keyed purchases (`holdings.keyed_ownership`),
    lazily, so the log is not copied: the amount paid where the data says, else the catalog price of the product
    (`prices`, by product key)."""
    price = pl.lit(prices).gather(pl.col("product_key"))
    amount = pl.coalesce("amount", price) if "amount" in keyed.columns else price
    return keyed.lazy().select("customer_row", "product_key", "purchase_date", amount=amount)


def customer_summary(purchases: SortedPurchases, as_of: date) -> pl.DataFrame:
    """The purchase summary (`features.purchase_summary`) of the customers of `purchases` (the priced keyed
    purchases, `priced_purchases`, sorted: `sort_purchases`) on or before `as_of`, by customer row. Each
    customer's row depends on their purchases alone, so partitions of the customers can be summarised apart and
    concatenated."""
    # purchase_summary's as_of is exclusive, the snapshot's inclusive.
    return sorted_purchase_summary(purchases, as_of + timedelta(days=1))


def customer_predictions(
    summary: pl.DataFrame, customers: int, given: pl.DataFrame, settings: CustomerModelSettings
) -> tuple[CustomerModels, pl.DataFrame]:
    """The models fitted on the purchase `summary` of every buying customer (`customer_summary`, sorted by
    customer row), and CUSTOMER_MODEL_COLUMNS for each of `customers` rows, in row order, scored over the
    settings' window. `given` has one row per customer row: lifetime_value and churn_risk as the retailer gives
    them (null where it does not).

    A customer without a purchase gets no expected purchase, no next order date (null), the given churn risk or
    else NO_PURCHASE_CHURN_RISK, the given lifetime value or else 0; no value is NaN."""
    models = fit_customer_models(summary, settings)
    scores = score_customers(models, summary)
    reason = fallback_reason(models, settings.window_days)
    rows = (
        pl.DataFrame({"customer_id": pl.int_range(customers, eager=True, dtype=pl.UInt32)})
        .join(scores.with_columns(pl.col("customer_id").cast(pl.UInt32)), on="customer_id", how="left")
        .sort("customer_id")
        .with_columns(given.select(given_clv="lifetime_value", given_churn="churn_risk"))
        .with_columns(
            bought=pl.col("model_source").is_not_null(), model_source=pl.col("model_source").fill_null("fallback")
        )
    )
    fallback = pl.col("model_source") == "fallback"
    churn = pl.col("churn_probability").fill_null(NO_PURCHASE_CHURN_RISK)
    churn = pl.when(fallback).then(pl.coalesce("given_churn", churn)).otherwise(churn)
    clv = pl.col("predicted_clv").fill_null(0.0)
    predictions = rows.select(
        predicted_clv=pl.when(fallback).then(pl.coalesce("given_clv", clv)).otherwise(clv),
        churn_probability=churn,
        expected_purchases=pl.col("expected_purchases").fill_null(0.0),
        expected_next_order="expected_next_order",
        p_alive=pl.when(fallback).then(1.0 - churn).otherwise(pl.col("p_alive")),
        model_source=pl.col("model_source").cast(ModelSource),
        model_fallback_reason=_reason_expression(reason or NOT_FINITE).cast(pl.Enum(_reasons(reason or NOT_FINITE))),
    )
    return models, predictions


def _reason_expression(fallback: str) -> pl.Expr:
    """Each customer's fallback reason (null for a model customer): no purchase, or `fallback`, with a note on
    the values the retailer gives."""
    base = pl.when(~pl.col("bought")).then(pl.lit(NO_PURCHASE)).otherwise(pl.lit(fallback))
    given = (pl.col("given_clv").is_not_null(), pl.col("given_churn").is_not_null())
    note = pl.lit("")
    for (clv, churn), text in GIVEN_NOTES.items():
        if text:
            note = pl.when((given[0] == clv) & (given[1] == churn)).then(pl.lit(text)).otherwise(note)
    return pl.when(pl.col("model_source") == "fallback").then(base + note)


def _reasons(fallback: str) -> list[str]:
    return [base + note for base in (NO_PURCHASE, fallback) for note in GIVEN_NOTES.values()]


def given_values(customers: pl.DataFrame, given: pl.DataFrame | None) -> pl.DataFrame:
    """lifetime_value and churn_risk as the retailer gives them, one row per customer in row order: every
    customer's own when `given` is None (JSON profiles), else `given`'s (`Dataset.given_values`), null where it
    has none."""
    if given is None:
        return customers.select(GIVEN_VALUE_COLUMNS)
    columns = [
        pl.col(name) if name in given.columns else pl.lit(None, pl.Float64).alias(name) for name in GIVEN_VALUE_COLUMNS
    ]
    return (
        customers.select("customer_id")
        .join(given.select("customer_id", *columns), on="customer_id", how="left", maintain_order="left")
        .select(pl.col(name).cast(pl.Float64) for name in GIVEN_VALUE_COLUMNS)
    )
