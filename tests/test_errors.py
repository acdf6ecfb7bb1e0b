"""Error messages are one line of bounded length: a long value keeps its start and end, a short one is as it was."""

from __future__ import annotations

import pytest

from cross_sell_upsell.errors import (
    ConfigurationError,
    DataValidationError,
    OutputError,
    UnknownCustomerError,
    elided,
)

LONG_ID = "A" * 4_995 + "Z" * 5_005


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("C001", "C001"),
        ("x" * 53, "x" * 53),  # as short as its elided form would be: kept
        ("0123456789" * 5 + "abcd", "0123456789" * 4 + "...456789abcd"),
        (LONG_ID, "A" * 40 + "..." + "Z" * 10),
        ("two\nlines\x00\t", "two\\nlines\\x00\\t"),  # escaped, so the message stays one line
        ("Müller, 東京", "Müller, 東京"),
    ],
)
def test_elided(text: str, shown: str) -> None:
    assert elided(text) == shown


def test_a_10000_character_id_is_elided_in_the_message() -> None:
    assert str(UnknownCustomerError(LONG_ID, [LONG_ID, "C001"])) == (
        f"unknown customer id '{'A' * 40}...{'Z' * 10}'; closest known ids: {'A' * 40}...{'Z' * 10}, C001"
    )
    error = DataValidationError("log.csv", LONG_ID, "customer\nid", "empty")
    assert str(error) == f"log.csv: record {'A' * 40}...{'Z' * 10}: field 'customer\\nid': empty"
    assert error.record_id == LONG_ID  # the whole value is still there for a program


def test_short_messages_are_unchanged() -> None:
    assert (
        str(UnknownCustomerError("C01", ["C010", "C001"])) == "unknown customer id 'C01'; closest known ids: C010, C001"
    )
    assert str(DataValidationError("data/customers.json", "C002", "churn_risk", "too high")) == (
        "data/customers.json: record C002: field 'churn_risk': too high"
    )
    assert str(OutputError("out/report.md", "Is a directory")) == "cannot write out/report.md: Is a directory"


def test_every_message_is_capped_at_one_line_of_403_characters() -> None:
    # the tail keeps its last 100 characters: 71 nines, " is not a number" (16), "\\n" (2), "second line" (11)
    message = str(ConfigurationError("--weight " + "9" * 10_000 + " is not a number\nsecond line"))
    assert message == "--weight " + "9" * 291 + "..." + "9" * 71 + " is not a number\\nsecond line"
    assert len(message) == 403
