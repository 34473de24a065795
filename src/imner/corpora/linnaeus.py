"""LINNAEUS v1.1: 100 PMC full texts, species mentions (NCBI Taxonomy ids) from ``original/tags.tsv``.

Documents are ``original/txt/<id>.txt``; splits are the document lists in ``split/`` (50/17/33). Every row
of ``tags.tsv`` becomes a ``Species`` span (incl. "species clues" such as *patients*); ``attrs`` keep
``id`` (``species:ncbi:N``), ``code`` (the corpus's category codes, e.g. ``4`` = modifier) and
``taxonomy_name`` = whether the row is also in ``filtered_tags.tsv`` (a true taxonomy name, not a clue).
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from imner.corpora import Corpus, Loaded, register
from imner.corpora._util import iob_counts, read_id_list, read_text
from imner.errors import FormatError, OffsetMismatchError
from imner.types import Document, Span

_SPLIT_FILES = {"train": "train.txt", "dev": "devel.txt", "test": "test.txt"}
_IOB_FILES = {"train": "train.tsv", "dev": "devel.tsv", "test": "test.tsv"}

Row = tuple[str, int, int, str, str, int]  # taxon id, start, end, text, code, line


def _read_tags(path: Path) -> dict[str, list[Row]]:
    by_doc: dict[str, list[Row]] = defaultdict(list)
    for i, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 6:
            raise FormatError(f"expected 6 tab-separated columns (species id, document, start, end, text, code), "
                              f"got {len(cols)}", source=str(path), line=i)
        taxon, doc, start, end, text, code = cols
        try:
            s, e = int(start), int(end)
        except ValueError:
            raise FormatError(f"start/end must be integers, got {start!r}, {end!r}", source=str(path),
                              line=i) from None
        by_doc[doc].append((taxon, s, e, text, code, i))
    return dict(by_doc)


@lru_cache(maxsize=4)
def _tags(root: Path) -> tuple[dict[str, list[Row]], frozenset[tuple[str, int, int]]]:
    tags = _read_tags(root / "original" / "tags.tsv")
    filtered = _read_tags(root / "original" / "filtered_tags.tsv")
    keys = frozenset((doc, s, e) for doc, rows in filtered.items() for _, s, e, *_ in rows)
    return tags, keys


def load_split(root: Path, split: str) -> Loaded:
    tags, taxonomy_names = _tags(root)
    tags_path = root / "original" / "tags.tsv"
    docs = []
    for doc_id in read_id_list(root / "split" / _SPLIT_FILES[split]):
        text = read_text(root / "original" / "txt" / f"{doc_id}.txt")
        spans = []
        for taxon, s, e, mention, code, line in tags.get(doc_id, []):
            if text[s:e] != mention:
                raise OffsetMismatchError(expected=mention, found=text[s:e], start=s, end=e,
                                          source=str(tags_path), line=line)
            spans.append(Span(s, e, "Species", attrs={"id": taxon, "code": code,
                                                       "taxonomy_name": (doc_id, s, e) in taxonomy_names}))
        docs.append(Document(doc_id, text, tuple(spans), {"pmcid": doc_id.removeprefix("pmcA")}))
    return Loaded(docs)


def source_counts(root: Path, split: str) -> dict:
    """Counts of the MTL IOB conversion (``iob/``), which tokenizes and sentence-splits differently."""
    return {"iob": iob_counts(root / "iob" / _IOB_FILES[split])}


LINNAEUS = register(Corpus(
    name="linnaeus",
    description="LINNAEUS v1.1: 100 PMC full-text articles, species mentions normalized to NCBI Taxonomy "
                "(incl. species clues like 'patients'; attrs.taxonomy_name marks the filtered subset). "
                "Document split 50/17/33 from spyysalo/linnaeus-corpus.",
    licence="CC BY 4.0",
    path="linnaeus",
    splits=("train", "dev", "test"),
    labels=("Species",),
    annotates=frozenset({"PATHOGEN"}),
    format="LINNAEUS original: txt/ + tags.tsv character offsets",
    loader=load_split,
    source_counts=source_counts,
))
