"""NCBI Disease corpus (Doğan et al. 2014): 793 PubMed abstracts, original PubTator-like files, disease
mentions typed SpecificDisease / DiseaseClass / Modifier / CompositeMention with MeSH/OMIM ids.

Two upstream quirks of the training file are handled explicitly, and reported as load notes:

* PMID 8528200 appears twice (identical records, 11 mentions each): the later copy is dropped, so train has
  592 documents and 5,134 mentions (the file has 593 records and 5,145 mention rows; the IOB version, built
  from the same file, counts 5,145 entities).
* PMID 10923035, mention [711, 761): the mention column reads ``generalized epilepsy and febrile seizures " plus "``
  followed by two spaces; the offsets are right (the text there is the mention without the trailing spaces),
  so the span is kept with its offsets. Any other mismatch is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

from imner.corpora import Corpus, Loaded, register
from imner.corpora._util import KnownMismatches, iob_counts, read_pubtator_records, read_text
from imner.schema import DISEASE_LABELS

_FILES = {"train": "NCBItrainset_corpus.txt", "dev": "NCBIdevelopset_corpus.txt", "test": "NCBItestset_corpus.txt"}
_IOB_FILES = {"train": "train.tsv", "dev": "devel.tsv", "test": "test.tsv"}
_TITLE = re.compile(r"\d+\|t\|")
_MENTION = re.compile(r"\d+\t\d+\t\d+\t")
LABELS = ("SpecificDisease", "Modifier", "DiseaseClass", "CompositeMention")

KNOWN_MISMATCHES: KnownMismatches = {
    ("10923035", 711, 761): (
        "upstream quirk: the mention column has trailing spaces; offsets kept (they cover the mention without them)",
        lambda mention, found: mention != found and mention.rstrip() == found,
    ),
}


def load_split(root: Path, split: str) -> Loaded:
    docs, notes = read_pubtator_records(root / "original" / _FILES[split], known_mismatches=KNOWN_MISMATCHES,
                                        drop_identical_duplicates=True)
    return Loaded(docs, tuple(notes))


def source_counts(root: Path, split: str) -> dict:
    """Records and mention rows of the original file (before dropping the duplicate) and counts of the CoNLL
    IOB version (``conll_iob/``, single type ``Disease``; S. Pyysalo's standoff2conll)."""
    records = mentions = 0
    for line in read_text(root / "original" / _FILES[split]).split("\n"):
        if _TITLE.match(line):
            records += 1
        elif _MENTION.match(line):
            mentions += 1
    return {"file": {"records": records, "mention_rows": mentions},
            "iob": iob_counts(root / "conll_iob" / _IOB_FILES[split])}


NCBI_DISEASE = register(Corpus(
    name="ncbi-disease",
    description="NCBI Disease corpus: 793 PubMed abstracts (official split 593/100/100 records), disease mentions "
                "typed SpecificDisease/DiseaseClass/Modifier/CompositeMention, MeSH/OMIM ids in attrs.id. "
                "Train: duplicated PMID 8528200 dropped (592 documents) and one known offset quirk kept "
                "(see `imner corpus stats ncbi-disease` notes).",
    licence="public domain (US Government work)",
    path="ncbi_disease",
    splits=("train", "dev", "test"),
    labels=LABELS,
    annotates=DISEASE_LABELS,
    format="PubTator (original NCBI files)",
    loader=load_split,
    source_counts=source_counts,
))
