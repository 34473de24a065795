"""Tiny hand-made cases for the cohort tests: gold-like spans run through the real assertion, code and patient
steps (no tagger), written as `imner extract --include-text` JSONL, which `imner index` stores as given."""

from __future__ import annotations

import json
from pathlib import Path

from imner.types import Document, Span

CASES = [
    ("c1", "A 34-year-old woman with systemic lupus erythematosus had fever. Cytomegalovirus PCR was negative. "
           "She was given prednisone.",
     [("systemic lupus erythematosus", "IMMUNE_DISEASE"), ("fever", "SIGN_SYMPTOM"),
      ("Cytomegalovirus", "PATHOGEN"), ("PCR", "DIAGNOSTIC_PROCEDURE"), ("prednisone", "MEDICATION")],
     {"date": "2024-01-05", "patient_id": "P1", "source": "clinic-a"}),
    ("c2", "A 60-year-old man developed cytomegalovirus pneumonia after transplant. He received ganciclovir.",
     [("cytomegalovirus pneumonia", "INFECTIOUS_DISEASE"), ("cytomegalovirus", "PATHOGEN"),
      ("transplant", "THERAPEUTIC_PROCEDURE"), ("ganciclovir", "MEDICATION")],
     {"date": "2024-02-11", "patient_id": "P2", "source": "clinic-b"}),
    ("c3", "A 7-year-old boy had no rheumatoid arthritis. His mother had psoriasis. Staphylococcus aureus grew "
           "from blood cultures and sepsis was diagnosed.",
     [("rheumatoid arthritis", "IMMUNE_DISEASE"), ("psoriasis", "IMMUNE_DISEASE"),
      ("Staphylococcus aureus", "PATHOGEN"), ("blood cultures", "DIAGNOSTIC_PROCEDURE"),
      ("sepsis", "INFECTIOUS_DISEASE")],
     {"date": "2024-02-20", "patient_id": "P2", "source": "clinic-a"}),
    ("c4", "An 80-year-old woman had a history of tuberculosis and now has lupus nephritis.",
     [("tuberculosis", "INFECTIOUS_DISEASE"), ("lupus nephritis", "IMMUNE_DISEASE")],
     {"source": "clinic-b"}),
]


def documents() -> list[Document]:
    out = []
    for doc_id, text, mentions, meta in CASES:
        spans = []
        for mention, label in mentions:
            i = text.find(mention)
            assert i >= 0, mention
            spans.append(Span(i, i + len(mention), label, 1.0))
        out.append(Document(doc_id, text, tuple(spans), meta))
    return out


def annotated() -> list[Document]:
    from imner.context import ContextAnnotator
    from imner.normalize import Normalizer

    ctx, norm = ContextAnnotator(), Normalizer()
    return [norm(ctx(d)) for d in documents()]


def write_jsonl(path: Path, docs: list[Document] | None = None) -> Path:
    from imner.patient import extract_patient

    docs = docs if docs is not None else annotated()
    with open(path, "w", encoding="utf-8") as fh:
        for d in docs:
            rec = {"id": d.id, "text": d.text, "entities": [s.to_dict(d.text) for s in d.spans],
                   "patient": extract_patient(d)}
            rec.update({k: v for k, v in d.meta.items() if k != "patient"})
            fh.write(json.dumps(rec) + "\n")
    return path
