"""Typed polars frames from pipe-separated tables, for the direct tests of the offer steps."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from support import rows


def typed(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """`frame` with the columns of `schema`: those it has cast to their type (ISO date text parsed), those it
    lacks null; its other columns (labels, flags) kept as they are."""
    dates = [name for name, dtype in schema.items() if dtype == pl.Date and frame.schema.get(name) == pl.String]
    return frame.with_columns(pl.col(dates).str.to_date()).with_columns(
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in schema.items()
    )


def table(schema: Mapping[str, pl.DataType], header: str, *lines: str) -> pl.DataFrame:
    """A frame from a pipe-separated table (see support.rows), typed by `schema` (see `typed`)."""
    return typed(pl.DataFrame(rows(header, *lines)), schema)


def sideways(schema: Mapping[str, pl.DataType], header: str, *lines: str) -> pl.DataFrame:
    """A frame from a table laid out sideways, for rows with more columns than a line holds: the header is
    "label | <label of row 1> | <label of row 2> ...", each line a column, its name then its values. Typed by
    `schema` (see `typed`), with the row labels in `label`."""
    records = rows(header, *lines)
    labels = list(records[0])[1:]
    columns = {record["label"]: [record[label] for label in labels] for record in records}
    return typed(pl.DataFrame({"label": labels, **columns}), schema)
