"""`--config PATH`: business rules from a TOML file, on top of the code-level defaults (`config.py`, or the
library's for `cross-sell`) and under the command-line flags.

The file holds any `OrchestratorConfig` field; the nested settings (`weights`, `signals`, `llm`, `ingest`) and
the mappings (`margin_multipliers`, `ingest.category_mapping`, ...) are TOML tables, and a table changes only
the keys it names. An unknown key or a bad value is one line naming the file and the key.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cross_sell_upsell.configuration import OrchestratorConfig
from cross_sell_upsell.errors import ConfigurationError

KNOWN_KEYS_SHOWN = 160
"""An unknown key's error lists the keys it could have been when they fit in this many characters."""


def read_toml(path: Path) -> dict[str, Any]:
    """The file's table; ConfigurationError naming the file when it cannot be read or is not TOML."""
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except OSError as error:
        raise ConfigurationError(f"--config {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{path}: not UTF-8 text, so not a TOML file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: not valid TOML: {error}") from None


def _merged(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `update`'s values; a table on both sides is merged key by key."""
    merged = dict(base)
    for key, value in update.items():
        below = merged.get(key)
        both_tables = isinstance(value, Mapping) and isinstance(below, Mapping)
        merged[key] = _merged(below, value) if both_tables else value
    return merged


def _leaf_keys(table: Mapping[str, Any], model: type[BaseModel] | None, prefix: str = "") -> set[str]:
    """The dotted settings a file's table sets: into nested settings, not into mappings (a mapping is one value)."""
    keys = set()
    for key, value in table.items():
        field = model.model_fields.get(key) if model else None
        nested = field.annotation if field and isinstance(field.annotation, type) else None
        if isinstance(value, Mapping) and nested is not None and issubclass(nested, BaseModel):
            keys |= _leaf_keys(value, nested, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def _problem(path: Path, error: ValidationError) -> str:
    """The first validation error as one line naming the file and the dotted key."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] != "extra_forbidden":
        return f"{path}: key '{key}': {message}" if key else f"{path}: {message}"
    parent, _, name = key.rpartition(".")
    model: type[BaseModel] = OrchestratorConfig
    for part in parent.split(".") if parent else []:
        model = model.model_fields[part].annotation
    known = ", ".join(model.model_fields)
    close = difflib.get_close_matches(name, list(model.model_fields), n=1)
    if close:
        return f"{path}: unknown key '{key}'; did you mean '{close[0]}'?"
    where = f" in [{parent}]" if parent else ""
    listed = known if len(known) <= KNOWN_KEYS_SHOWN else "see the README's configuration section"
    return f"{path}: unknown key '{key}'; the keys{where}: {listed}"


def config_from_file(path: Path, base: OrchestratorConfig) -> tuple[OrchestratorConfig, frozenset[str]]:
    """`base` with the settings of the TOML file at `path`, and the dotted keys the file set (for `status`).
    Raises ConfigurationError, one line naming the file and the key, for an unknown key or a bad value."""
    table = read_toml(path)
    try:
        config = OrchestratorConfig.model_validate(_merged(base.model_dump(), table))
    except ValidationError as error:
        raise ConfigurationError(_problem(path, error)) from None
    return config, frozenset(_leaf_keys(table, OrchestratorConfig))


def settings_in_effect(config: BaseModel, prefix: str = "") -> dict[str, Any]:
    """Every setting of `config` (an OrchestratorConfig) by dotted key (`weights.affinity`); a mapping is one
    setting."""
    values: dict[str, Any] = {}
    for name in type(config).model_fields:
        value = getattr(config, name)
        if isinstance(value, BaseModel):
            values |= settings_in_effect(value, f"{prefix}{name}.")
        else:
            values[f"{prefix}{name}"] = value
    return values
