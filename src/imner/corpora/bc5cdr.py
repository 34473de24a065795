"""BioCreative V CDR (BC5CDR): PubMed abstracts with Chemical and Disease mentions (MeSH ids) and CID relations
(``meta["relations"]``). Only train and dev are stored: the test split is kept aside for independent evaluation.
"""

from __future__ import annotations

from pathlib import Path

from imner.corpora import Corpus, Loaded, register
from imner.corpora._util import iob_counts, read_pubtator_records
from imner.schema import DISEASE_LABELS

_FILES = {"train": "CDR_TrainingSet.PubTator.txt", "dev": "CDR_DevelopmentSet.PubTator.txt"}
_IOB_FILES = {"train": "train.tsv", "dev": "devel.tsv"}


def load_split(root: Path, split: str) -> Loaded:
    docs, notes = read_pubtator_records(root / "pubtator" / _FILES[split])
    return Loaded(docs, tuple(notes))


def source_counts(root: Path, split: str) -> dict:
    """Counts of the MTL IOB version (``iob/``; Crichton et al. 2017)."""
    return {"iob": iob_counts(root / "iob" / _IOB_FILES[split])}


BC5CDR = register(Corpus(
    name="bc5cdr",
    description="BioCreative V CDR: PubMed abstracts, Chemical and Disease mentions (MeSH), CID relations. "
                "Train and dev only (500/500); the official test split is kept aside for independent evaluation.",
    licence="public domain (NCBI notice)",
    path="bc5cdr",
    splits=("train", "dev"),
    labels=("Chemical", "Disease"),
    # Disease covers diseases and signs/symptoms; Chemical covers drugs
    annotates=DISEASE_LABELS | {"SIGN_SYMPTOM", "MEDICATION"},
    format="PubTator",
    loader=load_split,
    source_counts=source_counts,
))
