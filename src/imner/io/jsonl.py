"""imner's JSON Lines format: the output contract of ``imner extract`` and a simple input format.

One document per line::

    {"id": "case1", "text": "...", "entities": [{"start": 0, "end": 5, "label": "SIGN_SYMPTOM",
     "text": "Fever", "score": 0.93, ...attrs}], "meta": {...}}

* ``entities`` are :meth:`imner.types.Span.to_dict` dicts (attrs at the top level of each entity, ``fragments``
  for discontinuous spans); ``text`` in an entity is the mention and is checked against the document text.
* ``text`` is left out of output lines by default (``include_text=False``); reading needs it.
* ``patient`` (``meta["patient"]``, the patient block) is written at the top level; the rest of ``meta`` under
  ``meta`` unless ``include_meta=False`` (``imner extract`` output).
* On reading, ``spans`` is accepted as a synonym of ``entities``; a ``meta`` object and any other top-level keys go
  to ``Document.meta``. A line without ``id`` gets ``<file stem>:<line number>``. Blank lines are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping

from imner.errors import FormatError, InputError, excerpt
from imner.io._common import (check_no_surrogates, check_on_mismatch, check_span_in_text, iter_decoded_lines,
                              verify_mention)
from imner.types import Document, Span, span_from_dict

ALLOWED_KEYS = ("id", "text", "entities", "spans", "meta")


#: meta keys written at the top level of a line (and read back into meta like any other top-level key)
TOP_LEVEL_META = ("patient",)


def document_to_json(doc: Document, *, include_text: bool = True, include_meta: bool = True) -> dict[str, Any]:
    """The JSON object of one document: ``id``, ``text`` (unless ``include_text=False``), ``entities``, the
    patient block when there is one and ``meta`` (only when not empty, and unless ``include_meta=False``)."""
    out: dict[str, Any] = {"id": doc.id}
    if include_text:
        out["text"] = doc.text
    out["entities"] = [s.to_dict(doc.text) for s in doc.spans]
    for key in TOP_LEVEL_META:
        if key in doc.meta:
            out[key] = doc.meta[key]
    rest = {k: v for k, v in doc.meta.items() if k not in TOP_LEVEL_META}
    if include_meta and rest:
        out["meta"] = rest
    return out


def dumps_document(doc: Document, *, include_text: bool = False, include_meta: bool = True) -> str:
    """One JSONL line (no trailing newline). Values JSON cannot hold are written with ``str()``."""
    return json.dumps(document_to_json(doc, include_text=include_text, include_meta=include_meta),
                      ensure_ascii=False, default=str)


def jsonl_record(doc: Document, *, include_text: bool = False, include_meta: bool = False) -> str:
    """One streamed line of ``imner extract`` output: ``id``, ``entities``, ``patient`` (``text`` and ``meta`` when
    asked), with its newline."""
    return dumps_document(doc, include_text=include_text, include_meta=include_meta) + "\n"


#: a document with more entities than this is written entity by entity (:func:`jsonl_record_pieces`)
STREAM_ENTITIES = 2000


def jsonl_record_pieces(doc: Document, *, include_text: bool = False,
                        include_meta: bool = False) -> str | Iterator[str]:
    """:func:`jsonl_record` itself for a document of up to :data:`STREAM_ENTITIES` entities; for a longer one, the
    record in pieces whose concatenation is that line byte for byte (one piece per entity), so that its line (about
    20 MB for a 1 MB text, with its entity dicts several times that) is never built in memory."""
    if len(doc.spans) <= STREAM_ENTITIES:
        return jsonl_record(doc, include_text=include_text, include_meta=include_meta)
    return _record_pieces(doc, include_text, include_meta)


def _record_pieces(doc: Document, include_text: bool, include_meta: bool) -> Iterator[str]:
    def dumps(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)

    # the keys and their order of document_to_json, each value written as json.dumps writes it inside the object
    yield "{" + dumps("id") + ": " + dumps(doc.id)
    if include_text:
        yield ", " + dumps("text") + ": " + dumps(doc.text)
    yield ", " + dumps("entities") + ": ["
    for i, span in enumerate(doc.spans):
        yield (", " if i else "") + dumps(span.to_dict(doc.text))
    yield "]"
    for key in TOP_LEVEL_META:
        if key in doc.meta:
            yield ", " + dumps(key) + ": " + dumps(doc.meta[key])
    rest = {k: v for k, v in doc.meta.items() if k not in TOP_LEVEL_META}
    if include_meta and rest:
        yield ", " + dumps("meta") + ": " + dumps(rest)
    yield "}\n"


def write_jsonl(docs: Iterable[Document], path_or_file: str | Path | IO[str], *,
                include_text: bool = False) -> int:
    """Write one line per document to a path or an open text file. Returns the number of lines."""
    n = 0
    if hasattr(path_or_file, "write"):
        for doc in docs:
            path_or_file.write(dumps_document(doc, include_text=include_text) + "\n")  # type: ignore[union-attr]
            n += 1
        return n
    with open(path_or_file, "w", encoding="utf-8", newline="\n") as fh:
        for doc in docs:
            fh.write(dumps_document(doc, include_text=include_text) + "\n")
            n += 1
    return n


def read_jsonl(path: str | Path, *, on_mismatch: str = "raise",
               texts: Mapping[str, str] | None = None) -> Iterator[Document]:
    """Documents of a JSONL file (see the module doc). Errors name the file and line.

    ``texts`` (document id -> text) supplies the text of lines written without it, e.g. ``imner extract``
    output read back as predictions against gold documents.
    """
    check_on_mismatch(on_mismatch)
    p = Path(path)
    yield from parse_jsonl_lines(iter_decoded_lines(p), source=str(p), default_id=p.stem, on_mismatch=on_mismatch,
                                 texts=texts)


def parse_jsonl_lines(lines: Iterable[tuple[int, str]], *, source: str, default_id: str = "doc",
                      on_mismatch: str = "raise", texts: Mapping[str, str] | None = None) -> Iterator[Document]:
    """Documents from ``(line number, line)`` pairs."""
    for n, line in lines:
        if not line.strip():
            continue
        yield parse_document_json(line, source=source, line_no=n, default_id=f"{default_id}:{n}",
                                  on_mismatch=on_mismatch, texts=texts)


def _entity_types(ent: Mapping[str, Any]) -> str | None:
    """What is wrong with the types of an entity's span fields (None when nothing): offsets are JSON integers,
    the label a string, the score a number or null, fragments a list of [start, end] integer pairs."""
    for key in ("start", "end"):
        v = ent[key]
        if isinstance(v, bool) or not isinstance(v, int):
            return f"\"{key}\" must be an integer character offset, got {excerpt(v)}"
    if not isinstance(ent["label"], str) or not ent["label"]:
        return f"\"label\" must be a non-empty string, got {excerpt(ent['label'])}"
    score = ent.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
        return f"\"score\" must be a number or null, got {excerpt(score)}"
    frags = ent.get("fragments")
    if frags is not None and (not isinstance(frags, list) or not all(
            isinstance(f, list) and len(f) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in f)
            for f in frags)):
        return f"\"fragments\" must be a list of [start, end] integer pairs, got {excerpt(frags)}"
    return None


def parse_document_json(line: str, *, source: str, line_no: int | None = None, default_id: str = "doc",
                        on_mismatch: str = "raise", texts: Mapping[str, str] | None = None) -> Document:
    """One document from one JSON line."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FormatError(f"invalid JSON at column {exc.colno} ({exc.msg}); each line must be one JSON object "
                          f"with keys {', '.join(ALLOWED_KEYS)}", source=source, line=line_no) from None
    except RecursionError:
        raise FormatError("JSON nested too deeply; each line must be one flat {\"id\", \"text\", ...} object",
                          source=source, line=line_no) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise FormatError(f"invalid JSON value ({str(exc)[:80]})", source=source, line=line_no) from None
    if not isinstance(obj, dict):
        raise FormatError(f"expected a JSON object, got {type(obj).__name__}; each line must be "
                          f"{{\"id\": ..., \"text\": ...}}", source=source, line=line_no)
    text = obj.get("text")
    if text is None and texts is not None and str(obj.get("id")) in texts:
        text = texts[str(obj.get("id"))]
    if not isinstance(text, str):
        what = "no \"text\"" if "text" not in obj else f"\"text\" is {type(text).__name__}, not a string"
        raise InputError(f"{what}; each line needs \"text\" (a string) and may have \"id\", "
                         "\"entities\" (or \"spans\") and \"meta\"", source=source, line=line_no)
    ident = obj.get("id", default_id)
    if not isinstance(ident, (str, int)) or isinstance(ident, bool):
        raise InputError(f"\"id\" must be a string or an integer, got {excerpt(ident)}", source=source,
                         line=line_no)
    check_no_surrogates(text, "\"text\"", source=source, line=line_no)
    check_no_surrogates(str(ident), "\"id\"", source=source, line=line_no)
    if "entities" in obj and "spans" in obj:
        raise InputError("give \"entities\" or \"spans\", not both", source=source, line=line_no)
    raw_entities = obj.get("entities", obj.get("spans")) or []
    if not isinstance(raw_entities, list):
        raise InputError("\"entities\" must be a list of objects", source=source, line=line_no)
    meta = {k: v for k, v in obj.items() if k not in ALLOWED_KEYS}
    if "meta" in obj:
        if not isinstance(obj["meta"], dict):
            raise InputError("\"meta\" must be an object", source=source, line=line_no)
        meta.update(obj["meta"])
    spans: list[Span] = []
    mismatches: list[dict[str, Any]] = []
    for i, ent in enumerate(raw_entities):
        where = f"entity {i}"
        if not isinstance(ent, dict) or not {"start", "end", "label"} <= ent.keys():
            raise InputError(f"{where}: each entity needs \"start\", \"end\" and \"label\", got {excerpt(ent)}",
                             source=source, line=line_no)
        bad = _entity_types(ent)
        if bad:
            raise InputError(f"{where}: {bad}", source=source, line=line_no)
        try:
            span = span_from_dict(ent)
        except (InputError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: {exc}", source=source, line=line_no) from None
        for a, b in span.fragments or ((span.start, span.end),):
            check_span_in_text(text, a, b, source=source, line=line_no)
        if "text" in ent and not verify_mention(text, span, str(ent["text"]), source=source, line=line_no,
                                                on_mismatch=on_mismatch, mismatches=mismatches):
            continue
        spans.append(span)
    if mismatches:
        meta["offset_mismatches"] = mismatches
    return Document(str(ident), text, tuple(spans), meta)
