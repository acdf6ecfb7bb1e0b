"""Customer attributes and replenishment cycles derived from purchases: pure functions over polars frames.

Every formula is relative to an as-of date and only uses purchases made on or before it, so a backdated run
sees what was known then. docs/ingest.md states each one; the tests check them on hand-computed logs.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from cross_sell_upsell.configuration import LOYALTY_TIERS, IngestSettings
from cross_sell_upsell.data.dataset import CUSTOMER_SCHEMA, OWNERSHIP_SCHEMA

PURCHASE_SCHEMA: dict[str, pl.DataType] = {**OWNERSHIP_SCHEMA, "quantity": pl.Int32(), "amount": pl.Float64()}
"""A valid transaction row: an ownership row with its quantity and `amount`, what was paid for the whole row
(all units)."""


FEATURE_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "first_purchase": pl.Date(),
    "last_purchase": pl.Date(),
    "recency_days": pl.Int32(),
    "frequency": pl.UInt32(),
    "monetary": pl.Float64(),
    "lifetime_spend": pl.Float64(),
    "purchase_days": pl.UInt32(),
    "mean_gap_days": pl.Float64(),
    "price_index": pl.Float64(),
}
"""What a customer's purchases up to the as-of date say (formulas in `customer_features`). Owned products,
their last purchase and categories come from `Dataset.ownership` through the cohort, as for JSON profiles."""


LEARNED_CYCLE_SCHEMA: dict[str, pl.DataType] = {
    "product_id": pl.String(),
    "category": pl.String(),
    "cycle_days": pl.Int32(),
    "basis": pl.String(),
    "repeats": pl.UInt32(),
}
"""One row per catalog product without a replenishment cycle: the learned cycle (null when it could not be
learned), its basis (product, category or none) and how many repeat intervals it rests on."""


_INTERVAL_SCHEMA = {"product": pl.UInt32(), "interval": pl.Int64()}


NO_PURCHASE_CHURN_RISK = 0.5
"""Churn risk of a customer with no purchase up to the as-of date: no evidence either way."""


def customer_features(purchases: pl.DataFrame, products: pl.DataFrame, as_of: date, window_days: int) -> pl.DataFrame:
    """FEATURE_SCHEMA: one row per customer with a purchase on or before `as_of`, from those purchases only,
    sorted by customer id.

    recency_days = as_of - last purchase; frequency and monetary = rows and amount in the `window_days` days
    ending on `as_of`; lifetime_spend = all amounts; mean_gap_days = (last - first purchase) / (purchase days
    - 1), null for a single purchase day; price_index = amounts / sum of (quantity x the median catalog price
    of the product's category), null where that quotient is not a finite number (catalog prices so close to
    zero that dividing by them overflows)."""
    window_start = as_of - timedelta(days=window_days - 1)
    reference = products.select("product_id", pl.col("price").median().over("category"))
    reference_price = dict(zip(reference.get_column("product_id"), reference.get_column("price"), strict=True))
    in_window = pl.col("purchase_date") >= window_start
    # One lazy plan: the filtered rows and the helper columns never exist in full at 20M rows.
    rows = (
        purchases.lazy()
        .filter(pl.col("purchase_date") <= as_of)
        .with_columns(
            window_row=in_window.cast(pl.UInt32),
            window_amount=pl.when(in_window).then(pl.col("amount")).otherwise(0.0),
            reference_amount=pl.col("quantity")
            * pl.col("product_id").replace_strict(reference_price, return_dtype=pl.Float64),
        )
    )
    # A parallel group-by sums a customer's rows in a varying order, and a float sum's last digits vary with it
    # (the same run gave 1135.05 and 1135.0500000000002): money is rounded to cents, the reference spend to 12
    # significant digits, which drops that noise without turning a tiny catalog price's spend into 0.
    totals = rows.group_by("customer_id").agg(
        first_purchase=pl.col("purchase_date").min(),
        last_purchase=pl.col("purchase_date").max(),
        frequency=pl.col("window_row").sum(),
        monetary=pl.col("window_amount").sum().round(2),
        lifetime_spend=pl.col("amount").sum().round(2),
        purchase_days=pl.col("purchase_date").n_unique().cast(pl.UInt32),
        reference_spend=pl.col("reference_amount").sum().round_sig_figs(12),
    )
    return (
        totals.with_columns(
            recency_days=(pl.lit(as_of) - pl.col("last_purchase")).dt.total_days().cast(pl.Int32),
            mean_gap_days=pl.when(pl.col("purchase_days") > 1).then(
                (pl.col("last_purchase") - pl.col("first_purchase")).dt.total_days() / (pl.col("purchase_days") - 1)
            ),
            price_index=_finite(pl.col("lifetime_spend") / pl.col("reference_spend")),
        )
        .select(list(FEATURE_SCHEMA))
        .sort("customer_id")
        .collect()
    )


def _keyed_by_customer(rows: pl.DataFrame, key: pl.Expr | None = None) -> pl.DataFrame | None:
    """The rows with `customer_key`, a 64-bit hash of the customer id, sorted by it (unless they already are,
    as `read_transactions` leaves them) and flagged sorted, so each customer's rows are together; None when
    two ids share a key."""
    keyed = rows.with_columns(customer_key=pl.col("customer_id").hash() if key is None else key)
    if not keyed.get_column("customer_key").is_sorted():
        keyed = keyed.sort("customer_key", maintain_order=True)
    # Same id implies same key, so the ids change more often than the keys exactly when two ids share a key.
    if keyed.select(pl.col("customer_id").rle_id().max() != pl.col("customer_key").rle_id().max()).item():
        return None
    return keyed.with_columns(pl.col("customer_key").set_sorted())


def typical_gap_days(features: pl.DataFrame, default: float) -> float:
    """The median of customers' mean gaps between purchase days; `default` when nobody bought on two days."""
    median = features.get_column("mean_gap_days").median()
    return default if median is None else float(median)


def churn_risk(fallback_gap_days: float) -> pl.Expr:
    """1 - exp(-recency / (2 x the customer's mean gap)), the gap falling back to `fallback_gap_days` for a
    single purchase day; NO_PURCHASE_CHURN_RISK without a purchase. Rises with recency, 0 on the day of a
    purchase, about 0.39 one typical gap later."""
    gap = pl.col("mean_gap_days").fill_null(fallback_gap_days)
    risk = 1.0 - (-pl.col("recency_days").cast(pl.Float64) / (2.0 * gap)).exp()
    return pl.when(pl.col("recency_days").is_null()).then(NO_PURCHASE_CHURN_RISK).otherwise(risk.clip(0.0, 1.0))


def _finite(value: pl.Expr) -> pl.Expr:
    return pl.when(value.is_finite()).then(value)


def price_sensitivity(settings: IngestSettings) -> pl.Expr:
    """high below `price_index_high_sensitivity_below`, low from `price_index_low_sensitivity_from`, else
    (and without purchases, or without a finite index) medium."""
    index = pl.col("price_index")
    return (
        pl.when(index < settings.price_index_high_sensitivity_below)
        .then(pl.lit("high"))
        .when(index >= settings.price_index_low_sensitivity_from)
        .then(pl.lit("low"))
        .otherwise(pl.lit("medium"))
    )


def loyalty_tier(spend: pl.Expr, thresholds: dict[str, float]) -> pl.Expr:
    """The highest tier whose spend threshold `spend` reaches; bronze below silver's."""
    tier = pl.lit(LOYALTY_TIERS[0])
    for name in LOYALTY_TIERS[1:]:
        tier = pl.when(spend >= thresholds[name]).then(pl.lit(name)).otherwise(tier)
    return tier


def derive_customers(
    features: pl.DataFrame, given: pl.DataFrame | None, settings: IngestSettings, gap_days: float | None = None
) -> pl.DataFrame:
    """CUSTOMER_SCHEMA rows for every customer in `features` or `given`, sorted by id. A value the retailer
    gives (non-null in `given`) wins; the rest is derived: lifetime_value = lifetime spend, churn_risk,
    price_sensitivity, and loyalty_tier from the resulting lifetime value; name and notes default to "",
    concerns to none, tier preference to none (the cohort then uses the highest tier owned). The churn risk's
    fallback gap is `gap_days`, by default the `typical_gap_days` of `features` (a part of the customers needs
    the whole customer base's)."""
    gap = typical_gap_days(features, settings.default_purchase_gap_days) if gap_days is None else gap_days
    given_columns = (
        {} if given is None else {field: f"given_{field}" for field in given.columns if field != "customer_id"}
    )
    customers = features
    if given is not None:  # the join loses the features' order by id, restored at the end
        customers = features.join(given.rename(given_columns), on="customer_id", how="full", coalesce=True).sort(
            "customer_id"
        )
    derived = customers.with_columns(
        derived_lifetime_value=pl.col("lifetime_spend").fill_null(0.0),
        derived_churn_risk=churn_risk(gap),
        derived_price_sensitivity=price_sensitivity(settings),
    )
    defaults: dict[str, pl.Expr] = {
        "name": pl.lit(""),
        "email": pl.lit(None, dtype=pl.String),
        "lifetime_value": pl.col("derived_lifetime_value"),
        "churn_risk": pl.col("derived_churn_risk"),
        "price_sensitivity": pl.col("derived_price_sensitivity"),
        "tier_preference": pl.lit(None, dtype=pl.Int8),
        "skin_concerns": pl.lit([], dtype=pl.List(pl.String)),
        "notes": pl.lit(""),
        "segment": pl.lit(None, dtype=pl.String),
    }
    merged = derived.with_columns(
        (pl.coalesce(given_columns[field], default) if field in given_columns else default)
        .cast(CUSTOMER_SCHEMA[field])
        .alias(field)
        for field, default in defaults.items()
    )
    spend_tier = loyalty_tier(pl.col("lifetime_value"), settings.loyalty_thresholds)
    given_tier = pl.col(given_columns["loyalty_tier"]) if "loyalty_tier" in given_columns else pl.lit(None, pl.String)
    return merged.with_columns(loyalty_tier=pl.coalesce(given_tier, spend_tier)).select(
        pl.col(field).cast(dtype) for field, dtype in CUSTOMER_SCHEMA.items()
    )


def learn_cycles(purchases: pl.DataFrame, products: pl.DataFrame, as_of: date, min_repeats: int) -> pl.DataFrame:
    """LEARNED_CYCLE_SCHEMA for the products without a catalog cycle.

    A repeat interval is the days between two consecutive purchase days of the same product by the same
    customer, up to `as_of`. A product with at least `min_repeats` intervals gets their median (rounded to
    the nearest day, halves up); else its category's median over every product of the category, when the
    category has at least `min_repeats` intervals; else no cycle (basis "none")."""
    return cycles_from_counts(interval_counts(purchases, products, as_of), products, min_repeats)


INTERVAL_COUNT_SCHEMA: dict[str, pl.DataType] = {"product": pl.UInt32(), "interval": pl.Int64(), "count": pl.UInt32()}
"""How many repeat intervals of a product (its position among `_cycle_products`' related products) last
`interval` days: counts of parts of the log add up to the whole log's."""


def interval_counts(purchases: pl.DataFrame, products: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """INTERVAL_COUNT_SCHEMA: the repeat intervals `learn_cycles` rests on, counted per (product, interval).
    Intervals are whole days, so their medians come exactly from the counts of any split of the customers,
    summed (`cycles_from_counts`)."""
    _, related = _cycle_products(products)
    if related.is_empty():
        return pl.DataFrame(schema=INTERVAL_COUNT_SCHEMA)
    product_ids = related.get_column("product_id")
    rows = purchases.filter((pl.col("purchase_date") <= as_of) & pl.col("product_id").is_in(product_ids.implode()))
    return (
        repeat_intervals(rows, product_ids)
        .group_by("product", "interval")
        .agg(count=pl.len().cast(pl.UInt32))
        .select(pl.col(column).cast(dtype) for column, dtype in INTERVAL_COUNT_SCHEMA.items())
    )


def _cycle_products(products: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The products without a catalog cycle (id, category), and every product of their categories."""
    unknown = products.filter(pl.col("replenishment_cycle_days").is_null()).select("product_id", "category")
    related = products.filter(pl.col("category").is_in(unknown.get_column("category").implode()))
    return unknown, related


def cycles_from_counts(counts: pl.DataFrame, products: pl.DataFrame, min_repeats: int) -> pl.DataFrame:
    """`learn_cycles`' result from the `interval_counts` of the purchases (or their sum over parts of them)."""
    unknown, related = _cycle_products(products)
    if unknown.is_empty():
        return pl.DataFrame(schema=LEARNED_CYCLE_SCHEMA)
    product_ids = related.get_column("product_id")
    by_product = _median_of_counts(counts, "product").select(
        pl.lit(product_ids).gather(pl.col("product")).alias("product_id"),
        product_median="median",
        product_repeats="repeats",
    )
    categories = related.select("category", number=pl.col("category").rank("dense").cast(pl.UInt32))
    by_category = (
        _median_of_counts(
            counts.with_columns(number=pl.lit(categories.get_column("number")).gather(pl.col("product"))), "number"
        )
        .join(categories.unique(), on="number")
        .select("category", category_median="median", category_repeats="repeats")
    )
    learned = (
        unknown.join(by_product, on="product_id", how="left")
        .join(by_category, on="category", how="left")
        .with_columns(pl.col("product_repeats", "category_repeats").fill_null(0))
        .with_columns(
            basis=pl.when(pl.col("product_repeats") >= min_repeats)
            .then(pl.lit("product"))
            .when(pl.col("category_repeats") >= min_repeats)
            .then(pl.lit("category"))
            .otherwise(pl.lit("none"))
        )
        .with_columns(
            median=pl.when(pl.col("basis") == "product")
            .then(pl.col("product_median"))
            .when(pl.col("basis") == "category")
            .then(pl.col("category_median")),
            repeats=pl.when(pl.col("basis") == "category")
            .then(pl.col("category_repeats"))
            .otherwise(pl.col("product_repeats")),
        )
        .with_columns(
            cycle_days=pl.col("median").round(0, mode="half_away_from_zero").clip(lower_bound=1).cast(pl.Int32)
        )
    )
    return learned.select(pl.col(column).cast(dtype) for column, dtype in LEARNED_CYCLE_SCHEMA.items()).sort(
        "product_id"
    )


def _median_of_counts(counts: pl.DataFrame, group: str) -> pl.DataFrame:
    """Per `group`: the median interval (the mean of the two middle ones for an even number) and the number of
    intervals, from counts per (group, interval), read off the cumulative counts in interval order."""
    totals = (
        counts.group_by(group, "interval")
        .agg(pl.col("count").sum().cast(pl.UInt64))
        .sort(group, "interval")
        .with_columns(upto=pl.col("count").cum_sum().over(group), repeats=pl.col("count").sum().over(group))
    )
    # 0-based positions of the middle intervals: (n - 1) // 2 and n // 2, equal for an odd n.
    lower = pl.col("interval").filter(pl.col("upto") > (pl.col("repeats") - 1) // 2).first()
    upper = pl.col("interval").filter(pl.col("upto") > pl.col("repeats") // 2).first()
    return totals.group_by(group).agg(
        median=(lower + upper).cast(pl.Float64) / 2, repeats=pl.col("repeats").first().cast(pl.UInt32)
    )


def repeat_intervals(purchases: pl.DataFrame, product_ids: pl.Series) -> pl.DataFrame:
    """(product, interval): the days between each two consecutive purchase days of a product by one customer,
    for `purchases` of the products in `product_ids`; `product` is the position in `product_ids`, as
    numbers group far faster than ids at millions of rows.

    At millions of rows, sorting strings by customer, product and date would dominate, so each row is packed
    into one 64-bit integer (customer block, product number, day) whose plain sort puts every customer's
    purchases of a product in date order. Data too large to pack (or customer ids sharing a hash) falls back
    to sorting the columns."""
    if purchases.is_empty():
        return pl.DataFrame(schema=_INTERVAL_SCHEMA)
    keyed = _keyed_by_customer(purchases.select("customer_id", "product_id", "purchase_date"))
    if keyed is None:
        return _repeat_intervals_by_sorting(purchases, product_ids)
    first_day = keyed.get_column("purchase_date").min()
    numbered = keyed.select(
        block=pl.col("customer_id").rle_id().cast(pl.UInt64),
        product=pl.col("product_id").replace_strict(_numbered(product_ids), return_dtype=pl.UInt64),
        day=(pl.col("purchase_date") - pl.lit(first_day)).dt.total_days().cast(pl.UInt64),
    )
    bits = {column: max(1, int(numbered.get_column(column).max()).bit_length()) for column in numbered.columns}
    if sum(bits.values()) > 64:
        return _repeat_intervals_by_sorting(purchases, product_ids)
    day_unit = pl.lit(1 << bits["day"], dtype=pl.UInt64)
    product_unit = pl.lit(1 << bits["product"], dtype=pl.UInt64)
    packed = numbered.select((pl.col("block") * product_unit + pl.col("product")) * day_unit + pl.col("day"))
    return (
        packed.to_series()
        .sort()
        .to_frame("packed")
        .select(pair=pl.col("packed") // day_unit, day=(pl.col("packed") % day_unit).cast(pl.Int64))
        .with_columns(interval=pl.col("day") - pl.col("day").shift(1))
        .filter((pl.col("pair") == pl.col("pair").shift(1)) & (pl.col("interval") > 0))
        .select(product=(pl.col("pair") % product_unit).cast(pl.UInt32), interval="interval")
    )


def _repeat_intervals_by_sorting(purchases: pl.DataFrame, product_ids: pl.Series) -> pl.DataFrame:
    """`repeat_intervals` by sorting the columns themselves: slower, for data too large to pack."""
    same_pair = (pl.col("customer_id") == pl.col("customer_id").shift(1)) & (
        pl.col("product_id") == pl.col("product_id").shift(1)
    )
    return (
        purchases.select("customer_id", "product_id", "purchase_date")
        .unique()
        .sort("customer_id", "product_id", "purchase_date")
        .with_columns(interval=(pl.col("purchase_date") - pl.col("purchase_date").shift(1)).dt.total_days())
        .filter(same_pair)
        .select(
            product=pl.col("product_id").replace_strict(_numbered(product_ids), return_dtype=pl.UInt32),
            interval="interval",
        )
    )


def _numbered(values: pl.Series) -> dict[str, int]:
    return {value: number for number, value in enumerate(values)}


def with_learned_cycles(products: pl.DataFrame, learned: pl.DataFrame) -> pl.DataFrame:
    """The catalog with each missing replenishment cycle filled from `learned` (where one was learned)."""
    return (
        products.join(learned.select("product_id", "cycle_days"), on="product_id", how="left", maintain_order="left")
        .with_columns(replenishment_cycle_days=pl.coalesce("replenishment_cycle_days", "cycle_days"))
        .drop("cycle_days")
    )
