"""The one normalization used to match terms against text (lexicon keys and the dictionary tagger).

Two layers, both defined here and nowhere else:

* :func:`fold_text` maps each character to one character (so offsets survive): unicode dashes to ``-``,
  curly quotes/primes to ``'``/``"``, diacritics removed (``é`` -> ``e``), and lower case
  (a character whose lower case or base letter is not a single character is left as it is);
* :func:`key_pieces` tokenizes folded text with :func:`imner.text.iter_tokens`, splits tokens at internal
  hyphens (``Guillain-Barré`` and ``Guillain Barre`` give the same pieces) and drops a possessive ``'s``
  (``Crohn's`` -> ``crohn``).

:func:`normalize_term` joins the pieces with single spaces: that string is the lexicon key.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterator, NamedTuple

from imner.text import iter_tokens

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u00b4\u0060\uff07"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\uff02"


class _FoldTable(dict):
    """A ``str.translate`` table computed (and cached) one character at a time."""

    def __init__(self, lower: bool) -> None:
        super().__init__()
        self.lower = lower

    def __missing__(self, code: int) -> str:
        c = chr(code)
        if c in _DASHES:
            out = "-"
        elif c in _SINGLE_QUOTES:
            out = "'"
        elif c in _DOUBLE_QUOTES:
            out = '"'
        elif c == "\u00a0" or c == "\u2009" or c == "\u202f":
            out = " "
        else:
            out = c
            if self.lower:
                low = c.lower()
                if len(low) == 1:
                    out = low
            if ord(out) > 127:
                base = "".join(ch for ch in unicodedata.normalize("NFKD", out) if not unicodedata.combining(ch))
                if len(base) == 1:
                    out = base
        self[code] = out
        return out


_FOLD_LOWER = _FoldTable(lower=True)
_FOLD_KEEP_CASE = _FoldTable(lower=False)


def fold_text(text: str, *, lower: bool = True) -> str:
    """``text`` with dashes, quotes and diacritics unified (and lower-cased): same length, same offsets."""
    return text.translate(_FOLD_LOWER if lower else _FOLD_KEEP_CASE)


class Piece(NamedTuple):
    """A matching unit: a token or the part of a hyphenated token between hyphens (document offsets)."""

    start: int
    end: int
    norm: str
    #: the piece starts / ends a whole token (matches must start and end on token boundaries)
    token_start: bool
    token_end: bool


_NOT_HYPHEN = re.compile(r"[^-]+")


def normalize_piece(piece: str) -> str:
    """Drop a possessive ``'s`` (and a trailing apostrophe) from a folded piece."""
    if piece.endswith("'s") and len(piece) > 2:
        return piece[:-2]
    if piece.endswith("'") and len(piece) > 1:
        return piece[:-1]
    return piece


def iter_pieces(folded: str) -> Iterator[Piece]:
    """Pieces of already folded text (see :func:`fold_text`)."""
    for tok in iter_tokens(folded):
        t = tok.text
        if "-" not in t or len(t) == 1:
            yield Piece(tok.start, tok.end, normalize_piece(t), True, True)
            continue
        parts = list(_NOT_HYPHEN.finditer(t))
        if not parts:
            yield Piece(tok.start, tok.end, t, True, True)
            continue
        last = len(parts) - 1
        for k, m in enumerate(parts):
            yield Piece(tok.start + m.start(), tok.start + m.end(), normalize_piece(m.group()),
                        k == 0 and m.start() == 0, k == last and m.end() == len(t))


def key_pieces(term: str) -> list[str]:
    """The normalized pieces of a term."""
    return [p.norm for p in iter_pieces(fold_text(term)) if p.norm]


def normalize_term(term: str) -> str:
    """The lexicon key of ``term``: folded, lower-cased, tokenized, hyphens split, possessives dropped,
    pieces joined by single spaces (``"Crohn’s  Disease"`` -> ``"crohn disease"``,
    ``"Guillain–Barré syndrome"`` -> ``"guillain barre syndrome"``)."""
    return " ".join(key_pieces(term))


def is_abbreviation(surface: str, max_letters: int = 5) -> bool:
    """An abbreviation-like surface form that must match case-sensitively: at most ``max_letters`` letters,
    and either two or more capitals or a capital after the first character (``CMV``, ``RA``, ``IVIg``,
    ``tPA``, ``HIV-1``, ``COVID-19``), never an all-lower-case or merely capitalised word (``Gout``)."""
    letters = [c for c in surface if c.isalpha()]
    if not letters or len(letters) > max_letters:
        return False
    uppers = sum(1 for c in letters if c.isupper())
    return uppers >= 2 or any(c.isupper() for c in surface[1:])


#: words ending in "s" that are not plurals (or whose singular is the same word)
_NOT_PLURAL = frozenset("""species series herpes diabetes feces faeces rabies scabies measles mumps rickets ascites
pancreas atlas bias alias lens news means""".split())


def singular(word: str, *, latin: bool = True) -> str:
    """English (and Latin) plural -> singular for one lower-case word; the word itself when unsure (the one rule set
    of the dictionary tagger's plural matching, the normalizer's variants and the corpus builder's pre-labels).
    ``latin=False`` leaves out the Latin plurals that do not end in "s" (``-cocci``, ``-illi``, ``bacteria``,
    ``-ae``): the dictionary tagger, which finds spans rather than naming a given one, would otherwise read species
    epithets ("Haemophilus influenzae", "K. pneumoniae") and generic words ("acid-fast bacilli") as terms.
    ``seizures`` -> ``seizure``, ``abscesses`` -> ``abscess``, ``arteries`` -> ``artery``, ``diagnoses`` ->
    ``diagnosis``, ``arthritides`` -> ``arthritis``, ``staphylococci`` -> ``staphylococcus``, ``bacteria`` ->
    ``bacterium``, ``mycobacteria`` -> ``mycobacterium``, ``vertebrae`` -> ``vertebra``, ``kidneys`` -> ``kidney``; unchanged: ``virus``, ``arthritis``,
    ``abscess``, ``species``, ``herpes``, ``diabetes``, ``pancreas``, words of 3 characters or fewer and words with
    other characters than letters."""
    if len(word) <= 3 or not word.isalpha() or word in _NOT_PLURAL:
        return word
    if word.endswith("itides"):
        return word[:-4] + "is"
    if word.endswith("oses") and len(word) > 6:  # stenoses, diagnoses (not doses, noses)
        return word[:-2] + "is"
    if word.endswith("ies") and len(word) > 4:  # arteries (not ties)
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    if latin and word.endswith(("cocci", "illi")):
        return word[:-1] + "us"
    if latin and (word.endswith("bacteria") or word == "spirochaetia"):  # bacteria, mycobacteria, enterobacteria
        return word[:-1] + "um"
    if latin and word.endswith("ae") and not word.endswith("aceae"):  # vertebrae, larvae (not Enterobacteriaceae)
        return word[:-1]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
