"""Disease Ontology / MONDO / NCBITaxon pieces the corpus builder needs, read straight from the stored files.

Used for pre-assigning disease classes and for the organism (pathogen) dictionary. Only what
:mod:`imner.lexicon` does not offer (yet) lives here: the DO hierarchy with the guideline's class roots, MeSH/OMIM
cross-references, names for string matching, and the NCBITaxon import modules with their lineage.

Files (under ``$IMNER_DATA/lexicons``): ``disease_ontology/DOreports/HumanDO.tsv`` (labels + parents),
``DOreports/allXREFinDO.tsv`` (MeSH/OMIM xrefs), ``DOreports/DO-subClassOf-anonymous.tsv`` ('has material basis in'
axioms), ``disease_ontology/subsets/*.obo`` (EXACT synonyms of the slims), ``mondo/mappings/*.sssom.tsv``
(MONDO labels and MeSH ids via MONDO->DOID), ``disease_ontology/imports/ncbitaxon_import.owl`` and
``mondo/imports/ncbitaxon_import.obo`` (taxa, names, synonyms, parents).
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from imner.config import data_path

# ---------------------------------------------------------------- class roots (guideline rule 2, documented)

INFECTIOUS_ROOT = "DOID:0050117"  # disease by infectious agent
NEOPLASM_ROOT = "DOID:14566"  # disease of cellular proliferation (rule 7: neoplasms are OTHER_DISEASE)
#: "immune system disease" (DOID:2914) minus its "lymphatic system disease" branch (lymphedema, splenic infarct...
#: are not immune-mediated), plus the DO classes the guideline names as immune-mediated but DO files elsewhere.
IMMUNE_ROOTS: dict[str, str] = {
    "DOID:417": "autoimmune disease",
    "DOID:1205": "allergic disease",
    "DOID:0060056": "hypersensitivity reaction disease",
    "DOID:0081267": "graft-versus-host disease",
    "DOID:612": "primary immunodeficiency disease",
    "DOID:0070796": "ICHAD syndrome",
    "DOID:0070797": "immunodysregulation with variable immunodeficiency and autoimmunity",
    "DOID:624": "transient hypogammaglobulinemia of infancy",
    # named in the guideline's IMMUNE_DISEASE row but outside DOID:2914 (or inside its lymphatic branch)
    "DOID:865": "vasculitis",
    "DOID:0050589": "inflammatory bowel disease",
    "DOID:13378": "Kawasaki disease",
    "DOID:0050120": "hemophagocytic lymphohistiocytosis",
}
#: taxa whose presence as 'has material basis in' makes a DO class infectious (besides DOID:0050117 ancestry)
_ORGANISM_BASIS = re.compile(r"'has material basis in' some ('([^']+)'|([A-Za-z][\w<> ]*))")


def norm(s: str) -> str:
    """Matching key: lower case, accents removed, curly quotes straightened, possessive 's and other apostrophes
    removed, non-alphanumerics to single spaces (``"Crohn’s disease"`` -> ``"crohn disease"``)."""
    return " ".join(norm_words(s)).lower()


def norm_words(s: str) -> list[str]:
    """The words of :func:`norm`, case kept (accents removed: "Sjögren" -> "Sjogren")."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("’", "'").replace("‘", "'")
    s = re.sub(r"'s\b", "", s)
    s = s.replace("'", "")
    return re.sub(r"[^0-9A-Za-zα-ωΑ-Ω]+", " ", s).split()


def singular(key: str) -> str:
    """``key`` with a simple English plural on its last word undone (effusions -> effusion; not -ss/-is/-us)."""
    words = key.split()
    if not words:
        return key
    w = words[-1]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "is", "us", "ys", "as")):
        w = w[:-1]
    return " ".join(words[:-1] + [w])


def _lex(*parts: str) -> Path:
    return data_path("lexicons", *parts)


def _read_tsv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [[c.strip().strip('"') for c in row] for row in csv.reader(
            (ln for ln in fh if not ln.startswith("#")), delimiter="\t")]
    return rows


@dataclass
class DiseaseOntology:
    """DO terms, hierarchy, names and cross-references."""

    label: dict[str, str] = field(default_factory=dict)
    parents: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: norm(name) -> {doid: source} where source is "label", "synonym" or "mondo"
    names: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    #: "MESH:D003924" / "OMIM:222100" -> DOIDs
    xrefs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: DOID -> organism names it 'has material basis in'
    basis: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def ancestors(self, doid: str) -> set[str]:
        return _ancestors(self, doid)

    def categories(self, doid: str, organisms: frozenset[str] = frozenset()) -> frozenset[str]:
        """Of ``{"infectious", "immune", "neoplasm"}``, those that apply to ``doid`` (by ancestry; infectious
        also when the term or an ancestor has an organism as material basis; ``organisms`` = known taxon
        names, lower case)."""
        anc = self.ancestors(doid) | {doid}
        cats = set()
        if NEOPLASM_ROOT in anc:
            cats.add("neoplasm")
        if INFECTIOUS_ROOT in anc:
            cats.add("infectious")
        elif any(b.lower() in organisms or b in ("Bacteria", "Fungi", "Viruses")
                 for a in anc for b in self.basis.get(a, ())):
            cats.add("infectious")
        if anc & IMMUNE_ROOTS.keys():
            cats.add("immune")
        return frozenset(cats)

    def lookup(self, text: str) -> dict[str, str]:
        """DOIDs whose label/synonym/MONDO label matches ``text`` (after :func:`norm`), with the name source."""
        return dict(self.names.get(norm(text), {}))


def _ancestors(do: DiseaseOntology, doid: str) -> set[str]:
    out: set[str] = set()
    stack = [doid]
    while stack:
        for p in do.parents.get(stack.pop(), ()):
            if p not in out:
                out.add(p)
                stack.append(p)
    return out


def _obo_terms(path: Path):
    """(id, name, [EXACT synonyms], [is_a ids], obsolete) per [Term] stanza of an OBO file."""
    term: dict | None = None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("["):
                if term and term.get("id"):
                    yield term
                term = {"syn": [], "is_a": [], "obsolete": False, "syn_all": []} if line == "[Term]" else None
                continue
            if term is None or ": " not in line:
                continue
            key, val = line.split(": ", 1)
            if key == "id":
                term["id"] = val
            elif key == "name":
                term["name"] = val
            elif key == "synonym":
                m = re.match(r'"((?:[^"\\]|\\.)*)"\s+(\w+)\s*([\w_]*)', val)
                if m:
                    term["syn_all"].append((m.group(1), m.group(2), m.group(3)))
                    if m.group(2) == "EXACT":
                        term["syn"].append(m.group(1))
            elif key == "is_a":
                term["is_a"].append(val.split(" ! ")[0].split()[0])
            elif key == "is_obsolete" and val.strip() == "true":
                term["obsolete"] = True
    if term and term.get("id"):
        yield term


@functools.lru_cache(maxsize=1)
def disease_ontology() -> DiseaseOntology:
    """The DO index (cached; reads ~6 MB of TSV/OBO)."""
    do = DiseaseOntology()
    rows = _read_tsv(_lex("disease_ontology", "DOreports", "HumanDO.tsv"))[1:]
    first_id: dict[str, str] = {}
    for doid, label, _ in rows:
        do.label[doid] = label
        first_id.setdefault(label, doid)
        do.names[norm(label)][doid] = "label"
    for doid, _, parent in rows:
        if parent and parent in first_id:
            do.parents[doid].add(first_id[parent])
    for path in sorted(_lex("disease_ontology", "subsets").glob("*.obo")):
        for t in _obo_terms(path):
            if t["obsolete"] or not t["id"].startswith("DOID:"):
                continue
            for is_a in t["is_a"]:
                if is_a.startswith("DOID:"):
                    do.parents[t["id"]].add(is_a)
            for syn in t["syn"]:
                do.names[norm(syn)].setdefault(t["id"], "synonym")
    for row in _read_tsv(_lex("disease_ontology", "DOreports", "allXREFinDO.tsv"))[1:]:
        doid, _, xref = row[:3]
        if xref.startswith("MESH:"):
            do.xrefs[xref].add(doid)
        elif xref.startswith("MIM:"):
            do.xrefs["OMIM:" + xref[4:]].add(doid)
    mondo_doid: dict[str, set[str]] = defaultdict(set)
    for row in _read_tsv(_lex("mondo", "mappings", "mondo_exactmatch_doid.sssom.tsv"))[1:]:
        mondo, mlabel, _, doid = row[:4]
        if doid in do.label:
            mondo_doid[mondo].add(doid)
            do.names[norm(mlabel)].setdefault(doid, "mondo")
    for row in _read_tsv(_lex("mondo", "mappings", "mondo_exactmatch_mesh.sssom.tsv"))[1:]:
        mondo, _, _, mesh = row[:4]
        for doid in mondo_doid.get(mondo, ()):
            do.xrefs["MESH:" + mesh.split(":", 1)[1]].add(doid)
    for row in _read_tsv(_lex("disease_ontology", "DOreports", "DO-subClassOf-anonymous.tsv"))[1:]:
        if len(row) < 3:
            continue
        for m in _ORGANISM_BASIS.finditer(row[2]):
            name = (m.group(2) or m.group(3) or "").strip()
            if name and "inheritance" not in name:
                do.basis[row[0]].add(name)
    return do


# ---------------------------------------------------------------- taxa

#: lineage roots -> organism group (NCBI Taxonomy ids)
PATHOGEN_GROUPS: dict[str, str] = {
    "NCBITaxon:2": "bacteria",
    "NCBITaxon:10239": "virus",
    "NCBITaxon:4751": "fungus",
    "NCBITaxon:5794": "parasite",  # Apicomplexa (Plasmodium, Toxoplasma, Cryptosporidium)
    "NCBITaxon:5653": "parasite",  # Kinetoplastea (Trypanosoma, Leishmania)
    "NCBITaxon:5738": "parasite",  # Diplomonadida (Giardia)
    "NCBITaxon:5719": "parasite",  # Parabasalia (Trichomonas)
    "NCBITaxon:554915": "parasite",  # Amoebozoa (Entamoeba, Acanthamoeba)
    "NCBITaxon:5752": "parasite",  # Heterolobosea (Naegleria)
    "NCBITaxon:6157": "parasite",  # Platyhelminthes (Schistosoma, Taenia, Echinococcus)
    "NCBITaxon:6231": "parasite",  # Nematoda (Strongyloides, Ascaris, Toxocara...; C. elegans excluded by id)
    "NCBITaxon:12884": "virus",  # prions (Viroids/"unclassified" agents sometimes filed there)
}
#: taxa never annotated as PATHOGEN (humans, model and laboratory organisms, non-pathogenic models)
EXCLUDED_TAXA: dict[str, str] = {
    "NCBITaxon:9606": "Homo sapiens", "NCBITaxon:10090": "Mus musculus", "NCBITaxon:10088": "Mus",
    "NCBITaxon:10116": "Rattus norvegicus", "NCBITaxon:10114": "Rattus", "NCBITaxon:7955": "Danio rerio",
    "NCBITaxon:7227": "Drosophila melanogaster", "NCBITaxon:6239": "Caenorhabditis elegans",
    "NCBITaxon:4932": "Saccharomyces cerevisiae", "NCBITaxon:559292": "S. cerevisiae S288C",
    "NCBITaxon:4896": "Schizosaccharomyces pombe", "NCBITaxon:3702": "Arabidopsis thaliana",
    "NCBITaxon:9544": "Macaca mulatta", "NCBITaxon:9541": "Macaca fascicularis", "NCBITaxon:10036": "Mesocricetus",
    "NCBITaxon:10141": "Cavia porcellus", "NCBITaxon:9986": "Oryctolagus cuniculus", "NCBITaxon:9913": "Bos taurus",
    "NCBITaxon:9823": "Sus scrofa", "NCBITaxon:9615": "Canis lupus familiaris", "NCBITaxon:9685": "Felis catus",
    "NCBITaxon:9031": "Gallus gallus", "NCBITaxon:8355": "Xenopus laevis", "NCBITaxon:9598": "Pan troglodytes",
    "NCBITaxon:9940": "Ovis aries", "NCBITaxon:9796": "Equus caballus", "NCBITaxon:1423": "Bacillus subtilis",
    "NCBITaxon:1772": "Mycolicibacterium smegmatis (laboratory model)",
    "NCBITaxon:10245": "Vaccinia virus (vaccine strain; kept out as a laboratory vector)",
}


@dataclass
class Taxa:
    """NCBITaxon classes of the DO and MONDO import modules."""

    name: dict[str, str] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    #: id -> [(synonym, scope, type)]
    synonyms: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))

    def lineage(self, taxid: str) -> list[str]:
        out, seen = [taxid], {taxid}
        while out[-1] in self.parent and self.parent[out[-1]] not in seen:
            out.append(self.parent[out[-1]])
            seen.add(out[-1])
        return out

    def group(self, taxid: str) -> str | None:
        """"bacteria" / "virus" / "fungus" / "parasite" from the lineage, or None (not a pathogen group, or unknown)."""
        for t in self.lineage(taxid):
            if t in PATHOGEN_GROUPS:
                return PATHOGEN_GROUPS[t]
        return None


@functools.lru_cache(maxsize=1)
def taxa() -> Taxa:
    """Taxa of both NCBITaxon import modules (cached)."""
    tx = Taxa()
    ns = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
          "owl": "http://www.w3.org/2002/07/owl#"}
    root = ET.parse(_lex("disease_ontology", "imports", "ncbitaxon_import.owl")).getroot()

    def curie(iri: str) -> str:
        return iri.rsplit("/", 1)[-1].replace("_", ":", 1)

    for cls in root.findall("owl:Class", ns):
        about = cls.get(f"{{{ns['rdf']}}}about")
        if not about:
            continue
        tid = curie(about)
        lab = cls.find("rdfs:label", ns)
        if lab is not None and lab.text:
            tx.name[tid] = lab.text
        sup = cls.find("rdfs:subClassOf", ns)
        if sup is not None and sup.get(f"{{{ns['rdf']}}}resource"):
            tx.parent[tid] = curie(sup.get(f"{{{ns['rdf']}}}resource"))
    for t in _obo_terms(_lex("mondo", "imports", "ncbitaxon_import.obo")):
        tid = t["id"]
        if not tid.startswith("NCBITaxon:") or t["obsolete"]:
            continue
        if "name" in t:
            tx.name.setdefault(tid, t["name"])
        if t["is_a"]:
            tx.parent.setdefault(tid, t["is_a"][0])
        tx.synonyms[tid].extend(t["syn_all"])
    return tx
