"""Shared pieces of the format readers: text decoding policy and offset-mismatch handling.

Text decoding policy (every reader and :func:`imner.io.inputs.read_text_file`):

* bytes are decoded as UTF-8, strictly; anything else is an :class:`~imner.errors.InputError` naming the file and
  the byte offset of the first bad byte (convert with ``iconv``);
* no newline translation: ``\\r\\n`` stays two characters, so offsets index the file's text as written;
* a leading byte-order mark (``EF BB BF``) is removed and reported as ``bom=True``; offsets then index the text
  *without* the BOM (the convention of brat, PubTator and every corpus we read);
* a NUL byte in the first 8 KB means the file is binary (or UTF-16/32) and is refused.
"""

from __future__ import annotations

import re
import shlex
import warnings
from pathlib import Path
from typing import Any, Iterator, Literal

from imner.errors import FormatError, InputError, OffsetMismatchError
from imner.types import Span

BOM = "\ufeff"
BINARY_SNIFF_BYTES = 8192
OnMismatch = Literal["raise", "warn", "skip"]
ON_MISMATCH_CHOICES = ("raise", "warn", "skip")


class OffsetMismatchWarning(UserWarning):
    """A mention whose text does not match its offsets, kept (``warn``) or left out (``skip``)."""


def check_not_binary(data: bytes, source: str | Path) -> None:
    """Refuse data with a NUL byte in its first 8 KB."""
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise InputError(
            f"looks binary (NUL byte at byte offset {data.index(0)}); imner reads UTF-8 text only "
            "(a UTF-16 file also has NUL bytes: convert it with `iconv -f UTF-16 -t UTF-8`)", source=str(source))


def iconv_hint(path: str | Path) -> str:
    """How to convert ``path`` to UTF-8 (its full path, quoted for a shell)."""
    p = Path(path)
    out = p.with_name(f"{p.stem}.utf8{p.suffix}")
    return f"e.g. `iconv -f LATIN1 -t UTF-8 {shlex.quote(str(p))} > {shlex.quote(str(out))}`"


def decode_bytes(data: bytes, source: str | Path) -> tuple[str, bool]:
    """Decode ``data`` under the policy above. Returns ``(text, had_bom)``."""
    check_not_binary(data, source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 1].hex().upper()
        if str(source).startswith("<"):
            hint = "e.g. `iconv -f LATIN1 -t UTF-8 in.txt | imner extract -`"
        else:
            hint = iconv_hint(source)
        raise InputError(
            f"not valid UTF-8 at byte offset {exc.start} (byte 0x{bad}); the file must be UTF-8 — convert it, "
            f"{hint}", source=str(source)) from None
    if text.startswith(BOM):
        return text[1:], True
    return text, False


def read_text(path: str | Path) -> tuple[str, bool]:
    """Read and decode a file under the policy above; a missing file is an :class:`InputError`."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", source=str(p)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", source=str(p)) from None
    return decode_bytes(data, p)


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_no_surrogates(value: str, what: str, *, source: str, line: int | None) -> None:
    """An :class:`InputError` when ``value`` holds a lone surrogate (a JSON ``\\ud800`` escape without its pair):
    such a string is not Unicode text and cannot be written as UTF-8."""
    m = _SURROGATE.search(value)
    if m:
        raise InputError(f"{what} holds a lone surrogate U+{ord(m.group()):04X} at character offset {m.start()}; "
                         "JSON \\u escapes of characters beyond U+FFFF must come as a valid pair "
                         "(\\ud83d\\ude00), or write the character itself in UTF-8", source=source, line=line)


def check_on_mismatch(on_mismatch: str) -> None:
    if on_mismatch not in ON_MISMATCH_CHOICES:
        raise ValueError(f"on_mismatch must be one of {ON_MISMATCH_CHOICES}, got {on_mismatch!r}")


def verify_mention(text: str, span: Span, mention: str, *, source: str, line: int | None,
                   on_mismatch: str, mismatches: list[dict[str, Any]]) -> bool:
    """Check ``span`` against ``mention``. Returns whether to keep the span.

    ``raise``: :class:`OffsetMismatchError`. ``warn``: keep the span (its offsets win), warn, record.
    ``skip``: leave the span out, warn, record. Records go to ``mismatches`` (the reader puts them in
    ``doc.meta["offset_mismatches"]`` so callers can count them).
    """
    found = span.text_in(text)
    if found == mention:
        return True
    err = OffsetMismatchError(expected=mention, found=found, start=span.start, end=span.end, source=source,
                              line=line)
    if on_mismatch == "raise":
        raise err
    mismatches.append({"source": source, "line": line, "start": span.start, "end": span.end, "label": span.label,
                       "mention": mention, "found": found, "kept": on_mismatch == "warn"})
    action = "kept with its offsets" if on_mismatch == "warn" else "skipped"
    warnings.warn(f"{err} [{action}]", OffsetMismatchWarning, stacklevel=3)
    return on_mismatch == "warn"


def check_span_in_text(text: str, start: int, end: int, *, source: str, line: int | None) -> None:
    """A :class:`FormatError` unless ``[start, end)`` is a non-empty range inside ``text``."""
    if not (0 <= start < end <= len(text)):
        raise FormatError(f"offsets [{start}, {end}) are not a non-empty range inside the text "
                         f"(length {len(text)})", source=source, line=line)


def doc_meta(**items: Any) -> dict[str, Any]:
    """Meta dict without the ``None``/empty entries (so round trips compare equal)."""
    return {k: v for k, v in items.items() if v not in (None, [], {}, False)}


def iter_decoded_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 file, streamed, under the decoding policy above (BOM dropped from
    the first line; line ends removed, ``\\r\\n`` included). Bad bytes are reported with their byte offset."""
    p = Path(path)
    try:
        fh = p.open("rb")
    except FileNotFoundError:
        raise InputError("file not found", source=str(p)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", source=str(p)) from None
    with fh:
        check_not_binary(fh.read(BINARY_SNIFF_BYTES), p)
        fh.seek(0)
        pos = 0
        for n, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start:exc.start + 1].hex().upper()
                raise InputError(
                    f"not valid UTF-8 at byte offset {pos + exc.start} (byte 0x{bad}); the file must be UTF-8 — "
                    f"convert it, {iconv_hint(p)}", source=str(p), line=n) from None
            if n == 1 and line.startswith(BOM):
                line = line[1:]
            pos += len(raw)
            yield n, line.rstrip("\r\n")
