"""Assertion status of entity mentions: a ConText/NegEx-style algorithm in pure Python.

For every entity span of a :class:`~imner.types.Document` the :class:`ContextAnnotator` decides four
booleans and writes them as flat span attrs:

``negated``
    the finding is said to be absent ("no fever", "X was ruled out");
``uncertain``
    possible or hypothetical ("suspected TB", "rule out sepsis", "prophylaxis against PCP");
``historical``
    in the patient's past ("history of TB", "previous hepatitis B");
``family``
    experienced by a relative, not the patient ("his mother had lupus").

Rules are data (``resources/context_rules.json``), with keys modelled on medspaCy's ``ConTextRule``:

* ``literal`` (required): the trigger phrase; spaces match any run of white space or a hyphen;
* ``direction`` (required): ``forward`` (modifies what follows), ``backward`` (what precedes),
  ``bidirectional``, ``terminate`` (ends the scope of other triggers) or ``pseudo`` (a phrase that
  contains a trigger but is not one, e.g. "no increase", "gram negative": it wins over the trigger);
* ``category``: ``NEGATED_EXISTENCE``, ``POSSIBLE_EXISTENCE``, ``HYPOTHETICAL`` (both give
  ``uncertain``), ``HISTORICAL``, ``FAMILY``; required for triggers; on a ``terminate`` rule it limits the
  termination to that category (absent: all categories); on a ``pseudo`` rule (optional) it is given to an
  entity that lies inside the phrase after its first word: the phrase "did not regress" does not negate
  "the mass" it is about, but it does negate the event "[regress]" annotated inside it;
* ``pattern`` (optional): a Python regular expression used instead of the literal (matched
  case-insensitively; add your own ``\\b``);
* ``max_scope`` (optional): scope limit in words (punctuation not counted) on each side, overriding the
  annotator's default;
* ``allowed_types`` / ``excluded_types`` (optional): entity labels the trigger may / may not modify;
* ``within_entity`` (optional, default true): whether the trigger modifies an entity it lies inside.
  Function words do ("[no regular medication]" is negated); content words such as "absence of", "unable to"
  or "resolution of" inside an entity name the finding itself ("[absence of appetite]" is present);
* ``metadata`` (optional): free-form notes, ignored.

Scope policy
    A trigger's scope stays within its sentence (:func:`imner.text.split_sentences`). It runs from the
    trigger, in its direction, up to the nearest termination phrase applicable to its category, the
    sentence boundary, or ``max_scope`` words, whichever comes first (a termination phrase inside an entity,
    as in "source of bleeding", is ignored; an entity counts as one word, so a list of long findings stays in
    scope). Other entities do **not** end a
    scope, so "no fever, chills or cough" negates all three. A trigger that lies inside an entity
    ("[no regular medication]") modifies that entity too. Phrases are matched leftmost-longest without
    overlap, so "no history of" (negation) beats "history of" (historical), and a pseudo-trigger hides every
    trigger it overlaps.

Spans whose label is in ``skip_labels`` (by default the modifier classes ANATOMY, LAB_VALUE, SEVERITY and
TEMPORAL, which carry no assertion of their own) are returned unchanged, without the four keys.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from imner.config import RESOURCES
from imner.errors import ConfigError
from imner.text import Token, sentences_with_tokens, tokenize
from imner.types import Document, Span

FLAGS: tuple[str, ...] = ("negated", "uncertain", "historical", "family")
#: rule category -> the span attr it sets
CATEGORY_FLAGS: dict[str, str] = {
    "NEGATED_EXISTENCE": "negated",
    "POSSIBLE_EXISTENCE": "uncertain",
    "HYPOTHETICAL": "uncertain",
    "HISTORICAL": "historical",
    "FAMILY": "family",
}
DIRECTIONS: tuple[str, ...] = ("forward", "backward", "bidirectional", "terminate", "pseudo")
ALLOWED_KEYS: tuple[str, ...] = ("literal", "category", "direction", "pattern", "max_scope", "allowed_types",
                                 "excluded_types", "within_entity", "metadata")
DEFAULT_RULES_PATH: Path = RESOURCES / "context_rules.json"
#: labels of our schema that modify other entities and get no assertion of their own
MODIFIER_LABELS: frozenset[str] = frozenset({"ANATOMY", "LAB_VALUE", "SEVERITY", "TEMPORAL"})


@dataclass(frozen=True, slots=True)
class ContextRule:
    """One trigger, termination or pseudo-trigger phrase (see the module docstring for the keys)."""

    literal: str
    direction: str
    category: str | None = None
    pattern: str | None = None
    max_scope: int | None = None
    allowed_types: frozenset[str] | None = None
    excluded_types: frozenset[str] | None = None
    within_entity: bool = True

    @property
    def flag(self) -> str | None:
        """The span attr this rule sets or terminates (None: a pseudo rule, or a terminate-all rule)."""
        return CATEGORY_FLAGS.get(self.category or "")

    def regex(self) -> str:
        """The regular expression this rule matches (case-insensitive)."""
        if self.pattern is not None:
            return self.pattern
        parts = [re.escape(w) for w in self.literal.split()]
        body = r"(?:\s+|\s*-\s*)".join(parts)
        if re.match(r"\w", self.literal):
            body = r"(?<!\w)" + body
        if re.search(r"\w$", self.literal):
            body += r"(?!\w)"
        return body

    def applies_to(self, label: str) -> bool:
        if self.allowed_types is not None and label not in self.allowed_types:
            return False
        return not (self.excluded_types is not None and label in self.excluded_types)


# ---------------------------------------------------------------------------------------------- loading

def _rule_error(source: str, index: int, message: str) -> ConfigError:
    return ConfigError(f"{source}: rule {index}: {message}")


def _label_set(value: Any, key: str, source: str, index: int) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or \
            not all(isinstance(v, str) for v in value):
        raise _rule_error(source, index, f"{key!r} must be a list of label strings, got {value!r}")
    return frozenset(value)


def rule_from_dict(d: Mapping[str, Any], *, source: str = "<rules>", index: int = 0) -> ContextRule:
    """Validate one rule object; errors name ``source``, the rule ``index`` and what is allowed."""
    if not isinstance(d, Mapping):
        raise _rule_error(source, index, f"a rule must be an object with keys {', '.join(ALLOWED_KEYS)}; "
                                         f"got {type(d).__name__}")
    unknown = sorted(set(d) - set(ALLOWED_KEYS))
    if unknown:
        raise _rule_error(source, index, f"unknown key(s) {', '.join(map(repr, unknown))}; "
                                         f"allowed keys: {', '.join(ALLOWED_KEYS)}")
    literal = d.get("literal")
    if not isinstance(literal, str) or not literal.strip():
        raise _rule_error(source, index, f"'literal' is required and must be a non-empty string, got {literal!r}")
    direction = d.get("direction")
    if not isinstance(direction, str) or direction.lower() not in DIRECTIONS:
        raise _rule_error(source, index, f"'direction' must be one of {', '.join(DIRECTIONS)} "
                                         f"(any case), got {direction!r}")
    direction = direction.lower()
    category = d.get("category")
    if category is not None:
        if not isinstance(category, str):
            raise _rule_error(source, index, f"'category' must be a string, got {category!r}")
        category = category.upper()
    if direction in ("forward", "backward", "bidirectional") and category not in CATEGORY_FLAGS:
        raise _rule_error(source, index, f"a {direction} rule needs 'category' in "
                                         f"{', '.join(CATEGORY_FLAGS)}, got {category!r}")
    if direction == "pseudo" and category is not None and category not in CATEGORY_FLAGS:
        raise _rule_error(source, index, f"a pseudo rule's 'category' (for entities inside the phrase) must be one "
                                         f"of {', '.join(CATEGORY_FLAGS)}, got {category!r}")
    if direction == "terminate" and category is not None and category not in CATEGORY_FLAGS \
            and category not in ("TERMINATE", "CONJ"):
        raise _rule_error(source, index, f"a terminate rule's 'category' limits it to one of "
                                         f"{', '.join(CATEGORY_FLAGS)} (or TERMINATE/CONJ: all), got {category!r}")
    pattern = d.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            raise _rule_error(source, index, "'pattern' must be a regular expression string "
                                             f"(spaCy token patterns are not supported), got {type(pattern).__name__}")
        try:
            compiled = re.compile(pattern, re.IGNORECASE)
        except re.error as e:
            raise _rule_error(source, index, f"'pattern' {pattern!r} is not a valid regular expression: {e}") from None
        if compiled.groupindex:
            raise _rule_error(source, index, f"'pattern' {pattern!r} must not use named groups")
        if compiled.match(""):
            raise _rule_error(source, index, f"'pattern' {pattern!r} matches the empty string")
    max_scope = d.get("max_scope")
    if max_scope is not None and (isinstance(max_scope, bool) or not isinstance(max_scope, int) or max_scope < 1):
        raise _rule_error(source, index, f"'max_scope' must be a positive integer (words), got {max_scope!r}")
    within = d.get("within_entity", True)
    if not isinstance(within, bool):
        raise _rule_error(source, index, f"'within_entity' must be true or false, got {within!r}")
    meta = d.get("metadata")
    if meta is not None and not isinstance(meta, Mapping):
        raise _rule_error(source, index, f"'metadata' must be an object, got {type(meta).__name__}")
    return ContextRule(literal=literal.strip(), direction=direction, category=category, pattern=pattern,
                       max_scope=max_scope, within_entity=within,
                       allowed_types=_label_set(d.get("allowed_types"), "allowed_types", source, index),
                       excluded_types=_label_set(d.get("excluded_types"), "excluded_types", source, index))


def load_rules(path: str | Path | None = None) -> tuple[ContextRule, ...]:
    """Read and validate a rules file: a JSON list of rule objects, or ``{"context_rules": [...]}``
    (medspaCy's layout). ``None`` reads the packaged default rules."""
    path = Path(path) if path is not None else DEFAULT_RULES_PATH
    source = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: context rules file not found") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{source}: line {e.lineno}: not valid JSON: {e.msg}") from None
    if isinstance(data, Mapping):
        if set(data) != {"context_rules"}:
            raise ConfigError(f"{source}: expected a JSON list of rules or an object with the single key "
                              f"'context_rules'; got keys {sorted(data)}")
        data = data["context_rules"]
    if not isinstance(data, list):
        raise ConfigError(f"{source}: expected a JSON list of rule objects, got {type(data).__name__}")
    return tuple(rule_from_dict(d, source=source, index=i) for i, d in enumerate(data))


# --------------------------------------------------------------------------------------------- matching

@dataclass(frozen=True, slots=True)
class Cue:
    """A matched rule phrase in a document."""

    start: int
    end: int
    rule: ContextRule


class _Matcher:
    """Leftmost-longest, non-overlapping matching of all rule phrases.

    Literal rules are indexed by their first token (lower-cased), so a sentence costs one dict look-up per
    token plus a regex match per candidate; regex-pattern rules are searched once per text.
    """

    def __init__(self, rules: Sequence[ContextRule]) -> None:
        self.by_first: dict[str, list[tuple[re.Pattern[str], ContextRule]]] = {}
        pattern_rules = []
        for rule in rules:
            if rule.pattern is not None:
                pattern_rules.append(rule)
                continue
            first = tokenize(rule.literal)[0].text.lower()
            self.by_first.setdefault(first, []).append((re.compile(rule.regex(), re.IGNORECASE), rule))
        for cands in self.by_first.values():
            cands.sort(key=lambda c: -len(c[1].literal))
        # one regex per pattern rule: each keeps its own first-character optimisation (a joint one loses it)
        self.pattern_rules = [(re.compile(r.pattern or "", re.IGNORECASE), r) for r in pattern_rules]

    def pattern_cues(self, text: str) -> list[Cue]:
        out = [Cue(m.start(), m.end(), rule) for rx, rule in self.pattern_rules
               for m in rx.finditer(text) if m.end() > m.start()]
        out.sort(key=lambda c: c.start)
        return out

    def cues(self, text: str, tokens: Sequence[Token], extra: Sequence[Cue] = ()) -> list[Cue]:
        """Non-overlapping cues among ``tokens`` (leftmost, then longest, wins); ``extra`` are pattern cues
        inside the same stretch of text."""
        cands: list[Cue] = list(extra)
        by_first = self.by_first
        for tok in tokens:
            rules = by_first.get(tok.text.lower())
            if rules is None:
                continue
            best = -1
            for rx, rule in rules:  # longest literal first; keep every rule matching the longest phrase
                m = rx.match(text, tok.start)
                if m is not None and m.end() >= best:
                    cands.append(Cue(tok.start, m.end(), rule))
                    best = m.end()
                elif best >= 0 and len(rule.literal) < best - tok.start:
                    break
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


# ---------------------------------------------------------------------------------------------- scoping

class ContextAnnotator:
    """Adds ``negated``/``uncertain``/``historical``/``family`` attrs to a document's spans.

    * ``rules_path``: a rules file (default: the packaged ``context_rules.json``); or ``rules`` directly;
    * ``max_scope``: default scope limit in words (tokens with a letter or digit) on each side of a trigger
      (``None``: up to the sentence boundary); a rule's own ``max_scope`` overrides it;
    * ``skip_labels``: labels left without assertion attrs (compared before ``label_map``);
    * ``label_map``: maps other label sets onto the labels the rules' ``allowed_types``/``excluded_types``
      name (e.g. MACCROBAT ``Medication`` -> ``MEDICATION``); unmapped unknown labels match no
      ``allowed_types`` and no ``excluded_types``;
    * ``negation_wins``: a span both negated and uncertain ("never had signs suggestive of X", "no signs
      suggested X") is reported as negated only;
    * ``evidence``: also write ``context_cues``, a list of ``{"category", "start", "end", "text"}`` for the
      cues that reached the span.

    A document without spans to assert is returned as is (documents are immutable).
    """

    def __init__(self, rules_path: str | Path | None = None, *, rules: Iterable[ContextRule] | None = None,
                 max_scope: int | None = 12, skip_labels: Iterable[str] | None = MODIFIER_LABELS,
                 label_map: Mapping[str, str] | None = None, negation_wins: bool = True,
                 evidence: bool = False) -> None:
        self.rules = tuple(rules) if rules is not None else load_rules(rules_path)
        if max_scope is not None and max_scope < 1:
            raise ConfigError(f"max_scope must be a positive number of words or None, got {max_scope!r}")
        self.max_scope = max_scope
        self.skip_labels = frozenset(skip_labels or ())
        self.label_map = dict(label_map or {})
        self.negation_wins = negation_wins
        self.evidence = evidence
        self._matcher = _Matcher(self.rules)

    def __call__(self, doc: Document) -> Document:
        """A new document whose spans carry the assertion attrs; ``doc`` is not changed."""
        targets = [i for i, s in enumerate(doc.spans) if s.label not in self.skip_labels]
        if not targets:
            return doc
        found = self.assert_spans(doc.text, [doc.spans[i] for i in targets])
        spans = list(doc.spans)
        for i, (flags, cues) in zip(targets, found):
            update: dict[str, Any] = dict(flags)
            if self.evidence:
                update["context_cues"] = [{"category": c.rule.category, "start": c.start, "end": c.end,
                                           "text": doc.text[c.start:c.end]} for c in cues]
            spans[i] = spans[i].evolve(attrs_update=update)
        return doc.with_spans(spans)

    def annotate(self, docs: Iterable[Document]) -> list[Document]:
        """:meth:`__call__` over many documents."""
        return [self(d) for d in docs]

    def cues(self, text: str) -> list[Cue]:
        """All rule phrases found in ``text`` (pseudo and termination phrases included)."""
        pattern_cues = self._matcher.pattern_cues(text)
        out: list[Cue] = []
        for (s, e), toks in sentences_with_tokens(text):
            out.extend(self._matcher.cues(text, toks, [c for c in pattern_cues if s <= c.start < e]))
        return out

    def assert_spans(self, text: str, spans: Sequence[Span]) -> list[tuple[dict[str, bool], list[Cue]]]:
        """For each span (in ``text``): its four flags and the cues that set them."""
        results: list[tuple[dict[str, bool], list[Cue]]] = [({f: False for f in FLAGS}, []) for _ in spans]
        if not spans:
            return results
        order = sorted(range(len(spans)), key=lambda i: spans[i].start)
        starts = [spans[i].start for i in order]
        pattern_cues = self._matcher.pattern_cues(text)
        pstarts = [c.start for c in pattern_cues]
        for (s, e), toks in sentences_with_tokens(text):
            # spans that overlap this sentence
            lo = bisect.bisect_left(starts, s)
            while lo > 0 and spans[order[lo - 1]].end > s:
                lo -= 1
            hi = bisect.bisect_left(starts, e)
            if lo >= hi:
                continue
            extra = pattern_cues[bisect.bisect_left(pstarts, s):bisect.bisect_left(pstarts, e)]
            cues = self._matcher.cues(text, toks, extra)
            triggers = [c for c in cues if c.rule.flag is not None and c.rule.direction != "terminate"]
            if not triggers:
                continue
            sent_spans = [order[k] for k in range(lo, hi) if spans[order[k]].end > s]
            pseudo = [c for c in triggers if c.rule.direction == "pseudo"]
            if pseudo:  # "did not [regress]": the phrase asserts the entity annotated inside it
                triggers = [c for c in triggers if c.rule.direction != "pseudo"]
                for cue in pseudo:
                    for i in sent_spans:
                        sp = spans[i]
                        if cue.start < sp.start and sp.end <= cue.end and \
                                cue.rule.applies_to(self.label_map.get(sp.label, sp.label)):
                            results[i][0][cue.rule.flag] = True  # type: ignore[index]
                            results[i][1].append(cue)
            # a termination phrase inside an entity ("source of bleeding") ends nothing
            terms = [c for c in cues if c.rule.direction == "terminate" and not any(
                spans[i].start <= c.start and c.end <= spans[i].end for i in sent_spans)]
            words = [t for t in toks if t.text[0].isalnum() or t.text[-1].isalnum()]  # scopes count words
            # an entity counts as one word (drop the words that start inside one), unless a trigger lies in it
            inner = [(spans[i].start, spans[i].end) for i in sent_spans if spans[i].end - spans[i].start > 1]
            inner = [(a, b) for a, b in inner if not any(c.start < b and a < c.end for c in triggers)]
            if inner:
                words = [t for t in words if not any(a < t.start < b for a, b in inner)]
            tok_starts = [t.start for t in words]
            for cue in triggers:
                lo_c, hi_c = self._scope(cue, s, e, words, tok_starts, terms)
                flag = cue.rule.flag
                within = cue.rule.within_entity
                for i in sent_spans:
                    sp = spans[i]
                    if sp.start < hi_c and lo_c < sp.end and \
                            (within or sp.end <= cue.start or cue.end <= sp.start) and \
                            cue.rule.applies_to(self.label_map.get(sp.label, sp.label)):
                        flags, used = results[i]
                        flags[flag] = True
                        used.append(cue)
        if self.negation_wins:
            for flags, _ in results:
                if flags["negated"]:
                    flags["uncertain"] = False
        return results

    def _scope(self, cue: Cue, s: int, e: int, toks: Sequence[Token], tok_starts: list[int],
               terms: Sequence[Cue]) -> tuple[int, int]:
        """Character range ``[lo, hi)`` that ``cue`` modifies (the cue itself included)."""
        rule, flag = cue.rule, cue.rule.flag
        limit = rule.max_scope or self.max_scope
        lo, hi = cue.start, cue.end
        if rule.direction in ("forward", "bidirectional"):
            hi = e
            for t in terms:
                if t.start >= cue.end and (t.rule.flag is None or t.rule.flag == flag):
                    hi = t.start
                    break
            if limit is not None:
                k = bisect.bisect_left(tok_starts, cue.end)
                if k > 0 and toks[k - 1].end > cue.end:  # the cue ends inside a word ("non-[tender]"): count it
                    k -= 1
                k += limit - 1  # index of the last token in scope
                if k < len(toks):
                    hi = min(hi, toks[k].end)
        if rule.direction in ("backward", "bidirectional"):
            lo = s
            for t in reversed(terms):
                if t.end <= cue.start and (t.rule.flag is None or t.rule.flag == flag):
                    lo = t.end
                    break
            if limit is not None:
                k = bisect.bisect_left(tok_starts, cue.start) - limit  # index of the first token in scope
                if k > 0:
                    lo = max(lo, toks[k].start)
        return lo, hi
