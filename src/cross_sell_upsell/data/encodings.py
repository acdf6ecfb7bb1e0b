"""Reading text input files (CSV and JSON) whatever their encoding: UTF-8, with or without a byte-order mark, is
read as it is; a file that is not UTF-8 is decoded with the configured fallback encoding (`IngestSettings.encoding`,
`--encoding`), or refused with an error naming the file, the first byte that is not UTF-8 and the option.

Nothing is decoded lossily: a byte the encoding cannot decode is an error too. polars reads only UTF-8 (its
`utf8-lossy` mode replaces bad bytes silently), so a CSV file in another encoding is transcoded to a temporary
UTF-8 copy that lives as long as the reading does.
"""

from __future__ import annotations

import codecs
import io
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cross_sell_upsell.errors import ConfigurationError, DataValidationError

_CHUNK_BYTES = 1 << 20


def read_text(path: Path, encoding: str | None) -> str:
    """The text of a small file (a JSON file): UTF-8 (a byte-order mark is dropped), else decoded with
    `encoding`. Raises DataValidationError when it is neither, ConfigurationError for an unknown encoding."""
    _check_known(encoding)
    text = io.StringIO()
    bad = _decode(path, "utf-8", text.write)
    if bad is not None:
        text = io.StringIO()
        _refuse_undecodable(path, encoding, bad, _decode(path, encoding, text.write) if encoding else bad)
    return text.getvalue().removeprefix("\ufeff")


@contextmanager
def utf8_file(path: Path, encoding: str | None) -> Iterator[Path]:
    """`path` itself when it is UTF-8 (with or without a byte-order mark, which polars skips), else a temporary
    UTF-8 copy decoded with `encoding`, removed when the block ends. Raises DataValidationError when the file is
    neither, ConfigurationError for an unknown encoding."""
    _check_known(encoding)
    bad = _decode(path, "utf-8")
    if bad is None:
        yield path
        return
    if encoding is None:
        _refuse_undecodable(path, encoding, bad, bad)
    with tempfile.TemporaryDirectory(prefix="cross-sell-") as folder:
        copy = Path(folder) / path.name
        with copy.open("w", encoding="utf-8", newline="") as target:
            _refuse_undecodable(path, encoding, bad, _decode(path, encoding, target.write))
        yield copy


def _check_known(encoding: str | None) -> None:
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigurationError(f"unknown encoding '{encoding}' (--encoding, ingest.encoding)") from None


def _decode(path: Path, encoding: str, write: Callable[[str], object] | None = None) -> tuple[int, int] | None:
    """Decodes the file chunk by chunk, passing the text to `write`; (line, byte value) of the first byte that
    does not decode, None when every byte does."""
    decoder = codecs.getincrementaldecoder(encoding)()
    newlines = 0
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(_CHUNK_BYTES)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # The decoder puts the bytes it held back from the previous chunk in front of this one.
                in_chunk = max(exc.start - (len(exc.object) - len(chunk)), 0)
                return newlines + chunk.count(b"\n", 0, in_chunk) + 1, exc.object[exc.start]
            if write is not None:
                write(text)
            if not chunk:
                return None
            newlines += chunk.count(b"\n")


def _refuse_undecodable(
    path: Path, encoding: str | None, not_utf8: tuple[int, int], not_fallback: tuple[int, int] | None
) -> None:
    """Raises for a file that is not UTF-8 (at `not_utf8`) and that the fallback `encoding` does not decode
    either (at `not_fallback`; None when it does)."""
    if not_fallback is None:
        return
    line, byte = not_fallback
    if encoding is None:
        problem = (
            f"is not UTF-8 text (byte 0x{byte:02X} on line {line}); give its encoding with --encoding "
            "(ingest.encoding), e.g. latin-1 or cp1252"
        )
    else:
        problem = f"is neither UTF-8 (line {not_utf8[0]}) nor {encoding} (byte 0x{byte:02X} on line {line})"
    raise DataValidationError(str(path), "-", "-", problem)
