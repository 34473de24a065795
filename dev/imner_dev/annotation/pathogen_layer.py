"""Adding PATHOGEN to a projected document (the automatic first pass; every case goes to the review file).

For each dictionary match (:class:`imner_dev.annotation.pathogens.PathogenMatcher`), against the projected spans:

* **free text** (no span there): a PATHOGEN span is added. Names that are also the infection's name (rule 6:
  "HIV", "CMV", "influenza") take the context: after "history of", "diagnosed with", "known" ... the mention is
  the disease and becomes INFECTIOUS_DISEASE; otherwise PATHOGEN. Both are flagged ``rule6-check`` unless an
  organism word is next to it ("HIV RNA", "grew", "positive for") or it is the "(ABBR)" of a PATHOGEN span.
* **a span that is exactly the organism** (MACCROBAT has no organism type, so organisms were annotated as
  Disease_disorder, Lab_value or Sign_symptom: "cultures grew *Haemophilus influenzae*"), possibly with
  strain/serotype/resistance words ("multidrug-resistant *Pseudomonas aeruginosa*", "*S. suis* serotype 2"): the span
  is relabelled PATHOGEN — except disease spans of rule-6 names without organism context (kept, flagged), spans
  whose disease class a reviewer decided, and DIAGNOSTIC_PROCEDURE spans (a test named by its organism, "HIV was
  negative": kept, flagged).
* **a disease span that starts with the organism** and whose rest is a disease word ("MRSA bacteremia",
  "adenovirus pneumonia", "Nocardia infection"; guideline rule 6): split into PATHOGEN + the disease span
  (which keeps its T id and class).
* **anything else** (inside a longer test or value span, "HCV RNA", "positive for human adenovirus"; partial
  overlaps): nothing is changed; the case is recorded for the review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from imner_dev.annotation.pathogens import Match, PathogenMatcher
from imner.schema import DISEASE_LABELS
from imner.types import Document, Span

_ORGANISM_AFTER = re.compile(
    r"^[\s,]*(?:-?\s*)?(rna|dna|load|viral load|antigens?|antibod\w*|serolog\w*|igg|igm|pcr|cultures?|isolates?|"
    r"strains?|species|spp|sequences?|was grown|were grown|grew|was isolated|were isolated|was identified|"
    r"was detected|were detected|positive|negative|titers?|titres?|genotype|viremia|replication|"
    r"lymph node tissue staining)\b", re.I)
_ORGANISM_BEFORE = re.compile(
    r"\b(grew|growth of|positive for|negative for|isolated|cultured|yielded|identified as|caused by|infected with|"
    r"infection with|colonized with|colonisation with|colonization with|evidence of|for amplifiable|"
    r"classified as|revealed an?|detected|against|for)\s*$", re.I)
_DISEASE_BEFORE = re.compile(r"\b(history of|diagnosed with|diagnosis of|known|suffer\w* from|with a history of|"
                             r"had|has|chronic|active|untreated|treated)\s*$", re.I)
_MODIFIERS = re.compile(
    r"^(?:[\s,.;:()\-]|multi-?drug[- ]resistant|drug[- ]resistant|methicillin[- ]resistant|"
    r"vancomycin[- ]resistant|carbapenem[- ]resistant|resistant|susceptible|sensitive|spp\b|sp\b|species|"
    r"serotypes?|serogroups?|strains?|var\b|subsp\b|group|type|isolates?|aerobic|anaerobic|[A-Z]{1,2}\b|"
    r"\d[\w:,]*|[ivx]+\b|grubii)*$", re.I)


@dataclass(frozen=True)
class PathogenRow:
    """One pathogen case for the review file."""

    doc_id: str
    start: int
    end: int
    mention: str
    source: str
    taxid: str
    action: str  # added | added-as-disease | relabelled | split | recorded
    flag: str


def organism_context(text: str, start: int, end: int) -> bool:
    return bool(_ORGANISM_AFTER.match(text[end:end + 40]) or _ORGANISM_BEFORE.search(text[max(0, start - 40):start]))


def disease_context(text: str, start: int) -> bool:
    return bool(_DISEASE_BEFORE.search(text[max(0, start - 30):start]))


def _abbreviation_of_pathogen(text: str, spans: list[Span], m: Match) -> bool:
    """``m`` is "(ABBR)" right after a PATHOGEN span: an abbreviation takes its long form's class (guideline)."""
    if text[m.start - 1:m.start] != "(" or text[m.end:m.end + 1] != ")":
        return False
    before = text[:m.start - 1].rstrip()
    return any(s.label == "PATHOGEN" and s.end == len(before) for s in spans)


def _new_id(spans: Iterable[Span], taken: set[int]) -> str:
    n = max([int(m.group(1)) for s in spans if (m := re.fullmatch(r"T(\d+)", str(s.attrs.get("source_id", ""))))]
            + list(taken) + [0]) + 1
    taken.add(n)
    return f"T{n}"


def add_pathogens(doc: Document, matches: list[Match], *, is_disease_word: Callable[[str], bool],
                  frozen_ids: frozenset[str] = frozenset(), base_max_id: int = 0) -> tuple[Document, list[PathogenRow]]:
    """Apply the rules of the module doc. ``is_disease_word(text)``: whether the rest of a disease span after
    the organism names a disease (for the split). ``frozen_ids``: source ids of spans a reviewer decided
    (never relabelled or split). ``base_max_id``: the largest T number of the source document, so new spans get
    fresh ids."""
    text = doc.text
    spans = list(doc.spans)
    rows: list[PathogenRow] = []
    taken: set[int] = {base_max_id}

    def row(m: Match, action: str, flag: str) -> None:
        rows.append(PathogenRow(doc.id, m.start, m.end, m.text, m.source, m.taxid, action, flag))

    for m in matches:
        hits = [s for s in spans if s.start < m.end and m.start < s.end]
        org_ctx = organism_context(text, m.start, m.end) or _abbreviation_of_pathogen(text, spans, m)
        amb_flag = "rule6-check" if m.ambiguous and not org_ctx else ""
        if not hits:
            if m.ambiguous and not org_ctx and disease_context(text, m.start):
                label, action = "INFECTIOUS_DISEASE", "added-as-disease"
                flag = "rule6-check: disease context"
            else:
                label, action, flag = "PATHOGEN", "added", amb_flag
            spans.append(Span(m.start, m.end, label, attrs={"source_type": "pathogen-dictionary",
                                                            "source_id": _new_id(spans, taken),
                                                            "pathogen_source": m.source, "taxid": m.taxid,
                                                            **({"review_flag": flag} if flag else {})}))
            row(m, action, flag)
            continue
        if len(hits) > 1:
            row(m, "recorded", "overlaps " + ", ".join(f"{h.label} {h.attrs.get('source_id', '')}" for h in hits))
            continue
        h = hits[0]
        hid = str(h.attrs.get("source_id", ""))
        htext = text[h.start:h.end]
        inside = h.start <= m.start and m.end <= h.end
        if not inside:
            row(m, "recorded", f"partial overlap with {h.label} {hid} {htext!r}")
            continue
        if hid in frozen_ids:
            row(m, "recorded", f"inside {h.label} {hid} {htext!r} whose class a reviewer decided")
            continue
        rest_before, rest_after = text[h.start:m.start], text[m.end:h.end]
        organism_span = bool(_MODIFIERS.match(rest_before) and _MODIFIERS.match(rest_after))
        if organism_span:
            if h.label == "DIAGNOSTIC_PROCEDURE":
                row(m, "recorded", f"is DIAGNOSTIC_PROCEDURE {hid} {htext!r} (a test named by its organism?)")
                continue
            if h.label in DISEASE_LABELS and m.ambiguous and not org_ctx:
                row(m, "recorded", f"rule6-check: is {h.label} {hid} {htext!r} (name of the infection?)")
                continue
            if h.label not in DISEASE_LABELS | {"LAB_VALUE", "SIGN_SYMPTOM"}:
                row(m, "recorded", f"is {h.label} {hid} {htext!r}")
                continue
            spans.remove(h)
            spans.append(h.evolve(label="PATHOGEN", fragments=None,
                                  attrs_update={"relabelled_from": h.label, "pathogen_source": m.source,
                                                "taxid": m.taxid, **({"review_flag": amb_flag} if amb_flag else {})}))
            row(m, "relabelled", f"was {h.label} {hid} {htext!r}" + (f"; {amb_flag}" if amb_flag else ""))
            continue
        if (h.label in DISEASE_LABELS and m.start == h.start and rest_after[:1] in (" ", "-")
                and is_disease_word(rest_after.strip(" -"))):
            offset = m.end + (len(rest_after) - len(rest_after.lstrip(" -")))
            spans.remove(h)
            spans.append(Span(m.start, m.end, "PATHOGEN", attrs={"source_type": "pathogen-dictionary",
                                                                 "source_id": _new_id(spans, taken),
                                                                 "split_from": hid, "pathogen_source": m.source,
                                                                 "taxid": m.taxid}))
            spans.append(h.evolve(start=offset, fragments=None, attrs_update={"split_pathogen": True}))
            row(m, "split", f"from {h.label} {hid} {htext!r} -> PATHOGEN + {text[offset:h.end]!r}")
            continue
        row(m, "recorded", f"inside {h.label} {hid} {htext!r}")
    return doc.with_spans(spans), rows
