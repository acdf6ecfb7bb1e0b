"""Writing files atomically: staged in a temporary file beside the target, then renamed."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def _create_beside(target: Path) -> tuple[int, Path]:
    """Creates a new, uniquely named temporary file in `target`'s folder and returns its descriptor and path.
    It gets the mode any new file gets under the process umask, as `open` would give it: mkstemp's 0600 would
    hide reports from the people and tools they are for, and reading the umask to widen it afterwards means
    setting it, process-wide, while other threads may be creating files."""
    while True:
        temporary = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(temporary, _NEW_FILE_FLAGS, 0o666), temporary
        except FileExistsError:
            continue


def stage_file(path: str | Path, data: str | bytes) -> Path:
    """Writes `data` (text as UTF-8) to a temporary file in `path`'s folder and returns the temporary path;
    `os.replace(temporary, path)` then publishes it in one step. Nothing is left behind on failure."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = _create_beside(target)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Writes `data` to `path` through a temporary file in the same folder, so a reader never sees half a file
    and an interrupted run leaves the previous file intact."""
    target = Path(path)
    temporary = stage_file(target, data)
    try:
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
