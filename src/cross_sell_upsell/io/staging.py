"""Several output files published together, or none of them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from cross_sell_upsell.io.files import stage_file


class StagedOutputs:
    """Files staged in temporary files beside their targets and published together by `commit`. Leaving the
    `with` block without committing (an error, an interrupt) deletes every staged file."""

    def __init__(self) -> None:
        self._staged: dict[Path, Path] = {}

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

    def temporary(self, target: Path) -> Path:
        return self._staged[target]

    def commit(self) -> None:
        """Publishes every staged file, in the order they were first staged."""
        while self._staged:
            target, temporary = next(iter(self._staged.items()))
            os.replace(temporary, target)
            del self._staged[target]

    def discard(self) -> None:
        for temporary in self._staged.values():
            temporary.unlink(missing_ok=True)
        self._staged.clear()
