"""Leftmost-longest, non-overlapping matching of all rule phrases in a sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from imner.context.lead import lead_words
from imner.context.rules import ContextRule
from imner.text import Token, tokenize

_WORD_PART = re.compile(r"[^\W_]+")
#: a pattern starting with one of these literal characters is tried where a token is that character
_PUNCT_LEADS = frozenset(",;:")


@dataclass(frozen=True, slots=True)
class Cue:
    """A matched rule phrase in a document."""

    start: int
    end: int
    rule: ContextRule


class Matcher:
    r"""Leftmost-longest, non-overlapping matching of all rule phrases.

    Literal rules are indexed by their first token (lower-cased), so a sentence costs one dict look-up per
    token plus one regex match (all the literals starting with that token, longest first) where one starts.
    Pattern rules whose regex starts with a finite choice of words (``\b(?:was|were)\s+...``; see
    :func:`imner.context.lead.lead_words`) are indexed the same way by those words and tried at every word
    that starts with one (also inside a longer match of the same rule, like literal rules); the
    others are searched once per text.
    """

    def __init__(self, rules: Sequence[ContextRule]) -> None:
        self.by_first: dict[str, tuple[re.Pattern[str], list[tuple[ContextRule, ...]]]] = {}
        literal: dict[str, list[ContextRule]] = {}
        self.by_lead: dict[str, list[tuple[re.Pattern[str], ContextRule]]] = {}
        scanned = []
        for rule in rules:
            if rule.pattern is not None:
                rx = re.compile(rule.pattern, re.IGNORECASE)
                lead = lead_words(rule.pattern)
                if lead is None and rule.pattern[0] in _PUNCT_LEADS:  # ",\s+with": tried at each "," token
                    lead = frozenset(rule.pattern[0])
                if lead is None:
                    scanned.append((rx, rule))
                else:
                    for w in lead:
                        self.by_lead.setdefault(w, []).append((rx, rule))
                continue
            first = tokenize(rule.literal)[0].text.lower()
            literal.setdefault(first, []).append(rule)
        # the literal rules sharing a first token: one regex, its alternatives longest literal first, so the
        # first alternative that matches is the longest phrase; each alternative is one capturing group
        # (literal regexes have no groups of their own) naming the rules with that regex
        for first, group in literal.items():
            group.sort(key=lambda r: -len(r.literal))
            alternatives: dict[str, list[ContextRule]] = {}
            for rule in group:
                alternatives.setdefault(rule.regex(), []).append(rule)
            rx = re.compile("|".join(f"({a})" for a in alternatives), re.IGNORECASE)
            self.by_first[first] = (rx, [tuple(rs) for rs in alternatives.values()])
        # one regex per scanned rule: each keeps its own first-character optimisation (a joint one loses it)
        self.pattern_rules = scanned

    def pattern_cues(self, text: str) -> list[Cue]:
        """Matches of the pattern rules that are searched over the whole text (not indexed by lead words)."""
        out = [Cue(m.start(), m.end(), rule) for rx, rule in self.pattern_rules
               for m in rx.finditer(text) if m.end() > m.start()]
        out.sort(key=lambda c: c.start)
        return out

    def cues(self, text: str, tokens: Sequence[Token], extra: Sequence[Cue] = ()) -> list[Cue]:
        """Non-overlapping cues among ``tokens`` (leftmost, then longest, wins); ``extra`` are the
        :meth:`pattern_cues` inside the same stretch of text."""
        cands: list[Cue] = list(extra)
        by_first = self.by_first
        by_lead = self.by_lead
        for tok in tokens:
            low = tok.text.lower()
            first = by_first.get(low)
            if first is not None:
                m = first[0].match(text, tok.start)
                if m is not None:  # the longest literal matching here, with every rule that has it
                    end = m.end()
                    for rule in first[1][m.lastindex - 1]:  # type: ignore[operator]
                        cands.append(Cue(tok.start, end, rule))
            if low.isalnum():
                lead = by_lead.get(low)
                if lead is not None:
                    for rx, rule in lead:
                        m = rx.match(text, tok.start)
                        if m is not None and m.end() > m.start():
                            cands.append(Cue(m.start(), m.end(), rule))
            elif len(low) == 1:  # a punctuation token: the patterns that start with it
                lead = by_lead.get(low)
                if lead is not None:
                    for rx, rule in lead:
                        m = rx.match(text, tok.start)
                        if m is not None and m.end() > m.start():
                            cands.append(Cue(m.start(), m.end(), rule))
            else:  # a word may also start inside a token ("non-tender", "step-mother")
                for part in _WORD_PART.finditer(low):
                    lead = by_lead.get(part.group())
                    if lead is not None:
                        pos = tok.start + part.start()
                        for rx, rule in lead:
                            m = rx.match(text, pos)
                            if m is not None and m.end() > m.start():
                                cands.append(Cue(m.start(), m.end(), rule))
        if not cands:
            return cands
        pseudo = [c for c in cands if c.rule.direction == "pseudo"]
        if pseudo:  # a pseudo-trigger hides every phrase it overlaps ("had [not only]")
            cands = [c for c in cands if c.rule.direction == "pseudo" or
                     not any(p.start < c.end and c.start < p.end for p in pseudo)]
        cands.sort(key=lambda c: (c.start, -(c.end - c.start)))
        out: list[Cue] = []
        last_end = -1
        for c in cands:
            if c.start >= last_end:
                out.append(c)
                last_end = c.end
            elif c.start == out[-1].start and c.end == last_end:  # same phrase, another rule (other types)
                out.append(c)
        return out


