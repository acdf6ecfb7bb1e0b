"""The campaign step (`offers.campaigns.boost`) on a hand-built cohort: which offers a campaign covers, the
overlap rule, the cap, and the rationale's clause. Scores are hand-computed: score x boost, ranks redrawn.

Products: A1 and A2 of category a, B1 of b, C1 of c, D1 of d. K0 is premium, K1 basic. As of 2024-03-01:
SPR covers category a (x1.2, 10% off), BIG covers A2 (x1.5, 20% off) and overlaps SPR there, VIP covers C1
(x3.0) for premium customers only, OLD covers B1 but starts after the as-of date.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from offer_tables import table

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.data.campaigns import CAMPAIGN_SCHEMA, Campaigns
from cross_sell_upsell.offers.campaigns import boost, campaign_rationales

AS_OF = date(2024, 3, 1)

PRODUCTS = table(
    {"product_key": pl.UInt32()},
    "product_key | product_id | category",
    "0           | A1         | a",
    "1           | A2         | a",
    "2           | B1         | b",
    "3           | C1         | c",
    "4           | D1         | d",
)

CUSTOMERS = table(
    {"customer_key": pl.UInt32()},
    "customer_key | customer_id | segment",
    "0            | K0          | Premium",
    "1            | K1          | basic",
)

SCORED = table(
    {"customer_key": pl.UInt32(), "product_key": pl.UInt32(), "rank": pl.UInt32(), "score": pl.Float64()},
    "customer_key | product_key | rank | score | type",
    "0            | 4           | 1    | 50.0  | replenishment",
    "0            | 0           | 2    | 45.0  | product_cross_sell",
    "0            | 1           | 3    | 40.0  | product_cross_sell",
    "0            | 2           | 4    | 30.0  | product_cross_sell",
    "0            | 3           | 5    | 20.0  | product_cross_sell",
    "0            | null        | 6    | 10.0  | bundle",
    "1            | 4           | 1    | 50.0  | replenishment",
    "1            | 0           | 2    | 30.0  | product_cross_sell",
)

CAMPAIGNS = Campaigns(
    table(
        CAMPAIGN_SCHEMA,
        "campaign_id | name        | start_date | end_date   | product_id | category | segment | discount | boost",
        "SPR         | Spring      | 2024-02-01 | 2024-03-31 | null       | a        | null    | 0.1      | 1.2",
        "BIG         | Big Serum   | 2024-03-01 | 2024-03-01 | A2         | null     | null    | 0.2      | 1.5",
        "VIP         | VIP         | 2024-01-01 | 2024-12-31 | C1         | null     | null    | null     | 3.0",
        "VIP         | VIP         | 2024-01-01 | 2024-12-31 | null       | null     | premium | null     | 3.0",
        "OLD         | Later       | 2024-03-02 | 2024-03-31 | B1         | null     | null    | 0.5      | 9.0",
    ),
    {},
    "test",
)


def _boosted(max_share: float) -> pl.DataFrame:
    config = OrchestratorConfig(top_n=5).model_copy(
        update={"campaigns": OrchestratorConfig().campaigns.model_copy(update={"max_share": max_share})}
    )
    result = boost(SCORED, CAMPAIGNS, AS_OF, config, customers=CUSTOMERS, products=PRODUCTS)
    return result.with_columns(
        product_id=pl.col("product_key").replace_strict(
            PRODUCTS["product_key"], PRODUCTS["product_id"], default="BUNDLE"
        )
    )


def _rows(frame: pl.DataFrame, customer: int) -> list[tuple]:
    return (
        frame.filter(pl.col("customer_key") == customer)
        .select("rank", "product_id", "score", "campaign_id", "campaign_boost")
        .rows()
    )


def test_boost_overlap_targeting_and_the_cap_of_two_slots():
    # 0.4 x 5 = 2 slots. K0 boosted: A2 40 x 1.5 = 60 (BIG beats SPR's 1.2), C1 20 x 3 = 60 (premium, any case),
    # A1 45 x 1.2 = 54, D1 50, B1 30 (OLD has not started). The first two by boosted value (A2 ranked above C1
    # before) keep the boost; A1 keeps SPR's name but not its boost.
    frame = _boosted(0.4)
    assert _rows(frame, 0) == [
        (1, "A2", 60.0, "BIG", 1.5),
        (2, "C1", 60.0, "VIP", 3.0),
        (3, "D1", 50.0, None, 1.0),
        (4, "A1", 45.0, "SPR", 1.0),
        (5, "B1", 30.0, None, 1.0),
        (6, "BUNDLE", 10.0, None, 1.0),
    ]
    # K1 is basic: VIP does not target them; A1 30 x 1.2 = 36 stays below D1.
    assert _rows(frame, 1) == [(1, "D1", 50.0, None, 1.0), (2, "A1", 36.0, "SPR", 1.2)]
    spr = frame.filter(pl.col("campaign_id") == "SPR").row(0, named=True)
    assert (spr["campaign_name"], spr["campaign_discount"]) == ("Spring", pytest.approx(0.1))


def test_a_one_slot_cap_keeps_only_the_best_boosted_offer():
    frame = _boosted(0.2)  # 0.2 x 5 = 1 slot
    assert _rows(frame, 0) == [
        (1, "A2", 60.0, "BIG", 1.5),
        (2, "D1", 50.0, None, 1.0),
        (3, "A1", 45.0, "SPR", 1.0),
        (4, "B1", 30.0, None, 1.0),
        (5, "C1", 20.0, "VIP", 1.0),
        (6, "BUNDLE", 10.0, None, 1.0),
    ]
    boosted_in_top = frame.filter((pl.col("rank") <= 5) & (pl.col("campaign_boost") != 1.0))
    assert boosted_in_top.group_by("customer_key").len().get_column("len").max() <= 1


def test_without_campaigns_the_offers_are_unchanged():
    frame = boost(SCORED, None, AS_OF, OrchestratorConfig(), customers=CUSTOMERS, products=PRODUCTS)
    assert frame.select(SCORED.columns).equals(SCORED)
    assert frame.get_column("campaign_boost").to_list() == [1.0] * SCORED.height
    assert frame.get_column("campaign_id").null_count() == SCORED.height


def test_rationale_names_the_campaign_and_its_discount():
    offers = pl.DataFrame(
        {
            "rationale": ["Pairs with A1.", "Pairs with A2.", "Restock."],
            "campaign_id": ["SPR", "VIP", None],
            "campaign_name": ["Spring", "VIP", None],
            "campaign_discount": [0.125, None, None],
        }
    )
    assert campaign_rationales(offers).get_column("rationale").to_list() == [
        "Pairs with A1. On promotion in Spring: 12.5% off.",
        "Pairs with A2. On promotion in VIP.",
        "Restock.",
    ]
