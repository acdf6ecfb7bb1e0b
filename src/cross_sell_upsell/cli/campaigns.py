"""The `--campaigns` option every command shares: reading the retailer's promotions into the run's dataset."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.campaigns import campaigns_note, load_campaigns
from cross_sell_upsell.data.dataset import Dataset
from cross_sell_upsell.data.ingest.tables import table_source


def add_campaigns_option(group: argparse._ArgumentGroup) -> None:
    """`--campaigns PATH`: the retailer's promotions (docs/campaigns.md)."""
    group.add_argument(
        "--campaigns",
        type=table_source,
        default=None,
        metavar="PATH",
        help="campaigns (CSV, JSON or Parquet file, or a database table: duckdb:PATH::TABLE or "
        "postgresql://...::TABLE; campaign_id, name, start_date, end_date, product_id or category, customer_id or "
        "segment, discount, boost) whose covered offers are boosted while they run",
    )


def with_campaigns(
    dataset: Dataset, args: argparse.Namespace, config: OrchestratorConfig, as_of: date, *, quiet: bool = False
) -> Dataset:
    """`dataset` with the campaigns of `--campaigns` running on `as_of` (unchanged without the option); the rows
    left out are a note on stderr unless `quiet`, and an error under `--strict` (an inactive campaign is not)."""
    if getattr(args, "campaigns", None) is None:
        return dataset
    campaigns = load_campaigns(
        args.campaigns,
        dataset.products,
        as_of,
        config.campaigns,
        strict=getattr(args, "strict", False),
        encoding=config.ingest.encoding,
    )
    note = campaigns_note(campaigns)
    if note and not quiet:
        print(f"note: {note}", file=sys.stderr)
    return replace(dataset, campaigns=campaigns)
