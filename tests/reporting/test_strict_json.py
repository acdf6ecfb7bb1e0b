"""Every JSON the tool writes is strict JSON: a number that is not finite is written as null, never as a bare
NaN or Infinity, which strict parsers reject."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from support import AS_OF

from cross_sell_upsell import OrchestratorConfig, analyze_customer
from cross_sell_upsell.pipeline.batch import run_batch
from cross_sell_upsell.reporting.customer import render_json
from cross_sell_upsell.reporting.executive import BatchFiles
from cross_sell_upsell.reporting.executive.summary import render_summary
from cross_sell_upsell.reporting.strict_json import json_text

GENERATED_AT = datetime(2024, 3, 4, 6, 0, 0)


def strict_loads(text: str) -> Any:
    """`json.loads` as a strict parser: NaN, Infinity and -Infinity are errors."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_the_strict_parser_refuses_what_plain_json_dumps_writes() -> None:
    with pytest.raises(ValueError, match="not JSON: Infinity"):
        strict_loads(json.dumps({"lifetime_value": math.inf}))


def test_numbers_that_are_not_finite_become_null_at_any_depth() -> None:
    value = {"a": math.inf, "b": [1.5, -math.inf, {"c": math.nan}], "d": (2, "NaN"), "e": None, "f": True}
    text = json_text(value)
    assert strict_loads(text) == {"a": None, "b": [1.5, None, {"c": None}], "d": [2, "NaN"], "e": None, "f": True}
    assert text == json.dumps(strict_loads(text), indent=2) + "\n"


def test_finite_values_are_written_as_json_dumps_writes_them() -> None:
    value = {"name": "Zoë", "price": 19.99, "tiny": 2.7e-05, "count": 3, "ids": ["P1", "P2"]}
    assert json_text(value) == json.dumps(value, indent=2) + "\n"
    assert json_text(value, ensure_ascii=False) == json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def test_a_customer_report_with_an_infinite_lifetime_value_is_strict_json(tier1) -> None:
    report = analyze_customer("C001", as_of=AS_OF, dataset=tier1, config=OrchestratorConfig())
    broken = report.model_copy(update={"lifetime_value": math.inf, "churn_risk": math.nan})
    written = strict_loads(render_json(broken))
    assert (written["lifetime_value"], written["churn_risk"]) == (None, None)
    assert written["customer_id"] == "C001"


def test_a_batch_summary_with_an_infinite_lifetime_value_is_strict_json(tier1, tmp_path: Path) -> None:
    # C004 leads the tier1 priority list; its lifetime value is made infinite.
    customers = tier1.customers.with_columns(
        lifetime_value=pl.when(pl.col("customer_id") == "C004").then(math.inf).otherwise(pl.col("lifetime_value"))
    )
    result = run_batch(dataclasses.replace(tier1, customers=customers), None, AS_OF, OrchestratorConfig())
    summary = strict_loads(render_summary(result, BatchFiles(tmp_path / "report.md"), [], GENERATED_AT))
    c004 = next(row for row in summary["top_priority_customers"] if row["customer_id"] == "C004")
    assert c004["lifetime_value"] is None
