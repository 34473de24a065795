"""BioNLP-ST 2011 Infectious Diseases, entity layer, as IOB (MTL-Bioinformatics-2016 conversion): sentences of
PMC full-text articles on bacterial infection biology; Protein, Organism, Chemical, Regulon-operon.

The IOB files keep no document boundaries, so each sentence is a document (id ``<file stem>:<i>``), its text
the tokens joined by single spaces (:func:`imner.io.conll.read_conll`). Overlapping entities were resolved
upstream by keeping the shorter one, so a longer Organism mention may be missing where a shorter one sits.
"""

from __future__ import annotations

from pathlib import Path

from imner.corpora import Corpus, Loaded, register, require
from imner.corpora._util import iob_counts

_FILES = {"train": "train.tsv", "dev": "devel.tsv", "test": "test.tsv"}
LABELS = ("Protein", "Organism", "Chemical", "Regulon-operon")


def load_split(root: Path, split: str) -> Loaded:
    from imner.io.conll import read_conll

    return Loaded(list(read_conll(require(root / "iob" / _FILES[split]), sentences_as_docs=True)))


def source_counts(root: Path, split: str) -> dict:
    """Sentences, tokens and ``B-`` tags of the IOB file itself."""
    return {"iob": iob_counts(root / "iob" / _FILES[split])}


BIONLP11ID = register(Corpus(
    name="bionlp11id",
    description="BioNLP-ST 2011 Infectious Diseases entities (IOB, MTL-Bioinformatics-2016): sentences from PMC "
                "full texts on bacterial infection biology; each sentence is a document (no document boundaries "
                "in the IOB). Original shared-task split. Overlaps were resolved keep-shorter upstream.",
    licence="CC BY 3.0 (GENIA annotations); MTL conversion CC BY 4.0",
    path="bionlp11id",
    splits=("train", "dev", "test"),
    labels=LABELS,
    # Organism covers every organism named (pathogens among them)
    annotates=frozenset({"PATHOGEN"}),
    format="IOB (token<TAB>tag), one sentence per document",
    loader=load_split,
    source_counts=source_counts,
))
