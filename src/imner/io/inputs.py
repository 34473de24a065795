"""What ``imner extract`` reads: plain-text files, a folder of them, JSONL, or standard input.

* ``notes.txt`` (also ``.text`` or no suffix): one document, id = file stem;
* a folder: its ``*.txt`` files, sorted by name, **not** recursive (an error when there are none);
* ``docs.jsonl`` (or ``.ndjson``): one ``{"id": ..., "text": ...}`` object per line (:mod:`imner.io.jsonl`);
* ``-``: standard input: JSONL when its first non-blank character is ``{``, else one document with id ``stdin``.

Decoding (:func:`read_text_file`): UTF-8 only; a leading BOM is removed and recorded as ``meta["bom"] = True``;
CRLF is kept verbatim so offsets index the text as decoded; invalid UTF-8 is an :class:`~imner.errors.InputError`
with the byte offset (convert with ``iconv``); a NUL byte in the first 8 KB means binary and is refused; an empty
or whitespace-only file gives a document with empty text (zero entities) and an :class:`EmptyInputWarning`.
Nothing is truncated, however long the line.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import BinaryIO, Iterator

from imner.errors import InputError
from imner.io._common import decode_bytes, read_text
from imner.io.jsonl import parse_jsonl_lines, read_jsonl
from imner.types import Document

TEXT_SUFFIXES = frozenset({".txt", ".text", ""})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
STDIN = "-"
_ALLOWED = "a .txt file, a folder of .txt files (not recursive), a .jsonl file of {\"id\", \"text\"} lines, or - " \
           "for standard input"


class EmptyInputWarning(UserWarning):
    """An input document with no text (it yields zero entities)."""


def _document(doc_id: str, text: str, bom: bool, source: str) -> Document:
    if not text.strip():
        warnings.warn(f"{source}: empty or whitespace-only input; it will yield no entities", EmptyInputWarning,
                      stacklevel=3)
    return Document(doc_id, text, (), {"bom": True} if bom else {})


def _warn_empty(docs: Iterator[Document], source: str) -> Iterator[Document]:
    for doc in docs:
        if not doc.text.strip():
            warnings.warn(f"{source}: document {doc.id!r} has empty text; it will yield no entities",
                          EmptyInputWarning, stacklevel=2)
        yield doc


def read_text_file(path: str | Path) -> Document:
    """One plain-text document (id = file stem) under the decoding policy of this module."""
    p = Path(path)
    text, bom = read_text(p)
    return _document(p.stem, text, bom, str(p))


def _read_stdin(stream: BinaryIO | None) -> Iterator[Document]:
    data = (stream if stream is not None else sys.stdin.buffer).read()
    text, bom = decode_bytes(data, "<stdin>")
    if text.lstrip().startswith("{"):
        lines = ((n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), start=1))
        yield from _warn_empty(parse_jsonl_lines(lines, source="<stdin>", default_id="stdin"), "<stdin>")
    else:
        yield _document("stdin", text, bom, "<stdin>")


def _kind(path: str | Path) -> str:
    if str(path) == STDIN:
        return "stdin"
    p = Path(path)
    if p.is_dir():
        return "folder"
    if not p.exists():
        raise InputError(f"input not found; expected {_ALLOWED}", source=str(p))
    if p.suffix.lower() in JSONL_SUFFIXES:
        return "jsonl"
    if p.suffix.lower() in TEXT_SUFFIXES:
        return "text"
    raise InputError(f"unsupported input type {p.suffix!r}; expected {_ALLOWED} (for corpora in brat, PubTator, "
                     "CoNLL or BioC use imner.io.read_documents)", source=str(p))


def _folder_files(p: Path) -> list[Path]:
    files = sorted(f for f in p.iterdir() if f.suffix.lower() == ".txt" and f.is_file())
    if not files:
        raise InputError("no .txt files in this folder (folders are not searched recursively)", source=str(p))
    return files


def iter_inputs(path: str | Path, *, stdin: BinaryIO | None = None) -> Iterator[Document]:
    """Documents to run extraction on (see the module doc). ``stdin`` replaces ``sys.stdin.buffer`` for ``-``."""
    kind = _kind(path)
    if kind == "stdin":
        yield from _read_stdin(stdin)
    elif kind == "folder":
        for f in _folder_files(Path(path)):
            yield read_text_file(f)
    elif kind == "jsonl":
        yield from _warn_empty(read_jsonl(path), str(path))
    else:
        yield read_text_file(path)


def count_inputs(path: str | Path) -> int | None:
    """How many documents :func:`iter_inputs` will yield (for progress bars); ``None`` for stdin. For JSONL this
    counts non-blank lines without parsing them."""
    kind = _kind(path)
    if kind == "stdin":
        return None
    if kind == "folder":
        return len(_folder_files(Path(path)))
    if kind == "jsonl":
        with open(path, "rb") as fh:
            return sum(1 for line in fh if line.strip())
    return 1
