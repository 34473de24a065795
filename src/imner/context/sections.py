"""Section detection: which part of a clinical note ("PAST MEDICAL HISTORY:", "Plan:") each entity is in.

The rules are data, medspaCy-sectionizer style (``resources/section_rules.json``)::

    {"section_rules": [{"literal": "past medical history", "category": "past_medical_history"}, ...],
     "section_assertion": {"past_medical_history": {"historical": true}, ...}}

* a rule's ``literal`` is a header (case-insensitive; a space matches any run of spaces or a hyphen, "/"
  and "&" are literal); ``category`` is the section name, medspaCy's names where it has one;
* a header counts at the start of a line (after white space, a bullet or a number) or after a sentence end
  (". Plan:"), followed by a colon; or alone on its line, followed by nothing but an optional colon;
* a section runs from its header to the next header, or to the first blank line after some content of its
  own (a paragraph of running text after "Family history: negative." is not family history);
* ``section_assertion`` says what a section implies for the entities in it (attr -> value), applied by the
  annotator unless a termination rule of that attr's category comes first in the entity's sentence
  ("PAST MEDICAL HISTORY: lupus nephritis, currently active with [proteinuria]").

:data:`SECTION_LOINC` maps section names to the LOINC document-section code a downstream export (OMOP
``note_nlp.section_concept_id``, FHIR ``Composition.section.code``) can use; sections without a LOINC
section code are absent from it.
"""

from __future__ import annotations

import bisect
import re
from itertools import chain
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from imner.config import RESOURCES
from imner.errors import ConfigError

from imner.context.lead import word_trie
from imner.context.rules import CATEGORIES, EXPERIENCERS, _check_keys, _read_json

DEFAULT_SECTION_RULES_PATH: Path = RESOURCES / "section_rules.json"
SECTION_RULE_KEYS: tuple[str, ...] = ("literal", "category", "metadata")
#: attrs a section may set, and the values allowed
SECTION_ATTRS: dict[str, tuple[Any, ...]] = {"historical": (True,), "hypothetical": (True,),
                                             "experiencer": EXPERIENCERS[1:]}
#: attr -> the rule category whose termination phrases stop a section's effect
ATTR_CATEGORY: dict[str, str] = {"historical": "HISTORICAL", "hypothetical": "HYPOTHETICAL",
                                 "experiencer": "FAMILY"}
assert all(CATEGORIES[c][0] == a for a, c in ATTR_CATEGORY.items())

#: section name -> LOINC section code (display name in the comment). For OMOP, look the code up in the
#: CONCEPT table (vocabulary_id 'LOINC', concept_code = the code) to get ``section_concept_id``; 0 otherwise.
SECTION_LOINC: dict[str, str] = {
    "chief_complaint": "10154-3",             # Chief complaint Narrative - Reported
    "history_of_present_illness": "10164-2",  # History of Present illness Narrative
    "past_medical_history": "11348-0",        # History of Past illness Narrative
    "past_surgical_history": "47519-4",       # History of Procedures Document
    "family_history": "10157-6",              # History of family member diseases Narrative
    "social_history": "29762-2",              # Social history Narrative
    "medications": "10160-0",                 # History of Medication use Narrative
    "allergies": "48765-2",                   # Allergies and adverse reactions Document
    "review_of_systems": "10187-3",           # Review of systems Narrative - Reported
    "physical_exam": "29545-1",               # Physical findings Narrative
    "labs_and_studies": "30954-2",            # Relevant diagnostic tests/laboratory data Narrative
    "imaging": "18782-3",                     # Radiology Study observation (narrative)
    "impression": "19005-8",                  # Radiology Imaging study [Impression] (narrative)
    "hospital_course": "8648-8",              # Hospital course Narrative
    "assessment": "51848-0",                  # Evaluation note (assessment)
    "assessment_and_plan": "51847-2",         # Evaluation + Plan note
    "plan": "18776-5",                        # Plan of care note
    "patient_instructions": "69730-0",        # Instructions
    "diagnoses": "11535-2",                   # Hospital discharge Dx Narrative
    "problem_list": "11450-4",                # Problem list - Reported
}


#: a blank line (compiled on first use, through ``re``'s cache)
_BLANK_LINE = r"\n[ \t]*\n"


@dataclass(frozen=True, slots=True)
class Section:
    """One detected section: ``[start, end)`` of the text, the header's own ``[start, header_end)``."""

    name: str
    start: int
    header_end: int
    end: int


@dataclass(frozen=True, slots=True)
class SectionRules:
    headers: Mapping[str, str]  # normalized header -> section name
    assertion: Mapping[str, Mapping[str, Any]]  # section name -> attr -> value


def _norm(header: str) -> str:
    return re.sub(r"[\s\-]+", " ", header.strip().lower())


def load_section_rules(path: str | Path | None = None) -> SectionRules:
    """Read and validate a section rules file (see the module docstring); ``None``: the packaged one."""
    path = Path(path) if path is not None else DEFAULT_SECTION_RULES_PATH
    data = _read_json(path, "section rules")
    _check_keys(data, ("section_rules", "section_assertion"), str(path))
    rules = data.get("section_rules")
    if not isinstance(rules, list) or not rules:
        raise ConfigError(f"{path}: 'section_rules' must be a non-empty list of rule objects")
    headers: dict[str, str] = {}
    for i, r in enumerate(rules):
        where = f"{path}: section rule {i}"
        _check_keys(r, SECTION_RULE_KEYS, where)
        lit, cat = r.get("literal"), r.get("category")
        if not isinstance(lit, str) or not lit.strip():
            raise ConfigError(f"{where}: 'literal' is required and must be a non-empty string, got {lit!r}")
        if not isinstance(cat, str) or not re.fullmatch(r"[a-z_]+", cat):
            raise ConfigError(f"{where}: 'category' is required: a section name in lower case with '_', "
                              f"got {cat!r}")
        headers[_norm(lit)] = cat
    assertion = data.get("section_assertion", {})
    _check_keys(assertion, tuple(sorted(set(headers.values()))), f"{path}: 'section_assertion'")
    for name, effect in assertion.items():
        where = f"{path}: section_assertion {name!r}"
        _check_keys(effect, tuple(SECTION_ATTRS), where)
        for attr, value in effect.items():
            if value not in SECTION_ATTRS[attr] or isinstance(value, bool) != isinstance(SECTION_ATTRS[attr][0], bool):
                raise ConfigError(f"{where}: {attr!r} must be one of "
                                  f"{', '.join(map(repr, SECTION_ATTRS[attr]))}, got {value!r}")
    return SectionRules(headers, {k: dict(v) for k, v in assertion.items()})


class Sectionizer:
    """Finds section headers and the sections they open (see the module docstring)."""

    def __init__(self, rules: SectionRules | None = None) -> None:
        self.rules = rules if rules is not None else load_section_rules()
        alts = sorted(self.rules.headers, key=len, reverse=True)
        body = "|".join(r"[\s\-]+".join(map(re.escape, h.split())) for h in alts)
        lead = r"(?:^[ \t]*(?:[-*•]\s*|\d{1,2}[.)]\s+)?|(?<=[.;]) +)"
        self._source = rf"{lead}(?P<h>{body})(?:[ \t]*:|[ \t]*$)"
        # the same headers as a trie of words: it matches where the regex above does, reading a shared word
        # once; most places it is tried are no header, and the regex that says which header is tried only where
        # this one matched
        trie = word_trie([h.split() for h in alts], r"[\s\-]+")
        self._screen_source = rf"{lead}(?:{trie})(?:[ \t]*:|[ \t]*$)"
        # the places a header may start (after a line break, or after a "." or ";" before spaces), kept only
        # where a header's first word follows: what the screen would try first, read in C for every place
        first = "|".join(map(re.escape, sorted({h.split()[0] for h in alts}, key=lambda w: (-len(w), w))))
        # (one character class first: the regex engine scans for it faster than for an alternation)
        self._starts_source = (rf"[\n.;](?:(?<=\n)(?=[ \t]*(?:[-*•]\s*|\d{{1,2}}[.)]\s+)?(?:{first}))"
                               rf"|(?<=[.;])(?= +(?:{first})))")
        self._rx: re.Pattern[str] | None = None  # compiled on first use
        self._screen: re.Pattern[str] | None = None
        self._starts: re.Pattern[str] | None = None

    def _headers(self, text: str) -> Iterator[re.Match[str]]:
        """The header matches in ``text``, as ``finditer`` of the header regex gives them: a header can only
        start at a line start or just after a "." or ";" followed by a space, so only those places are tried, and
        only where a header's first word follows."""
        if self._screen is None:
            self._screen = re.compile(self._screen_source, re.IGNORECASE | re.MULTILINE)
            self._starts = re.compile(self._starts_source, re.IGNORECASE)
        screen = self._screen
        pos = 0
        for at in chain((0,), (c.end() for c in self._starts.finditer(text))):  # type: ignore[union-attr]
            if at >= pos and screen.match(text, at) is not None:
                if self._rx is None:  # the regex that says which header: compiled where one is first seen
                    self._rx = re.compile(self._source, re.IGNORECASE | re.MULTILINE)
                m = self._rx.match(text, at)
                if m is not None:
                    yield m
                    pos = m.end()

    def sections(self, text: str) -> list[Section]:
        """Sections in text order (the text before the first header is in none)."""
        heads = []
        for m in self._headers(text):
            name = self.rules.headers.get(_norm(m.group("h")))
            if name is not None:
                heads.append((m.start("h"), m.end(), name))
        out = []
        for k, (start, hend, name) in enumerate(heads):
            end = heads[k + 1][0] if k + 1 < len(heads) else len(text)
            content = re.compile(r"\S").search(text, hend, end)
            if content is not None:
                blank = re.compile(_BLANK_LINE).search(text, content.start(), end)
                if blank is not None:
                    end = blank.start()
            out.append(Section(name, start, hend, end))
        return out

    @staticmethod
    def section_at(sections: Sequence[Section], starts: Sequence[int], pos: int) -> Section | None:
        """The section holding character ``pos`` (``starts``: the sections' starts)."""
        k = bisect.bisect_right(starts, pos) - 1
        if k >= 0 and pos < sections[k].end:
            return sections[k]
        return None
