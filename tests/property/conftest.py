"""Settings profiles of the property-based tests, and an environment without chat-model credentials.

`quick` (the default) is derandomized, so every run, in CI or on a laptop, tries the same examples and a failure
reproduces; it keeps all the property tests together to under a minute per worker. `long` (HYPOTHESIS_PROFILE=long) tries
twenty times as many fresh random examples each run; a failure prints the `@reproduce_failure` blob that
replays it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from command_contract import CLIENT_ENVIRONMENT
from hypothesis import HealthCheck, settings

settings.register_profile(
    "quick",
    # A fifth of Hypothesis' default: the default run stays under five minutes now the suite has grown past 1,300
    # tests (a run store, a browser, a database server, partitioned runs); HYPOTHESIS_PROFILE=long draws 2,000.
    max_examples=20,
    derandomize=True,
    database=None,
    deadline=None,  # a command run takes a second or more, and its first run imports the LLM stack
    print_blob=True,
    # Generating a data set with its files takes longer than Hypothesis expects of a strategy.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
settings.register_profile("long", settings.get_profile("quick"), max_examples=2_000, derandomize=False)


def pytest_configure(config: pytest.Config) -> None:
    """Loads HYPOTHESIS_PROFILE (default `quick`), also over the `ci` profile Hypothesis picks on a CI server,
    unless pytest's --hypothesis-profile chose one."""
    if not config.getoption("--hypothesis-profile", default=None):
        settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


@pytest.fixture(autouse=True, scope="module")
def no_chat_model_credentials() -> Iterator[None]:
    """No key, endpoint or LLM setting from the developer's shell reaches an in-process run."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [*CLIENT_ENVIRONMENT, *(name for name in os.environ if name.startswith("LLM_"))]:
            patch.delenv(name, raising=False)
        yield
