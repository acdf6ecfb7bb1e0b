"""The real scripts, run as a user runs them (a subprocess of this interpreter), on generated files, options
and, sometimes, a bad LLM setting in the environment: the same contract as the in-process runs. Each run
starts an interpreter, so there are few examples, and a failing one is reported as found rather than shrunk
(shrinking would rerun the script hundreds of times); the in-process tests cover many more and shrink theirs."""

from __future__ import annotations

from functools import partial

from command_contract import Outcome, run_script
from command_scenarios import Sandbox, Source, check_batch_run, check_report_run, mostly, sources
from hostile_values import budget
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

UNSHRUNK = (Phase.explicit, Phase.reuse, Phase.generate)

ENVIRONMENTS = ({}, {"LLM_TIMEOUT_SECONDS": "soon"}, {"LLM_MAX_RETRIES": "-1"}, {"LLM_ENABLED": "maybe"})
"""The environment the script runs in: nothing extra, or one bad LLM setting."""


def script(name: str, environment: dict[str, str], box: Sandbox, argv: list[str]) -> Outcome:
    """Runs the script `name` in the sandbox, with `environment` added to the scrubbed environment."""
    return run_script(name, argv, cwd=box.root, environment=environment)


@settings(max_examples=budget(4), phases=UNSHRUNK)
@given(source=sources(), environment=mostly(*ENVIRONMENTS), data=st.data())
def test_the_batch_script_keeps_its_contract(source: Source, environment: dict[str, str], data: st.DataObject) -> None:
    check_batch_run(source, data.draw, partial(script, "run_batch_analysis.py", environment), in_process=False)


@settings(max_examples=budget(4), phases=UNSHRUNK)
@given(source=sources(), environment=mostly(*ENVIRONMENTS), data=st.data())
def test_the_orchestrator_script_keeps_its_contract(
    source: Source, environment: dict[str, str], data: st.DataObject
) -> None:
    check_report_run(source, data.draw, partial(script, "run_orchestrator.py", environment), in_process=False)
