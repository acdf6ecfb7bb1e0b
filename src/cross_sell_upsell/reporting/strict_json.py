"""The one writer of every JSON document the tool writes (the customer report, the batch summary, the
backtest): strict JSON that every parser reads."""

from __future__ import annotations

import json
import math
from typing import Any


def json_text(value: Any, *, ensure_ascii: bool = True) -> str:
    """`value` as JSON indented by two spaces, ending in a newline. JSON has no NaN or infinity, so a number
    that is not finite (a lifetime value of `Infinity` in a customer file, a metric over nothing) is written
    as null rather than as the bare `NaN` or `Infinity` that strict parsers reject; `allow_nan=False` turns
    any other way for one to slip through into an error instead of a file nobody can read."""
    return json.dumps(_finite(value), indent=2, ensure_ascii=ensure_ascii, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    """`value` with every NaN and infinite float, however deeply nested, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
