"""Text both reports write: money, readable names, markdown table cells and the section on the rationales."""

from __future__ import annotations

from cross_sell_upsell.offers.results import RationaleStats


def money_text(amount: float) -> str:
    """Dollars with thousands separators and cents: $1,234.50."""
    return f"${amount:,.2f}"


def percent_text(percentage: float) -> str:
    """A percentage (0-100) rounded to a whole number: 42%."""
    return f"{percentage:.0f}%"


def readable(name: str) -> str:
    """A snake_case name as words: fine_lines becomes fine lines."""
    return name.replace("_", " ")


def table_cell(text: str) -> str:
    """Text that stays in its markdown table cell: pipes escaped, line breaks as spaces."""
    return text.replace("|", "\\|").replace("\n", " ")


def name_with_id(name: str | None, identifier: str) -> str:
    """A name and its id for a table cell: Basic Serum (A3); just the id in parentheses without a name."""
    return f"{table_cell(name or '')} ({identifier})"


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
