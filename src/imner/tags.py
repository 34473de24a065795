"""The one BIO / BIOES codec, shared by every sequence tagger and by evaluation.

Spans whose boundaries fall inside a token are *misaligned*: they are never dropped silently but
returned to the caller (and, with ``align="expand"``, widened to the tokens they touch).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Literal, Sequence

from imner.errors import InputError
from imner.text import Token
from imner.types import Span

Scheme = Literal["BIO", "BIOES"]
OUTSIDE = "O"


def spans_to_tags(tokens: Sequence[Token], spans: Sequence[Span], scheme: Scheme = "BIO",
                  align: Literal["strict", "expand"] = "strict") -> tuple[list[str], list[Span]]:
    """Encode ``spans`` over ``tokens``. Returns ``(tags, misaligned)``.

    ``strict``: a span whose edges are not token edges is left out of the tags and reported.
    ``expand``: it is widened to the tokens it overlaps, tagged, and still reported.
    Overlapping spans: the first (longest at the same start) wins; the others are reported too.
    """
    tags = [OUTSIDE] * len(tokens)
    starts = [t.start for t in tokens]
    ends = [t.end for t in tokens]
    misaligned: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        i = bisect_left(starts, span.start)
        j = bisect_right(ends, span.end) - 1
        aligned = i < len(tokens) and starts[i] == span.start and j >= 0 and ends[j] == span.end and i <= j
        if not aligned:
            misaligned.append(span)
            if align == "strict":
                continue
            i = bisect_right(ends, span.start)          # first token ending after span.start
            j = bisect_left(starts, span.end) - 1       # last token starting before span.end
            if i > j:
                continue
        if any(tags[k] != OUTSIDE for k in range(i, j + 1)):
            if span not in misaligned:
                misaligned.append(span)
            continue
        if scheme == "BIOES" and i == j:
            tags[i] = f"S-{span.label}"
            continue
        tags[i] = f"B-{span.label}"
        for k in range(i + 1, j + 1):
            tags[k] = f"I-{span.label}"
        if scheme == "BIOES":
            tags[j] = f"E-{span.label}"
    return tags, misaligned


def _split(tag: str) -> tuple[str, str]:
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, sep, label = tag.partition("-")
    if not sep or prefix not in {"B", "I", "E", "S"} or not label:
        raise InputError(f"malformed tag {tag!r}; allowed: O, B-X, I-X, E-X, S-X")
    return prefix, label


def tags_to_spans(tokens: Sequence[Token], tags: Sequence[str],
                  scores: Sequence[float] | None = None) -> list[Span]:
    """Decode BIO or BIOES tags (conlleval convention: an ``I-X`` after ``O`` or another label starts
    a new entity). A span's score is the mean of its tokens' scores when given."""
    if len(tokens) != len(tags):
        raise InputError(f"{len(tokens)} tokens but {len(tags)} tags")
    spans: list[Span] = []
    cur: tuple[int, int, str] | None = None  # (first token index, last token index, label)

    def close() -> None:
        nonlocal cur
        if cur is not None:
            i, j, label = cur
            score = None if scores is None else float(sum(scores[i:j + 1]) / (j - i + 1))
            spans.append(Span(tokens[i].start, tokens[j].end, label, score))
            cur = None

    for k, tag in enumerate(tags):
        prefix, label = _split(tag)
        if prefix == OUTSIDE:
            close()
        elif prefix in {"B", "S"}:
            close()
            cur = (k, k, label)
            if prefix == "S":
                close()
        else:  # I or E
            if cur is not None and cur[2] == label:
                cur = (cur[0], k, label)
            else:
                close()
                cur = (k, k, label)
            if prefix == "E":
                close()
    close()
    return spans


def label_set(labels: Sequence[str], scheme: Scheme = "BIO") -> list[str]:
    """All tags for ``labels`` in a stable order, ``O`` first."""
    prefixes = "BI" if scheme == "BIO" else "BIES"
    return [OUTSIDE] + [f"{p}-{label}" for label in labels for p in prefixes]
