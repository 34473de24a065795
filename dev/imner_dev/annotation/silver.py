"""Silver corpora: public corpora relabelled into the twelve classes by rule, kept apart from gold.

Registered corpora (train and dev only: the sources' test splits stay untouched for independent evaluation):

``ncbi-disease-silver``, ``bc5cdr-silver`` — every disease mention's MeSH/OMIM id(s) -> DOIDs (DO
cross-references and MONDO exact-match mappings, as the packaged lexicon has them:
:func:`imner_dev.annotation.ontology.disease_names`) -> class by the guideline's term list, else the class the
packaged lexicon gives the DOID (the ontology layer's :class:`~imner_dev.lexicon.classify.DiseaseClassifier`;
:func:`doid_label`; neoplasms OTHER, rule 7). A mention whose ids map to no DOID is flagged
``silver_flag="unmapped"``; one whose DOIDs fall in different classes ``silver_flag="ambiguous"``. Flagged spans are kept with the label
``DISEASE_UNKNOWN_CLASS``: the class is *not* guessed; training masks their words (the transformer tagger gives
spans with ``silver_flag`` no loss). Composite mentions ("breast or ovarian cancer") take the class their ids share.

BC5CDR ``Chemical`` -> ``MEDICATION`` when the mention is a DrugBank name or synonym (after :func:`norm`), or has
the MeSH id of such a mention elsewhere in the split ("dox", "adriamycin" after "doxorubicin"); other chemicals are flagged ``silver_flag="not-drugbank"`` (label ``CHEMICAL``) and masked, since BC5CDR chemicals
also include non-drug substances (toxins, ions, metabolites) that are not MEDICATION in the guideline. So
bc5cdr-silver annotates the three disease classes and MEDICATION; ncbi-disease-silver the three disease classes.

``pathogen-silver`` — organism mentions of S800 (``Species``, NCBI Taxonomy ids), LINNAEUS (``Species``, ids),
BioRED (``OrganismTaxon``, ids) and BioNLP-ST 2011 ID (``Organism``, no ids) through
:class:`imner_dev.annotation.pathogens.OrganismRule`: pathogens -> ``PATHOGEN``; humans, model organisms, generic
words, vectors, plants and other taxa of the modules outside the pathogen groups, and taxa the rule cannot place
in S800's botany/zoology/entomology abstracts -> dropped (they are correctly "not PATHOGEN"); other taxa the rule
cannot place -> ``ORGANISM_UNKNOWN`` with ``silver_flag="unmapped"`` (masked).
Document ids are ``<corpus>:<id>``; annotates PATHOGEN only.

Every document has ``meta["annotates"]`` (the classes it annotates exhaustively; the others are unknown to the
loss) and ``meta["silver_source"]``. Known errors are listed in docs/corpus.md.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import Counter
from pathlib import Path
from typing import Iterable

from imner_dev.annotation import disease_class as dc
from imner_dev.annotation.ontology import disease_names, norm
from imner.config import data_path
from imner.corpora import Corpus, Loaded, register
from imner.types import Document, Span

UNKNOWN_DISEASE = "DISEASE_UNKNOWN_CLASS"
UNKNOWN_ORGANISM = "ORGANISM_UNKNOWN"
NOT_DRUG = "CHEMICAL"
DISEASE_CLASSES = ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE")
SPLITS = ("train", "dev")


# ---------------------------------------------------------------- diseases

def source_ids(raw: object) -> list[str]:
    """``"D001943|D010051"`` -> ``["MESH:D001943", "MESH:D010051"]``; ``OMIM:…`` kept; ``-1`` -> nothing."""
    if isinstance(raw, (list, tuple)):
        raw = "|".join(map(str, raw))
    out = []
    for part in re.split(r"[|+,;]", str(raw or "")):
        part = part.strip()
        if not part or part == "-1":
            continue
        if part.upper().startswith(("OMIM:", "MIM:")):
            out.append("OMIM:" + part.split(":", 1)[1])
        elif part.upper().startswith("MESH:"):
            out.append("MESH:" + part.split(":", 1)[1])
        elif re.fullmatch(r"[CD]\d+", part):
            out.append("MESH:" + part)
        elif re.fullmatch(r"\d{6}", part):
            out.append("OMIM:" + part)
        else:
            out.append(part)
    return out


@functools.lru_cache(maxsize=None)
def doid_label(doid: str) -> str | None:
    """The class of one DOID: the guideline term list when the DO label is in it, else the ontology layer's
    (:func:`imner_dev.annotation.disease_class.do_class`)."""
    dn = disease_names()
    term = dc.guideline_terms().get(norm(dn.label.get(doid, "")))
    if term is not None:
        return term.label
    return dc.do_class(dn, [doid])[0]


def classify_ids(ids: Iterable[str]) -> tuple[str | None, str, list[str]]:
    """(class or None, flag or "", DOIDs) for a mention's source ids."""
    dn = disease_names()
    ids = list(ids)
    if not ids:
        return None, "unmapped", []
    per_id = []
    doids: list[str] = []
    for i in ids:
        ds = sorted(dn.xrefs.get(i, ()))
        if not ds:
            return None, "unmapped", doids
        doids.extend(ds)
        per_id.append({doid_label(d) for d in ds})
    labels = set().union(*per_id)
    if None in labels or len(labels) != 1:
        return None, "ambiguous", doids
    return next(iter(labels)), "", doids


@functools.lru_cache(maxsize=1)
def drugbank_names() -> frozenset[str]:
    """Normalized DrugBank open-vocabulary names and synonyms."""
    out: set[str] = set()
    with open(data_path("lexicons", "drugbank_open_vocabulary", "drugbank_vocabulary.csv"), encoding="utf-8",
              newline="") as fh:
        for row in csv.DictReader(fh):
            for name in [row.get("Common name", "")] + (row.get("Synonyms") or "").split(" | "):
                k = norm(name)
                if len(k) >= 3:
                    out.add(k)
    return frozenset(out)


def drug_ids(docs: Iterable[Document]) -> frozenset[str]:
    """MeSH ids of Chemical mentions that are DrugBank names somewhere in ``docs`` (so "dox" or "adriamycin"
    follow "doxorubicin")."""
    names = drugbank_names()
    return frozenset(str(s.attrs.get("id", "")) for d in docs for s in d.spans
                     if s.label == "Chemical" and s.attrs.get("id") not in (None, "", "-1")
                     and norm(s.text_in(d.text)) in names)


def disease_silver_doc(doc: Document, corpus: str, *, chemicals: bool = False,
                       drugs: frozenset[str] = frozenset()) -> Document:
    """One source document relabelled (diseases by id; chemicals by DrugBank name, or by a MeSH id in ``drugs``,
    when ``chemicals``)."""
    spans = []
    for s in doc.spans:
        base = {"source_type": s.label, "source_ids": str(s.attrs.get("id", ""))}
        if s.label == "Chemical":
            if not chemicals:
                continue
            if norm(s.text_in(doc.text)) in drugbank_names():
                spans.append(Span(s.start, s.end, "MEDICATION", attrs={**base, "silver": "drugbank-name"}))
            elif str(s.attrs.get("id", "")) in drugs:
                spans.append(Span(s.start, s.end, "MEDICATION", attrs={**base, "silver": "drugbank-name-same-id"}))
            else:
                spans.append(Span(s.start, s.end, NOT_DRUG, attrs={**base, "silver_flag": "not-drugbank"}))
            continue
        label, flag, doids = classify_ids(source_ids(s.attrs.get("id")))
        attrs = {**base, "doids": doids} if doids else base
        if label is None:
            spans.append(Span(s.start, s.end, UNKNOWN_DISEASE, attrs={**attrs, "silver_flag": flag}))
        else:
            spans.append(Span(s.start, s.end, label, attrs={**attrs, "silver": "id-mapped"}))
    annotates = list(DISEASE_CLASSES) + (["MEDICATION"] if chemicals else [])
    return Document(doc.id, doc.text, tuple(spans),
                    {**doc.meta, "annotates": annotates, "silver_source": corpus})


def _disease_loader(source: str, chemicals: bool):
    def load(root: Path, split: str) -> Loaded:
        from imner import corpora

        src = corpora.load(source, split)
        drugs = drug_ids(src) if chemicals else frozenset()
        docs = [disease_silver_doc(d, source, chemicals=chemicals, drugs=drugs) for d in src]
        return Loaded(docs, _notes(docs))
    return load


def _notes(docs: list[Document]) -> tuple[str, ...]:
    flags = Counter(s.attrs.get("silver_flag") for d in docs for s in d.spans if s.attrs.get("silver_flag"))
    return tuple(f"{n} spans flagged {f!r} (masked in training)" for f, n in sorted(flags.items()))


# ---------------------------------------------------------------- pathogens

#: S800 categories whose organisms are plants and animals (an unplaceable taxon there is not a pathogen)
NON_MICROBE_CATEGORIES = frozenset({"bot", "zoo", "ent"})
PATHOGEN_SOURCES: dict[str, str | None] = {"s800": None, "linnaeus": None, "biored": "OrganismTaxon",
                                           "bionlp11id": "Organism"}


@functools.lru_cache(maxsize=1)
def _organism_rule():
    from imner_dev.annotation.pathogens import OrganismRule, _corpus_mentions, read_lexicon

    return OrganismRule(_corpus_mentions([]), known_names=[e.name for e in read_lexicon()])


def _taxid(span: Span, corpus: str) -> str:
    from imner_dev.annotation.pathogens import _norm_taxid

    if corpus == "bionlp11id":
        return ""
    raw = span.attrs.get("norm") or span.attrs.get("id") or ""
    if isinstance(raw, (list, tuple)):
        raw = raw[0] if raw else ""
    return _norm_taxid(raw)


def pathogen_silver_doc(doc: Document, corpus: str) -> Document:
    rule = _organism_rule()
    label_wanted = PATHOGEN_SOURCES[corpus]
    spans = []
    for s in doc.spans:
        if label_wanted is not None and s.label != label_wanted:
            continue
        tid = _taxid(s, corpus)
        kind, why = rule.verdict(s.text_in(doc.text), tid)
        attrs = {"source_type": s.label, "taxid": tid, "silver": why}
        if kind == "pathogen":
            spans.append(Span(s.start, s.end, "PATHOGEN", attrs=attrs))
        elif kind == "unknown" and corpus == "s800" and doc.meta.get("category") in NON_MICROBE_CATEGORIES:
            continue  # an unplaceable organism of a botany/zoology/entomology abstract: a plant or an animal
        elif kind == "unknown":
            spans.append(Span(s.start, s.end, UNKNOWN_ORGANISM, attrs={**attrs, "silver_flag": "unmapped"}))
    return Document(f"{corpus}:{doc.id}", doc.text, tuple(spans),
                    {**doc.meta, "annotates": ["PATHOGEN"], "silver_source": corpus})


def _pathogen_loader(root: Path, split: str) -> Loaded:
    from imner import corpora

    docs: list[Document] = []
    notes = []
    for corpus in PATHOGEN_SOURCES:
        if corpus not in corpora.CORPORA:
            notes.append(f"{corpus} is not registered: left out")
            continue
        part = [pathogen_silver_doc(d, corpus) for d in corpora.load(corpus, split)]
        kept = Counter(s.label for d in part for s in d.spans)
        notes.append(f"{corpus}: {len(part)} documents, {kept.get('PATHOGEN', 0)} PATHOGEN, "
                     f"{kept.get(UNKNOWN_ORGANISM, 0)} masked")
        docs.extend(part)
    return Loaded(docs, tuple(notes))


# ---------------------------------------------------------------- registration

NCBI_DISEASE_SILVER = register(Corpus(
    name="ncbi-disease-silver",
    description="NCBI-disease train/dev with disease classes from MeSH/OMIM ids -> DO (MONDO) -> DO hierarchy; "
                "unmapped/ambiguous mentions flagged and masked (DISEASE_UNKNOWN_CLASS). Silver, not gold.",
    licence="US Government work, public domain (NCBI)",
    path="ncbi_disease",
    splits=SPLITS,
    labels=DISEASE_CLASSES + (UNKNOWN_DISEASE,),
    annotates=frozenset(DISEASE_CLASSES),
    format="derived from ncbi-disease",
    loader=_disease_loader("ncbi-disease", chemicals=False),
))

BC5CDR_SILVER = register(Corpus(
    name="bc5cdr-silver",
    description="BC5CDR train/dev: diseases classed via MeSH -> DO (MONDO) -> DO hierarchy (unmapped/ambiguous "
                "masked); chemicals that are DrugBank names -> MEDICATION, other chemicals masked. Silver.",
    licence="NCBI public domain notice",
    path="bc5cdr",
    splits=SPLITS,
    labels=DISEASE_CLASSES + ("MEDICATION", UNKNOWN_DISEASE, NOT_DRUG),
    annotates=frozenset(DISEASE_CLASSES + ("MEDICATION",)),
    format="derived from bc5cdr",
    loader=_disease_loader("bc5cdr", chemicals=True),
))

PATHOGEN_SILVER = register(Corpus(
    name="pathogen-silver",
    description="Organism mentions of S800, LINNAEUS, BioRED and BioNLP-ST 2011 ID (train/dev) relabelled PATHOGEN "
                "by the documented organism rule (humans, model organisms, non-pathogens dropped; unplaceable taxa "
                "masked as ORGANISM_UNKNOWN). Silver.",
    licence="mixed: S800 research use; LINNAEUS CC BY 4.0; BioRED public domain; BioNLP-ST 2011 CC BY 3.0",
    path=".",
    splits=SPLITS,
    labels=("PATHOGEN", UNKNOWN_ORGANISM),
    annotates=frozenset({"PATHOGEN"}),
    format="derived from s800, linnaeus, biored, bionlp11id",
    loader=_pathogen_loader,
))
