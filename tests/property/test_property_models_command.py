"""The models command on generated logs, well-formed and hostile: it prints strict JSON that accounts for every
log row (exit 0, a fallback included), or refuses in one bounded `error:` line (exit 2); never a traceback."""

from __future__ import annotations

import io
import json
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from command_contract import MAX_ERROR_LINE
from hostile_logs import LogFiles, log_file_sources
from hostile_values import AS_OF, budget
from hypothesis import event, given, settings
from hypothesis import strategies as st

from cross_sell_upsell.cli.models import main


@settings(max_examples=budget(60))
@given(files=log_file_sources(), holdout=st.sampled_from([None, 1, 30]), strict=st.booleans())
def test_the_models_command_prints_json_or_one_line(files: LogFiles, holdout: int | None, strict: bool) -> None:
    out, err = io.StringIO(), io.StringIO()
    with tempfile.TemporaryDirectory() as temp:
        paths = files.write(Path(temp))
        argv = ["--transactions", str(paths["log"]), "--catalog", str(paths["catalog"]), "--format", "json"]
        argv += ["--customers-file", str(paths["customers"])] if "customers" in paths else []
        argv += ["--as-of", AS_OF.isoformat(), *(["--holdout-days", str(holdout)] if holdout else [])]
        with redirect_stdout(out), redirect_stderr(err):
            code = main([*argv, *(["--strict"] if strict else [])])
    event(f"exit {code}, holdout {holdout}")
    if code == 2:
        assert out.getvalue() == ""
        (line,) = err.getvalue().splitlines()
        assert line.startswith("error: ") and len(line) <= MAX_ERROR_LINE, line[:300]
        return
    assert code == 0, err.getvalue()[:500]
    document = json.loads(out.getvalue(), parse_constant=_not_json)
    rows = document["rows"]
    assert rows["read"] == rows["used"] + sum(rows["rejected"].values())
    if document["fallback"] is None:
        assert document["bgnbd"] is not None and document["gamma_gamma"] is not None
    if holdout:
        assert document["holdout"]["customers"] == document["customers"]


def _not_json(name: str) -> None:
    """Strict JSON has no NaN or Infinity."""
    raise AssertionError(f"{name} in the JSON")
