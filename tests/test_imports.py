"""The package imports cheaply: the domain packages load without the LLM stack or LangGraph, and the public names
of `cross_sell_upsell` are still all there, imported on first use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import cross_sell_upsell

DOMAIN_PACKAGES = ("data", "features", "models", "snapshot", "offers")

IMPORT_EVERY_DOMAIN_MODULE = f"""
import importlib, json, pkgutil, sys

imported = []
for package in {DOMAIN_PACKAGES!r}:
    root = importlib.import_module(f"cross_sell_upsell.{{package}}")
    for module in pkgutil.walk_packages(root.__path__, f"{{root.__name__}}."):
        imported.append(importlib.import_module(module.name).__name__)
heavy = sorted(name for name in sys.modules if name.startswith(("langchain", "langgraph")))
print(json.dumps({{"imported": imported, "heavy": heavy}}))
"""


def test_domain_modules_import_without_the_llm_stack() -> None:
    # A fresh interpreter: this one has long since loaded LangGraph for other tests.
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_DOMAIN_MODULE], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(completed.stdout)
    assert {"cross_sell_upsell.offers.scoring", "cross_sell_upsell.data.dataset"} <= set(result["imported"])
    assert result["heavy"] == []


def test_every_public_name_imports_from_the_package() -> None:
    from cross_sell_upsell import (  # noqa: F401
        ConfigurationError,
        CrossSellError,
        CustomerReport,
        Dataset,
        DataValidationError,
        LLMSettings,
        Opportunity,
        OrchestratorConfig,
        ScoringWeights,
        UnknownCustomerError,
        analyze_cohort,
        analyze_customer,
        load_dataset,
    )

    for name in cross_sell_upsell.__all__:
        value = getattr(cross_sell_upsell, name)
        assert value.__name__ == name
        assert getattr(sys.modules[value.__module__], name) is value  # the defining module's object, not a copy
    assert set(cross_sell_upsell.__all__) <= set(dir(cross_sell_upsell))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'analyse_customer'"):
        cross_sell_upsell.analyse_customer  # noqa: B018
