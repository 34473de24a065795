"""brat standoff (``.ann`` + ``.txt``) reader and writer.

Reading
-------
* ``T`` lines become :class:`~imner.types.Span` (``label`` = type, ``attrs["id"]`` = the T id); a discontinuous
  ``a b;c d`` mention keeps its pieces in ``fragments``. The mention is checked against the text (fragments joined
  by one space, the brat convention). The mention runs to the end of the line; if that fails to match but the
  part before a further tab matches, the rest is kept as ``attrs["brat_tail"]`` (one MACCROBAT line ends in a
  stray ``<TAB>U+2005``).
* ``A``/``M`` attributes attach to the span they target. An attribute on an event (``E5``, as in MACCROBAT) goes
  to the event's trigger span (``E5\\tSign_symptom:T7`` -> ``T7``). Multi-valued attributes become
  ``attrs[NAME] = value``; binary ones ``attrs[NAME] = True``.
* ``N`` normalizations (``N1\\tReference T1 Taxonomy:9606\\tname``) -> ``attrs["norm"] = ["Taxonomy:9606", ...]``
  and, when any line has a name, ``attrs["norm_names"]`` (same order, ``""`` where a line has none).
* ``#`` notes (``#1\\tAnnotatorNotes T5\\ttext``) -> ``attrs["note"]`` (several notes on one span joined by
  ``"\\n"``). A note ``imner {...json...}`` written by :func:`write_brat` is decoded back into attrs/score.
* ``R``, ``E``, ``*`` and any other line (and attributes/notes that target a relation) are kept verbatim in
  ``doc.meta["brat_other"]`` so they round-trip.
* The text is decoded by the policy of :mod:`imner.io._common`: UTF-8, no newline translation (CRLF stays two
  characters), a leading BOM removed and recorded as ``meta["bom"] = True``; offsets index the text without the BOM.
* A ``<id>.patient.json`` beside the ``.ann`` (written by :func:`write_brat` for ``imner extract`` output) is read
  into ``meta["patient"]``: the patient's age and sex are facts about the document, not entity mentions, so they
  are not ``T`` lines (an evaluation of a run against itself then scores 1.0).

Writing (:func:`write_brat`)
----------------------------
The ``.txt`` is the text exactly as the ``.ann`` offsets index it: UTF-8 **without** a byte-order mark (brat and
most tools count a BOM as a character, which would shift every offset by one), no newline translation.
``meta["patient"]`` goes to ``<id>.patient.json`` (see above).

Spans keep their ``attrs["id"]`` when it is a free ``T<n>`` id, else get new ones. ``attrs`` are written as:

* ``id`` -> the T id; ``norm`` (str or list) -> ``N`` lines (with ``norm_names`` as names); ``note`` -> ``#`` lines;
* ``True`` or a whitespace-free string under a brat-style name (``[A-Za-z][A-Za-z0-9_.-]*``) -> an ``A`` line. It
  targets the span's event when ``meta["brat_other"]`` has an ``E`` line triggered by the span (MACCROBAT
  attributes are event attributes), else the T id;
* ``False``/``None`` -> nothing (a brat binary attribute is false when absent);
* everything else (numbers, lists, dicts, strings with spaces) and ``score`` -> one ``#`` note
  ``imner {"key": value, ...}`` that :func:`read_brat` turns back into attrs. Nothing is dropped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

from imner.errors import FormatError, InputError, excerpt
from imner.io._common import (check_on_mismatch, check_span_in_text, decode_bytes, doc_meta, read_text,
                              verify_mention)
from imner.types import Document, Span

#: attrs keys with a meaning of their own in brat files (never written as A lines)
RESERVED_ATTRS = frozenset({"id", "norm", "norm_names", "note", "brat_tail"})
JSON_NOTE_PREFIX = "imner "
#: the file beside ``<id>.ann`` that holds the document's patient block
PATIENT_SUFFIX = ".patient.json"
_ATTR_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*\Z")
_T_ID = re.compile(r"T(\d+)\Z")
_ANY_ID = re.compile(r"([A-Za-z#*]+)(\d*)")


def _ann_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.ann"))
        if not files:
            raise InputError("no .ann files in this folder (brat standoff expects <id>.ann beside <id>.txt)",
                             source=str(path))
        return files
    if not path.exists():
        raise InputError("not found (expected a brat .ann file or a folder of them)", source=str(path))
    if path.suffix != ".ann":
        raise InputError(f"expected a brat .ann file or a folder of them, got {path.suffix or 'no suffix'!r}",
                         source=str(path))
    return [path]


def read_brat(path: str | Path, *, text_dir: str | Path | None = None,
              on_mismatch: str = "raise") -> Iterator[Document]:
    """Documents from a ``.ann`` file or a folder of them (sorted by name); id = file stem.

    The text is the sibling ``<stem>.txt``, or ``text_dir/<stem>.txt`` when given. ``on_mismatch``: what to do
    when a mention does not equal the text at its offsets: ``raise`` (default) an
    :class:`~imner.errors.OffsetMismatchError`; ``warn`` keep the span and warn; ``skip`` leave it out and warn.
    Both record the mismatch in ``meta["offset_mismatches"]``.
    """
    check_on_mismatch(on_mismatch)
    for ann in _ann_files(Path(path)):
        txt = (Path(text_dir) if text_dir is not None else ann.parent) / f"{ann.stem}.txt"
        if not txt.exists():
            raise InputError(f"text file {txt} not found for this annotation file", source=str(ann))
        text, bom = read_text(txt)
        ann_text, _ = decode_bytes(ann.read_bytes(), ann)
        doc = parse_ann(ann_text, text, doc_id=ann.stem, source=str(ann), bom=bom, on_mismatch=on_mismatch)
        side = ann.with_name(f"{ann.stem}{PATIENT_SUFFIX}")
        if side.is_file():
            content, _ = read_text(side)
            try:
                patient = json.loads(content)
            except json.JSONDecodeError as exc:
                raise FormatError(f"invalid JSON at column {exc.colno} ({exc.msg}); expected the patient block "
                                  "that imner extract writes", source=str(side), line=exc.lineno) from None
            doc = doc.with_meta(patient=patient)
        yield doc


def _parse_offsets(spec: str, source: str, line: int) -> list[tuple[int, int]]:
    frags = []
    for part in spec.split(";"):
        bits = part.split()
        if len(bits) != 2 or not all(b.isdigit() for b in bits):
            raise FormatError(f"bad offsets {spec!r}; expected 'start end' or 'start end;start end...'",
                              source=source, line=line)
        frags.append((int(bits[0]), int(bits[1])))
    if any(b > c for (_, b), (c, _) in zip(frags, frags[1:])):
        raise FormatError(f"fragments {spec!r} must be ordered and disjoint", source=source, line=line)
    return frags


def parse_ann(ann_text: str, text: str, *, doc_id: str, source: str = "<ann>", bom: bool = False,
              on_mismatch: str = "raise") -> Document:
    """One document from the content of a ``.ann`` file and its text (see the module doc)."""
    check_on_mismatch(on_mismatch)
    spans: dict[str, tuple[Span, int, str]] = {}      # T id -> (span, line, mention)
    triggers: dict[str, str] = {}                      # E id -> trigger T id
    pending: list[tuple[str, int, str]] = []           # (kind, line, raw) resolved after all T/E lines
    other: list[str] = []
    for n, raw in enumerate(ann_text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            continue
        if "\t" not in line:
            raise FormatError(f"malformed brat line {excerpt(line)}: expected '<id>\\t<annotation>...'",
                              source=source, line=n)
        ident = line.split("\t", 1)[0]
        kind = ident[:1]
        if kind == "T":
            parts = line.split("\t", 2)
            if len(parts) != 3 or " " not in parts[1]:
                raise FormatError(f"malformed text-bound line {excerpt(line)}: expected "
                                  "'T<n>\\tType start end\\tmention'", source=source, line=n)
            label, offsets = parts[1].split(" ", 1)
            frags = _parse_offsets(offsets, source, n)
            for a, b in frags:
                check_span_in_text(text, a, b, source=source, line=n)
            if ident in spans:
                raise FormatError(f"duplicate id {ident}", source=source, line=n)
            try:
                span = Span(frags[0][0], frags[-1][1], label, attrs={"id": ident},
                            fragments=tuple(frags) if len(frags) > 1 else None)
            except InputError as exc:
                raise FormatError(str(exc), source=source, line=n) from None
            spans[ident] = (span, n, parts[2])
        elif kind in "AMN#":
            pending.append((kind, n, line))
        else:
            if kind == "E":
                head = line.split("\t")[1].split(" ", 1)[0]
                if ":" not in head:
                    raise FormatError(f"malformed event line {excerpt(line)}: expected "
                                      "'E<n>\\tType:T<n> [Role:Id ...]'", source=source, line=n)
                triggers[ident] = head.split(":", 1)[1]
            other.append(line)

    extra: dict[str, dict[str, Any]] = {t: {} for t in spans}
    norms: dict[str, list[tuple[str, str]]] = {}
    notes: dict[str, list[str]] = {}
    json_attrs: dict[str, dict[str, Any]] = {}

    def target_of(ref: str) -> str | None:
        ref = triggers.get(ref, ref)
        return ref if ref in spans else None

    for kind, n, line in pending:
        parts = line.split("\t")
        if kind in "AM":
            fields = parts[1].split() if len(parts) >= 2 else []
            if len(fields) not in (2, 3):
                raise FormatError(f"malformed attribute line {excerpt(line)}: expected 'A<n>\\tName Target [Value]'",
                                  source=source, line=n)
            tid = target_of(fields[1])
            if tid is None:
                _keep_or_fail(fields[1], line, other, spans, triggers, source, n)
                continue
            name, value = fields[0], (fields[2] if len(fields) == 3 else True)
            if name in RESERVED_ATTRS:
                raise FormatError(f"attribute name {name!r} is reserved by imner ({sorted(RESERVED_ATTRS)})",
                                  source=source, line=n)
            if name in extra[tid] and extra[tid][name] != value:
                raise FormatError(f"attribute {name} set twice on {tid} ({extra[tid][name]!r} and {value!r})",
                                  source=source, line=n)
            extra[tid][name] = value
        elif kind == "N":
            fields = parts[1].split() if len(parts) >= 2 else []
            if len(fields) != 3 or len(parts) > 3:
                raise FormatError(f"malformed normalization line {excerpt(line)}: expected "
                                  "'N<n>\\tReference Target DB:ID[\\tname]'", source=source, line=n)
            tid = target_of(fields[1])
            if tid is None:
                _keep_or_fail(fields[1], line, other, spans, triggers, source, n)
                continue
            norms.setdefault(tid, []).append((fields[2], parts[2] if len(parts) == 3 else ""))
        else:  # '#'
            fields = parts[1].split() if len(parts) >= 2 else []
            if len(fields) != 2:
                raise FormatError(f"malformed note line {excerpt(line)}: expected "
                                  "'#<n>\\tAnnotatorNotes Target\\ttext'", source=source, line=n)
            tid = target_of(fields[1])
            if tid is None:
                _keep_or_fail(fields[1], line, other, spans, triggers, source, n)
                continue
            note = "\t".join(parts[2:])
            decoded = _decode_json_note(note)
            if decoded is not None:
                json_attrs.setdefault(tid, {}).update(decoded)
            else:
                notes.setdefault(tid, []).append(note)

    mismatches: list[dict[str, Any]] = []
    out: list[Span] = []
    for tid, (span, n, mention) in spans.items():
        attrs: dict[str, Any] = {"id": tid, **extra[tid]}
        if tid in norms:
            attrs["norm"] = [ref for ref, _ in norms[tid]]
            if any(name for _, name in norms[tid]):
                attrs["norm_names"] = [name for _, name in norms[tid]]
        if tid in notes:
            attrs["note"] = "\n".join(notes[tid])
        score = None
        if tid in json_attrs:
            more = dict(json_attrs[tid])
            score = more.pop("score", None)
            attrs.update(more)
        if "\t" in mention and span.text_in(text) != mention:
            # a stray field after the mention (one MACCROBAT line has "8 mg<TAB> "): the mention is the field
            # before it when that matches; the tail is kept for the round trip
            head, tail = mention.split("\t", 1)
            if span.text_in(text) == head:
                mention, attrs["brat_tail"] = head, tail
        span = span.evolve(attrs=attrs, score=score)
        if verify_mention(text, span, mention, source=source, line=n, on_mismatch=on_mismatch,
                          mismatches=mismatches):
            out.append(span)
    return Document(doc_id, text, tuple(out),
                    doc_meta(bom=bom, brat_other=other, offset_mismatches=mismatches))


def _keep_or_fail(ref: str, line: str, other: list[str], spans: dict, triggers: dict, source: str,
                  n: int) -> None:
    """An attribute/normalization/note on something that is not a span: relations are kept verbatim,
    unknown ids are an error."""
    if ref in triggers and triggers[ref] not in spans:
        raise FormatError(f"event {ref} has trigger {triggers[ref]}, which is not a text-bound annotation",
                          source=source, line=n)
    if ref.startswith("T") or ref.startswith("E"):
        raise FormatError(f"{ref} is not defined in this file", source=source, line=n)
    other.append(line)


def _decode_json_note(note: str) -> dict[str, Any] | None:
    if not note.startswith(JSON_NOTE_PREFIX + "{"):
        return None
    try:
        value = json.loads(note[len(JSON_NOTE_PREFIX):])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


# ----------------------------------------------------------------------------------------------------- writing

def _id_number(ident: str, prefix: str) -> int | None:
    m = _ANY_ID.fullmatch(ident)
    return int(m.group(2)) if m and m.group(1) == prefix and m.group(2) else None


def _is_a_value(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value != "" and not any(c.isspace() for c in value))


def _split_at_line_breaks(text: str, frags: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """brat's convention for a mention that crosses a line break: fragments on each side of it (the T line
    cannot hold the break). Whitespace around the break is left out of the fragments."""
    out: list[tuple[int, int]] = []
    for a, b in frags:
        for m in re.finditer(r"[^\r\n]+", text[a:b]):
            piece = m.group(0)
            lo = a + m.start() + (len(piece) - len(piece.lstrip()))
            hi = a + m.end() - (len(piece) - len(piece.rstrip()))
            if hi > lo:
                out.append((lo, hi))
    return tuple(out) or tuple(frags)


def format_ann(doc: Document) -> str:
    """The ``.ann`` content for ``doc`` (see the module doc for how attrs are written)."""
    other = [str(x) for x in doc.meta.get("brat_other", ())]
    used: dict[str, set[int]] = {}
    for line in other:
        m = _ANY_ID.fullmatch(line.split("\t", 1)[0])
        if m and m.group(2):
            used.setdefault(m.group(1), set()).add(int(m.group(2)))
    event_of: dict[str, str] = {}
    for line in other:
        if line.startswith("E") and "\t" in line:
            head = line.split("\t")[1].split(" ", 1)[0]
            if ":" in head:
                event_of.setdefault(head.split(":", 1)[1], line.split("\t", 1)[0])

    counters: dict[str, int] = {}

    def new_id(prefix: str) -> str:
        k = counters.get(prefix, 0) + 1
        while k in used.get(prefix, set()):
            k += 1
        counters[prefix] = k
        used.setdefault(prefix, set()).add(k)
        return f"{prefix}{k}"

    # keep existing T ids where free; number the others after them
    tids: list[str | None] = []
    for span in doc.spans:
        ident = span.attrs.get("id")
        k = _id_number(ident, "T") if isinstance(ident, str) else None
        if k is not None and k not in used.get("T", set()):
            used.setdefault("T", set()).add(k)
            tids.append(ident)
        else:
            tids.append(None)

    t_lines: list[str] = []
    rest: list[str] = []
    for span, tid in zip(doc.spans, tids):
        tid = tid or new_id("T")
        if not span.label or any(c.isspace() for c in span.label):
            raise InputError(f"label {span.label!r} cannot be a brat type (no spaces allowed)", source=doc.id)
        frags = _split_at_line_breaks(doc.text, span.fragments or ((span.start, span.end),))
        mention = " ".join(doc.text[a:b] for a, b in frags)
        tail = span.attrs.get("brat_tail")
        tail = f"\t{tail}" if isinstance(tail, str) else ""
        t_lines.append(f"{tid}\t{span.label} {';'.join(f'{a} {b}' for a, b in frags)}\t{mention}{tail}")
        leftovers: dict[str, Any] = {}
        if span.score is not None:
            leftovers["score"] = span.score
        for key, value in span.attrs.items():
            if key in RESERVED_ATTRS:
                continue
            if _ATTR_NAME.match(key) and _is_a_value(value):
                target = event_of.get(tid, tid)
                rest.append(f"{new_id('A')}\t{key} {target}" + ("" if value is True else f" {value}"))
            elif value is False or value is None:
                continue
            else:
                leftovers[key] = value
        norm = span.attrs.get("norm")
        if norm:
            refs = [norm] if isinstance(norm, str) else list(norm)
            names = list(span.attrs.get("norm_names") or [])
            for i, ref in enumerate(refs):
                name = names[i] if i < len(names) else ""
                rest.append(f"{new_id('N')}\tReference {tid} {ref}" + (f"\t{name}" if name else ""))
        note = span.attrs.get("note")
        if note:
            for piece in str(note).split("\n"):
                rest.append(f"{new_id('#')}\tAnnotatorNotes {tid}\t{piece}")
        if leftovers:
            rest.append(f"{new_id('#')}\tAnnotatorNotes {tid}\t{JSON_NOTE_PREFIX}"
                        f"{json.dumps(leftovers, ensure_ascii=False, default=str)}")
    lines = t_lines + other + rest
    return "".join(line + "\n" for line in lines)


def check_file_id(doc_id: str, source: str) -> None:
    """An :class:`InputError` unless ``doc_id`` can be a file name."""
    if not doc_id or "/" in doc_id or "\\" in doc_id or "\x00" in doc_id or doc_id in {".", ".."} \
            or doc_id.startswith("."):
        raise InputError(f"document id {excerpt(doc_id)} cannot be a file name (no '/', '\\', NUL, leading '.'); "
                         "give the documents ids that can", source=source)


def document_files(doc: Document, *, write_text: bool = True) -> list[tuple[str, str]]:
    """``(file name, content)`` of one document's brat files: ``<id>.txt`` (no BOM), ``<id>.patient.json`` when
    ``meta["patient"]`` is set, and ``<id>.ann`` last."""
    check_file_id(doc.id, doc.id)
    files = []
    if write_text:
        files.append((f"{doc.id}.txt", doc.text))
    if doc.meta.get("patient") is not None:
        files.append((f"{doc.id}{PATIENT_SUFFIX}",
                      json.dumps(doc.meta["patient"], ensure_ascii=False, default=str, indent=1) + "\n"))
    files.append((f"{doc.id}.ann", format_ann(doc)))
    return files


def write_brat(docs: Iterable[Document], directory: str | Path, *, write_text: bool = True) -> list[Path]:
    """Write ``<id>.ann`` (and ``<id>.txt`` unless ``write_text=False``, ``<id>.patient.json`` when the document
    has a patient block) for each document into ``directory`` (created if needed). The text is written exactly as
    the offsets index it (UTF-8, no newline translation, no BOM). Returns the ``.ann`` paths."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for doc in docs:
        check_file_id(doc.id, str(out_dir))
        for name, content in document_files(doc, write_text=write_text):
            (out_dir / name).write_text(content, encoding="utf-8", newline="")
        written.append(out_dir / f"{doc.id}.ann")
    return written
