"""Writing files atomically: staged in a temporary file beside the target, then renamed. A write that fails
raises OutputError naming the target, whatever file or call failed underneath."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cross_sell_upsell.errors import OutputError

_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


@contextmanager
def writing(target: Path) -> Iterator[None]:
    """Turns an OSError raised inside (by Python or by polars, for `target` or its temporary file) into an
    OutputError that names `target` and says why, e.g. `No space left on device`."""
    try:
        yield
    except OutputError:
        raise
    except OSError as error:
        raise OutputError(str(target), error.strerror or str(error)) from error


def make_folder(target: Path) -> None:
    """Creates `target`'s folder (and its parents) when missing; a file in the way is OutputError: not a folder."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        # The folder's name is taken by a file: say so, rather than mkdir's "File exists".
        raise OutputError(str(target), os.strerror(errno.ENOTDIR)) from None


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


def _encoded(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def stage_file(path: str | Path, data: str | bytes) -> Path:
    """Writes `data` (text as UTF-8) to a temporary file in `path`'s folder and returns the temporary path;
    `os.replace(temporary, path)` then publishes it in one step. Nothing is left behind on failure."""
    target = Path(path)
    with writing(target):
        make_folder(target)
        handle, temporary = _create_beside(target)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(_encoded(data))
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    return temporary


def _is_stream(target: Path) -> bool:
    """Whether `target` is a device or a pipe (`/dev/null`, `/dev/stdout`): no file to replace, only to write to."""
    try:
        mode = target.stat().st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISBLK(mode)


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Writes `data` to `path` through a temporary file in the same folder, so a reader never sees half a file
    and an interrupted run leaves the previous file intact. A device or pipe (`--output /dev/stdout`) is written
    to directly: renaming over it would replace the device node with a file."""
    target = Path(path)
    if _is_stream(target):
        with writing(target), open(target, "wb") as stream:
            stream.write(_encoded(data))
        return target
    temporary = stage_file(target, data)
    try:
        with writing(target):
            os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
