"""BioRED (Luo et al. 2022): PubMed abstracts, six entity types with normalized ids, document-level relations.

The stored files lack 83 of the 600 official documents (removed because they belong to test sets used for
evaluation: one NCBI-disease test abstract and 82 of a held-out set), leaving 346/84/87. BioRED still shares
abstracts with BC5CDR and NCBI-disease: use :func:`imner.corpora.exclude_overlap` before training on it.
"""

from __future__ import annotations

from pathlib import Path

from imner.corpora import Corpus, Loaded, register
from imner.corpora._util import read_pubtator_records
from imner.schema import DISEASE_LABELS

_FILES = {"train": "Train.PubTator", "dev": "Dev.PubTator", "test": "Test.PubTator"}
LABELS = ("GeneOrGeneProduct", "DiseaseOrPhenotypicFeature", "ChemicalEntity", "OrganismTaxon", "SequenceVariant",
          "CellLine")


def load_split(root: Path, split: str) -> Loaded:
    docs, notes = read_pubtator_records(root / _FILES[split])
    return Loaded(docs, tuple(notes))


BIORED = register(Corpus(
    name="biored",
    description="BioRED: PubMed abstracts, Gene/Disease-or-phenotype/Chemical/OrganismTaxon/Variant/CellLine "
                "mentions with ids and relations. 346/84/87 documents (83 of the official 400/100/100 removed "
                "upstream of imner because they are in evaluation test sets). Overlaps BC5CDR and NCBI-disease.",
    licence="public domain (NCBI notice)",
    path="biored",
    splits=("train", "dev", "test"),
    labels=LABELS,
    # DiseaseOrPhenotypicFeature covers diseases and phenotypes; OrganismTaxon every organism; ChemicalEntity drugs
    annotates=DISEASE_LABELS | {"SIGN_SYMPTOM", "MEDICATION", "PATHOGEN"},
    format="PubTator",
    loader=load_split,
))
