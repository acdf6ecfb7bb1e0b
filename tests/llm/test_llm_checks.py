"""The output checks: a model rationale replaces the template only when it is non-empty, short enough, and
names no product and no price outside its own offer."""

from __future__ import annotations

import polars as pl
import pytest
from llm_fakes import CATALOG

from cross_sell_upsell.llm.checks import OfferScope, OutputCheck

# The bundle of C1 in llm_fakes: P1 (Gentle Cleanser) + P2 (Calm Toner), $19.13 instead of $22.50, saving $3.37.
BUNDLE = OfferScope.of(
    ids=["BUNDLE-P1-P2", "P1", "P2"],
    names=["Complete Your Routine Bundle", "Gentle Cleanser", "Calm Toner"],
    prices=[19.13, 22.50, 3.37],
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # text                                                             reason, detail
        ("Gentle Cleanser and Calm Toner together for $19.13.", None),
        ("Both steps for $19.13 instead of $22.50: you save $3.37.", None),
        ("Save 3.37 on the pair (BUNDLE-P1-P2: P1 + P2).", None),
        ("A 2-step start on a 30-day cycle with SPF30 next.", None),
        ("", ("empty", "empty rationale")),
        ("x" * 301, ("too_long", "301 characters, more than 300")),
        ("Add the Glow Serum as well.", ("unknown_product", "names Glow Serum, which is not in this offer")),
        ("Add the NIGHT CREAM as well.", ("unknown_product", "names NIGHT CREAM, which is not in this offer")),
        ("Pairs with P9 too.", ("unknown_product", "names P9, which is not in this offer")),
        ("Pairs with P77 too.", ("unknown_product", "names P77, which is not in this offer")),
        ("Only $19.99 this week.", ("unknown_price", "names the price $19.99, which is not in this offer")),
        ("Only 18.00 this week.", ("unknown_price", "names the price 18.00, which is not in this offer")),
        ("Worth $1,000 of care.", ("unknown_price", "names the price $1,000, which is not in this offer")),
        ("A $19 treat.", ("unknown_price", "names the price $19, which is not in this offer")),
    ],
)
def test_checks_of_a_bundle_rationale(text: str, expected: tuple[str, str] | None) -> None:
    check = OutputCheck(CATALOG, max_chars=300)
    assert check.problem(text, BUNDLE) == expected


def test_a_rationale_of_exactly_the_maximum_length_passes() -> None:
    assert OutputCheck(CATALOG, max_chars=10).problem("a" * 10, OfferScope()) is None


def test_an_allowed_name_that_contains_another_catalog_name_is_not_a_stranger() -> None:
    # "Calm Toner Plus" is offered; "Calm Toner" is another catalog product inside its name.
    catalog = CATALOG.vstack(CATALOG.head(1).with_columns(product_id=pl.lit("P5"), name=pl.lit("Calm Toner Plus")))
    check = OutputCheck(catalog, max_chars=300)
    plus = OfferScope.of(["P5"], ["Calm Toner Plus"], [12.5])
    assert check.problem("The Calm Toner Plus suits you.", plus) is None
    assert check.problem("The Calm Toner suits you.", plus) == (
        "unknown_product",
        "names Calm Toner, which is not in this offer",
    )


def test_without_a_catalog_only_product_ids_and_prices_are_checked() -> None:
    check = OutputCheck(None, max_chars=300)
    cleanser = OfferScope.of(["P1"], ["Gentle Cleanser"], [10.0])
    assert check.problem("Add the Glow Serum as well.", cleanser) is None
    assert check.problem("Add P3 as well.", cleanser) == (
        "unknown_product",
        "names P3, which is not in this offer",
    )


def test_a_scope_built_from_missing_facts_allows_only_what_is_there() -> None:
    # A single-product offer's facts as the frame holds them: no members (null), no related product, no saving.
    scope = OfferScope.of(["P3", None], ["Glow Serum", None], [30.0, None, float("nan"), float("inf")])
    assert scope == OfferScope(ids=frozenset({"P3"}), names=frozenset({"glow serum"}), prices=(30.0,))
    assert OfferScope.of(None, None, None) == OfferScope()
    check = OutputCheck(CATALOG, max_chars=300)
    assert check.problem("P3 is a natural next step at $30.00.", scope) is None
    assert check.problem("P3 is a natural next step.", OfferScope.of(None, None, None)) == (
        "unknown_product",
        "names P3, which is not in this offer",
    )
