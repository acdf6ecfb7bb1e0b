"""The text helpers both reports write with, checked on hand-picked values."""

from __future__ import annotations

import pytest

from cross_sell_upsell.reporting.text import money_text, name_with_id, percent_text, plain_text, readable


@pytest.mark.parametrize(("amount", "text"), [(0.0, "$0.00"), (12.5, "$12.50"), (1234.567, "$1,234.57")])
def test_money_text(amount: float, text: str) -> None:
    assert money_text(amount) == text


@pytest.mark.parametrize(("percentage", "text"), [(0.0, "0%"), (41.6, "42%"), (100.0, "100%")])
def test_percent_text_rounds_to_a_whole_number(percentage: float, text: str) -> None:
    assert percent_text(percentage) == text


@pytest.mark.parametrize(
    "text",
    [
        "Completes the routine with 3 missing essentials (toner, serum, spf) for $41.62, saving $7.35.",
        "Barrier Recovery Serum with Centella & Ceramides",
        "Hyaluronic Acid Plumping Serum 2%",
        "server_error: OpenAIAPIError, HTTP 500",  # an underscore inside a word cannot emphasise
        "O'Neil-Smith (née Kowalski), 50+ SPF, 1. step; a > b = c! {x} (y) $5 #1 - ok",
        "data/my_export_2024.csv",
    ],
)
def test_plain_text_leaves_ordinary_text_as_it_is(text: str) -> None:
    assert plain_text(text) == text


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        # untrusted text                              rendered
        ("Serum | Night\nedition", "Serum \\| Night edition"),
        ("A\n\n# Heading\r\n\u2028next", "A # Heading next"),
        ("# Heading", "\\# Heading"),
        ("> quote", "\\> quote"),
        ("*bold* and _em_ and __init__", "\\*bold\\* and \\_em\\_ and \\_\\_init\\_\\_"),
        ("`code` ~~struck~~", "\\`code\\` \\~\\~struck\\~\\~"),
        ("[click](https://x.io) ![i](y.png)", "\\[click\\](https\\://x.io) !\\[i\\](y.png)"),
        ("<b>hi</b> <https://x.io>", "\\<b>hi\\</b> \\<https\\://x.io>"),
        ("&lt;b&gt; &#60; & fine", "\\&lt;b\\&gt; \\&#60; & fine"),
        ("www.x.io or me@x.io", "www\\.x.io or me\\@x.io"),
        ("C:\\data \\* end\\", "C:\\data \\\\\\* end\\\\"),
        ("a\x00b\x1bc\td", "a b c\td"),
    ],
)
def test_plain_text_escapes_what_would_be_markdown(text: str, plain: str) -> None:
    assert plain_text(text) == plain


def test_name_with_id_and_without_a_name() -> None:
    assert name_with_id("Basic | Serum", "A3") == "Basic \\| Serum (A3)"
    assert name_with_id("Ana", "<K1>") == "Ana (\\<K1>)"
    assert name_with_id(None, "C009") == " (C009)"


def test_readable() -> None:
    assert readable("fine_lines") == "fine lines"
