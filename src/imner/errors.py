"""The exception hierarchy. Every message says what was wrong, where, and what is allowed."""

from __future__ import annotations


class ImnerError(Exception):
    """Base class of every error imner raises on purpose."""


class InputError(ImnerError, ValueError):
    """Bad input data: names the source (file), the line and/or character offset where known."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 offset: int | None = None) -> None:
        self.source, self.line, self.offset = source, line, offset
        where = []
        if source is not None:
            where.append(str(source))
        if line is not None:
            where.append(f"line {line}")
        if offset is not None:
            where.append(f"offset {offset}")
        super().__init__(f"{': '.join([', '.join(where)] if where else [])}{': ' if where else ''}{message}")


class OffsetMismatchError(InputError):
    """A mention string does not equal ``text[start:end]``."""

    def __init__(self, *, expected: str, found: str, start: int, end: int, source: str | None = None,
                 line: int | None = None) -> None:
        self.expected, self.found = expected, found
        super().__init__(
            f"mention {expected!r} does not match text[{start}:{end}] = {found!r} "
            "(offsets must index the decoded text exactly, half-open [start, end))",
            source=source, line=line,
        )


class FormatError(InputError):
    """A malformed line or record in a known format."""


class LabelError(ImnerError, ValueError):
    """A label that is not part of the schema or label set in use."""


class ConfigError(ImnerError, ValueError):
    """A bad configuration file or option."""


class ModelNotFoundError(ImnerError, FileNotFoundError):
    """A model directory or resource that does not exist; the message says how to make it."""


class DataNotFoundError(ImnerError, FileNotFoundError):
    """A corpus or lexicon missing under the data directory (IMNER_DATA)."""
