"""Writing files atomically: staged in a temporary file beside the target, then renamed."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _published_mode() -> int:
    """The mode a newly created file gets under the process umask (mkstemp's own 0600 would hide reports
    from the people and tools they are for)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_PUBLISHED_MODE = _published_mode()


def stage_file(path: str | Path, data: str | bytes) -> Path:
    """Writes `data` (text as UTF-8) to a temporary file in `path`'s folder and returns the temporary path;
    `os.replace(temporary, path)` then publishes it in one step. Nothing is left behind on failure."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(temporary, _PUBLISHED_MODE)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


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
