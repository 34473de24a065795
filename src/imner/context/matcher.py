r"""Leftmost-longest, non-overlapping matching of all rule phrases in a sentence.

Nothing is compiled when a :class:`Matcher` is built or this module imported: the regular expressions of the
rules that start with a word are compiled the first time a token with that word is seen, one expression per
word (see :class:`Matcher`), and the whole-text ones at the first :meth:`Matcher.pattern_cues`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from imner.context.lead import DIGIT_LEAD, lead_words
from imner.context.rules import ContextRule
from imner.text import Token, tokenize

_WORD_PART = r"[^\W_]+"
#: a pattern starting with one of these literal characters is tried where a token is that character
_PUNCT_LEADS = frozenset(",;:")
#: a pattern that may refer to its own groups by number cannot be joined with others into one expression
_GROUP_REF = re.compile(r"\\[1-9]|\(\?\(")


@dataclass(frozen=True, slots=True)
class Cue:
    """A matched rule phrase in a document."""

    start: int
    end: int
    rule: ContextRule


class _Entry:
    """What to try where a token (or a word inside one) is one given word, compiled on first use.

    ``rx`` always matches, with zero width: one optional look-ahead per thing to try, each a capturing group
    (``(?:(?=(P))|)``), so one call says which of them match there and where each match ends, as
    ``P.match`` alone would (a look-ahead finds the same first match as a match at that position). Group
    ``lit`` is the literal rules' alternation; ``leads`` are ``(group, rule)`` of the pattern rules, in rule
    order. ``standalone``: ``(regex, rule)`` tried one by one instead, when the patterns cannot be joined (a
    pattern with group references or global inline flags)."""

    __slots__ = ("rx", "lit", "lit_rx", "lit_rules", "leads", "standalone")

    def __init__(self, literal: Sequence[ContextRule], leads: Sequence[ContextRule]) -> None:
        self.lit = 0
        self.lit_rx: re.Pattern[str] | None = None
        self.lit_rules: list[tuple[ContextRule, ...]] = []
        self.leads: list[tuple[int, ContextRule]] = []
        self.standalone: list[tuple[re.Pattern[str], ContextRule]] = []
        parts: list[str] = []
        if literal:
            # the literal rules sharing a first token: one regex, its alternatives longest literal first, so the
            # first alternative that matches is the longest phrase; each alternative is one capturing group
            # (literal regexes have no groups of their own) naming the rules with that regex
            group = sorted(literal, key=lambda r: -len(r.literal))
            alternatives: dict[str, list[ContextRule]] = {}
            for rule in group:
                alternatives.setdefault(rule.regex(), []).append(rule)
            lit_src = "|".join(f"({a})" for a in alternatives)
            self.lit_rx = re.compile(lit_src, re.IGNORECASE)
            self.lit_rules = [tuple(rs) for rs in alternatives.values()]
            parts.append(f"(?:(?=(?P<l>{lit_src}))|)")
        joinable = not any(_GROUP_REF.search(r.pattern) for r in leads)  # type: ignore[arg-type]
        if joinable:
            parts.extend(f"(?:(?=(?P<p{k}>{r.pattern}))|)" for k, r in enumerate(leads))
        try:
            rx = re.compile("".join(parts), re.IGNORECASE)
        except re.error:  # a pattern that does not combine: try each rule on its own
            joinable = False
            rx = re.compile(parts[0] if literal else "", re.IGNORECASE)
        self.rx = rx
        if literal:
            self.lit = rx.groupindex["l"]
        if joinable:
            self.leads = [(rx.groupindex[f"p{k}"], r) for k, r in enumerate(leads)]
        else:
            self.standalone = [(re.compile(r.pattern, re.IGNORECASE), r) for r in leads]  # type: ignore[arg-type]

    def add(self, text: str, pos: int, cands: list[Cue]) -> None:
        """Append the cues that start at ``pos`` (in the order the rules are tried: literal, then patterns)."""
        m = self.rx.match(text, pos)
        if m.lastindex is not None:  # type: ignore[union-attr]  (something matched)
            regs = m.regs  # type: ignore[union-attr]
            if self.lit and regs[self.lit][0] >= 0:  # the longest literal here, with every rule that has it
                lm = self.lit_rx.match(text, pos)  # type: ignore[union-attr]
                end = lm.end()  # type: ignore[union-attr]
                for rule in self.lit_rules[lm.lastindex - 1]:  # type: ignore[union-attr, operator]
                    cands.append(Cue(pos, end, rule))
            for g, rule in self.leads:
                a, b = regs[g]
                if b > a:
                    cands.append(Cue(a, b, rule))
        for rx, rule in self.standalone:
            sm = rx.match(text, pos)
            if sm is not None and sm.end() > sm.start():
                cands.append(Cue(sm.start(), sm.end(), rule))


class Matcher:
    r"""Leftmost-longest, non-overlapping matching of all rule phrases.

    Literal rules are indexed by their first token (lower-cased). Pattern rules whose regex starts with a finite
    choice of words (``\b(?:was|were)\s+...``; see :func:`imner.context.lead.lead_words`) are indexed the same
    way by those words, and tried at every word that starts with one (also inside a longer match of the same
    rule, like literal rules); those whose regex starts with a digit after a word boundary, at every word that
    starts with a digit; the others are searched once per text. A sentence costs one dict look-up per token,
    and one regex call where a token is an indexed word: all the rules indexed by that word in one expression
    (:class:`_Entry`, compiled the first time the word is seen).
    """

    def __init__(self, rules: Sequence[ContextRule]) -> None:
        self._literal: dict[str, list[ContextRule]] = {}
        self._lead: dict[str, list[ContextRule]] = {}
        self._digit: list[ContextRule] = []
        self._scanned: list[ContextRule] = []
        for rule in rules:
            if rule.pattern is not None:
                lead = lead_words(rule.pattern)
                if lead is None and rule.pattern[0] in _PUNCT_LEADS:  # ",\s+with": tried at each "," token
                    lead = frozenset(rule.pattern[0])
                if lead is None:
                    self._scanned.append(rule)
                    continue
                for w in lead:
                    if w == DIGIT_LEAD:
                        self._digit.append(rule)
                    else:
                        self._lead.setdefault(w, []).append(rule)
                continue
            first = tokenize(rule.literal)[0].text.lower()
            self._literal.setdefault(first, []).append(rule)
        #: token texts (lower case) where something is tried: a literal's first token, or a lead word where the
        #: token is that whole word (a word, or one punctuation character)
        self._keys = frozenset(self._literal) | {w for w in self._lead if w.isalnum() or len(w) == 1}
        self._entries: dict[str, _Entry] = {}  # word -> its entry, for a token that is the word
        self._part_entries: dict[str, _Entry] = {}  # word -> lead rules only, for a word inside a token
        self._digit_entry: _Entry | None = None
        self._scanned_rx: list[tuple[re.Pattern[str], ContextRule]] | None = None
        self._word_part: re.Pattern[str] | None = None

    @property
    def pattern_rules(self) -> list[tuple[re.Pattern[str], ContextRule]]:
        """The pattern rules searched over the whole text, compiled (on first use)."""
        if self._scanned_rx is None:
            # one regex per scanned rule: each keeps its own first-character optimisation (a joint one loses it)
            self._scanned_rx = [(re.compile(r.pattern, re.IGNORECASE), r) for r in self._scanned]  # type: ignore
        return self._scanned_rx

    def _entry(self, low: str) -> _Entry:
        ent = self._entries.get(low)
        if ent is None:
            leads = self._lead.get(low, []) if low.isalnum() or len(low) == 1 else []
            ent = self._entries[low] = _Entry(self._literal.get(low, []), leads)
        return ent

    def _part_entry(self, word: str) -> _Entry:
        ent = self._part_entries.get(word)
        if ent is None:
            ent = self._part_entries[word] = _Entry([], self._lead[word])
        return ent

    def pattern_cues(self, text: str) -> list[Cue]:
        """Matches of the pattern rules that are searched over the whole text (not indexed by lead words)."""
        if not self._scanned:
            return []
        out = [Cue(m.start(), m.end(), rule) for rx, rule in self.pattern_rules
               for m in rx.finditer(text) if m.end() > m.start()]
        out.sort(key=lambda c: c.start)
        return out

    def cues(self, text: str, tokens: Sequence[Token], extra: Sequence[Cue] = ()) -> list[Cue]:
        """Non-overlapping cues among ``tokens`` (leftmost, then longest, wins); ``extra`` are the
        :meth:`pattern_cues` inside the same stretch of text."""
        cands: list[Cue] = list(extra)
        keys = self._keys
        entries = self._entries
        lead = self._lead
        digit = bool(self._digit)
        for tok in tokens:
            low = tok.text.lower()
            if low in keys:
                ent = entries.get(low)
                (ent if ent is not None else self._entry(low)).add(text, tok.start, cands)
            if low.isalnum() or len(low) == 1:
                if digit and low[0].isdecimal():
                    self._digit_add(text, tok.start, cands)
            else:  # a word may also start inside a token ("non-tender", "step-mother")
                if self._word_part is None:
                    self._word_part = re.compile(_WORD_PART)
                for part in self._word_part.finditer(low):
                    word = part.group()
                    if word in lead:
                        pent = self._part_entries.get(word)
                        (pent if pent is not None else self._part_entry(word)).add(
                            text, tok.start + part.start(), cands)
                    if digit and word[0].isdecimal():
                        self._digit_add(text, tok.start + part.start(), cands)
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

    def _digit_add(self, text: str, pos: int, cands: list[Cue]) -> None:
        if self._digit_entry is None:
            self._digit_entry = _Entry([], self._digit)
        self._digit_entry.add(text, pos, cands)
