"""Everything derived from a dataset for one as-of date, built once as one immutable value.

A run (one customer, a cohort, a weekly batch over millions, a backtest) reads its holdings, learned signals,
customer models and keyed catalog from a `Snapshot` instead of recomputing them per cohort, and nothing is cached
on the `Dataset`: a snapshot can be built ahead, passed to a worker (it pickles through Arrow IPC) or stored
beside a run. It sits above `models` (it fits them) and below `offers` (which read it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig, SignalSettings
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.features.holdings import keyed_ownership, rebuy_rates, recent_buyer_shares
from cross_sell_upsell.features.signals import Signals, learn_signals
from cross_sell_upsell.models.acceptance import AcceptanceModel
from cross_sell_upsell.models.ease import EaseModel, fit_ease
from cross_sell_upsell.models.fit import CustomerModels
from cross_sell_upsell.models.segments import Segments
from cross_sell_upsell.snapshot.customers import customer_predictions, given_values
from cross_sell_upsell.snapshot.partitions import (
    GROUPING_THREADS,
    PartitionPartial,
    by_customer_row,
    partition_partials,
    split_by_customer,
)
from cross_sell_upsell.snapshot.segments import customer_segments

MAX_CONCERNS = 64
"""Concerns are bits of a UInt64 mask, so a data set may use at most 64 distinct skin concerns."""


OFFER_TIME_SIGNAL_SETTINGS = frozenset({"learned_offers", "lift_reference"})
"""Signal settings the offers read, not the snapshot: runs that differ only in them can share one."""


@dataclass(frozen=True)
class CustomerIndex:
    """Customer ids to their rows, by binary search over the sorted ids: a dict of ten million ids took about
    1.5 GB, these two columns a tenth of it, and they pickle as Arrow."""

    sorted_ids: pl.Series
    """Every customer id, sorted."""
    rows: pl.Series
    """The row of each of `sorted_ids` (UInt32)."""

    @classmethod
    def of(cls, ids: pl.Series) -> CustomerIndex:
        """The index of `ids`, a frame's customer ids in row order (each once)."""
        order = ids.arg_sort()
        return cls(ids.gather(order).rename("customer_id"), order.cast(pl.UInt32).rename("row"))

    def rows_of(self, ids: pl.Series) -> pl.Series:
        """The row of each of `ids` (UInt32), null for an id that is not a customer's."""
        ids = ids.cast(pl.String)
        if self.sorted_ids.is_empty():
            return pl.Series("row", [None] * ids.len(), dtype=pl.UInt32)
        at = self.sorted_ids.search_sorted(ids).clip(upper_bound=self.sorted_ids.len() - 1)
        found = pl.DataFrame({"row": self.rows.gather(at), "found": self.sorted_ids.gather(at) == ids})
        return found.select(pl.when("found").then("row")).to_series()


@dataclass(frozen=True)
class Snapshot:
    """A dataset as of one date under one configuration's data settings (`build_snapshot`). Customers are
    `customer_row`s (rows of `customers`) and products `product_key`s (rows of `products`); nothing in it is
    modified after it is built.

    The keyed log the holdings and signals start from is not kept: it is as long as the log, and nothing reads
    it once they are built."""

    as_of: date
    """Only purchases on or before this date count."""
    signal_settings: SignalSettings
    """The settings `holdings` (their habit half-life) and `signals` were built with (the
    OFFER_TIME_SIGNAL_SETTINGS among them do not change it)."""
    essentials: tuple[str, ...]
    """The routine's essential categories: bit i of `products.essential_bit` is essentials[i]."""
    margin_multipliers: dict[str, float]
    """The margin multipliers `products.margin_value` was built with."""
    horizon_days: int
    """The acceptance horizon `products.rebuy_rate` is counted per (`AcceptanceSettings.horizon_days`)."""
    concerns: tuple[str, ...]
    """Every skin concern the catalog targets or a customer has, sorted: bit i of a concern mask is concerns[i]."""
    customers: pl.DataFrame
    """Every customer of the dataset (row = customer_row): the customer columns, `concern_mask`,
    `preferred_tier` (the stated tier preference, else the highest tier owned, else 1), the customer models'
    predictions (`customers.CUSTOMER_MODEL_COLUMNS`) and the segment (`segments.SEGMENT_COLUMNS`)."""
    customer_rows: CustomerIndex
    """Each customer id's row: looking a chunk of ids up here is much cheaper than joining it against every
    customer, once per chunk."""
    products: pl.DataFrame
    """The catalog with `product_key` (row number), `upgrade_key`, `margin_value` (price x margin multiplier),
    `concern_mask`, `essential_bit` (the category's bit in the routine, 0 when not essential),
    `routine_position`, `id_order` (rank of the product id, for tie-breaks), `recent_buyer_share`
    (`holdings.recent_buyer_shares`) and `rebuy_rate` (`holdings.rebuy_rates`, per the acceptance horizon)."""
    holdings: pl.DataFrame
    """(customer_row, product_key, first_purchase, last_purchase, purchase_days, habit) of every product owned on
    `as_of`, sorted by customer row (see `holdings.holdings`)."""
    cross_sells: pl.DataFrame
    """The catalog's cross-sell links as (source_key, product_key, position)."""
    signals: Signals | None
    """Basket rules and item neighbours learned from every customer's purchases up to `as_of`; None when the
    signals are off."""
    ease: EaseModel | None
    """The EASE item-item model fitted on every customer's purchases up to `as_of` (what orders new products, with
    the acceptance model); None when the signals or it are off, or too few products have buyers."""
    customer_models: CustomerModels
    """The BG/NBD and Gamma-Gamma models fitted on every customer's purchases up to `as_of` with the run's
    `customer_models` settings, or why the fallback values are used instead (`customer_models.fallback`)."""
    segments: Segments
    """The customer segments assigned with the run's `segments` settings after the models (their names the
    rule names: a run with a chat model renames a copy), or why there are none (`segments.reason`)."""
    acceptance: AcceptanceModel | None = None
    """The acceptance model trained for this date with the run's `acceptance` settings, or why there is none
    (`AcceptanceModel.fallback_reason`). It is trained on replays of the graph, so the pipeline attaches it
    (`pipeline/acceptance.with_acceptance`); None until then, and offers are ranked by the score."""


def build_snapshot(
    dataset: Dataset, as_of: date, config: OrchestratorConfig, partitions: int = GROUPING_THREADS
) -> Snapshot:
    """Everything a run over `dataset` as of `as_of` derives from the data, with `config`'s essentials, margin
    multipliers, signal, customer-model and segment settings. The purchases are keyed once, then split into
    `partitions` partitions of the customers and grouped (`snapshot_from_parts`: by default as many as are grouped
    at once, to use as many cores; more hold less memory at a time; the same snapshot whatever the count).

    Raises ConfigurationError when the data has more skin concerns than a mask holds, or `partitions` < 1."""
    if partitions < 1:
        raise ConfigurationError(f"partitions must be at least 1, not {partitions}")
    parts = split_by_customer(keyed_ownership(dataset, as_of), dataset.customers.get_column("customer_id"), partitions)

    def one_at_a_time() -> Iterator[pl.DataFrame]:
        while parts:  # each partition's keyed rows let go once grouped
            yield parts.pop(0)

    return snapshot_from_parts(dataset, as_of, config, one_at_a_time())


def snapshot_from_parts(
    dataset: Dataset, as_of: date, config: OrchestratorConfig, keyed_parts: Iterable[pl.DataFrame]
) -> Snapshot:
    """`build_snapshot` from the keyed purchases up to `as_of` of disjoint partitions of `dataset`'s customers
    (`holdings.keyed_ownership` against every customer of `dataset`, so customer rows are the dataset's), read one
    at a time: `dataset` gives the customers and the catalog, its ownership is not read. Each partition is grouped
    on its own, `partitions.GROUPING_THREADS` at a time (`partitions.partition_partials`); the customer models are
    fitted on every customer's summary and the segments assigned from their scores, the signals reduced from every
    partition's counts, and EASE fitted on the holdings meanwhile.

    Raises ConfigurationError when the data has more skin concerns than a mask holds."""
    concerns = _concerns(dataset)
    if len(concerns) > MAX_CONCERNS:
        raise ConfigurationError(f"{len(concerns)} distinct skin concerns; at most {MAX_CONCERNS} are supported")
    settings = config.signals
    products = keyed_products(dataset.products, config.essential_categories, concerns, config.margin_multipliers)
    ids = dataset.customers.get_column("customer_id")
    partials = partition_partials(keyed_parts, dataset.products, as_of, settings)
    owned = by_customer_row([partial.holdings for partial in partials], "customer_row", "product_key")
    # EASE reads only the holdings: fitted in a thread of its own (scipy and numpy, mostly outside the
    # interpreter's lock) while the customer models and the segments are fitted here.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot-ease") as pool:
        ease = pool.submit(fit_ease, owned, products.height, as_of, settings) if settings.enabled else None
        models, predictions, segments, segment_columns = _customer_fits(partials, dataset, as_of, config)
        counts = [partial.signals for partial in partials if partial.signals is not None]
        signals = learn_signals(counts, dataset.products, as_of, settings) if settings.enabled else None
        del partials
        ease_model = ease.result() if ease is not None else None
    return Snapshot(
        as_of=as_of,
        signal_settings=settings,
        essentials=tuple(config.essential_categories),
        margin_multipliers=dict(config.margin_multipliers),
        horizon_days=config.acceptance.horizon_days,
        concerns=concerns,
        customers=_keyed_customers(dataset.customers, owned, products, concerns).with_columns(
            *predictions, *segment_columns
        ),
        customer_rows=CustomerIndex.of(ids),
        products=products.with_columns(
            recent_buyer_shares(owned, products.height, as_of),
            rebuy_rates(owned, products.height, as_of, config.acceptance.horizon_days),  # see `horizon_days`
        ),
        holdings=owned,
        cross_sells=_keyed_cross_sells(dataset.cross_sells, dataset.products),
        signals=signals,
        ease=ease_model,
        customer_models=models,
        segments=segments,
    )


def _customer_fits(
    partials: list[PartitionPartial], dataset: Dataset, as_of: date, config: OrchestratorConfig
) -> tuple[CustomerModels, pl.DataFrame, Segments, pl.DataFrame]:
    """The customer models and their predictions for every customer row, then the segments and their columns,
    from the partitions' summaries and segment totals."""
    models, predictions = customer_predictions(
        by_customer_row([partial.summary for partial in partials], "customer_id"),
        dataset.customers.height,
        given_values(dataset.customers, dataset.given_values),
        config.customer_models,
    )
    segments, segment_columns = customer_segments(
        pl.concat([partial.segment_totals for partial in partials]),
        predictions,
        dataset.customers,
        as_of,
        config.segments,
    )
    return models, predictions, segments, segment_columns


def check_snapshot(snapshot: Snapshot, as_of: date, config: OrchestratorConfig) -> None:
    """Raise ConfigurationError unless `snapshot` was built for `as_of` and `config`'s data settings."""
    if snapshot.as_of != as_of:
        raise ConfigurationError(
            f"the snapshot is as of {snapshot.as_of}, the run as of {as_of}: build one for {as_of}"
        )
    built_with = {
        "essential_categories": snapshot.essentials == tuple(config.essential_categories),
        "margin_multipliers": snapshot.margin_multipliers == config.margin_multipliers,
        "signals": snapshot.signal_settings.model_dump(exclude=OFFER_TIME_SIGNAL_SETTINGS)
        == config.signals.model_dump(exclude=OFFER_TIME_SIGNAL_SETTINGS),
        "customer_models": snapshot.customer_models.settings == config.customer_models,
        "segments": snapshot.segments.settings == config.segments,
        "acceptance": snapshot.horizon_days == config.acceptance.horizon_days
        and (snapshot.acceptance is None or snapshot.acceptance.settings == config.acceptance),
    }
    differ = [name for name, same in built_with.items() if not same]
    if differ:
        raise ConfigurationError(
            f"the snapshot was built with other {', '.join(differ)} than the run's: build one with the run's settings"
        )


def without_signals(snapshot: Snapshot) -> Snapshot:
    """The snapshot as a run with the learned signals off reads it: the same holdings, no signals, no EASE."""
    settings = snapshot.signal_settings.model_copy(update={"enabled": False})
    return replace(snapshot, signal_settings=settings, signals=None, ease=None)


def mask_of(column: str, names: Sequence[str]) -> pl.Expr:
    """A list-of-names column as a UInt64 bit mask over `names` (bit i = names[i]); other names are ignored."""
    bits = {name: 1 << position for position, name in enumerate(names)}
    return (
        pl.col(column)
        .list.eval(pl.element().replace_strict(bits, default=0, return_dtype=pl.UInt64).bitwise_or())
        .list.first()
        .fill_null(0)
        .cast(pl.UInt64)
    )


def keyed_products(
    products: pl.DataFrame, essentials: Sequence[str], concerns: Sequence[str], margin_multipliers: Mapping[str, float]
) -> pl.DataFrame:
    """The catalog with the keys and values the offers read (see `Snapshot.products`)."""
    multiplier = pl.col("margin").replace_strict(dict(margin_multipliers), default=1.0, return_dtype=pl.Float64)
    position = {category: index for index, category in enumerate(essentials)}
    bit = {category: 1 << index for index, category in enumerate(essentials)}
    upgrade_keys = products.select(upgrade_to="product_id").with_row_index("upgrade_key")
    return (
        products.with_row_index("product_key")
        .join(upgrade_keys, on="upgrade_to", how="left", maintain_order="left")
        .with_columns(
            margin_value=pl.col("price") * multiplier,
            concern_mask=mask_of("target_concerns", concerns),
            routine_position=pl.col("category").replace_strict(position, default=None, return_dtype=pl.Int8),
            id_order=pl.col("product_id").rank("ordinal").cast(pl.UInt32),
            essential_bit=pl.col("category").replace_strict(bit, default=0, return_dtype=pl.UInt64),
        )
    )


def _concerns(dataset: Dataset) -> tuple[str, ...]:
    # Distinct in polars: a Python set of every customer's list took 0.08 s at 200,000 customers, polars 0.013 s.
    # Sorted by UTF-8 bytes, which is code point order, as Python sorts.
    named = pl.concat(
        [
            dataset.products.get_column("target_concerns").explode(),
            dataset.customers.get_column("skin_concerns").explode(),
        ]
    )
    return tuple(named.drop_nulls().unique().sort().to_list())


def _keyed_customers(
    customers: pl.DataFrame, owned: pl.DataFrame, products: pl.DataFrame, concerns: Sequence[str]
) -> pl.DataFrame:
    """The customers with `concern_mask` and `preferred_tier` (see `Snapshot.customers`)."""
    tiers = products.get_column("tier").gather(owned.get_column("product_key"))
    highest_owned = (
        owned.select("customer_row")
        .with_columns(tier=tiers)
        .group_by("customer_row")
        .agg(highest_owned_tier=pl.col("tier").max())
    )
    return (
        customers.with_row_index("customer_row")
        .with_columns(concern_mask=mask_of("skin_concerns", concerns))
        .join(highest_owned, on="customer_row", how="left", maintain_order="left")
        .with_columns(
            preferred_tier=pl.coalesce("tier_preference", "highest_owned_tier", pl.lit(1, dtype=pl.Int8)).cast(pl.Int8)
        )
        .drop("customer_row", "highest_owned_tier")
    )


def _keyed_cross_sells(cross_sells: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    product_rows = products.select("product_id").with_row_index("product_key")
    return (
        cross_sells.join(product_rows.rename({"product_key": "source_key"}), on="product_id")
        .join(product_rows.rename({"product_id": "cross_sell_id"}), on="cross_sell_id")
        .select("source_key", "product_key", "position")
    )
