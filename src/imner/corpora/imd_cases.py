"""The ``imd-cases`` corpus: MACCROBAT2020's 200 case reports in the twelve classes.

Annotations: ``corpus/imd-cases/ann/<doc_id>.ann`` of the checkout (built by :mod:`imner_dev.annotation.build`);
texts: ``$IMNER_DATA/maccrobat/MACCROBAT2020/<doc_id>.txt``; split: ``corpus/imd-cases/split.tsv``
(:mod:`imner_dev.annotation.split`). Spans carry ``source_id`` (the MACCROBAT T id, or a new id above the document's
largest for added spans), ``negated``/``uncertain`` where set, and the evidence ``note`` where the build wrote one.
Document ids are PubMed ids (``meta['pmid']``).
"""

from __future__ import annotations

import csv
from pathlib import Path

from imner.config import REPO_ROOT
from imner.corpora import Corpus, Loaded, register
from imner.errors import ConfigError, InputError
from imner.schema import LABEL_NAMES
from imner.types import Document

NAME = "imd-cases"
SPLITS = ("train", "dev", "test")


def corpus_dir() -> Path:
    """``corpus/imd-cases`` of the checkout."""
    if REPO_ROOT is None:
        raise ConfigError("the imd-cases corpus lives in the imner repository (corpus/imd-cases); run from a checkout")
    return REPO_ROOT / "corpus" / "imd-cases"


def read_split(path: Path) -> dict[str, str]:
    """doc_id -> split from ``split.tsv`` (columns ``doc_id``, ``split``; ``#`` comments)."""
    if not path.exists():
        raise InputError("split file not found; create it once with `python -m imner_dev.annotation.split`",
                         source=str(path))
    out: dict[str, str] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.reader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")
        header = next(rows, None)
        if header is None or header[:2] != ["doc_id", "split"]:
            raise InputError(f"header must be doc_id<TAB>split, got {header}", source=str(path))
        for n, row in enumerate(rows, start=2):
            if len(row) < 2 or row[1] not in SPLITS:
                raise InputError(f"bad row {row!r}; split must be one of {', '.join(SPLITS)}", source=str(path),
                                 line=n)
            if row[0] in out:
                raise InputError(f"document {row[0]} listed twice", source=str(path), line=n)
            out[row[0]] = row[1]
    return out


def load_documents(root: Path, ann_dir: Path) -> list[Document]:
    """All documents of ``ann_dir`` over the texts in ``root``; spans get ``source_id`` and only schema labels
    are accepted."""
    from imner.io.brat import read_brat

    docs = []
    for d in read_brat(ann_dir, text_dir=root):
        spans = []
        for s in d.spans:
            if s.label not in LABEL_NAMES:
                raise InputError(f"label {s.label!r} is not one of the twelve classes", source=str(ann_dir / f"{d.id}.ann"))
            attrs = {k: v for k, v in s.attrs.items() if k != "id"}
            attrs["source_id"] = s.attrs.get("id")
            # a span written as fragments only because it crosses a line break is one continuous span
            spans.append(s.evolve(attrs=attrs, fragments=None))
        docs.append(Document(d.id, d.text, tuple(spans), {"pmid": d.id, "source": "MACCROBAT2020",
                                                           "annotates": list(LABEL_NAMES)}))
    return docs


def _loader(root: Path, split: str) -> Loaded:
    cdir = corpus_dir()
    splits = read_split(cdir / "split.tsv")
    docs = [d for d in load_documents(root, cdir / "ann") if splits.get(d.id) == split]
    missing = sorted(set(k for k, v in splits.items() if v == split) - {d.id for d in docs})
    if missing:
        raise InputError(f"split {split}: {len(missing)} documents of split.tsv have no .ann file "
                         f"({', '.join(missing[:5])}); rebuild with python -m imner_dev.annotation.build",
                         source=str(cdir / "ann"))
    return Loaded(docs, ("annotation: MACCROBAT2020 projected to the twelve classes + review decisions "
                         "(corpus/imd-cases)",))


IMD_CASES = register(Corpus(
    name=NAME,
    description="MACCROBAT2020 case reports (200 PMC case reports) projected onto the twelve classes, with "
                "pre-assigned disease classes and pre-annotated pathogens under review (corpus/imd-cases; "
                "docs/corpus.md). Fixed document split 140/20/40 (corpus/imd-cases/split.tsv).",
    licence="CC BY 4.0 (MACCROBAT2020 annotations; texts PMC open-access case reports)",
    path="maccrobat/MACCROBAT2020",
    splits=SPLITS,
    labels=LABEL_NAMES,
    annotates=frozenset(LABEL_NAMES),
    format="brat standoff (corpus/imd-cases/ann) over MACCROBAT2020 texts",
    loader=_loader,
))
