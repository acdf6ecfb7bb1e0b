"""The customer models' fit (the `models` command's document: parameters, diagnostics, holdout) as markdown
tables, the same figures as its JSON."""

from __future__ import annotations

from typing import Any

from cross_sell_upsell.reporting.text import plain_text


def _number(value: float | None, places: int = 4) -> str:
    return "-" if value is None else f"{value:,.{places}f}"


def render_markdown(document: dict[str, Any]) -> str:
    """The document of `cli.models.models_document` as markdown; deterministic for the same document."""
    lines = [
        f"# Customer models as of {document['as_of']}",
        "",
        f"- **Data:** {plain_text(document['source'])}",
        f"- **Transaction rows:** {_rows(document['rows'])}",
        f"- **Customers:** {_customers(document)}",
        "- **Models:** "
        + ("fitted and used" if document["fallback"] is None else f"fallback: {plain_text(document['fallback'])}"),
        "",
        *_parameters(document),
    ]
    if "holdout" in document:
        lines += _holdout(document["holdout"])
    return "\n".join(lines)


def _rows(rows: dict[str, Any]) -> str:
    rejected = ", ".join(f"{reason} {count:,}" for reason, count in rows["rejected"].items())
    return f"{rows['read']:,} read, {rows['used']:,} used" + (f", rejected: {rejected}" if rejected else "")


def _customers(document: dict[str, Any]) -> str:
    diagnostics = document["diagnostics"]
    text = (
        f"{document['customers']:,} with a purchase before {document['as_of']}; "
        f"{diagnostics['repeat_customers']:,} with a repeat purchase worth more than 0, "
        f"{diagnostics['frequent_customers']:,} with three or more purchase days; "
        f"{diagnostics['history_days']:,} days of history"
    )
    if "customers_without_purchases" in document:
        text += f"; {document['customers_without_purchases']:,} in the customers file without a purchase"
    return text


def _parameters(document: dict[str, Any]) -> list[str]:
    """One table per model: its parameters and how its fit went."""
    diagnostics = document["diagnostics"]
    lines = []
    for key, title in (("bgnbd", "BG/NBD (purchases and dropout, time in days)"), ("gamma_gamma", "Gamma-Gamma")):
        params, fit = document[key], diagnostics[f"{key}_fit"]
        if params is None:
            continue
        names = [name for name in params if name != "time_unit"]
        header = [*names, "log-likelihood", "largest gradient", "iterations", "converged"]
        cells = [
            *(_number(params[name]) for name in names),
            _number(fit["log_likelihood"], 2),
            f"{fit['gradient']:.2g}",
            str(fit["iterations"]),
            "yes" if fit["converged"] else "no",
        ]
        lines += [f"## {title}", "", _row(header), "|" + "---:|" * len(header), _row(cells), ""]
    if diagnostics["spend_frequency_correlation"] is not None:
        lines += [
            (
                "Correlation of purchases and mean spend among repeat customers (the Gamma-Gamma assumes none): "
                f"{diagnostics['spend_frequency_correlation']:.3f}"
            ),
            "",
        ]
    return lines


def _holdout(holdout: dict[str, Any]) -> list[str]:
    """The predictions against the holdout window, beside the naive ones, and the decile table."""
    purchases, churn, next_order = holdout["purchases"], holdout["churn"], holdout["next_order"]
    predicted, actual = purchases["predicted_total"], purchases["actual_total"]
    lines = [f"## Holdout: the {holdout['days']:,} days from the as-of date, {holdout['customers']:,} customers", ""]
    if holdout["fallback"] is not None:
        lines += [f"Scored with the fallback values: {plain_text(holdout['fallback'])}", ""]
    change = f" ({predicted / actual - 1:+.1%})" if actual else ""
    lines += [
        f"Purchases in the window: {predicted:,.0f} predicted, {actual:,.0f} actual{change}.",
        "",
        _row(["measure", "model" if holdout["fallback"] is None else "fallback", "naive", "naive prediction"]),
        "|---|---:|---:|---|",
        _row(
            [
                "purchases, mean absolute error per customer",
                _number(purchases["mae"]),
                _number(purchases["naive_mae"]),
                "past rate x days",
            ]
        ),
        _row(
            [
                "no purchase in the window, AUC of the churn probability",
                _number(churn["auc"]),
                _number(churn["recency_auc"]),
                "days since the last purchase",
            ]
        ),
        _row(["no purchase in the window, AUC of 1 - P(alive)", _number(churn["p_alive_auc"]), "", ""]),
        _row(
            [
                f"next order, mean absolute error in days ({next_order['customers']:,} customers who bought)",
                _number(next_order["mae_days"], 2),
                _number(next_order["naive_mae_days"], 2),
                "last purchase + mean gap",
            ]
        ),
        "",
        "| decile (by predicted purchases) | customers | predicted | actual |",
        "|---:|---:|---:|---:|",
        *(
            _row([str(row["decile"]), f"{row['customers']:,}", _number(row["predicted"], 1), _number(row["actual"], 0)])
            for row in holdout["deciles"]
        ),
        "",
    ]
    return lines


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
