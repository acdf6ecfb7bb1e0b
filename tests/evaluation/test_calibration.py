"""The backtest's calibration object on hand-built offers and purchases, every figure worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest
from support import rows

from cross_sell_upsell.evaluation.calibration import calibration, deciles

OFFER_SCHEMA = {
    "customer_id": pl.String,
    "rank": pl.UInt32,
    "offer_id": pl.String,
    "product_ids": pl.List(pl.String),
    "price": pl.Float64,
    "acceptance_probability": pl.Float64,
    "counts_toward_revenue": pl.Boolean,
}
OFFERS = rows(
    "customer_id | rank | offer_id   | product_ids | price | acceptance_probability | counts_toward_revenue",
    'A           | 1    | BUNDLE-X-Y | ["X", "Y"]  | 30.0  | 0.5                    | true',
    "A           | 2    | X          | null        | 20.0  | 0.4                    | false",
    "A           | 3    | Z          | null        | 10.0  | 0.2                    | true",
    "B           | 1    | Z          | null        | 10.0  | 0.8                    | true",
    "B           | 2    | W          | null        | 5.0   | 0.1                    | true",
    "B           | 3    | X          | null        | 20.0  | 0.3                    | true",
)
"""With K = 2, A is sent her bundle (X, inside it, is not sent again; Z is third) and B is sent Z and W."""
BOUGHT = pl.DataFrame(
    rows(
        "customer_id | product_id",
        "A           | Y",  # one product of her bundle
        "B           | Z",
        "B           | Z",  # bought twice: counts once
        "B           | X",  # bought, but third on his list: not sent
    )
)
CATALOG = pl.DataFrame(
    rows("product_id | price", "X | 20.0", "Y | 15.0", "Z | 10.0", "W | 5.0"),
    schema={"product_id": pl.String, "price": pl.Float64},
)


def _offers(**changes: pl.Expr) -> pl.DataFrame:
    return pl.DataFrame(OFFERS, schema=OFFER_SCHEMA).with_columns(**changes)


def test_expected_against_realised_revenue_of_the_top_k_offers_sent():
    result = calibration(_offers(), BOUGHT, CATALOG, 2)
    assert result["offers"] == 3  # A's bundle, B's Z and W
    assert result["expected_revenue"] == pytest.approx(23.5)  # 0.5 x 30 + 0.8 x 10 + 0.1 x 5
    # A bought Y from her bundle (catalog $15), B bought Z ($10, once), not W
    assert result["realised_revenue"] == pytest.approx(25.0)
    assert result["realised_over_expected"] == pytest.approx(25.0 / 23.5)
    assert result["mean_predicted"] == pytest.approx(1.4 / 3)  # (0.5 + 0.8 + 0.1) / 3
    assert result["observed_rate"] == pytest.approx(2 / 3)
    # three offers: offer i in decile floor(10 i / 3) + 1, lowest probability first
    assert result["deciles"] == [
        {"decile": 1, "offers": 1, "mean_predicted": pytest.approx(0.1), "observed_rate": 0.0},  # W
        {"decile": 4, "offers": 1, "mean_predicted": pytest.approx(0.5), "observed_rate": 1.0},  # the bundle
        {"decile": 7, "offers": 1, "mean_predicted": pytest.approx(0.8), "observed_rate": 1.0},  # Z
    ]


def test_twenty_offers_make_ten_deciles_of_two():
    offers = pl.DataFrame(
        {
            "customer_id": [f"C{i:02d}" for i in range(20)],
            "offer_id": ["P"] * 20,
            "acceptance_probability": [i / 20 for i in range(20)],
            "bought": [i >= 10 for i in range(20)],
        }
    )
    table = deciles(offers)
    assert [row["offers"] for row in table] == [2] * 10
    # decile d holds i = 2d - 2 and 2d - 1: mean (4d - 3) / 40; the upper half was bought
    assert [row["mean_predicted"] for row in table] == pytest.approx([(4 * d - 3) / 40 for d in range(1, 11)])
    assert [row["observed_rate"] for row in table] == [0.0] * 5 + [1.0] * 5


def test_without_an_acceptance_model_nothing_expected_is_made_up():
    result = calibration(_offers(acceptance_probability=pl.lit(None, dtype=pl.Float64)), BOUGHT, CATALOG, 2)
    assert result["expected_revenue"] is None
    assert result["realised_over_expected"] is None
    assert result["mean_predicted"] is None
    assert result["deciles"] == []
    assert result["realised_revenue"] == pytest.approx(25.0)  # what was bought is known all the same
