"""The batch's campaign figures (`pipeline.campaign_totals`) on hand-built offers, top N = 2, worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest

from cross_sell_upsell.pipeline.campaign_totals import ALL_OFFERS, campaign_counts, campaign_table
from cross_sell_upsell.pipeline.customer_totals import add_counts

# K1: S1 boosted x1.5 from 30 to 45 leads; without the boost (30) it would be third, behind X1 (40) and X2 (35).
# K2: S2 is SPR's too but past the cap (boost 1.0), fourth either way. Value = price x (1 - discount).
OFFERS = pl.DataFrame(
    [
        # customer, rank, price, score, campaign_id, name, discount, boost
        ("K1", 1, 10.0, 45.0, "SPR", "Spring", 0.1, 1.5),
        ("K1", 2, 20.0, 40.0, None, None, None, 1.0),
        ("K1", 3, 5.0, 35.0, None, None, None, 1.0),
        ("K2", 1, 8.0, 50.0, None, None, None, 1.0),
        ("K2", 2, 4.0, 45.0, "SPR", "Spring", 0.1, 1.2),
        ("K2", 3, 6.0, 30.0, None, None, None, 1.0),
        ("K2", 4, 12.0, 20.0, "SPR", "Spring", 0.1, 1.0),
    ],
    schema=[
        "customer_id",
        "rank",
        "price",
        "score",
        "campaign_id",
        "campaign_name",
        "campaign_discount",
        "campaign_boost",
    ],
    orient="row",
)


def test_campaign_figures_with_and_without_the_boost():
    # K2's boosted offer: 45 / 1.2 = 37.5 ranks behind 50 and 37.5 > 30, so it stays second: in the top 2 both ways.
    counts = add_counts(
        campaign_counts(OFFERS.head(3), 2), campaign_counts(OFFERS.tail(4), 2), ["campaign_id", "campaign_name"]
    )
    table = campaign_table(counts)
    spring, everything = table.row(0, named=True), table.row(1, named=True)
    assert (spring["campaign_id"], spring["offers"], spring["boosted"], spring["customers"]) == ("SPR", 3, 2, 2)
    assert (spring["top_with"], spring["top_without"]) == (2, 1)  # K1's S1 and K2's; without: K2's only
    assert spring["value_with"] == pytest.approx(9.0 + 3.6)  # 10 x 0.9 + 4 x 0.9
    assert spring["value_without"] == pytest.approx(3.6)
    assert spring["value_change"] == pytest.approx(9.0)
    # Every offer's top 2: with the boost S1 and X1 for K1 (9 + 20), without X1 and X2 (20 + 5); K2 8 + 3.6 both ways.
    assert everything["campaign_id"] is None and everything["campaign_name"] == ALL_OFFERS
    assert (everything["offers"], everything["top_with"], everything["top_without"]) == (7, 4, 4)
    assert everything["value_with"] == pytest.approx(29.0 + 11.6)
    assert everything["value_without"] == pytest.approx(25.0 + 11.6)


def test_offers_without_campaign_columns_have_no_figures():
    assert campaign_counts(OFFERS.drop("campaign_id"), 2).is_empty()
    assert campaign_counts(OFFERS.with_columns(campaign_id=pl.lit(None, dtype=pl.String)), 2).is_empty()
