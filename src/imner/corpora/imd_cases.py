"""The ``imd-cases`` corpus: case reports in the twelve classes, in two parts.

- **MACCROBAT part** (``imd-cases-maccrobat``): MACCROBAT2020's 200 PMC case reports. Annotations:
  ``corpus/imd-cases/ann/<doc_id>.ann`` of the checkout (built by :mod:`imner_dev.annotation.build`); texts:
  ``$IMNER_DATA/maccrobat/MACCROBAT2020/<doc_id>.txt``. Spans carry ``source_id`` (the MACCROBAT T id, or a new id
  above the document's largest for added spans). Document ids are PubMed ids (``meta['pmid']``).
- **CodiEsp part** (``imd-cases-codiesp``): English machine translations of Spanish case reports (CodiEsp, CC BY
  4.0). Annotations: ``corpus/imd-cases/ann-codiesp/<id>.ann`` (built by :mod:`imner_dev.annotation.codiesp` from
  the annotators' decisions); texts: ``$IMNER_DATA/codiesp_en_cases/codiesp_en_cases.jsonl``. Ids are CodiEsp ids.

``imd-cases`` is both parts. Split: ``corpus/imd-cases/split.tsv`` (the MACCROBAT rows by
:mod:`imner_dev.annotation.split`, unchanged since the first release, so earlier test numbers stay comparable on
``imd-cases-maccrobat``; the CodiEsp rows by the part's recipe). Spans carry ``negated``/``uncertain`` where set and
the evidence ``note`` where the build wrote one; ``meta['part']`` names the part.
"""

from __future__ import annotations

import csv
from pathlib import Path

from imner.config import REPO_ROOT
from imner.corpora import Corpus, Loaded, register
from imner.errors import ConfigError, InputError
from imner.schema import LABEL_NAMES
from imner.types import Document, Span

NAME = "imd-cases"
SPLITS = ("train", "dev", "test")


def corpus_dir() -> Path:
    """``corpus/imd-cases`` of the checkout."""
    if REPO_ROOT is None:
        raise ConfigError("the imd-cases corpus lives in the imner repository (corpus/imd-cases); run from a checkout")
    return REPO_ROOT / "corpus" / "imd-cases"


def codiesp_source() -> Path:
    """The CodiEsp English texts (JSONL, one case report per line) under ``$IMNER_DATA``."""
    from imner.config import data_path

    return data_path("codiesp_en_cases") / "codiesp_en_cases.jsonl"


def read_codiesp_records(ids: set[str] | None = None, source: Path | None = None) -> dict[str, dict]:
    """CodiEsp id -> its JSON record (``codiesp_id``, ``text``, ``split``...) from the CodiEsp JSONL, for ``ids``
    (every record when None); a line that is not JSON is an error naming it."""
    import json

    source = source or codiesp_source()
    if not source.is_file():
        raise InputError("the CodiEsp texts are not there; set IMNER_DATA to the shared data folder", source=str(source))
    out: dict[str, dict] = {}
    with open(source, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"not a JSON record: {e.msg}", source=str(source), line=n) from None
            if ids is None or rec.get("codiesp_id") in ids:
                out[rec["codiesp_id"]] = rec
    return out


def _schema_span(s: Span, source: Path) -> Span:
    """A span read from an imd-cases ``.ann``: one of the twelve classes, its brat id kept as ``source_id``; a span
    written as fragments only because it crosses a line break becomes one continuous span."""
    if s.label not in LABEL_NAMES:
        raise InputError(f"label {s.label!r} is not one of the twelve classes", source=str(source))
    attrs = {k: v for k, v in s.attrs.items() if k != "id"}
    attrs["source_id"] = s.attrs.get("id")
    return s.evolve(attrs=attrs, fragments=None)


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
        spans = [_schema_span(s, ann_dir / f"{d.id}.ann") for s in d.spans]
        docs.append(Document(d.id, d.text, tuple(spans), {"pmid": d.id, "source": "MACCROBAT2020", "part": "maccrobat",
                                                           "annotates": list(LABEL_NAMES)}))
    return docs


def load_codiesp_documents(ann_dir: Path, source: Path | None = None) -> list[Document]:
    """The CodiEsp part: ``ann_dir/<id>.ann`` over the texts of the CodiEsp JSONL (read, never copied)."""
    from imner.io.brat import parse_ann

    if not ann_dir.is_dir():
        return []
    wanted = {p.stem for p in ann_dir.glob("*.ann")}
    if not wanted:
        return []
    source = source or codiesp_source()
    if not source.is_file():
        raise InputError(f"the CodiEsp texts of imd-cases are not there ({len(wanted)} annotated documents need "
                         "them); set IMNER_DATA to the shared data folder", source=str(source))
    texts = {k: rec["text"] for k, rec in read_codiesp_records(wanted, source).items()}
    missing = sorted(wanted - set(texts))
    if missing:
        raise InputError(f"{len(missing)} annotated documents have no text in the CodiEsp file "
                         f"({', '.join(missing[:3])})", source=str(source))
    docs = []
    for doc_id in sorted(wanted):
        path = ann_dir / f"{doc_id}.ann"
        d = parse_ann(path.read_text(encoding="utf-8"), texts[doc_id], doc_id=doc_id, source=str(path))
        spans = [_schema_span(s, path) for s in d.spans]
        docs.append(Document(doc_id, d.text, tuple(spans), {"source": "CodiEsp", "part": "codiesp",
                                                            "annotates": list(LABEL_NAMES)}))
    return docs


def _part_of(doc_id: str) -> str:
    """MACCROBAT documents are named by their PubMed id; CodiEsp ones by their CodiEsp id."""
    return "maccrobat" if doc_id.isdigit() else "codiesp"


#: parsed parts, per process: (part, folder) -> (signature of the files read, documents). Documents are immutable,
#: so loading train, dev and test (or the union and a part) parses each part once while its files are unchanged.
_PARSED: dict[tuple[str, str], tuple[tuple, tuple[Document, ...]]] = {}


def _signature(*paths: Path) -> tuple:
    """Name, size and modification time of every file under ``paths`` (folders listed, files as they are)."""
    sig = []
    for p in paths:
        files = sorted(p.iterdir()) if p.is_dir() else [p]
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            sig.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(sig)


def _parsed(part: str, ann_dir: Path, load, *inputs: Path) -> tuple[Document, ...]:
    key = (part, str(ann_dir))
    sig = _signature(ann_dir, *inputs)
    hit = _PARSED.get(key)
    if hit is None or hit[0] != sig:
        hit = _PARSED[key] = (sig, tuple(load()))
    return hit[1]


def _load_part(part: str | None, root: Path, split: str) -> Loaded:
    cdir = corpus_dir()
    splits = read_split(cdir / "split.tsv")
    docs: list[Document] = []
    if part in (None, "maccrobat"):
        ann = cdir / "ann"
        docs += [d for d in _parsed("maccrobat", ann, lambda: load_documents(root, ann), root)
                 if splits.get(d.id) == split]
    if part in (None, "codiesp"):
        ann = cdir / "ann-codiesp"
        docs += [d for d in _parsed("codiesp", ann, lambda: load_codiesp_documents(ann), codiesp_source())
                 if splits.get(d.id) == split]
    want = {k for k, v in splits.items() if v == split
            and (part is None or part == _part_of(k))}
    missing = sorted(want - {d.id for d in docs})
    if missing:
        raise InputError(f"split {split}: {len(missing)} documents of split.tsv have no .ann file "
                         f"({', '.join(missing[:5])}); rebuild with python -m imner_dev.annotation.build",
                         source=str(cdir / "ann"))
    return Loaded(docs, ("annotation: MACCROBAT2020 projected to the twelve classes + review decisions, and "
                         "CodiEsp case reports annotated from a frozen pre-annotation (corpus/imd-cases)",))


def _loader(root: Path, split: str) -> Loaded:
    return _load_part(None, root, split)


_COMMON = dict(splits=SPLITS, labels=LABEL_NAMES, annotates=frozenset(LABEL_NAMES))

IMD_CASES = register(Corpus(
    name=NAME,
    description="Case reports in the twelve classes (docs/corpus.md): the MACCROBAT part (200 PMC case reports "
                "projected onto the schema and reviewed; split 140/20/40) and the CodiEsp part (English machine "
                "translations of Spanish case reports, annotated from a frozen pre-annotation; its own "
                "train/dev/test). Split: corpus/imd-cases/split.tsv.",
    licence="CC BY 4.0 (MACCROBAT2020 annotations, PMC open-access texts; CodiEsp, CLEF eHealth 2020)",
    path="maccrobat/MACCROBAT2020",
    format="brat standoff (corpus/imd-cases/ann, ann-codiesp) over the MACCROBAT2020 and CodiEsp texts",
    loader=_loader,
    **_COMMON,
))

def _part(part: str, description: str, licence: str, fmt: str) -> Corpus:
    return register(Corpus(name=f"{NAME}-{part}", description=description, licence=licence,
                           path="maccrobat/MACCROBAT2020", format=fmt,
                           loader=lambda root, split: _load_part(part, root, split), **_COMMON))


IMD_CASES_MACCROBAT = _part(
    "maccrobat", "The MACCROBAT part of imd-cases alone (its test split is the one earlier results were measured on).",
    "CC BY 4.0 (MACCROBAT2020 annotations; texts PMC open-access case reports)",
    "brat standoff (corpus/imd-cases/ann) over MACCROBAT2020 texts")
IMD_CASES_CODIESP = _part(
    "codiesp", "The CodiEsp part of imd-cases alone: English machine translations of Spanish case reports.",
    "CC BY 4.0 (CodiEsp, CLEF eHealth 2020; annotation imner)",
    "brat standoff (corpus/imd-cases/ann-codiesp) over codiesp_en_cases.jsonl")
