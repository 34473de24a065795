"""Term -> lexicon concepts, in stages: exact key, light variants, token-sorted key.

A :class:`TermMatcher` answers "which concepts of these labels does this surface form name?" for one
:class:`~imner.lexicon.Lexicon`. Stages, in order; the first stage (and within it the first variant) that
finds a concept of an allowed label decides:

1. ``exact``: the lexicon key of the surface (:func:`imner.lexicon.normalize_term`: folded, lower-cased,
   hyphens = spaces, possessive ``'s`` dropped). Short abbreviations are case-sensitive (``RA`` but not ``ra``,
   see :meth:`Lexicon.case_ok`).
2. ``variant``: light variants of the key, tried in this order:
   the surface without parenthesised parts (``glucose-6-phosphate dehydrogenase (G6PD) deficiency``);
   the last word, then every word, in the singular (``infections`` -> ``infection``, ``staphylococci`` ->
   ``staphylococcus``); for diseases, the ``disease`` / ``syndrome`` / ``disorder`` suffix swapped, dropped or
   added and ``infection`` <-> ``infectious disease``, organ adjectives <-> nouns (``renal failure`` ->
   ``kidney failure``), a generic head word -> ``disease`` (``lung toxicity`` -> ``lung disease``,
   :data:`GENERIC_HEADS`), a last-word adjective -> disease noun (``hypertensive`` -> ``hypertension``,
   ``epileptic`` -> ``epilepsy``, ``deficient`` -> ``deficiency``), complement components (``C2 deficiency``
   -> ``complement component 2 deficiency``); then the key with its spaces removed compared with the lexicon keys with
   theirs removed (``non-Hodgkin`` vs ``nonHodgkin``, ``sjogren`` vs ``sjo gren``).
3. ``token_sorted``: the words of the key (and of its singular) without function words (``of``, ``the``,
   ``in``...), sorted, compared with the lexicon keys treated the same way (``deficiency of G6PD`` ->
   ``G6PD deficiency``).
4. ``stripped``: the key without leading course/severity/inheritance/onset/dose/route modifiers
   (:data:`MODIFIERS`: ``X-linked adrenoleukodystrophy`` -> ``adrenoleukodystrophy``, ``severe headache`` ->
   ``headache``, ``intravenous methylprednisolone`` -> ``methylprednisolone``), looked up exactly and with the
   variants of stage 2. The concept found may be broader than the mention: the stage is recorded in ``match``.

Within the winning key, concepts are ranked as the lexicon lists them (curated entries first); concepts with
an ontology code outrank curated-only ``IMNER:...`` concepts of the same key, and a concept whose preferred
name normalizes to the key outranks concepts matched through a synonym. The concepts of
the best rank are the tied candidates of the :class:`Match`: one means mapped, several mean ambiguous
(the caller may break the tie by label agreement).

The variant and token-sorted indexes over all lexicon keys are built on first need (about a second for the
packaged lexicon) and shared by every matcher of the same lexicon.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

from imner.lexicon import Concept, Lexicon, normalize_term
from imner.lexicon.normalize import singular

__all__ = ["MODIFIERS", "Match", "STAGES", "STOPWORDS", "TermMatcher", "is_codeless", "singular", "strip_modifiers"]

#: function words ignored by the token-sorted stage
STOPWORDS: frozenset[str] = frozenset({"of", "the", "a", "an", "in", "with", "to", "due", "by", "for", "on",
                                       "from", "at", "as", "caused", "associated", "induced"})
_SUFFIXES = ("disease", "syndrome", "disorder")
#: matching stages, in order
STAGES: tuple[str, ...] = ("exact", "variant", "token_sorted", "stripped")
#: leading words the ``stripped`` stage removes: course, severity, inheritance, onset, extent, dose and route
MODIFIERS: frozenset[str] = frozenset("""
acute chronic subacute hyperacute severe mild moderate progressive recurrent relapsing persistent transient
intermittent isolated sporadic familial hereditary inherited congenital idiopathic bilateral unilateral diffuse
focal generalized generalised localized localised massive marked significant high low dose early late onset
adult juvenile infantile childhood neonatal x linked autosomal dominant recessive oral intravenous iv topical
inhaled intramuscular subcutaneous prophylactic empirical empiric clinical typical atypical possible probable
suspected known new recent
""".split())
_PAREN = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome of one lookup: the tied best ``concepts`` (empty: no match), the ``stage`` that found them
    (``exact``, ``variant``, ``token_sorted``) and the lexicon ``key`` they were found under."""

    concepts: tuple[Concept, ...] = ()
    stage: str | None = None
    key: str | None = None
    #: set when the concepts were reached through another concept (e.g. an HPO term's UMLS xref -> a DOID)
    via: str | None = None

    def __bool__(self) -> bool:
        return bool(self.concepts)


NO_MATCH = Match()


#: organ adjective <-> noun (DO says "kidney failure", MeSH and case reports "renal failure")
ORGAN_ADJECTIVES: dict[str, str] = {
    "renal": "kidney", "hepatic": "liver", "cardiac": "heart", "pulmonary": "lung", "gastric": "stomach",
    "cerebral": "brain", "ocular": "eye", "cutaneous": "skin", "intestinal": "intestine", "colonic": "colon",
    "vesical": "bladder", "splenic": "spleen", "pancreatic": "pancreas", "thyroidal": "thyroid",
    "myocardial": "heart muscle", "neural": "nerve",
}
_ORGAN_NOUNS = {v: k for k, v in ORGAN_ADJECTIVES.items() if " " not in v}
#: adjective ending -> disease-noun ending, tried on the last word ("hypertensive" -> "hypertension")
ADJECTIVE_ENDINGS: tuple[tuple[str, str], ...] = (
    ("emic", "emia"), ("otic", "osis"), ("ptic", "psy"), ("etic", "es"), ("itic", "itis"), ("pathic", "pathy"),
    ("phic", "phy"), ("atic", "a"), ("ensive", "ension"), ("alic", "aly"), ("gic", "gy"), ("tic", "sis"),
    ("ic", "ia"), ("ese", "esity"), ("ient", "iency"),
)


def _organ_variants(key: str) -> Iterator[str]:
    words = key.split()
    for table in (ORGAN_ADJECTIVES, _ORGAN_NOUNS):
        swapped = [table.get(w, w) for w in words]
        if swapped != words:
            yield " ".join(swapped)


_COMPLEMENT = re.compile(r"\bc(\d)\b")


def _complement_variant(key: str) -> Iterator[str]:
    """``c2 deficiency`` -> ``complement component 2 deficiency``."""
    if _COMPLEMENT.search(key):
        yield _COMPLEMENT.sub(r"complement component \1", key)


#: generic head words of organ-level findings, read as "<organ> disease" ("lung toxicity" -> "lung disease",
#: "renal damage" -> "renal disease" -> "kidney disease")
GENERIC_HEADS: frozenset[str] = frozenset({
    "toxicity", "damage", "injury", "injuries", "lesion", "lesions", "dysfunction", "impairment", "involvement",
    "abnormality", "abnormalities", "disturbance", "disturbances",
})


def _head_variants(key: str) -> Iterator[str]:
    """``lung toxicity`` -> ``lung disease`` (see :data:`GENERIC_HEADS`; two or more words)."""
    words = key.split()
    if len(words) > 1 and words[-1] in GENERIC_HEADS:
        yield " ".join(words[:-1] + ["disease"])


def strip_modifiers(key: str) -> str:
    """``key`` without its leading :data:`MODIFIERS` (``x linked adrenoleukodystrophy`` ->
    ``adrenoleukodystrophy``); at least one word is kept."""
    words = key.split()
    i = 0
    while i < len(words) - 1 and words[i] in MODIFIERS:
        i += 1
    return " ".join(words[i:])


def _noun_variants(key: str) -> Iterator[str]:
    words = key.split()
    last = words[-1]
    for adj, noun in ADJECTIVE_ENDINGS:
        if last.endswith(adj) and len(last) > len(adj) + 2:
            yield " ".join(words[:-1] + [last[: len(last) - len(adj)] + noun])


@lru_cache(maxsize=65536)
def _name_key(name: str) -> str:
    return normalize_term(name)


def is_codeless(concept: Concept) -> bool:
    """A curated-only concept (``IMNER:...``): a class decision without an ontology code."""
    return concept.id.startswith("IMNER:")


def _sorted_key(words: list[str]) -> str:
    """The content words of a key, sorted (``"" `` when all are stop words)."""
    if STOPWORDS.isdisjoint(words):
        return " ".join(sorted(words))
    return " ".join(sorted([w for w in words if w not in STOPWORDS]))


class _SecondaryIndex:
    """Compact (spaces removed) and token-sorted forms of every multi-word lexicon key -> the keys.

    Built once per lexicon on first use (about 0.1 s for the packaged one). Values are the keys joined by tabs (keys
    hold no tabs): one string per form instead of a list keeps the build and the process's exit fast."""

    def __init__(self, keys: Iterable[str], tables: tuple[dict[str, str], dict[str, str]] | None = None) -> None:
        if tables is not None:  # built before (the start-up cache, see _secondary)
            self._compact, self._sorted = tables
            return
        compact: dict[str, str] = {}
        sorted_: dict[str, str] = {}
        for k in keys:
            if " " not in k:
                continue
            words = k.split()
            c = "".join(words)
            prev = compact.get(c)
            compact[c] = k if prev is None else prev + "\t" + k
            form = _sorted_key(words)
            if not form:
                continue
            prev = sorted_.get(form)
            sorted_[form] = k if prev is None else prev + "\t" + k
        self._compact = compact
        self._sorted = sorted_

    def compact(self, form: str) -> list[str]:
        """Keys whose spaces removed give ``form``."""
        keys = self._compact.get(form)
        return keys.split("\t") if keys else []

    def sorted(self, form: str) -> list[str]:
        """Keys whose content words, sorted, give ``form`` (see :func:`_sorted_key`)."""
        keys = self._sorted.get(form)
        return keys.split("\t") if keys else []


_SECONDARY: "weakref.WeakKeyDictionary[Lexicon, _SecondaryIndex]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _secondary(lexicon: Lexicon) -> _SecondaryIndex:
    """The lexicon's secondary index, built once per process, and for a lexicon file kept in the start-up cache
    (:mod:`imner.cache`, keyed by the file's sha256): a new process loads it instead of building it again."""
    with _LOCK:
        idx = _SECONDARY.get(lexicon)
        if idx is None:
            import imner.cache as cache

            key = None
            if lexicon.path is not None and lexicon.sha256:
                key = cache.cache_key("secondary", lexicon.sha256, cache.source_hash("imner.normalize.matcher"))
            hit = cache.load(key) if key is not None else None
            if isinstance(hit, tuple) and len(hit) == 2 and all(isinstance(t, dict) for t in hit):
                idx = _SecondaryIndex((), hit)
            else:
                idx = _SecondaryIndex(lexicon.keys())
                if key is not None:
                    cache.store(key, (idx._compact, idx._sorted))
            _SECONDARY[lexicon] = idx
        return idx


class TermMatcher:
    """Staged lookup of surface forms in ``lexicon`` (see the module docstring), restricted to concepts whose
    label is in ``labels``; ``disease_variants`` turns on the disease/syndrome suffix variants."""

    def __init__(self, lexicon: Lexicon, labels: Iterable[str], *, disease_variants: bool = False,
                 prefer: str | None = None) -> None:
        self.lexicon = lexicon
        self.labels = frozenset(labels)
        self.disease_variants = disease_variants
        #: CURIE prefix preferred among tied concepts (``DOID`` for diseases: a DO concept beats an HPO term
        #: filed under a disease label with the same name)
        self.prefer = prefer
        self._prep: dict[str, list] = {}

    # ------------------------------------------------------------------ ranking

    def _candidates(self, key: str) -> tuple[Concept, ...]:
        """Tied best allowed concepts of one key. Curated-only concepts (``IMNER:...``, no ontology code) are
        returned only when the key has no ontology concept of an allowed label."""
        lex = self.lexicon
        rows = [r for r in lex.rows_for_key(key) if lex.label_at(r) in self.labels]
        if not rows:
            return ()
        concepts = [lex.concept_at(r) for r in rows]
        coded = [c for c in concepts if not is_codeless(c)]
        if key in lex.curated and not is_codeless(concepts[0]):
            # curated entries are listed first; a curated entry is a deliberate choice
            return (concepts[0],)
        concepts = coded or concepts
        named = [c for c in concepts if _name_key(c.name) == key]
        return self._prefer(named or concepts)

    def _prefer(self, concepts: list[Concept]) -> tuple[Concept, ...]:
        if self.prefer is not None and len(concepts) > 1:
            preferred = [c for c in concepts if c.id.startswith(self.prefer + ":")]
            if preferred:
                return tuple(preferred)
        return tuple(concepts)

    def _try(self, keys: Iterable[str], stage: str, surface: str | None = None) -> Match:
        for key in keys:
            if not key:
                continue
            if surface is not None and not self.lexicon.case_ok(key, surface):
                continue
            cands = self._candidates(key)
            if cands:
                return Match(cands, stage, key)
        return NO_MATCH

    def _try_merged(self, groups: Iterable[list[str]], stage: str) -> Match:
        """Like :meth:`_try`, but each group holds several lexicon keys that match equally well."""
        for keys in groups:
            cands: dict[str, Concept] = {}
            named: dict[str, Concept] = {}
            for key in keys:
                for c in self._candidates(key):
                    cands.setdefault(c.id, c)
                    if _name_key(c.name) == key:
                        named.setdefault(c.id, c)
            if cands:
                best = list((named or cands).values())
                coded = [c for c in best if not is_codeless(c)]
                return Match(self._prefer(coded or best), stage, keys[0])
        return NO_MATCH

    # ------------------------------------------------------------------ variants

    def variants(self, surface: str, key: str) -> Iterator[str]:
        """Variant keys of stage 2 (without the compact-form lookup), in order, without repeats."""
        seen = {key}

        def new(k: str) -> bool:
            if k and k not in seen:
                seen.add(k)
                return True
            return False

        bases = [key]
        if "(" in surface or "[" in surface:
            stripped = normalize_term(_PAREN.sub("", surface))
            if new(stripped):
                bases.append(stripped)
                yield stripped
        for base in list(bases):
            words = base.split()
            last = words[:-1] + [singular(words[-1])]
            every = [singular(w) for w in words]
            for k in (" ".join(last), " ".join(every)):
                if new(k):
                    bases.append(k)
                    yield k
        if self.disease_variants:
            # organ nouns, disease nouns, complement components compound ("C2-deficient" -> "c2 deficiency" ->
            # "complement component 2 deficiency"); the suffix variants come last, on all of them
            for transform in (_head_variants, _organ_variants, _noun_variants, _complement_variant):
                for base in list(bases):
                    for k in transform(base):
                        if new(k):
                            bases.append(k)
                            yield k
            for base in list(bases):
                for k in self._suffix_variants(base):
                    if new(k):
                        yield k

    @staticmethod
    def _suffix_variants(key: str) -> Iterator[str]:
        words = key.split()
        if words[-1] in _SUFFIXES:
            stem = words[:-1]
            for s in _SUFFIXES:
                if s != words[-1] and stem:
                    yield " ".join(stem + [s])
            if stem:
                yield " ".join(stem)
        elif words[-1] in ("infection", "infections"):
            yield " ".join(words[:-1] + ["infectious", "disease"])
            if len(words) > 1:
                yield " ".join(words[:-1])
        elif key.endswith("infectious disease"):
            yield " ".join(words[:-2] + ["infection"])
        else:
            for s in _SUFFIXES[:2]:
                yield f"{key} {s}"

    # ------------------------------------------------------------------ lookup

    def match(self, surface: str, stages: Iterable[str] = STAGES) -> Match:
        """The concepts ``surface`` names, by the first of ``stages`` that finds any."""
        for stage in stages:
            m = self.match_stage(surface, stage)
            if m:
                return m
        return NO_MATCH

    def _key(self, surface: str) -> str:
        return self._prepared(surface)[0]

    def _prepared(self, surface: str, variants: bool = False) -> list:
        """``[key, stage-2 variants or None]`` of a surface, computed as stages ask for them (the last few
        surfaces are kept)."""
        hit = self._prep.get(surface)
        if hit is None:
            if len(self._prep) > 64:
                self._prep.clear()
            hit = self._prep[surface] = [normalize_term(surface), None]
        if variants and hit[1] is None:
            hit[1] = list(self.variants(surface, hit[0])) if hit[0] else []
        return hit

    def match_stage(self, surface: str, stage: str) -> Match:
        """The concepts one stage (``exact``, ``variant``, ``token_sorted``) finds for ``surface``."""
        key = self._key(surface)
        if not key:
            return NO_MATCH
        if stage == "exact":
            return self._try([key], "exact", surface)
        variants = self._prepared(surface, variants=True)[1]
        sec = _secondary(self.lexicon)
        if stage == "variant":
            m = self._try(variants, "variant", surface)
            if m:
                return m
            compact_groups = []
            for k in [key, *variants]:
                c = k.replace(" ", "")
                group = sec.compact(c)
                if c != k and self.lexicon.rows_for_key(c):
                    group.append(c)
                compact_groups.append([g for g in group if self.lexicon.case_ok(g, surface)])
            return self._try_merged([g for g in compact_groups if g], "variant")
        if stage == "token_sorted":
            sorted_groups = []
            for k in [key, *variants[:3]]:
                words = k.split()
                if len(words) > 1:
                    group = [g for g in sec.sorted(_sorted_key(words)) if self.lexicon.case_ok(g, surface)]
                    if group:
                        sorted_groups.append(group)
            return self._try_merged(sorted_groups, "token_sorted")
        if stage == "stripped":
            stripped = strip_modifiers(key)
            if stripped == key:
                return NO_MATCH
            m = self._try([stripped, *self.variants(stripped, stripped)], "stripped", surface)
            return m
        raise ValueError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
