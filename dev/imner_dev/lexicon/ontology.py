"""The ontology layer: the stored vocabularies read once, with the disease classifier built from them.

One implementation serves every consumer, so they cannot disagree:

* the lexicon index build (:func:`imner_dev.lexicon.build.build`), which writes the packaged index that the
  normalizer's ``category`` and the dictionary tagger read at run time;
* the imd-cases corpus builder (:mod:`imner_dev.annotation.disease_class` pre-labels,
  :mod:`imner_dev.annotation.pathogens` organism dictionary, :mod:`imner_dev.annotation.silver`), through
  :func:`default`.

What :func:`load` puts together, in the order it depends on it: the ICD-10-CM code list; the Disease Ontology
(:func:`~imner_dev.lexicon.sources.read_disease_ontology`) with MONDO's exact-match mappings (MONDO labels, and MONDO
ids as the bridge from MeSH/UMLS/ICD-10-CM to DOIDs); the NCBITaxon import modules
(:func:`~imner_dev.lexicon.sources.read_taxa`) and the pathogen kind of every 'has material basis in' organism
(:func:`~imner_dev.lexicon.classify.taxon_kind`); the curated ``class_overrides.tsv``; and the
:class:`~imner_dev.lexicon.classify.DiseaseClassifier` over all of it (the guideline's rules: DOID:0050117 and
infectious evidence for INFECTIOUS_DISEASE, DOID:2914 minus its DOID:75 branch for IMMUNE_DISEASE, neoplasms OTHER).
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from imner.config import data_path
from imner.errors import FormatError, InputError
from imner.lexicon import LEXICON_DIR, normalize_xref
from imner_dev.lexicon.classify import LABEL_CATEGORY, DiseaseClassifier, Override, taxon_kind
from imner_dev.lexicon.sources import (
    DiseaseOntologyData, TaxonData, read_disease_ontology, read_icd10cm_codes, read_sssom, read_taxa,
)

_TAXON_SUFFIX = re.compile(r"\s*<[^>]+>$")


# ---------------------------------------------------------------- curated files


def read_table(path: Path, header: list[str]) -> list[tuple[int, list[str]]]:
    """A curated tab-separated file: ``header`` on the first line, then rows; blank lines and lines starting
    with ``#`` are comments. Returns (line number, cells) pairs; a wrong column count is an error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError("curated lexicon file missing", source=str(path)) from None
    if not lines or lines[0].split("\t") != header:
        raise FormatError(f"first line must be the header {chr(9).join(header)!r}", source=str(path), line=1)
    out = []
    for lineno, line in enumerate(lines[1:], 2):
        if not line.strip() or line.startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) != len(header):
            raise FormatError(f"expected {len(header)} tab-separated columns ({', '.join(header)}), got {len(cells)}",
                              source=str(path), line=lineno)
        out.append((lineno, cells))
    return out


def read_overrides(path: Path) -> dict[str, Override]:
    """``class_overrides.tsv``: ``id<TAB>label<TAB>scope<TAB>subcategory<TAB>note``."""
    out: dict[str, Override] = {}
    for lineno, (oid, label, scope, sub, note) in read_table(path, ["id", "label", "scope", "subcategory", "note"]):
        if label not in LABEL_CATEGORY:
            raise FormatError(f"label {label!r} is not a disease label ({', '.join(LABEL_CATEGORY)})",
                              source=str(path), line=lineno)
        if scope not in ("node", "subtree"):
            raise FormatError(f"scope must be 'node' or 'subtree', got {scope!r}", source=str(path), line=lineno)
        if oid in out:
            raise FormatError(f"{oid} overridden twice", source=str(path), line=lineno)
        out[oid] = Override(oid, label, scope, sub or None, note)
    return out


# ---------------------------------------------------------------- the layer


@dataclass
class Ontology:
    """The stored vocabularies as the index build and the corpus builder both see them."""

    do: DiseaseOntologyData
    taxa: TaxonData
    #: the ICD-10-CM code list used (the newest ``code-list-*.txt``) and its codes, without dots
    icd_list: Path
    icd_codes: frozenset[str]
    #: MONDO id -> DOIDs it exactly matches, and the MONDO labels
    mondo_to_doid: dict[str, set[str]]
    mondo_label: dict[str, str]
    #: DOID -> normalized MESH/OMIM/UMLS/MONDO xrefs, from DO's own xrefs and MONDO's mappings
    doid_xrefs: dict[str, set[str]]
    #: DOID -> ICD-10-CM codes (only those in the code list)
    doid_icd: dict[str, set[str]]
    #: taxon name (with and without its ``<...>`` suffix) -> NCBITaxon id
    taxon_by_name: dict[str, str]
    #: DOID -> pathogen kinds of the organisms it 'has material basis in'
    basis_kinds: dict[str, set[str]]
    overrides: dict[str, Override]
    classifier: DiseaseClassifier
    #: what was dropped on the way (ICD-10-CM codes not in the code list)
    counts: Counter[str] = field(default_factory=Counter)

    def taxon_kind(self, taxid: str) -> str | None:
        """``bacterium``/``virus``/``fungus``/``parasite`` (:func:`~imner_dev.lexicon.classify.taxon_kind`)."""
        return taxon_kind(self.taxa, taxid)

    def xref_index(self, prefixes: tuple[str, ...] = ("MESH", "OMIM")) -> dict[str, set[str]]:
        """Normalized xref (``MESH:D003924``, ``OMIM:222100``) -> DOIDs, for the given prefixes."""
        out: dict[str, set[str]] = defaultdict(set)
        for doid, xrefs in self.doid_xrefs.items():
            for x in xrefs:
                if x.split(":", 1)[0] in prefixes:
                    out[x].add(doid)
        return out


def _valid_icd(code: str, codes: frozenset[str]) -> bool:
    return code.replace(".", "") in codes


def disease_xrefs(do: DiseaseOntologyData, mdir: Path, icd_codes: frozenset[str], counts: Counter[str]):
    """MONDO -> DOID exact matches (with the MONDO labels) and each DOID's MeSH/OMIM/UMLS/MONDO xrefs and ICD-10-CM
    codes, from DO's own xrefs and MONDO's SSSOM mappings; ICD-10-CM codes not in the code list are dropped."""
    mondo_to_doid: dict[str, set[str]] = defaultdict(set)
    mondo_label: dict[str, str] = {}
    for r in read_sssom(mdir / "mondo_exactmatch_doid.sssom.tsv"):
        if r["object_id"] in do.name:
            mondo_to_doid[r["subject_id"]].add(r["object_id"])
            mondo_label[r["subject_id"]] = r["subject_label"]
    doid_xrefs: dict[str, set[str]] = defaultdict(set)
    doid_icd: dict[str, set[str]] = defaultdict(set)

    def add_icd(doid: str, code: str) -> None:
        if _valid_icd(code, icd_codes):
            doid_icd[doid].add(code)
        else:
            counts["icd10cm codes dropped (not in code list)"] += 1

    for doid, xrefs in do.xrefs.items():
        for x in xrefs:
            nx = normalize_xref(x)
            prefix = nx.split(":", 1)[0]
            if prefix == "ICD10CM":
                add_icd(doid, nx.split(":", 1)[1])
            elif prefix in ("MESH", "OMIM", "UMLS"):
                doid_xrefs[doid].add(nx)
    for mondo, doids in mondo_to_doid.items():
        for d in doids:
            doid_xrefs[d].add(mondo)
    for fname in ("mondo_exactmatch_mesh.sssom.tsv", "mondo_exactmatch_umls.sssom.tsv",
                  "mondo_exactmatch_icd10cm.sssom.tsv"):
        for r in read_sssom(mdir / fname):
            nx = normalize_xref(r["object_id"])
            for d in mondo_to_doid.get(r["subject_id"], ()):
                if nx.startswith("ICD10CM:"):
                    add_icd(d, nx.split(":", 1)[1])
                else:
                    doid_xrefs[d].add(nx)
    return mondo_to_doid, mondo_label, doid_xrefs, doid_icd


def taxon_names_and_basis(tx: TaxonData, do: DiseaseOntologyData) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Taxon name (with and without its suffix) -> id, and each DOID's pathogen kinds from its 'has material basis
    in' axioms."""
    taxon_by_name: dict[str, str] = {}
    for tid, name in tx.name.items():
        taxon_by_name.setdefault(name, tid)
        taxon_by_name.setdefault(_TAXON_SUFFIX.sub("", name), tid)
    basis_kinds: dict[str, set[str]] = defaultdict(set)
    for doid, names in do.basis.items():
        for n in names:
            tid = taxon_by_name.get(n)
            kind = taxon_kind(tx, tid) if tid else None
            if kind:
                basis_kinds[doid].add(kind)
    return taxon_by_name, basis_kinds


def load(lexicons_dir: str | Path | None = None, curated_dir: str | Path | None = None) -> Ontology:
    """The layer from ``lexicons_dir`` (default ``$IMNER_DATA/lexicons``) and the ``class_overrides.tsv`` in
    ``curated_dir`` (default: the packaged lexicon's)."""
    root = Path(lexicons_dir) if lexicons_dir else data_path("lexicons")
    cur_dir = Path(curated_dir) if curated_dir else LEXICON_DIR
    counts: Counter[str] = Counter()
    icd_lists = sorted((root / "icd10cm").glob("code-list-*.txt"))
    if not icd_lists:
        raise InputError("no code-list-*.txt", source=str(root / "icd10cm"))
    icd_codes = read_icd10cm_codes(icd_lists[-1])
    do = read_disease_ontology(root / "disease_ontology")
    mondo_to_doid, mondo_label, doid_xrefs, doid_icd = disease_xrefs(do, root / "mondo" / "mappings", icd_codes,
                                                                     counts)
    tx = read_taxa(root / "disease_ontology" / "imports" / "ncbitaxon_import.owl",
                   root / "mondo" / "imports" / "ncbitaxon_import.obo")
    taxon_by_name, basis_kinds = taxon_names_and_basis(tx, do)
    overrides = read_overrides(cur_dir / "class_overrides.tsv")
    clf = DiseaseClassifier(do, {d: sorted(c) for d, c in doid_icd.items()}, overrides, basis_kinds)
    return Ontology(do, tx, icd_lists[-1], icd_codes, mondo_to_doid, mondo_label, doid_xrefs, doid_icd,
                    taxon_by_name, basis_kinds, overrides, clf, counts)


@functools.lru_cache(maxsize=1)
def default() -> Ontology:
    """The layer over the shared data and the packaged curated files (cached; about 5 s to read)."""
    return load()
