"""Ctrl-C (SIGINT) and SIGTERM at the command line: both stop a run the same clean way. The first one raises
`Interrupted` in the main thread, so whatever cleans up after Ctrl-C (staged files deleted, the export's writer
waited for) cleans up after SIGTERM too; later ones are ignored so that cleanup is not cut short. The command
says so in one line and exits with 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM. Once a run
starts publishing its files, it is too late to stop: it finishes as if no signal came.

Standard library only: a top-level script imports this first, before the library, so an interrupt while the
library loads is handled too."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that stop a run cleanly."""

_WORDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM during a command: a KeyboardInterrupt, so every cleanup written for Ctrl-C runs for both."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        """The signal's number."""


def _stopping(signum: int, frame: object) -> None:
    """A run is already stopping: a later signal waits for its cleanup. (A Python function rather than SIG_IGN:
    a signal that arrived while the first was being handled is still delivered to it, and CPython reports one
    delivered to SIG_IGN as an error.)"""


def _raise_once(signum: int, frame: object) -> None:
    _in_place_of_raising(_stopping)
    raise Interrupted(signum)


def _in_place_of_raising(handler: Callable[[int, object], None]) -> None:
    for signum in SIGNALS:
        if signal.getsignal(signum) is _raise_once:
            signal.signal(signum, handler)


def _finishing(signum: int, frame: object) -> None:
    """A run is publishing its files: too late to stop, it finishes as if no signal came."""


_LEFT_ALONE = (signal.SIG_IGN, None, _raise_once, _stopping, _finishing)
"""Handlers `interrupts_raised` keeps: ignored from the start, set outside Python, or an enclosing block's."""


@contextmanager
def interrupts_raised(*, until_exit: bool = False) -> Iterator[None]:
    """Inside the block, the first SIGINT or SIGTERM raises `Interrupted` and later ones are ignored; the previous
    handlers are back on leaving, or with `until_exit`, after a signal came, the later ones stay ignored (the
    process is about to exit, and a signal while it does would print a traceback). A signal the process was
    started ignoring (under `nohup`) stays ignored; in a block inside another one, or outside the main thread
    (where handlers cannot be set), nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
    replaced = {signum: handler for signum, handler in previous.items() if handler not in _LEFT_ALONE}
    for signum in replaced:
        signal.signal(signum, _raise_once)
    try:
        yield
    finally:
        stopping = until_exit and _stopping in map(signal.getsignal, SIGNALS)
        for signum, handler in replaced.items():
            # Ignored at the system level: Python resets its own handlers to the default (death by the signal)
            # while it shuts down.
            signal.signal(signum, signal.SIG_IGN if stopping else handler)


def finish_uninterrupted() -> None:
    """Called just before a run publishes its files (renames them into place): from here on, inside
    `interrupts_raised`, SIGINT and SIGTERM are ignored and the run finishes as if none came. Stopping halfway
    would leave some files published and others not, and the line `no output was written` untrue."""
    if threading.current_thread() is threading.main_thread():
        _in_place_of_raising(_finishing)


def report_interrupt(interrupt: KeyboardInterrupt) -> int:
    """Says on stderr, in one line, that the run stopped and wrote nothing; returns the exit code, 128 + the
    signal's number (a KeyboardInterrupt from elsewhere counts as SIGINT)."""
    signum = interrupt.signum if isinstance(interrupt, Interrupted) else signal.SIGINT
    print(f"error: {_WORDS[signum]}; no output was written", file=sys.stderr)
    return 128 + signum


def run_interruptible(main: Callable[[], int]) -> int:
    """Runs a top-level script's `main`, which imports the library and runs a guarded command, with SIGINT and
    SIGTERM handled from the start: one that comes before the command's guard takes over (while the library is
    imported or the options are parsed) is reported the same way, never as a traceback."""
    with interrupts_raised(until_exit=True):
        try:
            return main()
        except KeyboardInterrupt as interrupt:
            return report_interrupt(interrupt)
