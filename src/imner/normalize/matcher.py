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
   added and ``infection`` <-> ``infectious disease``; the key with its spaces removed compared with the
   lexicon keys with theirs removed (``non-Hodgkin`` vs ``nonHodgkin``, ``sjogren`` vs ``sjo gren``).
3. ``token_sorted``: the words of the key (and of its singular) without function words (``of``, ``the``,
   ``in``...), sorted, compared with the lexicon keys treated the same way (``deficiency of G6PD`` ->
   ``G6PD deficiency``).

Within the winning key, concepts are ranked as the lexicon lists them (curated entries first); a concept
whose preferred name normalizes to the key outranks concepts matched through a synonym. The concepts of
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
from typing import Iterable, Iterator

from imner.lexicon import Concept, Lexicon, normalize_term

__all__ = ["Match", "TermMatcher", "singular", "STOPWORDS"]

#: function words ignored by the token-sorted stage
STOPWORDS: frozenset[str] = frozenset({"of", "the", "a", "an", "in", "with", "to", "due", "by", "for", "on",
                                       "from", "at", "as", "caused", "associated", "induced"})
_SUFFIXES = ("disease", "syndrome", "disorder")
_PAREN = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome of one lookup: the tied best ``concepts`` (empty: no match), the ``stage`` that found them
    (``exact``, ``variant``, ``token_sorted``) and the lexicon ``key`` they were found under."""

    concepts: tuple[Concept, ...] = ()
    stage: str | None = None
    key: str | None = None

    def __bool__(self) -> bool:
        return bool(self.concepts)


NO_MATCH = Match()


def singular(word: str) -> str:
    """English (and Latin) plural -> singular for one lower-case word; the word itself when unsure."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("oses"):
        return word[:-2] + "is"
    if word.endswith("itides"):
        return word[:-4] + "s"
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("cocci") or word.endswith("illi"):
        return word[:-1] + "us"
    if word.endswith("ia") and word in ("bacteria", "spirochaetia"):
        return word[:-1] + "um"
    if word.endswith("ae"):
        return word[:-1]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ys")):
        return word[:-1]
    return word


def _sorted_key(words: Iterable[str]) -> str:
    return " ".join(sorted(w for w in words if w not in STOPWORDS))


class _SecondaryIndex:
    """Compact (spaces removed) and token-sorted forms of every lexicon key -> the keys."""

    def __init__(self, keys: Iterable[str]) -> None:
        compact: dict[str, list[str]] = {}
        sorted_: dict[str, list[str]] = {}
        for k in keys:
            c = k.replace(" ", "")
            if c != k:
                compact.setdefault(c, []).append(k)
            if " " in k:
                s = _sorted_key(k.split())
                if s:
                    sorted_.setdefault(s, []).append(k)
        self.compact = compact
        self.sorted = sorted_


_SECONDARY: "weakref.WeakKeyDictionary[Lexicon, _SecondaryIndex]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _secondary(lexicon: Lexicon) -> _SecondaryIndex:
    with _LOCK:
        idx = _SECONDARY.get(lexicon)
        if idx is None:
            idx = _SECONDARY[lexicon] = _SecondaryIndex(lexicon.keys())
        return idx


class TermMatcher:
    """Staged lookup of surface forms in ``lexicon`` (see the module docstring), restricted to concepts whose
    label is in ``labels``; ``disease_variants`` turns on the disease/syndrome suffix variants."""

    def __init__(self, lexicon: Lexicon, labels: Iterable[str], *, disease_variants: bool = False) -> None:
        self.lexicon = lexicon
        self.labels = frozenset(labels)
        self.disease_variants = disease_variants

    # ------------------------------------------------------------------ ranking

    def _candidates(self, key: str) -> tuple[Concept, ...]:
        """Tied best allowed concepts of one key."""
        lex = self.lexicon
        rows = [r for r in lex.rows_for_key(key) if lex.label_at(r) in self.labels]
        if not rows:
            return ()
        concepts = [lex.concept_at(r) for r in rows]
        if key in lex.curated:
            # curated entries are listed first; a curated entry is a deliberate choice
            return (concepts[0],)
        named = [c for c in concepts if normalize_term(c.name) == key]
        return tuple(named or concepts)

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
                    if normalize_term(c.name) == key:
                        named.setdefault(c.id, c)
            if cands:
                best = named or cands
                return Match(tuple(best.values()), stage, keys[0])
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
            for base in list(bases):
                yield from (k for k in self._suffix_variants(base) if new(k))

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

    def match(self, surface: str) -> Match:
        """The concepts ``surface`` names, by the first stage that finds any."""
        key = normalize_term(surface)
        if not key:
            return NO_MATCH
        m = self._try([key], "exact", surface)
        if m:
            return m
        variants = list(self.variants(surface, key))
        m = self._try(variants, "variant", surface)
        if m:
            return m
        sec = _secondary(self.lexicon)
        compact_groups = []
        for k in [key, *variants]:
            c = k.replace(" ", "")
            group = list(sec.compact.get(c, ()))
            if c != k and self.lexicon.rows_for_key(c):
                group.append(c)
            compact_groups.append([g for g in group if self.lexicon.case_ok(g, surface)])
        m = self._try_merged([g for g in compact_groups if g], "variant")
        if m:
            return m
        sorted_groups = []
        for k in [key, *variants[:3]]:
            words = k.split()
            if len(words) > 1:
                group = [g for g in sec.sorted.get(_sorted_key(words), ()) if self.lexicon.case_ok(g, surface)]
                if group:
                    sorted_groups.append(group)
        return self._try_merged(sorted_groups, "token_sorted")
