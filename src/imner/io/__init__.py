"""Corpus formats: brat standoff, PubTator, CoNLL/IOB, BioC JSON/XML, imner's JSONL and an HTML page, plus the
extraction input loader (:mod:`imner.io.inputs`) and safe output (:mod:`imner.io.safe`). Every reader yields
:class:`~imner.types.Document` with offsets into the decoded text and checks each mention against it
(``on_mismatch="raise"|"warn"|"skip"`` where mentions carry text).

One registry (:data:`REGISTRY`) says for each format its reader, its writer, its file suffixes and how it is
streamed one document at a time (``imner extract`` writes through :func:`open_writer`); nothing else lists the
formats.

Text decoding is the same everywhere (:mod:`imner.io._common`): strict UTF-8, no newline translation, a leading
BOM removed (``meta["bom"] = True`` where the format keeps text files) and offsets counted without it.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from imner.errors import InputError, OutputError
from imner.io._common import ON_MISMATCH_CHOICES, OffsetMismatchWarning
from imner.types import Document


@dataclass(frozen=True)
class Format:
    """A format: ``reader``/``writer`` and the streaming pieces are ``"module:function"`` (imported when used).

    * ``reader(path, **kw) -> Iterator[Document]``; ``writer(docs, path, **kw)``;
    * ``record(doc, **kw) -> str``: one document's part of a streamed file (``head(title)`` before the first,
      ``tail()`` after the last); for a ``folder`` format, ``record(doc) -> [(file name, content), ...]``;
    * ``resumable``: ``--resume`` can continue a partial output (its records carry the document id);
    * ``pieces(doc, **kw) -> str | Iterator[str]``: ``record``, or for a long document the record in pieces whose
      concatenation is the record, written one after the other so that it is never whole in memory (optional).
    """

    name: str
    suffixes: tuple[str, ...]
    reader: str | None = None
    writer: str | None = None
    record: str | None = None
    head: str | None = None
    tail: str | None = None
    folder: bool = False
    resumable: bool = False
    description: str = ""
    pieces: str | None = None

    def load(self, what: str) -> Callable[..., Any]:
        target = getattr(self, what)
        if target is None:
            raise InputError(f"format {self.name!r} cannot be {'read' if what == 'reader' else 'written that way'}; "
                             f"{_help()}")
        module, _, func = target.partition(":")
        return getattr(importlib.import_module(module), func)

    @property
    def streams(self) -> bool:
        return self.record is not None


REGISTRY: dict[str, Format] = {f.name: f for f in (
    Format("jsonl", (".jsonl", ".ndjson"), "imner.io.jsonl:read_jsonl", "imner.io.jsonl:write_jsonl",
           record="imner.io.jsonl:jsonl_record", resumable=True,
           description="one JSON object per document (the extraction output)",
           pieces="imner.io.jsonl:jsonl_record_pieces"),
    Format("brat", (".ann",), "imner.io.brat:read_brat", "imner.io.brat:write_brat",
           record="imner.io.brat:document_files", folder=True, resumable=True,
           description="a folder of <id>.ann + <id>.txt (+ <id>.patient.json)"),
    Format("conll", (".conll", ".iob", ".iob2", ".bio", ".bioes", ".tsv"), "imner.io.conll:read_conll",
           "imner.io.conll:write_conll", record="imner.io.conll:conll_record",
           description="token<TAB>tag lines, -DOCSTART- before each document"),
    Format("pubtator", (".pubtator",), "imner.io.pubtator:read_pubtator", "imner.io.pubtator:write_pubtator",
           record="imner.io.pubtator:format_pubtator", description="PMID|t|title records"),
    Format("bioc", (".json", ".xml"), "imner.io.bioc:read_bioc", "imner.io.bioc:write_bioc",
           description="a BioC JSON (or XML) collection"),
    Format("html", (".html", ".htm"), None, "imner.io.html:write_html", record="imner.io.html:html_record",
           head="imner.io.html:page_start", tail="imner.io.html:page_end",
           description="a page with the entities highlighted (written only)"),
)}

#: formats that can be read
FORMATS: tuple[str, ...] = tuple(n for n, f in REGISTRY.items() if f.reader)
#: formats ``imner extract`` can write (streamed one document at a time)
OUTPUT_FORMATS: tuple[str, ...] = tuple(n for n, f in REGISTRY.items() if f.streams)

_PUBTATOR_TITLE = re.compile(r"[^|\t]+\|t\|")


def _help() -> str:
    parts = [f"{f.name} ({' '.join(f.suffixes)})" for f in REGISTRY.values() if f.reader]
    return ("allowed formats: " + ", ".join(parts) + "; brat is also a folder of .ann + .txt, pubtator a .txt whose "
            "first line is PMID|t|title; pass format= to choose")


def get_format(name: str) -> Format:
    if name not in REGISTRY:
        raise InputError(f"unknown format {name!r}; {_help()}")
    return REGISTRY[name]


def _first_line(path: Path) -> str:
    with open(path, "rb") as fh:
        for raw in fh:
            if raw.strip():
                return raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    return ""


def detect_format(path: str | Path) -> str:
    """The format of ``path`` from its suffix (and, for ``.txt``, its first line or a sibling ``.ann``)."""
    p = Path(path)
    if p.is_dir():
        if any(p.glob("*.ann")):
            return "brat"
        raise InputError(f"cannot tell the format of this folder (no .ann files); {_help()}", source=str(p))
    if not p.exists():
        raise InputError(f"not found; {_help()}", source=str(p))
    suffix = p.suffix.lower()
    for f in REGISTRY.values():
        if suffix in f.suffixes:
            if f.reader is None:
                raise InputError(f"{f.name} files are written only, not read; {_help()}", source=str(p))
            return f.name
    if suffix == ".txt":
        if _PUBTATOR_TITLE.match(_first_line(p)):
            return "pubtator"
        if p.with_suffix(".ann").exists():
            return "brat"
    raise InputError(f"cannot tell the format of this file; {_help()}", source=str(p))


def iter_documents(path: str | Path, format: str | None = None, **kw: Any) -> Iterator[Document]:
    """The documents of a corpus file/folder, streamed (see :func:`read_documents`)."""
    fmt = get_format(format) if format else get_format(detect_format(path))
    p = Path(path)
    if fmt.name == "brat" and p.suffix.lower() == ".txt":
        p = p.with_suffix(".ann")
    yield from fmt.load("reader")(p, **kw)


def read_documents(path: str | Path, format: str | None = None, **kw: Any) -> list[Document]:
    """All documents of a corpus file/folder. ``format`` is one of :data:`FORMATS` or detected from the path;
    ``kw`` goes to the reader (``on_mismatch``, ``text_dir`` for brat, ``token_col``/``tag_col`` for conll...)."""
    return list(iter_documents(path, format, **kw))


def write_documents(docs: Iterable[Document], path: str | Path, format: str, **kw: Any) -> Any:
    """Write ``docs`` in ``format`` (brat: ``path`` is a folder; the others: a file). Returns the writer's result
    (for ``conll``: the spans it could not write exactly)."""
    return get_format(format).load("writer")(docs, path, **kw)


class DocumentWriter:
    """Streams documents into one output in a registered format, safely (:mod:`imner.io.safe`): written beside
    the target and renamed onto it by :meth:`commit`; ``resume=True`` continues an interrupted run (``done``: the
    ids already written). ``options`` go to the format's ``record`` function (``include_text`` for jsonl...);
    ``title`` to its ``head``."""

    def __init__(self, format: str, output: str | Path, *, resume: bool = False, title: str = "imner",
                 **options: Any) -> None:
        from imner.io.safe import SafeFolder, SafeOutput, jsonl_id

        self.format = get_format(format)
        if not self.format.streams:
            raise OutputError(f"format {format!r} cannot be streamed; allowed: {', '.join(OUTPUT_FORMATS)}")
        if resume and not self.format.resumable:
            resumable = ", ".join(n for n, f in REGISTRY.items() if f.resumable)
            raise OutputError(f"--resume works for the formats {resumable}, not {format}")
        self._record = self.format.load("record")
        self._pieces = self.format.load("pieces") if self.format.pieces else None
        self._options = options
        self._title = title
        if self.format.folder:
            self.sink: SafeOutput = SafeFolder(output, resume=resume)
        else:
            self.sink = SafeOutput(output, resume=resume, parse_id=jsonl_id(str(output)) if resume else None)

    @property
    def done(self) -> list[str]:
        return self.sink.done

    @property
    def written(self) -> int:
        return self.sink.written

    def open(self) -> "DocumentWriter":
        self.sink.open()
        if self.format.head and not self.done:
            self.sink.write(self.format.load("head")(self._title))
            self.sink.written = 0
        return self

    def write(self, doc: Document) -> None:
        rec = (self._pieces or self._record)(doc, **self._options)
        if not isinstance(rec, (str, list)):  # a long record in pieces
            self.sink.write_pieces(rec)
            return
        if self.format.folder:
            self.sink.write_files(rec)  # type: ignore[attr-defined]
        else:
            self.sink.write(rec)

    def commit(self) -> None:
        if self.format.tail:
            n = self.sink.written
            self.sink.write(self.format.load("tail")())
            self.sink.written = n
        self.sink.commit()

    def close(self) -> None:
        self.sink.close()

    @property
    def kept(self) -> Path | None:
        """Where an unfinished run's output was left (for ``--resume``), if anywhere."""
        return self.sink.kept

    def __enter__(self) -> "DocumentWriter":
        return self.open()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        self.close()


def open_writer(format: str, output: str | Path, **kw: Any) -> DocumentWriter:
    """A :class:`DocumentWriter`, opened."""
    return DocumentWriter(format, output, **kw).open()


__all__ = ["FORMATS", "OUTPUT_FORMATS", "ON_MISMATCH_CHOICES", "REGISTRY", "DocumentWriter", "Format",
           "OffsetMismatchWarning", "detect_format", "get_format", "iter_documents", "open_writer",
           "read_documents", "write_documents"]
