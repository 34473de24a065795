"""What the corpus builder needs on top of the ontology layer: a string-matching key and a name index.

The Disease Ontology, MONDO, the NCBITaxon import modules and every class decision come from the one ontology layer,
:mod:`imner_dev.lexicon.ontology` (its readers are :mod:`imner_dev.lexicon.sources`, its rules
:mod:`imner_dev.lexicon.classify`), which also builds the packaged lexicon index. Only this lives here:

* :func:`norm` / :func:`norm_words`, the punctuation-free matching key of the pre-annotation (the guideline term list,
  DO names, pathogen names);
* :class:`DiseaseNames`, the DO names under that key (DO label, EXACT synonym of DO's subset files, MONDO label of
  an exactly-matching MONDO term) and the MeSH/OMIM -> DOID index, both built from the layer
  (:func:`disease_names`), with each DOID's class from the layer's
  :class:`~imner_dev.lexicon.classify.DiseaseClassifier` (:meth:`DiseaseNames.disease_class`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from imner_dev.lexicon import ontology as lexicon_ontology
from imner_dev.lexicon.classify import DiseaseClass
from imner_dev.lexicon.ontology import Ontology


def norm(s: str) -> str:
    """Matching key: lower case, accents removed, curly quotes straightened, possessive 's and other apostrophes
    removed, non-alphanumerics to single spaces (``"Crohn’s disease"`` -> ``"crohn disease"``)."""
    return " ".join(norm_words(s)).lower()


def norm_words(s: str) -> list[str]:
    """The words of :func:`norm`, case kept (accents removed: "Sjögren" -> "Sjogren")."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("’", "'").replace("‘", "'")
    s = re.sub(r"'s\b", "", s)
    s = s.replace("'", "")
    return re.sub(r"[^0-9A-Za-zα-ωΑ-Ω]+", " ", s).split()


@dataclass
class DiseaseNames:
    """DO names and MeSH/OMIM cross-references under :func:`norm`, over one :class:`Ontology`."""

    ontology: Ontology
    #: norm(name) -> {doid: source} where source is "label", "synonym" or "mondo" (the first source found wins)
    names: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    #: "MESH:D003924" / "OMIM:222100" -> DOIDs
    xrefs: dict[str, set[str]] = field(default_factory=dict)

    @property
    def label(self) -> dict[str, str]:
        """DOID -> DO label."""
        return self.ontology.do.name

    def disease_class(self, doid: str) -> DiseaseClass:
        """The class the packaged lexicon gives ``doid`` (:meth:`DiseaseClassifier.classify`)."""
        return self.ontology.classifier.classify(doid)

    def lookup(self, text: str) -> dict[str, str]:
        """DOIDs whose label/synonym/MONDO label matches ``text`` (after :func:`norm`), with the name source."""
        return dict(self.names.get(norm(text), {}))


def names_of(ont: Ontology) -> DiseaseNames:
    """The :class:`DiseaseNames` of ``ont``."""
    dn = DiseaseNames(ont)
    do = ont.do
    for doid, label in do.name.items():
        dn.names[norm(label)][doid] = "label"
    for doid, syns in do.synonyms.items():
        for syn, scope, _ in syns:
            if scope == "EXACT":
                dn.names[norm(syn)].setdefault(doid, "synonym")
    for mondo, doids in ont.mondo_to_doid.items():
        for doid in doids:
            dn.names[norm(ont.mondo_label[mondo])].setdefault(doid, "mondo")
    dn.xrefs = dict(ont.xref_index(("MESH", "OMIM")))
    return dn


@functools.lru_cache(maxsize=1)
def disease_names() -> DiseaseNames:
    """The name index over :func:`imner_dev.lexicon.ontology.default` (cached)."""
    return names_of(lexicon_ontology.default())
