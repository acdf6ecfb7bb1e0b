"""The two commands called in-process with generated files and options: exit code 0, 1 or 2, one-line errors
and no traceback, nothing written on exit 2 or outside the output folder, every requested customer and every
log row accounted for, and data that stays plain text in the reports."""

from __future__ import annotations

from command_contract import Outcome, run_in_process
from command_scenarios import (
    Sandbox,
    Source,
    check_batch_run,
    check_report,
    check_report_run,
    known_ids,
    sandbox,
    sources,
)
from hostile_data import data_folders
from hostile_logs import log_files
from hostile_values import AS_OF, budget, hostile_ids
from hypothesis import given, settings
from hypothesis import strategies as st

from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.cli.orchestrator import orchestrator_main
from cross_sell_upsell.configuration import OrchestratorConfig

CONFIG = OrchestratorConfig()


def batch(box: Sandbox, argv: list[str]) -> Outcome:
    """`run_batch_analysis.py`'s main, with the sandbox's output folder as the default."""
    return run_in_process(lambda args: batch_main(args, CONFIG, box.root / "default-data", box.out), argv)


def report(box: Sandbox, argv: list[str]) -> Outcome:
    """`run_orchestrator.py`'s main, with the sandbox's output folder as the default."""
    return run_in_process(lambda args: orchestrator_main(args, CONFIG, box.root / "default-data", box.out), argv)


@settings(max_examples=budget(60))
@given(source=sources(), data=st.data())
def test_the_batch_command_keeps_its_contract(source: Source, data: st.DataObject) -> None:
    check_batch_run(source, data.draw, batch, in_process=True)


@settings(max_examples=budget(150))
@given(source=sources(), data=st.data())
def test_the_report_command_keeps_its_contract(source: Source, data: st.DataObject) -> None:
    check_report_run(source, data.draw, report, in_process=True)


@settings(max_examples=budget(40))
@given(source=st.one_of(data_folders(max_edits=0), log_files(max_edits=0)), customer_id=hostile_ids())
def test_a_customer_id_in_the_data_never_takes_the_report_outside_the_output_folder(
    source: Source, customer_id: str
) -> None:
    """The report's default file name is built from the customer id: a path, markdown or a 10,000-character id
    in well-formed data gets its report inside the output folder (or is refused at load)."""
    ids = known_ids(source)
    if not ids:
        return
    source.rename_customer(ids[0], customer_id)
    with sandbox() as box:
        check_report(source, box, [f"--customer={customer_id}", "--as-of", AS_OF.isoformat()], False, report)
