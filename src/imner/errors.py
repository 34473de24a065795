"""The exception hierarchy. Every message says what was wrong, where, and what is allowed.

The command line (:mod:`imner.cli`) turns each kind into one line on standard error and an exit code
(:data:`EXIT_CODES`, documented in README "Extracting entities"); ``--debug`` shows the traceback instead.
Messages quote at most a short excerpt of a document (:func:`excerpt`): document text never reaches a log or an
error message beyond the offending line or offset.
"""

from __future__ import annotations

#: longest excerpt of input text an error message quotes
EXCERPT_CHARS = 60


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """``repr`` of ``value`` cut to about ``limit`` characters (``...`` marks the cut), for error messages."""
    s = value if isinstance(value, str) else str(value)
    if len(s) > limit:
        return repr(s[:limit]) + f"... ({len(s)} characters)"
    return repr(s)


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
            f"mention {excerpt(expected)} does not match text[{start}:{end}] = {excerpt(found)} "
            "(offsets must index the decoded text exactly, half-open [start, end))",
            source=source, line=line,
        )


class FormatError(InputError):
    """A malformed line or record in a known format."""


class DuplicateIdError(InputError):
    """Two input documents with the same id (after conversion to a string: JSON ``1`` and ``"1"`` collide)."""


class LabelError(ImnerError, ValueError):
    """A label that is not part of the schema or label set in use."""


class ConfigError(ImnerError, ValueError):
    """A bad configuration file or option."""


class ModelNotFoundError(ImnerError, FileNotFoundError):
    """A model directory or resource that does not exist; the message says how to make it."""


class ModelError(ImnerError):
    """A model directory whose files are damaged (truncated, not what the manifest's checksum says, unreadable)."""


class DataNotFoundError(ImnerError, FileNotFoundError):
    """A corpus or lexicon missing under the data directory (IMNER_DATA)."""


class OutputError(ImnerError):
    """An output that cannot be written (disk full, no permission, the input itself); earlier output is kept."""


class RunInterrupted(ImnerError):
    """A run stopped by Ctrl-C; the message says what was written and how to go on."""


#: exit status of the ``imner`` command per kind of failure (the first matching class wins)
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (RunInterrupted, 130),
    (ModelNotFoundError, 3),
    (ModelError, 3),
    (DataNotFoundError, 4),
    (OutputError, 5),
    (ImnerError, 1),      # bad input data, options, labels, configuration
    (OSError, 5),         # a file that cannot be read or written
)
#: usage errors (argparse) exit with 2; an interrupted run (Ctrl-C) with 130
EXIT_USAGE, EXIT_INTERRUPTED = 2, 130


def exit_code(exc: BaseException) -> int:
    """The exit status :mod:`imner.cli` uses for ``exc``."""
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1
