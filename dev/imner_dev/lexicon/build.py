"""Build the packaged lexicon index from the stored vocabularies (``imner build lexicon``).

Inputs, under ``$IMNER_DATA/lexicons`` (see each folder's PROVENANCE.md):

* ``disease_ontology/``: DO labels and parents (``DOreports/HumanDO.tsv``), synonyms and subsets (``subsets/*.obo``),
  xrefs (``DOreports/allXREFinDO.tsv``), 'has material basis in' axioms, the NCBITaxon import module;
* ``mondo/``: MONDO exact-match mappings to DOID, MeSH, UMLS and ICD-10-CM (MONDO labels become DO synonyms;
  MONDO ids bridge MeSH/UMLS/ICD-10-CM to DOIDs) and MONDO's NCBITaxon import (ranks, synonyms, acronyms);
* ``hpo/hp.obo.gz``: phenotypes under HP:0000118 -> SIGN_SYMPTOM (EXACT synonyms only), HP:0012824 -> SEVERITY;
* ``drugbank_open_vocabulary/drugbank_vocabulary.csv`` -> MEDICATION;
* ``icd10cm/code-list-*.txt``: ICD-10-CM codes from DO/MONDO are kept only when the code list has them.

Written beside it: ``corpus_terms.tsv.gz``, the normalizer's corpus synonyms (:mod:`imner_dev.lexicon.corpus_terms`;
reads the NCBI-disease, BC5CDR and BioRED train splits under ``$IMNER_DATA``).

Plus the curated files beside the index: ``curated.tsv`` (term, label, id, note) and ``class_overrides.tsv``
(id, label, scope, subcategory, note). Decisions are documented in ``src/imner/resources/lexicon/README.md``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from imner import __version__
from imner.config import data_path
from imner.errors import FormatError
from imner.lexicon import INDEX_NAME, LEXICON_DIR, normalize_xref
from imner_dev.lexicon import ontology
from imner_dev.lexicon.classify import (
    LABEL_CATEGORY, DiseaseClassifier, Override, genus_names, hpo_disease_class, is_specific_taxon, taxon_kind,
)
from imner.lexicon.index import Concept, IndexBuilder
from imner.lexicon.normalize import is_abbreviation, normalize_term
from imner_dev.lexicon.ontology import read_table
from imner_dev.lexicon.sources import obo_data_version, read_drugbank, read_obo
from imner.schema import LABEL_NAMES

HPO_PHENOTYPE_ROOT = "HP:0000118"
HPO_SEVERITY_ROOT = "HP:0012824"
#: grouping classes of HPO, never written in a case report as such
_HPO_GROUPING = re.compile(r"^(?:abnormal|abnormality|aplasia/hypoplasia|morphological abnormality|"
                           r"functional abnormality)\b", re.I)
#: body-part words that the guideline keeps as their own ANATOMY span before a sign ("chest" + "pain"): an HPO
#: sign written "<body part> <sign>" is not indexed when "<sign>" alone is a sign term
ANATOMY_MODIFIERS = frozenset({
    "abdominal", "abdomen", "chest", "back", "low", "lower", "neck", "head", "eye", "ocular", "ear", "joint", "muscle",
    "bone", "rectal", "renal", "flank", "pelvic", "epigastric", "retrosternal", "thoracic", "leg", "arm", "limb",
    "knee", "hip", "shoulder", "hand", "foot", "feet", "skin", "cutaneous", "facial", "face", "throat", "breast",
    "testicular", "scrotal", "vaginal", "gingival", "oral", "nasal", "pharyngeal", "dental", "tooth", "jaw",
    "wrist", "ankle", "elbow", "finger", "toe", "calf", "thigh", "buttock", "groin", "perineal", "penile",
    "bladder", "gastrointestinal", "intestinal", "upper", "peripheral", "pedal", "periorbital", "lung",
    "pulmonary", "cardiac", "hepatic", "liver", "spleen", "splenic", "lymph", "scalp", "lip", "tongue", "limbs",
    "legs", "arms", "joints", "muscles", "bones", "lumbar", "cervical", "sacral", "spinal",
})
#: laboratory findings (in our schema a test + a lab value, not a sign)
_HPO_LAB = re.compile(r"\b(?:levels?|concentrations?|counts?|activity|ratio|tit(?:er|re)s?|serum|plasma)\b", re.I)
#: DrugBank abbreviations kept (the others, e.g. ALA, HIS, PAS, CC, are ambiguous in clinical text)
DRUGBANK_ABBREVIATIONS = frozenset({
    "MTX", "CsA", "CyA", "5-FU", "6-MP", "INH", "G-CSF", "IVIg", "IVIG", "ATG", "rATG", "tPA", "t-PA", "rt-PA",
    "VPA", "APAP", "AZT", "TMP-SMX", "TMP/SMX", "MMF", "HCQ", "ASA", "PTU", "DEX", "EPO", "GM-CSF", "LMWH", "UFH",
    "NAC", "6-TG", "ATRA", "L-dopa", "AmB", "5-ASA",
})
_CHEMICAL_NAME = re.compile(r"[\[\]{}]|\d,\d|\(\d|\d\)|^\d+-|[a-z]\d+[a-z]?-")
#: NCBITaxon synonym types used as terms (others: blast names, in-part names, misspellings)
TAXON_SYNONYM_TYPES = frozenset({"equivalent_name", "genbank_common_name", "common_name", "scientific_name",
                                 "acronym", "genbank_acronym", "synonym", "genbank_synonym", "former_name"})
_TAXON_NAME_NOISE = re.compile(r"unclassified|environmental|incertae sedis|\bsp\.$|\bgroup$|uncultured", re.I)
_TAXON_SUFFIX = re.compile(r"\s*<[^>]+>$")
_BINOMIAL = re.compile(r"^([A-Z][a-z]+) ([a-z][a-z-]+.*)$")


# ---------------------------------------------------------------- curated files


def read_curated(path: Path) -> list[tuple[int, str, str, str, str]]:
    """``curated.tsv``: ``term<TAB>label<TAB>id<TAB>note`` rows as (line, term, label, id, note)."""
    out = []
    for lineno, (term, label, cid, note) in read_table(path, ["term", "label", "id", "note"]):
        if label not in LABEL_NAMES:
            raise FormatError(f"unknown label {label!r}; allowed: {', '.join(LABEL_NAMES)}", source=str(path),
                              line=lineno)
        if not re.match(r"^[A-Za-z][\w.]*:\S+$", cid):
            raise FormatError(f"id {cid!r} is not a CURIE (DOID:9074, NCBITaxon:10358, IMNER:antibiotic)",
                              source=str(path), line=lineno)
        out.append((lineno, term, label, cid, note))
    return out


# ---------------------------------------------------------------- helpers


def _genus_abbreviations(name: str) -> list[str]:
    """``Staphylococcus aureus`` -> ``S. aureus``, ``S.aureus`` (not for virus names: ``Orf virus``)."""
    m = _BINOMIAL.match(name)
    if not m or re.search(r"vir(?:us|idae|inae|ales)\b|\b(?:bacteria|complex|group|spp?\.?)$", name, re.I):
        return []
    return [f"{m.group(1)[0]}. {m.group(2)}", f"{m.group(1)[0]}.{m.group(2)}"]


def _drug_names(drug) -> list[str]:
    out = []
    for s in (drug.name, *drug.synonyms):
        letters = sum(c.isalpha() for c in s)
        if is_abbreviation(s):
            if s in DRUGBANK_ABBREVIATIONS:
                out.append(s)
            continue
        if letters < 3 or len(s) > 60 or len(s.split()) > 6 or _CHEMICAL_NAME.search(s):
            continue
        out.append(s)
    return out


class BuildReport(dict):
    """Counts and versions of a build (also stored as the index's ``info``)."""


def _add_diseases(b: IndexBuilder, do, clf: DiseaseClassifier, mondo_to_doid, mondo_label, doid_xrefs, doid_icd,
                  counts: Counter[str]) -> None:
    """Every DO concept with its class, EXACT synonyms, xrefs and codes; unambiguous MONDO labels as synonyms."""
    for doid in sorted(do.name):
        dc = clf.classify(doid)
        b.add_concept(Concept(doid, do.name[doid], dc.label, "DO", dc.category, dc.subcategory, None,
                              tuple(sorted(doid_icd.get(doid, ()))), tuple(sorted(doid_xrefs.get(doid, ())))))
        counts[f"DO {dc.label}"] += 1
        b.add_term(do.name[doid], doid)
        for syn, scope, _ in do.synonyms.get(doid, ()):
            if scope == "EXACT":
                b.add_term(syn, doid)
                counts["DO synonyms"] += 1
        for x in doid_xrefs.get(doid, ()):
            b.add_xref(x, doid)
        for code in doid_icd.get(doid, ()):
            b.add_xref(f"ICD10CM:{code}", doid)
    for mondo, doids in sorted(mondo_to_doid.items()):
        lab = mondo_label.get(mondo, "")
        if len(doids) == 1 and lab and not lab.startswith("obsolete"):
            b.add_term(lab, next(iter(doids)))
            counts["MONDO labels as DO synonyms"] += 1
    counts.update({f"disease rule: {k}": v for k, v in clf.rule_counts.items()})


def _add_hpo(b: IndexBuilder, hpo: dict, overrides: dict[str, Override], curated_rows, counts: Counter[str]) -> None:
    """HPO phenotype (SIGN_SYMPTOM, or a disease class by name or override) and severity concepts with their names."""
    hpo_anc: dict[str, frozenset[str]] = {}

    def ancestors(hid: str) -> frozenset[str]:
        if hid not in hpo_anc:
            hpo_anc[hid] = frozenset()  # cycle guard
            acc: set[str] = set()
            for p in hpo[hid].is_a if hid in hpo else ():
                acc.add(p)
                acc |= ancestors(p)
            hpo_anc[hid] = frozenset(acc)
        return hpo_anc[hid]

    hpo_terms: list[tuple[str, str, str]] = []
    for hid, t in sorted(hpo.items()):
        anc = ancestors(hid)
        if HPO_PHENOTYPE_ROOT in anc:
            label = "SIGN_SYMPTOM"
        elif HPO_SEVERITY_ROOT in anc:
            label = "SEVERITY"
        else:
            continue
        if _HPO_GROUPING.match(t.name):
            counts["HPO grouping classes skipped"] += 1
            continue
        surfaces = [t.name, *(syn for syn, scope, _ in t.synonyms if scope == "EXACT")]
        category = subcategory = None
        ov = overrides.get(hid) or next((overrides[a] for a in sorted(anc) if a in overrides
                                         and overrides[a].scope == "subtree"), None)
        hdc = hpo_disease_class(t.name) if label == "SIGN_SYMPTOM" else None
        if ov is not None:
            label, category, subcategory = ov.label, LABEL_CATEGORY[ov.label], ov.subcategory
        elif hdc is not None:
            label, subcategory = hdc
            category = LABEL_CATEGORY[label]
        umls = tuple(sorted(normalize_xref(x) for x in t.xrefs if x.startswith("UMLS:")))
        b.add_concept(Concept(hid, t.name, label, "HPO", category, subcategory, None, (), umls))
        counts[f"HPO {label}"] += 1
        for s in surfaces:
            if _HPO_LAB.search(s):
                counts["HPO lab-finding names skipped"] += 1
                continue
            hpo_terms.append((s, hid, label))
    # "<body part> <sign>" is two spans in the guideline ("chest" + "pain"): index only the sign
    sign_keys = {normalize_term(s) for s, _, lab in hpo_terms if lab == "SIGN_SYMPTOM"} | {
        normalize_term(term) for _, term, lab, _, _ in curated_rows if lab == "SIGN_SYMPTOM"}
    for s, hid, label in hpo_terms:
        words = normalize_term(s).split(" ")
        if (b.concepts[hid].label == "SIGN_SYMPTOM" and len(words) > 1 and words[0] in ANATOMY_MODIFIERS
                and " ".join(words[1:]) in sign_keys):
            counts["HPO '<body part> <sign>' names skipped"] += 1
            continue
        b.add_term(s, hid)


def _add_drugs(b: IndexBuilder, csv_path: Path, counts: Counter[str]) -> None:
    for drug in read_drugbank(csv_path):
        cid = f"DRUGBANK:{drug.id}"
        b.add_concept(Concept(cid, drug.name, "MEDICATION", "DrugBank"))
        counts["DrugBank drugs"] += 1
        for s in _drug_names(drug):
            b.add_term(s, cid)


def _add_pathogens(b: IndexBuilder, tx, counts: Counter[str]) -> None:
    """Specific taxa that are agents of disease (bacterium, virus, fungus, parasite) with names and abbreviations."""
    genera = genus_names(tx)
    for tid in sorted(tx.name):
        kind = taxon_kind(tx, tid)
        if kind is None or not is_specific_taxon(tx, tid, genera):
            continue
        name = re.sub(r"[\[\]]", "", _TAXON_SUFFIX.sub("", tx.name[tid]))
        if _TAXON_NAME_NOISE.search(name):
            continue
        b.add_concept(Concept(tid, name, "PATHOGEN", "NCBITaxon", None, None, kind))
        counts[f"NCBITaxon {kind}"] += 1
        surfaces = [name]
        for syn, _, typ in tx.synonyms.get(tid, ()):
            if typ in TAXON_SYNONYM_TYPES and not _TAXON_NAME_NOISE.search(syn):
                surfaces.append(_TAXON_SUFFIX.sub("", syn))
        for s in list(surfaces):
            if "[" in s:  # "[Candida] glabrata": a genus placement NCBI marks as doubtful
                surfaces.append(re.sub(r"[\[\]]", "", s))
        for s in list(surfaces):
            surfaces.extend(_genus_abbreviations(s))
        for s in dict.fromkeys(surfaces):
            # short acronyms of obscure viruses ("LI", "EPV") collide with ordinary text
            if is_abbreviation(s) and sum(c.isalpha() for c in s) < 3:
                continue
            b.add_term(s, tid)


def _add_curated(b: IndexBuilder, curated_rows, cur_path: Path, tx, taxon_by_name: dict[str, str],
                 counts: Counter[str]) -> None:
    """The curated terms, each checked against the concept it names (new pathogens and IMNER: concepts created)."""
    for lineno, term, label, cid, note in curated_rows:
        c = b.concepts.get(cid)
        if c is None and cid.startswith("NCBITaxon:") and label == "PATHOGEN":
            # a pathogen missing from the import modules: kind from the note ("kind=fungus"), its genus, or
            # "virus" in the name
            m = re.match(r"kind=(bacterium|virus|fungus|parasite)\b", note)
            genus_id = taxon_by_name.get(term.split()[0])
            kind = (m.group(1) if m else None) or (taxon_kind(tx, genus_id) if genus_id else None) or (
                "virus" if re.search(r"virus\b", term, re.I) else None)
            if kind is None:
                raise FormatError(f"cannot tell the kind of new pathogen {term!r} ({cid}); start its note with "
                                  "kind=bacterium|virus|fungus|parasite", source=str(cur_path), line=lineno)
            c = b.add_concept(Concept(cid, term, label, "NCBITaxon", None, None, kind))
            counts["curated NCBITaxon concepts"] += 1
            for abbr in _genus_abbreviations(term):
                b.add_term(abbr, cid)
        elif c is None:
            if not cid.startswith("IMNER:"):
                raise FormatError(f"{cid} is not in the lexicon; use an id of DO/HPO/DrugBank/NCBITaxon or an "
                                  "IMNER:... id for a curated-only concept", source=str(cur_path), line=lineno)
            cat = LABEL_CATEGORY.get(label)
            sub = {"immune": "other-immune", "infectious": "unspecified"}.get(cat or "")
            c = b.add_concept(Concept(cid, term, label, "imner", cat, sub))
        elif c.label != label:
            raise FormatError(f"{term!r}: {cid} ({c.name!r}) is {c.label} in the lexicon, not {label}; fix the "
                              "row or add a class override", source=str(cur_path), line=lineno)
        if normalize_term(term) == "":
            raise FormatError(f"term {term!r} normalizes to nothing", source=str(cur_path), line=lineno)
        b.add_term(term, cid, curated=True)
        counts["curated terms"] += 1


def build(out_dir: str | Path | None = None, *, lexicons_dir: str | Path | None = None,
          curated_dir: str | Path | None = None, with_corpus_terms: bool | None = None) -> tuple[Path, BuildReport]:
    """Build ``index.json.gz`` into ``out_dir`` (default: the packaged resources) from ``lexicons_dir``
    (default ``$IMNER_DATA/lexicons``) and the curated files in ``curated_dir`` (default: the packaged ones).
    ``corpus_terms.tsv.gz`` is written beside it when ``with_corpus_terms`` (default: when ``lexicons_dir`` is the
    shared data's, whose corpora it reads; a build from other lexicon files, as the tests make, leaves it out).

    The steps, in the order the index depends on them: the ontology layer (:func:`imner_dev.lexicon.ontology.load`:
    ICD-10-CM code list, Disease Ontology + MONDO xrefs and codes, taxa, class overrides, the
    :class:`DiseaseClassifier`); disease classes; HPO; DrugBank; pathogens; curated terms."""
    root = Path(lexicons_dir) if lexicons_dir else data_path("lexicons")
    cur_dir = Path(curated_dir) if curated_dir else LEXICON_DIR
    out = Path(out_dir) if out_dir else LEXICON_DIR
    b = IndexBuilder()
    counts: Counter[str] = Counter()

    ont = ontology.load(root, cur_dir)
    counts.update(ont.counts)
    do, tx, overrides, clf = ont.do, ont.taxa, ont.overrides, ont.classifier
    _add_diseases(b, do, clf, ont.mondo_to_doid, ont.mondo_label, ont.doid_xrefs, ont.doid_icd, counts)

    hpo_path = root / "hpo" / "hp.obo.gz"
    if not hpo_path.exists():
        hpo_path = root / "hpo" / "hp.obo"
    curated_rows = read_curated(cur_dir / "curated.tsv")
    _add_hpo(b, {t.id: t for t in read_obo(hpo_path) if not t.obsolete}, overrides, curated_rows, counts)
    unknown = [o for o in overrides if o not in b.concepts]
    if unknown:
        raise FormatError(f"override ids not in DO or the HPO phenotype/severity branches: {unknown}",
                          source=str(cur_dir / "class_overrides.tsv"))
    _add_drugs(b, root / "drugbank_open_vocabulary" / "drugbank_vocabulary.csv", counts)
    _add_pathogens(b, tx, counts)
    _add_curated(b, curated_rows, cur_dir / "curated.tsv", tx, ont.taxon_by_name, counts)

    b.info = BuildReport(
        imner_version=__version__,
        sources={
            "disease_ontology": do.version,
            "hpo": obo_data_version(hpo_path),
            "mondo_ncbitaxon_import": obo_data_version(root / "mondo" / "imports" / "ncbitaxon_import.obo"),
            "icd10cm": ont.icd_list.name,
            "drugbank": "drugbank_vocabulary.csv (DrugBank open vocabulary, 2023)",
        },
        counts=dict(sorted(counts.items())),
        n_concepts=len(b.concepts),
        n_terms=len(b._terms),
        n_xrefs=len(b.xrefs),
    )
    path = b.write(out / INDEX_NAME)
    if with_corpus_terms is None:
        with_corpus_terms = lexicons_dir is None
    if not with_corpus_terms:
        return path, b.info
    # the normalizer's corpus synonyms (not lexicon terms: the dictionary tagger never sees them), from the index
    # just written (its xref index maps the corpora's MeSH/OMIM ids to DOIDs); counts reported, not stored
    from imner.lexicon import load_lexicon
    from imner_dev.lexicon import corpus_terms

    _, ct_counts = corpus_terms.write(out, load_lexicon(path), do.parents)
    b.info["corpus_terms"] = ct_counts
    return path, b.info


def summary(info: dict[str, Any]) -> str:
    """A few lines describing a build."""
    lines = [f"{info.get('n_concepts')} concepts, {info.get('n_terms')} terms, {info.get('n_xrefs')} xrefs"]
    for k, v in info.get("counts", {}).items():
        lines.append(f"  {k}: {v}")
    for k, v in info.get("corpus_terms", {}).items():
        lines.append(f"  {k}: {v}")
    return "\n".join(lines)
