"""Species-800 (S800): 800 PubMed abstracts in brat standoff (``standoff/<PMID>.txt|.ann``; ``T`` = Species,
``N`` -> NCBI Taxonomy in ``attrs["norm"]``), split by the document lists in ``split/`` (560/80/160).

Each document's ``meta["category"]`` is its S800 category from ``original-data/pubmedid.tsv``
(``bac``, ``bot``, ``ent``, ``med``, ``myc``, ``pro``, ``vir``, ``zoo``; 100 each).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from imner.corpora import Corpus, Loaded, register, require
from imner.corpora._util import read_id_list, read_text
from imner.errors import FormatError
from imner.types import Document

_SPLIT_FILES = {"train": "train.txt", "dev": "devel.txt", "test": "test.txt"}
CATEGORIES = ("bac", "bot", "ent", "med", "myc", "pro", "vir", "zoo")


@lru_cache(maxsize=4)
def categories(root: Path) -> dict[str, str]:
    """PMID -> S800 category, from ``original-data/pubmedid.tsv`` (``species001<TAB>PMID:n<TAB>cat<TAB>...``)."""
    path = root / "original-data" / "pubmedid.tsv"
    out: dict[str, str] = {}
    for i, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) < 3 or not cols[1].startswith("PMID:") or cols[2] not in CATEGORIES:
            raise FormatError(f"expected 'speciesNNN<TAB>PMID:n<TAB>category<TAB>...' with category in "
                              f"{CATEGORIES}, got {line!r}", source=str(path), line=i)
        out[cols[1].removeprefix("PMID:")] = cols[2]
    return out


def load_split(root: Path, split: str) -> Loaded:
    from imner.io.brat import read_brat

    standoff = require(root / "standoff")
    cats = categories(root)
    docs: list[Document] = []
    for pmid in read_id_list(root / "split" / _SPLIT_FILES[split]):
        if pmid not in cats:
            raise FormatError(f"document {pmid} has no category in original-data/pubmedid.tsv",
                              source=str(root / "split" / _SPLIT_FILES[split]))
        for doc in read_brat(require(standoff / f"{pmid}.ann")):
            docs.append(doc.with_meta(pmid=pmid, category=cats[pmid]))
    return Loaded(docs)


S800 = register(Corpus(
    name="s800",
    description="Species-800: 800 PubMed abstracts (100 per category: bac, bot, ent, med, myc, pro, vir, zoo; "
                "meta.category), species mentions normalized to NCBI Taxonomy. Split 560/80/160 from "
                "spyysalo/s800 (BioBERT/BLURB benchmarks).",
    licence="none stated (research use, MEDLINE terms)",
    path="s800",
    splits=("train", "dev", "test"),
    labels=("Species",),
    annotates=frozenset({"PATHOGEN"}),
    format="brat standoff (.txt/.ann) + split lists",
    loader=load_split,
))
