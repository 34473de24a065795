"""Build ``src/imner/resources/context_rules.json``, the ConText rules of :mod:`imner.context`.

The rules are written here as readable Python; inflected and auxiliary-verb variants ("was / were / is / has
been ... not seen") are folded into one regular-expression rule each (the ``pattern`` key) instead of being
enumerated. Run ``.venv/bin/python scripts/build_context_rules.py`` after editing; ``--check`` exits 1 when the
JSON file is not what this script builds (tests/test_context.py runs the same check).

Type restrictions follow MACCROBAT's conventions (checked on the benchmark's tune documents only):

* generic negation cues ("no", "was not seen") do not negate a DIAGNOSTIC_PROCEDURE ("no abnormality on CT": the
  CT was done), but "not performed" / "not available" do;
* resolution cues ("resolved", "disappearance of") negate findings only;
* stopping cues ("discontinued", "withheld") negate treatments only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable

OUT = Path(__file__).resolve().parents[1] / "src" / "imner" / "resources" / "context_rules.json"

NEG, POSS, HYPO, HIST, FAM = "NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HYPOTHETICAL", "HISTORICAL", "FAMILY"
FINDINGS = ["SIGN_SYMPTOM", "IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE", "PATHOGEN"]
TREATMENTS = ["MEDICATION", "THERAPEUTIC_PROCEDURE"]
PLANNABLE = FINDINGS + ["DIAGNOSTIC_PROCEDURE"] + TREATMENTS
NOT_TESTS = {"excluded_types": ["DIAGNOSTIC_PROCEDURE"]}
ONLY_FINDINGS = {"allowed_types": FINDINGS}
ONLY_TREATMENTS = {"allowed_types": TREATMENTS}
PLANS = {"allowed_types": PLANNABLE}
INTERVENTIONS = {"allowed_types": ["DIAGNOSTIC_PROCEDURE"] + TREATMENTS}

# ------------------------------------------------------------------------------------------- regex helpers

#: finite forms of "to be" before a participle: "was", "has been", "had also been" ...
BE = r"(?:was|were|is|are|(?:has|have|had)\s+(?:also\s+)?been)"


def alt(words: Iterable[str]) -> str:
    """A regex alternation of phrases (a space matches white space or a hyphen), longest first."""
    parts = sorted({w for w in words}, key=lambda w: (-len(w), w))
    return "(?:" + "|".join(r"(?:\s+|\s*-\s*)".join(map(re.escape, p.split())) for p in parts) + ")"


def be_not(heads: Iterable[str]) -> str:
    """'<head>' after 'not', optionally preceded by a form of 'to be' (and 'also'): 'not seen', 'was not seen',
    'were also not seen', 'has not been seen', 'has been not seen' (not the active 'has not seen')."""
    return (rf"(?<!\w)(?:{REL}(?:was|were|is|are)\s+(?:also\s+)?not|"
            rf"{REL}(?:has|have|had)\s+(?:also\s+)?(?:been\s+not|not\s+been)|not)\s+" + alt(heads) + r"(?!\w)")


#: a relative pronoun before a post-negation refers back: "..., which were excluded" ("which" alone ends a scope)
REL = r"(?:(?:which|that|who)\s+)?"


def be_passive(heads: Iterable[str]) -> str:
    """'<head>' after a form of 'to be': 'was ruled out', 'has been excluded', 'were all negative', 'which were
    excluded'."""
    return rf"(?<!\w){REL}{BE}\s+(?:also\s+|all\s+)?" + alt(heads) + r"(?!\w)"


# ---------------------------------------------------------------------------------------------- rule makers

def rule(literal: str, category: str | None, direction: str, types: dict | None = None, *,
         max_scope: int | None = None, pattern: str | None = None, within_entity: bool = True,
         note: str | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"literal": literal}
    if category is not None:
        d["category"] = category
    d["direction"] = direction
    if types:
        d.update(types)
    if max_scope is not None:
        d["max_scope"] = max_scope
    if pattern is not None:
        d["pattern"] = pattern
    if not within_entity:
        d["within_entity"] = False
    if note is not None:
        d["metadata"] = {"note": note}
    return d


def rules(literals: Iterable[str], category: str | None, direction: str, types: dict | None = None,
          **kw: Any) -> list[dict[str, Any]]:
    return [rule(lit, category, direction, types, **kw) for lit in literals]


def pattern_rule(name: str, pattern: str, category: str | None, direction: str, types: dict | None = None,
                 **kw: Any) -> dict[str, Any]:
    re.compile(pattern)
    return rule(name, category, direction, types, pattern=pattern, **kw)


# -------------------------------------------------------------------------------------------------- negation

NEG_FORWARD = [
    "no", "not", "without", "w/o", "denies", "denied", "deny", "denying", "negative for", "free of", "free from",
    "no evidence of", "no evidence for", "no signs of", "no sign of", "no history of", "no h/o",
    "no known", "no new", "no further", "no other", "no significant", "no obvious", "no longer", "never",
    "neither", "nor", "did not", "does not", "do not", "was not", "were not",
    "is not", "are not", "has not", "have not", "had not", "ruled out",
    "rules out", "ruling out", "rule-out of", "excluded", "excludes", "excluding", "exclusion of",
    "no findings of", "no suggestion of", "rather than", "instead of", "negative",
    "was negative for", "were negative for", "was also negative for", "were also negative for",
    "were all negative for", "tested negative for", "came back negative for",
]
#: content words: inside an entity they name the finding itself ("[absence of appetite]", "[unable to walk]")
NEG_LEXICAL_FORWARD = [
    "absence of", "lack of", "lacked", "lacks", "failed to", "fails to", "unable to", "cannot", "can not",
    "could not", "free of", "free from", "was free of", "were free of", "remained free of", "recovered from",
    "relief of", "remission of",
]
NEG_BACKWARD = ["absent", "none", "unremarkable", "denied", "be excluded", "been excluded"]
#: "X was ruled out", "X has been excluded", "X were all negative"
NEG_PASSIVE = ["ruled out", "excluded", "negative", "absent"]
#: "X was not seen" ... (findings)
NOT_SEEN = ["seen", "observed", "detected", "found", "identified", "present", "noted", "visualized",
            "visualised", "shown", "evident", "demonstrated", "appreciated", "connected", "achieved", "reported",
            "recorded", "apparent"]
#: "not associated with X"
NOT_WITH = ["associated with", "accompanied by"]

#: a finding that went away: "the rash resolved", "resolution of the fever"
RESOLVED_BACKWARD = ["resolved", "disappeared", "subsided", "relieved", "ameliorated", "cleared", "ceased",
                     "stopped", "cured", "corrected", "reversed", "abated", "normalized", "normalised", "regressed",
                     "vanished", "absorbed"]
RESOLVED_FORWARD = ["relieved", "normalized the", "normalised the", "cessation of", "disappearance of",
                    "resolution of", "clearance of"]

#: partial resolution is not absence: MACCROBAT marks it MAYBE_NEG ("near complete resolution of the mass")
PARTLY = r"(?:partially|partly|nearly|almost|virtually|incompletely|slightly|largely|mostly)"
PARTIAL_NOUNS = ["resolution", "remission", "regression", "disappearance", "clearance", "improvement", "relief"]


def partial_resolution_rules() -> list[dict[str, Any]]:
    """Uncertain, and longer than the negation cues they contain, so they win."""
    lexical: dict[str, Any] = {"within_entity": False}
    return [
        pattern_rule("near complete resolution of",
                     r"\b(?:(?:near(?:ly)?|almost|partial|incomplete|virtually)\s+(?:complete\s+|total\s+)?"
                     + alt(PARTIAL_NOUNS) + r"\s+(?:of|in)(?:\s+most\s+of)?|" + alt(PARTIAL_NOUNS)
                     + r"\s+of\s+most\s+of)\b", POSS, "forward", ONLY_FINDINGS, max_scope=6, **lexical),
        pattern_rule("<be> partially resolved",
                     rf"(?<!\w)(?:{BE}\s+)?{PARTLY}\s+" + alt(RESOLVED_BACKWARD) + rf"(?!\w)|(?<!\w)(?:{BE}\s+)?"
                     + alt(RESOLVED_BACKWARD) + rf"\s+{PARTLY}(?!\w)",
                     POSS, "backward", ONLY_FINDINGS, max_scope=10, **lexical),
    ]


#: a procedure or treatment that was not done: "a biopsy was not performed"
NOT_DONE = ["performed", "done", "available", "possible", "feasible", "obtained", "carried out", "undertaken",
            "necessary", "required", "needed", "indicated", "used", "given", "administered", "applied",
            "tolerated", "successful"]
NOT_DONE_BACKWARD = ["unavailable", "unsuccessful", "was deferred", "were deferred", "was refused", "were refused", "was declined",
                     "were declined", "was cancelled", "was canceled", "was abandoned", "was avoided",
                     "could not be performed", "could not be done"]
NOT_DONE_FORWARD = ["refused", "refusing", "declined", "decided against", "deferred", "avoided", "did not undergo",
                    "did not perform", "not perform", "unable to undergo", "no need for", "not eligible for",
                    "poor candidate for", "not a candidate for", "did not recommend", "not recommended"]

#: a treatment that was stopped
STOPPED_FORWARD = ["stop", "stopping", "stopped", "discontinue", "discontinued", "discontinuing",
                   "discontinuation of", "withdrawal of", "withdrew", "withdraw", "cessation of", "ceased", "cease",
                   "held", "withheld", "withholding", "hold", "tapered off", "weaned off", "weaning of", "suspended",
                   "interrupted", "interruption of", "self-discontinued", "weaned from"]
STOPPED_BACKWARD = ["was discontinued", "were discontinued", "was stopped", "were stopped", "was withdrawn",
                    "were withdrawn", "was held", "were held", "was withheld", "were withheld", "was suspended",
                    "were suspended", "was ceased", "were ceased", "was tapered off", "was interrupted",
                    "discontinued", "withdrawn", "was denied"]


def negation_rules() -> list[dict[str, Any]]:
    out = rules(NEG_FORWARD, NEG, "forward", NOT_TESTS)
    out += rules(NEG_LEXICAL_FORWARD, NEG, "forward", NOT_TESTS, within_entity=False)
    out.append(pattern_rule("<be> ruled out/excluded/negative/absent", be_passive(NEG_PASSIVE), NEG, "backward",
                            NOT_TESTS))
    out += rules(NEG_BACKWARD, NEG, "backward", NOT_TESTS)
    out.append(pattern_rule("<be> not seen/observed/found...", be_not(NOT_SEEN), NEG, "backward", NOT_TESTS))
    out.append(pattern_rule("<be> not associated with/accompanied by", be_not(NOT_WITH), NEG, "forward",
                            NOT_TESTS))
    lexical: dict[str, Any] = {"within_entity": False}
    # "the rash (was gradually) resolved"; "was stopped/ceased" is left to the treatment rules below
    be_heads = [h for h in RESOLVED_BACKWARD if h not in STOPPED_FORWARD]
    out.append(pattern_rule("<be> resolved/disappeared...",
                            rf"(?<!\w){BE}\s+(?:(?!{PARTLY}\b)\w+ly\s+)?" + alt(be_heads) + r"(?!\w)", NEG,
                            "backward", ONLY_FINDINGS, max_scope=10, **lexical))
    out += rules(RESOLVED_BACKWARD, NEG, "backward", ONLY_FINDINGS, max_scope=10, **lexical)
    out += rules(RESOLVED_FORWARD, NEG, "forward", ONLY_FINDINGS, max_scope=6, **lexical)
    out.append(rule("free", NEG, "backward", ONLY_FINDINGS, max_scope=2, **lexical))
    out.append(pattern_rule("-free", r"(?<=\w)-free\b", NEG, "backward", ONLY_FINDINGS, max_scope=1, **lexical))
    out.append(pattern_rule("<be> not performed/done/available...", be_not(NOT_DONE), NEG, "backward", **lexical))
    out += rules(NOT_DONE_BACKWARD, NEG, "backward", **lexical)
    out += rules(NOT_DONE_FORWARD, NEG, "forward", **lexical)
    out.append(pattern_rule("<be> unsuccessful", be_passive(["unsuccessful"]), NEG, "backward", **lexical,
                            note="'the attempt to perform a mitral valve repair was unsuccessful'"))
    out.append(pattern_rule("failed an attempt at",
                            r"\bfailed\s+(?:(?:a|an|the)\s+)?(?:\w+\s+)?attempts?\s+(?:at|to)\b", NEG, "forward",
                            max_scope=3, **lexical))
    # a finding that did not occur or stopped: "liver dysfunction did not appear", "she ceased to vomit"; these
    # verbs also take the finding after them ("did not develop fever", "did not appear swollen")
    out += rules(["did not appear", "did not occur", "did not develop", "did not recur"], NEG, "bidirectional",
                 ONLY_FINDINGS, max_scope=6, **lexical)
    out.append(rule("ceased to", NEG, "backward", ONLY_FINDINGS, max_scope=6, **lexical))
    out += rules(["ceased to", "stopped"], NEG, "forward", ONLY_FINDINGS, max_scope=2, **lexical)
    out += rules(STOPPED_FORWARD, NEG, "forward", ONLY_TREATMENTS, **lexical)
    out += rules(STOPPED_BACKWARD, NEG, "backward", ONLY_TREATMENTS, **lexical)
    out.append(pattern_rule(
        "was suggested but declined",
        r"\b(?:was|were)\s+(?:suggested|proposed|offered|recommended|advised),?\s+but\s+(?:(?:she|he|they|the\s+"
        r"patient|the\s+parents|the\s+family)\s+)?(?:declined|refused|denied)\b", NEG, "backward", **lexical,
        note="a treatment offered and refused"))
    out.append(pattern_rule("was denied a", r"\b(?:was|were)\s+denied\s+(?:a|an|the|any)\b", NEG, "forward",
                            **lexical, note="'he was denied a heart transplant' (not 'X was denied')"))
    # removal of a device, a clot or a tumour: MACCROBAT marks the removed thing as absent
    out.append(rule("removal of", NEG, "forward", max_scope=2, **lexical))
    out.append(pattern_rule("<be> removed", rf"\b{BE}\s+(?:\w+ly\s+)?removed\b", NEG, "backward", max_scope=10,
                            **lexical))
    out.append(rule("removed", NEG, "backward", max_scope=2, **lexical))
    # negating affixes: "non-[tender]", "[tumor]-negative"
    out.append(pattern_rule("non-", r"\bnon-(?=\w)", NEG, "forward", max_scope=1, **lexical))
    out.append(pattern_rule("-negative", r"(?<=\w)-negative\b", NEG, "backward", NOT_TESTS, max_scope=1, **lexical))
    return out


# ----------------------------------------------------------------------------------------------- uncertainty

POSSIBLE_FORWARD = [
    "possible", "possibly", "probable", "probably", "likely", "suspected", "suspect", "suspicion of",
    "suspicion for", "suspicious for", "suspicious of", "concern for", "concerning for", "concerns for",
    "concern that", "may", "might", "could", "questionable", "question of", "rule out", "r/o", "to rule out",
    "to exclude", "versus", "vs", "vs.", "presumed", "presumptive", "presumably", "consider",
    "considering", "suggestive of", "suggesting", "suggests", "impression of",
    "thought to be", "felt to be", "believed to be", "cannot rule out", "cannot be ruled out",
    "could not rule out", "cannot exclude", "not excluded", "could not be excluded", "can not be excluded",
    "evaluate for", "evaluation for", "worrisome for", "perhaps", "uncertain", "unclear",
    "equivocal", "doubtful", "whether", "raising the possibility of", "possibility of", "high suspicion of",
    "clinical suspicion of", "tentative diagnosis of", "working diagnosis of", "in suspicion of",
    "under the impression of", "diagnosis of exclusion", "was suspected to", "were suspected to",
    "is suspected to", "was suspected of", "was suspected as", "suspected of", "suspected to",
    "was thought to be", "were thought to be", "is thought to be", "provisional diagnosis of",
    "presumptive diagnosis of", "possible diagnosis of", "probable diagnosis of", "under the diagnosis of",
    "supposed", "was supposed to", "must have been", "most probably", "most likely", "treated as",
    "considered as", "was considered as", "was considered to be", "was felt to be",
]
DIFFERENTIAL = ["differential diagnosis", "differential diagnoses", "differential diagnosis included",
                "differential diagnosis of", "differential diagnoses included", "differential includes"]
TESTED_FOR = ["genetic analysis for", "tested for", "screened for", "screening for", "workup for", "work-up for",
              "testing for", "investigated for", "investigations for"]
POSSIBLE_BACKWARD = [
    "was suspected", "were suspected", "is suspected", "was considered", "were considered", "was presumed",
    "cannot be excluded", "could not be excluded", "can not be excluded", "not excluded", "cannot be ruled out",
    "could not be ruled out", "was questioned", "was possible", "is possible", "is likely", "was likely",
    "is probable", "was probable", "was thought", "is unlikely", "was unlikely", "highly suspected",
    "was highly suspected", "strongly suspected",
]
HYPOTHETICAL_FORWARD = ["if", "in case of", "should", "risk of", "risk for", "prevention of", "prevent",
                        "prophylaxis against", "prophylaxis for", "prophylaxis of", "to evaluate", "to assess",
                        "to determine", "to investigate", "evaluated for", "in order to exclude"]
PLANNED_FORWARD = ["planned", "plan for", "plan to", "scheduled for", "awaiting", "candidate for",
                   "to be evaluated for", "would require", "will require", "will undergo", "is planned"]
PLANNED_BACKWARD = ["was planned", "were planned", "is planned", "is being considered", "was being considered",
                    "was scheduled", "were scheduled", "is scheduled"]
#: a test or treatment that was only recommended: "a low-salt diet was suggested", "imaging was advised"
RECOMMENDED = ["suggested", "recommended", "advised", "proposed", "offered"]
#: ("suggested" only after its object: "imaging suggested a mass" reports a result)
RECOMMEND_FORWARD = ["recommended", "advised", "proposed", "recommend", "advise", "consider", "was planned for",
                     "were planned for", "planned for"]


def uncertainty_rules() -> list[dict[str, Any]]:
    out = rules(POSSIBLE_FORWARD, POSS, "forward", ONLY_FINDINGS)
    out += partial_resolution_rules()
    out += rules(DIFFERENTIAL, POSS, "forward", ONLY_FINDINGS, max_scope=30)
    out += rules(TESTED_FOR, POSS, "forward", ONLY_FINDINGS, max_scope=6)
    out += rules(POSSIBLE_BACKWARD, POSS, "backward", ONLY_FINDINGS)
    out += rules(HYPOTHETICAL_FORWARD, HYPO, "forward", ONLY_FINDINGS)
    out += rules(PLANNED_FORWARD, HYPO, "forward", PLANS)
    out += rules(PLANNED_BACKWARD, HYPO, "backward", PLANS)
    out.append(pattern_rule("<be> suggested/recommended...", be_passive(RECOMMENDED), HYPO, "backward",
                            INTERVENTIONS, max_scope=8))
    out += rules(RECOMMEND_FORWARD, HYPO, "forward", INTERVENTIONS, max_scope=6)
    out.append(rule("continuation of", HYPO, "terminate", note="'recommended the continuation of X': X is ongoing"))
    return out


# ---------------------------------------------------------------------------------------- history and family

HISTORICAL_FORWARD = ["history of", "h/o", "past medical history", "past medical history of", "medical history of",
                      "medical history", "past history of", "pmh", "previous", "previously", "prior", "formerly",
                      "remote", "status post", "s/p", "had undergone", "had been diagnosed with",
                      "had a history of", "childhood"]
HISTORICAL_BACKWARD = ["years ago", "months ago", "year ago", "in childhood", "in the past", "years earlier",
                       "years before", "years previously"]
FAMILY_FORWARD = ["family history", "family history of", "family hx", "fh", "familial history of",
                  "history in the family", "family members had", "family member had"]
RELATIVES = (r"(?:mother|father|sister|brother|sibling|siblings|aunt|uncle|grandmother|grandfather|cousin|cousins|"
             r"son|daughter|parents|niece|nephew|grandparents|relatives|twin\s+(?:brother|sister))")


def history_family_rules() -> list[dict[str, Any]]:
    out = rules(HISTORICAL_FORWARD, HIST, "forward")
    out += rules(HISTORICAL_BACKWARD, HIST, "backward")
    out += rules(FAMILY_FORWARD, FAM, "forward", max_scope=12)
    out.append(pattern_rule(
        "<relative> had",
        rf"\b{RELATIVES}(?:\s*\([^)]{{0,20}}\))?\s+(?:who\s+|also\s+|both\s+)?(?:had|has|have|"
        r"was\s+diagnosed\s+with|were\s+diagnosed\s+with|had\s+been\s+diagnosed\s+with|died\s+(?:of|from)|"
        r"suffered\s+from|suffers\s+from|with|carried|carries|was\s+affected\s+by|were\s+affected\s+by|developed|"
        r"was|were|is|are)\b",
        FAM, "forward", max_scope=8, note="a relative as the subject of a condition: 'her mother had lupus'"))
    out.append(pattern_rule(
        "in his mother",
        r"\b(?:in|of)\s+(?:his|her|their|the\s+patient'?s|a)\s+(?:elder\s+|older\s+|younger\s+|maternal\s+|"
        rf"paternal\s+|first-degree\s+)?{RELATIVES}\b",
        FAM, "backward", max_scope=8, note="'lupus in his mother'"))
    return out


# ---------------------------------------------------------------------------------------------------- pseudo

PSEUDO = [
    "no increase", "no change", "no changes", "no significant change", "no interval change", "no suspicious change",
    "no evident change", "not only", "not necessarily", "not certain whether", "not certain if", "not drain",
    "not extend", "not cause", "not rule out", "not ruled out", "no further change", "gram negative",
    "gram-negative", "gram positive", "without difficulty", "not clear", "non-small", "non small",
    "negative predictive value", "history of present illness", "history and physical", "acute history of",
    "recent history of", "short history of", "as previously described", "as previously reported",
    "previously described", "previously reported", "family history was", "not been ruled out",
    "previously healthy", "non hodgkin", "did not appear to", "for removal of", "for the removal of", "may be", "the mother of", "mother tongue", "son of", "not satisfied",
    "without changing", "not be excluded", "negative pattern", "free air", "free fluid", "free wall", "free edge",
    "free light chain", "free light chains", "free thyroxine", "free t4", "free t3", "free triiodothyronine",
    "negative t wave", "negative t waves", "negative t-wave", "negative t-waves", "triple negative",
    "triple-negative",
]
#: a change that did not happen: the phrase does not negate what changed ("the mass did not regress"), but it
#: negates the event when that is annotated inside it ("did not [regress]", "no [improvement]")
PSEUDO_EVENTS = [
    "did not improve", "does not improve", "not improve", "not improved", "no improvement",
    "no significant improvement", "did not respond", "not respond", "not responding", "no response",
    "failed to respond", "failed to improve", "did not increase", "did not decrease", "not decrease",
    "did not regress", "not regress", "not change", "did not change", "no hematological response", "not tolerate",
    "did not tolerate", "not relieved", "not relieve", "no relief", "not resolved", "not resolve", "no resolution",
    "not disappear", "not disappeared", "not subside", "not subsided", "not regressed", "not cleared",
    "not normalized",
]
NUMBER = (r"(?:\d+(?:\.\d+)?(?:\s*[-–]\s*\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
          r"several|few|many|couple\s+of)")


def pseudo_rules() -> list[dict[str, Any]]:
    out = rules(PSEUDO, None, "pseudo")
    out += rules(PSEUDO_EVENTS, NEG, "pseudo")
    out.append(pattern_rule(
        "N-week history of",
        rf"\b{NUMBER}\s*-?\s*(?:day|week|month|year|yr|hour)s?\s*-?\s*(?:long\s+)?history\s+of\b",
        None, "pseudo", note="'a 6-week history of palpitations' is the present illness"))
    out.append(pattern_rule("May <day/year>", r"\bMay\s+(?:\d|of\b)", None, "pseudo", note="the month"))
    return out


# ----------------------------------------------------------------------------------------------- termination

#: a cause or explanation follows: "no fever due to X" does not negate X
CAUSE_TERMS = ["because", "because of", "due to", "secondary to", "as the cause of", "cause of", "causes of",
               "etiology of", "origin of", "reason for", "source of", "as a result of", "cause for", "causes for",
               "etiology for", "explanation for", "risk factor for", "risk factors for", "risk factors of"]
CLAUSE_TERMS = ["but", "however", "although", "though", "yet", "except", "except for", "apart from", "aside from",
                "which", "who", "whose", "since", "unless", "still", "nevertheless", "whereas", "while", ";",
                "despite", "after", "during", "that", "presenting", "presented", "presents", "confirming", "began",
                "started", "initiated", "resumed", "restarted", "then", "thereafter", "subsequently", "instead",
                "in favor of", "in favour of", "replaced by", "owing to", "leading to", "resulting in",
                "followed by", "until", "later"]
#: an affirmed diagnosis follows
DIAGNOSIS_TERMS = ["consistent with", "compatible with", "indicative of", "confirmed", "was diagnosed",
                   "were diagnosed", "diagnosed with", "diagnosis of"]
HISTORY_TERMS = ["admitted", "now", "currently", "today", "is being"]


def termination_rules() -> list[dict[str, Any]]:
    out = rules(CAUSE_TERMS, NEG, "terminate")
    out += rules(CAUSE_TERMS, POSS, "terminate")  # "was thought to be due to X": X itself is not in doubt
    out += rules(CLAUSE_TERMS, None, "terminate")
    out += rules(DIAGNOSIS_TERMS, NEG, "terminate")
    out += rules(DIAGNOSIS_TERMS, POSS, "terminate")
    out.append(pattern_rule(", <subject>", r",\s+(?:and\s+)?(?:she|he|they|it|we|the patient|his|her)\b", None,
                            "terminate", note="a new clause with its own subject"))
    out.append(pattern_rule(", <article>", r",\s+(?:a|an|the)\b", NEG, "terminate",
                            note="a list of negated findings has no articles: 'no fever, chills or cough'"))
    out += rules(HISTORY_TERMS, HIST, "terminate")
    out.append(rule("developed", None, "terminate"))
    out.append(pattern_rule("and <verb>", r"\band\s+(?:then\s+)?(?:had|has|have|was|were|is|are|decided|required|"
                            r"underwent|received|proceeded|became|scheduled)\b", NEG, "terminate",
                            note="a coordinated clause with its own verb"))
    out.append(pattern_rule("and <possessive>", r"\band\s+(?:his|her|their|its|the\s+patient'?s)\b", NEG,
                            "terminate", note="a new subject: 'without complication and his anaemia improved'"))
    out.append(pattern_rule("<be>", r"\b(?:was|were|is|are)\b", NEG, "terminate",
                            note="a finite 'to be' closes the negated phrase: 'no rales were heard and crackles "
                                 "were ...'; post-negations ('were not seen') include it and win. Misses a finding "
                                 "in the predicate of a negated subject: 'no nodes were [palpable]'"))
    out.append(pattern_rule(", with", r",\s+with\b", NEG, "terminate", note="'without X, with good Y'"))
    out.append(rule("only", NEG, "terminate", note="'no focal findings and only slight rigidity'"))
    return out


# ------------------------------------------------------------------------------------------------------ main

def build() -> list[dict[str, Any]]:
    """All rules, in file order."""
    return negation_rules() + uncertainty_rules() + history_family_rules() + pseudo_rules() + termination_rules()


def render(rule_list: list[dict[str, Any]]) -> str:
    """One rule per line, like the hand-written file it replaces."""
    return "[\n" + ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rule_list) + "\n]\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the JSON file differs from what is built")
    ap.add_argument("--out", type=Path, default=OUT, help=f"output file (default: {OUT})")
    args = ap.parse_args(argv)
    text = render(build())
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run python scripts/build_context_rules.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {len(build())} rules to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
