"""One run of a command on generated files, checked against the contract, the same way in-process and as a
subprocess: the files go into a fresh sandbox, sensible options are drawn (with known, unknown and hostile
customer ids), the command runs, and the exit code, stderr, files left behind, summary and report are checked.
Hostile options are test_property_arguments.py's."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from command_contract import (
    Outcome,
    check_files,
    check_outcome,
    check_plain_text,
    check_rows_accounted,
    check_summary,
    snapshot,
    strict_json,
)
from hostile_data import DataFolder, data_folder_sources
from hostile_logs import LogFiles, log_file_sources
from hostile_values import AS_OF, hostile_ids
from hypothesis import strategies as st

Source = DataFolder | LogFiles


@dataclass(frozen=True)
class Sandbox:
    """A run's folder: the input files, and the output folder nested deep enough that an id such as
    `../../../../x` turned into a path still lands inside the sandbox, where the check sees it."""

    root: Path

    @property
    def inputs(self) -> Path:
        """Where the generated input files go."""
        return self.root / "inputs"

    @property
    def out(self) -> Path:
        """The output folder: --output points into it, and it is the default output folder in-process."""
        return self.root / "a" / "b" / "c" / "d" / "e" / "out"


@contextmanager
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox with its output folder, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="property-") as folder:
        box = Sandbox(Path(folder))
        box.out.mkdir(parents=True)
        yield box


Runner = Callable[[Sandbox, list[str]], Outcome]
"""Runs a command with its argv in a sandbox."""


def sources() -> st.SearchStrategy[Source]:
    """A JSON data folder, or a transaction log with its catalog and customers file, often hostile."""
    return st.one_of(data_folder_sources(), log_file_sources())


def source_arguments(source: Source, box: Sandbox) -> list[str]:
    """Writes the source's files into the sandbox and returns the options that name them."""
    if isinstance(source, DataFolder):
        return ["--data-dir", str(source.write(box.inputs))]
    paths = source.write(box.inputs)
    arguments = ["--transactions", str(paths["log"]), "--catalog", str(paths["catalog"])]
    return arguments + (["--customers-file", str(paths["customers"])] if "customers" in paths else [])


def known_ids(source: Source) -> list[str]:
    """Customer ids in the source's files that can be given as an argument (argparse takes a leading '-' for
    an option; the operating system takes no NUL)."""
    ids = source.ids("customers", "customer_id") if isinstance(source, DataFolder) else source.customer_ids()
    return [
        customer_id for customer_id in dict.fromkeys(ids) if not customer_id.startswith("-") and "\0" not in customer_id
    ]


def mostly(usual: Any, *others: Any) -> st.SearchStrategy[Any]:
    """`usual` three times in four, else one of `others` (shrinking towards `usual`)."""
    return st.sampled_from([usual, usual, usual, *others]) if others else st.just(usual)


def _requested(ids: list[str], in_process: bool) -> st.SearchStrategy[list[str]]:
    arguments = hostile_ids().filter(lambda text: in_process or "\0" not in text)
    pool = st.one_of(st.sampled_from(ids), st.just("C999"), arguments) if ids else st.just("C999")
    return st.lists(pool, min_size=1, max_size=5)


@st.composite
def batch_options(draw: st.DrawFn, source: Source, box: Sandbox, in_process: bool) -> tuple[list[str], int | None]:
    """Sensible batch options, and how many distinct customers they request (None: everyone). A subprocess always gets --output, so nothing is written under
    the project's own output folder."""
    options = ["--as-of", AS_OF.isoformat()]
    options += draw(mostly([], ["--chunk-size", "1"], ["--chunk-size", "3"], ["--top-priority", "1"]))
    options += draw(mostly(["--quiet"], [], ["--verbose"]))
    options += draw(mostly([], ["--strict"], ["--llm"]))
    output = ["--output", str(box.out / "report.md")]
    options += draw(mostly(output, [])) if in_process else output
    requested = None
    if draw(st.booleans()):
        ids = draw(_requested(known_ids(source), in_process))
        options += ["--customers", *ids]
        requested = len(dict.fromkeys(ids))
    return options, requested


@st.composite
def report_options(draw: st.DrawFn, source: Source, box: Sandbox, in_process: bool) -> tuple[list[str], bool]:
    """Sensible options of the single-customer report for a known or hostile customer id, and whether they ask
    for JSON. A subprocess always gets --output, so nothing (not even a rejected-rows file) is written under
    the project's own output folder."""
    ids = known_ids(source)
    customer = draw(st.one_of(st.sampled_from(ids), hostile_ids()) if ids else hostile_ids())
    if not in_process:
        customer = customer.replace("\0", "")
    if ids and customer not in ids and draw(st.booleans()):
        source.rename_customer(ids[0], customer)  # a hostile id the data holds, so the report is written
    options = [f"--customer={customer}", "--as-of", AS_OF.isoformat()]
    options += draw(mostly([], ["--top", "1"], ["--strict"], ["--llm"]))
    json_format = draw(st.booleans())
    options += ["--format", "json"] if json_format else []
    output = ["--output", str(box.out / "report.md")]
    options += draw(st.sampled_from([output, []])) if in_process else output
    return options, json_format


def check_batch_run(source: Source, draw: st.DrawFn, run: Runner, in_process: bool) -> Outcome:
    """Runs the batch on the source's files with drawn options and checks the contract and its figures."""
    with sandbox() as box:
        arguments = source_arguments(source, box)
        options, requested = draw(batch_options(source, box, in_process))
        before = snapshot(box.root)
        # In process the output folder is the default one, run store included; a script's is the repository's.
        store = [] if in_process else ["--store", str(box.out / "history.duckdb")]
        outcome = run(box, [*arguments, *options, *store])
        check_outcome(outcome)
        written = check_files(outcome, box.root, before, box.out)
        if outcome.code != 2:
            summary = check_batch_outputs(outcome, written, requested)
            if isinstance(source, LogFiles):
                rows = {"rows_read": summary["rows_read"], "rows_used": summary["rows_used"]}
                check_rows_accounted({**rows, "total": summary["rows_rejected"]}, source.log_records)
        return outcome


def check_batch_outputs(outcome: Outcome, written: dict[str, bytes], requested: int | None) -> dict[str, Any]:
    """A batch that ran wrote one summary, strict JSON accounting for every requested customer, and one report,
    with the data as plain text. Returns the summary."""
    summaries = [name for name in written if name.endswith(".summary.json")]
    assert len(summaries) == 1, f"summary files written: {summaries}\n{outcome.describe()}"
    summary = strict_json(written[summaries[0]].decode("utf-8"))
    check_summary(summary, requested)
    reports = [name for name in written if name.endswith(".md")]
    assert len(reports) == 1, f"reports written: {reports}\n{outcome.describe()}"
    check_plain_text(written[reports[0]].decode("utf-8"), "the executive report")
    return summary


def check_report_run(source: Source, draw: st.DrawFn, run: Runner, in_process: bool) -> Outcome:
    """Runs the single-customer report on the source's files with drawn options and checks the contract."""
    with sandbox() as box:
        options, json_format = draw(report_options(source, box, in_process))  # may rename a customer
        return check_report(source, box, options, json_format, run)


def check_report(source: Source, box: Sandbox, options: list[str], json_format: bool, run: Runner) -> Outcome:
    """Runs the single-customer report on the source's files with `options` and checks the contract: a run
    that succeeds printed strict JSON or wrote one report, inside the output folder."""
    arguments = source_arguments(source, box)
    before = snapshot(box.root)
    outcome = run(box, [*arguments, *options])
    check_outcome(outcome)
    written = check_files(outcome, box.root, before, box.out)
    if outcome.code != 0:
        return outcome
    if json_format and "--output" not in options:
        strict_json(outcome.stdout)
        return outcome
    reports = [name for name in written if not name.endswith(".csv")]  # a rejected-rows file may come too
    assert len(reports) == 1, f"reports written: {reports}\n{outcome.describe()}"
    text = written[reports[0]].decode("utf-8")
    if json_format:
        strict_json(text)
    else:
        check_plain_text(text, "the customer report")
    return outcome
