"""What ``imner extract`` reads: plain-text files, a folder of them, JSONL, or standard input.

* ``notes.txt`` (also ``.text`` or no suffix): one document, id = file stem;
* a folder: its ``*.txt`` files, sorted by name, **not** recursive (an error when there are none). What is not
  read (subfolders, other files, FIFOs and other special files, broken links) is said in one
  :class:`SkippedInputWarning` line;
* ``docs.jsonl`` (or ``.ndjson``): one ``{"id": ..., "text": ...}`` object per line (:mod:`imner.io.jsonl`);
* ``-``: standard input, one document with id ``stdin``, or JSONL with ``input_format="jsonl"``. Input that
  starts with ``{`` is ambiguous (a note may begin with a brace) and is refused unless ``input_format`` says
  which it is.

``input_format`` (``"auto"``, ``"text"``, ``"jsonl"``) overrides the suffix: ``text`` reads a ``.jsonl`` file as
one plain-text document, ``jsonl`` reads any file (or a folder's ``*.jsonl`` files) as JSONL.

Ids must be unique: they name output records and brat files. Two documents whose ids are equal as strings (JSON
``1`` and ``"1"`` too) are a :class:`~imner.errors.DuplicateIdError` naming both places, unless
``on_duplicate`` is ``"rename"`` (the later ones become ``<id>~2``, ``<id>~3``...) or ``"keep"``.

Decoding (:func:`read_text_file`): UTF-8 only; a leading BOM is removed and recorded as ``meta["bom"] = True``;
CRLF is kept verbatim so offsets index the text as decoded; invalid UTF-8 is an :class:`~imner.errors.InputError`
with the byte offset (convert with ``iconv``); a NUL byte in the first 8 KB means binary and is refused; an empty
or whitespace-only file gives a document with empty text (zero entities) and an :class:`EmptyInputWarning`.
Nothing is truncated, however long the line.
"""

from __future__ import annotations

import stat
import sys
import warnings
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from imner.errors import DuplicateIdError, InputError, excerpt
from imner.io._common import decode_bytes, iter_decoded_lines, read_text
from imner.io.jsonl import parse_jsonl_lines
from imner.types import Document

TEXT_SUFFIXES = frozenset({".txt", ".text", ""})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
STDIN = "-"
INPUT_FORMATS = ("auto", "text", "jsonl")
ON_DUPLICATE = ("error", "rename", "keep")
_ALLOWED = "a .txt file, a folder of .txt files (not recursive), a .jsonl file of {\"id\", \"text\"} lines, or - " \
           "for standard input"


class EmptyInputWarning(UserWarning):
    """An input document with no text (it yields zero entities)."""


class SkippedInputWarning(UserWarning):
    """Entries of an input folder that were not read (one summary per folder)."""


def _document(doc_id: str, text: str, bom: bool, source: str) -> Document:
    if not text.strip():
        warnings.warn(f"{source}: empty or whitespace-only input; it will yield no entities", EmptyInputWarning,
                      stacklevel=3)
    return Document(doc_id, text, (), {"bom": True} if bom else {})


def read_text_file(path: str | Path) -> Document:
    """One plain-text document (id = file stem) under the decoding policy of this module."""
    p = Path(path)
    if any("\udc80" <= c <= "\udcff" for c in p.name):
        raise InputError("the file name is not valid UTF-8 (the id of a document is its file name): rename the "
                         "file", source=ascii(str(p)))
    text, bom = read_text(p)
    return _document(p.stem, text, bom, str(p))


def _jsonl(lines: Iterable[tuple[int, str]], source: str, default_id: str) -> Iterator[tuple[Document, str]]:
    """``(document, where)`` of JSONL lines, ``where`` = ``"<source>, line N"``."""
    last = [0]

    def counted() -> Iterator[tuple[int, str]]:
        for n, line in lines:
            last[0] = n
            yield n, line

    for doc in parse_jsonl_lines(counted(), source=source, default_id=default_id):
        if not doc.text.strip():
            warnings.warn(f"{source}, line {last[0]}: document {excerpt(doc.id)} has empty text; it will yield no "
                          "entities", EmptyInputWarning, stacklevel=2)
        yield doc, f"{source}, line {last[0]}"


def _read_stdin(stream: BinaryIO | None, input_format: str) -> Iterator[tuple[Document, str]]:
    data = (stream if stream is not None else sys.stdin.buffer).read()
    text, bom = decode_bytes(data, "<stdin>")
    if input_format == "auto" and text.lstrip().startswith("{"):
        raise InputError("standard input starts with '{': it may be JSONL or a note that begins with a brace; say "
                         "which with --input-format jsonl or --input-format text", source="<stdin>")
    if input_format == "jsonl":
        lines = ((n, line.rstrip("\r")) for n, line in enumerate(text.split("\n"), start=1))
        yield from _jsonl(lines, "<stdin>", "stdin")
    else:
        yield _document("stdin", text, bom, "<stdin>"), "<stdin>"


def _kind(path: str | Path, input_format: str = "auto") -> str:
    if input_format not in INPUT_FORMATS:
        raise InputError(f"unknown input format {input_format!r}; allowed: {', '.join(INPUT_FORMATS)}")
    if str(path) == STDIN:
        return "stdin"
    p = Path(path)
    if p.is_dir():
        return "folder"
    if not p.exists():
        what = "a broken link" if p.is_symlink() else "input not found"
        raise InputError(f"{what}; expected {_ALLOWED}", source=str(p))
    if input_format != "auto":
        return input_format
    if p.suffix.lower() in JSONL_SUFFIXES:
        return "jsonl"
    if p.suffix.lower() in TEXT_SUFFIXES:
        return "text"
    raise InputError(f"unsupported input type {p.suffix!r}; expected {_ALLOWED}, or say --input-format text|jsonl "
                     "(for corpora in brat, PubTator, CoNLL or BioC use imner.io.read_documents)", source=str(p))


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 document"``, ``"2 documents"``."""
    return f"{n} {singular if n == 1 else plural_form or singular + 's'}"


#: what a folder entry that is not read counts as: key -> (singular, plural)
_SKIPPED = {"dir": ("subfolder", "subfolders"), "other": ("file of another type", "files of other types"),
            "special": ("special file (FIFO, socket, device)", "special files (FIFO, socket, device)"),
            "broken": ("broken link", "broken links")}


def _folder_files(p: Path, suffixes: frozenset[str] = frozenset({".txt"}), *, warn: bool = True) -> list[Path]:
    files: list[Path] = []
    skipped = dict.fromkeys(_SKIPPED, 0)
    for f in p.iterdir():
        try:
            mode = f.stat().st_mode
        except FileNotFoundError:
            skipped["broken"] += 1
            continue
        except OSError:
            skipped["special"] += 1
            continue
        if stat.S_ISDIR(mode):
            skipped["dir"] += 1
        elif not stat.S_ISREG(mode):
            skipped["special"] += 1
        elif f.suffix.lower() in suffixes:
            files.append(f)
        else:
            skipped["other"] += 1
    files.sort()
    want = " or ".join(sorted(suffixes))
    if not files:
        raise InputError(f"no {want} files in this folder (folders are not searched recursively)", source=str(p))
    total = sum(skipped.values())
    if total and warn:
        parts = [plural(n, *_SKIPPED[k]) for k, n in skipped.items() if n]
        warnings.warn(f"{p}: read {plural(len(files), want + ' file')}, skipped {plural(total, 'entry', 'entries')}: "
                      f"{', '.join(parts)} (folders are not searched recursively)", SkippedInputWarning, stacklevel=2)
    return files


def _documents(path: str | Path, stdin: BinaryIO | None, input_format: str) -> Iterator[tuple[Document, str]]:
    kind = _kind(path, input_format)
    if kind == "stdin":
        yield from _read_stdin(stdin, input_format)
    elif kind == "folder":
        jsonl = input_format == "jsonl"
        for f in _folder_files(Path(path), JSONL_SUFFIXES if jsonl else frozenset({".txt"})):
            if jsonl:
                yield from _jsonl(iter_decoded_lines(f), str(f), f.stem)
            else:
                yield read_text_file(f), str(f)
    elif kind == "jsonl":
        p = Path(path)
        yield from _jsonl(iter_decoded_lines(p), str(p), p.stem)
    else:
        yield read_text_file(path), str(path)


def unique_ids(docs: Iterable[tuple[Document, str]], on_duplicate: str = "error") -> Iterator[Document]:
    """Documents with unique ids (see the module doc); ``docs`` are ``(document, where it was read)``."""
    if on_duplicate not in ON_DUPLICATE:
        raise InputError(f"unknown on_duplicate {on_duplicate!r}; allowed: {', '.join(ON_DUPLICATE)}")
    seen: dict[str, str] = {}
    for doc, where in docs:
        if on_duplicate != "keep" and doc.id in seen:
            if on_duplicate == "error":
                raise DuplicateIdError(
                    f"document id {excerpt(doc.id)} again (first at {seen[doc.id]}); ids must be unique, and are "
                    "compared as strings (JSON 1 and \"1\" are the same id): fix the input, or pass "
                    "--on-duplicate rename (later ones become <id>~2, ...) or --on-duplicate keep", source=where)
            k = 2
            while f"{doc.id}~{k}" in seen:
                k += 1
            new_id = f"{doc.id}~{k}"
            seen[new_id] = where
            doc = Document(new_id, doc.text, doc.spans, {**doc.meta, "original_id": doc.id})
        else:
            seen.setdefault(doc.id, where)
        yield doc


def iter_inputs(path: str | Path, *, stdin: BinaryIO | None = None, input_format: str = "auto",
                on_duplicate: str = "error") -> Iterator[Document]:
    """Documents to run extraction on (see the module doc). ``stdin`` replaces ``sys.stdin.buffer`` for ``-``."""
    yield from unique_ids(_documents(path, stdin, input_format), on_duplicate)


def count_inputs(path: str | Path, input_format: str = "auto") -> int | None:
    """How many documents :func:`iter_inputs` will yield (for progress bars); ``None`` for stdin. For JSONL this
    counts non-blank lines without parsing them."""
    kind = _kind(path, input_format)
    if kind == "stdin":
        return None
    if kind == "folder":
        if input_format == "jsonl":
            return None
        return len(_folder_files(Path(path), warn=False))
    if kind == "jsonl":
        with open(path, "rb") as fh:
            return sum(1 for line in fh if line.strip())
    return 1
