"""Ontology-level class decisions: the disease class of every DO term (guideline "Deciding the disease class")
and which NCBITaxon classes are pathogens, of which kind.

Disease class of a DOID, first rule that applies (``class_overrides.tsv`` rows are *node* or *subtree*
overrides):

1. an override on the term itself;
2. a name that says post-infectious (``post-infectious``, ``post-streptococcal``): IMMUNE (rule 3);
3. a neoplasm (under DOID:14566 "disease of cellular proliferation"): OTHER (rule 7);
4. infectious evidence on the term itself: under DOID:0050117 "disease by infectious agent", member of one of
   DO's infectious subsets, an organism as 'has material basis in', an ICD-10-CM code in A00-B99, or a name
   that states an infectious mechanism (``viral``, ``bacterial``, ``septic``, ``infection``...): INFECTIOUS;
5. a name that states an immune mechanism (``autoimmune``, ``allergic``, ``hypersensitivity``,
   ``immunodeficiency``, ``autoinflammatory``): IMMUNE (rule 1 applied to the ontology's own names);
5b. an ICD-10-CM code for a malignant neoplasm (C00-C96): OTHER (rule 7; DO files some lymphoproliferative
   diseases under immune system disease);
6. the nearest ancestor with a subtree override;
7. an ancestor with infectious evidence (4): INFECTIOUS;
8. under DOID:2914 "immune system disease" by a path that does not pass through DOID:75 "lymphatic system
   disease" (lymphedema, splenic infarction... are not immune-mediated), or an ICD-10-CM code in D80-D89:
   IMMUNE;
9. OTHER (rule 4: a bare disease whose mechanism the ontology does not state).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from imner_dev.lexicon.sources import DiseaseOntologyData, TaxonData

INFECTIOUS_ROOT = "DOID:0050117"
IMMUNE_ROOT = "DOID:2914"
NEOPLASM_ROOT = "DOID:14566"
#: branches of "immune system disease" that do not make a disease immune-mediated
IMMUNE_EXCLUDED = frozenset({"DOID:75"})
#: DO subsets whose members are infectious diseases
INFECTIOUS_SUBSETS = frozenset({
    "DO_infectious_disease_slim", "gram-negative_bacterial_infectious_disease",
    "gram-positive_bacterial_infectious_disease", "sexually_transmitted_infectious_disease",
    "tick-borne_infectious_disease", "zoonotic_infectious_disease",
})
#: agent branches of "disease by infectious agent" -> subcategory
AGENT_BRANCHES = {"DOID:104": "bacterial", "DOID:934": "viral", "DOID:1564": "fungal", "DOID:1398": "parasitic"}
#: immune branches -> subcategory, most specific first (autoinflammatory disease sits under immunodeficiency)
IMMUNE_BRANCHES = (
    ("DOID:0051000", "autoinflammatory"),
    ("DOID:417", "autoimmune"),
    ("DOID:612", "immunodeficiency"),
    ("DOID:1205", "allergic"),
    ("DOID:0060056", "allergic"),
)
KIND_TO_SUBCATEGORY = {"bacterium": "bacterial", "virus": "viral", "fungus": "fungal", "parasite": "parasitic"}
LABEL_CATEGORY = {"IMMUNE_DISEASE": "immune", "INFECTIOUS_DISEASE": "infectious", "OTHER_DISEASE": "other"}

_POST_INFECTIOUS = re.compile(r"\bpost-?(?:infectious|infective|streptococcal|viral|bacterial)\b", re.I)
_INFECTIOUS_NAME = re.compile(
    r"(?<!non-)(?<!non)\b(?:infectious|infection|infections|infective|bacterial|viral|fungal|parasitic|"
    r"septic|sepsis|tuberculous|mycobacterial|mycotic|protozoal|helminthic)\b", re.I)
_INFECTIOUS_NAME_KIND = (
    (re.compile(r"\b(?:bacterial|septic|tuberculous|mycobacterial)\b", re.I), "bacterial"),
    (re.compile(r"\bviral\b", re.I), "viral"),
    (re.compile(r"\b(?:fungal|mycotic)\b", re.I), "fungal"),
    (re.compile(r"\b(?:parasitic|protozoal|helminthic)\b", re.I), "parasitic"),
)
_IMMUNE_NAME = (
    (re.compile(r"\bautoinflammat", re.I), "autoinflammatory"),
    (re.compile(r"\bautoimmun", re.I), "autoimmune"),
    (re.compile(r"\bimmunodeficien", re.I), "immunodeficiency"),
    (re.compile(r"\b(?:allerg|hypersensitivity|anaphyla)", re.I), "allergic"),
    (re.compile(r"\bimmune[- ]mediated\b", re.I), "other-immune"),
)


@dataclass(frozen=True)
class Override:
    """A row of ``class_overrides.tsv``."""

    id: str
    label: str
    scope: str  # "node" or "subtree"
    subcategory: str | None
    note: str


@dataclass(frozen=True)
class DiseaseClass:
    label: str
    category: str
    subcategory: str | None
    #: which rule decided (for the build report)
    rule: str


def icd_chapter_flags(codes: Iterable[str]) -> tuple[bool, bool]:
    """(any code in A00-B99, any code in D80-D89)."""
    inf = imm = False
    for code in codes:
        c = code.upper()
        if c[:1] in ("A", "B") and c[1:3].isdigit():
            inf = True
        if c[:1] == "D" and c[1:3].isdigit() and 80 <= int(c[1:3]) <= 89:
            imm = True
    return inf, imm


def icd_malignant(codes: Iterable[str]) -> bool:
    """Any code in C00-C96 (ICD-10-CM malignant neoplasms)."""
    return any(c[:1].upper() == "C" and c[1:3].isdigit() for c in codes)


class DiseaseClassifier:
    """Decides label/category/subcategory of DO terms (see the module docstring for the rules)."""

    def __init__(self, do: DiseaseOntologyData, icd10cm: Mapping[str, Iterable[str]],
                 overrides: Mapping[str, Override], basis_kinds: Mapping[str, set[str]]) -> None:
        self.do = do
        self.icd = {k: tuple(v) for k, v in icd10cm.items()}
        self.overrides = dict(overrides)
        #: DOID -> pathogen kinds of its 'has material basis in' organisms
        self.basis_kinds = basis_kinds
        self.ancestors = lru_cache(maxsize=None)(self._ancestors)
        self.rule_counts: dict[str, int] = defaultdict(int)

    def _ancestors(self, doid: str) -> frozenset[str]:
        out: set[str] = set()
        stack = [doid]
        while stack:
            for p in self.do.parents.get(stack.pop(), ()):
                if p not in out:
                    out.add(p)
                    stack.append(p)
        return frozenset(out)

    def _immune_path(self, doid: str) -> bool:
        seen: set[str] = set()
        stack = [doid]
        while stack:
            node = stack.pop()
            if node == IMMUNE_ROOT:
                return True
            if node in IMMUNE_EXCLUDED:
                continue
            for p in self.do.parents.get(node, ()):
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return False

    def own_infectious(self, doid: str) -> bool:
        name = self.do.name.get(doid, "")
        return bool(
            INFECTIOUS_ROOT in self.ancestors(doid)
            or self.do.subsets.get(doid, set()) & INFECTIOUS_SUBSETS
            or self.basis_kinds.get(doid)
            or icd_chapter_flags(self.icd.get(doid, ()))[0]
            or (_INFECTIOUS_NAME.search(name) and not _POST_INFECTIOUS.search(name)))

    def _nearest_subtree_override(self, doid: str) -> Override | None:
        frontier, seen = [doid], {doid}
        while frontier:
            found = [self.overrides[n] for n in frontier
                     if n in self.overrides and self.overrides[n].scope == "subtree" and n != doid]
            if found:
                return sorted(found, key=lambda o: (o.label, o.id))[0]
            nxt = []
            for n in frontier:
                for p in self.do.parents.get(n, ()):
                    if p not in seen:
                        seen.add(p)
                        nxt.append(p)
            frontier = nxt
        return None

    def infectious_subcategory(self, doid: str) -> str:
        anc = self.ancestors(doid) | {doid}
        branch = {sub for d, sub in AGENT_BRANCHES.items() if d in anc}
        if len(branch) == 1:
            return branch.pop()
        kinds = {KIND_TO_SUBCATEGORY[k] for a in anc for k in self.basis_kinds.get(a, ()) if k in KIND_TO_SUBCATEGORY}
        if len(kinds) == 1:
            return kinds.pop()
        name = self.do.name.get(doid, "")
        named = {sub for rx, sub in _INFECTIOUS_NAME_KIND if rx.search(name)}
        if len(named) == 1:
            return named.pop()
        return "unspecified"

    def immune_subcategory(self, doid: str) -> str:
        anc = self.ancestors(doid) | {doid}
        for d, sub in IMMUNE_BRANCHES:
            if d in anc:
                return sub
        name = self.do.name.get(doid, "")
        for rx, sub in _IMMUNE_NAME:
            if rx.search(name):
                return sub
        return "other-immune"

    def _make(self, label: str, doid: str, rule: str, subcategory: str | None = None) -> DiseaseClass:
        if subcategory is None:
            if label == "IMMUNE_DISEASE":
                subcategory = self.immune_subcategory(doid)
            elif label == "INFECTIOUS_DISEASE":
                subcategory = self.infectious_subcategory(doid)
            elif NEOPLASM_ROOT in self.ancestors(doid) | {doid}:
                subcategory = "neoplasm"
        self.rule_counts[rule] += 1
        return DiseaseClass(label, LABEL_CATEGORY[label], subcategory, rule)

    def classify(self, doid: str) -> DiseaseClass:
        name = self.do.name.get(doid, "")
        anc = self.ancestors(doid)
        ov = self.overrides.get(doid)
        if ov is not None:
            return self._make(ov.label, doid, "override", ov.subcategory)
        if _POST_INFECTIOUS.search(name):
            return self._make("IMMUNE_DISEASE", doid, "post-infectious name", "other-immune")
        if NEOPLASM_ROOT in anc or doid == NEOPLASM_ROOT:
            return self._make("OTHER_DISEASE", doid, "neoplasm")
        if self.own_infectious(doid):
            return self._make("INFECTIOUS_DISEASE", doid, "infectious evidence")
        for rx, sub in _IMMUNE_NAME:
            if rx.search(name):
                return self._make("IMMUNE_DISEASE", doid, "immune name", sub)
        if icd_malignant(self.icd.get(doid, ())):
            return self._make("OTHER_DISEASE", doid, "malignant neoplasm code", "neoplasm")
        ov = self._nearest_subtree_override(doid)
        if ov is not None:
            return self._make(ov.label, doid, "subtree override", ov.subcategory)
        if any(self.own_infectious(a) for a in anc):
            return self._make("INFECTIOUS_DISEASE", doid, "infectious ancestor")
        if self._immune_path(doid) or icd_chapter_flags(self.icd.get(doid, ()))[1]:
            return self._make("IMMUNE_DISEASE", doid, "immune system disease")
        return self._make("OTHER_DISEASE", doid, "other")


# ---------------------------------------------------------------- HPO terms that are diseases in our schema

_HPO_INFECTIOUS = re.compile(
    r"(?:\b(?:infections?|sepsis|abscess|abscesses|bacteremia|bacteraemia|viremia|fungemia|empyema)$|^septic )", re.I)
_HPO_NOT_INFECTIOUS = re.compile(r"\b(?:aseptic|sterile|non-?infectious)\b", re.I)
_HPO_ANAPHYLAXIS = re.compile(r"\banaphyla", re.I)


def hpo_disease_class(name: str) -> tuple[str, str] | None:
    """(label, subcategory) for an HPO phenotype whose name is an infection (``Sepsis``, ``Liver abscess``,
    ``Recurrent bacterial infections``, ``Bacteremia``) or anaphylaxis; None for the rest (SIGN_SYMPTOM)."""
    if _HPO_ANAPHYLAXIS.search(name):
        return "IMMUNE_DISEASE", "allergic"
    if _HPO_INFECTIOUS.search(name) and not _HPO_NOT_INFECTIOUS.search(name):
        for rx, sub in _INFECTIOUS_NAME_KIND:
            if rx.search(name):
                return "INFECTIOUS_DISEASE", sub
        return "INFECTIOUS_DISEASE", "unspecified"
    return None


# ---------------------------------------------------------------- pathogens

#: lineage groups -> pathogen kind
PATHOGEN_GROUPS: dict[str, str] = {
    "NCBITaxon:2": "bacterium",
    "NCBITaxon:10239": "virus",
    "NCBITaxon:4751": "fungus",
    "NCBITaxon:2611341": "parasite",  # Metamonada (Giardia, Trichomonas)
    "NCBITaxon:2611352": "parasite",  # Discoba (Trypanosoma, Leishmania, Naegleria)
    "NCBITaxon:2698737": "parasite",  # Sar (Plasmodium, Toxoplasma, Cryptosporidium, Blastocystis)
    "NCBITaxon:554915": "parasite",  # Amoebozoa (Entamoeba, Acanthamoeba)
    "NCBITaxon:127916": "parasite",  # Ichthyosporea (Rhinosporidium)
    "NCBITaxon:6231": "parasite",  # Nematoda
    "NCBITaxon:6157": "parasite",  # Platyhelminthes
    "NCBITaxon:10232": "parasite",  # Acanthocephala
}
#: ectoparasitic arthropods (the other arthropods of the import modules are vectors or allergen sources)
ARTHROPOD_PARASITES = frozenset({
    "NCBITaxon:121222", "NCBITaxon:121225",  # Pediculus, P. humanus
    "NCBITaxon:121227", "NCBITaxon:121228",  # Pthirus, P. pubis
    "NCBITaxon:52282", "NCBITaxon:52283",  # Sarcoptes, S. scabiei
    "NCBITaxon:188544", "NCBITaxon:481310", "NCBITaxon:574145",  # Demodex
    "NCBITaxon:140713", "NCBITaxon:214035",  # Tunga, T. penetrans
    "NCBITaxon:66360", "NCBITaxon:115425",  # Cochliomyia, C. hominivorax
})
#: never PATHOGEN, with everything below them (id -> name; the names also serve organism mentions without an id):
#: humans, laboratory/model and farm organisms (most are outside the pathogen groups anyway; the yeasts, B. subtilis,
#: M. smegmatis and C. elegans are inside them), free-living groups, names that are ordinary words
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
    "NCBITaxon:169495": "This (a beetle genus whose name is an ordinary word)",
    "NCBITaxon:29178": "Foraminifera (free-living; genus Ammonia)",
}
#: ranks kept (family and below); taxa without a rank are kept when their name looks like genus or below
KEPT_RANKS = frozenset({
    "family", "subfamily", "tribe", "subtribe", "genus", "subgenus", "section", "species_group", "species_subgroup",
    "species", "subspecies", "strain", "serotype", "serogroup", "varietas", "forma", "isolate", "biotype",
})
_HIGH_RANKS = frozenset({
    "superkingdom", "kingdom", "subkingdom", "phylum", "subphylum", "superclass", "class", "subclass", "infraclass",
    "superorder", "order", "suborder", "infraorder", "parvorder", "superfamily", "cohort", "subcohort", "realm",
})


def taxon_kind(tx: TaxonData, taxid: str) -> str | None:
    """``bacterium``/``virus``/``fungus``/``parasite`` from the lineage; None when not a pathogen group."""
    if taxid in ARTHROPOD_PARASITES:
        return "parasite"
    seen = set()
    node: str | None = taxid
    while node is not None and node not in seen:
        seen.add(node)
        if node in EXCLUDED_TAXA:
            return None
        if node in PATHOGEN_GROUPS:
            return PATHOGEN_GROUPS[node]
        node = tx.parent.get(node)
    return None


def _lineage_ranks(tx: TaxonData, taxid: str) -> list[str]:
    out, seen, node = [], set(), tx.parent.get(taxid)
    while node is not None and node not in seen:
        seen.add(node)
        if node in tx.rank:
            out.append(tx.rank[node])
        node = tx.parent.get(node)
    return out


def genus_names(tx: TaxonData) -> frozenset[str]:
    """Names that are genera: ranked ``genus``, suffixed ``<genus>``, or the first word of another taxon's
    binomial name."""
    out = {re.sub(r"\s*<[^>]+>$", "", n) for t, n in tx.name.items() if tx.rank.get(t) == "genus" or
           n.endswith("<genus>")}
    for n in tx.name.values():
        m = re.match(r"^([A-Z][a-z]+) [a-z]", n)
        if m:
            out.add(m.group(1))
    return frozenset(out)


def is_specific_taxon(tx: TaxonData, taxid: str, genera: frozenset[str] = frozenset()) -> bool:
    """Family or a lower rank (what a case report names as an agent); rank-less taxa (DO import) count when
    below a genus/species or when named like one (genus, binomial, ``-aceae``/``-viridae`` family,
    ``...virus``)."""
    rank = tx.rank.get(taxid)
    if rank in KEPT_RANKS:
        return True
    if rank in _HIGH_RANKS:
        return False
    name = tx.name.get(taxid, "")
    if name.endswith("<genus>") or re.sub(r"\s*<[^>]+>$", "", name) in genera:
        return True
    if any(r in ("genus", "species", "subspecies") for r in _lineage_ranks(tx, taxid)):
        return True
    if re.match(r"^[A-Z][a-z]+ [a-z]", name):
        return True
    return bool(re.search(r"(?:aceae|viridae|virinae|virus)$", name))
