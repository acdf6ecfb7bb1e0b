"""An honest backtest: learn from purchases before a cutoff, rank offers, and score them against what each
customer really bought in the days after it.

    python -m cross_sell_upsell.cli.backtest (--transactions PATH --catalog PATH | --dataset completejourney) \
        --cutoff YYYY-MM-DD --horizon-days D --k K [--level product|category] [--format markdown|json]

Every method ranks items for every customer active before the cutoff, from the same training data (the
purchases dated before the cutoff; nothing later is visible to any method):

| method | ranking |
|---|---|
| popularity | products by how many customers bought them |
| buy_again | the customer's own products by the days they bought them on, then the latest purchase |
| catalog_rules | the orchestrator with learned signals off and the documents' weights: catalog rules, routine, cycles |
| basket_rules | products the learned basket rules link to the customer's products, by summed confidence |
| item_knn | products similar to the customer's products, by summed blended similarity |
| orchestrator | the orchestrator's blended ranking, learned signals on |

Each list is split in two: `new` items (never bought by the customer before the cutoff: the cross-sell
question) and `repeat` items (bought before: the replenishment question), and each part is scored against the
customer's purchases of that kind in [cutoff, cutoff + horizon) with `metrics.ranking_metrics`. A user counts
in a split when they were active before the cutoff and bought at least one item of that kind in the horizon.
At `--level category` items are categories: a list keeps each category's first product.

For repeat items two more figures: `flag_precision`, the share of all top-K items listed (over every active
customer) that were bought in the horizon, and `date_error_days`, the mean absolute days between a hit's
predicted date (its due date, or the cutoff when already due) and its first purchase in the horizon, for the
methods that predict dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import polars as pl

from cross_sell_upsell.configuration import OrchestratorConfig, ScoringWeights
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.evaluation.metrics import RANKING_METRICS, ranking_metrics, top_k
from cross_sell_upsell.offers.candidates import learned_offers
from cross_sell_upsell.offers.cohort import select_cohort
from cross_sell_upsell.offers.keys import lookup
from cross_sell_upsell.pipeline.api import analyze_cohort
from cross_sell_upsell.reporting.text import plain_text
from cross_sell_upsell.snapshot.build import Snapshot, build_snapshot, without_signals

METHODS: tuple[str, ...] = ("popularity", "buy_again", "catalog_rules", "basket_rules", "item_knn", "orchestrator")


SPLITS: tuple[str, ...] = ("new", "repeat")


LEVELS: tuple[str, ...] = ("product", "category")


_LIST_SCHEMA: dict[str, pl.DataType] = {
    "user": pl.String(),
    "product_id": pl.String(),
    "rank": pl.UInt32(),
    "due_date": pl.Date(),
}
"""A method's ranked list: one row per (user, product), `due_date` when the method predicts one."""


@dataclass(frozen=True)
class Split:
    """The data before the cutoff and what was bought in the horizon after it."""

    train: Dataset
    """The dataset with only the purchases dated before the cutoff."""
    future: pl.DataFrame
    """(customer_id, product_id, purchase_date) of purchases in [cutoff, cutoff + horizon)."""
    cutoff: date
    horizon_days: int

    @property
    def as_of(self) -> date:
        """The day before the cutoff: the last day whose purchases the methods may see."""
        return self.cutoff - timedelta(days=1)


def temporal_split(dataset: Dataset, cutoff: date, horizon_days: int) -> Split:
    """Splits the purchases at the cutoff. The training dataset holds no purchase from the cutoff on, so no
    signal, cycle or holding can be learned from the future, whatever as-of date a method uses."""
    if horizon_days < 1:
        raise ConfigurationError(f"the horizon must be at least one day, not {horizon_days}")
    purchase_date = pl.col("purchase_date")
    train = replace(dataset, ownership=dataset.ownership.filter(purchase_date < cutoff))
    future = dataset.ownership.filter(
        (purchase_date >= cutoff) & (purchase_date < cutoff + timedelta(days=horizon_days))
    ).select("customer_id", "product_id", "purchase_date")
    return Split(train=train, future=future, cutoff=cutoff, horizon_days=horizon_days)


def _ranked(frame: pl.DataFrame) -> pl.DataFrame:
    """A list in _LIST_SCHEMA from rows in each user's order."""
    if "due_date" not in frame.columns:
        frame = frame.with_columns(due_date=pl.lit(None, dtype=pl.Date))
    return frame.select(
        "user",
        "product_id",
        rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("user"),
        due_date="due_date",
    ).cast(_LIST_SCHEMA)  # type: ignore[arg-type]


def _orchestrator_list(split: Split, config: OrchestratorConfig, snapshot: Snapshot) -> pl.DataFrame:
    """The graph's ranked offers, a bundle standing for its members in their order."""
    offers = analyze_cohort(None, as_of=split.as_of, dataset=split.train, config=config, snapshot=snapshot)
    offers = offers["opportunities"]
    return _ranked(
        offers.sort("customer_id", "rank")
        .select(
            user="customer_id",
            product_id=pl.coalesce("product_ids", pl.concat_list("offer_id")),
            due_date="due_date",
        )
        .explode("product_id")
        .unique(["user", "product_id"], keep="first", maintain_order=True)
    )


def method_lists(
    split: Split, config: OrchestratorConfig, k: int, methods: Sequence[str] = METHODS
) -> dict[str, pl.DataFrame]:
    """The ranked lists of `methods` (see the module docstring) for every customer active before the cutoff.
    Learned sources keep enough offers per customer to fill K new items."""
    unknown = [name for name in methods if name not in METHODS]
    if unknown:
        raise ConfigurationError(f"unknown methods {', '.join(unknown)} (known: {', '.join(METHODS)})")
    # One snapshot serves every method; the learned ones are measured even when the orchestrator's signals are off.
    learning = config.model_copy(update={"signals": config.signals.model_copy(update={"enabled": True})})
    snapshot = build_snapshot(split.train, split.as_of, learning)
    unlearned = without_signals(snapshot)
    cohort = select_cohort(snapshot, None)
    product_ids, id_order = cohort.products.get_column("product_id"), cohort.products.get_column("id_order")
    holdings = cohort.holdings.with_columns(
        user=lookup(cohort.customers.get_column("customer_id"), "customer_key"),
        product_id=lookup(product_ids, "product_key"),
        id_order=lookup(id_order, "product_key"),
    )

    learned_limit = max(k, config.signals.learned_offers)
    builders = {
        "popularity": lambda: _popularity(holdings, k),
        "buy_again": lambda: _ranked(
            holdings.sort("user", "purchase_days", "last_purchase", "id_order", descending=[False, True, True, False])
        ),
        "catalog_rules": lambda: _orchestrator_list(
            split,
            config.model_copy(
                update={"signals": config.signals.model_copy(update={"enabled": False}), "weights": ScoringWeights()}
            ),
            unlearned,
        ),
        "basket_rules": lambda: _learned_list(cohort, cohort.signals.rule_links(), k),
        "item_knn": lambda: _learned_list(cohort, cohort.signals.neighbour_links(), k),
        "orchestrator": lambda: _orchestrator_list(
            split,
            config.model_copy(update={"signals": config.signals.model_copy(update={"learned_offers": learned_limit})}),
            snapshot if config.signals.enabled else unlearned,
        ),
    }
    return {name: builders[name]() for name in methods}


def _popularity(holdings: pl.DataFrame, k: int) -> pl.DataFrame:
    """The K most popular products each user lacks, then the user's own products by popularity; popularity is
    the number of customers who bought the product, ties by product id."""
    buyers = holdings.group_by("product_id").agg(buyers=pl.len(), id_order=pl.col("id_order").first())
    most_owned = int(holdings.group_by("user").len().get_column("len").max() or 0)
    # Enough of the most popular products that every user lacks at least K of them (or all there are).
    popular = buyers.sort(["buyers", "id_order"], descending=[True, False]).head(k + most_owned)
    by_popularity = (["user", "buyers", "id_order"], [False, True, False])
    lacking = (
        holdings.select("user")
        .unique()
        .join(popular, how="cross")
        .join(holdings.select("user", "product_id"), on=["user", "product_id"], how="anti")
        .sort(by_popularity[0], descending=by_popularity[1])
        .group_by("user", maintain_order=True)
        .head(k)
    )
    owned = (
        holdings.select("user", "product_id")
        .join(buyers, on="product_id")
        .sort(by_popularity[0], descending=by_popularity[1])
    )
    return _ranked(pl.concat([lacking, owned]).sort("user", maintain_order=True))


def _learned_list(cohort: Any, links: pl.DataFrame, k: int) -> pl.DataFrame:
    """One learned signal alone: its offers ranked by their evidence."""
    offers = learned_offers(cohort.holdings, links, cohort.products, k)
    return _ranked(
        offers.select(
            user=lookup(cohort.customers.get_column("customer_id"), "customer_key"),
            product_id=lookup(cohort.products.get_column("product_id"), "product_key"),
        )
    )


def _at_level(items: pl.DataFrame, categories: dict[str, str], level: str, keep_first: bool = True) -> pl.DataFrame:
    """Rows with `item`: the product, or its category at the category level (each user's first row of it)."""
    if level == "product":
        return items.with_columns(item=pl.col("product_id"))
    with_category = items.with_columns(item=pl.col("product_id").replace_strict(categories, default=None))
    with_category = with_category.filter(pl.col("item").is_not_null())
    return with_category.unique(["user", "item"], keep="first", maintain_order=True) if keep_first else with_category


def evaluate(split: Split, lists: dict[str, pl.DataFrame], k: int, level: str = "product") -> dict[str, Any]:
    """Every metric of every method, for new and repeat items (see the module docstring)."""
    products = split.train.products
    categories = dict(zip(products.get_column("product_id"), products.get_column("category"), strict=True))
    prices = products.select("product_id", "price")
    active = split.train.ownership.select(user="customer_id", product_id="product_id")
    past = _at_level(active, categories, level, keep_first=False).select("user", "item").unique()
    users = past.select("user").unique()
    bought = _at_level(
        split.future.select(user="customer_id", product_id="product_id", purchase_date="purchase_date"),
        categories,
        level,
        keep_first=False,
    ).join(users, on="user")
    first_bought = bought.group_by("user", "item").agg(bought_on=pl.col("purchase_date").min())
    relevant = {
        "new": first_bought.join(past, on=["user", "item"], how="anti"),
        "repeat": first_bought.join(past, on=["user", "item"], how="semi"),
    }
    result: dict[str, Any] = {"methods": {}}
    for method, ranked in lists.items():
        items = _at_level(ranked.sort("user", "rank"), categories, level).join(users, on="user")
        items = items.join(prices, on="product_id", how="left")
        owned = pl.struct("user", "item").is_in(past.select(pl.struct("user", "item")).to_series().implode())
        scores: dict[str, Any] = {}
        for split_name, in_split in (("new", ~owned), ("repeat", owned)):
            part = items.filter(in_split)
            scores[split_name] = ranking_metrics(part, relevant[split_name], k)
        scores["repeat"].update(_repeat_figures(top_k(items.filter(owned), k), relevant["repeat"], split.cutoff))
        for split_name in SPLITS:
            scores[split_name].pop("users")  # the same for every method: reported once, below
        result["methods"][method] = scores
    result["users"] = {name: relevant[name].get_column("user").n_unique() for name in SPLITS}
    return result


def _repeat_figures(listed: pl.DataFrame, relevant: pl.DataFrame, cutoff: date) -> dict[str, float | None]:
    """flag_precision over every listed item, and date_error_days over the hits with a predicted date."""
    hits = listed.join(relevant, on=["user", "item"])
    dated = hits.filter(pl.col("due_date").is_not_null())
    predicted = pl.max_horizontal("due_date", pl.lit(cutoff))
    days_off = (pl.col("bought_on") - predicted).dt.total_days().abs()
    error = dated.select(days_off.mean()).item() if dated.height else None
    return {
        "flag_precision": hits.height / listed.height if listed.height else 0.0,
        "date_error_days": float(error) if error is not None else None,
    }


def run_backtest(
    dataset: Dataset,
    cutoff: date,
    horizon_days: int,
    k: int,
    level: str = "product",
    config: OrchestratorConfig | None = None,
) -> dict[str, Any]:
    """The backtest of every method on `dataset` (built, for derived customer attributes, as of the day before
    the cutoff). Returns the JSON document of `--format json`."""
    if k < 1:
        raise ConfigurationError(f"K must be at least 1, not {k}")
    if level not in LEVELS:
        raise ConfigurationError(f"level must be one of {', '.join(LEVELS)}, not {level}")
    config = config or OrchestratorConfig()
    split = temporal_split(dataset, cutoff, horizon_days)
    if split.train.ownership.is_empty():
        raise ConfigurationError(f"no purchase before the cutoff {cutoff}: nothing to learn from")
    scores = evaluate(split, method_lists(split, config, k), k, level)
    return {
        "cutoff": cutoff.isoformat(),
        "horizon_days": horizon_days,
        "k": k,
        "level": level,
        "source": dataset.source,
        **scores,
        "weights": config.weights.as_dict(),
        "signals": config.signals.model_dump(),
    }


def _figure(value: float | None, money: bool = False) -> str:
    if value is None:
        return "-"
    return f"${value:,.2f}" if money else f"{value:.4f}"


def render_markdown(result: dict[str, Any]) -> str:
    """The results as markdown tables, one per split; deterministic for the same inputs."""
    lines = [
        (
            f"# Backtest: cutoff {result['cutoff']}, horizon {result['horizon_days']} days, K = {result['k']}, "
            f"level {result['level']}"
        ),
        "",
        f"- **Data:** {plain_text(result['source'])}",
        (
            f"- **Users scored:** {result['users']['new']:,} with a new item bought in the horizon, "
            f"{result['users']['repeat']:,} with a repeat item"
        ),
        "",
    ]
    for split_name in SPLITS:
        extra = ["flag_precision", "date_error_days"] if split_name == "repeat" else []
        header = [*RANKING_METRICS, *extra]
        lines += [
            f"## {split_name.capitalize()} items",
            "",
            "| method | " + " | ".join(header) + " |",
            "|---|" + "---:|" * len(header),
        ]
        for method, scores in result["methods"].items():
            figures = scores[split_name]
            cells = [_figure(figures[name], money=name == "revenue") for name in header]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
