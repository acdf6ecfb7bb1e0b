"""The dashboard's charts: Plotly figures and display texts from the query frames (`dashboard.queries`).

The figures are plain dicts in Plotly's JSON form, not `plotly.graph_objects` figures: those validate every
property in Python, about 80 ms a figure, which on a page of eleven charts delayed the KPIs' callback by a second.
"""

from __future__ import annotations

from typing import Any

import plotly.io as pio
import polars as pl

from cross_sell_upsell.registry import TYPE_LABELS

NOT_AVAILABLE = "n/a"
"""What a figure that is not known (no churn model, no earlier run measured) shows."""

Figure = dict[str, Any]
"""A Plotly figure as JSON: `data` (the traces) and `layout`."""

_LAYOUT = {
    "template": pio.templates["plotly_white"].to_plotly_json(),
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "height": 300,
    "legend": {"orientation": "h", "y": -0.2},
}


def money(value: float | None) -> str:
    """`$1,234.56`, or n/a."""
    return NOT_AVAILABLE if value is None else f"${value:,.2f}"


def percent(value: float | None) -> str:
    """`40.0%` from 0.4, or n/a."""
    return NOT_AVAILABLE if value is None else f"{value:.1%}"


def count(value: int | None) -> str:
    """`1,234`, or n/a."""
    return NOT_AVAILABLE if value is None else f"{value:,}"


def offer_type_label(key: str) -> str:
    """The report's label of an offer type; a type this code does not know shows as its key."""
    return TYPE_LABELS.get(key, key)


def _figure(title: str, traces: list[dict[str, Any]], **layout: object) -> Figure:
    return {"data": traces, "layout": {"title": {"text": title, "font": {"size": 15}}, **_LAYOUT, **layout}}


def _trace(kind: str, **properties: object) -> dict[str, Any]:
    return {"type": kind, **properties}


def _dates(frame: pl.DataFrame, column: str) -> list[str]:
    return [str(value) for value in frame.get_column(column)]


def trend_revenue(trends: pl.DataFrame) -> Figure:
    """Expected and potential revenue by run date, one point per run."""
    dates = _dates(trends, "as_of")
    return _figure(
        "Revenue by run",
        [
            _trace("scatter", x=dates, y=trends.get_column(column).to_list(), name=name, mode="lines+markers")
            for column, name in (("expected_revenue", "expected"), ("potential_revenue", "potential"))
        ],
        yaxis={"tickprefix": "$", "rangemode": "tozero"},
        xaxis={"type": "category"},
    )


def trend_customers(trends: pl.DataFrame) -> Figure:
    """Customers analysed by run date."""
    trace = _trace(
        "scatter", x=_dates(trends, "as_of"), y=trends.get_column("customers").to_list(), mode="lines+markers"
    )
    return _figure("Customers by run", [trace], xaxis={"type": "category"}, yaxis={"rangemode": "tozero"})


def trend_hit_rate(trends: pl.DataFrame) -> Figure:
    """The previous run's offers bought, as a share of those sent, by run date (a gap where none were measured)."""
    trace = _trace(
        "scatter", x=_dates(trends, "as_of"), y=trends.get_column("hit_rate").to_list(), mode="lines+markers"
    )
    return _figure(
        "Hit rate of last week's offers",
        [trace],
        yaxis={"tickformat": ".0%", "range": [0, 1]},
        xaxis={"type": "category"},
    )


def segments_side_by_side(frame: pl.DataFrame) -> Figure:
    """Each segment's customers (bars, left axis) and expected and potential revenue (bars, right axis)."""
    names = frame.get_column("segment").to_list()
    traces = [
        _trace("bar", x=names, y=frame.get_column("customers").to_list(), name="customers", offsetgroup="customers"),
        *(
            _trace(
                "bar", x=names, y=frame.get_column(f"{name}_revenue").to_list(), name=name, yaxis="y2", offsetgroup=name
            )
            for name in ("expected", "potential")
        ),
    ]
    return _figure(
        "Segments side by side",
        traces,
        yaxis={"title": {"text": "customers"}},
        yaxis2={"title": {"text": "revenue"}, "overlaying": "y", "side": "right", "tickprefix": "$"},
    )


def weekly_sales(frame: pl.DataFrame) -> Figure:
    """Revenue by week (bars) and units (line, right axis)."""
    weeks = _dates(frame, "week_start")
    traces = [
        _trace("bar", x=weeks, y=frame.get_column("revenue").to_list(), name="revenue"),
        _trace("scatter", x=weeks, y=frame.get_column("units").to_list(), name="units", yaxis="y2", mode="lines"),
    ]
    return _figure(
        "Weekly sales",
        traces,
        yaxis={"tickprefix": "$"},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "title": {"text": "units"},
            "rangemode": "tozero",
            "showgrid": False,
        },
    )


def ranked_bars(frame: pl.DataFrame, label: str, by: str, title: str) -> Figure:
    """Horizontal bars of `by` for each `label`, the largest on top."""
    trace = _trace(
        "bar", x=frame.get_column(by).to_list()[::-1], y=frame.get_column(label).to_list()[::-1], orientation="h"
    )
    return _figure(title, [trace], xaxis={"tickprefix": "$"} if by == "revenue" else {}, yaxis={"type": "category"})


def pareto(frame: pl.DataFrame) -> Figure:
    """Cumulative share of revenue against the share of customers, highest spenders first."""
    trace = _trace(
        "scatter",
        x=frame.get_column("customer_share").to_list(),
        y=frame.get_column("revenue_share").to_list(),
        mode="lines",
        fill="tozeroy",
    )
    return _figure(
        "Revenue by customer (Pareto)",
        [trace],
        xaxis={"tickformat": ".0%", "title": {"text": "customers, highest spenders first"}},
        yaxis={"tickformat": ".0%", "title": {"text": "share of revenue"}},
    )
