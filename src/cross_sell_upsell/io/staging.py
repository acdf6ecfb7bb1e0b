"""Several output files published together, or none of them."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Self

from cross_sell_upsell.io.files import make_folder, stage_file, writing

_APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


class StagedOutputs:
    """Files staged in temporary files beside their targets and published together by `commit`. Leaving the
    `with` block without committing (an error, an interrupt, SIGTERM at the command line) deletes every staged
    file. A failed write raises OutputError naming the target."""

    def __init__(self) -> None:
        self._staged: dict[Path, Path] = {}
        self._scratch: list[Path] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.discard()

    def add(self, target: Path, data: str | bytes) -> Path:
        """Stages `data` for `target` (replacing anything staged for it) and returns the temporary file."""
        return self.swap(target, stage_file(target, data))

    def swap(self, target: Path, temporary: Path) -> Path:
        """Stages an already written temporary file for `target`."""
        previous = self._staged.pop(target, None)
        if previous is not None and previous != temporary:
            previous.unlink(missing_ok=True)
        self._staged[target] = temporary
        return temporary

    def sink(self, target: Path, write: Callable[[Path], object]) -> Path:
        """Stages for `target` the file `write` writes into a new temporary file beside it (a lazy frame's sink,
        say, streaming more than fits in memory); a failed write leaves nothing behind."""
        temporary = stage_file(target, b"")
        try:
            with writing(target):
                write(temporary)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return self.swap(target, temporary)

    def rename(self, target: Path, new_target: Path) -> None:
        """Stages for `new_target`, in `target`'s place in the publishing order, what was staged for `target`."""
        self._staged = {new_target if path == target else path: temporary for path, temporary in self._staged.items()}

    def scratch(self, target: Path) -> Path:
        """A new empty folder beside `target` for files the run needs but never publishes (the run store's rows,
        spilled chunk by chunk); deleted when the `with` block ends, whether the files were published or not."""
        with writing(target):
            make_folder(target)
            folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        self._scratch.append(folder)
        return folder

    def temporary(self, target: Path) -> Path:
        return self._staged[target]

    @contextmanager
    def appending(self, target: Path) -> Iterator[BinaryIO]:
        """The file staged for `target`, open for appending. It is never created anew: a writer thread that
        comes late, after an interrupt discarded the staged files, gets an error instead of leaving a file."""
        with writing(target), os.fdopen(os.open(self._staged[target], _APPEND_FLAGS), "ab") as stream:
            yield stream

    def commit(self) -> None:
        """Publishes every staged file, in the order they were first staged."""
        while self._staged:
            target, temporary = next(iter(self._staged.items()))
            with writing(target):
                os.replace(temporary, target)
            del self._staged[target]

    def discard(self) -> None:
        """Deletes every staged file and scratch folder (after `commit`, only the scratch folders are left)."""
        for temporary in self._staged.values():
            temporary.unlink(missing_ok=True)
        self._staged.clear()
        for folder in self._scratch:
            shutil.rmtree(folder, ignore_errors=True)
        self._scratch.clear()
