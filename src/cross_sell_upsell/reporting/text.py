"""Text both reports write: money, readable names, untrusted text as plain markdown and the section on the
rationales."""

from __future__ import annotations

import re

from cross_sell_upsell.offers.results import RationaleStats

_CONTROL = r"\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029"
_LINE_BREAKS = re.compile(rf"\s*[{_CONTROL}][\s{_CONTROL}]*")
"""Line breaks and other control characters, with the blanks around them."""

_MARKDOWN = re.compile(
    r"[`*\[\]<|~]"  # code, emphasis, links and images, HTML and autolinks, table cells, strikethrough
    r"|_(?![^\W_])|(?<![^\W_])_"  # an underscore at the edge of a word (inside one it cannot emphasise)
    r"|\\(?=[!-/:-@\[-`{-~]|$)"  # a backslash that would escape what follows it
    r"|&(?=#?\w+;)"  # an entity or character reference
    r"|^[#>]"  # a heading or a quote, were the text to start a line
    r"|(?<=\w):(?=//)|(?<=\b[wW]{3})\.|@(?=\w)"  # a URL or an email address, which GFM links on its own
)
"""Every character that would give text markdown meaning where it lands: inside a line, after other text."""


def money_text(amount: float) -> str:
    """Dollars with thousands separators and cents: $1,234.50."""
    return f"${amount:,.2f}"


def percent_text(percentage: float) -> str:
    """A percentage (0-100) rounded to a whole number: 42%."""
    return f"{percentage:.0f}%"


def readable(name: str) -> str:
    """A snake_case name as words: fine_lines becomes fine lines."""
    return name.replace("_", " ")


def plain_text(text: str) -> str:
    """Untrusted text (a model's rationale; a name, id, note or product name from the customer's data) as plain
    inline markdown, for anywhere inside a line, a table cell included: line breaks and other control
    characters become one space, and each character that would start markdown there is backslash-escaped, so
    it shows as itself. Text without such characters (`Glow Serum for $30.00, saving 15%.`) is unchanged."""
    return _MARKDOWN.sub(lambda found: "\\" + found.group(), _LINE_BREAKS.sub(" ", text))


def name_with_id(name: str | None, identifier: str) -> str:
    """A name and its id as plain text: Basic Serum (A3); just the id in parentheses without a name."""
    return f"{plain_text(name or '')} ({plain_text(identifier)})"


def rationale_stats_lines(stats: RationaleStats | None) -> list[str]:
    """The markdown section on where the rationales came from and what the model cost; none without stats."""
    if stats is None:
        return []
    fallbacks = ", ".join(f"{readable(reason)} {count}" for reason, count in sorted(stats.failures.items()))
    return [
        "## Rationales",
        "",
        (
            f"- **Written by the model ({stats.model}):** {stats.llm} of {stats.offers_asked} asked "
            f"({stats.cache_hits} of {stats.customers} answers from the cache)"
        ),
        f"- **Templates:** {stats.template}",
        f"- **Fallbacks to the template:** {fallbacks or 'none'}",
        f"- **Tokens:** {stats.input_tokens:,} input, {stats.output_tokens:,} output",
        (
            f"- **Estimated cost:** ${stats.estimated_cost:.6f} (at ${stats.input_price_per_1k:g} per 1K input and "
            f"${stats.output_price_per_1k:g} per 1K output tokens)"
        ),
        "",
    ]
