"""imner.normalize: abbreviations, matching stages, Normalizer attrs on a tiny lexicon, drug-class rules."""

from __future__ import annotations

import json

import pytest

from imner.errors import ConfigError
from imner.lexicon import Concept, Lexicon, builder_from_records
from imner.normalize import (
    DrugClassRules, Normalizer, TermMatcher, find_abbreviation_pairs, find_abbreviations, load_drug_class_rules,
)
from imner.normalize.drug_classes import rule_from_dict
from imner.lexicon.normalize import singular
from imner.types import Document, Span

# ---------------------------------------------------------------- fixture lexicon

CONCEPTS = [
    Concept("DOID:9074", "systemic lupus erythematosus", "IMMUNE_DISEASE", "DO", "immune", "autoimmune",
            icd10cm=("M32.9",), xrefs=("MESH:D008180",)),
    Concept("DOID:7148", "rheumatoid arthritis", "IMMUNE_DISEASE", "DO", "immune", "autoimmune",
            icd10cm=("M06.9",)),
    Concept("DOID:399", "tuberculosis", "INFECTIOUS_DISEASE", "DO", "infectious", "bacterial",
            icd10cm=("A15.0", "A15.9")),
    Concept("DOID:12365", "malaria", "INFECTIOUS_DISEASE", "DO", "infectious", "parasitic"),
    Concept("DOID:1287", "cardiovascular system disease", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:2355", "anemia", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:11476", "osteoporosis", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:9562", "primary ciliary dyskinesia", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:0050589", "inflammatory bowel disease", "IMMUNE_DISEASE", "DO", "immune", "other-immune"),
    Concept("DOID:8577", "ulcerative colitis", "IMMUNE_DISEASE", "DO", "immune", "autoimmune"),
    Concept("DOID:5419", "schizophrenia", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:2218", "glucose-6-phosphate dehydrogenase deficiency", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:0060500", "lymphoma of the colon", "OTHER_DISEASE", "DO", "other", "neoplasm"),
    # two concepts sharing the synonym "sarcoid", neither named so: ambiguous
    Concept("DOID:11335", "sarcoidosis", "IMMUNE_DISEASE", "DO", "immune", "other-immune"),
    Concept("DOID:0000001", "cutaneous sarcoid reaction", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:1826", "epilepsy", "OTHER_DISEASE", "DO", "other", None, xrefs=("UMLS:C0014544",)),
    Concept("DOID:10763", "hypertension", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:1074", "kidney failure", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:10588", "adrenoleukodystrophy", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:0060295", "complement component 2 deficiency", "IMMUNE_DISEASE", "DO", "immune",
            "immunodeficiency"),
    Concept("DOID:0060323", "breast abscess", "INFECTIOUS_DISEASE", "DO", "infectious", "bacterial"),
    Concept("HP:0020225", "Breast abscess", "INFECTIOUS_DISEASE", "HPO", "infectious", "bacterial"),
    Concept("IMNER:encephalopathy", "encephalopathy", "OTHER_DISEASE", "imner", "other", None),
    Concept("HP:0001298", "Encephalopathy", "SIGN_SYMPTOM", "HPO", xrefs=("UMLS:C0085584",)),
    Concept("DOID:936", "brain disease", "OTHER_DISEASE", "DO", "other", None, xrefs=("UMLS:C0085584",)),
    Concept("HP:0001250", "Seizure", "SIGN_SYMPTOM", "HPO", xrefs=("UMLS:C0014544", "UMLS:C0036572")),
    Concept("HP:0001945", "Fever", "SIGN_SYMPTOM", "HPO"),
    Concept("HP:0002315", "Headache", "SIGN_SYMPTOM", "HPO"),
    Concept("HP:0002018", "Nausea", "SIGN_SYMPTOM", "HPO"),
    Concept("NCBITaxon:1280", "Staphylococcus aureus", "PATHOGEN", "NCBITaxon", kind="bacterium"),
    Concept("NCBITaxon:1279", "Staphylococcus", "PATHOGEN", "NCBITaxon", kind="bacterium"),
    Concept("NCBITaxon:5833", "Plasmodium falciparum", "PATHOGEN", "NCBITaxon", kind="parasite"),
    Concept("DRUGBANK:DB00635", "Prednisone", "MEDICATION", "DrugBank"),
    Concept("DRUGBANK:DB00959", "Methylprednisolone", "MEDICATION", "DrugBank"),
    Concept("DRUGBANK:DB00563", "Methotrexate", "MEDICATION", "DrugBank"),
    Concept("DRUGBANK:DB01060", "Amoxicillin", "MEDICATION", "DrugBank"),
    Concept("DRUGBANK:DB00196", "Fluconazole", "MEDICATION", "DrugBank"),
    Concept("IMNER:antibiotic", "antibiotic", "MEDICATION", "imner"),
]
TERMS = [
    ("SLE", "DOID:9074"), ("lupus", "DOID:9074"), ("RA", "DOID:7148"), ("TB", "DOID:399"),
    ("sarcoid", "DOID:11335"), ("sarcoid", "DOID:0000001"), ("pyrexia", "HP:0001945"),
    ("S. aureus", "NCBITaxon:1280"), ("Solu-Medrol", "DRUGBANK:DB00959"), ("MTX", "DRUGBANK:DB00563"),
    ("Immotile cilia syndrome", "DOID:9562"),
    ("lupus", "HP:0002018"),  # an HPO synonym beside the DO one: ties are broken by label agreement
]
CURATED = [("antibiotics", "IMNER:antibiotic"), ("encephalopathy", "IMNER:encephalopathy")]
XREFS = {"MESH:D008180": ["DOID:9074"], "UMLS:C0014544": ["DOID:1826"], "UMLS:C0085584": ["DOID:936"]}


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.from_builder(builder_from_records(CONCEPTS, TERMS, CURATED, XREFS))


@pytest.fixture(scope="module")
def norm(lexicon: Lexicon) -> Normalizer:
    return Normalizer(lexicon)


def doc_with(text: str, *mentions: tuple[str, str]) -> Document:
    """A document with one span per (surface, label), found left to right."""
    spans, pos = [], 0
    for surface, label in mentions:
        i = text.index(surface, pos)
        spans.append(Span(i, i + len(surface), label))
        pos = i + 1
    return Document("d", text, spans)


def attrs_of(doc: Document, surface: str) -> dict:
    for s in doc.spans:
        if s.text_in(doc.text) == surface:
            return dict(s.attrs)
    raise AssertionError(f"no span {surface!r}")


# ---------------------------------------------------------------- abbreviations


@pytest.mark.parametrize("text, short, long", [
    ("A woman with systemic lupus erythematosus (SLE) was admitted.", "SLE", "systemic lupus erythematosus"),
    ("lupus (SLE; systemic lupus erythematosus) flared", "SLE", "systemic lupus erythematosus"),
    ("glucose-6-phosphate dehydrogenase (G6PD) deficiency", "G6PD", "glucose-6-phosphate dehydrogenase"),
    ("Primary Sjögren syndrome (pSS) was diagnosed.", "pSS", "Primary Sjögren syndrome"),
    ("given intravenous immunoglobulin (IVIg, 2 g/kg)", "IVIg", "intravenous immunoglobulin"),
    ("positive for HHV8 (human herpesvirus 8) DNA", "HHV8", "human herpesvirus 8"),
    ("myasthenia gravis (MG), Guillain-Barré syndrome (GBS)", "GBS", "Guillain-Barré syndrome"),
])
def test_abbreviation_definitions(text: str, short: str, long: str) -> None:
    found = find_abbreviations(text)
    assert short in found
    lf, start, end = found[short]
    assert lf == long and text[start:end] == long


@pytest.mark.parametrize("text", [
    "as shown in the biopsy (Fig. 2).", "in three patients (n = 5).", "a difference (p < 0.05).",
    "The results (see below) were normal (Table 1).", "received prednisone (40 mg) daily", "a rash (2 cm)",
    "the kidney (Smith et al.)", "",
])
def test_abbreviation_false_positives(text: str) -> None:
    assert find_abbreviations(text) == {}


def test_abbreviation_offsets_and_first_definition_wins() -> None:
    text = "rheumatoid arthritis (RA) ... later reactive arthritis (RA)"
    pairs = find_abbreviation_pairs(text)
    assert [(p.short, p.long) for p in pairs] == [("RA", "rheumatoid arthritis"), ("RA", "reactive arthritis")]
    assert all(text[p.short_start:p.short_end] == p.short for p in pairs)
    assert find_abbreviations(text)["RA"][0] == "rheumatoid arthritis"


# ---------------------------------------------------------------- matcher


@pytest.mark.parametrize("word, expected", [
    ("infections", "infection"), ("diseases", "disease"), ("allergies", "allergy"), ("abscesses", "abscess"),
    ("staphylococci", "staphylococcus"), ("bacilli", "bacillus"), ("bacteria", "bacterium"),
    ("arthritis", "arthritis"), ("virus", "virus"), ("tb", "tb"),
    ("arthritides", "arthritis"), ("stenoses", "stenosis"), ("doses", "dose"), ("kidneys", "kidney"),
    ("species", "species"), ("enterobacteriaceae", "enterobacteriaceae"), ("pneumoniae", "pneumonia"),
])
def test_singular(word: str, expected: str) -> None:
    assert singular(word) == expected


@pytest.mark.parametrize("surface, cid, stage", [
    ("Systemic Lupus Erythematosus", "DOID:9074", "exact"),
    ("systemic lupus erythematosus (SLE)", "DOID:9074", "variant"),
    ("osteoporoses", "DOID:11476", "variant"),
    ("Immotile cilia disease", "DOID:9562", "variant"),
    ("cardiovascular system", "DOID:1287", "variant"),
    ("inflammatory bowel", "DOID:0050589", "variant"),
    ("schizo-phrenia", "DOID:5419", "variant"),
    ("colon lymphoma", "DOID:0060500", "token_sorted"),
    ("deficiency of glucose-6-phosphate dehydrogenase", "DOID:2218", "token_sorted"),
    ("hypertensive", "DOID:10763", "variant"),
    ("renal failure", "DOID:1074", "variant"),
    ("C2-deficient", "DOID:0060295", "variant"),
    ("X-linked adrenoleukodystrophy", "DOID:10588", "stripped"),
    ("breast abscess", "DOID:0060323", "exact"),  # DO preferred over an HPO term filed as a disease
])
def test_matcher_stages(lexicon: Lexicon, surface: str, cid: str, stage: str) -> None:
    from imner.schema import DISEASE_LABELS

    m = TermMatcher(lexicon, DISEASE_LABELS, disease_variants=True, prefer="DOID").match(surface)
    assert [c.id for c in m.concepts] == [cid]
    assert m.stage == stage


def test_matcher_respects_abbreviation_case(lexicon: Lexicon) -> None:
    from imner.schema import DISEASE_LABELS

    tm = TermMatcher(lexicon, DISEASE_LABELS)
    assert [c.id for c in tm.match("RA").concepts] == ["DOID:7148"]
    assert not tm.match("ra")


# ---------------------------------------------------------------- normalizer


def test_disease_attrs(norm: Normalizer) -> None:
    doc = doc_with("History of tuberculosis and rheumatoid arthritis.", ("tuberculosis", "INFECTIOUS_DISEASE"),
                   ("rheumatoid arthritis", "IMMUNE_DISEASE"))
    out = norm(doc)
    tb = attrs_of(out, "tuberculosis")
    assert tb == {"code_status": "mapped", "concept_id": "DOID:399", "concept_name": "tuberculosis",
                  "doid": "DOID:399", "icd10cm": ["A15.0", "A15.9"], "icd10cm_source": "do-mondo",
                  "category": "infectious", "subcategory": "bacterial", "match": "exact"}
    ra = attrs_of(out, "rheumatoid arthritis")
    assert ra["doid"] == "DOID:7148" and ra["category"] == "immune" and ra["subcategory"] == "autoimmune"


def test_pathogen_symptom_medication_attrs(norm: Normalizer) -> None:
    doc = doc_with("Fever; S. aureus and Plasmodium falciparum; given Solu-Medrol, amoxicillin and antibiotics.",
                   ("Fever", "SIGN_SYMPTOM"), ("S. aureus", "PATHOGEN"), ("Plasmodium falciparum", "PATHOGEN"),
                   ("Solu-Medrol", "MEDICATION"), ("amoxicillin", "MEDICATION"), ("antibiotics", "MEDICATION"))
    out = norm(doc)
    assert attrs_of(out, "Fever")["hpo"] == "HP:0001945"
    sa = attrs_of(out, "S. aureus")
    assert (sa["ncbitaxon"], sa["kind"]) == ("NCBITaxon:1280", "bacterium")
    assert attrs_of(out, "Plasmodium falciparum")["kind"] == "parasite"
    sm = attrs_of(out, "Solu-Medrol")
    assert (sm["drugbank"], sm["concept_name"], sm["drug_class"]) == ("DRUGBANK:DB00959", "Methylprednisolone",
                                                                       "corticosteroid")
    assert attrs_of(out, "amoxicillin")["drug_class"] == "penicillin antibiotic"
    ab = attrs_of(out, "antibiotics")
    assert ab["concept_id"] == "IMNER:antibiotic" and "drugbank" not in ab and ab["drug_class"] == "antibiotic"


def test_unmapped_never_guessed(norm: Normalizer) -> None:
    doc = doc_with("She had zebra fever and took novelumab and xyzzy.", ("zebra fever", "OTHER_DISEASE"),
                   ("novelumab", "MEDICATION"), ("xyzzy", "MEDICATION"))
    out = norm(doc)
    assert attrs_of(out, "zebra fever") == {"code_status": "unmapped"}
    # no code, but the class follows from the -mab rule
    assert attrs_of(out, "novelumab") == {"code_status": "unmapped", "drug_class": "monoclonal antibody"}
    assert attrs_of(out, "xyzzy") == {"code_status": "unmapped"}


def test_ambiguous_lists_candidates(norm: Normalizer) -> None:
    out = norm(doc_with("a sarcoid lesion", ("sarcoid", "OTHER_DISEASE")))
    a = attrs_of(out, "sarcoid")
    # label agreement picks the OTHER_DISEASE concept
    assert a["code_status"] == "mapped" and a["doid"] == "DOID:0000001" and a["resolved_by"] == "label"
    out = norm(doc_with("a sarcoid lesion", ("sarcoid", "INFECTIOUS_DISEASE")))
    a = attrs_of(out, "sarcoid")
    assert a["code_status"] == "ambiguous" and "doid" not in a
    assert [c["id"] for c in a["candidates"]] == ["DOID:11335", "DOID:0000001"]


def test_cross_label_fallback(norm: Normalizer, lexicon: Lexicon) -> None:
    out = norm(doc_with("high pyrexia", ("pyrexia", "INFECTIOUS_DISEASE")))
    a = attrs_of(out, "pyrexia")
    assert a["hpo"] == "HP:0001945" and a["cross_label"] is True and "doid" not in a
    strict = Normalizer(lexicon, cross_label=False)
    assert attrs_of(strict(doc_with("high pyrexia", ("pyrexia", "INFECTIOUS_DISEASE"))), "pyrexia") == \
        {"code_status": "unmapped"}


def test_abbreviation_links_later_short_forms(lexicon: Lexicon) -> None:
    # "MS" is in no lexicon: it gets the codes of its long form; "SLE" prefers the document's definition
    lex = Lexicon.from_builder(builder_from_records(CONCEPTS + [
        Concept("DOID:2377", "multiple sclerosis", "IMMUNE_DISEASE", "DO", "immune", "autoimmune")], TERMS))
    text = "Known multiple sclerosis (MS). MS relapsed; RA flared; G6PD (glucose-6-phosphate dehydrogenase) " \
           "levels low; G6PD deficiency confirmed."
    doc = doc_with(text, ("multiple sclerosis", "IMMUNE_DISEASE"), ("MS", "IMMUNE_DISEASE"),
                   ("MS", "IMMUNE_DISEASE"), ("RA", "IMMUNE_DISEASE"), ("G6PD deficiency", "OTHER_DISEASE"))
    out = Normalizer(lex)(doc)
    ms = [dict(s.attrs) for s in out.spans if s.text_in(text) == "MS"]
    assert all(a["doid"] == "DOID:2377" and a["abbreviation_of"] == "multiple sclerosis" for a in ms)
    assert "abbreviation_of" not in attrs_of(out, "RA")
    g = attrs_of(out, "G6PD deficiency")
    assert g["doid"] == "DOID:2218" and g["abbreviation_of"] == "glucose-6-phosphate dehydrogenase"
    off = Normalizer(lex, abbreviations=False)(doc)
    assert [s.attrs["code_status"] for s in off.spans if s.text_in(text) == "MS"] == ["unmapped", "unmapped"]


def test_short_form_before_definition_not_linked(lexicon: Lexicon) -> None:
    text = "MS was seen. Later multiple sclerosis (MS) confirmed."
    lex = Lexicon.from_builder(builder_from_records(CONCEPTS + [
        Concept("DOID:2377", "multiple sclerosis", "IMMUNE_DISEASE", "DO", "immune", "autoimmune")], TERMS))
    out = Normalizer(lex)(doc_with(text, ("MS", "IMMUNE_DISEASE")))
    assert out.spans[0].attrs["code_status"] == "unmapped"


def test_no_mutation_and_other_labels_untouched(norm: Normalizer) -> None:
    doc = doc_with("tuberculosis of the lung", ("tuberculosis", "INFECTIOUS_DISEASE"), ("lung", "ANATOMY"))
    doc = doc.with_spans([doc.spans[0].evolve(attrs_update={"negated": False, "doid": "DOID:stale"}),
                          doc.spans[1]])
    before = [dict(s.attrs) for s in doc.spans]
    out = norm(doc)
    assert [dict(s.attrs) for s in doc.spans] == before
    assert out is not doc and out.spans[1] is doc.spans[1]
    a = dict(out.spans[0].attrs)
    assert a["negated"] is False and a["doid"] == "DOID:399"
    assert norm(out) == out and [dict(s.attrs) for s in norm(out).spans] == [dict(s.attrs) for s in out.spans]


def test_label_map_and_normalize_text(lexicon: Lexicon) -> None:
    n = Normalizer(lexicon, label_map={"Disease": "DISEASE", "Chemical": "MEDICATION"})
    out = n(doc_with("lupus and methotrexate", ("lupus", "Disease"), ("methotrexate", "Chemical")))
    assert attrs_of(out, "lupus")["doid"] == "DOID:9074"
    assert attrs_of(out, "methotrexate")["drug_class"] == "conventional DMARD"
    assert n.normalize_text("Malaria", "Disease")["doid"] == "DOID:12365"
    with pytest.raises(ConfigError, match="label_map values"):
        Normalizer(lexicon, label_map={"Disease": "SICKNESS"})
    with pytest.raises(ConfigError, match="not normalized"):
        n.normalize_text("lung", "ANATOMY")


def test_lexicon_is_lazy(tmp_path) -> None:
    n = Normalizer(tmp_path / "missing.json.gz")
    assert n(Document("d", "no spans")) .spans == ()
    from imner.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError):
        n(doc_with("lupus", ("lupus", "IMMUNE_DISEASE")))


def test_hpo_match_bridged_to_doid_by_umls(norm: Normalizer) -> None:
    out = norm(doc_with("recurrent seizures and fever", ("seizures", "OTHER_DISEASE"), ("fever", "OTHER_DISEASE")))
    a = attrs_of(out, "seizures")
    assert (a["doid"], a["hpo"], a["via"], a["match"]) == ("DOID:1826", "HP:0001250", "HP:0001250", "variant")
    assert "cross_label" not in a
    # no UMLS link: the HPO concept is kept, flagged
    f = attrs_of(out, "fever")
    assert f["hpo"] == "HP:0001945" and f["cross_label"] is True and "doid" not in f


def test_codeless_curated_concept_only_as_last_resort(norm: Normalizer, lexicon: Lexicon) -> None:
    # "encephalopathy" is curated as IMNER:encephalopathy (no code); the HPO term bridges to a DOID
    a = attrs_of(norm(doc_with("an encephalopathy", ("encephalopathy", "OTHER_DISEASE"))), "encephalopathy")
    assert a["doid"] == "DOID:936" and a["via"] == "HP:0001298"
    strict = Normalizer(lexicon, cross_label=False)
    a = attrs_of(strict(doc_with("an encephalopathy", ("encephalopathy", "OTHER_DISEASE"))), "encephalopathy")
    assert a["concept_id"] == "IMNER:encephalopathy" and a["code_status"] == "mapped" and "doid" not in a


def test_stripped_modifiers_for_symptoms_and_drugs(norm: Normalizer) -> None:
    out = norm(doc_with("severe headache; intravenous methylprednisolone", ("severe headache", "SIGN_SYMPTOM"),
                        ("intravenous methylprednisolone", "MEDICATION")))
    h = attrs_of(out, "severe headache")
    assert (h["hpo"], h["match"]) == ("HP:0002315", "stripped")
    m = attrs_of(out, "intravenous methylprednisolone")
    assert (m["drugbank"], m["drug_class"]) == ("DRUGBANK:DB00959", "corticosteroid")


def test_mention_definitions_when_letters_do_not_align(lexicon: Lexicon) -> None:
    from imner.normalize.abbrev import mention_definitions

    text = "Patients with myotonic dystrophy (DM) and later DM type 2."
    assert find_abbreviations(text) == {}
    s = text.index("myotonic")
    assert mention_definitions(text, [(s, s + len("myotonic dystrophy"))]) == {
        "DM": ("myotonic dystrophy", s, s + len("myotonic dystrophy"))}
    lex = Lexicon.from_builder(builder_from_records(CONCEPTS + [
        Concept("DOID:11722", "myotonic dystrophy", "OTHER_DISEASE", "DO", "other", None)], TERMS))
    out = Normalizer(lex)(doc_with(text, ("myotonic dystrophy", "OTHER_DISEASE"), ("DM", "OTHER_DISEASE"),
                                   ("DM", "OTHER_DISEASE")))
    assert [s.attrs.get("doid") for s in out.spans] == ["DOID:11722"] * 3
    assert [s.attrs.get("abbreviation_of") for s in out.spans] == [None, "myotonic dystrophy", "myotonic dystrophy"]


def test_dictionary_tagger_attrs_replaced(norm: Normalizer) -> None:
    doc = doc_with("tuberculosis", ("tuberculosis", "INFECTIOUS_DISEASE"))
    doc = doc.with_spans([doc.spans[0].evolve(attrs_update={"concept_id": "DOID:X", "alt_concept_ids": ["DOID:Y"],
                                                             "source": "lexicon"})])
    a = attrs_of(norm(doc), "tuberculosis")
    assert a["concept_id"] == "DOID:399" and "alt_concept_ids" not in a and a["source"] == "lexicon"


# ---------------------------------------------------------------- drug classes


def test_packaged_drug_class_rules() -> None:
    rules = load_drug_class_rules()
    cases = {"prednisone": "corticosteroid", "Dexamethasone": "corticosteroid", "ceftriaxone":
             "cephalosporin antibiotic", "piperacillin-tazobactam": "penicillin antibiotic", "azithromycin":
             "macrolide antibiotic", "tobramycin": "aminoglycoside antibiotic", "bleomycin": "antibiotic",
             "meropenem": "carbapenem antibiotic", "levofloxacin": "fluoroquinolone antibiotic", "infliximab":
             "TNF inhibitor", "rituximab": "monoclonal antibody", "acyclovir": "antiviral", "voriconazole":
             "azole antifungal", "caspofungin": "echinocandin antifungal", "omeprazole": "proton pump inhibitor",
             "metronidazole": "nitroimidazole antibiotic", "albendazole": "anthelmintic", "tofacitinib":
             "JAK inhibitor", "hydroxychloroquine": "conventional DMARD", "paracetamol": None}
    assert {k: rules.classify(k) for k in cases} == cases


@pytest.mark.parametrize("rule, message", [
    ({"drug_class": "x", "names": ["a"], "suffix": ["b"]}, "unknown key.*'suffix'.*allowed"),
    ({"names": ["a"]}, "'drug_class'.*required"),
    ({"drug_class": "x"}, "at least one of"),
    ({"drug_class": "x", "names": "prednisone"}, "'names' must be a list"),
    ({"drug_class": "x", "pattern": "(unclosed"}, "bad regular expression"),
])
def test_drug_class_rule_validation(rule: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        rule_from_dict(rule, source="rules.json", index=3)


def test_drug_class_file_validation(tmp_path) -> None:
    p = tmp_path / "rules.json"
    p.write_text(json.dumps({"format": "imner-drug-classes", "version": 1,
                             "rules": [{"drug_class": "x", "names": ["a"]}, {"drug_klass": "y"}]}))
    with pytest.raises(ConfigError, match=r"rules\.json: rule 1: unknown key"):
        load_drug_class_rules(p)
    p.write_text('{"format": "something else"}')
    with pytest.raises(ConfigError, match="not a drug-class rule file"):
        load_drug_class_rules(p)
    p.write_text("{not json")
    with pytest.raises(ConfigError, match="line 1: not valid JSON"):
        load_drug_class_rules(p)
    assert isinstance(load_drug_class_rules(), DrugClassRules)


# ---------------------------------------------------------------- packaged lexicon


def test_packaged_lexicon_smoke() -> None:
    from imner.lexicon import default_index_path

    if not default_index_path().is_file():
        pytest.skip("packaged lexicon index not built (imner build lexicon)")
    text = ("A woman with systemic lupus erythematosus (SLE) had fever; Staphylococcus aureus grew. "
            "SLE flared despite prednisone and vancomycin.")
    doc = doc_with(text, ("systemic lupus erythematosus", "IMMUNE_DISEASE"), ("SLE", "IMMUNE_DISEASE"),
                   ("fever", "SIGN_SYMPTOM"), ("Staphylococcus aureus", "PATHOGEN"), ("SLE", "IMMUNE_DISEASE"),
                   ("prednisone", "MEDICATION"), ("vancomycin", "MEDICATION"))
    out = Normalizer()(doc)
    got = [(s.text_in(text), s.attrs.get("doid") or s.attrs.get("hpo") or s.attrs.get("ncbitaxon")
            or s.attrs.get("drugbank")) for s in out.spans]
    assert got == [("systemic lupus erythematosus", "DOID:9074"), ("SLE", "DOID:9074"), ("fever", "HP:0001945"),
                   ("Staphylococcus aureus", "NCBITaxon:1280"), ("SLE", "DOID:9074"),
                   ("prednisone", "DRUGBANK:DB00635"), ("vancomycin", "DRUGBANK:DB00512")]
    assert out.spans[0].attrs["category"] == "immune" and out.spans[3].attrs["kind"] == "bacterium"
    assert out.spans[5].attrs["drug_class"] == "corticosteroid"


# ---------------------------------------------------------------- ICD-10-CM codes beyond DO/MONDO (issue 14 §9)

def test_icd10cm_codes_from_the_tabular_list_curated_names_and_agents() -> None:
    norm = Normalizer()
    doc = doc_with("HIV-positive man with CMV infection, sepsis, hepatitis B and pyelonephritis; HCV; blood cultures "
                   "grew Staphylococcus aureus. Familial Mediterranean fever.",
                   ("HIV-positive", "PATHOGEN"), ("CMV infection", "INFECTIOUS_DISEASE"),
                   ("sepsis", "INFECTIOUS_DISEASE"), ("hepatitis B", "INFECTIOUS_DISEASE"),
                   ("pyelonephritis", "INFECTIOUS_DISEASE"), ("HCV", "PATHOGEN"),
                   ("Staphylococcus aureus", "PATHOGEN"), ("Familial Mediterranean fever", "IMMUNE_DISEASE"))
    out = norm(doc)
    got = {k: (attrs_of(out, k).get("icd10cm"), attrs_of(out, k).get("icd10cm_source"))
           for k in ("HIV-positive", "CMV infection", "sepsis", "hepatitis B", "HCV", "Staphylococcus aureus")}
    assert got == {"HIV-positive": (["B20"], "agent"), "CMV infection": (["B25.9"], "curated"),
                   "sepsis": (["A41.9"], "curated"), "hepatitis B": (["B19.10"], "curated"),
                   "HCV": (["B19.20"], "agent"), "Staphylococcus aureus": (["B95.8"], "agent")}
    assert attrs_of(out, "pyelonephritis")["icd10cm"][0].startswith("N1")
    assert attrs_of(out, "Familial Mediterranean fever")["icd10cm"] == ["M04.1"]
    off = Normalizer(icd10cm=False)(doc)
    assert "icd10cm" not in attrs_of(off, "HCV") and "icd10cm" not in attrs_of(off, "sepsis")


def test_icd10cm_terms_come_from_the_tabular_list() -> None:
    from imner.normalize.icd10cm import load_icd10cm, strip_qualifiers

    assert strip_qualifiers("Sepsis, unspecified organism") == "Sepsis"
    icd = load_icd10cm()
    assert icd.term("Septicemia NOS") == ("A41.9", "icd10cm-term") or icd.term("Septicemia NOS")[0] == "A41.9"
    assert icd.term("Actinomycosis")[0].startswith("A42")
    assert icd.codes_for_disease(["Candida infection"]) == (["B37.9"], "agent")
    assert icd.codes_for_pathogen("Klebsiella oxytoca") == (["B96.1"], "agent")  # by genus
    assert icd.codes_for_pathogen("Homo sapiens") is None


def test_icd10cm_curated_names_need_no_tabular_list() -> None:
    from imner.normalize.icd10cm import ICD10CMIndex

    icd = ICD10CMIndex()
    names = list(icd.names)[:50]
    assert names and all(icd.curated_name(n) == icd.names[n] for n in names)
    assert icd.curated_name("no such disease name") is None and icd.curated_name(None) is None
    assert icd._terms is None  # the term table is read on first use only
    for text in [*names, "Actinomycosis", "Septicemia NOS", "fever"]:  # curated_name is term()'s curated answer
        hit = icd.term(text)
        assert icd.curated_name(text) == (hit[0] if hit and hit[1] == "curated" else None)


# ---------------------------------------------------------------- corpus synonyms and fuzzy back-off


def test_corpus_synonyms_fill_in_after_exact(lexicon: Lexicon) -> None:
    table = {"falling sickness": "DOID:1826", "hypertension": "DOID:2355", "pyrexia": "DOID:12365",
             "FS": "DOID:1826", "unknown thing": "DOID:999999"}
    n = Normalizer(lexicon, corpus_terms=table, fuzzy=None)
    a = n.normalize_text("Falling sicknesses", "OTHER_DISEASE")  # a light variant (plural) of a table key
    assert (a["doid"], a["match"], a["category"]) == ("DOID:1826", "corpus", "other")
    # the lexicon's exact match wins over the table; the table beats an unbridged HPO match of the exact stage
    assert n.normalize_text("hypertension", "OTHER_DISEASE")["doid"] == "DOID:10763"
    a = n.normalize_text("pyrexia", "INFECTIOUS_DISEASE")
    assert (a["doid"], a["match"]) == ("DOID:12365", "corpus") and "cross_label" not in a
    # abbreviation rows are case-sensitive; ids missing from the lexicon are ignored; symptoms never use it
    assert n.normalize_text("FS", "OTHER_DISEASE")["doid"] == "DOID:1826"
    assert n.normalize_text("fs", "OTHER_DISEASE")["code_status"] == "unmapped"
    assert n.normalize_text("unknown thing", "OTHER_DISEASE")["code_status"] == "unmapped"
    assert n.normalize_text("falling sickness", "SIGN_SYMPTOM")["code_status"] == "unmapped"
    # an in-memory lexicon has no table beside it: corpus_terms=True means none
    assert Normalizer(lexicon, fuzzy=None).normalize_text("falling sickness", "OTHER_DISEASE")["code_status"] \
        == "unmapped"
    with pytest.raises(ConfigError, match="corpus_after"):
        Normalizer(lexicon, corpus_after="never")


def test_fuzzy_backoff(lexicon: Lexicon) -> None:
    n = Normalizer(lexicon)
    a = n.normalize_text("osteoporotic fracture disease", "OTHER_DISEASE")
    assert a["code_status"] == "unmapped"  # nearest is far below the threshold
    a = n.normalize_text("osteoporosiss", "OTHER_DISEASE")
    assert (a["doid"], a["match"]) == ("DOID:11476", "fuzzy")
    assert Normalizer(lexicon, fuzzy=None).normalize_text("osteoporosiss", "OTHER_DISEASE")["code_status"] == \
        "unmapped"
    # never for abbreviations, short mentions or non-disease labels
    assert n.normalize_text("SLEE", "OTHER_DISEASE")["code_status"] == "unmapped"
    assert n.normalize_text("osteoporosiss", "MEDICATION")["code_status"] == "unmapped"


def test_fuzzy_index_cosine() -> None:
    from imner.normalize.fuzzy import FuzzyIndex

    idx = FuzzyIndex({"kidney failure": "DOID:1074", "kidney disease": "DOID:557", "anemia": "DOID:2355"})
    ids, sim = idx.nearest("kidney failure")
    assert ids == ["DOID:1074"] and sim == pytest.approx(1.0)
    ids, sim = idx.nearest("kidney failures")
    assert ids == ["DOID:1074"] and 0.75 < sim < 1.0
    assert idx.nearest("zzzz") == ([], 0.0)


def test_corpus_table_rules(lexicon: Lexicon, tmp_path) -> None:
    from imner.errors import FormatError
    from imner.normalize.corpus_terms import read_corpus_terms
    from imner_dev.lexicon.corpus_terms import build_table, to_bytes

    rows = [("lupus disease", "D008180", "ncbi-disease"), ("Lupus disease", "D008180", "bc5cdr"),
            ("lupus disease", "D000001", "bc5cdr"),  # no DOID: skipped, the majority stands
            ("SLEx", "D008180", "biored"),  # abbreviation-like: kept as written
            ("lupus or tb", "D008180|D014376", "bc5cdr"),  # composite: skipped
            ("tie", "D008180", "x"), ("tie", "MESH:D999", "x")]
    xl = Lexicon.from_builder(builder_from_records(CONCEPTS, TERMS, CURATED,
                                                   {**XREFS, "MESH:D999": ["DOID:7148"]}))
    table = build_table(rows, xl, exclude=())
    assert table == {"lupus disease": ("DOID:9074", 2, "bc5cdr,ncbi-disease"), "SLEx": ("DOID:9074", 1, "biored")}
    # an excluded id (an xref artefact) is not learned; "tie" then has a majority of its one remaining id
    assert build_table(rows, xl, exclude=("MESH:D008180",)) == {"tie": ("DOID:7148", 1, "x")}
    path = tmp_path / "corpus_terms.tsv.gz"
    path.write_bytes(to_bytes(table))
    assert to_bytes(table) == path.read_bytes()  # deterministic
    assert read_corpus_terms(path) == {"lupus disease": "DOID:9074", "SLEx": "DOID:9074"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("key\tdoid\tmentions\tcorpora\nx\tHP:1\t1\ty\n")
    with pytest.raises(FormatError, match="line 2|DOID"):
        read_corpus_terms(bad)


def test_broadest_doid_of_an_id() -> None:
    from imner_dev.lexicon.corpus_terms import _pick

    lex = Lexicon.from_builder(builder_from_records(CONCEPTS, TERMS, CURATED, XREFS))
    parents = {"DOID:1074": {"DOID:1287"}, "DOID:10763": {"DOID:1287"}}
    assert _pick("kidney trouble", ("DOID:10763", "DOID:1074", "DOID:1287"), lex, parents) == "DOID:1287"
    assert _pick("kidney failure", ("DOID:1074", "DOID:1287"), lex, parents) == "DOID:1074"  # named by the key


def test_generic_head_word_variant(lexicon: Lexicon) -> None:
    from imner.normalize.matcher import TermMatcher
    from imner.schema import DISEASE_LABELS

    m = TermMatcher(lexicon, DISEASE_LABELS, disease_variants=True)
    # "<organ> damage" -> "<organ> disease" -> the organ noun ("renal" -> "kidney") ... and only for 2+ words
    assert "kidney disease" in list(m.variants("renal damage", "renal damage"))
    assert "disease" not in list(m.variants("damage", "damage"))
    assert m.match("cardiovascular system toxicity").concepts[0].id == "DOID:1287"


def test_icd10cm_head_of_a_modified_disease_name_and_pathogen_variants() -> None:
    from imner.normalize.icd10cm import load_icd10cm

    icd = load_icd10cm()
    # the longest known name the mention ends with, leading modifiers dropped
    assert icd.codes_for_disease(["ocular tuberculosis"]) == (["A15.9"], "head")
    assert icd.codes_for_disease(["febrile urinary tract infection"]) == (["N39.0"], "head")
    # never past a word that changes what follows, never a bare generic head
    assert icd.head_code("active tuberculosis") == "A15.9" and icd.head_code("non-active tuberculosis") is None
    assert icd.head_code("post-streptococcal glomerulonephritis sepsis") is None
    assert icd.head_code("rare inherited syndrome") is None
    # a pathogen: Latin plurals, leading modifiers, a disease name tagged as the agent
    assert icd.codes_for_pathogen("mycobacteria") == icd.codes_for_pathogen("Mycobacterium") != None  # noqa: E711
    assert icd.codes_for_pathogen("streptococci") == (["B95.5"], "agent")
    assert icd.codes_for_pathogen("multiresistant Pseudomonas aeruginosa") == icd.codes_for_pathogen(
        "Pseudomonas aeruginosa") != None  # noqa: E711
    assert icd.codes_for_pathogen("influenza") == (["J11.1"], "agent")
    assert icd.codes_for_pathogen("non-pathogenic staphylococci") is None
