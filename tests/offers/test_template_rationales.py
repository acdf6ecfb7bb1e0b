"""Template rationales word for word, from described offer rows built here (no graph): the sentence of each
offer type and learned source, money, and the concerns an offer targets.

Concern bits: dryness 1, fine_lines 2, acne 4, dark_spots 8. Columns a table leaves out are null.
"""

from __future__ import annotations

import polars as pl
from offer_tables import sideways, table

from cross_sell_upsell.offers.candidates import CANDIDATE_SCHEMA
from cross_sell_upsell.offers.rationale import likelihood, money, template_rationales

CONCERNS = ("dryness", "fine_lines", "acne", "dark_spots")

DESCRIBED = {
    **CANDIDATE_SCHEMA,
    "category": pl.String(),
    "source_name": pl.String(),
    "bundle_categories": pl.List(pl.String()),
    "acceptance_probability": pl.Float64(),
}
"""The columns of a described offer (see results.describe_offers) the templates read."""

CUSTOMERS = table(
    {"customer_key": pl.UInt32(), "concern_mask": pl.UInt64()},
    "customer_key | concern_mask",
    "0            | 0",
    "1            | 7",
)
"""Customer 0 has no concern; customer 1 has dryness, fine lines and acne."""

ROUTINE = table(
    {"customer_key": pl.UInt32(), "owned_essentials": pl.UInt32()},
    "customer_key | owned_essentials",
    "0            | 2",
    "1            | 4",
)


def rationales(header: str, *lines: str, essentials_total: int = 5) -> list[str]:
    offers = table(DESCRIBED, header, *lines)
    return template_rationales(offers, CUSTOMERS, ROUTINE, essentials_total, CONCERNS, 28)["rationale"].to_list()


def test_a_routine_gap_names_the_missing_step_and_the_owned_essentials():
    sentences = rationales(
        "customer_key | type        | source      | category",
        "0            | routine_gap | routine_gap | toner",
        "1            | routine_gap | routine_gap | eye_cream",
        essentials_total=6,
    )
    assert sentences == [
        "Adds the missing toner step; the customer owns 2 of 6 routine essentials.",
        "Adds the missing eye cream step; the customer owns 4 of 6 routine essentials.",
    ]


def test_a_restock_says_how_long_ago_and_when_it_is_due():
    offers = sideways(
        DESCRIBED,
        "label                | due           | due soon",
        "customer_key         | 0             | 0",
        "type                 | replenishment | replenishment",
        "source               | replenishment | replenishment",
        "days_since_purchase  | 45            | 25",
        "cycle_days           | 30            | 30",
        "replenishment_status | due           | due_soon",
        "due_date             | 2024-01-15    | 2024-03-06",
    )
    sentences = template_rationales(offers, CUSTOMERS, ROUTINE, 5, CONCERNS, 28)["rationale"].to_list()
    assert sentences == [
        "Last bought 45 days ago on a 30-day cycle; due since 2024-01-15.",
        "Last bought 25 days ago on a 30-day cycle; due on 2024-03-06.",
    ]


def test_a_catalog_cross_sell_and_an_upgrade_name_the_owned_product():
    sentences = rationales(
        "customer_key | type               | source  | tier | source_name",
        "0            | product_cross_sell | catalog | 1    | Basic Moisturizer",
        "0            | tier_upgrade       | upgrade | 2    | Basic Serum",
    )
    assert sentences == [
        "Pairs with Basic Moisturizer, which the customer already uses.",
        "Tier 2 step up from Basic Serum.",
    ]


def test_a_learned_cross_sell_says_what_the_purchases_have_in_common():
    sentences = rationales(
        "customer_key | type               | source            | link   | rule_lift | source_name",
        "0            | product_cross_sell | basket_rule       | 0.4166 | 2.46      | Basic Toner",
        "0            | product_cross_sell | catalog           | null   | null      | Basic Toner",
        "0            | product_cross_sell | basket_rule       | 0.1    | 3.0       | Calm Mask",
        "0            | product_cross_sell | similar_customers | 0.3666 | null      | Basic Serum",
        "0            | product_cross_sell | similar_customers | 0.5    | null      | Calm Mask",
    )
    assert sentences == [
        # 100 x 0.4166 = 41.66 -> 42%; lift 2.46 -> 2.5
        "Bought in 42% of baskets with Basic Toner, 2.5x as often as in baskets overall.",
        "Pairs with Basic Toner, which the customer already uses.",
        "Bought in 10% of baskets with Calm Mask, 3.0x as often as in baskets overall.",
        # 0.3666 -> 0.37; a rounded 0.5 prints without a trailing zero
        "Customers who buy Basic Serum also buy it (similarity 0.37).",
        "Customers who buy Calm Mask also buy it (similarity 0.5).",
    ]


def test_a_bundle_counts_its_essentials_and_shows_its_price_and_saving():
    sentences = rationales(
        "customer_key | type   | source      | bundle_categories             | price | list_price",
        '0            | bundle | routine_gap | ["toner", "eye_cream", "spf"] | 35.7  | 42.0',
        '0            | bundle | routine_gap | ["cleanser", "serum"]         | 50.99 | 59.99',
    )
    assert sentences == [
        # saving 42.0 - 35.7 = 6.30
        "Completes the routine with 3 missing essentials (toner, eye cream, spf) for $35.70, saving $6.30.",
        # saving 59.99 - 50.99 = 9.00
        "Completes the routine with 2 missing essentials (cleanser, serum) for $50.99, saving $9.00.",
    ]


def test_money_is_dollars_with_two_decimals_rounded_to_the_cent():
    amounts = table(
        {"amount": pl.Float64()},
        "amount | text",
        "35.7   | $35.70",
        "0.05   | $0.05",
        "7.0    | $7.00",
        "12.29  | $12.29",
        "1234.5 | $1234.50",
        "0.999  | $1.00",
        "0.0    | $0.00",
    )
    # 12.29 x 100 = 1228.9999... in binary: rounded to 1229 cents, not cut to 1228; 0.999 rounds up to a dollar.
    assert amounts.select(money("amount")).to_series().to_list() == amounts["text"].to_list()


def test_the_concerns_an_offer_targets_end_the_sentence_in_concern_order():
    offers = table(
        DESCRIBED,
        "customer_key | type         | source  | tier | source_name | concern_mask",
        "1            | tier_upgrade | upgrade | 2    | Basic Serum | 14",
        "1            | tier_upgrade | upgrade | 2    | Basic Serum | 1",
        "1            | tier_upgrade | upgrade | 2    | Basic Serum | 8",
        "0            | tier_upgrade | upgrade | 2    | Basic Serum | 1",
    )
    result = template_rationales(offers, CUSTOMERS, ROUTINE, 5, CONCERNS, 28)
    assert result["rationale"].to_list() == [
        # fine lines, acne, dark spots (2 + 4 + 8) for dryness, fine lines, acne (7): 14 & 7 = 6
        "Tier 2 step up from Basic Serum. Targets fine lines, acne.",
        "Tier 2 step up from Basic Serum. Targets dryness.",
        # dark spots (8) is not customer 1's concern: 8 & 7 = 0
        "Tier 2 step up from Basic Serum.",
        # customer 0 has no concern
        "Tier 2 step up from Basic Serum.",
    ]
    assert result["rationale_source"].to_list() == ["template"] * 4
    assert result["rationale_error"].to_list() == [None] * 4


def test_the_acceptance_probability_ends_the_sentence_in_whole_percent_within_the_horizon():
    sentences = rationales(
        "customer_key | type         | source  | tier | source_name | concern_mask | acceptance_probability",
        "1            | tier_upgrade | upgrade | 2    | Basic Serum | 1            | 0.2345",
        "0            | tier_upgrade | upgrade | 2    | Basic Serum | 0            | 0.004",
        "0            | tier_upgrade | upgrade | 2    | Basic Serum | 0            | null",
    )
    assert sentences == [
        "Tier 2 step up from Basic Serum. Targets dryness. 23% likely to buy within 28 days.",
        "Tier 2 step up from Basic Serum. Under 1% likely to buy within 28 days.",
        # no acceptance model: no probability, no claim
        "Tier 2 step up from Basic Serum.",
    ]


def test_likelihood_sentences_per_probability():
    probabilities = table(
        {"probability": pl.Float64()},
        "probability | sentence",
        "null        | ",
        "0.001       | Under 1% likely to buy within 28 days.",
        "0.0049      | Under 1% likely to buy within 28 days.",
        "0.234       | 23% likely to buy within 28 days.",
        "0.236       | 24% likely to buy within 28 days.",
        "0.999       | 100% likely to buy within 28 days.",
    )
    sentences = likelihood(probabilities.get_column("probability"), 28).to_list()
    assert sentences == [f" {text}" if text else "" for text in probabilities.get_column("sentence").to_list()]
