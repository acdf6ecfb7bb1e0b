"""Fixtures of the rationale-step tests; the test doubles themselves are in llm_fakes.py."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest
from llm_fakes import API_KEY, StubServer, opportunities_frame, serving

_CLIENT_ENVIRONMENT = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "LANGSMITH_TRACING",
    "LANGCHAIN_TRACING_V2",
)


@pytest.fixture(autouse=True)
def isolated_client_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key, endpoint or tracing from the developer's shell leaks into a test."""
    for variable in _CLIENT_ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with serving() as server:
        yield server


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    return API_KEY


@pytest.fixture
def opportunities() -> pl.DataFrame:
    return opportunities_frame()
