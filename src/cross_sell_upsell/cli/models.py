"""`python -m cross_sell_upsell.models`: fits the customer models on the purchases before an as-of date and
prints their parameters and diagnostics, and with `--holdout-days` how well they predicted the days after it."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from cross_sell_upsell.cli.common import (
    EXIT_OK,
    Invocation,
    add_dataset_option,
    add_log_options,
    add_reading_options,
    data_source,
    emit,
    iso_date,
    positive_int,
    run_guarded,
)
from cross_sell_upsell.cli.shop_options import ingest_settings
from cross_sell_upsell.configuration import CustomerModelSettings, IngestSettings
from cross_sell_upsell.data.ingest.catalog import load_catalog
from cross_sell_upsell.data.ingest.customers import load_customer_attributes
from cross_sell_upsell.data.ingest.guards import reasons_text
from cross_sell_upsell.data.ingest.transactions import read_transactions
from cross_sell_upsell.errors import ConfigurationError
from cross_sell_upsell.features.purchase_summary import purchase_summary
from cross_sell_upsell.models.fit import fit_customer_models
from cross_sell_upsell.models.holdout import evaluate_holdout
from cross_sell_upsell.models.scoring import fallback_reason, score_customers
from cross_sell_upsell.reporting.model_fit import render_markdown
from cross_sell_upsell.reporting.strict_json import json_text

MODULE = Invocation("python -m cross_sell_upsell.models")
"""How the module is started on its own."""


def models_parser(invocation: Invocation = MODULE) -> argparse.ArgumentParser:
    """The options of the models command, for `python -m` or the `cross-sell models` subcommand."""
    parse = invocation.parser(
        description="Fit the customer models (BG/NBD and Gamma-Gamma) on the purchases before an as-of date and "
        "print their parameters and diagnostics; with --holdout-days, score their predictions against the "
        "purchases of the days from the as-of date.",
        **invocation.epilog("--dataset completejourney --as-of 2017-10-01 --holdout-days 28 --format json"),
    )
    data = parse.add_argument_group("data (--transactions with its --catalog, or --dataset)")
    add_dataset_option(data)
    add_log_options(data, alternative="--dataset")
    add_reading_options(data)
    fit = parse.add_argument_group("models")
    fit.add_argument(
        "--as-of",
        type=iso_date,
        required=True,
        help="first day the models do not see, YYYY-MM-DD: they are fitted on the purchases before it",
    )
    fit.add_argument(
        "--holdout-days",
        type=positive_int,
        default=None,
        help="score the predictions against the purchases of this many days from --as-of (the log must cover them)",
    )
    output = parse.add_argument_group("output")
    output.add_argument("--format", choices=["markdown", "json"], default="markdown")
    output.add_argument("--output", type=Path, help="write the results here (atomically) instead of stdout")
    return parse


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m cross_sell_upsell.models`."""
    return models_command(models_parser().parse_args(argv))


def models_command(args: argparse.Namespace) -> int:
    """Fits the models the parsed options ask for and prints or writes the results; returns the exit code. A
    fallback is a result (exit 0); bad input is one line on stderr (exit 2)."""

    def run() -> int:
        document = models_document(args)
        rejected = document["rows"]["rejected"]
        if rejected:
            print(
                f"note: {sum(rejected.values()):,} transaction rows rejected ({reasons_text(rejected)})",
                file=sys.stderr,
            )
        text = json_text(document) if args.format == "json" else render_markdown(document)
        emit(text, args.output)
        return EXIT_OK

    return run_guarded(run)


def models_document(args: argparse.Namespace) -> dict[str, Any]:
    """The results as plain JSON values: issue #11's `as_of`, `customers`, `bgnbd`, `gamma_gamma`, `fallback`
    and `holdout`, with the data read (`source`, `rows`) and the fit's `diagnostics`."""
    purchases, data, listed = _purchases(args)
    as_of, days = args.as_of, args.holdout_days
    summary = purchase_summary(purchases, as_of)
    if listed is not None:
        # The models start at a customer's first purchase: a listed customer without one is not modelled.
        data["customers_without_purchases"] = listed.to_frame().join(summary, on="customer_id", how="anti").height
    models = fit_customer_models(summary, CustomerModelSettings())
    document = {"as_of": as_of.isoformat(), **data, **models.as_dict(), "diagnostics": models.diagnostics.as_dict()}
    if days is not None:
        _check_covered(purchases, as_of, days)
        holdout = evaluate_holdout(score_customers(models, summary, days), summary, purchases, as_of, days)
        document["holdout"] = {**holdout.as_dict(), "fallback": fallback_reason(models, days)}
    return document


def _purchases(args: argparse.Namespace) -> tuple[pl.DataFrame, dict[str, Any], pl.Series | None]:
    """The valid purchases (customer_id, purchase_date, amount, ...) of the log or data set the options name,
    read and checked by the ingestion like any log; what was read: `source` and the `rows` read, used and
    rejected (by reason; with --strict a bad row is an error); and the ids of the --customers-file, if any."""
    if data_source(args) == "dataset":
        from cross_sell_upsell.data.completejourney import SOURCE, grocery_config, write_files

        settings = ingest_settings(args, grocery_config().ingest)
        with tempfile.TemporaryDirectory(prefix="completejourney-") as scratch:
            log, catalog = write_files(scratch, priced_before=args.as_of)
            purchases, data = _read_log(log, catalog, settings, args.strict)
        return purchases, {**data, "source": SOURCE}, None
    settings = ingest_settings(args, IngestSettings())
    purchases, data = _read_log(args.transactions, args.catalog, settings, args.strict)
    if args.customers_file is None:
        return purchases, data, None
    listed = load_customer_attributes(args.customers_file, settings).get_column("customer_id")
    return purchases, {**data, "source": f"{data['source']} + {args.customers_file}"}, listed


def _read_log(log: Path, catalog: Path, settings: IngestSettings, strict: bool) -> tuple[pl.DataFrame, dict[str, Any]]:
    products, _ = load_catalog(catalog, settings)
    purchases, rejected, rows_read = read_transactions(log, products.get_column("product_id"), settings, strict=strict)
    by_reason = dict(sorted(rejected.get_column("reason").value_counts().iter_rows()))
    data: dict[str, Any] = {
        "source": f"{log} + {catalog}",
        "rows": {"read": rows_read, "used": rows_read - rejected.height, "rejected": by_reason},
    }
    return purchases, data


def _check_covered(purchases: pl.DataFrame, as_of: date, days: int) -> None:
    """Raises ConfigurationError when the log ends before the holdout's last day: purchases it does not hold
    would count as purchases that did not happen."""
    last_day, last_purchase = as_of + timedelta(days=days - 1), purchases.get_column("purchase_date").max()
    if last_purchase is None or last_purchase < last_day:
        raise ConfigurationError(
            f"--holdout-days {days}: the purchases end on {last_purchase or 'no day'}, before the holdout's last "
            f"day {last_day}; give an earlier --as-of or fewer days"
        )


if __name__ == "__main__":
    sys.exit(main())
