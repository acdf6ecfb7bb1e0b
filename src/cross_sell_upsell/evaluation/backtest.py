"""An honest backtest: learn from purchases before a cutoff, rank offers, and score them against what each
customer really bought in the days after it.

    python -m cross_sell_upsell.cli.backtest (--transactions PATH --catalog PATH | --dataset completejourney) \
        --cutoff YYYY-MM-DD --horizon-days D --k K [--level product|category] [--format markdown|json]

Every method ranks items for every customer active before the cutoff, from the same training data (the
purchases dated before the cutoff; nothing later is visible to any method):

| method | ranking |
|---|---|
| popularity | products by how many customers bought them |
| recent_popularity | products by how many customers bought them in the 8 weeks before the cutoff |
| buy_again | the customer's own products by the days they bought them on, then the latest purchase |
| basket_buy_again | the customer's own products by the baskets holding them, then the latest purchase |
| tifu_knn | TIFU-KNN: time-decayed personal item frequency blended with the nearest customers' |
| sar | SAR: time-decayed affinity times the items' Jaccard similarity |
| catalog_rules | the orchestrator with learned signals off and the documents' weights: catalog rules, routine, cycles |
| basket_rules | products the learned basket rules link to the customer's products, by summed confidence |
| item_knn | products similar to the customer's products, by summed blended similarity |
| orchestrator | the orchestrator's blended ranking, learned signals on |

Each list is split in two: `new` items (never bought by the customer before the cutoff: the cross-sell
question) and `repeat` items (bought before: the replenishment question), and each part is scored against the
customer's purchases of that kind in [cutoff, cutoff + horizon) with `metrics.ranking_metrics`. A user counts
in a split when they were active before the cutoff and bought at least one item of that kind in the horizon.
At `--level category` items are categories: a list keeps each category's first product.

The baselines outside the orchestrator are in `baselines.py`. For repeat items two more figures: `flag_precision`, the share of all top-K items listed (over every active
customer) that were bought in the horizon, and `date_error_days`, the mean absolute days between a hit's
predicted date (its due date, or the cutoff when already due) and its first purchase in the horizon, for the
methods that predict dates. Every method but the orchestrator also gets `vs_orchestrator`: the paired
bootstrap interval (`bootstrap.py`) of the orchestrator's per-user lead on new-item NDCG and repeat precision.
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
from cross_sell_upsell.evaluation.baselines import basket_buy_again, popularity, sar, tifu_knn
from cross_sell_upsell.evaluation.bootstrap import (
    DEFAULT_BOOTSTRAP,
    HEADLINE,
    REFERENCE,
    BootstrapSettings,
    versus_reference,
)
from cross_sell_upsell.evaluation.calibration import calibration
from cross_sell_upsell.evaluation.lists import ranked
from cross_sell_upsell.evaluation.metrics import RANKING_METRICS, per_user, summarize, top_k, user_metrics
from cross_sell_upsell.features.holdings import RECENT_DAYS
from cross_sell_upsell.offers.cohort import select_cohort
from cross_sell_upsell.offers.keys import lookup
from cross_sell_upsell.offers.learned import learned_offers
from cross_sell_upsell.pipeline.api import analyze_cohort
from cross_sell_upsell.reporting.text import plain_text
from cross_sell_upsell.snapshot.build import Snapshot, build_snapshot, without_signals

METHODS: tuple[str, ...] = (
    "popularity",
    "recent_popularity",
    "buy_again",
    "basket_buy_again",
    "tifu_knn",
    "sar",
    "catalog_rules",
    "basket_rules",
    "item_knn",
    "orchestrator",
)


SPLITS: tuple[str, ...] = ("new", "repeat")


LEVELS: tuple[str, ...] = ("product", "category")


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


def orchestrator_list(
    split: Split, config: OrchestratorConfig, snapshot: Snapshot, kept: dict[str, pl.DataFrame] | None = None
) -> pl.DataFrame:
    """The graph's ranked offers, a bundle standing for its members in their order; the offers themselves go to
    `kept["offers"]` when `kept` is given."""
    offers = analyze_cohort(None, as_of=split.as_of, dataset=split.train, config=config, snapshot=snapshot)
    offers = offers["opportunities"]
    if kept is not None:
        kept["offers"] = offers
    return ranked(
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
    split: Split,
    config: OrchestratorConfig,
    k: int,
    methods: Sequence[str] = METHODS,
    kept: dict[str, pl.DataFrame] | None = None,
) -> dict[str, pl.DataFrame]:
    """The ranked lists of `methods` (see the module docstring) for every customer active before the cutoff.
    Learned sources keep enough offers per customer to fill K new items. The orchestrator's offers themselves
    (with their acceptance probabilities, for the calibration) go to `kept["offers"]` when `kept` is given.
    `catalog_rules` is the orchestrator before it learned anything: no signals, the documents' weights and no
    acceptance model."""
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
    purchases = split.train.ownership
    builders = {
        "popularity": lambda: popularity(purchases, k),
        "recent_popularity": lambda: popularity(purchases, k, since=split.cutoff - timedelta(days=RECENT_DAYS)),
        "buy_again": lambda: ranked(
            holdings.sort("user", "purchase_days", "last_purchase", "id_order", descending=[False, True, True, False])
        ),
        "basket_buy_again": lambda: basket_buy_again(purchases),
        "tifu_knn": lambda: tifu_knn(purchases, k),
        "sar": lambda: sar(purchases, split.as_of, k),
        "catalog_rules": lambda: orchestrator_list(
            split,
            config.model_copy(
                update={
                    "signals": config.signals.model_copy(update={"enabled": False}),
                    "weights": ScoringWeights(),
                    "acceptance": config.acceptance.model_copy(update={"enabled": False}),
                }
            ),
            unlearned,
        ),
        "basket_rules": lambda: _learned_list(cohort, cohort.signals.rule_links(), k),
        "item_knn": lambda: _learned_list(cohort, cohort.signals.neighbour_links(), k),
        "orchestrator": lambda: orchestrator_list(
            split,
            config.model_copy(update={"signals": config.signals.model_copy(update={"learned_offers": learned_limit})}),
            snapshot if config.signals.enabled else unlearned,
            kept,
        ),
    }
    return {name: builders[name]() for name in methods}


def _learned_list(cohort: Any, links: pl.DataFrame, k: int) -> pl.DataFrame:
    """One learned signal alone: its offers ranked by their evidence."""
    offers = learned_offers(cohort.holdings, links, cohort.products, k)
    return ranked(
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


def evaluate(
    split: Split,
    lists: dict[str, pl.DataFrame],
    k: int,
    level: str = "product",
    bootstrap: BootstrapSettings = DEFAULT_BOOTSTRAP,
) -> dict[str, Any]:
    """Every metric of every method, for new and repeat items, and each method's paired bootstrap interval of
    the orchestrator's lead on the HEADLINE metrics (`vs_orchestrator`; see the module docstring)."""
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
    scored: dict[str, dict[str, pl.DataFrame]] = {}
    for method, ranked_items in lists.items():
        items = _at_level(ranked_items.sort("user", "rank"), categories, level).join(users, on="user")
        items = items.join(prices, on="product_id", how="left")
        owned = pl.struct("user", "item").is_in(past.select(pl.struct("user", "item")).to_series().implode())
        parts = {"new": items.filter(~owned), "repeat": items.filter(owned)}
        scored[method] = {name: user_metrics(per_user(parts[name], relevant[name], k), k) for name in SPLITS}
        scores = {name: summarize(scored[method][name]) for name in SPLITS}
        for name in SPLITS:
            scores[name].pop("users")  # the same for every method: reported once, below
        scores["repeat"].update(_repeat_figures(top_k(parts["repeat"], k), relevant["repeat"], split.cutoff))
        result["methods"][method] = scores
    for method, intervals in versus_reference(scored, bootstrap).items():
        result["methods"][method][f"vs_{REFERENCE}"] = intervals
    result["users"] = {name: relevant[name].get_column("user").n_unique() for name in SPLITS}
    result["bootstrap"] = {
        "reference": REFERENCE,
        "metrics": [f"{name}.{metric}" for name, metric in HEADLINE],
        "resamples": bootstrap.resamples,
        "seed": bootstrap.seed,
        "confidence": bootstrap.confidence,
    }
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
    the cutoff), and the calibration of the orchestrator's acceptance model (`calibration.calibration`) over each
    customer's top K offers. Returns the JSON document of `--format json`."""
    if k < 1:
        raise ConfigurationError(f"K must be at least 1, not {k}")
    if level not in LEVELS:
        raise ConfigurationError(f"level must be one of {', '.join(LEVELS)}, not {level}")
    config = config or OrchestratorConfig()
    split = temporal_split(dataset, cutoff, horizon_days)
    if split.train.ownership.is_empty():
        raise ConfigurationError(f"no purchase before the cutoff {cutoff}: nothing to learn from")
    kept: dict[str, pl.DataFrame] = {}
    scores = evaluate(split, method_lists(split, config, k, kept=kept), k, level)
    bought = split.future.select("customer_id", "product_id")
    return {
        "calibration": calibration(kept["offers"], bought, split.train.products, k),
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
    """The results as markdown tables, one per split, then the bootstrap intervals; deterministic for the same
    inputs."""
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
    return "\n".join(lines + _bootstrap_lines(result) + _calibration_lines(result))


def _calibration_lines(result: dict[str, Any]) -> list[str]:
    """The acceptance model's calibration: expected against realised revenue, then the deciles."""
    figures = result.get("calibration")
    if figures is None:
        return []
    lines = [
        "## Calibration of the acceptance model",
        "",
        (
            f"Over each customer's top {result['k']} offers ({figures['offers']:,} offers): expected revenue "
            f"{_figure(figures['expected_revenue'], money=True)}, realised {_figure(figures['realised_revenue'], money=True)}"
            f" (realised / expected {_figure(figures['realised_over_expected'])}); mean predicted probability "
            f"{_figure(figures['mean_predicted'])}, observed rate {_figure(figures['observed_rate'])}."
        ),
        "",
    ]
    if not figures["deciles"]:
        return [*lines, "No acceptance probabilities: the model fell back to the weighted score.", ""]
    lines += ["| decile | offers | predicted | observed |", "|---:|---:|---:|---:|"]
    lines += [
        f"| {row['decile']} | {row['offers']:,} | {row['mean_predicted']:.4f} | {row['observed_rate']:.4f} |"
        for row in figures["deciles"]
    ]
    return [*lines, ""]


def _bootstrap_lines(result: dict[str, Any]) -> list[str]:
    """The table of each method's `vs_orchestrator` intervals; none when the orchestrator was not run."""
    key, settings = f"vs_{REFERENCE}", result["bootstrap"]
    compared = {method: scores[key] for method, scores in result["methods"].items() if key in scores}
    if not compared:
        return []
    lines = [
        f"## {REFERENCE.capitalize()} minus each method",
        "",
        (
            f"Per user, the {REFERENCE}'s figure minus the method's: the mean, its "
            f"{settings['confidence']:.0%} paired bootstrap interval ({settings['resamples']:,} resamples of the "
            f"users, seed {settings['seed']}) and how many users the {REFERENCE} does better / worse for."
        ),
        "",
        "| method | "
        + " | ".join(f"{split} {metric}: difference | interval | better / worse" for split, metric in HEADLINE)
        + " |",
        "|---|" + "---:|---|---:|" * len(HEADLINE),
    ]
    for method, intervals in compared.items():
        cells = []
        for split_name, metric in HEADLINE:
            figure = intervals[split_name][metric]
            cells += [
                f"{figure['difference']:+.4f}",
                f"[{figure['low']:+.4f}, {figure['high']:+.4f}]",
                f"{figure['better']:,} / {figure['worse']:,}",
            ]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return [*lines, ""]
