"""Project MACCROBAT2020 annotations onto the twelve classes of docs/guidelines.md.

Rules (guideline, section "Spans"; every resolution is logged as a :class:`Resolution`):

* **Types.** :data:`TYPE_MAP` maps MACCROBAT entity types to classes; ``Disease_disorder`` goes to one of the
  three disease classes through ``disease_labels`` (source T id -> class, see :mod:`imner_dev.annotation.disease_class`);
  every other type (Age, Sex, History, Detailed_description, Dosage, Clinical_event, ...) is dropped.
* **Discontinuous spans** become the smallest continuous span holding all fragments when no span of
  *another class* (after mapping) overlaps that hull; otherwise the first fragment is kept.
* **Overlaps** (after mapping and the discontinuous rule): the longer span wins; on equal length the more
  specific class wins (:data:`SPECIFICITY`: disease classes and PATHOGEN first); on a full tie (same length, same
  rank) the span with the lower source T number wins. Exact duplicates (same offsets, same class) are merged.
* **Assertion.** MACCROBAT's ``POLARITY`` attribute becomes boolean attrs: ``NEG`` -> ``negated``;
  ``UNCERTAIN`` and ``MAYBE_POS`` -> ``uncertain``; ``MAYBE_NEG`` -> ``negated`` and ``uncertain``; ``POS`` -> nothing.
  ``TREND`` (INC/DEC/STAY) is not an assertion and is dropped.
* **Traceability.** Every projected span keeps ``source_type`` (the MACCROBAT type) and ``source_id`` (the T id)
  in its attrs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from imner.schema import DISEASE_LABELS, LABEL_NAMES
from imner.types import Document, Span

#: MACCROBAT type -> class (``Disease_disorder`` is resolved per mention, see :func:`project_document`)
TYPE_MAP: dict[str, str] = {
    "Sign_symptom": "SIGN_SYMPTOM",
    "Biological_structure": "ANATOMY",
    "Diagnostic_procedure": "DIAGNOSTIC_PROCEDURE",
    "Lab_value": "LAB_VALUE",
    "Medication": "MEDICATION",
    "Therapeutic_procedure": "THERAPEUTIC_PROCEDURE",
    "Severity": "SEVERITY",
    "Date": "TEMPORAL",
    "Duration": "TEMPORAL",
    "Time": "TEMPORAL",
    "Frequency": "TEMPORAL",
}
DISEASE_TYPE = "Disease_disorder"
DEFAULT_DISEASE_LABEL = "OTHER_DISEASE"

#: rank used to break equal-length overlaps: lower wins. Disease classes and PATHOGEN first (guideline);
#: then procedures and drugs (lexical kinds) before signs (a role), values, anatomy, modifiers.
SPECIFICITY: dict[str, int] = {
    "IMMUNE_DISEASE": 0, "INFECTIOUS_DISEASE": 0, "OTHER_DISEASE": 0, "PATHOGEN": 0,
    "DIAGNOSTIC_PROCEDURE": 1, "THERAPEUTIC_PROCEDURE": 2, "MEDICATION": 3, "SIGN_SYMPTOM": 4,
    "LAB_VALUE": 5, "ANATOMY": 6, "SEVERITY": 7, "TEMPORAL": 8,
}
assert set(SPECIFICITY) == set(LABEL_NAMES)

#: POLARITY value -> (negated, uncertain)
POLARITY_MAP: dict[str, tuple[bool, bool]] = {
    "NEG": (True, False),
    "UNCERTAIN": (False, True),
    "MAYBE_POS": (False, True),
    "MAYBE_NEG": (True, True),
    "POS": (False, False),
}


@dataclass(frozen=True)
class Resolution:
    """One decision the projection took about a span (for the review report)."""

    doc_id: str
    kind: str  # "discontinuous-hull" | "discontinuous-first" | "overlap-dropped" | "duplicate-merged"
    source_id: str
    label: str
    start: int
    end: int
    text: str
    detail: str
    other_id: str = ""  # the span it lost to / that blocked the hull

    def as_row(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "kind": self.kind, "source_id": self.source_id, "label": self.label,
                "start": self.start, "end": self.end, "text": self.text, "other_id": self.other_id,
                "detail": self.detail}


def source_id(span: Span) -> str:
    """The brat T id of a source span (attrs ``id``)."""
    return str(span.attrs.get("id", ""))


def _tid_number(tid: str) -> int:
    m = re.search(r"\d+", tid)
    return int(m.group()) if m else 1 << 30


def assertion_attrs(attrs: Mapping[str, Any], *, where: str = "") -> dict[str, bool]:
    """``negated``/``uncertain`` from a MACCROBAT POLARITY value (absent -> nothing)."""
    value = attrs.get("POLARITY")
    if value is None:
        return {}
    try:
        neg, unc = POLARITY_MAP[str(value)]
    except KeyError:
        from imner.errors import InputError

        raise InputError(f"unknown POLARITY value {value!r}; allowed: {', '.join(POLARITY_MAP)}",
                         source=where or None) from None
    out: dict[str, bool] = {}
    if neg:
        out["negated"] = True
    if unc:
        out["uncertain"] = True
    return out


def map_label(span: Span, disease_labels: Mapping[str, str] | None = None) -> str | None:
    """The class of a MACCROBAT span, or None when its type is not an entity of the schema."""
    if span.label == DISEASE_TYPE:
        label = (disease_labels or {}).get(source_id(span), DEFAULT_DISEASE_LABEL)
        if label not in DISEASE_LABELS:
            raise ValueError(f"disease label for {source_id(span)} must be one of {sorted(DISEASE_LABELS)}, "
                             f"got {label!r}")
        return label
    return TYPE_MAP.get(span.label)


def _mapped(doc: Document, disease_labels: Mapping[str, str] | None) -> list[Span]:
    out = []
    for s in doc.spans:
        label = map_label(s, disease_labels)
        if label is None:
            continue
        attrs: dict[str, Any] = {"source_type": s.label, "source_id": source_id(s)}
        attrs.update(assertion_attrs(s.attrs, where=f"{doc.id} {source_id(s)}"))
        out.append(Span(s.start, s.end, label, attrs=attrs, fragments=s.fragments))
    return out


def _resolve_discontinuous(doc: Document, spans: list[Span], log: list[Resolution]) -> list[Span]:
    out = []
    for s in spans:
        if not s.fragments:
            out.append(s)
            continue
        blockers = [o for o in spans if o is not s and o.label != s.label and o.overlaps(s)]
        sid = s.attrs["source_id"]
        if blockers:
            a, b = s.fragments[0]
            new = Span(a, b, s.label, attrs=s.attrs)
            b0 = blockers[0]
            log.append(Resolution(doc.id, "discontinuous-first", sid, s.label, a, b, doc.text[a:b],
                                  f"fragments {list(map(list, s.fragments))} ({s.text_in(doc.text)!r}); "
                                  f"hull holds {b0.label} {b0.attrs['source_id']} {doc.text[b0.start:b0.end]!r}",
                                  b0.attrs["source_id"]))
        else:
            new = Span(s.start, s.end, s.label, attrs=s.attrs)
            log.append(Resolution(doc.id, "discontinuous-hull", sid, s.label, s.start, s.end,
                                  doc.text[s.start:s.end],
                                  f"fragments {list(map(list, s.fragments))} ({s.text_in(doc.text)!r})"))
        out.append(new)
    return out


def _rank(s: Span) -> tuple[int, int, int, int]:
    return (-(s.end - s.start), SPECIFICITY[s.label], _tid_number(str(s.attrs.get("source_id", ""))), s.start)


def resolve_overlaps(doc: Document, spans: Iterable[Span], log: list[Resolution]) -> list[Span]:
    """Greedy: longest first, then :data:`SPECIFICITY`, then lower T id; drop what overlaps a kept span."""
    kept: list[Span] = []
    for s in sorted(spans, key=_rank):
        clash = next((k for k in kept if k.overlaps(s)), None)
        if clash is None:
            kept.append(s)
            continue
        same = (clash.start, clash.end, clash.label) == (s.start, s.end, s.label)
        kind = "duplicate-merged" if same else "overlap-dropped"
        if same:
            why = "same offsets and class"
        elif clash.end - clash.start > s.end - s.start:
            why = "kept the longer"
        elif SPECIFICITY[clash.label] < SPECIFICITY[s.label]:
            why = "equal length: kept the more specific class"
        else:
            why = "equal length and rank: kept the lower T id"
        log.append(Resolution(doc.id, kind, str(s.attrs.get("source_id", "")), s.label, s.start, s.end,
                              doc.text[s.start:s.end],
                              f"overlaps {clash.label} {clash.attrs.get('source_id', '')} "
                              f"{doc.text[clash.start:clash.end]!r} [{clash.start},{clash.end}); {why}",
                              str(clash.attrs.get("source_id", ""))))
    return sorted(kept, key=lambda s: (s.start, s.end))


def project_document(doc: Document, disease_labels: Mapping[str, str] | None = None
                     ) -> tuple[Document, list[Resolution]]:
    """Project one MACCROBAT document (spans labelled with MACCROBAT types, attrs ``id`` = T id and
    ``POLARITY`` where present) to the schema. Returns the new document and the resolutions taken.

    ``disease_labels`` maps the T id of each ``Disease_disorder`` span to its disease class; missing ids get
    ``OTHER_DISEASE`` (rule 4).
    """
    log: list[Resolution] = []
    spans = _mapped(doc, disease_labels)
    spans = _resolve_discontinuous(doc, spans, log)
    spans = resolve_overlaps(doc, spans, log)
    return doc.with_spans(spans), log
