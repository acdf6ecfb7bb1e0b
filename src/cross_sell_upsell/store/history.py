"""The run history's pure computations: what changed since the previous run, and whether its offers sold.

Each is a function over polars frames in the store's own shapes (`run_customers`, `run_offers` rows and the
runs' headline figures), so the batch computes them from what it streamed and a notebook from the store alike.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from cross_sell_upsell.offers.acceptance import PROBABILITY_DECIMALS
from cross_sell_upsell.store.views import cents_sum

NOT_IN_RUN = "(not in run)"
"""The segment of a customer one of the two runs did not analyse, in the migration table."""

DELTA_FIGURES = ("customers_processed", "customers_with_gaps", "total_gaps", "potential_revenue", "expected_revenue")
"""The runs' headline figures the comparison subtracts (money in dollars)."""

BREAKDOWNS = {"by_type": "offer_type", "by_source": "source", "by_segment": "segment"}
"""The summary's breakdowns of the previous offers, and the column each groups by."""

OFFER_KEYS = ("offer_type", "source", "segment")
"""The finest breakdown of the previous offers: the store's `run_previous_offers` rows."""


def gap_changes(previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """category, new (customers missing it now who were not before), resolved (customers who were missing it and
    no longer are), over the customers both runs analysed; categories in name order. `gap_categories` is
    ';'-joined, as in `run_customers`."""
    both = (
        previous.lazy()
        .select("customer_id", before=_gap_list())
        .join(current.lazy().select("customer_id", now=_gap_list()), on="customer_id")
        .select("before", "now")
        .collect()
    )
    # Each customer's gaps compared as two short lists: no (customer, category) pair is built for a million
    # customers, only the differences are.
    new = _category_counts(both.select(category=pl.col("now").list.set_difference("before")), "new")
    resolved = _category_counts(both.select(category=pl.col("before").list.set_difference("now")), "resolved")
    return (
        new.join(resolved, on="category", how="full", coalesce=True)
        .with_columns(pl.col("new", "resolved").fill_null(0).cast(pl.Int64))
        .sort("category")
    )


def _gap_list() -> pl.Expr:
    return pl.col("gap_categories").str.split(";").list.eval(pl.element().filter(pl.element() != ""))


def _category_counts(differences: pl.DataFrame, name: str) -> pl.DataFrame:
    return differences.explode("category").drop_nulls().group_by("category").agg(pl.len().alias(name))


def segment_migration(previous: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """previous_segment, current_segment, customers: how many customers moved from each segment to each, a
    customer only one run analysed counted under NOT_IN_RUN on the other side; sorted by the two segments."""
    return (
        previous.lazy()
        .select("customer_id", previous_segment="segment")
        .join(
            current.lazy().select("customer_id", current_segment="segment"), on="customer_id", how="full", coalesce=True
        )
        .with_columns(pl.col("previous_segment", "current_segment").fill_null(NOT_IN_RUN))
        .group_by("previous_segment", "current_segment")
        .agg(customers=pl.len().cast(pl.Int64))
        .sort("previous_segment", "current_segment")
        .collect()
    )


def _delta(now: Any, before: Any) -> float | int | None:
    if now is None or before is None:
        return None
    difference = now - before
    return round(difference, 2) if isinstance(difference, float) else difference


def previous_run_summary(
    previous_run: dict[str, Any],
    current_run: dict[str, Any],
    previous_customers: pl.DataFrame,
    current_customers: pl.DataFrame,
) -> dict[str, Any]:
    """The summary's `previous_run`: which run, the change of each DELTA_FIGURES (this run minus that one; null
    when either lacks it), the segment migration and the new and resolved gaps by category."""
    return {
        "run_id": previous_run["run_id"],
        "as_of": previous_run["as_of"].isoformat(),
        "deltas": {name: _delta(current_run[name], previous_run[name]) for name in DELTA_FIGURES},
        "segment_migration": segment_migration(previous_customers, current_customers).to_dicts(),
        "gap_changes": gap_changes(previous_customers, current_customers).to_dicts(),
    }


def offer_matches(offers: pl.DataFrame, purchases: pl.DataFrame, after: date, until: date) -> pl.DataFrame:
    """offer (row index in `offers`), purchase (row index among the window's purchases), amount: each purchase
    after `after` and on or before `until` of a product the offer named (any of a bundle's `product_ids`) by the
    customer it was sent to. `purchases` has customer_id, product_id, purchase_date and amount (priced)."""
    window = purchases.filter(pl.col("purchase_date").is_between(after, until, closed="right")).with_row_index(
        "purchase"
    )
    # Only the offers of customers who bought in the window can match: a week's buyers are a few of a run's
    # customers, and each offer is split into its products only then (at a million customers, 5M offers).
    members = (
        offers.lazy()
        .with_row_index("offer")
        .join(window.lazy().select("customer_id").unique(), on="customer_id", how="semi")
        .select("offer", "customer_id", product_id=pl.col("product_ids").str.split(";"))
        .explode("product_id")
        .unique()
    )
    return members.join(window.lazy(), on=["customer_id", "product_id"]).select("offer", "purchase", "amount").collect()


def counted_offers(offers: pl.DataFrame, matches: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The offers counted once at the finest breakdown (OFFER_KEYS, `_counts`) and the `matches` with their
    offers' keys: what `offer_outcomes` sums for any coarser breakdown, so the offers are grouped only once."""
    indexed = _with_outcome(offers, matches)
    return _counts(indexed, list(OFFER_KEYS)), matches.join(indexed.select("offer", *OFFER_KEYS), on="offer")


def _with_outcome(offers: pl.DataFrame, matches: pl.DataFrame) -> pl.DataFrame:
    """The offers with `offer` (their row index, as in `matches`) and `bought` (1 when a purchase matched it)."""
    matched = matches.get_column("offer").unique()
    return offers.with_row_index("offer").with_columns(bought=pl.col("offer").is_in(matched.implode()).cast(pl.Int64))


def _counts(indexed: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Per group of `keys` of the flagged offers: sent, bought, the probabilities summed in units of
    10^-PROBABILITY_DECIMALS (the precision they are made to, so the sum is exact and any grouping of these groups
    adds up to the same figure, in any row order) and how many offers have one."""
    units = (pl.col("probability") * 10**PROBABILITY_DECIMALS).round().cast(pl.Int64)
    # Lazy: over a million customers' five million offers, an eager group-by on the three text keys took 1 GB
    # of memory and 0.5 s, the lazy engine's 18 MB and 0.1 s.
    return (
        indexed.lazy()
        .group_by(keys)
        .agg(
            sent=pl.len().cast(pl.Int64),
            bought=pl.col("bought").sum().cast(pl.Int64),
            probability_units=units.sum(),
            with_probability=pl.col("probability").is_not_null().sum().cast(pl.Int64),
        )
        .collect()
    )


def offer_outcomes(counts: pl.DataFrame, matched: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """keys, sent, bought (offers with a matching purchase), revenue (the matching purchases' amounts, each
    purchase counted once per group even when two of its offers name the product), predicted (sum of the
    offers' probabilities: expected buys; null when no offer has one); sorted by the keys. From `counted_offers`
    (`keys` among OFFER_KEYS, or columns added to both frames)."""
    rolled = counts.group_by(keys).agg(pl.col("sent", "bought", "probability_units", "with_probability").sum())
    # In whole cents, as the sales views count money: exact, so no figure depends on the order of the rows.
    revenue = matched.unique([*keys, "purchase"]).group_by(keys).agg(revenue=cents_sum(pl.col("amount")) / 100)
    # Rounded after the division: polars divides a column by a constant as a product with its reciprocal, which
    # can miss the nearest double (417108.08430000005 for 4171080843 ten-thousandths).
    predicted = (pl.col("probability_units").cast(pl.Float64) / 10**PROBABILITY_DECIMALS).round(PROBABILITY_DECIMALS)
    return (
        rolled.join(revenue, on=keys, how="left")
        .with_columns(
            revenue=pl.col("revenue").fill_null(0.0).round(2),
            predicted=pl.when(pl.col("with_probability") > 0).then(predicted),
        )
        .select(*keys, "sent", "bought", "revenue", "predicted")
        .sort(keys)
    )


def _rates(row: dict[str, Any]) -> dict[str, Any]:
    sent = row["sent"]
    return {
        **row,
        "hit_rate": row["bought"] / sent if sent else None,
        "predicted_hit_rate": row["predicted"] / sent if sent and row["predicted"] is not None else None,
    }


def previous_offers_summary(
    previous_run: dict[str, Any], offers: pl.DataFrame, purchases: pl.DataFrame, until: date, last: date | None
) -> tuple[dict[str, Any], pl.DataFrame]:
    """The summary's `previous_offers` (the previous run's sent offers measured on the `purchases` after its
    as-of and on or before `until`; others may be given, they are left out) and the store's `run_previous_offers`
    rows (by offer type, source and segment). `last`: the log's last purchase date (None for no purchase)."""
    after = previous_run["as_of"]
    finest, matched = counted_offers(offers, offer_matches(offers, purchases, after, until))
    everything = {"all": pl.lit("all")}
    total = offer_outcomes(finest.with_columns(**everything), matched.with_columns(**everything), ["all"]).drop("all")
    if total.is_empty():
        total = pl.DataFrame({"sent": [0], "bought": [0], "revenue": [0.0], "predicted": [None]})
    summary = {
        "previous_run_id": previous_run["run_id"],
        "previous_as_of": after.isoformat(),
        "purchases_after": after.isoformat(),
        "purchases_until": until.isoformat(),
        "log_last_purchase": last.isoformat() if last is not None else None,
        **_rates(total.row(0, named=True)),
        **{
            name: [_rates(row) for row in offer_outcomes(finest, matched, [column]).to_dicts()]
            for name, column in BREAKDOWNS.items()
        },
    }
    rows = offer_outcomes(finest, matched, list(OFFER_KEYS)).with_columns(
        previous_run_id=pl.lit(previous_run["run_id"])
    )
    return summary, rows
