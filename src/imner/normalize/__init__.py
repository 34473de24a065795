"""Normalization of entity mentions to ontology codes (DOID + ICD-10-CM, HPO, DrugBank, NCBITaxon).

>>> from imner.normalize import Normalizer
>>> doc = Normalizer()(doc)          # spans now carry code_status, concept_id, doid/hpo/..., category...

* :mod:`imner.normalize.normalizer`: :class:`Normalizer` (what is written to which spans);
* :mod:`imner.normalize.matcher`: the matching stages (exact, light variants, token-sorted);
* :mod:`imner.normalize.abbrev`: Schwartz-Hearst abbreviation definitions in a text;
* :mod:`imner.normalize.drug_classes`: curated drug-class rules (``resources/drug_classes.json``).
"""

from __future__ import annotations

from imner.normalize.abbrev import Abbreviation, find_abbreviation_pairs, find_abbreviations
from imner.normalize.drug_classes import DrugClassRules, load_drug_class_rules
from imner.normalize.matcher import Match, TermMatcher
from imner.normalize.normalizer import DISEASE, OUTPUT_KEYS, Normalizer, concept_attrs

__all__ = [
    "Abbreviation", "DISEASE", "DrugClassRules", "Match", "Normalizer", "OUTPUT_KEYS", "TermMatcher",
    "concept_attrs", "find_abbreviation_pairs", "find_abbreviations", "load_drug_class_rules",
]
