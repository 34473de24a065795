"""Corpus formats: brat standoff, PubTator, CoNLL/IOB, BioC JSON/XML and imner's JSONL, plus the extraction input
loader (:mod:`imner.io.inputs`). Every reader yields :class:`~imner.types.Document` with offsets into the decoded
text and checks each mention against it (``on_mismatch="raise"|"warn"|"skip"`` where mentions carry text).

Text decoding is the same everywhere (:mod:`imner.io._common`): strict UTF-8, no newline translation, a leading
BOM removed (``meta["bom"] = True`` where the format keeps text files) and offsets counted without it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

from imner.errors import InputError
from imner.io._common import ON_MISMATCH_CHOICES, OffsetMismatchWarning
from imner.types import Document

FORMATS: tuple[str, ...] = ("brat", "pubtator", "conll", "bioc", "jsonl")

_SUFFIXES: dict[str, str] = {
    ".ann": "brat",
    ".pubtator": "pubtator",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".json": "bioc", ".xml": "bioc",
    ".conll": "conll", ".iob": "conll", ".iob2": "conll", ".bio": "conll", ".bioes": "conll", ".tsv": "conll",
}
_PUBTATOR_TITLE = re.compile(r"[^|\t]+\|t\|")
_HELP = ("allowed formats: brat (a .ann file or a folder of .ann + .txt), pubtator (.pubtator, or .txt whose first "
         "line is PMID|t|title), conll (.conll .iob .bio .tsv), bioc (.json, .xml), jsonl (.jsonl); "
         "pass format= to choose")


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
        raise InputError(f"cannot tell the format of this folder (no .ann files); {_HELP}", source=str(p))
    if not p.exists():
        raise InputError(f"not found; {_HELP}", source=str(p))
    suffix = p.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix == ".txt":
        if _PUBTATOR_TITLE.match(_first_line(p)):
            return "pubtator"
        if p.with_suffix(".ann").exists():
            return "brat"
    raise InputError(f"cannot tell the format of {p.name!r}; {_HELP}", source=str(p))


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; {_HELP}")
    return fmt


def read_documents(path: str | Path, format: str | None = None, **kw: Any) -> list[Document]:
    """All documents of a corpus file/folder. ``format`` is one of :data:`FORMATS` or detected from the path;
    ``kw`` goes to the reader (``on_mismatch``, ``text_dir`` for brat, ``token_col``/``tag_col`` for conll...)."""
    fmt = _check_format(format) if format else detect_format(path)
    p = Path(path)
    if fmt == "brat":
        from imner.io.brat import read_brat
        if p.suffix.lower() == ".txt":
            p = p.with_suffix(".ann")
        return list(read_brat(p, **kw))
    if fmt == "pubtator":
        from imner.io.pubtator import read_pubtator
        return list(read_pubtator(p, **kw))
    if fmt == "conll":
        from imner.io.conll import read_conll
        return list(read_conll(p, **kw))
    if fmt == "bioc":
        from imner.io.bioc import read_bioc
        return list(read_bioc(p, **kw))
    from imner.io.jsonl import read_jsonl
    return list(read_jsonl(p, **kw))


def write_documents(docs: Iterable[Document], path: str | Path, format: str, **kw: Any) -> Any:
    """Write ``docs`` in ``format`` (brat: ``path`` is a folder; the others: a file). Returns the writer's result
    (for ``conll``: the spans it could not write exactly)."""
    fmt = _check_format(format)
    if fmt == "brat":
        from imner.io.brat import write_brat
        return write_brat(docs, path, **kw)
    if fmt == "pubtator":
        from imner.io.pubtator import write_pubtator
        return write_pubtator(docs, path, **kw)
    if fmt == "conll":
        from imner.io.conll import write_conll
        return write_conll(docs, path, **kw)
    if fmt == "bioc":
        from imner.io.bioc import write_bioc
        return write_bioc(docs, path, **kw)
    from imner.io.jsonl import write_jsonl
    return write_jsonl(docs, path, **kw)


__all__ = ["FORMATS", "ON_MISMATCH_CHOICES", "OffsetMismatchWarning", "detect_format", "read_documents",
           "write_documents"]
