"""Both commands, in-process, on the Tier 1 sample with hostile options appended to a sensible command line
(later options override earlier ones): a bad date or number, an unknown option, a missing value, a data path
that is missing or a file, an output that is a folder, under a file or too long. The same contract as for
hostile data: exit code 0, 1 or 2, one-line errors, nothing written on exit 2."""

from __future__ import annotations

from command_contract import check_files, check_outcome, run_in_process, snapshot
from command_scenarios import Sandbox, check_batch_outputs, mostly, sandbox
from hostile_values import AS_OF, budget
from hypothesis import given, settings
from hypothesis import strategies as st
from support import TIER1

from cross_sell_upsell.cli.batch import batch_main
from cross_sell_upsell.cli.orchestrator import orchestrator_main
from cross_sell_upsell.configuration import OrchestratorConfig

CONFIG = OrchestratorConfig()
BAD_NUMBERS = ("0", "-1", "x", "1.5", "", "99999999999999999999")


def common_options(box: Sandbox) -> list[list[str]]:
    """Hostile options both commands take."""
    a_file = box.inputs / "file.txt"
    return [
        ["--as-of", "2024-02-30"],
        ["--as-of", "soon"],
        ["--as-of", ""],
        ["--nope"],
        ["--data-dir", str(box.inputs / "missing")],
        ["--data-dir", str(a_file)],
        ["--transactions", str(box.inputs / "missing.csv")],
        ["--catalog", str(a_file)],
        ["--column", "no-equals-sign"],
        ["--output", str(box.out)],
        ["--output", str(box.out / "report.txt")],
        ["--output", str(a_file / "report.md")],
        ["--output", str(box.out / ("x" * 300 + ".md"))],
        ["--output", str(box.out / "new" / "folder" / "report.md")],
        ["--llm"],
        ["--as-of"],  # last, so the option has no value
    ]


def batch_options(box: Sandbox) -> list[list[str]]:
    """Hostile options of the batch."""
    return [
        *common_options(box),
        *(["--chunk-size", number] for number in BAD_NUMBERS),
        *(["--top-priority", number] for number in BAD_NUMBERS),
        ["--customers", "C001", "-x"],
        ["--quiet", "--verbose"],
        ["--customers"],
    ]


def report_options(box: Sandbox) -> list[list[str]]:
    """Hostile options of the single-customer report."""
    return [
        *common_options(box),
        *(["--top", number] for number in BAD_NUMBERS),
        ["--format", "xml"],
        ["--customer", "C999"],
        ["--customer=" + "y" * 10_000],
        ["--customer"],
    ]


def hostile_command_line(draw: st.DrawFn, box: Sandbox, sensible: list[str], hostile: list[list[str]]) -> list[str]:
    """The sensible command line with one to three hostile options after it."""
    box.inputs.mkdir(parents=True, exist_ok=True)
    (box.inputs / "file.txt").write_text("not a folder\n", encoding="utf-8")
    extra = draw(st.lists(st.sampled_from(hostile), min_size=1, max_size=3))
    return [*sensible, *(argument for option in extra for argument in option)]


@settings(max_examples=budget(80))
@given(data=st.data())
def test_the_batch_command_keeps_its_contract_on_hostile_options(data: st.DataObject) -> None:
    with sandbox() as box:
        quiet = data.draw(mostly(["--quiet"], []))
        sensible = ["--data-dir", str(TIER1), "--as-of", AS_OF.isoformat(), "--output", str(box.out / "r.md"), *quiet]
        argv = hostile_command_line(data.draw, box, sensible, batch_options(box))
        before = snapshot(box.root)
        outcome = run_in_process(lambda args: batch_main(args, CONFIG, TIER1, box.out), argv)
        check_outcome(outcome)
        written = check_files(outcome, box.root, before, box.out)
        if outcome.code != 2:
            check_batch_outputs(outcome, written, None)


@settings(max_examples=budget(150))
@given(data=st.data())
def test_the_report_command_keeps_its_contract_on_hostile_options(data: st.DataObject) -> None:
    with sandbox() as box:
        sensible = ["--data-dir", str(TIER1), "--as-of", AS_OF.isoformat(), "--customer", "C001"]
        argv = hostile_command_line(data.draw, box, sensible, report_options(box))
        before = snapshot(box.root)
        outcome = run_in_process(lambda args: orchestrator_main(args, CONFIG, TIER1, box.out), argv)
        check_outcome(outcome)
        check_files(outcome, box.root, before, box.out)
