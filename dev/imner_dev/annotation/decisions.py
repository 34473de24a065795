"""Review decisions (``corpus/imd-cases/decisions/*.tsv``): reading and validation.

``diseases.tsv`` — columns ``doc_id, tid, label, reason`` (optional ``mention``): the disease class of the
MACCROBAT ``Disease_disorder`` span ``tid`` of document ``doc_id`` (IMMUNE_DISEASE, INFECTIOUS_DISEASE or
OTHER_DISEASE). A row whose label equals the pre-label records a confirmation.

``pathogens.tsv`` — columns ``doc_id, start, end, action, label, mention, reason``: ``remove`` deletes the span
with exactly these offsets and label from the automatic result; ``add`` adds a span with any of the twelve labels
(normally PATHOGEN). A boundary fix is a ``remove`` plus an ``add``. An ``add`` that overlaps a remaining span
is an error (remove that span first). ``mention`` must equal the text at ``[start, end)``.

Every problem is an :class:`~imner.errors.InputError` naming the file and line: unknown document, unknown or
non-disease T id, bad label or action, a mention that does not match the text, duplicates.
Lines starting with ``#`` and blank lines are ignored.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from imner.errors import InputError, OffsetMismatchError
from imner.schema import DISEASE_LABELS, LABEL_NAMES
from imner.types import Document

DISEASE_COLUMNS = ("doc_id", "tid", "label", "reason")
PATHOGEN_COLUMNS = ("doc_id", "start", "end", "action", "label", "mention", "reason")
ACTIONS = ("add", "remove")


@dataclass(frozen=True)
class DiseaseDecision:
    doc_id: str
    tid: str
    label: str
    reason: str
    source: str
    line: int


@dataclass(frozen=True)
class SpanDecision:
    doc_id: str
    start: int
    end: int
    action: str
    label: str
    mention: str
    reason: str
    source: str
    line: int


def _rows(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()):
    """(line number, row dict) of a TSV with a header; errors name the file and line."""
    src = str(path)
    with open(path, encoding="utf-8", newline="") as fh:
        lines = [(n, ln.rstrip("\r\n")) for n, ln in enumerate(fh, start=1)]
    lines = [(n, ln) for n, ln in lines if ln.strip() and not ln.startswith("#")]
    if not lines:
        return
    n0, header_line = lines[0]
    header = header_line.split("\t")
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    if missing or unknown:
        raise InputError(f"header must have the columns {', '.join(required)}"
                         + (f" (optional: {', '.join(optional)})" if optional else "")
                         + f"; missing {missing}, unknown {unknown}", source=src, line=n0)
    for n, ln in lines[1:]:
        cells = next(csv.reader([ln], delimiter="\t", quoting=csv.QUOTE_NONE))
        if len(cells) > len(header):
            raise InputError(f"{len(cells)} fields, header has {len(header)}", source=src, line=n)
        row = dict(zip(header, cells + [""] * (len(header) - len(cells))))
        yield n, {k: v.strip() for k, v in row.items()}


def read_disease_decisions(path: Path, docs: Mapping[str, Document]) -> dict[tuple[str, str], DiseaseDecision]:
    """Validated disease decisions keyed by ``(doc_id, tid)``. ``docs`` are the *source* (MACCROBAT) documents."""
    src = str(path)
    out: dict[tuple[str, str], DiseaseDecision] = {}
    for n, r in _rows(path, DISEASE_COLUMNS, ("mention",)):
        doc = docs.get(r["doc_id"])
        if doc is None:
            raise InputError(f"unknown document id {r['doc_id']!r} (not a MACCROBAT2020 document)", source=src, line=n)
        span = next((s for s in doc.spans if s.attrs.get("id") == r["tid"]), None)
        if span is None:
            raise InputError(f"document {r['doc_id']} has no annotation {r['tid']!r}", source=src, line=n)
        if span.label != "Disease_disorder":
            raise InputError(f"{r['doc_id']} {r['tid']} is a {span.label}, not a Disease_disorder; disease "
                             "decisions apply to Disease_disorder spans only (use pathogens.tsv for other edits)",
                             source=src, line=n)
        if r["label"] not in DISEASE_LABELS:
            raise InputError(f"label {r['label']!r} is not a disease class; allowed: "
                             f"{', '.join(sorted(DISEASE_LABELS))}", source=src, line=n)
        if r.get("mention") and span.text_in(doc.text) != r["mention"]:
            raise OffsetMismatchError(expected=r["mention"], found=span.text_in(doc.text), start=span.start,
                                      end=span.end, source=src, line=n)
        key = (r["doc_id"], r["tid"])
        if key in out:
            raise InputError(f"second decision for {key[0]} {key[1]} (first on line {out[key].line})",
                             source=src, line=n)
        out[key] = DiseaseDecision(r["doc_id"], r["tid"], r["label"], r.get("reason", ""), src, n)
    return out


def unescape_mention(value: str) -> str:
    """A TSV cell's mention with ``\\n``, ``\\t`` and ``\\\\`` turned back into a line break, a tab and a
    backslash (mentions that cross a line break in the text cannot be written literally in a TSV row)."""
    if "\\" not in value:
        return value
    return value.replace("\\\\", "\0").replace("\\n", "\n").replace("\\t", "\t").replace("\0", "\\")


def read_span_decisions(path: Path, docs: Mapping[str, Document]) -> list[SpanDecision]:
    """Validated span decisions (pathogen additions/removals/boundary fixes), in file order."""
    src = str(path)
    out: list[SpanDecision] = []
    seen: dict[tuple, int] = {}
    for n, r in _rows(path, PATHOGEN_COLUMNS):
        doc = docs.get(r["doc_id"])
        if doc is None:
            raise InputError(f"unknown document id {r['doc_id']!r} (not a MACCROBAT2020 document)", source=src, line=n)
        try:
            start, end = int(r["start"]), int(r["end"])
        except ValueError:
            raise InputError(f"start/end must be integers, got {r['start']!r}, {r['end']!r}", source=src,
                             line=n) from None
        if not 0 <= start < end <= len(doc.text):
            raise InputError(f"[{start}, {end}) is not a non-empty range inside {r['doc_id']} (length "
                             f"{len(doc.text)})", source=src, line=n)
        if r["action"] not in ACTIONS:
            raise InputError(f"action {r['action']!r}; allowed: {', '.join(ACTIONS)}", source=src, line=n)
        if r["label"] not in LABEL_NAMES:
            raise InputError(f"label {r['label']!r}; allowed: {', '.join(LABEL_NAMES)}", source=src, line=n)
        found = doc.text[start:end]
        mention = unescape_mention(r["mention"])
        if found != mention:
            raise OffsetMismatchError(expected=mention, found=found, start=start, end=end, source=src, line=n)
        key = (r["doc_id"], start, end, r["action"], r["label"])
        if key in seen:
            raise InputError(f"duplicate of line {seen[key]}", source=src, line=n)
        seen[key] = n
        out.append(SpanDecision(r["doc_id"], start, end, r["action"], r["label"], mention,
                                r.get("reason", ""), src, n))
    return out
