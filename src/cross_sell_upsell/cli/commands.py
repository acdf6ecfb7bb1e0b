"""The `cross-sell` subcommands, which `cli/app.py`'s entry point runs.

They read the chat-model settings from the environment or a `.env` file in the working directory, the sample data
folder `data/tier1` and write under `output/`, both relative to the working directory. Each subcommand is built
by the same parser builder as its script or module, so the options and their checks are the same everywhere.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from dotenv import load_dotenv

from cross_sell_upsell.cli.app import PROG
from cross_sell_upsell.cli.backtest import backtest_command, backtest_parser
from cross_sell_upsell.cli.batch import batch_command, batch_parser
from cross_sell_upsell.cli.common import EXIT_CODES_HELP, CommandParser, Invocation
from cross_sell_upsell.cli.dashboard import dashboard_command, dashboard_parser
from cross_sell_upsell.cli.history import history_command, history_parser
from cross_sell_upsell.cli.models import models_command, models_parser
from cross_sell_upsell.cli.orchestrator import orchestrator_parser, report_command
from cross_sell_upsell.cli.status import status_command, status_parser
from cross_sell_upsell.cli.synth import synth_command, synth_parser
from cross_sell_upsell.configuration import (
    DEFAULT_DATA_DIR,
    DEFAULT_OUTPUT_DIR,
    OrchestratorConfig,
    llm_settings_from_env,
)


def environment_config() -> OrchestratorConfig:
    """The default rules with the chat-model settings from the environment or `./.env`; model answers are
    cached in `output/.llm_cache` unless LLM_CACHE_DIR says otherwise."""
    load_dotenv(Path(".env"))
    return OrchestratorConfig(llm=llm_settings_from_env(cache_dir=DEFAULT_OUTPUT_DIR / ".llm_cache"))


def _report(args: argparse.Namespace) -> int:
    return report_command(args, environment_config(), DEFAULT_OUTPUT_DIR)


def _batch(args: argparse.Namespace) -> int:
    return batch_command(args, environment_config(), DEFAULT_OUTPUT_DIR)


def _status(args: argparse.Namespace) -> int:
    return status_command(args, environment_config(), "environment")


def _history(args: argparse.Namespace) -> int:
    return history_command(args, DEFAULT_OUTPUT_DIR)


def cross_sell_parser() -> argparse.ArgumentParser:
    """The `cross-sell` parser: one subcommand per command, each parsed args carrying its `run` function."""
    parser = CommandParser(
        prog=PROG,
        description="Find, score and explain cross-sell and upsell offers. Run a command with --help for its options.",
        **Invocation(PROG).epilog(
            "customer --customer C001 --as-of 2024-03-01",
            exit_codes=f"{EXIT_CODES_HELP}; 1 (batch) some customers could not be analysed",
        ),
    )
    commands = parser.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")

    def invocation(name: str, summary: str, *aliases: str) -> Invocation:
        return Invocation(
            f"{PROG} {name}", new_parser=partial(commands.add_parser, name, help=summary, aliases=aliases)
        )

    customer = invocation("customer", "one customer's report", "report")
    orchestrator_parser(DEFAULT_DATA_DIR, DEFAULT_OUTPUT_DIR, customer).set_defaults(run=_report)
    batch_parser(DEFAULT_DATA_DIR, DEFAULT_OUTPUT_DIR, invocation("batch", "the weekly batch")).set_defaults(run=_batch)
    backtest = invocation("backtest", "score the offers against later purchases")
    backtest_parser(backtest).set_defaults(run=backtest_command)
    synth_parser(invocation("synth", "write synthetic data")).set_defaults(run=synth_command)
    models = invocation("models", "fit the customer models and score them on a holdout")
    models_parser(models).set_defaults(run=models_command)
    status = invocation("status", "what a run would use and what it learned")
    status_parser(DEFAULT_DATA_DIR, status).set_defaults(run=_status)
    dashboard = invocation("dashboard", "serve the dashboard over a run store")
    dashboard_parser(dashboard).set_defaults(run=dashboard_command)
    history = invocation("history", "the runs recorded in the run store")
    history_parser(DEFAULT_OUTPUT_DIR, history).set_defaults(run=_history)
    return parser
