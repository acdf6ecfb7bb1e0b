"""Do campaigns pay? The backtest's `--campaigns` mode: the orchestrator ranked with and without the campaigns
that run in the horizon, scored on what customers bought in it.

A campaign that runs on any day of the horizon [cutoff, cutoff + horizon) counts as announced on the day before
the cutoff (a retailer plans its promotions ahead), so both lists are made that day from the same snapshot and
differ only by the boost. Compared, per user active before the cutoff who bought anything in the horizon:

- **hit_rate** and **revenue** (prices of the offered products they bought) of the top K, with a paired
  bootstrap interval of the difference (with minus without, `bootstrap.paired_interval`);
- the **take-up** of campaign products: over every (customer, product) pair a campaign makes eligible (a covered
  product for a targeted customer), the share bought in the horizon, for the pairs in the top K and the rest;
  with the retailer's coupon redemptions (`redeemed`: customer_id, product_id bought with a coupon in the
  horizon), the share redeemed too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.campaigns import Campaigns
from cross_sell_upsell.evaluation.backtest import Split, orchestrator_list
from cross_sell_upsell.evaluation.bootstrap import DEFAULT_BOOTSTRAP, BootstrapSettings, paired_interval
from cross_sell_upsell.evaluation.metrics import per_user, top_k, user_metrics
from cross_sell_upsell.snapshot.build import build_snapshot

LISTS: tuple[str, ...] = ("with_campaigns", "without_campaigns")
COMPARED: tuple[str, ...] = ("hit_rate", "revenue")


def announced(campaigns: Campaigns, split: Split) -> Campaigns:
    """The campaigns running on some day of the split's horizon, as if they had started by its as-of date."""
    horizon_end = split.cutoff + timedelta(days=split.horizon_days - 1)
    rows = campaigns.rows.filter((pl.col("start_date") <= horizon_end) & (pl.col("end_date") >= split.cutoff))
    return replace(campaigns, rows=rows.with_columns(start_date=pl.min_horizontal("start_date", pl.lit(split.as_of))))


def campaign_lists(split: Split, campaigns: Campaigns, config: OrchestratorConfig, k: int) -> dict[str, pl.DataFrame]:
    """The orchestrator's ranked lists (user, product_id, due_date, rank) with and without the campaigns."""
    config = config.model_copy(
        update={"signals": config.signals.model_copy(update={"learned_offers": max(k, config.signals.learned_offers)})}
    )
    snapshot = build_snapshot(split.train, split.as_of, config)
    with_campaigns = replace(split, train=replace(split.train, campaigns=announced(campaigns, split)))
    return {
        "with_campaigns": orchestrator_list(with_campaigns, config, snapshot),
        "without_campaigns": orchestrator_list(split, config, snapshot),
    }


@dataclass(frozen=True)
class Eligibility:
    """Which (customer, product) pairs the campaigns make eligible, kept as its two sides: a customer and a product
    make a pair when some campaign targets the one and covers the other. A horizon's campaigns can make tens of
    millions of pairs (a campaign of 20,000 products sent to 1,500 households), so they are counted, not listed."""

    items: pl.DataFrame
    """(campaign_id, product_id): the products each campaign covers, categories expanded."""
    audience: pl.DataFrame
    """(campaign_id, customer_id): the customers each campaign targets."""

    def pairs_in(self, pairs: pl.DataFrame) -> pl.DataFrame:
        """The distinct (customer_id, product_id) of `pairs` that are eligible."""
        return (
            pairs.select("customer_id", "product_id")
            .unique()
            .join(self.audience, on="customer_id")
            .join(self.items, on=["campaign_id", "product_id"], how="semi")
            .select("customer_id", "product_id")
            .unique()
        )

    def count(self) -> int:
        """Eligible pairs: per customer, the products of the campaigns that target them, counted once; customers
        targeted by the same campaigns are counted together."""
        sets = self.audience.group_by("customer_id").agg(pl.col("campaign_id").unique().sort().alias("set"))
        sizes = (
            sets.group_by("set")
            .agg(customers=pl.len())
            .with_row_index("set_id")
            .explode("set")
            .join(self.items, left_on="set", right_on="campaign_id")
            .group_by("set_id", "customers")
            .agg(products=pl.col("product_id").n_unique())
        )
        return int(sizes.select((pl.col("customers") * pl.col("products")).sum()).item() or 0)


def eligibility(campaigns: Campaigns, products: pl.DataFrame, customers: pl.DataFrame) -> Eligibility:
    """The pairs the campaigns make eligible: covered products (categories expanded through the catalog
    `products`) for targeted customers (ids, or segments of `customers`: customer_id, segment; everyone in
    `customers` when a campaign names no target)."""
    rows = campaigns.rows
    items = pl.concat(
        [
            rows.filter(pl.col("product_id").is_not_null()).select("campaign_id", "product_id"),
            rows.filter(pl.col("product_id").is_null() & pl.col("category").is_not_null())
            .select("campaign_id", "category")
            .join(products.select("product_id", "category"), on="category")
            .select("campaign_id", "product_id"),
        ]
    ).unique()
    by_id = rows.filter(pl.col("customer_id").is_not_null()).select("campaign_id", "customer_id")
    by_segment = (
        rows.filter(pl.col("segment").is_not_null())
        .select("campaign_id", segment=pl.col("segment").str.to_lowercase())
        .join(customers.select("customer_id", segment=pl.col("segment").str.to_lowercase()), on="segment")
        .select("campaign_id", "customer_id")
    )
    targeted = pl.concat([by_id, by_segment]).unique()
    untargeted = (
        items.select("campaign_id")
        .unique()
        .join(targeted.select("campaign_id").unique(), on="campaign_id", how="anti")
        .join(customers.select("customer_id"), how="cross")
    )
    audience = pl.concat([targeted, untargeted]).join(customers.select("customer_id"), on="customer_id", how="semi")
    return Eligibility(items, audience.unique())


def take_up(
    eligible: Eligibility, listed: pl.DataFrame, bought: pl.DataFrame, k: int, redeemed: pl.DataFrame | None
) -> dict[str, Any]:
    """Eligible pairs in the top K of `listed` (user, product_id, rank) and not, and the share of each bought
    (`bought`: customer_id, product_id) and, with `redeemed`, redeemed in the horizon."""
    offered = eligible.pairs_in(top_k(listed, k).select(customer_id="user", product_id="product_id"))
    total = eligible.count()
    outcomes = {"bought": bought} | ({"redeemed": redeemed} if redeemed is not None else {})
    figures: dict[str, Any] = {"eligible_pairs": total, "offered_pairs": offered.height}
    for outcome, frame in outcomes.items():
        done = eligible.pairs_in(frame)
        done_offered = done.join(offered, on=["customer_id", "product_id"]).height
        rest = total - offered.height
        figures[outcome] = {
            "offered": done_offered,
            "not_offered": done.height - done_offered,
            "offered_rate": done_offered / offered.height if offered.height else None,
            "not_offered_rate": (done.height - done_offered) / rest if rest else None,
        }
    return figures


def run_campaign_backtest(
    split: Split,
    campaigns: Campaigns,
    k: int,
    config: OrchestratorConfig,
    redeemed: pl.DataFrame | None = None,
    bootstrap: BootstrapSettings = DEFAULT_BOOTSTRAP,
) -> dict[str, Any]:
    """The `--campaigns` backtest document (see the module docstring): per list the summed figures, the paired
    intervals of with minus without, and the take-up of campaign products."""
    lists = campaign_lists(split, campaigns, config, k)
    active = split.train.ownership.select(user="customer_id").unique()
    relevant = split.future.select(user="customer_id", item="product_id").unique().join(active, on="user", how="semi")
    prices = split.train.products.select("product_id", "price")
    users = {
        name: user_metrics(
            per_user(listed.join(prices, on="product_id", how="left").with_columns(item="product_id"), relevant, k), k
        )
        for name, listed in lists.items()
    }
    paired = users["with_campaigns"].join(users["without_campaigns"], on="user", suffix="_without").sort("user")
    running = announced(campaigns, split)
    customers = split.train.customers.select("customer_id", "segment").join(
        active.rename({"user": "customer_id"}), on="customer_id", how="semi"
    )
    eligible = eligibility(running, split.train.products, customers)
    bought = split.future.select("customer_id", "product_id")
    return {
        "cutoff": split.cutoff.isoformat(),
        "horizon_days": split.horizon_days,
        "k": k,
        "source": split.train.source,
        "campaigns": sorted(running.rows.get_column("campaign_id").unique().to_list()),
        "users": paired.height,
        "lists": {
            name: {"hit_rate": frame.get_column("hit_rate").mean(), "revenue": frame.get_column("revenue").sum()}
            for name, frame in users.items()
        },
        "with_minus_without": {
            metric: paired_interval((paired[metric] - paired[f"{metric}_without"]).to_numpy(), bootstrap)
            for metric in COMPARED
        },
        "take_up": {name: take_up(eligible, listed, bought, k, redeemed) for name, listed in lists.items()},
        "bootstrap": {"resamples": bootstrap.resamples, "seed": bootstrap.seed, "confidence": bootstrap.confidence},
    }


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def render_campaign_markdown(result: dict[str, Any]) -> str:
    """The `--campaigns` backtest as markdown; deterministic for the same inputs."""
    lines = [
        f"# Campaign backtest: cutoff {result['cutoff']}, horizon {result['horizon_days']} days, K = {result['k']}",
        "",
        f"- **Data:** {result['source']}",
        f"- **Campaigns running in the horizon:** {', '.join(result['campaigns']) or 'none'}",
        f"- **Users scored:** {result['users']:,} active before the cutoff who bought in the horizon",
        "",
        "| list | hit_rate | revenue |",
        "|---|---:|---:|",
        *[
            f"| {name} | {figures['hit_rate']:.4f} | ${figures['revenue']:,.2f} |"
            for name, figures in result["lists"].items()
        ],
        "",
        (
            f"With minus without, per user ({result['bootstrap']['confidence']:.0%} paired bootstrap, "
            f"{result['bootstrap']['resamples']:,} resamples, seed {result['bootstrap']['seed']}):"
        ),
        "",
        "| metric | mean difference | interval | better / worse |",
        "|---|---:|---|---:|",
    ]
    for metric, figure in result["with_minus_without"].items():
        lines.append(
            f"| {metric} | {figure['difference']:+.4f} | [{figure['low']:+.4f}, {figure['high']:+.4f}] "
            f"| {figure['better']:,} / {figure['worse']:,} |"
        )
    lines += ["", "| list | eligible pairs | in top K | outcome | offered | rate | not offered | rate |"]
    lines += ["|---|---:|---:|---|---:|---:|---:|---:|"]
    for name, figures in result["take_up"].items():
        for outcome in ("bought", "redeemed"):
            if outcome in figures:
                row = figures[outcome]
                lines.append(
                    f"| {name} | {figures['eligible_pairs']:,} | {figures['offered_pairs']:,} | {outcome} "
                    f"| {row['offered']:,} | {_rate(row['offered_rate'])} | {row['not_offered']:,} "
                    f"| {_rate(row['not_offered_rate'])} |"
                )
    return "\n".join([*lines, ""])
