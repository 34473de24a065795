"""Disease mentions of public-domain training corpora as normalization synonyms (``corpus_terms.tsv.gz``).

The gold disease mentions of the TRAIN splits of NCBI-disease, BC5CDR and BioRED (DiseaseOrPhenotypicFeature),
each with its MeSH/OMIM id mapped to DOIDs through the lexicon's xref index (DO xrefs + MONDO exact matches),
become ``normalized key -> DOID`` rows that :class:`imner.normalize.Normalizer` uses only for disease spans the
lexicon itself does not map (stage ``corpus``). They are not lexicon terms: the dictionary tagger (and so the
BiLSTM's lexicon feature) never sees them.

Evaluation hygiene: documents whose PMID is in any evaluation split (:data:`HELD_OUT`: NCBI-disease dev/test,
BC5CDR dev, BioRED dev/test) are dropped first (:func:`imner.corpora.exclude_overlap`).

Rules (chosen by cross-validation over the train splits, ``benchmarks/normalization.py --cv``):

* a mention with one gold id (composite mentions ``D1|D2`` and ``-1`` are skipped) whose id maps to DOIDs;
* abbreviation-like surfaces (``DMD``, ``PDS``: :func:`imner.lexicon.normalize.is_abbreviation`) are kept as
  written (case-sensitive keys); the normalizer tries a definition in the document first;
* ids whose DOID cross-references name another or a narrower disease are skipped (:data:`XREF_ARTEFACTS`,
  read off the train mentions: MeSH D012640 Seizures reaches only *visual epilepsy*);
* per key, the majority DOID set over its mentions; a key whose mentions disagree without a strict majority
  is dropped;
* when an id maps to several DOIDs, the one whose name (or lexicon term) is the key, else the broadest (an
  ancestor of the others in DO), else the first by id.
"""

from __future__ import annotations

import gzip
import io
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from imner.lexicon import Lexicon
from imner.lexicon.normalize import is_abbreviation, normalize_term
from imner.types import Document

FILE_NAME = "corpus_terms.tsv.gz"
#: corpus -> the labels of its disease mentions
SOURCES: dict[str, frozenset[str]] = {
    "ncbi-disease": frozenset({"SpecificDisease", "DiseaseClass", "Modifier", "CompositeMention"}),
    "bc5cdr": frozenset({"Disease"}),
    "biored": frozenset({"DiseaseOrPhenotypicFeature"}),
}
#: evaluation splits whose PMIDs never feed the table
HELD_OUT: tuple[tuple[str, str], ...] = (("ncbi-disease", "dev"), ("ncbi-disease", "test"), ("bc5cdr", "dev"),
                                         ("biored", "dev"), ("biored", "test"))
HEADER = "key\tdoid\tmentions\tcorpora"


def gold_xrefs(raw: str) -> list[str]:
    """``"D001234|OMIM:123456"`` -> ``["MESH:D001234", "OMIM:123456"]`` (``-1`` and blanks dropped)."""
    out = []
    for part in re.split(r"[|+,;]", raw or ""):
        part = part.strip()
        if not part or part == "-1":
            continue
        if re.fullmatch(r"[CD]\d+", part):
            part = f"MESH:{part}"
        elif re.fullmatch(r"\d{6}", part):
            part = f"OMIM:{part}"
        out.append(part)
    return out


def mentions(docs: Iterable[Document], labels: frozenset[str], corpus: str) -> list[tuple[str, str, str]]:
    """(surface, raw gold id, corpus) of the disease mentions of ``docs``."""
    return [(s.text_in(d.text), str(s.attrs.get("id", "")), corpus) for d in docs for s in d.spans
            if s.label in labels]


def training_mentions() -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    """The mentions of the train splits of :data:`SOURCES`, PMID-deduplicated against :data:`HELD_OUT`, and
    how many documents each corpus lost to the deduplication."""
    from imner import corpora

    out: list[tuple[str, str, str]] = []
    dropped: dict[str, int] = {}
    for name, labels in SOURCES.items():
        kept = corpora.exclude_overlap(corpora.load(name, "train"), HELD_OUT)
        dropped[name] = len(kept.dropped)
        out.extend(mentions(kept.docs, labels, name))
    return out, dropped


#: gold ids whose DOID cross-references name another or a narrower disease than the MeSH heading (read from the
#: train mentions, e.g. every "seizures" would become *visual epilepsy*); their mentions are not learned
XREF_ARTEFACTS: dict[str, str] = {
    "MESH:D012640": "Seizures -> only DOID:11832 visual epilepsy",
    "MESH:D008175": "Lung Neoplasms -> only lung benign neoplasm ('lung cancer' mentions)",
    "MESH:D015470": "Leukemia, Myeloid, Acute -> only AML with/without maturation",
    "MESH:D003693": "Delirium -> only subacute delirium",
    "MESH:D010554": "Aggression -> avoidant personality disorder",
    "MESH:D006970": "Disorders of Excessive Somnolence -> recurrent hypersomnia ('drowsiness')",
    "MESH:D020301": "Vasospasm, Intracranial -> mentions are any vasospasm",
    "MESH:D011618": "Psychotic Disorders -> schizophreniform / schizoaffective disorder",
    "MESH:D000236": "Adenoma -> papillary / microcystic adenoma",
    "MESH:D010009": "Osteochondrodysplasias -> Melnick-Needles syndrome / multiple epiphyseal dysplasia",
    "MESH:D013276": "Stomach Ulcer, used for any 'ulcer'",
}


def build_table(rows: Sequence[tuple[str, str, str]], lexicon: Lexicon, *, abbreviations: bool = True,
                min_mentions: int = 1, parents: Mapping[str, Iterable[str]] | None = None,
                exclude: Iterable[str] = tuple(XREF_ARTEFACTS)) -> dict[str, tuple[str, int, str]]:
    """``key -> (doid, mentions, corpora)`` from (surface, raw gold id, corpus) rows (see the module doc).
    ``parents``: DOID -> parent DOIDs (when an id maps to several DOIDs, the broadest is taken); ``exclude``:
    gold ids not learned."""
    excluded = frozenset(exclude)
    xref_cache: dict[str, tuple[str, ...]] = {}

    def doids(x: str) -> tuple[str, ...]:
        if x not in xref_cache:
            xref_cache[x] = tuple(sorted(lexicon.by_xref(x)))
        return xref_cache[x]

    by_key: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    key_corpora: dict[str, set[str]] = defaultdict(set)
    for surface, raw, corpus in rows:
        xs = gold_xrefs(raw)
        if len(xs) != 1 or xs[0] in excluded:
            continue
        targets = doids(xs[0])
        if not targets:
            continue
        if is_abbreviation(surface.strip()):
            if not abbreviations:
                continue
            # case-sensitive: the surface as written ("DMD"; normalized keys hold no capitals)
            key = surface.strip()
        else:
            key = normalize_term(surface)
        if not key:
            continue
        by_key[key][targets] += 1
        key_corpora[key].add(corpus)
    out: dict[str, tuple[str, int, str]] = {}
    for key, counts in by_key.items():
        ranked = counts.most_common()
        total = sum(counts.values())
        best, n = ranked[0]
        if total < min_mentions or 2 * n <= total:
            continue
        out[key] = (_pick(key, best, lexicon, parents or {}), n, ",".join(sorted(key_corpora[key])))
    return out


def _ancestors(doid: str, parents: Mapping[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(parents.get(doid, ()))
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(parents.get(p, ()))
    return seen


def _pick(key: str, doids: tuple[str, ...], lexicon: Lexicon, parents: Mapping[str, Iterable[str]]) -> str:
    """One DOID of an id that maps to several: the one named by the key, else the broadest (an ancestor of
    all the others: MeSH "Color Vision Defects" -> *color blindness*, not *blue color blindness*), else the
    first by id."""
    if len(doids) == 1:
        return doids[0]
    named = [d for d in doids if d in lexicon and normalize_term(lexicon.concept(d).name) == key]
    if named:
        return named[0]
    termed = [c.id for c in lexicon.lookup(key) if c.id in doids]
    if termed:
        return termed[0]
    anc = {d: _ancestors(d, parents) for d in doids}
    broadest = [d for d in doids if all(d in anc[o] for o in doids if o != d)]
    return broadest[0] if broadest else doids[0]


def to_bytes(table: dict[str, tuple[str, int, str]]) -> bytes:
    """The table as deterministic gzip'd TSV (sorted by key, mtime 0)."""
    text = HEADER + "\n" + "".join(f"{k}\t{d}\t{n}\t{c}\n" for k, (d, n, c) in sorted(table.items()))
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9, filename="") as f:
        f.write(text.encode("utf-8"))
    return buf.getvalue()


def write(out_dir: Path, lexicon: Lexicon, parents: Mapping[str, Iterable[str]]) -> tuple[Path, dict[str, int]]:
    """Build the table from the training corpora and write it as ``out_dir/corpus_terms.tsv.gz``; returns the
    path and counts for the build report."""
    rows, dropped = training_mentions()
    table = build_table(rows, lexicon, parents=parents)
    path = Path(out_dir) / FILE_NAME
    path.write_bytes(to_bytes(table))
    counts = {"corpus terms": len(table), "corpus mentions read": len(rows)}
    counts.update({f"corpus documents dropped (PMID in an evaluation split): {k}": v for k, v in dropped.items()})
    return path, counts
