"""The Dash app over a run store: the page (`dashboard.page`) and the callbacks that fill it from the queries.

Each callback opens its own read-only connection (a DuckDB file or a PostgreSQL store, through the store's
`Database` seam) and closes it before it returns, so the page holds no lock on the store between clicks. The page's layout is built on every load, so a new run shows after a reload.
"""

from __future__ import annotations

import logging
import socketserver
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dash import ALL, Dash, Input, Output, ctx, no_update
from dash.development.base_component import Component
from werkzeug.serving import make_server

from cross_sell_upsell.dashboard import figures, page, queries
from cross_sell_upsell.dashboard.queries import Filters
from cross_sell_upsell.io.database import Database, DatabaseError, is_url, shown

FILTERS = [
    Input("filter-run", "value"),
    Input("filter-segment", "value"),
    Input("filter-tier", "value"),
    Input("filter-offer-type", "value"),
]


@contextmanager
def _store(target: str | Path) -> Iterator[Database]:
    db = queries.open_store(target)
    try:
        yield db
    finally:
        db.close()


def store_label(target: str | Path) -> str:
    """How the page names the store: a file by its name, a server by its URL without the password."""
    return shown(target) if is_url(target) else Path(target).name


def _filters(segments: list[str] | None, tiers: list[str] | None, offer_types: list[str] | None) -> Filters:
    return Filters(tuple(segments or ()), tuple(tiers or ()), tuple(offer_types or ()))


def create_app(target: str | Path) -> Dash:
    """The dashboard over the store at `target`, a DuckDB file or a `postgresql://` URL (checked when a page
    loads, not here)."""
    app = Dash(__name__, title="Cross-sell dashboard", serve_locally=True)

    def layout() -> Component:
        try:
            with _store(target) as connection:
                return page.layout(store_label(target), queries.runs(connection), queries.choices(connection))
        except DatabaseError as error:
            return page.no_store_page(str(error))

    app.layout = layout
    _overview_callbacks(app, target)
    _descriptive_callbacks(app, target)
    _drill_down_callbacks(app, target)
    return app


def _kpi_texts(kpis: dict[str, Any]) -> list[str]:
    measured = kpis["sent"] is not None
    return [
        figures.count(kpis["customers"]),
        f"potential {figures.money(kpis['potential_revenue'])}",
        figures.money(kpis["expected_revenue"]),
        "",
        figures.percent(kpis["hit_rate"]),
        f"{kpis['bought']:,} of {kpis['sent']:,} offers bought" if measured else "no earlier run measured",
        figures.percent(kpis["mean_churn"]),
        "over the customers with a churn model",
    ]


def kpi_panel(target: str | Path, run_id: str, filters: Filters) -> list[str]:
    """The KPI cards' texts (value and detail line of each) and the status line under the title: empty, or when
    the store cannot be read at this moment (a batch holding DuckDB's write lock), n/a and why."""
    try:
        with _store(target) as connection:
            return [*_kpi_texts(queries.kpis(connection, run_id, filters)), ""]
    except DatabaseError as error:
        return [*[figures.NOT_AVAILABLE, ""] * len(page.KPIS), f"{error}; reload in a moment"]


def _overview_callbacks(app: Dash, target: str | Path) -> None:
    # The KPIs have a callback of their own: they are the first paint, and need no chart drawn first.
    kpis = [Output(id_ + part, "children") for id_, _ in page.KPIS for part in ("", "-detail")]

    @app.callback([*kpis, Output("store-status", "children")], FILTERS)
    def kpi_cards(run_id, segments, tiers, offer_types):
        if run_id is None:
            return no_update
        return kpi_panel(target, run_id, _filters(segments, tiers, offer_types))

    charts = [Output(id_, "figure") for id_ in ("trend-revenue", "trend-customers", "trend-hit-rate", "segments")]

    @app.callback([*charts, Output("top-customers", "children")], FILTERS)
    def overview(run_id, segments, tiers, offer_types):
        if run_id is None:
            return no_update
        filters = _filters(segments, tiers, offer_types)
        try:
            with _store(target) as connection:
                trends = queries.per_run(connection, filters)
                by_segment = queries.segments(connection, run_id, filters)
                top = queries.top_customers(connection, run_id, filters)
        except DatabaseError:  # the status line says why
            return no_update
        return [
            figures.trend_revenue(trends),
            figures.trend_customers(trends),
            figures.trend_hit_rate(trends),
            figures.segments_side_by_side(by_segment),
            page.top_customers_table(top),
        ]


def _descriptive_callbacks(app: Dash, target: str | Path) -> None:
    @app.callback([Output(id_, "figure") for id_ in page.DESCRIPTIVE_GRAPHS], Input("filter-run", "value"))
    def descriptive(run_id):
        if run_id is None:
            return no_update
        try:
            with _store(target) as connection:
                weekly = queries.weekly_sales(connection, run_id)
                ranked = {
                    (table, by): query(connection, run_id, by)
                    for table, query in (("products", queries.top_products), ("categories", queries.top_categories))
                    for by in ("revenue", "units")
                }
                curve = queries.pareto(connection, run_id)
        except DatabaseError:  # the status line says why
            return no_update
        bars = [
            figures.ranked_bars(ranked[table, by], label, by, f"Top {table} by {by}")
            for table, label in (("products", "name"), ("categories", "category"))
            for by in ("revenue", "units")
        ]
        return [figures.weekly_sales(weekly), *bars, figures.pareto(curve)]


def _drill_down_callbacks(app: Dash, target: str | Path) -> None:
    @app.callback(
        Output("customer-id", "value"),
        Input({"type": "top-customer", "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def pick(clicks):
        # The list is redrawn with every filter change (all clicks 0): only a real click picks a customer.
        if not ctx.triggered_id or not any(clicks):
            return no_update
        return ctx.triggered_id["index"]

    @app.callback(
        Output("customer-summary", "children"),
        Output("customer-offers", "children"),
        Input("customer-id", "value"),
        Input("filter-run", "value"),
    )
    def drill_down(customer_id, run_id):
        customer_id = (customer_id or "").strip()
        if not customer_id or run_id is None:
            return "Type a customer id or pick one of the highest priority.", None
        try:
            with _store(target) as connection:
                summary = queries.customer(connection, run_id, customer_id)
                offers = queries.customer_offers(connection, run_id, customer_id)
                as_of = queries.runs(connection).filter(run_id=run_id).get_column("as_of").to_list()
        except DatabaseError as error:
            return f"{error}; try again in a moment", None
        run = str(as_of[0]) if as_of else run_id
        return page.customer_summary(summary, customer_id, run), page.customer_offers_table(offers)


def serve(target: str | Path, host: str, port: int) -> None:
    """Serves the dashboard over the store at `target` until interrupted; the store is checked first, so a bad
    path or URL is a DatabaseError before anything listens. Ctrl-C or SIGTERM propagates as KeyboardInterrupt."""
    with _store(target):
        pass
    server = make_server(host, port, create_app(target).server, threaded=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request on the terminal
    print(f"dashboard over {shown(target)} on http://{host}:{server.port}/ (Ctrl-C stops it)", flush=True)
    try:
        # socketserver's loop, not werkzeug's override of it, which swallows KeyboardInterrupt and returns as if
        # the server had finished: the command's Ctrl-C exit code is 130, like every command's.
        socketserver.BaseServer.serve_forever(server)
    finally:
        server.server_close()
