"""Pre-assign a disease class (IMMUNE_DISEASE / INFECTIOUS_DISEASE / OTHER_DISEASE) to a disease mention.

This is the first pass the review starts from, not the gold decision. Steps, first that applies wins
(guideline "Deciding the disease class"):

1. **rule 7, neoplasm words** in the mention (carcinoma, lymphoma, tumor, cancer, malignancy, metastasis, any
   ``-oma`` word except non-neoplastic ones such as granuloma, hematoma, glaucoma, trachoma) -> OTHER_DISEASE.
2. **rule 3, post-infectious words** (post-infectious, post-streptococcal, parainfectious) -> IMMUNE_DISEASE.
3. **rule 1, mechanism words** in the mention: infectious ("viral", "bacterial", "septic", "sepsis",
   "infectious", "infective", "infection", "fungal", "tuberculous", ... or a pathogen name inside the mention:
   "CMV colitis", "MRSA bacteremia") -> INFECTIOUS_DISEASE; immune ("autoimmune", "immune-mediated", "reactive",
   "allergic", "lupus", "hypersensitivity", "graft-versus-host", "rejection") -> IMMUNE_DISEASE. A negated
   infectious word ("non-infectious", "aseptic", "sterile") is no infectious cue. Both kinds -> low confidence.
4. **abbreviation defined in the document** ("hepatocellular carcinoma (HCC)"): the class of the long form.
5. **guideline term list** (``resources/annotation/disease_terms.tsv``): the guideline's examples and the
   places where the Disease Ontology disagrees with the guideline (pneumonia, sepsis, rheumatic fever ...).
6. **Disease Ontology** exact name match (DO label, DO slim EXACT synonym, MONDO label of a term mapped to DO;
   :func:`imner_dev.annotation.ontology.disease_names`), then the class the packaged lexicon gives that DOID: the
   ontology layer's :class:`~imner_dev.lexicon.classify.DiseaseClassifier` (guideline rule 2: infectious evidence,
   DOID:0050117 "disease by infectious agent" among it -> INFECTIOUS; DOID:2914 "immune system disease" minus its
   DOID:75 "lymphatic system disease" branch -> IMMUNE; neoplasms (DOID:14566) -> OTHER; the curated class
   overrides first). A name matching DOIDs of different classes -> the most frequent, low confidence.
7. **imner lexicon** (:mod:`imner.lexicon`, when the packaged index loads): a disease concept gives its class
   (medium); a phenotype concept (HPO, SIGN_SYMPTOM) gives OTHER_DISEASE by rule 4 with that evidence (medium).
8. **head match**: steps 5-6 on the mention without its first word(s) ("decompensated liver cirrhosis" ->
   "liver cirrhosis"), medium confidence.
9. **rule 4**: nothing found -> OTHER_DISEASE, low confidence.

Where steps 5-6 or 8 decided and the imner lexicon classes the mention differently, the evidence says so and the
confidence drops to low, so the review looks at it.

Each result carries the evidence (rule / lexicon id and name) and a confidence (high, medium, low).
"""

from __future__ import annotations

import csv
import functools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from imner.lexicon.normalize import singular as singular_word
from imner_dev import RESOURCES
from imner_dev.annotation.ontology import DiseaseNames, disease_names, norm, norm_words

IMMUNE, INFECTIOUS, OTHER = "IMMUNE_DISEASE", "INFECTIOUS_DISEASE", "OTHER_DISEASE"
CONFIDENCES = ("high", "medium", "low")
TERMS_FILE = RESOURCES / "annotation" / "disease_terms.tsv"

_NEOPLASM_WORDS = frozenset("""carcinoma carcinomas adenocarcinoma adenocarcinomas carcinomatosis lymphoma lymphomas
tumor tumors tumour tumours cancer cancers malignancy malignancies malignant metastasis metastases metastatic neoplasm
neoplasms neoplasia neoplastic sarcoma sarcomas leukemia leukaemia leukemias myeloma melanoma carcinoid
lymphoproliferative myelodysplastic myeloproliferative""".split())
#: "-oma" words that are not neoplasms
_OMA_EXCEPTIONS = frozenset("""granuloma granulomas hematoma hematomas haematoma haematomas glaucoma trachoma coma
stoma atheroma atheromas mycetoma condyloma condylomas condylomata rhinoscleroma lymphogranuloma xanthoma xanthomas
seroma seromas urinoma scotoma diploma aroma soma chiasma""".split())
#: heads too generic to classify by ("chronic disease", "pulmonary syndrome")
_GENERIC_HEADS = frozenset("""disease disorder syndrome condition abnormality abnormalitie dysfunction lesion problem
complication pathology anomaly""".split())
_POST_INFECTIOUS = re.compile(r"\b(post ?infectious|post ?streptococcal|para ?infectious|post ?viral)\b")
_NOT_INFECTIOUS = re.compile(r"\b(non ?infectious|non ?infective|non ?bacterial|abacterial|aseptic|sterile|"
                             r"non ?viral)\b")
_INFECTIOUS_CUES = re.compile(r"\b(viral|virus|viruses|bacterial|bacteria|septic|sepsis|infectious|infective|"
                              r"infection|infections|infected|fungal|mycotic|parasitic|parasites|tuberculous|"
                              r"tubercular|pyogenic|opportunistic|microbial|germs)\b")
_IMMUNE_CUES = re.compile(r"\b(autoimmune|auto immune|immune mediated|immune related|immunemediated|reactive|"
                          r"allergic|allergy|lupus|hypersensitivity|graft versus host|rejection|autoinflammatory|"
                          r"anaphylactic|anaphylaxis)\b")


@dataclass(frozen=True)
class PreLabel:
    """A pre-assigned disease class with its evidence and confidence (high/medium/low)."""

    label: str
    evidence: str
    confidence: str


@dataclass(frozen=True)
class Term:
    label: str
    confidence: str
    note: str


@functools.lru_cache(maxsize=1)
def guideline_terms() -> dict[str, Term]:
    """The curated term list, keyed by :func:`norm` of the term."""
    out: dict[str, Term] = {}
    with open(TERMS_FILE, encoding="utf-8", newline="") as fh:
        rows = csv.reader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")
        header = next(rows)
        assert header[:3] == ["term", "label", "confidence"], header
        for n, row in enumerate(rows, start=2):
            term, label, conf, note = (row + [""] * 4)[:4]
            if label not in (IMMUNE, INFECTIOUS, OTHER) or conf not in CONFIDENCES:
                raise ValueError(f"{TERMS_FILE}: bad row {row!r}")
            out[norm(term)] = Term(label, conf, note)
    return out


def singular(key: str) -> str:
    """``key`` with its last word made singular (:func:`imner.lexicon.normalize.singular`: effusions -> effusion,
    abscesses -> abscess, diagnoses -> diagnosis; not -ss/-is/-us)."""
    words = key.split()
    return " ".join(words[:-1] + [singular_word(words[-1])]) if words else key


def neoplasm_word(key: str) -> str | None:
    """The first neoplasm word of a normalized mention (rule 7), if any."""
    for w in key.split():
        if w in _NEOPLASM_WORDS:
            return w
        if (w.endswith("oma") or w.endswith("omas")) and len(w) > 5 and w not in _OMA_EXCEPTIONS:
            return w
    return None


def do_class(dn: DiseaseNames, doids: Iterable[str]) -> tuple[str, str, str]:
    """(label, confidence, evidence) for a set of DOIDs matched by one name: the class the ontology layer gives each
    (:meth:`DiseaseNames.disease_class`); DOIDs of different classes -> the most frequent, low confidence."""
    doids = sorted(doids)
    classes = [dn.disease_class(d) for d in doids]
    counts = Counter(c.label for c in classes)
    ids = ", ".join(f"{d} {dn.label.get(d, '')!r}" for d in doids[:3]) + (" ..." if len(doids) > 3 else "")
    if len(counts) > 1:
        pick = max(sorted(counts), key=counts.__getitem__)
        return pick, "low", f"DO {ids}: name matches terms of different classes"
    return classes[0].label, "high", f"DO {ids} ({classes[0].rule})"


def _looks_like_acronym(mention: str) -> bool:
    letters = [c for c in mention if c.isalpha()]
    return bool(letters) and len(mention) <= 8 and sum(c.isupper() for c in letters) >= max(2, len(letters) - 1)


def _lexicon(key: str, *, acronym: bool) -> PreLabel | None:
    """Steps 5-6 on one normalized key (and its singular)."""
    terms = guideline_terms()
    dn = disease_names()
    for k in dict.fromkeys((key, singular(key))):
        if k in terms:
            t = terms[k]
            conf = "medium" if acronym and t.confidence == "high" else t.confidence
            return PreLabel(t.label, f"guideline-terms {k!r}: {t.note}", conf)
    for k in dict.fromkeys((key, singular(key))):
        hits = dn.names.get(k)
        if hits:
            label, conf, ev = do_class(dn, hits)
            if acronym or all(src != "label" for src in hits.values()):
                conf = "low" if acronym else ("medium" if conf == "high" else conf)
            return PreLabel(label, ev + (" (acronym)" if acronym else ""), conf)
    return None


def _title(word: str) -> bool:
    return word[:1].isupper() and any(c.islower() for c in word[1:])


@functools.lru_cache(maxsize=1)
def _imner_lexicon():
    try:
        from imner.lexicon import load_lexicon

        return load_lexicon()
    except Exception:  # noqa: BLE001 - the lexicon is an optional second opinion
        return None


def imner_lexicon_concept(mention: str):
    """The first disease or phenotype concept :mod:`imner.lexicon` finds for the mention (None without one)."""
    lex = _imner_lexicon()
    if lex is None:
        return None
    for c in lex.lookup(mention):
        if c.label in (IMMUNE, INFECTIOUS, OTHER, "SIGN_SYMPTOM"):
            return c
    return None


def _second_opinion(p: PreLabel, mention: str) -> PreLabel:
    """Lower the confidence when the imner lexicon classes the mention differently (the reviewer looks)."""
    c = imner_lexicon_concept(mention)
    if c is not None and c.label in (IMMUNE, INFECTIOUS, OTHER) and c.label != p.label:
        return PreLabel(p.label, f"{p.evidence}; imner lexicon says {c.label} ({c.id} {c.name!r})", "low")
    return p


PathogenFinder = Callable[[str], Sequence[tuple[int, int, str]]]


def classify(mention: str, *, abbreviations: Mapping[str, str] | None = None,
             find_pathogens: PathogenFinder | None = None, use_imner_lexicon: bool = True,
             _depth: int = 0) -> PreLabel:
    """Pre-label one disease mention (see the module doc for the steps).

    ``abbreviations``: short form -> long form defined in the document (:func:`find_abbreviations`).
    ``find_pathogens``: returns pathogen-name matches ``(start, end, name)`` in a string (rule 1: an organism
    named in the mention states the mechanism). ``use_imner_lexicon=False`` skips step 7 and the second opinion.
    """
    key = norm(mention)
    if not key:
        return PreLabel(OTHER, "rule 4: empty after normalization", "low")
    w = neoplasm_word(key)
    if w:
        return PreLabel(OTHER, f"rule 7: neoplasm word {w!r}", "high")
    if _POST_INFECTIOUS.search(key):
        return PreLabel(IMMUNE, f"rule 3: {_POST_INFECTIOUS.search(key).group()!r}", "high")
    inf = None if _NOT_INFECTIOUS.search(key) else _INFECTIOUS_CUES.search(key)
    imm = _IMMUNE_CUES.search(key)
    org = None
    if find_pathogens is not None and not inf:
        hits = find_pathogens(mention)
        org = hits[0][2] if hits else None
    if (inf or org) and imm:
        return PreLabel(INFECTIOUS if inf else IMMUNE,
                        f"rule 1: both infectious ({(inf.group() if inf else org)!r}) and immune "
                        f"({imm.group()!r}) words", "low")
    if inf:
        return PreLabel(INFECTIOUS, f"rule 1: mechanism word {inf.group()!r}", "high")
    if org:
        return PreLabel(INFECTIOUS, f"rule 1: pathogen named in the mention {org!r}", "high")
    if imm:
        return PreLabel(IMMUNE, f"rule 1: mechanism word {imm.group()!r}", "high")

    stripped = mention.strip()
    acronym = _looks_like_acronym(stripped)
    if abbreviations and _depth == 0:
        for sf in dict.fromkeys((stripped, stripped[:-1] if stripped.endswith("s") else stripped)):
            lf = abbreviations.get(sf)
            if lf:
                inner = classify(lf, find_pathogens=find_pathogens, use_imner_lexicon=use_imner_lexicon, _depth=1)
                conf = "medium" if inner.confidence == "high" else inner.confidence
                return PreLabel(inner.label, f"abbreviation {sf}={lf!r}; {inner.evidence}", conf)
    generic = singular(key) in _GENERIC_HEADS
    hit = None if generic else _lexicon(key, acronym=acronym)
    if hit:
        return _second_opinion(hit, stripped) if use_imner_lexicon else hit
    concept = None if generic or not use_imner_lexicon else imner_lexicon_concept(stripped)
    if concept is not None:
        if concept.label in (IMMUNE, INFECTIOUS, OTHER):
            return PreLabel(concept.label, f"imner lexicon {concept.id} {concept.name!r}", "medium")
        return PreLabel(OTHER, f"rule 4: a phenotype without stated mechanism (imner lexicon {concept.id} "
                               f"{concept.name!r}, {concept.label})", "medium")
    words = key.split()
    cased = norm_words(mention)
    for i in range(1, len(words)):
        if len(cased) == len(words) and _title(cased[i]) and _title(cased[i - 1]):
            continue  # do not cut into a proper name ("Marinesco-Sjögren syndrome" is not Sjögren syndrome)
        suffix = " ".join(words[i:])
        if singular(suffix) in _GENERIC_HEADS:
            break
        hit = _lexicon(suffix, acronym=False)
        if hit:
            head = PreLabel(hit.label, f"head {suffix!r}; {hit.evidence}",
                            "medium" if hit.confidence == "high" else hit.confidence)
            return _second_opinion(head, stripped) if use_imner_lexicon else head
    return PreLabel(OTHER, "rule 4: no mechanism stated and no lexicon match", "low")


# ---------------------------------------------------------------- abbreviations (Schwartz & Hearst 2003)

_PAREN = re.compile(r"\(([^()]{1,12})\)")


def _best_long_form(sf: str, lf: str) -> str | None:
    """Schwartz-Hearst: the shortest end of ``lf`` whose characters cover ``sf`` right to left."""
    s, l = len(sf) - 1, len(lf) - 1
    while s >= 0:
        c = sf[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while l >= 0 and (lf[l].lower() != c or (s == 0 and l > 0 and lf[l - 1].isalnum())):
            l -= 1
        if l < 0:
            return None
        l -= 1
        s -= 1
    start = lf.rfind(" ", 0, l + 1) + 1
    return lf[start:].strip()


def find_abbreviations(text: str) -> dict[str, str]:
    """Short form -> long form for each "long form (SF)" definition in ``text`` (first definition wins)."""
    out: dict[str, str] = {}
    for m in _PAREN.finditer(text):
        sf = m.group(1).strip()
        if not (2 <= len(sf) <= 10) or not sf[0].isalnum() or len(sf.split()) > 2 or not any(c.isalpha() for c in sf):
            continue
        line_start = max(text.rfind("\n", 0, m.start()), text.rfind(". ", 0, m.start()) + 1, 0)
        before = text[line_start:m.start()].rstrip()
        words = before.split()
        max_words = min(len(sf) + 5, len(sf) * 2)
        cand = " ".join(words[-max_words:])
        lf = _best_long_form(sf, cand)
        if lf and len(lf) > len(sf) and sf not in out:
            out[sf] = lf.strip(" ,;:")
    return out
