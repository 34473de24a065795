"""PubTator reader and writer (NCBI-disease original files, BC5CDR, BioRED).

Layout, one record per abstract, records separated by blank lines::

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>mention<TAB>type[<TAB>id[<TAB>extra...]]
    PMID<TAB>CID<TAB>D1<TAB>D2                       (relation; BioRED: PMID<TAB>Association<TAB>id1<TAB>id2<TAB>Novel)

* Text = ``title + " " + abstract`` (what the corpora's offsets index); a record without an ``|a|`` line has
  text = title. ``meta["title_end"] = len(title)``.
* The id column is kept as the raw string in ``attrs["id"]`` (``D001234``, ``D1|D2``, ``OMIM:...``, ``-1`` or
  ``""``); a record with only five columns has no ``id`` attr. Columns after the id (BC5CDR composite mentions)
  go to ``attrs["pubtator_extra"]`` (list of strings).
* Relation lines are kept in ``meta["relations"]`` as lists of their fields after the PMID.
* Every mention is checked against the text (see ``on_mismatch``).
* Duplicate PMIDs are **not** merged or dropped: each record is yielded as its own document (NCBI-disease train
  has PMID 8528200 twice); deduplication is the corpora layer's decision.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from imner.errors import FormatError, InputError
from imner.io._common import check_on_mismatch, check_span_in_text, read_text, verify_mention
from imner.types import Document, Span

_TEXT_LINE = re.compile(r"([^|\t]+)\|([A-Za-z])\|(.*)\Z", re.DOTALL)


class _Record:
    def __init__(self, pmid: str, title: str, line: int) -> None:
        self.pmid, self.title, self.line = pmid, title, line
        self.abstract: str | None = None
        self.mentions: list[tuple[int, list[str]]] = []   # (line, fields)
        self.relations: list[list[str]] = []

    @property
    def text(self) -> str:
        return self.title if self.abstract is None else f"{self.title} {self.abstract}"


def read_pubtator(path: str | Path, *, on_mismatch: str = "raise") -> Iterator[Document]:
    """Documents of a PubTator file, in file order (duplicate PMIDs yielded as they come).

    ``on_mismatch``: ``raise`` (default) an :class:`~imner.errors.OffsetMismatchError` naming file, line and both
    strings; ``warn`` keep the span with its offsets; ``skip`` leave it out. ``warn``/``skip`` issue an
    :class:`~imner.io._common.OffsetMismatchWarning` per mention and list them in ``meta["offset_mismatches"]``.
    """
    check_on_mismatch(on_mismatch)
    p = Path(path)
    if p.is_dir():
        raise InputError("expected a PubTator file, got a folder", source=str(p))
    content, _bom = read_text(p)
    yield from parse_pubtator(content, source=str(p), on_mismatch=on_mismatch)


def parse_pubtator(content: str, *, source: str = "<pubtator>", on_mismatch: str = "raise") -> Iterator[Document]:
    """Documents from PubTator text (see :func:`read_pubtator`)."""
    check_on_mismatch(on_mismatch)
    rec: _Record | None = None
    for n, raw in enumerate(content.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            if rec is not None:
                yield _finish(rec, source, on_mismatch)
                rec = None
            continue
        m = _TEXT_LINE.match(line)
        if m:
            pmid, kind, body = m.groups()
            if kind == "t":
                if rec is not None:
                    yield _finish(rec, source, on_mismatch)
                rec = _Record(pmid, body, n)
            elif kind == "a":
                if rec is None or rec.pmid != pmid or rec.abstract is not None or rec.mentions or rec.relations:
                    raise FormatError(f"abstract line for {pmid} must follow its title line '{pmid}|t|...'",
                                      source=source, line=n)
                rec.abstract = body
            else:
                raise FormatError(f"unknown text line kind {kind!r}; allowed: PMID|t|title, PMID|a|abstract",
                                  source=source, line=n)
            continue
        fields = line.split("\t")
        if rec is None or len(fields) < 3:
            raise FormatError(f"malformed PubTator line {line[:80]!r}: expected 'PMID|t|title', 'PMID|a|abstract', "
                              "'PMID<TAB>start<TAB>end<TAB>mention<TAB>type[<TAB>id]' or a relation "
                              "'PMID<TAB>type<TAB>arg1<TAB>arg2'", source=source, line=n)
        if fields[0] != rec.pmid:
            raise FormatError(f"line belongs to PMID {fields[0]} inside the record of {rec.pmid} "
                              "(records must be separated by a blank line or start with PMID|t|)",
                              source=source, line=n)
        if fields[1].isdigit() and fields[2].isdigit():
            if len(fields) < 5:
                raise FormatError(f"mention line has {len(fields)} columns; expected at least 5: "
                                  "PMID, start, end, mention, type[, id]", source=source, line=n)
            rec.mentions.append((n, fields))
        else:
            rec.relations.append(fields[1:])
    if rec is not None:
        yield _finish(rec, source, on_mismatch)


def _finish(rec: _Record, source: str, on_mismatch: str) -> Document:
    text = rec.text
    spans: list[Span] = []
    mismatches: list[dict[str, Any]] = []
    for n, f in rec.mentions:
        start, end = int(f[1]), int(f[2])
        check_span_in_text(text, start, end, source=source, line=n)
        attrs: dict[str, Any] = {}
        if len(f) > 5:
            attrs["id"] = f[5]
        if len(f) > 6:
            attrs["pubtator_extra"] = f[6:]
        span = Span(start, end, f[4], attrs=attrs)
        if verify_mention(text, span, f[3], source=source, line=n, on_mismatch=on_mismatch, mismatches=mismatches):
            spans.append(span)
    meta: dict[str, Any] = {"title_end": len(rec.title)}
    if rec.relations:
        meta["relations"] = rec.relations
    if mismatches:
        meta["offset_mismatches"] = mismatches
    return Document(rec.pmid, text, tuple(spans), meta)


def format_pubtator(doc: Document) -> str:
    """One PubTator record (ending with a blank line) for ``doc``.

    Title/abstract come from ``meta["title_end"]`` (without it the whole text is the title). Only offsets, label,
    ``attrs["id"]`` and ``attrs["pubtator_extra"]`` are written; a discontinuous span is written as its covering
    extent, with a warning.
    """
    text = doc.text
    if "\n" in text or "\r" in text:
        raise InputError("PubTator cannot hold a text with line breaks (title and abstract are one line each)",
                         source=doc.id)
    if not doc.id or "\t" in doc.id or "|" in doc.id:
        raise InputError(f"document id {doc.id!r} cannot be a PubTator PMID (no tabs or '|')", source=doc.id)
    title_end = int(doc.meta.get("title_end", len(text)))
    lines = [f"{doc.id}|t|{text[:title_end]}"]
    if title_end < len(text):
        if text[title_end] != " ":
            raise InputError(f"meta title_end={title_end} is not followed by the space that joins title and "
                             "abstract", source=doc.id)
        lines.append(f"{doc.id}|a|{text[title_end + 1:]}")
    for span in doc.spans:
        if span.fragments:
            warnings.warn(f"{doc.id}: discontinuous span {span.fragments} {span.label} written to PubTator as its "
                          f"extent [{span.start}, {span.end})", UserWarning, stacklevel=3)
        mention = text[span.start:span.end]
        if "\t" in mention or "\t" in span.label:
            raise InputError(f"span [{span.start}, {span.end}) {span.label!r} contains a tab", source=doc.id)
        cols = [doc.id, str(span.start), str(span.end), mention, span.label]
        if "id" in span.attrs:
            cols.append(str(span.attrs["id"]))
            cols.extend(str(x) for x in span.attrs.get("pubtator_extra", ()))
        lines.append("\t".join(cols))
    for rel in doc.meta.get("relations", ()):
        lines.append("\t".join([doc.id, *map(str, rel)]))
    return "\n".join(lines) + "\n\n"


def write_pubtator(docs: Iterable[Document], path: str | Path | IO[str]) -> int:
    """Write ``docs`` as PubTator to a path or an open text file. Returns the number of records."""
    n = 0
    if hasattr(path, "write"):
        for doc in docs:
            path.write(format_pubtator(doc))  # type: ignore[union-attr]
            n += 1
        return n
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for doc in docs:
            fh.write(format_pubtator(doc))
            n += 1
    return n
