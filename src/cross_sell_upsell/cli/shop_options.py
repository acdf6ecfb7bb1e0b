"""The options for how a shop's export writes its files (docs/ingest.md, "Shop exports"), shared by every command
that reads a transaction log, and the run's ingest settings they make."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from cross_sell_upsell.configuration import IngestSettings
from cross_sell_upsell.data.ingest import with_column_overrides

SHOP_OPTIONS = {
    "delimiter": "--delimiter",
    "decimal_comma": "--decimal-comma",
    "date_format": "--date-format",
    "max_rejected_share": "--max-rejected-share",
}
"""IngestSettings field -> the option that sets it for one run."""


def _ingest_value(field: str, problem: str) -> Callable[[str], Any]:
    """An argparse type reading the option's text as IngestSettings' `field`, through that field's own checks;
    `problem` says what is wrong with a value they refuse."""

    def parse(text: str) -> Any:
        value = "\t" if field == "delimiter" and text in ("tab", "\\t") else text
        try:
            return getattr(IngestSettings.model_validate({field: value}), field)
        except ValidationError:
            raise argparse.ArgumentTypeError(f"'{text}' {problem}") from None

    return parse


def add_shop_options(group: argparse._ArgumentGroup) -> None:
    """The options for how a shop's export writes its files (docs/ingest.md, "Shop exports"); each overrides
    its ingest setting for the run."""
    group.add_argument(
        "--delimiter",
        type=_ingest_value("delimiter", "is not one character other than a quote or a line break, e.g. ';' or tab"),
        default=None,
        help="the CSV field delimiter, e.g. ';' or tab (default: the config's ingest.delimiter, else sniffed from "
        "each file's header among comma, semicolon, tab and pipe)",
    )
    group.add_argument(
        "--decimal-comma",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="amounts and prices write decimals after a comma (1.234,50), or with --no-decimal-comma after a dot "
        "(default: each value's one reading; a value with two, like 1,234, follows its column or is rejected)",
    )
    group.add_argument(
        "--date-format",
        type=_ingest_value("date_format", "is not a strftime format of a whole date, e.g. %d.%m.%Y or %m/%d/%Y"),
        default=None,
        metavar="FORMAT",
        help="strftime format of the log's dates, e.g. %%m/%%d/%%Y or %%d.%%m.%%Y (default: ISO dates)",
    )
    group.add_argument(
        "--max-rejected-share",
        type=_ingest_value("max_rejected_share", "is not a share from 0 to 1, e.g. 0.5"),
        default=None,
        metavar="SHARE",
        help="stop (exit 2, nothing written) when more than this share of the log's rows is rejected "
        "(default: the config's ingest.max_rejected_share, 0.5)",
    )


def ingest_settings(args: argparse.Namespace, ingest: IngestSettings) -> IngestSettings:
    """`ingest` with the run's options: --encoding, the shop options and the --column mappings."""
    updates = {field: getattr(args, field) for field in SHOP_OPTIONS if getattr(args, field, None) is not None}
    if getattr(args, "encoding", None) is not None:
        updates["encoding"] = args.encoding
    return with_column_overrides(ingest.model_copy(update=updates), args.column)
