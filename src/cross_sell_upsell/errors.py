"""Domain errors. Each renders as one line; the CLIs turn them into exit code 2 at the boundary."""

from __future__ import annotations

LINE_HEAD, LINE_TAIL = 300, 100
"""An error message longer than these two and the '...' between them keeps only its start and end."""


def elided(text: str, head: int = 40, tail: int = 10) -> str:
    """`text` as an error message shows it: on one line, control characters (a newline, a NUL) written as escapes
    (`\\n`, `\\x00`), and when longer than `head` + `tail` + 3 characters, only its first `head` and last `tail`
    around '...'. A value from the data (an id) can be any length; the message that echoes it should not."""
    text = "".join(character if character.isprintable() else ascii(character)[1:-1] for character in text)
    if len(text) <= head + tail + 3:
        return text
    return f"{text[:head]}...{text[-tail:]}"


class CrossSellError(Exception):
    """Base class for every error the orchestrator reports to a user. Its message is one line, capped in length."""

    def __init__(self, message: str) -> None:
        super().__init__(elided(message, LINE_HEAD, LINE_TAIL))


class DataValidationError(CrossSellError):
    """A record in an input file breaks the data contract."""

    def __init__(self, file: str, record_id: str, field: str, problem: str) -> None:
        self.file = file
        self.record_id = record_id
        self.field = field
        self.problem = problem
        super().__init__(f"{file}: record {elided(record_id)}: field '{elided(field)}': {problem}")


class UnknownCustomerError(CrossSellError):
    """A requested customer id is not in the data."""

    def __init__(self, customer_id: str, suggestions: list[str]) -> None:
        self.customer_id = customer_id
        self.suggestions = suggestions
        hint = f"; closest known ids: {', '.join(map(elided, suggestions))}" if suggestions else ""
        super().__init__(f"unknown customer id '{elided(customer_id)}'{hint}")


class ConfigurationError(CrossSellError):
    """A configuration value (from the environment, a file or an option) is invalid."""


class OutputError(CrossSellError, OSError):
    """An output file cannot be written: a folder in the way, no permission, a full disk, or a name built from data
    that would leave its folder. An OSError too, so code that treats a failed write as one (a best-effort cache)
    still does."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        """The file that was to be written (never the temporary file it is staged in)."""
        self.reason = reason
        """Why it cannot be, e.g. `No space left on device`."""
        super().__init__(f"cannot write {path}: {reason}")
