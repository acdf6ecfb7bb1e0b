"""The executive report's campaign section and the summary JSON's `campaigns` key: what each campaign running on
the as-of date did to the customers' lists, and which campaign rows were left out (beside the log's)."""

from __future__ import annotations

from typing import Any

from cross_sell_upsell.pipeline.campaign_totals import campaign_table
from cross_sell_upsell.pipeline.totals import BatchResult
from cross_sell_upsell.reporting.text import money_text, plain_text, readable

VALUE_NOTE = (
    "Value is the offers' price after the campaign's discount, in the customers' top {top_n}, with the boost and "
    "without it (the same offers ranked by their unboosted score): what the boost puts in front of customers, not a "
    "sales forecast."
)


def campaigns_summary(result: BatchResult) -> dict[str, Any] | None:
    """The summary JSON's `campaigns`: the file's rows read, used and left out by reason, the boosted share cap,
    and per campaign (then every offer) the table of `campaign_table`; None when the run was given none."""
    if result.campaigns is None:
        return None
    config = result.config
    return {
        **result.campaigns.summary(),
        "max_boosted_per_customer": config.campaigns.slots(config.top_n),
        "top_n": config.top_n,
        "campaigns": campaign_table(result.totals.campaigns).to_dicts(),
        "value_definition": VALUE_NOTE.format(top_n=config.top_n),
    }


def campaigns_section(result: BatchResult) -> list[str]:
    """The report's "Campaigns" section; nothing when the run was given no campaigns."""
    campaigns = result.campaigns
    if campaigns is None:
        return []
    config = result.config
    slots = config.campaigns.slots(config.top_n)
    lines = [
        "## Campaigns",
        "",
        (
            f"{campaigns.rows.height:,} campaign rows running on {result.as_of} were applied from "
            f"{plain_text(campaigns.source)}; a covered offer's score is multiplied by its campaign's boost, for at "
            f"most {slots} offers per customer."
        ),
        "",
    ]
    left_out = {reason: count for reason, count in campaigns.rejected.items() if count}
    if left_out:
        lines += ["Rows left out:", "", "| Reason | Rows |", "|---|---:|"]
        lines += [f"| {readable(reason)} | {count:,} |" for reason, count in left_out.items()]
        lines += [""]
    table = campaign_table(result.totals.campaigns)
    if table.is_empty():
        return [*lines, "No offer was covered by a running campaign.", ""]
    lines += [
        VALUE_NOTE.format(top_n=config.top_n),
        "",
        (
            f"| Campaign | Offers | Boosted | Customers reached | In top {config.top_n} | Without boost "
            "| Value | Without boost | Change |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {plain_text(row['campaign_name'])} | {row['offers']:,} | {row['boosted']:,} | {row['customers']:,} "
        f"| {row['top_with']:,} | {row['top_without']:,} | {money_text(row['value_with'])} "
        f"| {money_text(row['value_without'])} | {_signed(row['value_change'])} |"
        for row in table.iter_rows(named=True)
    ]
    return [*lines, ""]


def _signed(amount: float) -> str:
    return ("+" if amount > 0 else "-" if amount < 0 else "") + money_text(abs(amount))
