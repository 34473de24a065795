r"""Leftmost-longest, non-overlapping matching of all rule phrases in a sentence.

Nothing is compiled when a :class:`Matcher` is built or this module imported: the regular expressions of the
rules that start with a word are compiled the first time a token with that word is seen, one expression per
word (see :class:`Matcher`), and the whole-text ones at the first :meth:`Matcher.pattern_cues`.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from itertools import chain, compress
from typing import Any, Iterable, Sequence

from imner.context.lead import (DIGIT_LEAD, NEXT_EXACT, NEXT_PREFIX, NEXT_SUFFIX, _variants, first_token,
                                follow_chars, lead_words, next_words, packaged_index, word_trie)
from imner.context.rules import LITERAL_SEPARATOR, ContextRule
from imner.text import Token

_WORD_PART = r"[^\W_]+"
#: a pattern starting with one of these literal characters is tried where a token is that character
_PUNCT_LEADS = frozenset(",;:")
#: a pattern that may refer to its own groups by number cannot be joined with others into one expression
_GROUP_REF = r"\\[1-9]|\(\?\("
#: nor one that starts with global inline flags ("(?i)...")
_GLOBAL_FLAGS = r"\(\?[aiLmsux]+\)"


@dataclass(frozen=True, slots=True)
class Cue:
    """A matched rule phrase in a document."""

    start: int
    end: int
    rule: ContextRule


def _literal_alternation(regexes: Sequence[str], rules: Sequence[ContextRule]) -> str:
    """The alternation of literal regexes (one capturing group each, tried in order), with their first word
    read once when they all share it: ``W(?:(R1)|(R2))`` finds the same first alternative as ``(WR1)|(WR2)``
    (``W`` matches one way only), with the same group numbers."""
    words = [r.literal.split() for r in rules]
    first = words[0][0]
    if any(ws[0] != first for ws in words):
        return "|".join(f"({a})" for a in regexes)
    rests = []
    for ws in words:
        body = "".join(LITERAL_SEPARATOR + re.escape(w) for w in ws[1:])
        end = r"(?!\w)" if re.search(r"\w$", ws[-1]) else ""
        rests.append(f"({body}{end})")
    lead = r"(?<!\w)" if re.match(r"\w", first) else ""
    return lead + re.escape(first) + "(?:" + "|".join(rests) + ")"


def _literal_trie(rules: Sequence[ContextRule]) -> str:
    """A regex that matches where one of the literal ``rules``' :meth:`~ContextRule.regex` matches: their
    words as a trie, so that each word is tried once whatever the number of phrases that share it."""
    return word_trie([rule.literal.split() for rule in rules], LITERAL_SEPARATOR, word_bounds=True)


#: a quantifier after an atom (greedy, lazy or possessive)
_QUANTIFIER = r"(?:[*+?]|\{\d*(?:,\d*)?\})[?+]?"


def _class_end(p: str, i: int) -> int | None:
    """The index after the character class that starts at ``p[i] == "["``."""
    k, n = i + 1, len(p)
    if k < n and p[k] == "^":
        k += 1
    if k < n and p[k] == "]":  # a "]" first is literal
        k += 1
    while k < n:
        if p[k] == "\\":
            k += 2
            continue
        if p[k] == "]":
            return k + 1
        k += 1
    return None


def _group_end(p: str, i: int) -> int | None:
    """The index after the group that starts at ``p[i] == "("``."""
    depth, k, n = 0, i, len(p)
    while k < n:
        c = p[k]
        if c == "\\":
            k += 2
            continue
        if c == "[":
            e = _class_end(p, k)
            if e is None:
                return None
            k = e
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return k + 1
        k += 1
    return None


def _top_items(pattern: str) -> list[str] | None:
    """The pattern as the sequence of its top-level parts (an atom with its quantifier: a character, an
    escape, a class, a group), whose concatenation it is; ``None`` where it is not simply a sequence (a
    top-level ``|``) or has something this small reader does not split safely (comments, verbose mode,
    multi-character escapes)."""
    if "(?#" in pattern or re.match(r"\(\?[a-zA-Z]*x", pattern):
        return None
    items: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n or pattern[i + 1].isdigit() or pattern[i + 1] in "xuUNg":
                return None
            j: int | None = i + 2
        elif c == "[":
            j = _class_end(pattern, i)
        elif c == "(":
            j = _group_end(pattern, i)
        elif c in "|*+?{)":
            return None
        else:
            j = i + 1
        if j is None:
            return None
        q = re.compile(_QUANTIFIER).match(pattern, j)
        if q is not None:
            j = q.end()
        items.append(pattern[i:j])
        i = j
    return items


def _pattern_trie(patterns: Sequence[str]) -> str:
    """A regex that matches where one of ``patterns`` matches: their top-level parts as a trie, so that a
    part they begin with alike is tried once (``A(?:B|C)`` matches where ``AB`` or ``AC`` does)."""
    trie: dict[str, Any] = {}
    for p in patterns:
        node = trie
        for item in _top_items(p) or [f"(?:{p})"]:
            node = node.setdefault(item, {})
        node[""] = {}  # a pattern ends here

    def alternation(node: dict[str, Any]) -> str:
        return "|".join(item + (f"(?:{alternation(child)})" if any(child) else "") if item else ""
                        for item, child in node.items())

    return alternation(trie)


class _LazyScreen:
    """An entry's screen before its first use: compiles it, puts it in the entry's place, and answers."""

    __slots__ = ("entry", "source")

    def __init__(self, entry: _Entry, source: str) -> None:
        self.entry = entry
        self.source = source

    def match(self, text: str, pos: int) -> Any:
        try:
            screen = re.compile(self.source, re.IGNORECASE)
        except re.error:  # no screen: every token with the word goes on to the exact matches
            self.entry.screen = None
            return True
        self.entry.screen = screen
        return screen.match(text, pos)


class _Entry:
    """What to try where a token (or a word inside one) is one given word, compiled on first use.

    ``screen`` matches where any of the entry's phrases or patterns does (the literal phrases as a trie of
    words, the patterns as a trie of their top-level parts, so that what they share is read once): most tokens
    stop there. Where it matches, ``lit_rx`` (the literal rules' alternation, longest literal first, one
    capturing group per alternative naming the rules with that regex) gives the longest phrase, and ``rx``
    the pattern rules' matches: it always matches, with zero width, one optional look-ahead per pattern, each a
    capturing group (``(?:(?=(P))|)``), so one call says which of them match there and where each match
    ends, as ``P.match`` alone would (a look-ahead finds the same first match as a match at that position);
    ``leads`` are ``(group, rule)``, in rule order. ``standalone``: ``(regex, rule)`` tried one by one
    instead, when the patterns cannot be joined (a pattern with group references or global inline flags)."""

    __slots__ = ("screen", "pattern_screen", "rx", "lit_rx", "lit_rules", "leads", "standalone", "_sources", "follow",
                 "next")

    def __init__(self, literal: Sequence[ContextRule], leads: Sequence[ContextRule]) -> None:
        self.lit_rx: re.Pattern[str] | None = None
        self.lit_rules: list[tuple[ContextRule, ...]] = []
        self.rx: re.Pattern[str] | None = None
        self.pattern_screen: re.Pattern[str] | None = None
        self.leads: list[tuple[int, ContextRule]] = []
        self.standalone: list[tuple[re.Pattern[str], ContextRule]] = []
        #: where the entry is a whole token: the characters the first non-white-space character after it can be
        #: in a match of any of its phrases or patterns (``None``: not worked out, always try the screen)
        self.follow: frozenset[str] | None = None
        #: where the entry is a whole token: what the next word (the run of word characters after the white space
        #: and hyphens that follow the token) must be in a match of any of its phrases or patterns, and the
        #: entries of those that allow a given next word (``None``: not worked out); see :class:`_Next`
        self.next: _Next | None = None
        screen: list[str] = []
        lit_src = rx_src = pattern_screen = None
        if literal:
            group = sorted(literal, key=lambda r: -len(r.literal))
            alternatives: dict[str, list[ContextRule]] = {}
            for rule in group:
                alternatives.setdefault(rule.regex(), []).append(rule)
            self.lit_rules = [tuple(rs) for rs in alternatives.values()]
            lit_src = _literal_alternation(list(alternatives), [rs[0] for rs in self.lit_rules])
            screen.append(_literal_trie(group))
        standalone: list[ContextRule] = []
        if leads:
            if any(re.search(_GROUP_REF, r.pattern) or re.match(_GLOBAL_FLAGS, r.pattern)  # type: ignore
                   for r in leads):
                standalone = list(leads)  # patterns that do not combine: each on its own
            else:
                rx_src = "".join(f"(?:(?=(?P<p{k}>{r.pattern}))|)" for k, r in enumerate(leads))
                pattern_screen = _pattern_trie([r.pattern for r in leads])  # type: ignore[misc]
                screen.append(pattern_screen)
        # only the screen is compiled now; the rest where the screen first matches
        self._sources: tuple[str | None, str | None, str | None, list[ContextRule], list[ContextRule]] | None = \
            (lit_src, rx_src, pattern_screen if literal and rx_src is not None else None, list(leads), standalone)
        # the screen, compiled where it is first tried (a word whose next-word check sends every token to the
        # entries of fewer rules never compiles its own)
        self.screen: re.Pattern[str] | _LazyScreen | None = \
            _LazyScreen(self, "|".join(f"(?:{a})" for a in screen)) if screen else None
        if standalone:
            self._compile()

    def _compile(self) -> None:
        lit_src, rx_src, pattern_screen, leads, standalone = self._sources  # type: ignore[misc]
        self._sources = None
        # where the entry has both, the patterns' own screen: a literal phrase matched does not say a pattern did
        self.pattern_screen = re.compile(pattern_screen, re.IGNORECASE) if pattern_screen is not None else None
        if lit_src is not None:
            self.lit_rx = re.compile(lit_src, re.IGNORECASE)
        if rx_src is not None:
            try:
                rx = re.compile(rx_src, re.IGNORECASE)
                self.rx = rx
                self.leads = [(rx.groupindex[f"p{k}"], r) for k, r in enumerate(leads)]
            except re.error:  # a pattern that does not combine after all: each on its own
                standalone = leads
        self.standalone = [(re.compile(r.pattern, re.IGNORECASE), r) for r in standalone]  # type: ignore

    def add(self, text: str, pos: int, cands: list[Cue]) -> None:
        """Append the cues that start at ``pos`` (in the order the rules are tried: literal, then patterns)."""
        if self.screen is None or self.screen.match(text, pos) is not None:
            self.exact(text, pos, cands)
        elif self.standalone:
            self.add_standalone(text, pos, cands)

    def exact(self, text: str, pos: int, cands: list[Cue]) -> None:
        """:meth:`add` where the screen matched."""
        if self._sources is not None:
            self._compile()
        if self.lit_rx is not None:
            lm = self.lit_rx.match(text, pos)
            if lm is not None:  # the longest literal here, with every rule that has it
                end = lm.end()
                for rule in self.lit_rules[lm.lastindex - 1]:  # type: ignore[operator]
                    cands.append(Cue(pos, end, rule))
        if self.rx is not None and (self.pattern_screen is None or self.pattern_screen.match(text, pos) is not None):
            m = self.rx.match(text, pos)
            if m.lastindex is not None:  # type: ignore[union-attr]  (a pattern matched)
                regs = m.regs  # type: ignore[union-attr]
                for g, rule in self.leads:
                    a, b = regs[g]
                    if b > a:
                        cands.append(Cue(a, b, rule))
        if self.standalone:
            self.add_standalone(text, pos, cands)

    def add_standalone(self, text: str, pos: int, cands: list[Cue]) -> None:
        for rx, rule in self.standalone:
            sm = rx.match(text, pos)
            if sm is not None and sm.end() > sm.start():
                cands.append(Cue(sm.start(), sm.end(), rule))


_FOLLOW_CACHE: dict[str, dict[str, frozenset[str]] | None] = {}


def _follow(word: str, literal: Sequence[ContextRule], leads: Sequence[ContextRule]) -> frozenset[str] | None:
    """:attr:`_Entry.follow` of the entry of ``word``: for a literal phrase, a hyphen or its second word's first
    letter (a one-word phrase matches alone: ``None``); for a pattern, :func:`~imner.context.lead.follow_chars`."""
    chars: set[str] = set()
    for rule in literal:
        words = rule.literal.split()
        if len(words) < 2 or words[0].lower() != word:
            return None
        v = _variants(words[1][0])
        if v is None:
            return None
        chars |= v
        chars.add("-")
    known = packaged_index()["follow"]
    for rule in leads:
        pattern = rule.pattern
        if pattern not in _FOLLOW_CACHE:
            if pattern in known:  # worked out beforehand for the packaged rules
                k = known[pattern]
                _FOLLOW_CACHE[pattern] = None if k is None else {w: frozenset(c) for w, c in k.items()}
            else:
                _FOLLOW_CACHE[pattern] = follow_chars(pattern)  # type: ignore[arg-type]
        found = _FOLLOW_CACHE[pattern]  # type: ignore[index]
        if found is None or word not in found:
            return None
        chars |= found[word]
    return frozenset(chars) if chars else None


_NEXT_CACHE: dict[str, dict[str, list[str]] | None] = {}
#: at most this many next words remembered per entry (:attr:`_Next.entries`); others are worked out each time
_NEXT_WORDS_KEPT = 4096

_Conditions = tuple[frozenset[str], tuple[str, ...], tuple[str, ...], int]


def _conditions(conds: Iterable[str]) -> _Conditions:
    """:func:`~imner.context.lead.next_words`' conditions as ``(words, starts, endings, n)``."""
    conds = set(conds)
    endings = tuple(sorted(c[1:] for c in conds if c[0] == NEXT_SUFFIX))
    return (frozenset(c[1:] for c in conds if c[0] == NEXT_EXACT),
            tuple(sorted(c[1:] for c in conds if c[0] == NEXT_PREFIX)), endings, min(map(len, endings), default=0))


def _admits(conds: _Conditions, w: str) -> bool:
    """Whether the next word ``w`` (lower case ASCII) meets one of ``conds``: one of the words, or a word that
    starts so, or one longer than ``n`` that ends so."""
    return w in conds[0] or w.startswith(conds[1]) or (w.endswith(conds[2]) and len(w) > conds[3])


class _Next:
    """What the next word after a token that is an entry's word must be for any of the entry's phrases or
    patterns to match there (the run of word characters after the white space and hyphens that follow the
    token; see :func:`~imner.context.lead.next_words`), and, for each next word that some of them allow, an
    entry of those alone (:meth:`entry`): its screen and expressions are much smaller than the whole word's
    (a phrase or pattern left out cannot match where the next word is not one it allows, so the cues found,
    and their order, are the same)."""

    __slots__ = ("conds", "literal", "leads", "entries", "_subsets")

    def __init__(self, literal: Sequence[tuple[ContextRule, _Conditions]],
                 leads: Sequence[tuple[ContextRule, _Conditions]]) -> None:
        self.literal = tuple(literal)
        self.leads = tuple(leads)
        every = [c for _, c in chain(literal, leads)]
        #: the conditions of all of them together
        self.conds: _Conditions = (frozenset().union(*(c[0] for c in every)), tuple(sorted({s for c in every for s in c[1]})),
                                   tuple(sorted({s for c in every for s in c[2]})),
                                   min((c[3] for c in every if c[2]), default=0))
        self.entries: dict[str, _Entry | None] = {}  # next word -> the entry of what it allows (None: nothing)
        self._subsets: dict[tuple[tuple[int, ...], tuple[int, ...]], _Entry] = {}

    def entry(self, w: str) -> _Entry | None:
        """The entry of the phrases and patterns that allow the next word ``w`` (lower case ASCII); ``None``
        where none does."""
        ent = self.entries.get(w, False)
        if ent is not False:
            return ent  # type: ignore[return-value]
        ent = None
        if _admits(self.conds, w):
            lits = tuple(k for k, (_, c) in enumerate(self.literal) if _admits(c, w))
            leads = tuple(k for k, (_, c) in enumerate(self.leads) if _admits(c, w))
            key = (lits, leads)
            ent = self._subsets.get(key)
            if ent is None:
                ent = self._subsets[key] = _Entry([self.literal[k][0] for k in lits],
                                                  [self.leads[k][0] for k in leads])
        if len(self.entries) < _NEXT_WORDS_KEPT:
            self.entries[w] = ent
        return ent


def _next(word: str, literal: Sequence[ContextRule], leads: Sequence[ContextRule]) -> _Next | None:
    """:attr:`_Entry.next` of the entry of ``word``: for a literal phrase, its second word (a one-word phrase
    matches alone: ``None``); for a pattern, :func:`~imner.context.lead.next_words`."""
    if re.fullmatch(r"\w+", word) is None:
        return None
    lit_conds = []
    for rule in literal:
        words = rule.literal.split()
        if len(words) < 2 or words[0].lower() != word:
            return None
        second = re.match(r"\w*", words[1]).group()  # type: ignore[union-attr]
        if not second or not second.isascii():  # (a non-ASCII letter would be read as part of the word)
            return None
        # the phrase goes on with a separator or a non-word character
        lit_conds.append((rule, _conditions([NEXT_EXACT + second.lower()])))
    known = packaged_index()["next"]
    lead_conds = []
    for rule in leads:
        pattern = rule.pattern
        if pattern not in _NEXT_CACHE:
            if pattern in known:  # worked out beforehand for the packaged rules
                k = known[pattern]
                _NEXT_CACHE[pattern] = None if k is None else {w: c.split() for w, c in k.items()}
            else:
                _NEXT_CACHE[pattern] = next_words(pattern)  # type: ignore[arg-type]
        found = _NEXT_CACHE[pattern]  # type: ignore[index]
        if found is None or word not in found or not found[word]:
            return None
        conds = _conditions(found[word])
        if "" in conds[1]:
            return None
        lead_conds.append((rule, conds))
    if not (lit_conds or lead_conds):
        return None
    return _Next(lit_conds, lead_conds)


#: the next word after a token: white space and hyphens, then a run of word characters
_NEXT_WORD: list[re.Pattern[str]] = []


def _next_word() -> re.Pattern[str]:
    if not _NEXT_WORD:
        _NEXT_WORD.append(re.compile(r"[\s\-]*(\w+)"))
    return _NEXT_WORD[0]


class _Index:
    """The rules of one kind indexed by the word they start with (see :class:`Matcher`)."""

    def __init__(self, rules: Sequence[ContextRule]) -> None:
        self.rules = tuple(rules)
        self.literal: dict[str, list[ContextRule]] = {}
        self.lead: dict[str, list[ContextRule]] = {}
        self.digit: list[ContextRule] = []
        self.scanned: list[ContextRule] = []
        known = packaged_index()
        known_lead, known_first = known["lead"], known["first"]
        for rule in rules:
            if rule.pattern is not None:
                if rule.pattern in known_lead:
                    words = known_lead[rule.pattern]
                    lead = None if words is None else frozenset(words)
                else:
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
            first = known_first.get(rule.literal)
            if first is None:
                first = first_token(rule.literal)
            self.literal.setdefault(first, []).append(rule)
        #: token texts (lower case) where something is tried: a literal's first token, or a lead word where the
        #: token is that whole word (a word, or one punctuation character)
        self.keys = frozenset(self.literal) | {w for w in self.lead if w.isalnum() or len(w) == 1}
        self.entries: dict[str, _Entry] = {}  # word -> its entry, for a token that is the word
        self.part_entries: dict[str, _Entry] = {}  # word -> lead rules only, for a word inside a token
        self.digit_entry: _Entry | None = None
        self.scanned_rx: list[tuple[re.Pattern[str], ContextRule]] | None = None
        self._part_screen: re.Pattern[str] | None | bool = False  # compiled on first use

    def entry(self, low: str) -> _Entry:
        ent = self.entries.get(low)
        if ent is None:
            leads = self.lead.get(low, []) if low.isalnum() or len(low) == 1 else []
            lits = self.literal.get(low, [])
            ent = self.entries[low] = _Entry(lits, leads)
            if not ent.standalone:
                ent.follow = _follow(low, lits, leads)
                ent.next = _next(low, lits, leads)
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

    def part_screen(self) -> re.Pattern[str] | None:
        """A regex that finds, in a token's lower-case text, a word part (a run of letters and digits) that is a
        lead word, as the loop over the parts would; ``None`` when no lead word can be a part."""
        if self._part_screen is False:
            words = sorted((w for w in self.lead if re.fullmatch(_WORD_PART, w)), key=lambda w: (-len(w), w))
            self._part_screen = re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, words)) + r")(?![^\W_])") \
                if words else None
        return self._part_screen  # type: ignore[return-value]

    def pattern_rules(self) -> list[tuple[re.Pattern[str], ContextRule]]:
        if self.scanned_rx is None:
            # one regex per scanned rule: each keeps its own first-character optimisation (a joint one loses it)
            self.scanned_rx = [(re.compile(r.pattern, re.IGNORECASE), r) for r in self.scanned]  # type: ignore
        return self.scanned_rx

    def candidates(self, text: str, tokens: Sequence[Token], lows: Sequence[str], cands: list[Cue]) -> list[Cue]:
        """Append to ``cands`` every match of these rules that starts at a token (or a word inside one);
        ``lows``: the tokens' texts in lower case."""
        keys = self.keys
        entries = self.entries
        next_word = _next_word().match
        # the tokens that are an indexed word (most tokens stop at the entry's screen)
        for low, tok in compress(zip(lows, tokens), map(keys.__contains__, lows)):
            ent = entries.get(low) or self.entry(low)
            follow = ent.follow
            if follow is not None:  # the first character after the word and one space: none of the phrases
                j = tok.end         # or patterns of the word goes on with it, so none matches here
                c = text[j:j + 1]
                if c == " ":
                    c = text[j + 1:j + 2]
                    if c not in follow and not c.isspace():
                        continue
                elif c not in follow and not (c.isspace() or c.isalnum() or c == "_"):
                    continue
            nxt = ent.next
            if nxt is not None:  # the next word: none of the phrases or patterns of the word goes on with it
                j = tok.end
                m = next_word(text, j)
                if m is None:  # no word follows (after white space and hyphens): nothing matches here
                    continue
                w = m.group(1)
                if m.start(1) > j and w.isascii():  # (a word character right after the token: not worked out)
                    w = w.lower()
                    sub = nxt.entries.get(w, False)
                    if sub is False:
                        if not _admits(nxt.conds, w):
                            continue
                        sub = nxt.entry(w)
                    if sub is None:
                        continue
                    ent = sub  # the phrases and patterns that allow this next word, alone
            screen = ent.screen
            if screen is None or screen.match(text, tok.start) is not None:
                ent.exact(text, tok.start, cands)
            elif ent.standalone:
                ent.add_standalone(text, tok.start, cands)
        lead = self.lead
        digit = bool(self.digit)
        if not (digit or lead):
            return cands
        # then the tokens where a digit-led pattern or a word inside the token may start: a token that starts
        # with a digit, or one of several characters not all letters or digits ("non-tender", "HIV-1"); the
        # cues of one token stay in the order the rules are tried (only cues at one place are ever compared)
        part_screen = None if digit else self.part_screen()
        for low, tok in compress(zip(lows, tokens), map(operator.not_, map(str.isalpha if digit else str.isalnum,
                                                                              lows))):
            if low.isalnum() or len(low) == 1:
                if digit and low[0].isdecimal():
                    self.digit_add(text, tok.start, cands)
            elif digit or (part_screen is not None and part_screen.search(low) is not None):
                for part in _word_part().finditer(low):
                    word = part.group()
                    if word in lead:
                        (self.part_entries.get(word) or self.part_entry(word)).add(text, tok.start + part.start(),
                                                                                  cands)
                    if digit and word[0].isdecimal():
                        self.digit_add(text, tok.start + part.start(), cands)
        return cands


_WORD_PART_RX: list[re.Pattern[str]] = []


def _word_part() -> re.Pattern[str]:
    if not _WORD_PART_RX:
        _WORD_PART_RX.append(re.compile(_WORD_PART))
    return _WORD_PART_RX[0]


def is_trigger(rule: ContextRule) -> bool:
    """Whether a rule sets an attr where it matches (a pseudo rule does on the entities inside it)."""
    return rule.direction != "terminate" and rule.flag is not None


class Matcher:
    r"""Leftmost-longest, non-overlapping matching of all rule phrases.

    Literal rules are indexed by their first token (lower-cased). Pattern rules whose regex starts with a finite
    choice of words (``\b(?:was|were)\s+...``; see :func:`imner.context.lead.lead_words`) are indexed the same
    way by those words, and tried at every word that starts with one (also inside a longer match of the same
    rule, like literal rules); those whose regex starts with a digit after a word boundary, at every word that
    starts with a digit; the others are searched once per text. A sentence costs one dict look-up per token,
    and one regex call where a token is an indexed word: all the rules indexed by that word in one expression
    (:class:`_Entry`, compiled the first time the word is seen).

    The triggers (the rules that set an attr: forward, backward, bidirectional, and pseudo rules with a
    category) have an index of their own, apart from the others (termination phrases, pseudo rules without a
    category): those can only hide triggers, never add one, so a sentence in which no trigger matches needs
    no more (:meth:`candidates`; :class:`~imner.context.scope.ContextAnnotator` does so).
    """

    def __init__(self, rules: Sequence[ContextRule]) -> None:
        self._trig = _Index([r for r in rules if is_trigger(r)])
        self._rest = _Index([r for r in rules if not is_trigger(r)])

    @property
    def pattern_rules(self) -> list[tuple[re.Pattern[str], ContextRule]]:
        """The pattern rules searched over the whole text, compiled (on first use)."""
        return self._trig.pattern_rules() + self._rest.pattern_rules()

    def pattern_cues(self, text: str) -> list[Cue]:
        """Matches of the pattern rules that are searched over the whole text (not indexed by lead words)."""
        if not (self._trig.scanned or self._rest.scanned):
            return []
        out = [Cue(m.start(), m.end(), rule) for rx, rule in self.pattern_rules
               for m in rx.finditer(text) if m.end() > m.start()]
        out.sort(key=lambda c: c.start)
        return out

    def candidates(self, text: str, tokens: Sequence[Token], extra: Sequence[Cue] = (), *, triggers: bool,
                   lows: Sequence[str] | None = None) -> list[Cue]:
        """Every match among ``tokens`` of the triggers (``triggers=True``: the rules that set an attr) or of
        the other rules, with those of ``extra`` (:meth:`pattern_cues` in the same stretch of text) of the same
        kind; overlapping. :meth:`resolve` the two lists joined to get :meth:`cues`. ``lows``: the tokens'
        texts in lower case, when the caller has them."""
        cands = [c for c in extra if is_trigger(c.rule) == triggers]
        if lows is None:
            lows = [t.text.lower() for t in tokens]
        return (self._trig if triggers else self._rest).candidates(text, tokens, lows, cands)

    def cues(self, text: str, tokens: Sequence[Token], extra: Sequence[Cue] = ()) -> list[Cue]:
        """Non-overlapping cues among ``tokens`` (leftmost, then longest, wins); ``extra`` are the
        :meth:`pattern_cues` inside the same stretch of text."""
        lows = [t.text.lower() for t in tokens]
        return self.resolve(self.candidates(text, tokens, extra, triggers=True, lows=lows)
                            + self.candidates(text, tokens, extra, triggers=False, lows=lows))

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
