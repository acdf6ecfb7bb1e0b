"""Text cells of the exported CSV files made safe for the spreadsheet that will open them."""

from __future__ import annotations

import polars as pl

FORMULA_STARTS = "=+-@\t\r"
"""A cell starting with one of these is read as a formula by Excel, LibreOffice and Google Sheets (OWASP's CSV
injection list): `=HYPERLINK(...)` in a product name would run when a marketer opens the file."""

FORMULA_GUARD = "'"
"""Put before such a cell: spreadsheets show the text as it is and do not evaluate it."""


def neutralised(column: pl.Expr) -> pl.Expr:
    """`column` (text) with FORMULA_GUARD before every value that starts like a formula; other values unchanged."""
    starts_like_formula = column.str.contains("^[" + "".join(f"\\x{ord(char):02x}" for char in FORMULA_STARTS) + "]")
    return pl.when(starts_like_formula).then(pl.lit(FORMULA_GUARD) + column).otherwise(column)


def safe_text_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every text column neutralised against formula injection."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(neutralised(pl.col(name)).alias(name) for name in text)
