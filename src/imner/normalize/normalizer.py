"""The :class:`Normalizer`: entity spans -> ontology codes, as span attrs.

Which spans, which vocabulary (the lexicon concept labels a span may map to):

================================  ========================================  ==========================
span label                        concepts tried                            fallback (``cross_label``)
================================  ========================================  ==========================
IMMUNE/INFECTIOUS/OTHER_DISEASE   Disease Ontology (any disease label)      HPO sign/symptom
SIGN_SYMPTOM                      HPO phenotypes                            Disease Ontology
PATHOGEN                          NCBITaxon pathogens                       --
MEDICATION                        DrugBank (and curated drug classes)       --
SEVERITY                          HPO severity terms                        --
================================  ========================================  ==========================

Other labels (anatomy, procedures, lab values, temporal) are left unchanged. Stage by stage (exact, variant,
token-sorted; :mod:`imner.normalize.matcher`) the main vocabulary is tried before the fallback one. A disease
span that matches an HPO term is bridged to the Disease Ontology when the term's UMLS xrefs lead to exactly
one DOID (``via`` names the HPO id), and that DOID counts as a main-vocabulary match of that stage. A
fallback concept that cannot be bridged is used only when no stage finds a main-vocabulary concept; such
spans get ``cross_label: True``. Disease spans have two more stages: ``corpus`` right after ``exact`` (the gold
mentions of the NCBI-disease/BC5CDR/BioRED train splits, :mod:`imner.normalize.corpus_terms`; it outranks an
unbridged HPO match of the exact stage), and ``fuzzy`` when nothing at all matched (the nearest disease term by
character 3-gram TF-IDF, :mod:`imner.normalize.fuzzy`). Curated-only concepts (``IMNER:...``, no code) are used only when no stage
finds a coded concept.

Attrs written (keys not applicable are absent; a second run replaces them, and a ``concept_id`` /
``alt_concept_ids`` left by the dictionary tagger is replaced too):

``code_status``
    ``"mapped"``, ``"ambiguous"`` or ``"unmapped"``; nothing is guessed silently.
``concept_id``, ``concept_name``
    the concept (a CURIE: ``DOID:9074``, ``HP:0001945``, ``DRUGBANK:DB00635``, ``NCBITaxon:1280``, or
    ``IMNER:...`` for curated-only concepts) and its preferred name.
``doid``, ``hpo``, ``drugbank``, ``ncbitaxon``
    the same id under its vocabulary's key.
``icd10cm``, ``icd10cm_source``
    diseases: a **list** of ICD-10-CM codes (``["M32.9"]``; several when DO/MONDO map to several); when the
    concept has none from DO/MONDO (``icd10cm_source: "do-mondo"``), the code the ICD-10-CM tabular list or the
    curated names give the long form, the mention or the concept name (``"icd10cm-term"``, ``"curated"``), or
    the code of the infection an agent phrase names ("CMV infection": ``"agent"``), or the code of the longest
    known name the mention ends with ("ocular tuberculosis" -> A15.9: ``"head"``). Pathogens: the code of the
    infection the pathogen names ("HIV", "HCV"), or its B95-B97 agent code ("Staphylococcus aureus"),
    ``icd10cm_source: "agent"``. Absent when nothing gives one (:mod:`imner.normalize.icd10cm`).
``category``, ``subcategory``
    diseases: ``immune``/``infectious``/``other`` and e.g. ``autoimmune``, ``autoinflammatory``,
    ``allergic``, ``immunodeficiency``, ``other-immune``; ``bacterial``, ``viral``, ``fungal``,
    ``parasitic``, ``unspecified``; ``neoplasm`` (from the lexicon; see :mod:`imner_dev.lexicon.classify`).
``kind``
    pathogens: ``bacterium``, ``virus``, ``fungus``, ``parasite``.
``drug_class``
    medications: from the curated rules (:mod:`imner.normalize.drug_classes`), applied to the concept name,
    the surface and the abbreviation's long form; also set on unmapped medications when a rule matches.
``match``
    the stage that found the concept: ``exact``, ``variant``, ``token_sorted``, ``stripped``
    (:mod:`imner.normalize.matcher`), ``corpus`` or ``fuzzy`` (diseases; see above).
``abbreviation_of``
    the long form, when the span is (or contains) a short form defined in the document
    ("systemic lupus erythematosus (SLE)") and was normalized through it.
``via``
    the HPO id a disease concept was reached through (UMLS bridge); ``hpo`` is set too.
``resolved_by``
    ``"label"`` when several concepts tied and the one whose class agrees with the span's label was taken.
``candidates``
    ambiguous spans: the tied concepts, ``[{"id", "name", "label"}, ...]``, lexicon order.

Abbreviations: :func:`imner.normalize.abbrev.find_abbreviations` finds the document's definitions
(Schwartz & Hearst), and :func:`~imner.normalize.abbrev.mention_definitions` adds a short form in parentheses
right after a span of a normalized label ("myotonic dystrophy (DM)", whose letters Schwartz & Hearst cannot
align); Schwartz & Hearst's long form wins when both define a short form. A span
that starts at or after a definition's long form and is exactly the short form is looked up by its long
form first (then by itself); a span that only contains the short form as a word is looked up as written
first, then with the short form replaced by the long form.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping

from imner.errors import ConfigError
from imner.lexicon import Concept, Lexicon, load_lexicon, normalize_term
from imner.lexicon.normalize import is_abbreviation
from imner.normalize.abbrev import find_abbreviations, mention_definitions
from imner.normalize.corpus_terms import CORPUS_TERMS_NAME
from imner.normalize.fuzzy import DEFAULT_THRESHOLD
from imner.normalize.fuzzy import build_once as build_fuzzy
from imner.normalize.fuzzy import eligible as fuzzy_eligible
from imner.normalize.drug_classes import DrugClassRules, load_drug_class_rules
from imner.normalize.matcher import NO_MATCH, STAGES, Match, TermMatcher, is_codeless
from imner.schema import DISEASE_LABELS, LABEL_NAMES
from imner.types import Document, Span

__all__ = ["DISEASE", "GROUPS", "OUTPUT_KEYS", "Normalizer"]

#: a ``label_map`` value meaning "a disease of any of the three classes" (e.g. for NCBI-disease mentions)
DISEASE = "DISEASE"

#: span label -> (main concept labels, fallback concept labels)
GROUPS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    **{lab: (DISEASE_LABELS, frozenset({"SIGN_SYMPTOM"})) for lab in (*DISEASE_LABELS, DISEASE)},
    "SIGN_SYMPTOM": (frozenset({"SIGN_SYMPTOM"}), DISEASE_LABELS),
    "PATHOGEN": (frozenset({"PATHOGEN"}), frozenset()),
    "MEDICATION": (frozenset({"MEDICATION"}), frozenset()),
    "SEVERITY": (frozenset({"SEVERITY"}), frozenset()),
}
#: concept labels -> CURIE prefix preferred among tied concepts
PREFERRED_PREFIX: dict[frozenset[str], str] = {DISEASE_LABELS: "DOID", frozenset({"SIGN_SYMPTOM"}): "HP"}
#: CURIE prefix -> attr key
ID_KEYS: dict[str, str] = {"DOID": "doid", "HP": "hpo", "DRUGBANK": "drugbank", "NCBITaxon": "ncbitaxon"}
#: every attr the normalizer may write (removed before writing, so a rerun leaves no stale codes)
OUTPUT_KEYS: frozenset[str] = frozenset({
    "code_status", "concept_id", "concept_name", "doid", "hpo", "drugbank", "ncbitaxon", "icd10cm", "category",
    "subcategory", "kind", "drug_class", "match", "abbreviation_of", "resolved_by", "candidates", "cross_label",
    "via", "icd10cm_source",
})
#: removed before writing as well: the dictionary tagger's other candidates for its ``concept_id``
_REPLACED_KEYS = OUTPUT_KEYS | {"alt_concept_ids"}
_MAX_CANDIDATES = 10
_CACHE_LIMIT = 200_000


class Normalizer:
    """Adds ontology codes to entity spans (see the module docstring for what is written).

    ``lexicon``: a :class:`~imner.lexicon.Lexicon`, a path to an index file, or None for the packaged index
    (loaded on the first document, once per process). ``abbreviations``: link short forms defined in the
    document to their long forms. ``label_map``: maps other label sets onto the labels above (e.g.
    ``{"Disease": "DISEASE"}`` for BC5CDR; :data:`DISEASE` = any disease class). ``cross_label``: try the
    fallback vocabulary. ``drug_classes``: a :class:`DrugClassRules`, a rule-file path, or None for the
    packaged rules. ``icd10cm``: give disease spans without a DO/MONDO ICD-10-CM code the code of the ICD-10-CM
    tabular list or curated names, and pathogens the code of the infection they name
    (:mod:`imner.normalize.icd10cm`; ``icd10cm_source`` says which). ``corpus_terms``: the corpus synonyms
    of stage ``corpus`` (:mod:`imner.normalize.corpus_terms`): True = the table beside the lexicon's index file
    (none for an in-memory lexicon), False = none, a path, or a ``key -> DOID`` mapping; ``corpus_after``: the
    stage it follows (``exact``; ``first``, ``variant``, ``token_sorted``, ``stripped`` or ``fallback`` = after
    the cross-label fallback, for comparisons). ``fuzzy``: the cosine threshold of stage ``fuzzy``
    (:mod:`imner.normalize.fuzzy`), None = off.

    Lookups are cached per (surface form, label group); the instance is safe to share between threads.
    """

    def __init__(self, lexicon: Lexicon | str | Path | None = None, *, abbreviations: bool = True,
                 label_map: Mapping[str, str] | None = None, cross_label: bool = True,
                 drug_classes: DrugClassRules | str | Path | None = None, icd10cm: bool = True,
                 corpus_terms: bool | str | Path | Mapping[str, str] = True, corpus_after: str = "exact",
                 fuzzy: float | None = DEFAULT_THRESHOLD) -> None:
        self.icd10cm = icd10cm
        if corpus_after not in ("first", *STAGES, "fallback"):
            raise ConfigError(f"corpus_after must be one of first, {', '.join(STAGES)}, fallback; "
                              f"got {corpus_after!r}")
        #: True: the corpus synonyms beside the lexicon's index (loaded on first need); False: none; a path or a
        #: key -> DOID mapping
        self._corpus_terms: bool | str | Path | Mapping[str, str] = corpus_terms
        self._stages = (("corpus",) if corpus_after == "first" else ()) + tuple(
            x for st in STAGES for x in ((st, "corpus") if st == corpus_after else (st,)))
        self._corpus_last = corpus_after == "fallback"
        #: stage ``fuzzy`` threshold (None: off), see :mod:`imner.normalize.fuzzy`
        self.fuzzy = fuzzy
        self._fuzzy: dict = {}
        self._lexicon = lexicon if isinstance(lexicon, Lexicon) else None
        self._lexicon_path = None if isinstance(lexicon, Lexicon) else lexicon
        self.abbreviations = abbreviations
        self.cross_label = cross_label
        self.label_map = dict(label_map or {})
        bad = {k: v for k, v in self.label_map.items() if v not in LABEL_NAMES and v != DISEASE}
        if bad:
            raise ConfigError(f"label_map values must be imner labels or {DISEASE!r}; got {bad} "
                              f"(allowed: {', '.join(LABEL_NAMES)}, {DISEASE})")
        self.drug_classes = drug_classes if isinstance(drug_classes, DrugClassRules) \
            else load_drug_class_rules(drug_classes)
        self._matchers: dict[frozenset[str], TermMatcher] = {}
        self._cache: dict[tuple[str, str], tuple[Match, bool]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lexicon

    @property
    def lexicon(self) -> Lexicon:
        """The lexicon in use (loaded on first access)."""
        if self._lexicon is None:
            with self._lock:
                if self._lexicon is None:
                    self._lexicon = load_lexicon(self._lexicon_path)
        return self._lexicon

    def _matcher(self, labels: frozenset[str]) -> TermMatcher:
        m = self._matchers.get(labels)
        if m is None:
            disease = bool(labels & DISEASE_LABELS)
            m = self._matchers[labels] = TermMatcher(self.lexicon, labels, disease_variants=disease,
                                                     prefer=PREFERRED_PREFIX.get(labels))
        return m

    # ------------------------------------------------------------------ lookup

    def lookup(self, surface: str, label: str) -> tuple[Match, bool]:
        """The match of ``surface`` for a span labelled ``label`` (after ``label_map``) and whether it came
        from the fallback vocabulary; cached.

        Stage by stage (exact, variant, token-sorted), the main vocabulary is tried, then the fallback one; for
        diseases, a fallback HPO match is bridged to a DOID when the HPO term's UMLS xrefs lead to exactly one
        disease concept. A fallback concept that is not bridged is kept only if no stage finds a concept of the
        main vocabulary, and curated-only concepts (no ontology code) only if nothing else is found."""
        group = GROUPS.get(label)
        if group is None:
            return NO_MATCH, False
        ck = (surface, DISEASE if label in DISEASE_LABELS else label)
        hit = self._cache.get(ck)
        if hit is not None:
            return hit
        main, fallback = group
        vocabularies = [(main, False)]
        if fallback and self.cross_label:
            vocabularies.append((fallback, True))
        out: tuple[Match, bool] = (NO_MATCH, False)
        weak: tuple[Match, bool] | None = None
        pending: tuple[Match, bool] | None = None
        for stage in self._stages:
            if stage == "corpus":
                if main is DISEASE_LABELS:
                    m = self._corpus_match(surface)
                    if m:
                        out = (m, False)
                        break
                continue
            for labels, is_fallback in vocabularies:
                m = self._matcher(labels).match_stage(surface, stage)
                if not m:
                    continue
                if is_fallback:
                    if main is DISEASE_LABELS:
                        m = self._bridge(m)
                    if not any(c.label in main for c in m.concepts):
                        # a concept of the other vocabulary: kept unless a later stage finds one of the main
                        pending = pending or (m, True)
                        continue
                    is_fallback = False
                if all(is_codeless(c) for c in m.concepts):
                    weak = weak or (m, is_fallback)
                    continue
                out = (m, is_fallback)
                break
            if out[0]:
                break
        if not out[0] and self._corpus_last and main is DISEASE_LABELS and pending is None:
            m = self._corpus_match(surface)
            out = (m, False) if m else out
        if not out[0] and pending is None and weak is None and main is DISEASE_LABELS and self.fuzzy is not None:
            m = self._fuzzy_match(surface)
            out = (m, False) if m else out
        if not out[0]:
            out = pending or weak or out
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[ck] = out
        return out

    def _corpus_table(self) -> Mapping[str, str]:
        t = self._corpus_terms
        if t is True:
            # the table built beside the lexicon's index (``imner build lexicon`` writes both); none for an
            # in-memory lexicon or an index without one
            path = self.lexicon.path
            beside = Path(path).parent / CORPUS_TERMS_NAME if path is not None else None
            t = beside if beside is not None and beside.is_file() else {}
        if isinstance(t, (str, Path)):
            from imner.normalize.corpus_terms import load_corpus_terms

            t = load_corpus_terms(t)
        self._corpus_terms = t
        return t or {}

    def _corpus_match(self, surface: str) -> Match:
        """Stage ``corpus``: the DOID the training corpora give the key of ``surface`` (or of a light variant:
        plural, disease/syndrome suffix...), see :mod:`imner.normalize.corpus_terms`."""
        table = self._corpus_table()
        if not table:
            return NO_MATCH
        if is_abbreviation(surface.strip()):
            # abbreviation rows are case-sensitive: the surface as written
            doid = table.get(surface.strip())
            c = self.lexicon.concept(doid) if doid is not None and doid in self.lexicon else None
            return Match((c,), "corpus", surface.strip()) if c is not None and c.label in DISEASE_LABELS \
                else NO_MATCH
        key = normalize_term(surface)
        if not key:
            return NO_MATCH
        keys = [key]
        if key not in table:
            keys.extend(self._matcher(DISEASE_LABELS).variants(surface, key))
        for k in keys:
            doid = table.get(k)
            if doid is not None and doid in self.lexicon:
                c = self.lexicon.concept(doid)
                if c.label in DISEASE_LABELS:
                    return Match((c,), "corpus", k)
        return NO_MATCH

    def _fuzzy_match(self, surface: str) -> Match:
        """Stage ``fuzzy``: the nearest disease term by character 3-gram TF-IDF cosine, when it reaches
        :attr:`fuzzy` and names one concept (:mod:`imner.normalize.fuzzy`)."""
        if not fuzzy_eligible(surface):
            return NO_MATCH
        key = normalize_term(surface)
        idx = build_fuzzy(self._fuzzy, self.lexicon, self._corpus_table())
        ids, sim = idx.nearest(key)
        if len(ids) != 1 or sim < self.fuzzy or ids[0] not in self.lexicon:
            return NO_MATCH
        return Match((self.lexicon.concept(ids[0]),), "fuzzy", key)

    def _bridge(self, m: Match) -> Match:
        """An HPO match -> the one disease concept its UMLS xrefs lead to (``m`` itself when none or several)."""
        if len(m.concepts) != 1:
            return m
        hp = m.concepts[0]
        doids = {d for x in hp.xrefs if x.startswith("UMLS:") for d in self.lexicon.by_xref(x)}
        targets = [self.lexicon.concept(d) for d in sorted(doids) if d in self.lexicon]
        targets = [c for c in targets if c.label in DISEASE_LABELS]
        if len(targets) != 1:
            return m
        return Match((targets[0],), m.stage, m.key, via=hp.id)

    # ------------------------------------------------------------------ documents

    def __call__(self, doc: Document) -> Document:
        """A new document whose entity spans carry codes; ``doc`` is not changed."""
        labels = [self.label_map.get(s.label, s.label) for s in doc.spans]
        if not any(lab in GROUPS for lab in labels):
            return doc
        abbrs: dict[str, tuple[str, int, int]] = {}
        if self.abbreviations and "(" in doc.text:
            abbrs = find_abbreviations(doc.text)
            for sf, d in mention_definitions(doc.text, [(s.start, s.end) for s, lab in zip(doc.spans, labels)
                                                        if lab in GROUPS and not s.fragments]).items():
                abbrs.setdefault(sf, d)
        spans = [self._normalize_span(doc.text, s, lab, abbrs) if lab in GROUPS else s
                 for s, lab in zip(doc.spans, labels)]
        return doc.with_spans(spans)

    def annotate(self, docs: Iterable[Document]) -> list[Document]:
        """:meth:`__call__` over many documents."""
        return [self(d) for d in docs]

    def normalize_text(self, surface: str, label: str) -> dict[str, Any]:
        """The attrs a span with this surface and label would get (no document, no abbreviations)."""
        lab = self.label_map.get(label, label)
        if lab not in GROUPS:
            raise ConfigError(f"label {label!r} is not normalized; normalized labels: {', '.join(GROUPS)}")
        match, cross = self.lookup(surface, lab)
        return self._attrs(match, cross, lab, surface, None)

    def _normalize_span(self, text: str, span: Span, label: str, abbrs: Mapping[str, tuple[str, int, int]]) -> Span:
        surface = span.text_in(text)
        match, cross, long_form = NO_MATCH, False, None
        if abbrs:
            d = abbrs.get(surface.strip())
            if d is not None and span.start >= d[1]:
                match, cross = self.lookup(d[0], label)
                long_form = d[0] if match else None
        if not match:
            match, cross = self.lookup(surface, label)
        if not match and abbrs:
            expanded, first = _expand(surface, span.start, abbrs)
            if expanded is not None:
                m, c = self.lookup(expanded, label)
                if m:
                    match, cross, long_form = m, c, first
        attrs = {k: v for k, v in span.attrs.items() if k not in _REPLACED_KEYS}
        attrs.update(self._attrs(match, cross, label, surface, long_form))
        return Span(span.start, span.end, span.label, span.score, attrs, span.fragments)

    def _attrs(self, match: Match, cross: bool, label: str, surface: str, long_form: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        concepts = match.concepts
        resolved = False
        if len(concepts) > 1:
            agree = [c for c in concepts if c.label == label]
            if len(agree) == 1:
                concepts, resolved = (agree[0],), True
        if len(concepts) == 1:
            c = concepts[0]
            out["code_status"] = "mapped"
            out.update(concept_attrs(c))
            out["match"] = match.stage
            if match.via is not None:
                out["via"] = match.via
                key = ID_KEYS.get(match.via.split(":", 1)[0])
                if key is not None and key not in out:
                    out[key] = match.via
            if resolved:
                out["resolved_by"] = "label"
            if cross:
                out["cross_label"] = True
        elif concepts:
            out["code_status"] = "ambiguous"
            out["candidates"] = [{"id": c.id, "name": c.name, "label": c.label} for c in concepts[:_MAX_CANDIDATES]]
            out["match"] = match.stage
            if cross:
                out["cross_label"] = True
        else:
            out["code_status"] = "unmapped"
        if long_form is not None and concepts:
            out["abbreviation_of"] = long_form
        if self.icd10cm and (label in DISEASE_LABELS or label in (DISEASE, "PATHOGEN", "SIGN_SYMPTOM")):
            self._icd_codes(out, label, surface, long_form)
        if label == "MEDICATION":
            name = concepts[0].name if len(concepts) == 1 else None
            dc = self.drug_classes.classify(name, surface, long_form)
            if dc is not None:
                out["drug_class"] = dc
        return out


    def _icd_codes(self, out: dict[str, Any], label: str, surface: str, long_form: str | None) -> None:
        """ICD-10-CM codes from the tabular list / curated names / the agent (see :mod:`imner.normalize.icd10cm`)."""
        from imner.normalize.icd10cm import load_icd10cm

        if "icd10cm" in out:
            # DO/MONDO sometimes cross-reference a block ("A15-A19"), which is no code
            codes = [c for c in out["icd10cm"] if "-" not in c]
            if codes:
                out["icd10cm"], out["icd10cm_source"] = codes, "do-mondo"
                return
            del out["icd10cm"]
        icd = load_icd10cm()
        if label == "SIGN_SYMPTOM":
            # a disease the tagger called a sign ("sepsis", "peritonitis"): only the curated disease names
            for cand in (long_form, surface):
                code = icd.curated_name(cand)
                if code is not None:
                    out["icd10cm"], out["icd10cm_source"] = [code], "curated"
                    return
            return
        name = out.get("concept_name") if out.get("code_status") == "mapped" else None
        if label == "PATHOGEN":
            hit = icd.codes_for_pathogen(long_form or surface, name)
            if hit is None and long_form:
                hit = icd.codes_for_pathogen(surface, name)
        else:
            hit = icd.codes_for_disease([long_form, surface, name])
        if hit is not None:
            out["icd10cm"], out["icd10cm_source"] = hit


def concept_attrs(c: Concept) -> dict[str, Any]:
    """The code attrs of one concept (``concept_id``, ``concept_name``, the vocabulary key, disease/pathogen
    details)."""
    out: dict[str, Any] = {"concept_id": c.id, "concept_name": c.name}
    key = ID_KEYS.get(c.id.split(":", 1)[0])
    if key is not None:
        out[key] = c.id
    if c.label in DISEASE_LABELS:
        if c.icd10cm:
            out["icd10cm"] = list(c.icd10cm)
        if c.category:
            out["category"] = c.category
        if c.subcategory:
            out["subcategory"] = c.subcategory
    if c.kind:
        out["kind"] = c.kind
    return out


_WORDS = re.compile(r"[^\W_](?:[\w\-/.]*[^\W_])?")


def _expand(surface: str, start: int, abbrs: Mapping[str, tuple[str, int, int]]) -> tuple[str | None, str | None]:
    """``surface`` with each defined short form (a whole word, defined before ``start``) replaced by its long
    form, and the first long form used; (None, None) when nothing was replaced."""
    parts: list[str] = []
    pos = 0
    first: str | None = None
    for m in _WORDS.finditer(surface):
        d = abbrs.get(m.group())
        if d is None or d[1] > start:
            continue
        parts.append(surface[pos:m.start()])
        parts.append(d[0])
        pos = m.end()
        first = first or d[0]
    if first is None:
        return None, None
    parts.append(surface[pos:])
    return "".join(parts), first
