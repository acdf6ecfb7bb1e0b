"""File names built from data (a customer id in a report's name): one plain name, never a way out of the folder."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from cross_sell_upsell.errors import OutputError

_KEPT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
"""Ids written into a name as they are: letters, digits, '.', '_' and '-', not starting with '.', at most 64."""
_REPLACED = re.compile(r"[^A-Za-z0-9_-]")
_READABLE_CHARS, _HASH_CHARS = 40, 12


def name_part(value: str) -> str:
    """`value` as part of a file name. An id made of safe characters (see `_KEPT`) stays as it is, so the names
    of ordinary ids (`report_C001_2024-03-01.md`) do not change. Any other id is cut to its first 40 characters,
    each character but a letter, digit, '_' or '-' becomes '_', and '~' and a hash of the whole id follow: two
    ids never share a name, and none of these names is an id kept as it is (those have no '~')."""
    if _KEPT.fullmatch(value):
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    return f"{_REPLACED.sub('_', value[:_READABLE_CHARS])}~{digest}"


def file_in(folder: Path, name: str) -> Path:
    """`folder / name`, after checking that it is a file directly inside `folder`, resolved (symbolic links
    followed) as the system will: a name built from data must never reach another folder. Raises OutputError."""
    path = folder / name
    if name in {"", ".", ".."} or "\0" in name or path.parent != folder or path.resolve().parent != folder.resolve():
        raise OutputError(str(path), f"the name would leave the folder {folder}")
    return path
