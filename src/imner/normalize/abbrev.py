"""Abbreviations defined in a text: Schwartz & Hearst (PSB 2003) short-form / long-form detection.

The algorithm looks at every parenthesis in the text:

* ``long form (SF)``: the parenthesised text (cut at the first ``", "`` or ``"; "``) is a short-form candidate
  when it has at most two words, 2-10 characters, a letter, and starts with a letter or digit; the
  long-form candidate is the text before the parenthesis within the same sentence (at most
  ``min(|SF| + 5, 2 |SF|)`` words);
* ``SF (long form)``: when the parenthesised text has more than two words (or two words and more than 10
  characters, too long for a short form), the word before the parenthesis is the short-form candidate and
  the parenthesised text the long form;
* ``(SF; long form)`` / ``(SF, long form)``: both inside the parenthesis.

A pair is accepted when the short form's letters and digits can be matched, right to left and in order,
inside the long form, the first short-form character matching the start of a word (Schwartz & Hearst's
``bestLongForm``), and the long form has no more than ``min(|SF| + 5, 2 |SF|)`` words. Extra filters remove
what is never an abbreviation in case reports: figure/table/reference citations (``(Fig. 2)``), statistics
(``(n = 5)``, ``(p < 0.05)``), numbers with units, and short forms without an upper-case letter or digit
(``(see below)``). The first definition of a short form wins.

The same algorithm ships in scispaCy (``AbbreviationDetector``) and the ``abbreviations`` package; it is
written out here because neither returns character offsets without spaCy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

__all__ = ["Abbreviation", "find_abbreviation_pairs", "find_abbreviations", "is_short_form", "mention_definitions"]


@dataclass(frozen=True, slots=True)
class Abbreviation:
    """One definition: ``text[long_start:long_end] == long`` and ``text[short_start:short_end] == short``."""

    short: str
    long: str
    short_start: int
    short_end: int
    long_start: int
    long_end: int


#: how far back (characters) a long form may start
_WINDOW = 300
#: a sentence boundary or a bracket closing before the long form: the long form never crosses it
_BOUNDARY = re.compile(r"[.!?]\s|[\n\r\[\]{}()]|[:;]\s")
_NOT_SF = re.compile(
    r"^(?:figs?|figures?|tables?|tabs?|refs?|see|e\.?g|i\.?e|cf|vs|n|p|r|or|ci|hr|rr|sd|se|iqr|range|mean|median)"
    r"(?:\b|\.|$)", re.I)
_STATS = re.compile(r"[=<>≤≥±%]|\d\s*(?:mg|ml|kg|g|mm|cm|h|d|y|yr|years?|days?|months?|weeks?)\b", re.I)
_WORD = re.compile(r"\S+")


def _has_letter(s: str) -> bool:
    return any(c.isalpha() for c in s)


def _valid_short(sf: str) -> bool:
    """Schwartz & Hearst's ``isValidShortForm`` plus the case-report filters of the module docstring."""
    if not (2 <= len(sf) <= 10) or len(sf.split()) > 2:
        return False
    if not _has_letter(sf) or not sf[0].isalnum():
        return False
    if _NOT_SF.match(sf) or _STATS.search(sf):
        return False
    # an abbreviation has a capital or a digit somewhere ("SLE", "pSS", "IgA", "HHV8"); "(see below)" has not
    return any(c.isupper() or c.isdigit() for c in sf)


def _max_words(sf: str) -> int:
    n = len(sf)
    return min(n + 5, n * 2)


def best_long_form(sf: str, lf: str) -> int | None:
    """Start index in ``lf`` of the shortest suffix of ``lf`` that contains the characters of ``sf`` in order
    (the first one at a word start); None when there is none (Schwartz & Hearst's ``bestLongForm``)."""
    s_i = len(sf) - 1
    l_i = len(lf) - 1
    while s_i >= 0:
        c = sf[s_i].lower()
        if not c.isalnum():
            s_i -= 1
            continue
        while l_i >= 0 and (lf[l_i].lower() != c or (s_i == 0 and l_i > 0 and lf[l_i - 1].isalnum())):
            l_i -= 1
        if l_i < 0:
            return None
        l_i -= 1
        s_i -= 1
    return lf.rfind(" ", 0, l_i + 1) + 1


def _pair(sf: str, sf_start: int, lf_text: str, lf_start: int) -> Abbreviation | None:
    """Check a candidate pair; ``lf_text`` starts at ``lf_start`` and is cut to the last allowed words."""
    sf = sf.strip()
    if not _valid_short(sf):
        return None
    words = list(_WORD.finditer(lf_text))
    if not words:
        return None
    words = words[-_max_words(sf):]
    cut = words[0].start()
    cand = lf_text[cut:].rstrip()
    i = best_long_form(sf, cand)
    if i is None:
        return None
    long = cand[i:].strip()
    lead = len(cand[i:]) - len(cand[i:].lstrip())
    if len(long) <= len(sf) or f"{sf} " in long or long.endswith(sf) or long.lower() == sf.lower():
        return None
    n_words = len(long.split())
    n_chars = sum(c.isalnum() for c in sf)
    if n_words > n_chars * 2 or n_words > n_chars + 5:
        return None
    start = lf_start + cut + i + lead
    return Abbreviation(sf, long, sf_start, sf_start + len(sf), start, start + len(long))


def _closing(text: str, open_i: int) -> int | None:
    """Index of the parenthesis closing the one at ``open_i`` (nesting respected, same line)."""
    depth = 0
    for j in range(open_i, min(len(text), open_i + 200)):
        c = text[j]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        elif c == "\n":
            return None
    return None


def find_abbreviation_pairs(text: str) -> list[Abbreviation]:
    """Every abbreviation definition in ``text`` in text order (a short form may be defined more than once)."""
    out: list[Abbreviation] = []
    i = text.find("(")
    while i >= 0:
        j = _closing(text, i)
        if j is not None:
            found = _at_paren(text, i, j)
            if found is not None:
                out.append(found)
        i = text.find("(", i + 1)
    return out


def _at_paren(text: str, i: int, j: int) -> Abbreviation | None:
    inner_start = i + 1
    inner = text[inner_start:j]
    lead = len(inner) - len(inner.lstrip())
    inner_start += lead
    inner = inner.strip()
    if not inner:
        return None
    cut = min((k for k in (inner.find("; "), inner.find(", ")) if k >= 0), default=-1)
    sf = (inner[:cut] if cut >= 0 else inner).strip()
    n_inner_words = len(inner.split())
    short_ok = _valid_short(sf)
    swap = n_inner_words > 2 or (n_inner_words == 2 and len(inner) > 10)
    if not short_ok and not swap:
        return None  # cheap exit: "(n = 5)", "(40 mg)", "(Fig. 2)"
    # the long-form window: back to the sentence boundary (or bracket) before the parenthesis
    w0 = max(0, i - _WINDOW)
    before = text[w0:i]
    last = None
    for m in _BOUNDARY.finditer(before):
        last = m
    if last is not None:
        w0 += last.end()
        before = text[w0:i]
    if short_ok:
        # long form (SF) / long form (SF; ...)
        found = _pair(sf, inner_start, before, w0)
        if found is not None:
            return found
        # (SF; long form) / (SF, long form)
        if cut >= 0:
            rest_start = cut + 2
            rest = inner[rest_start:]
            rest_lead = len(rest) - len(rest.lstrip())
            found = _pair_inside(sf, inner_start, rest.strip(), inner_start + rest_start + rest_lead)
            if found is not None:
                return found
    if swap:
        # SF (long form): the word before the parenthesis is the short form
        m = re.search(r"(\S+)\s*$", before)
        if m is not None:
            found = _pair_inside(m.group(1), w0 + m.start(1), inner, inner_start)
            if found is not None:
                return found
    return None


def _pair_inside(sf: str, sf_start: int, lf: str, lf_start: int) -> Abbreviation | None:
    """A pair whose long form is the whole of ``lf`` (it must use the whole text, from its first word)."""
    found = _pair(sf, sf_start, lf, lf_start)
    if found is None or found.long_start != lf_start:
        return None
    return found


def find_abbreviations(text: str) -> dict[str, tuple[str, int, int]]:
    """``{short form: (long form, long_start, long_end)}`` of the abbreviations defined in ``text``, where
    ``text[long_start:long_end]`` is the long form. The first definition of each short form wins.

    >>> find_abbreviations("systemic lupus erythematosus (SLE) flared; SLE nephritis")
    {'SLE': ('systemic lupus erythematosus', 0, 28)}
    """
    out: dict[str, tuple[str, int, int]] = {}
    for a in find_abbreviation_pairs(text):
        out.setdefault(a.short, (a.long, a.long_start, a.long_end))
    return out


def is_short_form(candidate: str) -> bool:
    """Whether ``candidate`` may be a short form (the checks of :func:`find_abbreviation_pairs`)."""
    return _valid_short(candidate.strip())


_PAREN_AFTER = re.compile(r"\s*\(\s*([^()\[\];,]{2,12}?)\s*[);,]")


def mention_definitions(text: str, mentions: Iterable[tuple[int, int]]) -> dict[str, tuple[str, int, int]]:
    """Definitions by position for entity mentions: a mention ``[start, end)`` directly followed by a
    parenthesised short form (``myotonic dystrophy (DM)``) defines it, whether or not the letters match
    (Schwartz & Hearst reject ``DM`` for ``myotonic dystrophy``). Same shape as :func:`find_abbreviations`;
    the first definition of a short form wins."""
    out: dict[str, tuple[str, int, int]] = {}
    for start, end in sorted(mentions):
        m = _PAREN_AFTER.match(text, end)
        if m is None:
            continue
        sf = m.group(1)
        long = text[start:end]
        if _valid_short(sf) and len(long) > len(sf) and sf not in long:
            out.setdefault(sf, (long, start, end))
    return out
