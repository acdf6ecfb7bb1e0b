"""`cross-sell status`: what a run would use (the data, the settings and where each came from) and what the
learned signals and customer models learned, without running the graph."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from cross_sell_upsell.cli.common import (
    EXIT_OK,
    Invocation,
    RunSettings,
    data_options,
    dataset_from_args,
    run_guarded,
    run_settings,
)
from cross_sell_upsell.cli.config_file import settings_in_effect
from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.data.ingest import learned_cycles_note, rows_rejected_summary
from cross_sell_upsell.reporting.strict_json import json_text
from cross_sell_upsell.snapshot.build import Snapshot, build_snapshot


def status_parser(default_data_dir: Path, invocation: Invocation) -> argparse.ArgumentParser:
    """The options of `cross-sell status`: the data options every run takes, and the output format."""
    parser = invocation.parser(
        description="Show what a run would use: the data (source, rows, customers, products, as-of date), every\n"
        "setting in effect and where it came from (default, environment, --config file or flag), and what\n"
        "the learned signals and customer models learned. Runs no analysis.",
        **invocation.epilog("--transactions log.csv --catalog catalog.csv --config rules.toml --as-of 2024-03-01"),
        parents=[data_options(default_data_dir)],
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    return parser


def setting_sources(settings: RunSettings, config_file: Path | None, base_label: str) -> dict[str, dict[str, Any]]:
    """Every setting in effect with its value and where it came from: `flag`, `file <path>`, `base_label` (the
    code-level settings, where they differ from the library's defaults) or `default`."""
    defaults = settings_in_effect(OrchestratorConfig())
    sources = {}
    for key, value in settings_in_effect(settings.config).items():
        if key in settings.from_flags:
            source = "flag"
        elif key in settings.from_file:
            source = f"file {config_file}"
        else:
            source = "default" if value == defaults[key] else base_label
        sources[key] = {"value": value, "source": source}
    return sources


def _data(dataset: Dataset, as_of: date) -> dict[str, Any]:
    dates = dataset.ownership.get_column("purchase_date")
    return {
        "source": dataset.source,
        "as_of": as_of.isoformat(),
        "customers": dataset.customers.height,
        "products": dataset.products.height,
        "purchases": dataset.ownership.height,
        "first_purchase": dates.min(),
        "last_purchase": dates.max(),
        "rows": rows_rejected_summary(dataset) if dataset.rows_read is not None else None,
    }


def _learned(dataset: Dataset, snapshot: Snapshot) -> dict[str, Any]:
    signals = snapshot.signals
    return {
        "signals": None
        if signals is None
        else {
            "baskets": signals.baskets,
            "basket_rules": signals.rules.height,
            "similar_products": signals.neighbours.height,
        },
        "replenishment_cycles": learned_cycles_note(dataset) or "every cycle is the catalog's",
        "customer_models": snapshot.customer_models.as_dict(),
    }


def status(args: argparse.Namespace, base: OrchestratorConfig, base_label: str) -> dict[str, Any]:
    """What a run with these options would use and what it would learn, as plain JSON values (dates and paths
    as text)."""
    settings = run_settings(args, base)
    dataset = dataset_from_args(args, settings.config)
    as_of = args.as_of or date.today()
    snapshot = build_snapshot(dataset, as_of, settings.config)
    report = {
        "data": _data(dataset, as_of),
        "learned": _learned(dataset, snapshot),
        "settings": setting_sources(settings, args.config, base_label),
    }
    return json.loads(json.dumps(report, default=str))


def _text(report: dict[str, Any]) -> str:
    def shown(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    data, learned = report["data"], report["learned"]
    lines = ["data:", *(f"  {key}: {shown(value)}" for key, value in data.items() if key != "rows")]
    if data["rows"] is not None:
        rows = data["rows"]
        reasons = ", ".join(f"{reason} {count:,}" for reason, count in rows["by_reason"].items() if count)
        lines.append(
            f"  rows: {rows['rows_read']:,} read, {rows['rows_used']:,} used, {rows['total']:,} rejected"
            + (f" ({reasons})" if reasons else "")
        )
    lines += ["learned:", *(f"  {key}: {shown(value)}" for key, value in learned.items())]
    lines += ["settings (value, source):"]
    lines += [f"  {key} = {shown(item['value'])}  [{item['source']}]" for key, item in report["settings"].items()]
    return "\n".join(lines) + "\n"


def status_command(args: argparse.Namespace, base: OrchestratorConfig, base_label: str) -> int:
    """Prints the status the parsed options ask for; returns the exit code."""

    def run() -> int:
        report = status(args, base, base_label)
        sys.stdout.write(json_text(report, ensure_ascii=False) if args.format == "json" else _text(report))
        return EXIT_OK

    return run_guarded(run)
