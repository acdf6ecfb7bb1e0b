"""Project settings for `run_orchestrator.py` and `run_batch_analysis.py`.

Change the business rules for your retailer here (every knob is described in
`src/cross_sell_upsell/configuration.py` and in the README). The chat-model settings come from the
environment or a `.env` file next to this one, so keys never live in the repository.
"""

from __future__ import annotations

from pathlib import Path

from dotenv import load_dotenv

from cross_sell_upsell.configuration import (
    DEFAULT_DATA_DIR,
    DEFAULT_OUTPUT_DIR,
    OrchestratorConfig,
    llm_settings_from_env,
)

PROJECT_ROOT = Path(__file__).resolve().parent
DATA_DIR = PROJECT_ROOT / DEFAULT_DATA_DIR
"""Data folder used when --data-dir is not given."""
OUTPUT_DIR = PROJECT_ROOT / DEFAULT_OUTPUT_DIR
"""Where reports go when --output is not given, and the chat model's answers are cached (in `.llm_cache`)."""


def orchestrator_config() -> OrchestratorConfig:
    """The configuration the command-line scripts run with."""
    load_dotenv(PROJECT_ROOT / ".env")
    return OrchestratorConfig(llm=llm_settings_from_env(cache_dir=OUTPUT_DIR / ".llm_cache"))
