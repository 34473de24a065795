"""Corpus synonyms: disease surface forms of public-domain training corpora -> DOID (stage ``corpus``).

``resources/lexicon/corpus_terms.tsv.gz`` (``key<TAB>doid<TAB>mentions<TAB>corpora``, built with the lexicon by
``imner build lexicon``, :mod:`imner_dev.lexicon.corpus_terms`) holds the gold disease mentions of the NCBI-disease,
BC5CDR and BioRED train splits (PMIDs of their dev/test splits removed) with their MeSH/OMIM ids mapped to DOIDs.
It is written beside the index it was built with; the :class:`~imner.normalize.Normalizer` reads the one
beside its lexicon's index file (none for an in-memory lexicon) and consults it only for disease spans that no lexicon stage maps to a
disease concept; the dictionary tagger never reads it. Loaded on first need (a few ms).
"""

from __future__ import annotations

import gzip
import threading
from pathlib import Path
from typing import Mapping

from imner.errors import FormatError, InputError
from imner.lexicon import LEXICON_DIR

__all__ = ["CORPUS_TERMS_FILE", "CORPUS_TERMS_NAME", "load_corpus_terms", "read_corpus_terms"]

CORPUS_TERMS_NAME = "corpus_terms.tsv.gz"
CORPUS_TERMS_FILE = LEXICON_DIR / CORPUS_TERMS_NAME
_HEADER = "key\tdoid\tmentions\tcorpora"
_CACHE: dict[Path, dict[str, str]] = {}
_LOCK = threading.Lock()


def read_corpus_terms(path: str | Path) -> dict[str, str]:
    """``key -> DOID`` from a corpus-terms file (see the module doc)."""
    p = Path(path)
    try:
        text = gzip.decompress(p.read_bytes()).decode("utf-8") if p.suffix == ".gz" else p.read_text("utf-8")
    except FileNotFoundError:
        raise InputError("corpus terms file missing (run `imner build lexicon`)", source=str(p)) from None
    lines = text.split("\n")
    if lines[0] != _HEADER:
        raise FormatError(f"first line must be the header {_HEADER!r}", source=str(p), line=1)
    out: dict[str, str] = {}
    for lineno, line in enumerate(lines[1:], 2):
        if not line:
            continue
        cells = line.split("\t")
        if len(cells) != 4 or not cells[1].startswith("DOID:"):
            raise FormatError("expected key<TAB>DOID:...<TAB>mentions<TAB>corpora", source=str(p), line=lineno)
        out[cells[0]] = cells[1]
    return out


def load_corpus_terms(path: str | Path | None = None) -> Mapping[str, str]:
    """The packaged table (or the one at ``path``), read once per process."""
    p = Path(path) if path is not None else CORPUS_TERMS_FILE
    with _LOCK:
        hit = _CACHE.get(p)
        if hit is None:
            hit = _CACHE[p] = read_corpus_terms(p)
        return hit
