"""The hostile values the property tests put into generated files: ids that are paths, markdown in names,
numbers that are not numbers, bad dates, bytes that are not UTF-8. Each list starts with its mildest value, so
a shrunk counterexample names the mildest value that still breaks a property."""

from __future__ import annotations

from datetime import date

from hypothesis import settings
from hypothesis import strategies as st

AS_OF = date(2024, 3, 1)
"""The as-of date every generated data set is written for."""

INJECTED = "INJECTED"
"""The marker in the markdown payloads: a report line that starts with it as a heading, a table row or a quote
means text from the data became markdown."""

MARKDOWN_TEXTS = (
    "**bold** _name_",
    f"Ann\n\n# {INJECTED} heading\n\nafter",
    f"Ann | {INJECTED} | cell |\n|---|---|",
    f"Ann\n\n| {INJECTED} | cell |\n|---|---|\n| x | y |",
    f"Ann\n> {INJECTED} quote",
    f"[{INJECTED}](http://example.com) ![x](http://example.com/x.png)",
    f"<script>{INJECTED}</script>",
)


PATH_IDS = (
    "a/b",
    "../x",
    "../../../../x",
    "/tmp/x",
    "..",
    "C\\..\\x",
    "x" * 300,
    "y" * 10_000,
    "nul\x00byte",
)
"""Ids that would leave a folder, name no file, or be too long for one, if an output name were built from them."""


ODD_TEXTS = (
    "",
    " ",
    "Crème Brûlée",
    "emoji \U0001f9f4",
    "tab\tand\rreturn",
    "line\nbreak",
    'quote " and , comma',
    "control \x07\x1b[31m",
    "z" * 5_000,
)


NUMBER_TEXTS = (
    "0",
    "-1",
    "-0.0",
    "NaN",
    "nan",
    "Infinity",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "1e400",
    "99999999999999999999999999",
    "5e-324",
    "1,5",
    "$12.00",
    "0x10",
    "twelve",
)


DATE_TEXTS = (
    "2024-02-30",
    "2024-13-01",
    "0001-01-01",
    "9999-12-31",
    "24/02/2024",
    "2024-02-01T25:00:00",
    "yesterday",
    "20240201",
)


RAW_BYTE = "\udce9"
"""A lone surrogate that the writers turn into the byte 0xE9 (Latin-1 'é'), which is not UTF-8."""


HOSTILE_TEXTS = (*ODD_TEXTS, *NUMBER_TEXTS, *DATE_TEXTS, *MARKDOWN_TEXTS, *PATH_IDS, RAW_BYTE, f"Caf{RAW_BYTE}")
"""Text for any cell of a CSV file."""


HOSTILE_NUMBERS = (0, -1, float("nan"), float("inf"), float("-inf"), 1e308, 10**30, True)
"""Numbers for numeric fields: zero, negative, not a number, infinite, huge, too big for any integer type, a
boolean."""


HOSTILE_JSON_VALUES = (
    *HOSTILE_NUMBERS,
    -0.01,
    5e-324,
    None,
    "",
    [],
    {},
    ["x"],
    {"a": 1},
    *NUMBER_TEXTS[:4],
    *DATE_TEXTS[:2],
)
"""Values of the wrong type or range for any field of a JSON record."""


def hostile_json_values() -> st.SearchStrategy[object]:
    """A value from the hostile lists, or any float or big integer."""
    return st.one_of(
        st.sampled_from(HOSTILE_JSON_VALUES),
        st.sampled_from(HOSTILE_TEXTS),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**40), max_value=10**40),
    )


def hostile_ids() -> st.SearchStrategy[str]:
    """An id that is a path, markdown, very long or odd text."""
    return st.sampled_from((*PATH_IDS, *MARKDOWN_TEXTS, *ODD_TEXTS[2:]))


def budget(examples: int) -> int:
    """`examples` scaled by the active settings profile: as given under the default profile (100 examples a
    test), twenty times as many under `long` (HYPOTHESIS_PROFILE=long)."""
    return max(1, examples * settings().max_examples // 100)
