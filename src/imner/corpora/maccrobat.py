"""MACCROBAT2020: 200 PMC clinical case reports in brat standoff, 41 entity types (plus events, relations
and POLARITY/TREND attributes, kept by :func:`imner.io.brat.read_brat`).

There is no official split: ``suggested_split.tsv`` (md5(doc_id) mod 10: 0 -> test, 1 -> dev, else train;
156/20/24 documents) was made with the shared data, for reproducibility inside this project only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from imner.corpora import Corpus, Loaded, register, require
from imner.corpora._util import read_text
from imner.errors import FormatError
from imner.schema import LABEL_NAMES
from imner.types import Document

#: the 41 entity types, by frequency (MACCROBAT PROVENANCE.md, "Entity (T) counts per type")
LABELS: tuple[str, ...] = (
    "Diagnostic_procedure", "Sign_symptom", "Biological_structure", "Detailed_description", "Lab_value",
    "Disease_disorder", "Medication", "Therapeutic_procedure", "Date", "Clinical_event", "History", "Severity",
    "Dosage", "Nonbiological_location", "Coreference", "Duration", "Age", "Sex", "Administration", "Distance",
    "Activity", "Family_history", "Frequency", "Shape", "Personal_background", "Time", "Subject", "Color",
    "Quantitative_concept", "Texture", "Area", "Qualitative_concept", "Outcome", "Volume", "Other_event",
    "Other_entity", "Occupation", "Biological_attribute", "Height", "Weight", "Mass",
)
SPLIT_FILE = "suggested_split.tsv"


@lru_cache(maxsize=4)
def read_split_file(root: Path) -> dict[str, tuple[str, ...]]:
    """``suggested_split.tsv`` (``doc_id<TAB>split`` with a header) as split -> document ids."""
    path = root / SPLIT_FILE
    out: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    seen: set[str] = set()
    for i, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip() or (i == 1 and line.startswith("doc_id")):
            continue
        cols = line.split("\t")
        if len(cols) != 2 or cols[1] not in out:
            raise FormatError(f"expected 'doc_id<TAB>train|dev|test', got {line!r}", source=str(path), line=i)
        if cols[0] in seen:
            raise FormatError(f"document {cols[0]!r} listed twice", source=str(path), line=i)
        seen.add(cols[0])
        out[cols[1]].append(cols[0])
    return {k: tuple(v) for k, v in out.items()}


def load_split(root: Path, split: str) -> Loaded:
    from imner.io.brat import read_brat

    ann_dir = require(root / "MACCROBAT2020")
    docs: list[Document] = []
    tails = []
    for doc_id in read_split_file(root)[split]:
        for doc in read_brat(require(ann_dir / f"{doc_id}.ann")):
            tails += [f"{doc.id} {s.attrs['id']} ({s.attrs['brat_tail']!r})" for s in doc.spans
                      if "brat_tail" in s.attrs]
            docs.append(doc.with_meta(pmid=doc.id))
    notes = []
    if tails:
        notes.append(f"{len(tails)} T line(s) carry text after the mention, kept in attrs['brat_tail']: "
                     + ", ".join(tails))
    return Loaded(docs, tuple(notes))


def source_counts(root: Path, split: str) -> dict:
    """Non-empty text lines (the texts are roughly one sentence per line; 4,541 in all per PROVENANCE.md)."""
    ann_dir = root / "MACCROBAT2020"
    return {"lines": sum(1 for doc_id in read_split_file(root)[split]
                         for line in read_text(ann_dir / f"{doc_id}.txt").split("\n") if line.strip())}


MACCROBAT = register(Corpus(
    name="maccrobat",
    description="MACCROBAT2020: 200 PMC clinical case reports, brat standoff, 41 entity types with events, "
                "relations and POLARITY attributes. No official split: train/dev/test (156/20/24) come from "
                "suggested_split.tsv, which is NOT official (made for this project by md5(doc_id) mod 10).",
    licence="CC BY 4.0",
    path="maccrobat",
    splits=("train", "dev", "test"),
    labels=LABELS,
    # Disease_disorder, Sign_symptom, ... map onto every schema class except PATHOGEN (not annotated there)
    annotates=frozenset(LABEL_NAMES) - {"PATHOGEN"},
    format="brat standoff (.txt/.ann)",
    loader=load_split,
    source_counts=source_counts,
))
