"""One offer per need: which of a customer's scored offers are made, in what order, and which a bundle covers.

A routine step (an essential category) is one need. A customer gets at most one single-product offer for it,
the best-ranked of its candidates:

- a step the customer already covers: a restock or an upgrade; other products of that category are
  alternatives to what they use, so they are not offered beside it as cross-sells;
- a missing step the customer's bundle covers: only the bundle's own product for it, so a product shown on its
  own never contradicts the bundle;
- any other missing step: the best of its candidates (the routine's pick, or a cross-sell of that category).

Outside the routine (every category of a grocer's, which has none) a shopper may buy several products of one
category, so a category gets at most `config.offers_per_category` offers (restocks, upgrades, cross-sells),
best-ranked first. Bundles are always kept.

An offer a bundle covers (its product for a step) never leads: when it ranks above its bundle, it moves to
just after it. Ranks are renumbered from 1.
"""

from __future__ import annotations

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.offers.keys import customer_product_key, lookup, position_within, rank_in_runs

_CROSS_SELL = "product_cross_sell"


def bundle_steps(bundles: pl.DataFrame, products: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Per customer with a bundle, `bundle_mask`: the essential bits of the steps its members fill; and the
    members of every bundle as packed customer-product keys (one set: a packed key names its customer)."""
    members = bundles.select("customer_key", product_key="bundle_keys").explode("product_key")
    masks = members.group_by("customer_key", maintain_order=True).agg(
        bundle_mask=lookup(products.get_column("essential_bit"), "product_key").bitwise_or()
    )
    return masks, members.select(customer_product_key()).to_series()


def one_offer_per_need(
    scored: pl.DataFrame, bundles: pl.DataFrame, products: pl.DataFrame, config: OrchestratorConfig
) -> pl.DataFrame:
    """The offers made, from scored offers in customer and rank order (`scoring.score_offers`), renumbered and
    with `covered_by_bundle` (a single offer for a step the customer's bundle fills). See the module docstring.
    `bundles` are the cohort's bundle candidates (`candidates.bundle_offers`, with `bundle_keys`)."""
    # Decided on the few key columns; the wide frame is gathered once, in the final order.
    frame = (
        scored.select("customer_key", "type", "product_key", "essential_bit", "fills_missing_essential", "rank")
        .with_columns(**_need_columns(scored, bundles, products))
        .with_row_index("row")
        .filter("needed")
    )
    order = _renumbered(frame.filter(_kept(frame, products, config)))
    return scored[order.get_column("row")].with_columns(
        pl.col("customer_key").set_sorted(), order.get_column("covered_by_bundle"), order.get_column("rank")
    )


def _need_columns(scored: pl.DataFrame, bundles: pl.DataFrame, products: pl.DataFrame) -> dict[str, pl.Expr]:
    """`covered_by_bundle` and `needed` over `scored`: whether a need may take the offer whatever its rank (not a
    product of a step the bundle fills other than the bundle's own, nor a cross-sell of an essential step the
    customer covers)."""
    masks, members = bundle_steps(bundles, products)
    # The bundles' masks by customer key (a gather, not a join): customer keys are row numbers of the cohort.
    size = max(scored.get_column("customer_key").max() or 0, masks.get_column("customer_key").max() or 0) + 1
    by_customer = pl.zeros(size, pl.UInt64, eager=True).scatter(
        masks.get_column("customer_key"), masks.get_column("bundle_mask").fill_null(0)
    )
    single = pl.col("type") != "bundle"
    essential = single & (pl.col("essential_bit") != 0)
    covered = single & (pl.col("essential_bit") & lookup(by_customer, "customer_key") != 0)
    needed = ~(covered & ~customer_product_key().is_in(members.implode())) & ~(
        essential & ~pl.col("fills_missing_essential") & (pl.col("type") == _CROSS_SELL)
    )
    return {"covered_by_bundle": covered, "needed": needed}


def without_unneeded(scored: pl.DataFrame, bundles: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """`scored` without the offers `one_offer_per_need` drops whatever their rank (`_need_columns`), in order: what
    it makes of the rest is what it makes of all, so later steps (the acceptance model's prediction, the ranking)
    can skip them. The ranks keep their gaps: only their order counts."""
    return scored.filter(_need_columns(scored, bundles, products)["needed"])


def _kept(frame: pl.DataFrame, products: pl.DataFrame, config: OrchestratorConfig) -> pl.Expr:
    """Bundles, the first offer of each (customer, essential step), and the first `offers_per_category` restocks
    and the first `offers_per_category` other offers of each (customer, other category), over rows in customer and
    rank order. Positions are counted within packed (customer, category) keys: a stable sort, no hashing."""
    # Categories numbered once per catalog, so (customer, category) packs into one integer key. A step is one
    # category (its bit is the category's).
    codes = products.select(pl.col("category").rank("dense").cast(pl.UInt64)).to_series()
    category = frame.select(
        pl.col("customer_key").cast(pl.UInt64) * (1 << 32) + lookup(codes, "product_key")
    ).to_series()
    essential = pl.col("essential_bit") != 0
    first_for_step = pl.lit(position_within(category)) == 0
    if config.offers_per_category is None:
        within_cap = pl.lit(True)
    else:
        # Restocks and new products are capped apart: ranked by acceptance, a household's likelier restocks would
        # otherwise fill its categories and leave no room for anything new (docs/backtest.md).
        restock = frame.select((pl.col("type") == "replenishment").cast(pl.UInt64)).to_series()
        kind = position_within(category * 2 + restock)
        within_cap = pl.lit(kind) < config.offers_per_category
    return (pl.col("type") == "bundle") | pl.when(essential).then(first_for_step).otherwise(within_cap)


def _renumbered(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame`'s `row`, `covered_by_bundle` and `rank` in the new order: a covered offer ranked above its bundle
    moves to just after it; ranks run from 1 again."""
    bundle_ranks = (
        frame.filter(pl.col("type") == "bundle").group_by("customer_key").agg(bundle_rank=pl.col("rank").min())
    )
    placed = frame.select("customer_key", "row", "covered_by_bundle", "rank").join(
        bundle_ranks, on="customer_key", how="left", maintain_order="left"
    )
    place = pl.when(pl.col("covered_by_bundle")).then(pl.max_horizontal("rank", "bundle_rank")).otherwise("rank")
    order = placed.select(
        pl.arg_sort_by(["customer_key", place, "covered_by_bundle", "rank"], maintain_order=True)
    ).to_series()
    return placed[order].select("row", "covered_by_bundle", rank=rank_in_runs())
