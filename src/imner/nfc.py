"""One Unicode form for the models, the original text for the offsets.

Decomposed text (NFD: ``"Sjo\\u0308gren"``, as macOS file names and some PDF extractions give it) and composed
text (NFC: ``"Sjögren"``) look the same but are different strings; a tagger, lexicon or normaliser that learned
one form misses the other. :func:`to_nfc` gives the NFC text and an :class:`OffsetMap` that takes offsets in it
back to the original text, so the pipeline runs every step on NFC and reports offsets that index the text as the
user gave it (:func:`map_document`).

The text is split before every character below U+0300 (none of them composes with what precedes it) and each
piece is normalised on its own; a piece that NFC changes is aligned cluster by cluster (a starter and the
combining marks after it), or as a whole when its clusters compose with each other (Hangul jamo). An offset that
falls inside a cluster NFC merged maps to the cluster's start (a span start) or end (a span end), so a mapped span
always covers whole characters of the original.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from typing import Any, Mapping

from imner.types import Document, Span

#: a run of characters from U+0300 up, with the character before it (what NFC may change); the text between such
#: runs is below U+0300, already NFC and left alone
_PIECE = re.compile(r"[\u0000-\u02ff]?[^\u0000-\u02ff]+", re.DOTALL)


class OffsetMap:
    """Offsets in the NFC text -> offsets in the original. Built from aligned ``(nfc_start, nfc_end,
    orig_start, orig_end)`` blocks where the two differ; offsets between blocks shift by the blocks before."""

    __slots__ = ("_blocks", "_starts", "identity")

    def __init__(self, blocks: list[tuple[int, int, int, int]]) -> None:
        self._blocks = blocks
        self._starts = [b[0] for b in blocks]
        self.identity = not blocks

    def _map(self, i: int, end: bool) -> int:
        k = bisect_right(self._starts, i) - 1
        if k < 0:
            return i
        ns, ne, os_, oe = self._blocks[k]
        if i >= ne:
            return oe + (i - ne)
        if i == ns:
            return os_
        return oe if end else os_

    def start(self, i: int) -> int:
        return i if self.identity else self._map(i, False)

    def end(self, i: int) -> int:
        return i if self.identity else self._map(i, True)


def _clusters(piece: str) -> list[str]:
    out: list[str] = []
    for ch in piece:
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def to_nfc(text: str) -> tuple[str, OffsetMap]:
    """The NFC form of ``text`` and the map of its offsets back to ``text``."""
    if unicodedata.is_normalized("NFC", text):
        return text, OffsetMap([])
    parts: list[str] = []
    blocks: list[tuple[int, int, int, int]] = []
    npos = opos = 0     # where the NFC text and the original have got to
    last = 0            # end of the last piece in the original
    for m in _PIECE.finditer(text):
        gap = m.start() - last
        if gap:
            parts.append(text[last:m.start()])
            npos, opos = npos + gap, opos + gap
        last = m.end()
        piece = m.group(0)
        norm = unicodedata.normalize("NFC", piece)
        if norm != piece:
            clusters = _clusters(piece)
            normed = [unicodedata.normalize("NFC", c) for c in clusters]
            if "".join(normed) == norm:
                n, o = npos, opos
                for c, nc in zip(clusters, normed):
                    if c != nc:
                        blocks.append((n, n + len(nc), o, o + len(c)))
                    n, o = n + len(nc), o + len(c)
            else:  # clusters compose with each other: one block, less what NFC left alike at both ends
                lo = 0
                while lo < min(len(norm), len(piece)) and norm[lo] == piece[lo]:
                    lo += 1
                hi = 0
                while hi < min(len(norm), len(piece)) - lo and norm[-1 - hi] == piece[-1 - hi]:
                    hi += 1
                blocks.append((npos + lo, npos + len(norm) - hi, opos + lo, opos + len(piece) - hi))
        parts.append(norm)
        npos += len(norm)
        opos += len(piece)
    parts.append(text[last:])
    return "".join(parts), OffsetMap(blocks)


def _map_span(span: Span, om: OffsetMap) -> Span:
    frags = tuple((om.start(a), om.end(b)) for a, b in span.fragments) if span.fragments else None
    attrs = dict(span.attrs)
    changed = False
    for key, value in span.attrs.items():
        mapped = _map_offsets(value, om)
        if mapped is not value:
            attrs[key], changed = mapped, True
    return Span(om.start(span.start), om.end(span.end), span.label, span.score,
                attrs if changed else span.attrs, frags)


def _map_offsets(value: Any, om: OffsetMap, text: str | None = None) -> Any:
    """Evidence-like values (``{"start", "end"[, "text"]}``, or lists of them) with their offsets mapped."""
    if isinstance(value, Mapping) and isinstance(value.get("start"), int) and isinstance(value.get("end"), int):
        out = dict(value)
        out["start"], out["end"] = om.start(value["start"]), om.end(value["end"])
        if text is not None and "text" in out:
            out["text"] = text[out["start"]:out["end"]]
        return out
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return [_map_offsets(v, om, text) for v in value]
    return value


def map_document(result: Document, original: Document, om: OffsetMap) -> Document:
    """``result`` (processed on the NFC text) with the original's text and meta, its spans and the offsets in its
    new meta (the patient block's evidence) mapped back to the original text."""
    if om.identity:
        return result
    spans = [_recut(_map_span(s, om), original.text) for s in result.spans]  # cue evidence quotes the original
    meta = dict(original.meta)
    for key, value in result.meta.items():
        if key in original.meta:
            continue
        if isinstance(value, Mapping):
            value = {k: _map_offsets(v, om, original.text) for k, v in value.items()}
        meta[key] = value
    return Document(original.id, original.text, tuple(spans), meta)


def _recut(span: Span, text: str) -> Span:
    fixed = {}
    for key, value in span.attrs.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) and "start" in v and "text" in v
                                                     for v in value):
            fixed[key] = [{**v, "text": text[v["start"]:v["end"]]} for v in value]
    return span.evolve(attrs_update=fixed) if fixed else span


def nfc_document(doc: Document) -> tuple[Document, OffsetMap]:
    """``doc`` with NFC text (no spans: the pipeline predicts them) and the map back."""
    text, om = to_nfc(doc.text)
    if om.identity:
        return doc, om
    return Document(doc.id, text, (), dict(doc.meta)), om


__all__ = ["OffsetMap", "map_document", "nfc_document", "to_nfc"]
