"""Assertion status of entity mentions: a ConText/NegEx-style algorithm in pure Python.

For every entity span of a :class:`~imner.types.Document` the :class:`ContextAnnotator` writes flat span attrs:

``negated``
    the finding is said to be absent ("no fever", "X was ruled out");
``uncertain``
    the writer is unsure whether it is there ("possible", "probable", "suspected", "cannot be excluded",
    "rule out", "versus");
``hypothetical``
    it is not asserted to exist now or before, only conditional, instructed, future or planned ("if",
    "should", "call for any", "return if", "risk of", "prophylaxis against", "scheduled for", "will start",
    a *plan* or *instructions* section);
``historical``
    in the patient's past ("history of TB", "previous hepatitis B", "quit smoking", "former smoker", a
    *past medical / surgical / social history* section);
``experiencer``
    whose condition it is: ``patient``, ``family`` ("his mother had lupus", a *family history* section),
    ``donor`` ("the donor was CMV positive") or ``other`` ("her husband has tuberculosis");
``family``
    ``experiencer == "family"`` (the common case, as a boolean);
``section``
    the note section the entity is in (``past_medical_history``, ``plan`` ...; ``None`` outside any;
    :mod:`imner.context.sections`, with a LOINC mapping for OMOP's ``section_concept_id``).

How hedges map, following ConText's categories: a hedge about whether a condition is present ("possible",
"likely", "suspicious for", "cannot be excluded", "differential includes", "to rule out") is ``uncertain``
(ConText's POSSIBLE_EXISTENCE, a value of certainty); talk of something that may happen ("risk of", "in case
of", "discussed the possibility of him developing") is ``hypothetical`` (ConText's HYPOTHETICAL, a value of
temporality), never ``uncertain``. Neither sets ``negated``: both are affirmed mentions with a qualifier, and a
user who needs ConText's binary affirmed/negated reads ``negated`` alone.

The package, along its seams:

* :mod:`imner.context.rules`: the rule schema (:class:`ContextRule`) and its loading and validation;
* :mod:`imner.context.lead`: the matcher's speed index (the words a rule's regex can start with);
* :mod:`imner.context.matcher`: leftmost-longest, non-overlapping matching of the rule phrases;
* :mod:`imner.context.scope`: scope resolution and the :class:`ContextAnnotator`;
* :mod:`imner.context.sections`: section detection, with its rules as data.

The source of truth of the rules is the JSON (``resources/context_rules.json``, one rule per line), as in
medspaCy: it is hand-edited and validated on load. It was generated from a Python script before; we chose the
JSON because it is what users read, diff and replace with their own file (``ContextAnnotator(rules_path=...)``),
because a second source would have to be kept equal to it by a check, and because what the script added
(folding "was / were / has been ... not seen" into one regular expression) is written once in the rule's
``pattern`` and stays readable there. Keys of a rule, modelled on medspaCy's ``ConTextRule``:

* ``literal`` (required): the trigger phrase; spaces match any run of white space or a hyphen;
* ``direction`` (required): ``forward`` (modifies what follows), ``backward`` (what precedes),
  ``bidirectional``, ``terminate`` (ends the scope of other triggers) or ``pseudo`` (a phrase that
  contains a trigger but is not one, e.g. "no increase", "gram negative": it wins over the trigger);
* ``category``: ``NEGATED_EXISTENCE``, ``POSSIBLE_EXISTENCE``, ``HYPOTHETICAL``, ``HISTORICAL``, ``FAMILY``,
  ``DONOR``, ``OTHER_EXPERIENCER``; required for triggers; on a ``terminate`` rule it limits the termination
  to that category's attr (absent: all; the three experiencer categories share one attr), and it also stops
  a section's effect on that attr; on a ``pseudo`` rule (optional) it is given to an entity that starts
  inside the phrase after its first word: the phrase "did not regress" does not negate "the mass" it is
  about, but it does negate the event "[regress]" annotated inside it, as "no change" negates "[change in
  vision]";
* ``pattern`` (optional): a Python regular expression used instead of the literal (matched
  case-insensitively; add your own ``\\b``);
* ``max_scope`` (optional): scope limit in words (punctuation not counted) on each side, overriding the
  annotator's default;
* ``allowed_types`` / ``excluded_types`` (optional): entity labels the trigger may / may not modify;
* ``within_entity`` (optional, default true): whether the trigger modifies an entity it lies inside, which
  it does only when it opens the entity (forward) or closes it (backward). Function words do ("[no regular
  medication]" is negated); content words such as "absence of", "unable to" or "resolution of" inside an
  entity name the finding itself ("[absence of appetite]" is present);
* ``metadata`` (optional): free-form notes, ignored.

Scope policy
    A trigger's scope stays within its sentence (:func:`imner.text.split_sentences`). It runs from the trigger, in
    its direction, up to the nearest termination phrase applicable to its category, the sentence boundary, or
    ``max_scope`` words, whichever comes first (a termination phrase inside an entity, as in "source of bleeding",
    is ignored; one that starts inside an entity ends scopes after it, so "no allergy to penicillin" negates
    "allergy" and not "penicillin"; an entity without a trigger in it counts as one word, so a list of long findings
    stays in scope; a cue inside an entity that it does not modify reaches only what lies inside that entity:
    "[could not walk], [tremor]"; the comma that closes a leading subordinate clause, as in "As she declined
    chemotherapy, [recurrence] followed" or "Although there was no fever, [cough] persisted", ends a negation inside
    the clause). Other entities do **not** end a scope, so "no fever, chills or cough" negates all three.
    Phrases are matched leftmost-longest without overlap, so "no history of" (negation) beats "history of"
    (historical), "would not support a diagnosis of" hides the termination phrase "diagnosis of" (and "nor were
    there" the termination "were"), and a pseudo-trigger hides every trigger it overlaps.

Spans whose label is in ``skip_labels`` (by default the modifier classes ANATOMY, LAB_VALUE, SEVERITY and
TEMPORAL, which carry no assertion of their own) are returned unchanged, without these keys.
"""

from __future__ import annotations

from imner.context.lead import lead_words
from imner.context.matcher import Cue, Matcher
from imner.context.rules import (ALLOWED_KEYS, ASSERTION_KEYS, CATEGORIES, CATEGORY_FLAGS, DEFAULT_RULES_PATH,
                                 DIRECTIONS, EXPERIENCERS, FLAGS, ContextRule, load_rules, rule_from_dict)
from imner.context.scope import MODIFIER_LABELS, ContextAnnotator
from imner.context.sections import SECTION_LOINC, Section, Sectionizer, load_section_rules

#: the former private names, kept for callers of the single-module version
_lead_words = lead_words
_Matcher = Matcher

__all__ = ["ALLOWED_KEYS", "ASSERTION_KEYS", "CATEGORIES", "CATEGORY_FLAGS", "DEFAULT_RULES_PATH", "DIRECTIONS",
           "EXPERIENCERS", "FLAGS", "MODIFIER_LABELS", "SECTION_LOINC", "ContextAnnotator", "ContextRule", "Cue",
           "Matcher", "Section", "Sectionizer", "lead_words", "load_rules", "load_section_rules", "rule_from_dict"]
