"""What every run of a command promises, whatever its input: the checks the property tests share, and the two
ways they run a command (in-process with its argv, or as a subprocess of the real script).

The contract: exit code 0, 1 or 2; no traceback or warning on stderr, every stderr line one known kind of line
(so an error is one line) and an error line of bounded length; on exit 2 nothing written; nothing ever written
outside the output folder, and no staged temporary file left behind; a summary that is strict JSON and accounts
for every requested customer; report text from the data never turning into markdown structure."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hostile_values import INJECTED
from support import ROOT

MAX_ERROR_LINE = 1_000
"""Longest `error:` line allowed. The messages name a file, a record and a field; a value echoed in full (a
10,000-character id) must be elided."""

STDERR_LINE = re.compile(
    r"(error|note|warning): \S.*"
    r"|[\d,]+ of [\d,]+ customers done, [\d,]+ failed"
    r"|chunk \d+/\d+: .*"
    r"|[a-z][a-z ,()]+: \d+\.\d s, peak RSS [\d,]+ MiB"
    r"|analysed [\d,]+ of [\d,]+ customers; potential revenue \$[\d,]+\.\d\d"
)
"""Every kind of line the commands write on stderr: a one-line error, note or warning, a progress line, a
phase's timing (--verbose), the batch's closing summary. A traceback, a Python warning, argparse's usage block or the second line of a
message matches none of them."""

INJECTED_MARKDOWN = re.compile(rf"\s*(#{{1,6}}\s*|\|\s*|>\s*|[-*+]\s+|\d+\.\s+)?{INJECTED}")
"""A report line that starts with the marker of a markdown payload, bare or as a heading, a table row, a quote or
a list item: a line break in the data started a line of the report."""

CLIENT_ENVIRONMENT = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "LANGSMITH_TRACING")
"""Variables that would let a run reach a chat model."""


@dataclass
class Outcome:
    """What a command did: its exit code and what it printed."""

    code: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        """The exit code and both streams (their ends elided past 3,000 characters), for an assertion message."""
        return f"exit {self.code}\n--- stdout ---\n{_elided(self.stdout)}\n--- stderr ---\n{_elided(self.stderr)}"


def _elided(text: str, keep: int = 1_500) -> str:
    """`text` with its middle left out when it is long: the last line of a traceback is what matters."""
    return (
        text
        if len(text) <= 2 * keep
        else f"{text[:keep]}\n[... {len(text) - 2 * keep:,} characters ...]\n{text[-keep:]}"
    )


def run_in_process(main: Callable[[list[str]], int], argv: Sequence[str]) -> Outcome:
    """Runs a command's main function as the script would, catching what would reach the terminal: stdout,
    stderr, an uncaught exception (as the traceback Python would print) and the warnings Python would show."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, redirect_stdout(stdout), redirect_stderr(stderr):
        warnings.simplefilter("always")
        try:
            code = main(list(argv))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)
        except Exception:  # noqa: BLE001 - what the interpreter would print, and exit 1
            print(traceback.format_exc(), end="", file=sys.stderr)
            code = 1
    hidden = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
    shown = [warning for warning in caught if not issubclass(warning.category, hidden)]
    text = "".join(
        warnings.formatwarning(warning.message, warning.category, warning.filename, warning.lineno) for warning in shown
    )
    return Outcome(code, stdout.getvalue(), stderr.getvalue() + text)


def script_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a script run: this checkout's code first on the path, no chat-model credentials or
    LLM settings from the developer's shell, plus `extra`."""
    paths = [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in CLIENT_ENVIRONMENT and not name.startswith("LLM_")
    }
    return {**environment, "PYTHONPATH": os.pathsep.join(paths), **(extra or {})}


def run_script(script: str, argv: Sequence[str], cwd: Path, environment: dict[str, str] | None = None) -> Outcome:
    """Runs a top-level script with this interpreter, as a user would."""
    finished = subprocess.run(
        [sys.executable, str(ROOT / script), *argv],
        cwd=cwd,
        env=script_environment(environment),
        capture_output=True,
        timeout=300,
        check=False,
    )
    stdout, stderr = (stream.decode("utf-8", errors="replace") for stream in (finished.stdout, finished.stderr))
    return Outcome(finished.returncode, stdout, stderr)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative path -> bytes)."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() or path.is_symlink()
    }


def check_outcome(outcome: Outcome) -> None:
    """Exit code 0, 1 or 2, and a stderr made only of known one-line messages, errors of bounded length."""
    assert outcome.code in (0, 1, 2), outcome.describe()
    assert "Traceback" not in outcome.stderr, outcome.describe()
    for line in outcome.stderr.splitlines():
        assert STDERR_LINE.fullmatch(line), f"stray stderr line {line[:300]!r}\n{outcome.describe()}"
        if line.startswith("error:"):
            assert len(line) <= MAX_ERROR_LINE, f"{len(line):,}-character error line\n{outcome.describe()}"


def check_files(outcome: Outcome, sandbox: Path, before: dict[str, bytes], output_folder: Path) -> dict[str, bytes]:
    """On exit 2 the sandbox is as it was; otherwise only the output folder changed, and no staged temporary
    file is left in it. Returns the files written (relative to the output folder)."""
    after = snapshot(sandbox)
    if outcome.code == 2:
        assert after == before, f"exit 2 but files changed: {sorted(set(after) ^ set(before))}\n{outcome.describe()}"
        return {}
    prefix = str(output_folder.relative_to(sandbox)) + os.sep
    changed = {name for name in set(after) | set(before) if after.get(name) != before.get(name)}
    outside = sorted(name for name in changed if not name.startswith(prefix))
    assert outside == [], f"files changed outside the output folder: {outside}\n{outcome.describe()}"
    staged = sorted(name for name in after if re.search(r"(^|/)\.[^/]*\.tmp$", name))
    assert staged == [], f"staged files left behind: {staged}\n{outcome.describe()}"
    return {name[len(prefix) :]: data for name, data in after.items() if name in changed}


def strict_json(text: str) -> Any:
    """JSON text parsed as a strict parser would: NaN, Infinity and -Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


def check_summary(summary: dict[str, Any], requested: int | None) -> None:
    """Every requested customer is processed or failed; `requested` distinct ids when the run named them."""
    counts = (summary["customers_requested"], summary["customers_processed"], summary["customers_failed"])
    assert counts[0] == counts[1] + counts[2], f"requested, processed, failed = {counts}"
    if requested is not None:
        assert counts[0] == requested, f"requested {requested} distinct ids, summary says {counts[0]}"


def check_rows_accounted(rows: dict[str, Any], written: int | None, used: int | None = None) -> None:
    """Every log row read is used or rejected, every record written is read, and the purchases kept (`used`,
    when known) are the rows used.

    MERGE CHECK: the keys `rows_read` and `rows_used` are being added to `rows_rejected_summary`
    (data/ingest/assembly.py) by another change of issue #14; until it is merged this check fails with a
    KeyError on purpose (it must not skip)."""
    assert rows["rows_read"] == rows["rows_used"] + rows["total"], f"rows read != used + rejected: {rows}"
    if written is not None:
        assert rows["rows_read"] == written, f"{written} records written, {rows['rows_read']} read: {rows}"
    if used is not None:
        assert rows["rows_used"] == used, f"{used} purchases kept, {rows['rows_used']} rows used: {rows}"


def check_plain_text(markdown: str, where: str) -> None:
    """No line of a report starts with a markdown payload's marker: data stayed data."""
    broken = [line for line in markdown.splitlines() if INJECTED_MARKDOWN.match(line)]
    assert broken == [], f"text from the data became markdown in {where}: {[line[:200] for line in broken]}"
