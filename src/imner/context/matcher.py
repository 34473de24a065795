"""Leftmost-longest, non-overlapping matching of all rule phrases in a sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from imner.context.lead import lead_words
from imner.context.rules import ContextRule
from imner.text import Token, tokenize

_WORD_PART = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Cue:
    """A matched rule phrase in a document."""

    start: int
    end: int
    rule: ContextRule


class Matcher:
    r"""Leftmost-longest, non-overlapping matching of all rule phrases.

    Literal rules are indexed by their first token (lower-cased), so a sentence costs one dict look-up per
    token plus a regex match per candidate. Pattern rules whose regex starts with a finite choice of words
    (``\b(?:was|were)\s+...``; see :func:`imner.context.lead.lead_words`) are indexed the same way by those words and tried at
    every word that starts with one (also inside a longer match of the same rule, like literal rules); the
    others are searched once per text.
    """

    def __init__(self, rules: Sequence[ContextRule]) -> None:
        self.by_first: dict[str, list[tuple[re.Pattern[str], ContextRule]]] = {}
        self.by_lead: dict[str, list[tuple[re.Pattern[str], ContextRule]]] = {}
        scanned = []
        for rule in rules:
            if rule.pattern is not None:
                rx = re.compile(rule.pattern, re.IGNORECASE)
                lead = lead_words(rule.pattern)
                if lead is None:
                    scanned.append((rx, rule))
                else:
                    for w in lead:
                        self.by_lead.setdefault(w, []).append((rx, rule))
                continue
            first = tokenize(rule.literal)[0].text.lower()
            self.by_first.setdefault(first, []).append((re.compile(rule.regex(), re.IGNORECASE), rule))
        for cands in self.by_first.values():
            cands.sort(key=lambda c: -len(c[1].literal))
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
            rules = by_first.get(low)
            if rules is not None:
                best = -1
                for rx, rule in rules:  # longest literal first; keep every rule matching the longest phrase
                    m = rx.match(text, tok.start)
                    if m is not None and m.end() >= best:
                        cands.append(Cue(tok.start, m.end(), rule))
                        best = m.end()
                    elif best >= 0 and len(rule.literal) < best - tok.start:
                        break
            if low.isalnum():
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


