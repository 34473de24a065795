r"""Leftmost-longest, non-overlapping matching of all rule phrases in a sentence.

Nothing is compiled when a :class:`Matcher` is built or this module imported: the regular expressions of the
rules that start with a word are compiled the first time a token with that word is seen, one expression per
word (see :class:`Matcher`), and the whole-text ones at the first :meth:`Matcher.pattern_cues`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from imner.context.lead import DIGIT_LEAD, lead_words
from imner.context.rules import LITERAL_SEPARATOR, ContextRule
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


def _literal_trie(rules: Sequence[ContextRule]) -> str:
    """A regex that matches where one of the literal ``rules``' :meth:`~ContextRule.regex` matches: their
    words as a trie, so that each word is tried once whatever the number of phrases that share it."""
    trie: dict[str, Any] = {}
    for rule in rules:
        node = trie
        for w in rule.literal.split():
            node = node.setdefault(w, {})
        node[""] = {}  # a phrase ends here

    def alternation(node: dict[str, Any]) -> str:
        alts = []
        for w, child in node.items():
            if not w:
                continue
            rest = [LITERAL_SEPARATOR + f"(?:{alternation(child)})"] if any(child) else []
            if "" in child:  # a phrase ends with this word
                rest.append(r"(?!\w)" if re.search(r"\w$", w) else "")
            alts.append(re.escape(w) + (f"(?:{'|'.join(rest)})" if rest != [""] else ""))
        return "|".join(alts)

    return "|".join((r"(?<!\w)" if re.match(r"\w", w) else "") + f"(?:{alternation({w: child})})"
                    for w, child in trie.items())


class _Entry:
    """What to try where a token (or a word inside one) is one given word, compiled on first use.

    ``rx`` always matches, with zero width: one optional look-ahead per thing to try, each a capturing group
    (``(?:(?=(P))|)``), so one call says which of them match there and where each match ends, as
    ``P.match`` alone would (a look-ahead finds the same first match as a match at that position). Group
    ``lit`` is the literal rules' alternation; ``leads`` are ``(group, rule)`` of the pattern rules, in rule
    order. ``standalone``: ``(regex, rule)`` tried one by one instead, when the patterns cannot be joined (a
    pattern with group references or global inline flags)."""

    __slots__ = ("rx", "lit", "lit_src", "lit_rx", "lit_rules", "leads", "standalone")

    def __init__(self, literal: Sequence[ContextRule], leads: Sequence[ContextRule]) -> None:
        self.lit = 0
        self.lit_src = ""
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
            self.lit_src = "|".join(f"({a})" for a in alternatives)
            self.lit_rules = [tuple(rs) for rs in alternatives.values()]
            # whether one of them matches is asked of the same phrases as a trie (a shared first word is read
            # once, not once per phrase); which one, of the alternation above, only where one does
            parts.append(f"(?:(?=(?P<l>{_literal_trie(group)}))|)")
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
                if self.lit_rx is None:
                    self.lit_rx = re.compile(self.lit_src, re.IGNORECASE)
                lm = self.lit_rx.match(text, pos)
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


class _Index:
    """The rules of one kind indexed by the word they start with (see :class:`Matcher`)."""

    def __init__(self, rules: Sequence[ContextRule]) -> None:
        self.rules = tuple(rules)
        self.literal: dict[str, list[ContextRule]] = {}
        self.lead: dict[str, list[ContextRule]] = {}
        self.digit: list[ContextRule] = []
        self.scanned: list[ContextRule] = []
        for rule in rules:
            if rule.pattern is not None:
                lead = lead_words(rule.pattern)
                if lead is None and rule.pattern[0] in _PUNCT_LEADS:  # ",\s+with": tried at each "," token
                    lead = frozenset(rule.pattern[0])
                if lead is None:
                    self.scanned.append(rule)
                    continue
                for w in lead:
                    if w == DIGIT_LEAD:
                        self.digit.append(rule)
                    else:
                        self.lead.setdefault(w, []).append(rule)
                continue
            first = tokenize(rule.literal)[0].text.lower()
            self.literal.setdefault(first, []).append(rule)
        #: token texts (lower case) where something is tried: a literal's first token, or a lead word where the
        #: token is that whole word (a word, or one punctuation character)
        self.keys = frozenset(self.literal) | {w for w in self.lead if w.isalnum() or len(w) == 1}
        self.entries: dict[str, _Entry] = {}  # word -> its entry, for a token that is the word
        self.part_entries: dict[str, _Entry] = {}  # word -> lead rules only, for a word inside a token
        self.digit_entry: _Entry | None = None
        self.scanned_rx: list[tuple[re.Pattern[str], ContextRule]] | None = None

    def entry(self, low: str) -> _Entry:
        ent = self.entries.get(low)
        if ent is None:
            leads = self.lead.get(low, []) if low.isalnum() or len(low) == 1 else []
            ent = self.entries[low] = _Entry(self.literal.get(low, []), leads)
        return ent

    def part_entry(self, word: str) -> _Entry:
        ent = self.part_entries.get(word)
        if ent is None:
            ent = self.part_entries[word] = _Entry([], self.lead[word])
        return ent

    def digit_add(self, text: str, pos: int, cands: list[Cue]) -> None:
        if self.digit_entry is None:
            self.digit_entry = _Entry([], self.digit)
        self.digit_entry.add(text, pos, cands)

    def pattern_rules(self) -> list[tuple[re.Pattern[str], ContextRule]]:
        if self.scanned_rx is None:
            # one regex per scanned rule: each keeps its own first-character optimisation (a joint one loses it)
            self.scanned_rx = [(re.compile(r.pattern, re.IGNORECASE), r) for r in self.scanned]  # type: ignore
        return self.scanned_rx

    def candidates(self, text: str, tokens: Sequence[Token], lows: Sequence[str], cands: list[Cue]) -> list[Cue]:
        """Append to ``cands`` every match of these rules that starts at a token (or a word inside one);
        ``lows``: the tokens' texts in lower case."""
        keys = self.keys
        lead = self.lead
        digit = bool(self.digit)
        # only the tokens where something can start: an indexed word, a token that starts with a digit (where
        # digit-led patterns are), or one of several characters not all letters or digits (a word may start
        # inside it); a word that is not a key, or one punctuation character that is not, starts nothing
        if digit:
            where = [i for i, low in enumerate(lows) if low in keys or not low.isalpha() and (
                low[0].isdecimal() or len(low) > 1 and not low.isalnum())]
        elif lead:
            where = [i for i, low in enumerate(lows) if low in keys or len(low) > 1 and not low.isalnum()]
        else:
            where = [i for i, low in enumerate(lows) if low in keys]
        for i in where:
            low = lows[i]
            start = tokens[i].start
            if low in keys:
                ent = self.entries.get(low)
                (ent if ent is not None else self.entry(low)).add(text, start, cands)
            if low.isalnum() or len(low) == 1:
                if digit and low[0].isdecimal():
                    self.digit_add(text, start, cands)
            else:  # a word may also start inside a token ("non-tender", "step-mother")
                for part in _word_part().finditer(low):
                    word = part.group()
                    if word in lead:
                        pent = self.part_entries.get(word)
                        (pent if pent is not None else self.part_entry(word)).add(text, start + part.start(), cands)
                    if digit and word[0].isdecimal():
                        self.digit_add(text, start + part.start(), cands)
        return cands


_WORD_PART_RX: list[re.Pattern[str]] = []


def _word_part() -> re.Pattern[str]:
    if not _WORD_PART_RX:
        _WORD_PART_RX.append(re.compile(_WORD_PART))
    return _WORD_PART_RX[0]


class Matcher:
    r"""Leftmost-longest, non-overlapping matching of all rule phrases.

    Literal rules are indexed by their first token (lower-cased). Pattern rules whose regex starts with a finite
    choice of words (``\b(?:was|were)\s+...``; see :func:`imner.context.lead.lead_words`) are indexed the same
    way by those words, and tried at every word that starts with one (also inside a longer match of the same
    rule, like literal rules); those whose regex starts with a digit after a word boundary, at every word that
    starts with a digit; the others are searched once per text. A sentence costs one dict look-up per token,
    and one regex call where a token is an indexed word: all the rules indexed by that word in one expression
    (:class:`_Entry`, compiled the first time the word is seen).

    The termination rules have an index of their own (:meth:`candidates` with ``terminate=True``), so that a
    sentence without a trigger can skip them (:class:`~imner.context.scope.ContextAnnotator` does).
    """

    def __init__(self, rules: Sequence[ContextRule]) -> None:
        self._trig = _Index([r for r in rules if r.direction != "terminate"])
        self._term = _Index([r for r in rules if r.direction == "terminate"])

    @property
    def pattern_rules(self) -> list[tuple[re.Pattern[str], ContextRule]]:
        """The pattern rules searched over the whole text, compiled (on first use)."""
        return self._trig.pattern_rules() + self._term.pattern_rules()

    def pattern_cues(self, text: str) -> list[Cue]:
        """Matches of the pattern rules that are searched over the whole text (not indexed by lead words)."""
        if not (self._trig.scanned or self._term.scanned):
            return []
        out = [Cue(m.start(), m.end(), rule) for rx, rule in self.pattern_rules
               for m in rx.finditer(text) if m.end() > m.start()]
        out.sort(key=lambda c: c.start)
        return out

    def candidates(self, text: str, tokens: Sequence[Token], extra: Sequence[Cue] = (), *, terminate: bool,
                   lows: Sequence[str] | None = None) -> list[Cue]:
        """Every match among ``tokens`` of the termination rules (``terminate=True``) or of the others, with
        those of ``extra`` (:meth:`pattern_cues` in the same stretch of text) of the same kind; overlapping.
        :meth:`resolve` the two lists joined to get :meth:`cues`. ``lows``: the tokens' texts in lower case,
        when the caller has them."""
        cands = [c for c in extra if (c.rule.direction == "terminate") == terminate]
        if lows is None:
            lows = [t.text.lower() for t in tokens]
        return (self._term if terminate else self._trig).candidates(text, tokens, lows, cands)

    def cues(self, text: str, tokens: Sequence[Token], extra: Sequence[Cue] = ()) -> list[Cue]:
        """Non-overlapping cues among ``tokens`` (leftmost, then longest, wins); ``extra`` are the
        :meth:`pattern_cues` inside the same stretch of text."""
        lows = [t.text.lower() for t in tokens]
        return self.resolve(self.candidates(text, tokens, extra, terminate=False, lows=lows)
                            + self.candidates(text, tokens, extra, terminate=True, lows=lows))

    @staticmethod
    def resolve(cands: list[Cue]) -> list[Cue]:
        """The non-overlapping cues among candidates: a pseudo phrase hides every phrase it overlaps, then
        leftmost, then longest, wins (every rule of the same phrase is kept)."""
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
