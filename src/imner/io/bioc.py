"""BioC JSON (and BioC XML, by file suffix) via the ``bioc`` package.

Reading (:func:`read_bioc`): each BioC document becomes one :class:`~imner.types.Document`.

* Text: every passage's text is placed at its ``offset`` (BioC offsets are document-level), the gaps padded with
  spaces; a passage without text but with sentences places each sentence at its own offset. Overlapping passages
  are an error.
* Annotations (document, passage and sentence level) become spans: ``infons["type"]`` is the label, the other
  infons go to ``attrs`` (a ``score`` infon becomes ``Span.score``), the annotation id to ``attrs["id"]``.
  Several locations make a discontinuous span (``fragments``). The annotation text is checked against the text:
  one location must match exactly; several may match joined by one space or as the covering text.
* Document infons, passage layout, relations and the collection header are kept in ``meta`` (``bioc_infons``,
  ``bioc_passages``, ``bioc_relations``, ``bioc_collection``) for writing back.

Writing (:func:`write_bioc`) is the inverse: passages from ``meta["bioc_passages"]`` (else one passage holding the
whole text), each span as an annotation in the passage that holds its start. Infons are strings: ``str`` attrs are
written as they are, other values (and ``score``) as JSON text, so they read back as strings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

from imner.errors import FormatError, ImnerError, InputError
from imner.io._common import check_on_mismatch, check_span_in_text, read_text, verify_mention
from imner.types import Document, Span


def _bioc():
    try:
        import bioc
        from bioc import biocjson, biocxml
    except ImportError as exc:  # pragma: no cover - bioc is a core dependency
        raise ImportError("BioC support needs the 'bioc' package: pip install bioc") from exc
    return bioc, biocjson, biocxml


def _load(path: Path):
    bioc, biocjson, biocxml = _bioc()
    content, _ = read_text(path)
    if path.suffix.lower() == ".xml":
        try:
            return biocxml.loads(content)
        except Exception as exc:  # lxml raises many kinds
            raise FormatError(f"not a valid BioC XML collection: {exc}", source=str(path)) from None
    try:
        obj = json.loads(content)
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON ({exc.msg})", source=str(path), line=exc.lineno) from None
    if not isinstance(obj, dict) or "documents" not in obj:
        raise FormatError("expected a BioC JSON collection: an object with 'source', 'date', 'key', 'infons' and "
                          "'documents'", source=str(path))
    try:
        return biocjson.decoder.parse_collection(obj)
    except KeyError as exc:
        raise FormatError(f"BioC JSON object misses the key {exc}", source=str(path)) from None
    except (TypeError, AttributeError) as exc:
        raise FormatError(f"malformed BioC JSON: {exc}", source=str(path)) from None


def read_bioc(path: str | Path, *, on_mismatch: str = "raise") -> Iterator[Document]:
    """Documents of a BioC JSON file (``.xml``: BioC XML). ``on_mismatch`` as in the other readers."""
    check_on_mismatch(on_mismatch)
    p = Path(path)
    if p.is_dir():
        raise InputError("expected a BioC .json/.xml file, got a folder", source=str(p))
    collection = _load(p)
    header = {"source": collection.source, "date": collection.date, "key": collection.key,
              "infons": dict(collection.infons)}
    for bdoc in collection.documents:
        where = f"{p}, document {bdoc.id}"
        try:
            yield _document(bdoc, header, where, on_mismatch)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            if isinstance(exc, ImnerError):
                raise
            raise FormatError(f"malformed BioC document: {type(exc).__name__}: {str(exc)[:100]}; offsets and lengths "
                              "must be integers, infons objects of strings, texts strings", source=where) from None


#: the longest gap between passages (padded with spaces) a document may have
MAX_GAP = 10_000_000


def _place(buf: list[str], offset: Any, text: str, where: str) -> None:
    if not isinstance(offset, int) or offset < 0:
        raise FormatError(f"{where}: offset {offset!r} is not a non-negative integer", source=where)
    length = sum(len(x) for x in buf)
    if not isinstance(text, str):
        raise FormatError(f"{where}: text must be a string, got {type(text).__name__}", source=where)
    if offset - length > MAX_GAP:
        raise FormatError(f"{where}: offset {offset} leaves a gap of {offset - length} characters after the text "
                          f"before it (at most {MAX_GAP:,}); BioC offsets index the document's text", source=where)
    if offset < length and text:
        raise FormatError(f"{where}: starts at offset {offset} but earlier passages already reach {length} "
                          "(BioC passages must not overlap)", source=where)
    if offset > length:
        buf.append(" " * (offset - length))
    buf.append(text)


def _document(bdoc, header: dict[str, Any], source: str, on_mismatch: str) -> Document:
    buf: list[str] = []
    layout: list[dict[str, Any]] = []
    annotations = [(a, None) for a in bdoc.annotations]
    relations = [_relation(r, None) for r in bdoc.relations]
    for i, passage in enumerate(bdoc.passages):
        entry: dict[str, Any] = {"offset": passage.offset, "infons": dict(passage.infons)}
        if passage.text or not passage.sentences:
            _place(buf, passage.offset, passage.text, f"{source}, passage {i}")
            entry["length"] = len(passage.text)
        else:
            entry["sentences"] = []
            for j, sent in enumerate(passage.sentences):
                _place(buf, sent.offset, sent.text, f"{source}, passage {i} sentence {j}")
                entry["sentences"].append({"offset": sent.offset, "infons": dict(sent.infons),
                                           "length": len(sent.text)})
                annotations += [(a, i) for a in sent.annotations]
                relations += [_relation(r, i) for r in sent.relations]
        layout.append(entry)
        annotations += [(a, i) for a in passage.annotations]
        relations += [_relation(r, i) for r in passage.relations]
    text = "".join(buf)
    spans: list[Span] = []
    mismatches: list[dict[str, Any]] = []
    for ann, _ in annotations:
        where = f"{source}, annotation {ann.id!r}"
        infons = dict(ann.infons)
        if "type" not in infons:
            raise FormatError(f"annotation {ann.id!r} has no 'type' infon (the entity label)", source=source)
        label = str(infons.pop("type"))
        frags = sorted((loc.offset, loc.offset + loc.length) for loc in ann.locations)
        if not frags:
            raise FormatError(f"annotation {ann.id!r} has no location", source=source)
        for a, b in frags:
            check_span_in_text(text, a, b, source=where, line=None)
        if any(b > c for (_, b), (c, _) in zip(frags, frags[1:])):
            raise FormatError(f"annotation {ann.id!r} has overlapping locations {frags}", source=source)
        score = infons.pop("score", None)
        try:
            score = None if score is None else float(score)
        except ValueError:
            raise FormatError(f"annotation {ann.id!r}: score infon {score!r} is not a number", source=source) from None
        attrs = ({"id": ann.id} if ann.id else {}) | infons
        span = Span(frags[0][0], frags[-1][1], label, score, attrs, tuple(frags) if len(frags) > 1 else None)
        if not ann.text or (span.fragments and ann.text == text[span.start:span.end]):
            spans.append(span)
        elif verify_mention(text, span, ann.text, source=where, line=None, on_mismatch=on_mismatch,
                            mismatches=mismatches):
            spans.append(span)
    meta: dict[str, Any] = {"bioc_passages": layout, "bioc_collection": header}
    if bdoc.infons:
        meta["bioc_infons"] = dict(bdoc.infons)
    if relations:
        meta["bioc_relations"] = relations
    if mismatches:
        meta["offset_mismatches"] = mismatches
    return Document(str(bdoc.id), text, tuple(spans), meta)


def _relation(rel, passage: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rel.id, "infons": dict(rel.infons),
                           "nodes": [{"refid": n.refid, "role": n.role} for n in rel.nodes]}
    if passage is not None:
        out["passage"] = passage
    return out


# ----------------------------------------------------------------------------------------------------- writing

def _infon(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def to_bioc_collection(docs: Iterable[Document]):
    """A ``bioc.BioCCollection`` for ``docs`` (header from the first document's ``meta["bioc_collection"]``)."""
    bioc, _, _ = _bioc()
    collection = bioc.BioCCollection()
    for k, doc in enumerate(docs):
        if k == 0:
            header = doc.meta.get("bioc_collection") or {"source": "imner", "key": "", "infons": {}}
            collection.source = header.get("source", "")
            collection.key = header.get("key", "")
            if header.get("date"):
                collection.date = header["date"]
            collection.infons = dict(header.get("infons", {}))
        collection.add_document(_to_bioc_document(doc, bioc))
    return collection


def _to_bioc_document(doc: Document, bioc) -> Any:
    bdoc = bioc.BioCDocument()
    bdoc.id = doc.id
    bdoc.infons = dict(doc.meta.get("bioc_infons", {}))
    layout = doc.meta.get("bioc_passages") or [{"offset": 0, "infons": {}, "length": len(doc.text)}]
    covered: list[tuple[int, int]] = []
    passages = []
    for entry in layout:
        p = bioc.BioCPassage()
        p.offset = int(entry["offset"])
        p.infons = dict(entry.get("infons", {}))
        if "sentences" in entry:
            for s in entry["sentences"]:
                sent = bioc.BioCSentence()
                sent.offset, sent.infons = int(s["offset"]), dict(s.get("infons", {}))
                sent.text = doc.text[sent.offset:sent.offset + int(s["length"])]
                p.add_sentence(sent)
                covered.append((sent.offset, sent.offset + len(sent.text)))
            end = max((e for _, e in covered[-len(entry["sentences"]):]), default=p.offset)
        else:
            p.text = doc.text[p.offset:p.offset + int(entry["length"])]
            end = p.offset + len(p.text)
            covered.append((p.offset, end))
        passages.append((p, p.offset, end))
        bdoc.add_passage(p)
    pos = 0
    for a, b in sorted(covered) + [(len(doc.text), len(doc.text))]:
        if doc.text[pos:a].strip():
            raise InputError(f"text [{pos}, {a}) lies outside every passage of meta['bioc_passages'] and would be "
                             "lost", source=doc.id)
        pos = max(pos, b)
    for i, span in enumerate(doc.spans):
        ann = bioc.BioCAnnotation()
        ann.id = str(span.attrs.get("id", f"T{i + 1}"))
        ann.infons = {"type": span.label}
        ann.infons.update({k: _infon(v) for k, v in span.attrs.items() if k != "id"})
        if span.score is not None:
            ann.infons["score"] = _infon(span.score)
        for a, b in span.fragments or ((span.start, span.end),):
            ann.add_location(bioc.BioCLocation(a, b - a))
        ann.text = span.text_in(doc.text)
        home = next((p for p, a, b in passages if a <= span.start < b), None)
        (home or bdoc).add_annotation(ann)
    for rel in doc.meta.get("bioc_relations", ()):
        r = bioc.BioCRelation()
        r.id, r.infons = rel.get("id", ""), dict(rel.get("infons", {}))
        for node in rel.get("nodes", ()):
            r.add_node(bioc.BioCNode(node["refid"], node["role"]))
        idx = rel.get("passage")
        (passages[idx][0] if idx is not None and idx < len(passages) else bdoc).add_relation(r)
    return bdoc


#: characters XML 1.0 cannot hold (lxml refuses them)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def check_xml_text(doc: Document) -> None:
    """An :class:`InputError` naming the offset of the first character of ``doc`` that XML cannot hold."""
    for what, value in (("text", doc.text), ("id", doc.id)):
        m = _NOT_XML.search(value)
        if m:
            raise InputError(f"{what} holds U+{ord(m.group()):04X} at character offset {m.start()}, which XML 1.0 "
                             "cannot hold; write BioC JSON (.json) instead, or remove the control characters",
                             source=doc.id)


def write_bioc(docs: Iterable[Document], path: str | Path) -> int:
    """Write ``docs`` as one BioC collection (JSON; BioC XML when ``path`` ends in ``.xml``). Returns the number
    of documents. XML cannot hold control characters: a document with one is an :class:`InputError`."""
    _, biocjson, biocxml = _bioc()
    p = Path(path)
    docs = list(docs)
    if p.suffix.lower() == ".xml":
        for doc in docs:
            check_xml_text(doc)
    collection = to_bioc_collection(docs)
    with open(p, "w", encoding="utf-8", newline="") as fh:
        if p.suffix.lower() == ".xml":
            biocxml.dump(collection, fh)
        else:
            biocjson.dump(collection, fh, indent=1, ensure_ascii=False)
    return len(collection.documents)
