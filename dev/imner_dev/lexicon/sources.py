"""Readers for the stored vocabularies under ``$IMNER_DATA/lexicons`` (used only when building the index).

Each reader returns plain records; no classification happens here (see :mod:`imner_dev.lexicon.classify`).
The OBO reader handles the subset of OBO 1.2 these files use (``[Term]`` stanzas with ``id``, ``name``,
``synonym``, ``xref``, ``is_a``, ``property_value``, ``is_obsolete``, ``subset``).
"""

from __future__ import annotations

import csv
import gzip
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from imner.errors import FormatError

# ---------------------------------------------------------------- OBO


@dataclass
class OboTerm:
    id: str
    name: str = ""
    #: (text, scope EXACT/RELATED/BROAD/NARROW, type e.g. "layperson", "acronym", "OMO:0003012")
    synonyms: list[tuple[str, str, str]] = field(default_factory=list)
    xrefs: list[str] = field(default_factory=list)
    is_a: list[str] = field(default_factory=list)
    subsets: list[str] = field(default_factory=list)
    rank: str | None = None
    obsolete: bool = False


_SYN = re.compile(r'^"((?:[^"\\]|\\.)*)"\s+(EXACT|RELATED|BROAD|NARROW)\s*([^\s\[]*)')


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_obo(path: Path) -> Iterator[OboTerm]:
    """``[Term]`` stanzas of an OBO file (``.gz`` allowed); other stanza types are skipped."""
    term: OboTerm | None = None
    in_term = False
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if line.startswith("["):
                if term is not None:
                    yield term
                term, in_term = None, line.strip() == "[Term]"
                continue
            if not in_term or ": " not in line:
                continue
            key, val = line.split(": ", 1)
            if key == "id":
                term = OboTerm(val.strip())
            elif term is None:
                raise FormatError(f"{key!r} before the stanza's id", source=str(path), line=lineno)
            elif key == "name":
                term.name = val.strip()
            elif key == "synonym":
                m = _SYN.match(val)
                if m is None:
                    raise FormatError(f"malformed synonym line {val!r}", source=str(path), line=lineno)
                term.synonyms.append((m.group(1).replace('\\"', '"'), m.group(2), m.group(3)))
            elif key == "xref":
                term.xrefs.append(val.split(" ", 1)[0])
            elif key == "is_a":
                term.is_a.append(val.split(" ! ")[0].split()[0])
            elif key == "subset":
                term.subsets.append(val.strip())
            elif key == "property_value" and val.startswith("has_rank "):
                term.rank = val.split()[1].split(":")[-1]
            elif key == "is_obsolete" and val.strip() == "true":
                term.obsolete = True
    if term is not None:
        yield term


def obo_data_version(path: Path) -> str | None:
    """The ``data-version:`` header of an OBO file."""
    with _open_text(path) as fh:
        for line in fh:
            if line.startswith("data-version:"):
                return line.split(":", 1)[1].strip()
            if line.startswith("["):
                return None
    return None


# ---------------------------------------------------------------- TSV


def read_tsv(path: Path) -> list[list[str]]:
    """Rows of a tab-separated file without ``#`` comment lines, surrounding double quotes stripped."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [[c.strip().strip('"') for c in row]
                for row in csv.reader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")]


def read_sssom(path: Path) -> list[dict[str, str]]:
    """Rows of an SSSOM TSV (after its ``#`` YAML header) as dicts."""
    rows = read_tsv(path)
    if not rows:
        raise FormatError("empty SSSOM file", source=str(path))
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:] if r]


# ---------------------------------------------------------------- Disease Ontology


@dataclass
class DiseaseOntologyData:
    """What the stored DO files say about each term."""

    name: dict[str, str] = field(default_factory=dict)
    parents: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: (synonym, scope, type) from the subset OBO files
    synonyms: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    xrefs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: subset file stems a term appears in
    subsets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: taxon labels the term 'has material basis in'
    basis: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    version: str | None = None


_BASIS = re.compile(r"'has material basis in' some (\([^|]*\)|'[^']+'|[A-Za-z][\w<>-]*)")
_QUOTED = re.compile(r"'([^']+)'|\b([A-Z][\w-]*)")


def basis_names(axioms: str) -> list[str]:
    """Names a DO axiom string gives as 'has material basis in' (``some 'X'``, ``some X`` or
    ``some ('X' or 'Y')``)."""
    out = []
    for m in _BASIS.finditer(axioms):
        target = m.group(1)
        if target.startswith("("):
            out.extend((q.group(1) or q.group(2)).strip() for q in _QUOTED.finditer(target))
        else:
            out.append(target.strip("'").strip())
    return out


def read_disease_ontology(root: Path) -> DiseaseOntologyData:
    """``root`` = ``lexicons/disease_ontology``."""
    do = DiseaseOntologyData()
    reports = root / "DOreports"
    rows = read_tsv(reports / "HumanDO.tsv")
    if rows[:1] != [["id", "label", "subClassOf"]]:
        raise FormatError(f"unexpected header {rows[:1]!r}", source=str(reports / "HumanDO.tsv"), line=1)
    by_label: dict[str, str] = {"disease": "DOID:4"}
    for doid, label, _ in rows[1:]:
        do.name[doid] = label
        by_label[label] = doid
    do.name.setdefault("DOID:4", "disease")
    for lineno, (doid, label, parent) in enumerate(rows[1:], 2):
        if not parent:
            continue
        pid = by_label.get(parent)
        if pid is None:
            raise FormatError(f"parent {parent!r} of {doid} is not a DO label", source=str(reports / "HumanDO.tsv"),
                              line=lineno)
        do.parents[doid].add(pid)
    for path in sorted((root / "subsets").glob("*.obo")):
        do.version = do.version or obo_data_version(path)
        for t in read_obo(path):
            if t.obsolete or not t.id.startswith("DOID:") or t.id not in do.name:
                continue
            do.subsets[t.id].add(path.stem)
            for p in t.is_a:
                if p.startswith("DOID:"):
                    do.parents[t.id].add(p)
            for syn in t.synonyms:
                if syn not in do.synonyms[t.id]:
                    do.synonyms[t.id].append(syn)
            do.xrefs[t.id].update(t.xrefs)
    for doid, _, xref in (r[:3] for r in read_tsv(reports / "allXREFinDO.tsv")[1:]):
        if doid in do.name:
            do.xrefs[doid].add(xref)
    for row in read_tsv(reports / "DO-subClassOf-anonymous.tsv")[1:]:
        if len(row) >= 3 and row[0] in do.name:
            do.basis[row[0]].update(basis_names(row[2]))
    return do


# ---------------------------------------------------------------- NCBITaxon (DO + MONDO import modules)


@dataclass
class TaxonData:
    name: dict[str, str] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    rank: dict[str, str] = field(default_factory=dict)
    #: (synonym, scope, type); former names of a taxon (MONDO's older name) are recorded as ("...", "EXACT", "former_name")
    synonyms: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))


_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_NS = {"rdf": _RDF, "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "owl": "http://www.w3.org/2002/07/owl#"}


def _curie(iri: str) -> str:
    return iri.rsplit("/", 1)[-1].replace("_", ":", 1)


def read_taxa(do_owl: Path, mondo_obo: Path) -> TaxonData:
    """Taxa of DO's ``ncbitaxon_import.owl`` (current names, one parent) merged with MONDO's
    ``ncbitaxon_import.obo`` (ranks, synonyms, older names)."""
    tx = TaxonData()
    root = ET.parse(do_owl).getroot()
    for cls in root.findall("owl:Class", _NS):
        about = cls.get(f"{{{_RDF}}}about")
        if not about or "NCBITaxon_" not in about:
            continue
        tid = _curie(about)
        lab = cls.find("rdfs:label", _NS)
        if lab is not None and lab.text:
            tx.name[tid] = lab.text.strip()
        sup = cls.find("rdfs:subClassOf", _NS)
        if sup is not None and sup.get(f"{{{_RDF}}}resource"):
            tx.parent[tid] = _curie(sup.get(f"{{{_RDF}}}resource"))
    for t in read_obo(mondo_obo):
        if t.obsolete or not t.id.startswith("NCBITaxon:"):
            continue
        if t.name:
            if t.id not in tx.name:
                tx.name[t.id] = t.name
            elif tx.name[t.id] != t.name:
                tx.synonyms[t.id].append((t.name, "EXACT", "former_name"))
        if t.is_a and t.id not in tx.parent:
            tx.parent[t.id] = t.is_a[0]
        if t.rank:
            tx.rank[t.id] = t.rank
        tx.synonyms[t.id].extend(t.synonyms)
    return tx


# ---------------------------------------------------------------- DrugBank open vocabulary


@dataclass(frozen=True)
class Drug:
    id: str
    name: str
    synonyms: tuple[str, ...]


def read_drugbank(path: Path) -> list[Drug]:
    """Rows of ``drugbank_vocabulary.csv`` (``DrugBank ID``, ``Common name``, ``|``-separated ``Synonyms``)."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"DrugBank ID", "Common name", "Synonyms"}
        if not need <= set(reader.fieldnames or ()):
            raise FormatError(f"expected columns {sorted(need)}, got {reader.fieldnames}", source=str(path), line=1)
        out = []
        for row in reader:
            syns = tuple(dict.fromkeys(s.strip() for s in (row["Synonyms"] or "").split("|") if s.strip()))
            out.append(Drug(row["DrugBank ID"].strip(), row["Common name"].strip(), syns))
    return out


# ---------------------------------------------------------------- ICD-10-CM


def read_icd10cm_codes(path: Path) -> frozenset[str]:
    """Every code of the code list, without dots (``J180``), plus chapter/block ids (``A00-A09``)."""
    with open(path, encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())
