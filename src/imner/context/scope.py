"""Scope resolution: which entities each cue reaches, and the :class:`ContextAnnotator` that writes the attrs."""

from __future__ import annotations

import bisect
import operator
import re
from itertools import chain, compress
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

from imner.errors import ConfigError
from imner.text import Token, sentences_with_tokens
from imner.types import Document, Span

from imner.context.matcher import Cue, Matcher, is_trigger
from imner.context.rules import EXPERIENCERS, FLAGS, ContextRule, load_rules
from imner.context.sections import ATTR_CATEGORY, Section, Sectionizer, SectionRules, load_section_rules

#: labels of our schema that modify other entities and get no assertion of their own
MODIFIER_LABELS: frozenset[str] = frozenset({"ANATOMY", "LAB_VALUE", "SEVERITY", "TEMPORAL"})
#: experiencer values in order of precedence when several cues reach one entity
_EXPERIENCER_RANK: dict[str, int] = {"patient": 0, "other": 1, "donor": 2, "family": 3}
assert set(_EXPERIENCER_RANK) == set(EXPERIENCERS)


#: words that open a leading subordinate clause (or phrase) whose comma ends a negation inside it
_SUBORDINATORS: frozenset[str] = frozenset({"as", "since", "because", "although", "though", "while", "whereas",
                                            "when", "once", "after", "before", "despite", "given", "with"})
_CLAUSE_END = ContextRule(literal="<comma after a leading clause>", direction="terminate",
                          category="NEGATED_EXISTENCE")
_TOKEN_TEXT = operator.attrgetter("text")
_START = operator.attrgetter("start")
_FRESH: dict[str, Any] = {**{f: False for f in FLAGS}, "experiencer": "patient", "section": None}


def _fresh() -> dict[str, Any]:
    return _FRESH.copy()


_new_object = object.__new__
_set_field = object.__setattr__


def _with_spans(doc: Document, spans: list[Span]) -> Document:
    """``doc`` with ``spans`` (the same offsets and labels in the same order as its own, so already sorted and
    inside the text), made without :class:`Document`'s sort and checks."""
    new = _new_object(Document)
    _set_field(new, "id", doc.id)
    _set_field(new, "text", doc.text)
    _set_field(new, "spans", tuple(spans))
    _set_field(new, "meta", doc.meta)
    return new


_WORDLIKE: list[re.Pattern[str]] = []


def _wordlike() -> re.Pattern[str]:
    """A regex that finds a letter or digit at the start or the end of a token (``str.isalnum`` of either)."""
    if not _WORDLIKE:
        _WORDLIKE.append(re.compile(r"^[^\W_]|[^\W_]$"))
    return _WORDLIKE[0]


#: the setters of Span's slots (a frozen dataclass's slots are written through their descriptors, as
#: ``object.__setattr__`` does after looking the name up)
_SPAN_SETTERS = tuple(Span.__dict__[f].__set__ for f in ("start", "end", "label", "score", "attrs", "fragments"))


def _with_attrs(sp: Span, attrs: dict[str, Any], setters: tuple[Any, ...] = _SPAN_SETTERS) -> Span:
    """``sp`` with ``attrs`` instead of its own, made without :class:`Span`'s checks: its offsets, label and
    fragments are those of a span already checked (the assertion step makes one per entity, and the checks
    cost more than the rest of making it)."""
    new = _new_object(Span)
    set_start, set_end, set_label, set_score, set_attrs, set_fragments = setters
    set_start(new, sp.start)
    set_end(new, sp.end)
    set_label(new, sp.label)
    set_score(new, sp.score)
    set_attrs(new, MappingProxyType(attrs))
    set_fragments(new, sp.fragments)
    return new


def _set(flags: dict[str, Any], attr: str, value: Any) -> None:
    if attr == "experiencer":
        if _EXPERIENCER_RANK[value] > _EXPERIENCER_RANK[flags["experiencer"]]:
            flags["experiencer"] = value
            flags["family"] = value == "family"
    else:
        flags[attr] = value


class ContextAnnotator:
    """Adds the assertion attrs (``negated``, ``uncertain``, ``hypothetical``, ``historical``,
    ``experiencer``, ``family``, ``section``) to a document's spans.

    * ``rules_path``: a rules file (default: the packaged ``context_rules.json``); or ``rules`` directly;
    * ``sections``: detect sections and apply their assertion (default True); ``section_rules_path``: a
      section rules file (default: the packaged ``section_rules.json``);
    * ``max_scope``: default scope limit in words (tokens with a letter or digit; an entity counts as one) on
      each side of a trigger (``None``: up to the sentence boundary); a rule's own ``max_scope`` overrides it;
    * ``skip_labels``: labels left without assertion attrs (compared before ``label_map``);
    * ``label_map``: maps other label sets onto the labels the rules' ``allowed_types``/``excluded_types``
      name (e.g. MACCROBAT ``Medication`` -> ``MEDICATION``); unmapped unknown labels match no
      ``allowed_types`` and no ``excluded_types``;
    * ``negation_wins``: a span both negated and uncertain ("never had signs suggestive of X", "no signs
      suggested X") is reported as negated only;
    * ``evidence``: also write ``context_cues``, a list of ``{"category", "start", "end", "text"}`` for the
      cues that reached the span (a section's effect appears as category ``SECTION:<name>``).

    A document without spans to assert is returned as is (documents are immutable).
    """

    def __init__(self, rules_path: str | Path | None = None, *, rules: Iterable[ContextRule] | None = None,
                 sections: bool = True, section_rules_path: str | Path | None = None,
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
        self._matcher = Matcher(self.rules)
        self.sectionizer: Sectionizer | None = None
        if sections:
            self.sectionizer = Sectionizer(load_section_rules(section_rules_path))

    def __call__(self, doc: Document) -> Document:
        """A new document whose spans carry the assertion attrs; ``doc`` is not changed."""
        targets = [i for i, s in enumerate(doc.spans) if s.label not in self.skip_labels]
        if not targets:
            return doc
        found = self.assert_spans(doc.text, [doc.spans[i] for i in targets])
        spans = list(doc.spans)
        for i, (flags, cues) in zip(targets, found):
            sp = spans[i]
            if sp.attrs:
                attrs = sp.attrs.copy()  # (a read-only view: its copy is a dict, made in one step)
                attrs.update(flags)
            else:  # (no attrs of its own: the fresh dict of its flags is its attrs, in the same key order)
                attrs = flags
            if self.evidence:
                attrs["context_cues"] = [{"category": c.rule.category, "start": c.start, "end": c.end,
                                          "text": doc.text[c.start:c.end]} for c in cues]
            spans[i] = _with_attrs(sp, attrs)
        return _with_spans(doc, spans)

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

    def sections(self, text: str) -> list[Section]:
        """The sections found in ``text`` (none when section detection is off)."""
        return self.sectionizer.sections(text) if self.sectionizer is not None else []

    def assert_spans(self, text: str, spans: Sequence[Span]) -> list[tuple[dict[str, Any], list[Cue]]]:
        """For each span (in ``text``): its attrs and the cues that set them."""
        results: list[tuple[dict[str, Any], list[Cue]]] = [(_fresh(), []) for _ in spans]
        if not spans:
            return results
        order = sorted(range(len(spans)), key=list(map(_START, spans)).__getitem__)
        starts = [spans[i].start for i in order]
        # sections: the name of each span's section, and the effect to apply (checked per sentence below)
        effect_of: dict[int, tuple[Section, Mapping[str, Any]]] = {}
        secs = self.sections(text)
        if secs:
            rules: SectionRules = self.sectionizer.rules  # type: ignore[union-attr]
            sec_starts = [sc.start for sc in secs]
            for i, sp in enumerate(spans):
                sec = Sectionizer.section_at(secs, sec_starts, sp.start)
                if sec is not None:
                    results[i][0]["section"] = sec.name
                    effect = rules.assertion.get(sec.name)
                    if effect:
                        effect_of[i] = (sec, effect)
        section_history: set[int] = set()  # spans made historical by their section alone
        matcher = self._matcher
        label_map = self.label_map
        pattern_cues = matcher.pattern_cues(text)
        pstarts = [c.start for c in pattern_cues]
        # the sentences that some span overlaps (the others are not read at all), with the range of ``order``
        # that holds their spans
        sentences = []
        for (s, e), toks in sentences_with_tokens(text):
            lo = bisect.bisect_left(starts, s)
            while lo > 0 and spans[order[lo - 1]].end > s:
                lo -= 1
            hi = bisect.bisect_left(starts, e)
            if lo < hi:
                sentences.append((s, e, toks, lo, hi))
        # the triggers of those sentences in one pass (each starts inside its token, so inside its sentence),
        # in text order (a stable sort: the cues of one token keep their order)
        all_toks = list(chain.from_iterable(sent[2] for sent in sentences))
        all_lows = list(map(str.lower, map(_TOKEN_TEXT, all_toks)))
        trig = matcher.candidates(text, all_toks, triggers=True, lows=all_lows)
        trig.sort(key=_START)
        trig_starts = list(map(_START, trig))
        first_tok = 0
        for s, e, toks, lo, hi in sentences:
            k0 = first_tok
            first_tok += len(toks)
            extra = pattern_cues[bisect.bisect_left(pstarts, s):bisect.bisect_left(pstarts, e)]
            cands = [c for c in extra if is_trigger(c.rule)] if extra else []
            cands += trig[bisect.bisect_left(trig_starts, s):bisect.bisect_left(trig_starts, e)]
            if not cands and not effect_of:
                continue  # no trigger (nor a section's effect): the other phrases need not be looked for
            sent_spans = [order[k] for k in range(lo, hi) if spans[order[k]].end > s]
            in_effect = bool(effect_of) and any(i in effect_of for i in sent_spans)
            if not cands and not in_effect:
                continue
            cues = matcher.resolve(cands + matcher.candidates(text, toks, extra, triggers=False,
                                                              lows=all_lows[k0:first_tok]))
            triggers = [c for c in cues if c.rule.flag is not None and c.rule.direction != "terminate"]
            if not triggers and not in_effect:
                continue
            # a termination phrase inside an entity ("source of bleeding") ends nothing; one that starts inside
            # an entity ends scopes after it ("no [allergy] to penicillin": the allergy is absent)
            bounds = [(spans[i].start, spans[i].end) for i in sent_spans]
            terms = []
            for c in cues:
                if c.rule.direction != "terminate":
                    continue
                cs = c.start
                # (an entity that is the phrase itself, "[presented]", does not hold it)
                holder_ends = [b for a, b in bounds if a <= cs < b and (a, b) != (cs, c.end)]
                if not holder_ends:
                    terms.append(c)
                elif max(holder_ends) < c.end:
                    terms.append(Cue(max(holder_ends), c.end, c.rule))
            if toks[0].text.lower() in _SUBORDINATORS:
                # "As the patient declined chemotherapy, [recurrence] was found": the comma that closes a leading
                # subordinate clause ends a negation inside it
                comma = next((t for t in toks if t.text == ","), None)
                if comma is not None:
                    terms.append(Cue(comma.start, comma.end, _CLAUSE_END))
                    terms.sort(key=_START)
            if in_effect:
                self._section_effects(results, spans, sent_spans, effect_of, terms, section_history)
            if not triggers:
                continue
            pseudo = [c for c in triggers if c.rule.direction == "pseudo"]
            if pseudo:  # "did not [regress]": the phrase asserts the entity annotated inside it
                triggers = [c for c in triggers if c.rule.direction != "pseudo"]
                for cue in pseudo:
                    for i in sent_spans:
                        sp = spans[i]
                        if cue.start < sp.start < cue.end and \
                                cue.rule.applies_to(self.label_map.get(sp.label, sp.label)):
                            _set(results[i][0], cue.rule.flag, cue.rule.value)  # type: ignore[arg-type]
                            results[i][1].append(cue)
            # scopes count words: tokens that start or end with a letter or digit
            words = list(compress(toks, map(_wordlike().search, map(_TOKEN_TEXT, toks))))
            # an entity counts as one word (drop the words that start inside one), unless a trigger lies in it
            inner = [(a, b) for a, b in bounds if b - a > 1]
            for c in triggers:
                cs, ce = c.start, c.end
                inner = [(a, b) for a, b in inner if not (cs < b and a < ce)]
            tok_starts = [t.start for t in words]
            if inner:
                drop: set[int] = set()
                for a, b in inner:  # the words that start inside [a, b)
                    drop.update(range(bisect.bisect_right(tok_starts, a), bisect.bisect_left(tok_starts, b)))
                if drop:
                    words = [t for k, t in enumerate(words) if k not in drop]
                    tok_starts = [t.start for t in words]
            for cue in triggers:
                lo_c, hi_c = self._scope(cue, s, e, words, tok_starts, terms)
                rule = cue.rule
                # a cue inside an entity that it does not modify is part of that entity's own words ("[could not
                # move], [hyperalgesia]"): it reaches only what lies inside the entity
                for i, (a, b) in zip(sent_spans, bounds):
                    if a <= cue.start and cue.end <= b and not self._reaches(cue, spans[i]):
                        lo_c, hi_c = max(lo_c, a), min(hi_c, b)
                for i, (a, b) in zip(sent_spans, bounds):
                    if a < hi_c and lo_c < b:
                        sp = spans[i]
                        if self._reaches(cue, sp) and rule.applies_to(label_map.get(sp.label, sp.label)):
                            flags, used = results[i]
                            _set(flags, rule.flag, rule.value)  # type: ignore[arg-type]
                            used.append(cue)
        # (``family`` follows ``experiencer`` as ``_set`` writes it)
        for i in [i for i, r in enumerate(results) if r[0]["negated"]]:
            flags, used = results[i]
            if self.negation_wins:
                flags["uncertain"] = False
            if i in section_history and not any(c.rule.category == "HISTORICAL" for c in used):
                flags["historical"] = False  # "SOCIAL HISTORY: no alcohol use": never had it, not history
        return results

    @staticmethod
    def _reaches(cue: Cue, sp: Span) -> bool:
        """Whether a cue in scope of ``sp`` modifies it: always from outside the entity; from inside only
        when the rule allows it (``within_entity``) and the cue opens the entity (forward: "[no regular
        medication]") or closes it (backward): a cue in the middle of a statement-like span ("[skin warm and
        dry without lesions]") belongs to a part of it, not to the whole."""
        if sp.end <= cue.start or cue.end <= sp.start:
            return True
        if not cue.rule.within_entity:
            return False
        d = cue.rule.direction
        opens = cue.start <= sp.start
        closes = cue.end >= sp.end
        if d == "forward":
            return opens
        if d == "backward":
            return closes
        return opens or closes

    def _section_effects(self, results: list[tuple[dict[str, Any], list[Cue]]], spans: Sequence[Span],
                         sent_spans: Sequence[int], effect_of: Mapping[int, tuple[Section, Mapping[str, Any]]],
                         terms: Sequence[Cue], section_history: set[int]) -> None:
        """Apply the sections' assertion to this sentence's spans, unless a termination phrase of the attr's
        category (or a terminate-all phrase) comes first in the sentence within the section, before the span
        ("PAST MEDICAL HISTORY: lupus, currently with [proteinuria]")."""
        for i in sent_spans:
            if i not in effect_of:
                continue
            sec, effect = effect_of[i]
            sp = spans[i]
            flags, used = results[i]
            for attr, value in effect.items():
                cat = ATTR_CATEGORY[attr]
                if any(t.rule.category == cat and sec.header_end <= t.start and t.end <= sp.start for t in terms):
                    continue
                if attr == "historical":
                    section_history.add(i)
                _set(flags, attr, value)
                if self.evidence:
                    used.append(Cue(sec.start, sec.header_end, ContextRule(literal=sec.name, direction="forward",
                                                                           category=f"SECTION:{sec.name}")))

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
