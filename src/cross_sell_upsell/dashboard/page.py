"""The dashboard page's layout: every element has a stable `id` (the browser tests and docs/dashboard.md name them).

Text from the data (ids, names, rationales) is always a component's text child, which the browser shows as text:
nothing from the store is ever read as HTML or markdown.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import dcc, html

from cross_sell_upsell.dashboard.figures import count, money, offer_type_label, percent

KPIS = (
    ("kpi-customers", "Customers"),
    ("kpi-expected-revenue", "Expected revenue of the offers sent"),
    ("kpi-hit-rate", "Hit rate of last week's offers"),
    ("kpi-churn", "Mean churn probability"),
)
"""The KPI cards at the top: the id of the element holding the value, and its label."""

DESCRIPTIVE_GRAPHS = (
    "weekly-sales",
    "top-products-revenue",
    "top-products-units",
    "top-categories-revenue",
    "top-categories-units",
    "pareto",
)
"""The descriptive views of the selected run, in page order."""

_CARD = {"border": "1px solid #ddd", "borderRadius": "6px", "padding": "10px 14px", "background": "#fff"}
_GRID = {"display": "grid", "gridTemplateColumns": "repeat(auto-fit, minmax(360px, 1fr))", "gap": "12px"}
_CELL = {"padding": "4px 8px", "borderBottom": "1px solid #eee", "textAlign": "left", "verticalAlign": "top"}


def run_label(run: dict[str, Any]) -> str:
    """A run as the run filter lists it: its as-of date and when it was generated."""
    return f"{run['as_of']} (run {run['generated_at']:%Y-%m-%d %H:%M})"


def _filter(label: str, component: Any) -> html.Div:
    return html.Div([html.Label(label, style={"fontWeight": 600}), component], style={"flex": "1", "minWidth": "200px"})


def _filters(runs: pl.DataFrame, choices: dict[str, list[str]]) -> html.Div:
    run_options = [{"label": run_label(run), "value": run["run_id"]} for run in runs.iter_rows(named=True)]
    latest = run_options[-1]["value"] if run_options else None

    def many(id_: str, values: list[str], placeholder: str, label=str) -> dcc.Dropdown:
        options = [{"label": label(value), "value": value} for value in values]
        return dcc.Dropdown(id=id_, options=options, value=[], multi=True, placeholder=placeholder)

    return html.Div(
        [
            _filter("Run date", dcc.Dropdown(id="filter-run", options=run_options, value=latest, clearable=False)),
            _filter("Segment", many("filter-segment", choices["segments"], "every segment")),
            _filter("Loyalty tier", many("filter-tier", choices["tiers"], "every tier")),
            _filter("Offer type", many("filter-offer-type", choices["offer_types"], "every type", offer_type_label)),
        ],
        style={"display": "flex", "gap": "12px", "flexWrap": "wrap", "margin": "12px 0"},
    )


def _kpi(id_: str, label: str) -> html.Div:
    return html.Div(
        [
            html.Div(label, style={"color": "#555", "fontSize": "13px"}),
            html.Div(id=id_, style={"fontSize": "28px", "fontWeight": 700}),
            html.Div(id=f"{id_}-detail", style={"color": "#777", "fontSize": "12px"}),
        ],
        style={**_CARD, "flex": "1", "minWidth": "180px"},
    )


def _graph(id_: str) -> dcc.Graph:
    return dcc.Graph(id=id_, config={"displayModeBar": False}, style={**_CARD, "padding": "4px"})


def _section(title: str, *children: Any) -> html.Section:
    return html.Section([html.H2(title, style={"fontSize": "18px", "margin": "18px 0 8px"}), *children])


def layout(store_name: str, runs: pl.DataFrame, choices: dict[str, list[str]]) -> html.Div:
    """The whole page over a store with these runs and filter choices; the callbacks fill in the figures."""
    return html.Div(
        [
            html.H1("Cross-sell dashboard", style={"fontSize": "24px", "margin": "0"}),
            html.Div(f"store: {store_name}, {runs.height} runs", id="store-name", style={"color": "#666"}),
            html.Div(id="store-status", style={"color": "#b00020"}),
            _filters(runs, choices),
            html.Div([_kpi(id_, label) for id_, label in KPIS], style={"display": "flex", "gap": "12px"}),
            _section(
                "Trends across runs",
                html.Div([_graph("trend-revenue"), _graph("trend-customers"), _graph("trend-hit-rate")], style=_GRID),
            ),
            _section("Segments", _graph("segments")),
            _section(
                "Customer drill-down",
                html.Div(
                    [
                        html.Div(
                            [html.H3("Highest priority", style={"fontSize": "15px"}), html.Div(id="top-customers")]
                        ),
                        html.Div(
                            [
                                dcc.Input(id="customer-id", type="text", debounce=True, placeholder="customer id"),
                                html.Div(id="customer-summary", style={"margin": "8px 0"}),
                                html.Div(id="customer-offers"),
                            ]
                        ),
                    ],
                    style={**_GRID, "gridTemplateColumns": "minmax(320px, 1fr) 2fr"},
                ),
            ),
            _section("Sales", html.Div([_graph(id_) for id_ in DESCRIPTIVE_GRAPHS], style=_GRID)),
        ],
        style={"fontFamily": "system-ui, sans-serif", "padding": "16px", "background": "#f7f7f9"},
    )


def no_store_page(message: str) -> html.Div:
    """The page when the store cannot be read: the one-line reason, as text."""
    return html.Div([html.H1("Cross-sell dashboard"), html.P(message, id="store-error")])


def _table(header: list[str], rows: list[list[Any]], id_: str | None = None) -> html.Table:
    head = html.Thead(html.Tr([html.Th(name, style=_CELL) for name in header]))
    body = html.Tbody([html.Tr([html.Td(cell, style=_CELL) for cell in row]) for row in rows])
    return html.Table([head, body], id=id_ or "", style={"borderCollapse": "collapse", "width": "100%"})


def top_customers_table(frame: pl.DataFrame) -> html.Table | html.P:
    """The highest-priority customers; each id is a button that opens the customer below."""
    if frame.is_empty():
        return html.P("No ranked customers in these filters.")
    rows = [
        [
            count(row["priority_rank"]),
            html.Button(row["customer_id"], id={"type": "top-customer", "index": row["customer_id"]}, n_clicks=0),
            row["segment"],
            row["loyalty_tier"],
            money(row["expected_revenue"]),
        ]
        for row in frame.iter_rows(named=True)
    ]
    return _table(["rank", "customer", "segment", "tier", "expected"], rows)


def customer_summary(summary: dict[str, Any] | None, customer_id: str, run: str) -> str:
    """One line on the customer: segment, tier, rank, gaps, expected revenue, churn; or that the run lacks them."""
    if summary is None:
        return f"No customer {customer_id!r} in the run of {run}."
    rank = "unranked" if summary["priority_rank"] is None else f"priority {summary['priority_rank']}"
    return (
        f"{summary['customer_id']}: segment {summary['segment']}, tier {summary['loyalty_tier']}, {rank}, "
        f"{summary['gaps']} gaps, expected {money(summary['expected_revenue'])}, "
        f"churn {percent(summary['churn_probability'])}"
    )


def customer_offers_table(frame: pl.DataFrame) -> html.Table | html.P:
    """One customer's offers: rank, product, type, probability, price, expected revenue and the rationale."""
    if frame.is_empty():
        return html.P("No offers sent.")
    rows = [
        [
            row["rank"],
            row["name"],
            offer_type_label(row["offer_type"]),
            percent(row["probability"]),
            money(row["price"]),
            money(row["expected_revenue"]),
            row["rationale"],
        ]
        for row in frame.iter_rows(named=True)
    ]
    return _table(["rank", "product", "type", "probability", "price", "expected", "rationale"], rows, "offers-table")
