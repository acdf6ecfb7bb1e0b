"""The LLM settings: defaults and the environment variables that set them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cross_sell_upsell import LLMSettings
from cross_sell_upsell.configuration import LLM_ENVIRONMENT, llm_settings_from_env
from cross_sell_upsell.errors import ConfigurationError


def test_defaults_keep_the_prompt_private_and_the_run_cheap() -> None:
    settings = LLMSettings()
    assert (settings.enabled, settings.include_customer_name, settings.include_notes) == (False, False, False)
    assert (settings.temperature, settings.offers_per_customer, settings.priority_customers) == (0.0, 3, 50)
    assert (settings.max_concurrency, settings.max_rationale_chars) == (4, 300)
    assert settings.cache_dir is None  # no cache folder appears wherever a notebook runs
    # gpt-4o-mini's list prices: $0.15 and $0.60 per million tokens
    assert (settings.input_price_per_1k, settings.output_price_per_1k) == (0.00015, 0.0006)


def test_every_setting_but_the_key_has_an_environment_variable() -> None:
    assert set(LLM_ENVIRONMENT.values()) == set(LLMSettings.model_fields)


def test_settings_from_the_environment() -> None:
    settings = llm_settings_from_env(
        {
            "LLM_ENABLED": "true",
            "LLM_MODEL": "llama3.1",
            "OPENAI_BASE_URL": "http://localhost:11434/v1",
            "LLM_OFFERS_PER_CUSTOMER": "5",
            "LLM_PRIORITY_CUSTOMERS": "10",
            "LLM_MAX_CONCURRENCY": "8",
            "LLM_MAX_RATIONALE_CHARS": "200",
            "LLM_INCLUDE_CUSTOMER_NAME": "yes",
            "LLM_INCLUDE_NOTES": "1",
            "LLM_CACHE_DIR": "/tmp/llm-cache",
            "LLM_INPUT_PRICE_PER_1K": "0",
            "LLM_OUTPUT_PRICE_PER_1K": "0",
        }
    )
    assert settings.model_dump(exclude={"temperature", "timeout_seconds", "max_retries"}) == {
        "enabled": True,
        "model": "llama3.1",
        "base_url": "http://localhost:11434/v1",
        "offers_per_customer": 5,
        "priority_customers": 10,
        "max_concurrency": 8,
        "max_rationale_chars": 200,
        "include_customer_name": True,
        "include_notes": True,
        "cache_dir": Path("/tmp/llm-cache"),
        "input_price_per_1k": 0.0,
        "output_price_per_1k": 0.0,
    }


@pytest.mark.parametrize("value", ["off", "none", "NONE"])
def test_the_cache_can_be_switched_off_from_the_environment(value: str) -> None:
    assert llm_settings_from_env({"LLM_CACHE_DIR": value}).cache_dir is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LLM_MAX_CONCURRENCY", "0", "Input should be greater than or equal to 1"),
        ("LLM_INCLUDE_NOTES", "maybe", "Input should be a valid boolean, unable to interpret input"),
        ("LLM_INPUT_PRICE_PER_1K", "-1", "Input should be greater than or equal to 0"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        llm_settings_from_env({variable: value})
    assert str(caught.value) == f"environment variable {variable}: {message}"
