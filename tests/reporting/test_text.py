"""The text helpers both reports write with, checked on hand-picked values."""

from __future__ import annotations

import pytest

from cross_sell_upsell.reporting.text import money_text, name_with_id, percent_text, readable, table_cell


@pytest.mark.parametrize(("amount", "text"), [(0.0, "$0.00"), (12.5, "$12.50"), (1234.567, "$1,234.57")])
def test_money_text(amount: float, text: str) -> None:
    assert money_text(amount) == text


@pytest.mark.parametrize(("percentage", "text"), [(0.0, "0%"), (41.6, "42%"), (100.0, "100%")])
def test_percent_text_rounds_to_a_whole_number(percentage: float, text: str) -> None:
    assert percent_text(percentage) == text


def test_a_table_cell_keeps_its_pipes_and_line_breaks_inside_the_cell() -> None:
    assert table_cell("Serum | Night\nedition") == "Serum \\| Night edition"


def test_name_with_id_and_without_a_name() -> None:
    assert name_with_id("Basic | Serum", "A3") == "Basic \\| Serum (A3)"
    assert name_with_id(None, "C009") == " (C009)"


def test_readable() -> None:
    assert readable("fine_lines") == "fine lines"
