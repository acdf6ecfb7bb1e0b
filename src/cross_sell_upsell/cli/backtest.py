"""`python -m cross_sell_upsell.cli.backtest`: the backtest from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from cross_sell_upsell.cli.campaigns import add_campaigns_option
from cross_sell_upsell.cli.common import (
    EXIT_OK,
    DataSource,
    Invocation,
    add_config_option,
    add_dataset_option,
    add_log_options,
    column_option,
    data_source,
    emit,
    iso_date,
    positive_int,
    run_guarded,
)
from cross_sell_upsell.cli.config_file import config_from_file
from cross_sell_upsell.cli.shop_options import ingest_settings
from cross_sell_upsell.configuration import OrchestratorConfig, ScoringWeights, SignalSettings
from cross_sell_upsell.data.campaigns import load_campaigns
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.data.ingest import load_transactions_dataset
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.evaluation.backtest import (
    LEVELS,
    render_markdown,
    run_backtest,
    temporal_split,
)
from cross_sell_upsell.evaluation.campaigns import render_campaign_markdown, run_campaign_backtest
from cross_sell_upsell.reporting.strict_json import json_text


def _assignment(text: str) -> tuple[str, float]:
    name, value = column_option(text)
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=NUMBER") from None


MODULE = Invocation("python -m cross_sell_upsell.cli.backtest")
"""How the module is started on its own."""


def backtest_parser(invocation: Invocation = MODULE) -> argparse.ArgumentParser:
    """The options of the backtest, for `python -m` or the `cross-sell backtest` subcommand."""
    parse = invocation.parser(
        description="Backtest the offers against what customers really bought after a cutoff date.",
        **invocation.epilog("--dataset completejourney --cutoff 2017-10-01 --horizon-days 28 --k 10"),
    )
    data = parse.add_argument_group("data (--transactions with its --catalog, or --dataset)")
    add_dataset_option(data)
    add_log_options(data, alternative="--dataset")
    run = parse.add_argument_group("backtest")
    run.add_argument("--cutoff", type=iso_date, required=True, help="first day of the horizon, YYYY-MM-DD")
    run.add_argument("--horizon-days", type=positive_int, required=True, help="days after the cutoff that are scored")
    run.add_argument("--k", type=positive_int, required=True, help="items per customer that are scored")
    run.add_argument("--level", choices=LEVELS, default="product", help="score products or categories")
    run.add_argument(
        "--weight",
        type=_assignment,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"a score weight for this run (repeatable); names: {', '.join(ScoringWeights.model_fields)}",
    )
    run.add_argument(
        "--signal",
        type=_assignment,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a learned-signal setting for this run (repeatable), e.g. min_support=0.001",
    )
    add_config_option(run)
    add_campaigns_option(run)
    output = parse.add_argument_group("output")
    output.add_argument("--format", choices=["markdown", "json"], default="markdown")
    output.add_argument("--output", type=Path, help="write the results here (atomically) instead of stdout")
    return parse


def _config(args: argparse.Namespace) -> OrchestratorConfig:
    from cross_sell_upsell.data.completejourney import grocery_config

    config = grocery_config() if args.dataset == "completejourney" else OrchestratorConfig()
    if args.config is not None:
        config, _ = config_from_file(args.config, config)
    try:
        weights = config.weights.model_validate({**config.weights.as_dict(), **dict(args.weight)})
        signals = SignalSettings.model_validate({**config.signals.model_dump(), **dict(args.signal)})
    except ValueError as exc:
        first = str(exc).splitlines()
        raise ConfigurationError(f"--weight/--signal: {' '.join(first[1:3]).strip() or first[0]}") from None
    return config.model_copy(update={"weights": weights, "signals": signals})


def _dataset(args: argparse.Namespace, source: DataSource, config: OrchestratorConfig) -> Dataset:
    if source == "dataset":
        from cross_sell_upsell.data.completejourney import load_before

        return load_before(args.cutoff, config)
    settings = ingest_settings(args, config.ingest)
    return load_transactions_dataset(
        args.transactions, args.catalog, args.customers_file, as_of=args.cutoff - timedelta(days=1), settings=settings
    )


def _campaign_backtest(
    args: argparse.Namespace, source: DataSource, dataset: Dataset, config: OrchestratorConfig
) -> dict[str, Any]:
    """The `--campaigns` mode: the campaigns running in the horizon, with Complete Journey's coupon redemptions."""
    split = temporal_split(dataset, args.cutoff, args.horizon_days)
    horizon_end = args.cutoff + timedelta(days=args.horizon_days)
    campaigns = load_campaigns(
        args.campaigns,
        dataset.products,
        split.as_of,
        config.campaigns,
        encoding=config.ingest.encoding,
        through=horizon_end - timedelta(days=1),
    )
    redeemed = None
    if source == "dataset":
        from cross_sell_upsell.data.completejourney import coupon_purchases

        redeemed = coupon_purchases(args.cutoff, horizon_end)
    result = run_campaign_backtest(split, campaigns, args.k, config, redeemed)
    return {**result, "campaign_rows": campaigns.summary()}


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m cross_sell_upsell.cli.backtest`."""
    return backtest_command(backtest_parser().parse_args(argv))


def backtest_command(args: argparse.Namespace) -> int:
    """Runs the backtest the parsed options ask for and prints or writes its results; returns the exit code."""

    def run() -> int:
        source = data_source(args)
        config = _config(args)
        dataset = _dataset(args, source, config)
        if args.campaigns is not None:
            result, render = _campaign_backtest(args, source, dataset, config), render_campaign_markdown
        else:
            result = run_backtest(dataset, args.cutoff, args.horizon_days, args.k, args.level, config)
            render = render_markdown
        text = json_text(result) if args.format == "json" else render(result)
        emit(text, args.output)
        return EXIT_OK

    return run_guarded(run)


if __name__ == "__main__":
    sys.exit(main())
