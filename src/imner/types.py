"""The one data model: :class:`Span` and :class:`Document`.

Offsets are half-open ``[start, end)`` indices into ``Document.text`` as decoded (Python ``str``
code points). Token indices are derived from text and never stored as truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from imner.errors import InputError, OffsetMismatchError


def _freeze(attrs: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(attrs or {}))


@dataclass(frozen=True, slots=True)
class Span:
    """An entity mention.

    ``start``/``end`` cover the whole mention. A discontinuous mention (BRAT ``a b;c d``) keeps its pieces
    in ``fragments``; ``start``/``end`` are then the first fragment's start and the last one's end.
    ``attrs`` holds everything else (assertion, codes, source type...), read-only.
    """

    start: int
    end: int
    label: str
    score: float | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict, compare=False)
    fragments: tuple[tuple[int, int], ...] | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.start, int) and isinstance(self.end, int)):
            raise InputError(f"span offsets must be integers, got start={self.start!r} end={self.end!r}")
        if self.start < 0 or self.end <= self.start:
            raise InputError(f"span must satisfy 0 <= start < end, got [{self.start}, {self.end}) for {self.label!r}")
        if self.fragments is not None:
            frags = tuple((int(a), int(b)) for a, b in self.fragments)
            if len(frags) < 2:
                frags = None
            else:
                for (a, b), (c, _) in zip(frags, frags[1:]):
                    if not (a < b <= c):
                        raise InputError(f"span fragments must be ordered and disjoint: {frags}")
                if frags[0][0] != self.start or frags[-1][1] != self.end:
                    raise InputError(f"fragments {frags} do not match span [{self.start}, {self.end})")
            object.__setattr__(self, "fragments", frags)
        object.__setattr__(self, "attrs", _freeze(self.attrs))

    def __hash__(self) -> int:
        return hash((self.start, self.end, self.label, self.fragments))

    @property
    def key(self) -> tuple[int, int, str]:
        """Boundary and label: what strict evaluation compares."""
        return (self.start, self.end, self.label)

    def text_in(self, text: str) -> str:
        """The mention's surface form in ``text`` (fragments joined by a space when discontinuous)."""
        if self.fragments:
            return " ".join(text[a:b] for a, b in self.fragments)
        return text[self.start:self.end]

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end

    def evolve(self, **changes: Any) -> "Span":
        """A copy with some fields changed (``attrs`` merged when given as ``attrs_update``)."""
        update = changes.pop("attrs_update", None)
        if update:
            changes["attrs"] = {**self.attrs, **update}
        return replace(self, **changes)

    def to_dict(self, text: str | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end, "label": self.label}
        if text is not None:
            d["text"] = self.text_in(text)
        d["score"] = self.score
        if self.fragments:
            d["fragments"] = [list(f) for f in self.fragments]
        d.update(self.attrs)
        return d


_SPAN_KEYS = {"start", "end", "label", "text", "score", "fragments"}


def span_from_dict(d: Mapping[str, Any]) -> Span:
    """Inverse of :meth:`Span.to_dict`; keys other than the span fields become ``attrs``."""
    frags = d.get("fragments")
    return Span(int(d["start"]), int(d["end"]), str(d["label"]), d.get("score"),
                {k: v for k, v in d.items() if k not in _SPAN_KEYS},
                tuple(tuple(f) for f in frags) if frags else None)


@dataclass(frozen=True, slots=True)
class Document:
    """A text with its entity spans (sorted by start, end) and free-form metadata."""

    id: str
    text: str
    spans: tuple[Span, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spans", tuple(sorted(self.spans, key=lambda s: (s.start, s.end, s.label))))
        object.__setattr__(self, "meta", _freeze(self.meta))
        n = len(self.text)
        for s in self.spans:
            if s.end > n:
                raise InputError(f"span [{s.start}, {s.end}) {s.label!r} lies past the end of the text "
                                 f"(length {n})", source=self.id)

    def with_spans(self, spans: Iterable[Span]) -> "Document":
        return replace(self, spans=tuple(spans))

    def with_meta(self, **meta: Any) -> "Document":
        return replace(self, meta={**self.meta, **meta})

    def check_mention(self, span: Span, mention: str, *, source: str | None = None, line: int | None = None) -> None:
        """Raise :class:`OffsetMismatchError` unless the span's text equals ``mention``."""
        found = span.text_in(self.text)
        if found != mention:
            raise OffsetMismatchError(expected=mention, found=found, start=span.start, end=span.end,
                                      source=source or self.id, line=line)
