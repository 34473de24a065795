"""imner.context: ConText-style assertion on hand-made sentences, and rule-file validation."""

import json
import re
from pathlib import Path

import pytest

from imner.context.lead import DIGIT_LEAD
from imner.context import (DIRECTIONS, FLAGS, ContextAnnotator, ContextRule, _lead_words, _Matcher, load_rules,
                           rule_from_dict)
from imner.errors import ConfigError
from imner.types import Document, Span


@pytest.fixture(scope="module")
def ann() -> ContextAnnotator:
    return ContextAnnotator()


def make_doc(text: str, mentions: dict[str, str]) -> Document:
    """Spans for each ``mention -> label`` at the mention's first occurrence."""
    spans = []
    for mention, label in mentions.items():
        i = text.index(mention)
        spans.append(Span(i, i + len(mention), label))
    return Document("d", text, spans)


def flags(ann: ContextAnnotator, text: str, mentions: dict[str, str]) -> dict[str, dict[str, bool]]:
    out = ann(make_doc(text, mentions))
    return {s.text_in(text): {f: s.attrs.get(f) for f in FLAGS} for s in out.spans}


def negated(ann, text, *mentions, label="SIGN_SYMPTOM") -> dict[str, bool]:
    return {m: f["negated"] for m, f in flags(ann, text, {m: label for m in mentions}).items()}


def test_negation_covers_a_list(ann):
    assert negated(ann, "The patient denied fever, chills or cough.", "fever", "chills", "cough") == \
        {"fever": True, "chills": True, "cough": True}
    assert negated(ann, "No fever, chills or cough.", "fever", "chills", "cough") == \
        {"fever": True, "chills": True, "cough": True}


def test_termination_ends_scope(ann):
    assert negated(ann, "No fever but a productive cough.", "fever", "cough") == {"fever": True, "cough": False}
    assert negated(ann, "There was no rash; however, arthralgia persisted.", "rash", "arthralgia") == \
        {"rash": True, "arthralgia": False}


def test_scope_stays_in_sentence(ann):
    assert negated(ann, "She had no fever. Cough was present.", "fever", "Cough") == {"fever": True, "Cough": False}


def test_backward_triggers(ann):
    assert negated(ann, "Steatosis, necrosis or fibrosis were not observed.", "Steatosis", "fibrosis") == \
        {"Steatosis": True, "fibrosis": True}
    assert negated(ann, "Tuberculosis was ruled out.", "Tuberculosis", label="INFECTIOUS_DISEASE") == \
        {"Tuberculosis": True}


def test_pseudo_triggers_do_not_negate(ann):
    assert negated(ann, "There was no increase in proteinuria.", "proteinuria") == {"proteinuria": False}
    assert negated(ann, "Blood cultures grew gram negative rods.", "gram negative rods",
                   label="PATHOGEN") == {"gram negative rods": False}
    assert negated(ann, "He had not only PAH but also a thrombus.", "PAH", label="OTHER_DISEASE") == {"PAH": False}
    assert negated(ann, "There was no change in the size of the nodule.", "nodule") == {"nodule": False}


def test_trigger_inside_entity(ann):
    assert negated(ann, "He was on no regular medication.", "no regular medication", label="MEDICATION") == \
        {"no regular medication": True}
    # content-word triggers (within_entity: false) inside an entity name the finding itself
    assert negated(ann, "He had nausea and absence of appetite.", "absence of appetite") == \
        {"absence of appetite": False}
    assert negated(ann, "Her legs could not move.", "could not move") == {"could not move": False}
    assert negated(ann, "CT showed complete resolution of the mass.", "complete resolution", "mass") == \
        {"complete resolution": False, "mass": True}


def test_within_entity_key():
    rule = {"literal": "absence of", "category": "NEGATED_EXISTENCE", "direction": "forward"}
    text = "Absence of appetite."
    for within, expected in ((True, True), (False, False)):
        ann = ContextAnnotator(rules=[rule_from_dict({**rule, "within_entity": within})])
        assert ann(make_doc(text, {"Absence of appetite": "SIGN_SYMPTOM"})).spans[0].attrs["negated"] is expected
    with pytest.raises(ConfigError, match="within_entity"):
        rule_from_dict({**rule, "within_entity": "no"})


def test_pseudo_phrase_asserts_the_event_inside_it(ann):
    assert negated(ann, "The mass did not regress.", "mass", "regress") == {"mass": False, "regress": True}
    assert negated(ann, "It still showed no significant improvement.", "improvement") == {"improvement": True}
    assert negated(ann, "The patient was not improved as expected.", "patient", "improved") == \
        {"patient": False, "improved": True}
    # a pseudo phrase without a category asserts nothing ("gram negative rods" is not negated)
    assert negated(ann, "Cultures grew gram negative rods.", "negative rods", label="PATHOGEN") == \
        {"negative rods": False}
    with pytest.raises(ConfigError, match="pseudo rule's 'category'"):
        rule_from_dict({"literal": "no change", "direction": "pseudo", "category": "NEGATED"})


def test_negative_test_result_does_not_negate_the_test(ann):
    f = flags(ann, "Blood cultures were negative for Salmonella.",
              {"Blood cultures": "DIAGNOSTIC_PROCEDURE", "Salmonella": "PATHOGEN"})
    assert f["Blood cultures"]["negated"] is False
    assert f["Salmonella"]["negated"] is True
    f = flags(ann, "A lumbar puncture was not performed.", {"lumbar puncture": "DIAGNOSTIC_PROCEDURE"})
    assert f["lumbar puncture"]["negated"] is True


def test_stopped_medication(ann):
    f = flags(ann, "Methotrexate was discontinued and infliximab was started.",
              {"Methotrexate": "MEDICATION", "infliximab": "MEDICATION"})
    assert (f["Methotrexate"]["negated"], f["infliximab"]["negated"]) == (True, False)


def test_uncertain(ann):
    f = flags(ann, "Chest CT was suggestive of tuberculosis.", {"tuberculosis": "INFECTIOUS_DISEASE"})
    assert f["tuberculosis"]["uncertain"] is True and f["tuberculosis"]["negated"] is False
    f = flags(ann, "A lumbar puncture was done to rule out meningitis.", {"meningitis": "INFECTIOUS_DISEASE"})
    assert f["meningitis"]["uncertain"] is True
    f = flags(ann, "Prophylaxis against Pneumocystis pneumonia was given.",
              {"Pneumocystis pneumonia": "INFECTIOUS_DISEASE"})
    assert f["Pneumocystis pneumonia"]["hypothetical"] is True and f["Pneumocystis pneumonia"]["uncertain"] is False
    f = flags(ann, "She had confirmed sarcoidosis.", {"sarcoidosis": "IMMUNE_DISEASE"})
    assert f["sarcoidosis"]["uncertain"] is False


def uncertain(ann, text, mentions: dict[str, str]) -> dict[str, bool]:
    return {m: f["uncertain"] for m, f in flags(ann, text, mentions).items()}


def hypothetical(ann, text, mentions: dict[str, str]) -> dict[str, bool]:
    return {m: f["hypothetical"] for m, f in flags(ann, text, mentions).items()}


def test_recommended_interventions_are_hypothetical(ann):
    assert hypothetical(ann, "A diet with low salt and low fat was suggested.", {"diet": "THERAPEUTIC_PROCEDURE"}) == \
        {"diet": True}
    assert hypothetical(ann, "The specialist recommended psychotherapy.", {"psychotherapy": "THERAPEUTIC_PROCEDURE"}) \
        == {"psychotherapy": True}
    assert hypothetical(ann, "She was planned for neoadjuvant chemotherapy.", {"chemotherapy": "MEDICATION"}) == \
        {"chemotherapy": True}
    # a result, not a recommendation; an ongoing treatment
    assert hypothetical(ann, "The ECG suggested a deviation of the electric axis.",
                     {"electric axis": "DIAGNOSTIC_PROCEDURE"}) == {"electric axis": False}
    assert hypothetical(ann, "He recommended the continuation of chelation therapy.",
                     {"chelation therapy": "MEDICATION"}) == {"chelation therapy": False}
    f = flags(ann, "We did not recommend a biopsy.", {"biopsy": "DIAGNOSTIC_PROCEDURE"})
    assert f["biopsy"]["negated"] is True and f["biopsy"]["hypothetical"] is False


def test_affirmed_conclusions_and_causes_are_not_uncertain(ann):
    assert uncertain(ann, "The findings were compatible with renal cortical necrosis.",
                     {"renal cortical necrosis": "OTHER_DISEASE"}) == {"renal cortical necrosis": False}
    assert uncertain(ann, "Epistaxis was considered to be due to heart failure.",
                     {"Epistaxis": "SIGN_SYMPTOM", "heart failure": "OTHER_DISEASE"}) == \
        {"Epistaxis": False, "heart failure": False}


def test_negation_wins_over_uncertainty(ann):
    f = flags(ann, "No signs suggestive of arthritis.", {"arthritis": "IMMUNE_DISEASE"})
    assert (f["arthritis"]["negated"], f["arthritis"]["uncertain"]) == (True, False)
    both = ContextAnnotator(negation_wins=False)
    f = flags(both, "No signs suggestive of arthritis.", {"arthritis": "IMMUNE_DISEASE"})
    assert (f["arthritis"]["negated"], f["arthritis"]["uncertain"]) == (True, True)


def test_historical(ann):
    f = flags(ann, "She has a history of tuberculosis and now presents with fever.",
              {"tuberculosis": "INFECTIOUS_DISEASE", "fever": "SIGN_SYMPTOM"})
    assert (f["tuberculosis"]["historical"], f["fever"]["historical"]) == (True, False)
    # "a 6-week history of" is the present illness, not the past
    f = flags(ann, "He presented with a 6-week history of palpitations.", {"palpitations": "SIGN_SYMPTOM"})
    assert f["palpitations"]["historical"] is False
    # negated history is negation, not history
    f = flags(ann, "There was no history of smoking.", {"smoking": "SIGN_SYMPTOM"})
    assert (f["smoking"]["negated"], f["smoking"]["historical"]) == (True, False)


def test_family(ann):
    f = flags(ann, "Her mother had systemic lupus erythematosus. She has a malar rash.",
              {"systemic lupus erythematosus": "IMMUNE_DISEASE", "malar rash": "SIGN_SYMPTOM"})
    assert (f["systemic lupus erythematosus"]["family"], f["malar rash"]["family"]) == (True, False)
    f = flags(ann, "There is a family history of psoriasis.", {"psoriasis": "IMMUNE_DISEASE"})
    assert f["psoriasis"]["family"] is True
    f = flags(ann, "Celiac disease was also found in his younger sister.", {"Celiac disease": "IMMUNE_DISEASE"})
    assert f["Celiac disease"]["family"] is True
    f = flags(ann, "At 2 years, the parents noticed a facial rash.", {"facial rash": "SIGN_SYMPTOM"})
    assert f["facial rash"]["family"] is False


def test_modifier_labels_are_left_alone_and_input_not_mutated(ann):
    text = "No pelvic lymphadenopathy."
    doc = make_doc(text, {"pelvic": "ANATOMY", "lymphadenopathy": "SIGN_SYMPTOM"})
    out = ann(doc)
    assert out is not doc
    by_text = {s.text_in(text): s for s in out.spans}
    assert "negated" not in by_text["pelvic"].attrs
    assert by_text["lymphadenopathy"].attrs["negated"] is True
    assert all(not s.attrs for s in doc.spans)  # the input keeps its spans untouched
    everything = ContextAnnotator(skip_labels=())
    assert {s.text_in(text): s.attrs["negated"] for s in everything(doc).spans} == \
        {"pelvic": True, "lymphadenopathy": True}


def test_label_map_applies_type_restrictions():
    ann = ContextAnnotator(label_map={"Diagnostic_procedure": "DIAGNOSTIC_PROCEDURE"})
    text = "Hepatitis serology was negative."
    out = ann(make_doc(text, {"Hepatitis serology": "Diagnostic_procedure"}))
    assert out.spans[0].attrs["negated"] is False
    plain = ContextAnnotator()  # unknown label: no type restriction applies
    assert plain(make_doc(text, {"Hepatitis serology": "Diagnostic_procedure"})).spans[0].attrs["negated"] is True


def test_evidence_and_annotate(ann):
    ev = ContextAnnotator(evidence=True)
    out = ev(make_doc("She denies chest pain.", {"chest pain": "SIGN_SYMPTOM"}))
    assert out.spans[0].attrs["context_cues"] == [
        {"category": "NEGATED_EXISTENCE", "start": 4, "end": 10, "text": "denies"}]
    docs = [make_doc("No rash.", {"rash": "SIGN_SYMPTOM"}), Document("e", "Nothing here.")]
    res = ann.annotate(docs)
    assert [len(d.spans) for d in res] == [1, 0] and res[0].spans[0].attrs["negated"] is True


def test_max_scope_counts_words():
    text = "No a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 fever."
    short = ContextAnnotator(max_scope=5)
    full = ContextAnnotator(max_scope=None)
    doc = make_doc(text, {"fever": "SIGN_SYMPTOM", "a4": "SIGN_SYMPTOM"})
    assert {s.text_in(text): s.attrs["negated"] for s in short(doc).spans} == {"a4": True, "fever": False}
    assert {s.text_in(text): s.attrs["negated"] for s in full(doc).spans} == {"a4": True, "fever": True}


def test_an_entity_counts_as_one_scope_word():
    text = "No a1 a2 a3 a4 a5 a6 fever."
    doc = make_doc(text, {"fever": "SIGN_SYMPTOM"})
    assert ContextAnnotator(max_scope=5)(doc).spans[0].attrs["negated"] is False
    doc = make_doc(text, {"a1 a2 a3 a4 a5 a6": "SIGN_SYMPTOM", "fever": "SIGN_SYMPTOM"})
    assert [s.attrs["negated"] for s in ContextAnnotator(max_scope=5)(doc).spans] == [True, True]


# ------------------------------------------------------------------------------------------ rule files

def write(tmp_path: Path, data) -> Path:
    p = tmp_path / "rules.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


def test_default_rules_load_and_are_valid():
    rules = load_rules()
    assert len(rules) > 300
    dirs = {r.direction for r in rules}
    assert {"forward", "backward", "terminate", "pseudo"} <= dirs <= set(DIRECTIONS)


def test_auxiliary_variants_of_post_negation(ann):
    for verb in ("not seen", "was not seen", "were also not seen", "has not been seen", "had been not seen"):
        assert negated(ann, f"Ascites {verb} on CT.", "Ascites") == {"Ascites": True}, verb
    for verb in ("was ruled out", "has been ruled out", "were all negative"):
        assert negated(ann, f"Sepsis {verb}.", "Sepsis", label="OTHER_DISEASE") == {"Sepsis": True}, verb
    # the active perfect negates what follows, not what precedes
    assert negated(ann, "The boy has not demonstrated any cognitive impairment.", "boy", "cognitive impairment") \
        == {"boy": False, "cognitive impairment": True}
    assert negated(ann, "Her symptoms continue to be negative for fever.", "symptoms") == {"symptoms": False}


def test_removal_weaning_refusal_and_relative_clauses(ann):
    assert negated(ann, "She was extubated after removal of the throat pack.", "extubated", "throat pack",
                   label="THERAPEUTIC_PROCEDURE") == {"extubated": False, "throat pack": True}
    assert negated(ann, "MRI showed that the tumor was radically removed.", "MRI", "tumor") == \
        {"MRI": False, "tumor": True}
    assert negated(ann, "The patient was weaned from cardiopulmonary bypass.", "cardiopulmonary bypass",
                   label="THERAPEUTIC_PROCEDURE") == {"cardiopulmonary bypass": True}
    assert negated(ann, "Surgical intervention was suggested, but she declined.", "Surgical intervention",
                   label="THERAPEUTIC_PROCEDURE") == {"Surgical intervention": True}
    assert negated(ann, "He was denied a heart transplant.", "heart transplant", label="THERAPEUTIC_PROCEDURE") == \
        {"heart transplant": True}
    assert negated(ann, "The differential included encephalitis and ADEM, which were excluded.", "encephalitis",
                   "ADEM", label="OTHER_DISEASE") == {"encephalitis": True, "ADEM": True}


def test_negating_affixes(ann):
    assert negated(ann, "Her abdomen was soft and non-tender.", "tender") == {"tender": True}
    assert negated(ann, "Lymph nodes were tumor-negative.", "tumor") == {"tumor": True}
    # the affix negates only its own word
    assert negated(ann, "A non-contrast CT scan showed a non-malignant pheochromocytoma.", "CT scan",
                   "pheochromocytoma") == {"CT scan": False, "pheochromocytoma": False}
    assert negated(ann, "She had non-Hodgkin lymphoma.", "lymphoma", label="OTHER_DISEASE") == {"lymphoma": False}


def test_clause_boundaries_end_negation(ann):
    assert negated(ann, "No rales were heard at the bases and crackles were heard at the apex.", "rales",
                   "crackles") == {"rales": True, "crackles": False}
    assert negated(ann, "He left without complication and his anemia improved.", "complication", "anemia") == \
        {"complication": True, "anemia": False}
    assert negated(ann, "He refused chemotherapy and decided to proceed with palliative care.", "chemotherapy",
                   "palliative care", label="THERAPEUTIC_PROCEDURE") == {"chemotherapy": True,
                                                                         "palliative care": False}
    assert negated(ann, "No focal findings and only slight nuchal rigidity.", "focal findings",
                   "nuchal rigidity") == {"focal findings": True, "nuchal rigidity": False}
    assert negated(ann, "Tests failed to reveal an etiology for the thrombocytopenia.", "thrombocytopenia") == \
        {"thrombocytopenia": False}
    assert negated(ann, "There was no improvement and a few hours later she was intubated.", "intubated",
                   label="THERAPEUTIC_PROCEDURE") == {"intubated": False}


def test_double_negation_of_resolution(ann):
    assert negated(ann, "His dyspnea was not relieved.", "dyspnea") == {"dyspnea": False}
    assert negated(ann, "The medication did not relieve his dyspnea.", "dyspnea") == {"dyspnea": False}
    assert negated(ann, "His dyspnea was gradually relieved.", "dyspnea") == {"dyspnea": True}
    assert negated(ann, "It was treated as cataract, but no relief was seen.", "relief") == {"relief": True}


def test_failed_attempts_and_findings_that_did_not_occur(ann):
    assert negated(ann, "The attempt to perform a mitral valve repair was unsuccessful.", "mitral valve repair",
                   label="THERAPEUTIC_PROCEDURE") == {"mitral valve repair": True}
    assert negated(ann, "The patient failed a repeat attempt at extubation.", "extubation",
                   label="THERAPEUTIC_PROCEDURE") == {"extubation": True}
    assert negated(ann, "Liver dysfunction did not appear.", "dysfunction") == {"dysfunction": True}
    assert negated(ann, "He did not develop fever.", "fever") == {"fever": True}
    assert negated(ann, "The hematoma did not appear to have spread.", "hematoma") == {"hematoma": False}


def test_partial_resolution_is_uncertain_not_negated(ann):
    for text in ("Imaging revealed near complete resolution of the mass.",
                 "CT showed disappearance of most of the mass.",
                 "The mass was partially resolved.", "The mass was relieved slightly."):
        f = flags(ann, text, {"mass": "SIGN_SYMPTOM"})["mass"]
        assert (f["negated"], f["uncertain"]) == (False, True), text
    f = flags(ann, "Imaging revealed complete resolution of the mass.", {"mass": "SIGN_SYMPTOM"})["mass"]
    assert (f["negated"], f["uncertain"]) == (True, False)


def test_bidirectional_rule_and_rule_max_scope():
    rules = [ContextRule("familial", "bidirectional", "FAMILY", max_scope=2)]
    ann = ContextAnnotator(rules=rules)
    text = "Gout familial gout. Far away words here then gout familial."
    f = ann(Document("d", text, [Span(0, 4, "OTHER_DISEASE"), Span(14, 18, "OTHER_DISEASE"),
                                 Span(44, 48, "OTHER_DISEASE")]))
    assert [s.attrs["family"] for s in f.spans] == [True, True, True]
    far = "Gout one two three familial."
    f = ann(Document("d", far, [Span(0, 4, "OTHER_DISEASE")]))
    assert f.spans[0].attrs["family"] is False


def test_unknown_key_names_file_rule_and_allowed_keys(tmp_path):
    p = write(tmp_path, [{"literal": "no", "category": "NEGATED_EXISTENCE", "direction": "forward"},
                         {"literal": "denies", "category": "NEGATED_EXISTENCE", "direction": "forward",
                          "scope": 5}])
    with pytest.raises(ConfigError) as e:
        load_rules(p)
    msg = str(e.value)
    assert str(p) in msg and "rule 1" in msg and "'scope'" in msg
    assert "allowed keys: literal, category, direction, pattern, max_scope" in msg


@pytest.mark.parametrize("rule, fragment", [
    ({"literal": "no", "direction": "sideways", "category": "NEGATED_EXISTENCE"}, "'direction' must be one of"),
    ({"literal": "no", "direction": "forward"}, "needs 'category'"),
    ({"literal": "no", "direction": "forward", "category": "NEGATED"}, "needs 'category'"),
    ({"literal": "", "direction": "forward", "category": "NEGATED_EXISTENCE"}, "'literal' is required"),
    ({"literal": "x", "direction": "pseudo", "pattern": "(unclosed"}, "not a valid regular expression"),
    ({"literal": "x", "direction": "pseudo", "pattern": [{"LOWER": "x"}]}, "spaCy token patterns"),
    ({"literal": "x", "direction": "pseudo", "pattern": "a*"}, "matches the empty string"),
    ({"literal": "no", "direction": "forward", "category": "NEGATED_EXISTENCE", "max_scope": 0}, "max_scope"),
    ({"literal": "no", "direction": "forward", "category": "NEGATED_EXISTENCE", "allowed_types": "MEDICATION"},
     "list of label strings"),
])
def test_rule_validation(rule, fragment):
    with pytest.raises(ConfigError, match="rule 3") as e:
        rule_from_dict(rule, source="r.json", index=3)
    assert fragment in str(e.value)


def test_medspacy_layout_case_and_custom_rules(tmp_path):
    p = write(tmp_path, {"context_rules": [
        {"literal": "sans", "category": "negated_existence", "direction": "FORWARD"},
        {"literal": "maybe", "category": "POSSIBLE_EXISTENCE", "direction": "forward",
         "metadata": {"source": "test"}}]})
    rules = load_rules(p)
    assert rules[0] == ContextRule(literal="sans", direction="forward", category="NEGATED_EXISTENCE")
    ann = ContextAnnotator(p)
    f = flags(ann, "Patient sans fever. Maybe rash.", {"fever": "SIGN_SYMPTOM", "rash": "SIGN_SYMPTOM"})
    assert f["fever"]["negated"] is True and f["rash"]["uncertain"] is True


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[{", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 1"):
        load_rules(bad)
    with pytest.raises(ConfigError, match="context_rules"):
        load_rules(write(tmp_path, {"rules": []}))


@pytest.mark.parametrize("pattern, words", [
    (r"\bwas\b", {"was"}),
    (r"(?<!\w)(?:(?:which|that)\s+)?(?:was|were)\s+not", {"which", "that", "was", "were"}),
    (r"(?<!\w)an?(?!\w)", {"a", "an"}),
    (r"\b(?:is|are)\s*\(", {"is", "are"}),
    (r"\bnon-", {"non"}),
    (r"\bfoo\s+x|\bbar\s+y", {"foo", "bar"}),
    (r"\bwas", None),            # may continue inside the word ("wash")
    (r"was\b", None),            # no word boundary before: may start inside a word
    (r"\bwas\w+", None),
    (r"\b(?:a|b)+\s", None),     # not a finite choice
    (r"\bx[yz]\s", None),
    (r"\bfoo(?:bar)*\s", None),
    (r"\b\d+\s+weeks", {DIGIT_LEAD}),  # tried at every word that starts with a digit
    (r"\b(?:\d+|an?)\s*-?\s*weeks?\s", {DIGIT_LEAD, "a", "an", "aweek", "aweeks", "anweek", "anweeks"}),
    (r"\bx\d+\s", None),
    (r"\d+\s+weeks", None),       # no word boundary before
    (r",\s+with\b", None),
    (r"\bfoo\s|bar\s", None),    # one alternative without a leading boundary
])
def test_lead_words(pattern, words):
    found = _lead_words(pattern)
    assert (None if found is None else set(found)) == words


def test_indexed_pattern_rules_match_where_a_scan_does():
    """Pattern rules tried only at their lead words find every match a whole-text scan finds."""
    import re

    rules = [r for r in load_rules() if r.pattern is not None and _lead_words(r.pattern)]
    assert len(rules) >= 15  # the packaged rules are mostly indexable
    text = ("The lesions were not seen on CT, which was also negative for abscess. Non-tender, "
            "his mother had lupus and was diagnosed with RA; the fever has been resolved partially. "
            "Biopsy was suggested but declined. Pneumonia was ruled out. Anti-TNF therapy was removed. "
            "Symptoms are not associated with fever and nearly complete resolution of the rash was noted.")
    matcher = _Matcher(rules)
    from imner.text import sentences_with_tokens
    found = {(c.start, c.end, c.rule.literal) for (_, _), toks in sentences_with_tokens(text)
             for c in matcher.cues(text, toks)}
    scanned = 0
    for rule in rules:
        for m in re.finditer(rule.pattern, text, re.IGNORECASE):
            scanned += 1
            # a scanned match is found, or lost only to a longer or earlier overlapping cue
            assert (m.start(), m.end(), rule.literal) in found or any(
                s <= m.start() < e and (s, e) != (m.start(), m.end()) for s, e, _ in found), (rule.literal, m.group())
    assert scanned >= 10


def test_pattern_rule_inside_a_token(ann):
    assert negated(ann, "Abdomen soft, non-tender.", "tender") == {"tender": True}


@pytest.mark.data
def test_maccrobat_negation_sample():
    """Negation on the gold spans of 20 MACCROBAT documents (full numbers: benchmarks/assertion.py)."""
    from imner.config import data_dir
    maccrobat = data_dir() / "maccrobat" / "MACCROBAT2020"
    if not maccrobat.is_dir():
        pytest.skip("MACCROBAT2020 not under IMNER_DATA")
    from imner.io.brat import read_brat

    ann = ContextAnnotator(skip_labels=(), label_map={"Diagnostic_procedure": "DIAGNOSTIC_PROCEDURE",
                                                      "Medication": "MEDICATION",
                                                      "Therapeutic_procedure": "THERAPEUTIC_PROCEDURE",
                                                      "Sign_symptom": "SIGN_SYMPTOM",
                                                      "Disease_disorder": "OTHER_DISEASE"})
    keep = set(ann.label_map)
    tp = fp = fn = 0
    for i, doc in enumerate(read_brat(maccrobat)):
        if i == 20:
            break
        out = ann(doc.with_spans(s for s in doc.spans if s.label in keep))
        for s in out.spans:
            gold, pred = s.attrs.get("POLARITY") == "NEG", s.attrs["negated"]
            tp += gold and pred
            fp += pred and not gold
            fn += gold and not pred
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert tp > 30 and f1 > 0.8


# ------------------------------------------------------------------ issue 16: attrs, sections, error kinds

def attrs_of(ann, text, mentions: dict[str, str]) -> dict[str, dict]:
    out = ann(make_doc(text, mentions))
    return {s.text_in(text): dict(s.attrs) for s in out.spans}


def test_every_asserted_span_carries_every_key(ann):
    from imner.context import ASSERTION_KEYS

    a = attrs_of(ann, "She has a cough.", {"cough": "SIGN_SYMPTOM"})["cough"]
    assert tuple(a) == ASSERTION_KEYS or set(a) == set(ASSERTION_KEYS)
    assert a == {"negated": False, "uncertain": False, "hypothetical": False, "historical": False,
                 "experiencer": "patient", "family": False, "section": None}


def test_hedges_are_uncertain_and_conditions_hypothetical(ann):
    a = attrs_of(ann, "The picture is probably early appendicitis.", {"appendicitis": "OTHER_DISEASE"})
    assert (a["appendicitis"]["uncertain"], a["appendicitis"]["hypothetical"]) == (True, False)
    a = attrs_of(ann, "We talked about the possibility of her getting shingles again.",
                 {"shingles": "INFECTIOUS_DISEASE"})
    assert (a["shingles"]["uncertain"], a["shingles"]["hypothetical"]) == (False, True)
    a = attrs_of(ann, "If the swelling worsens, she will take naproxen.",
                 {"swelling": "SIGN_SYMPTOM", "naproxen": "MEDICATION"})
    assert a["swelling"]["hypothetical"] and a["naproxen"]["hypothetical"]
    assert not a["swelling"]["uncertain"]
    a = attrs_of(ann, "Should the cough get worse, use the inhaler.", {"cough": "SIGN_SYMPTOM"})
    assert a["cough"]["hypothetical"] and not a["cough"]["uncertain"]
    a = attrs_of(ann, "Please phone the ward for any vomiting or dizziness.",
                 {"vomiting": "SIGN_SYMPTOM", "dizziness": "SIGN_SYMPTOM"})
    assert a["vomiting"]["hypothetical"] and a["dizziness"]["hypothetical"]
    a = attrs_of(ann, "He is scheduled for a knee arthroscopy.", {"knee arthroscopy": "THERAPEUTIC_PROCEDURE"})
    assert a["knee arthroscopy"]["hypothetical"]


def test_experiencer_values(ann):
    a = attrs_of(ann, "Her grandfather had psoriasis; she has eczema.",
                 {"psoriasis": "IMMUNE_DISEASE", "eczema": "IMMUNE_DISEASE"})
    assert (a["psoriasis"]["experiencer"], a["psoriasis"]["family"]) == ("family", True)
    assert (a["eczema"]["experiencer"], a["eczema"]["family"]) == ("patient", False)
    a = attrs_of(ann, "The liver donor was hepatitis B surface antigen negative.",
                 {"hepatitis B surface antigen": "DIAGNOSTIC_PROCEDURE"})
    assert a["hepatitis B surface antigen"]["experiencer"] == "donor"
    a = attrs_of(ann, "She received a donor kidney in 2019 and now has BK viremia.",
                 {"BK viremia": "INFECTIOUS_DISEASE"})
    assert a["BK viremia"]["experiencer"] == "patient"
    a = attrs_of(ann, "His partner was treated for gonorrhea last month.", {"gonorrhea": "INFECTIOUS_DISEASE"})
    assert (a["gonorrhea"]["experiencer"], a["gonorrhea"]["family"]) == ("other", False)
    a = attrs_of(ann, "Her aunt had lupus and the patient has a malar rash.",
                 {"lupus": "IMMUNE_DISEASE", "malar rash": "SIGN_SYMPTOM"})
    assert (a["lupus"]["experiencer"], a["malar rash"]["experiencer"]) == ("family", "patient")


def test_sections_feed_assertion(ann):
    text = ("CHIEF COMPLAINT: Joint pain.\n"
            "PAST MEDICAL HISTORY:\n- Gout\n- Hypertension, currently uncontrolled with headaches\n"
            "SOCIAL HISTORY: No tobacco use.\n"
            "FAMILY HISTORY: Psoriasis.\n"
            "PLAN: Start colchicine. Continue amlodipine.\n"
            "Discharge instructions: come back if the fever returns.")
    a = attrs_of(ann, text, {"Joint pain": "SIGN_SYMPTOM", "Gout": "IMMUNE_DISEASE", "Hypertension": "OTHER_DISEASE",
                             "headaches": "SIGN_SYMPTOM", "tobacco use": "SIGN_SYMPTOM",
                             "Psoriasis": "IMMUNE_DISEASE", "colchicine": "MEDICATION", "amlodipine": "MEDICATION",
                             "fever": "SIGN_SYMPTOM"})
    assert a["Joint pain"]["section"] == "chief_complaint" and not a["Joint pain"]["historical"]
    assert a["Gout"]["historical"] and a["Gout"]["section"] == "past_medical_history"
    assert a["Hypertension"]["historical"] and not a["headaches"]["historical"]  # "currently" ends the section's effect
    assert a["tobacco use"]["negated"] and not a["tobacco use"]["historical"]  # never used: not history
    assert a["Psoriasis"]["experiencer"] == "family" and a["Psoriasis"]["section"] == "family_history"
    assert a["colchicine"]["hypothetical"] and not a["amlodipine"]["hypothetical"]  # "continue": ongoing
    assert a["fever"]["hypothetical"] and a["fever"]["section"] == "patient_instructions"
    no_sections = ContextAnnotator(sections=False)
    assert attrs_of(no_sections, text, {"Gout": "IMMUNE_DISEASE"})["Gout"]["historical"] is False


def test_a_section_ends_at_a_paragraph_break(ann):
    text = "Family history: eczema.\n\nOn examination she had a rash."
    a = attrs_of(ann, text, {"eczema": "IMMUNE_DISEASE", "rash": "SIGN_SYMPTOM"})
    assert a["eczema"]["family"] and not a["rash"]["family"] and a["rash"]["section"] is None


def test_history_cues_do_not_reach_the_current_condition(ann):
    a = attrs_of(ann, "Status post liver transplant with new jaundice and fever.",
                 {"liver transplant": "THERAPEUTIC_PROCEDURE", "jaundice": "SIGN_SYMPTOM", "fever": "SIGN_SYMPTOM"})
    assert a["liver transplant"]["historical"] and not a["jaundice"]["historical"] and not a["fever"]["historical"]
    a = attrs_of(ann, "History of gastritis, presents with melena.",
                 {"gastritis": "OTHER_DISEASE", "melena": "SIGN_SYMPTOM"})
    assert a["gastritis"]["historical"] and not a["melena"]["historical"]


def test_missing_history_and_negation_cues(ann):
    a = attrs_of(ann, "He quit drinking alcohol and is a former cocaine user.",
                 {"drinking alcohol": "SIGN_SYMPTOM", "cocaine user": "SIGN_SYMPTOM"})
    assert a["drinking alcohol"]["historical"] and a["cocaine user"]["historical"]
    a = attrs_of(ann, "Sputum smear -ve for acid-fast bacilli.", {"acid-fast bacilli": "PATHOGEN"})
    assert a["acid-fast bacilli"]["negated"]
    a = attrs_of(ann, "Toxoplasma IgM -ve, rubella IgG +ve.", {"Toxoplasma IgM": "DIAGNOSTIC_PROCEDURE",
                                                                "rubella": "PATHOGEN"})
    assert not a["rubella"]["negated"]


def test_a_cue_inside_a_statement_like_span_does_not_negate_it(ann):
    text = "Mouth: moist mucosa without ulcers."
    a = attrs_of(ann, text, {"Mouth: moist mucosa without ulcers": "SIGN_SYMPTOM", "ulcers": "SIGN_SYMPTOM"})
    assert a["Mouth: moist mucosa without ulcers"]["negated"] is False and a["ulcers"]["negated"] is True
    # a cue that opens the entity still negates it
    a = attrs_of(ann, "She took no regular medicines.", {"no regular medicines": "MEDICATION"})
    assert a["no regular medicines"]["negated"] is True


def test_scope_is_not_cut_by_a_stop_word_after_the_cue(ann):
    a = attrs_of(ann, "She had no nausea, nor was there any diarrhoea.", {"nausea": "SIGN_SYMPTOM",
                                                                         "diarrhoea": "SIGN_SYMPTOM"})
    assert a["nausea"]["negated"] and a["diarrhoea"]["negated"]
    a = attrs_of(ann, "The marrow findings do not support a diagnosis of myelodysplasia.",
                 {"myelodysplasia": "OTHER_DISEASE"})
    assert a["myelodysplasia"]["negated"]


def test_cues_inside_lab_names_are_ignored(ann):
    a = attrs_of(ann, "Her international normalized ratio and corrected calcium were checked; the sodium was low.",
                 {"sodium": "DIAGNOSTIC_PROCEDURE", "calcium": "DIAGNOSTIC_PROCEDURE"})
    assert not a["sodium"]["negated"] and not a["calcium"]["negated"]
    a = attrs_of(ann, "Corrected reticulocyte count and anaemia were noted.", {"anaemia": "SIGN_SYMPTOM"})
    assert not a["anaemia"]["negated"]


def test_no_change_in_a_symptom_negates_it(ann):
    a = attrs_of(ann, "There was no change in hearing.", {"hearing": "SIGN_SYMPTOM"})
    assert a["hearing"]["negated"]
    a = attrs_of(ann, "She reports no change in bowel habits.", {"change in bowel habits": "SIGN_SYMPTOM"})
    assert a["change in bowel habits"]["negated"]
    assert negated(ann, "There was no change in the size of the cyst.", "cyst") == {"cyst": False}


def test_section_rules_file_validation(tmp_path):
    from imner.context import load_section_rules

    def write_sections(data) -> Path:
        p = tmp_path / "sections.json"
        p.write_text(json.dumps(data), encoding="utf-8")
        return p

    ok = {"section_rules": [{"literal": "plan", "category": "plan"}],
          "section_assertion": {"plan": {"hypothetical": True}}}
    assert load_section_rules(write_sections(ok)).headers == {"plan": "plan"}
    with pytest.raises(ConfigError, match="unknown key.*'name'.*allowed keys: literal, category, metadata"):
        load_section_rules(write_sections({"section_rules": [{"literal": "plan", "name": "plan"}]}))
    with pytest.raises(ConfigError, match="'experiencer' must be one of 'family', 'donor', 'other'"):
        load_section_rules(write_sections({**ok, "section_assertion": {"plan": {"experiencer": "mother"}}}))
    with pytest.raises(ConfigError, match="unknown key.*'allergies'"):
        load_section_rules(write_sections({**ok, "section_assertion": {"allergies": {"historical": True}}}))
    with pytest.raises(ConfigError, match="section rules file not found"):
        load_section_rules(tmp_path / "missing.json")


def test_section_loinc_codes_name_known_sections():
    from imner.context import SECTION_LOINC, load_section_rules

    names = set(load_section_rules().headers.values())
    assert set(SECTION_LOINC) <= names
    assert all(re.fullmatch(r"\d{4,5}-\d", code) for code in SECTION_LOINC.values())


def test_limits_and_allergies_are_not_absences(ann):
    assert negated(ann, "She drinks no more than two glasses of wine.", "wine") == {"wine": False}
    f = flags(ann, "No known allergy to amoxicillin.", {"allergy": "SIGN_SYMPTOM", "amoxicillin": "MEDICATION"})
    assert (f["allergy"]["negated"], f["amoxicillin"]["negated"]) == (True, False)


def test_bare_list_items_under_history_headers_are_historical(ann):
    text = "Past Medical History:\n  * Pulmonary embolism\n  * Appendicitis\nSocial History:\n  * Heavy alcohol use\n"
    a = attrs_of(ann, text, {"Pulmonary embolism": "OTHER_DISEASE", "Appendicitis": "OTHER_DISEASE",
                             "Heavy alcohol use": "SIGN_SYMPTOM"})
    assert all(v["historical"] for v in a.values())
    assert a["Heavy alcohol use"]["section"] == "social_history"


# ------------------------------------------------------------------ speed machinery: same matches, same outputs

def test_packaged_rules_pass_the_full_check_and_the_packaged_index_is_current():
    """The packaged rules are loaded without compiling their patterns and the matcher reads their index from
    resources/context_rules.index.json: both hold only while these two checks do."""
    from imner.context.lead import build_index
    from imner.context.rules import DEFAULT_INDEX_PATH, DEFAULT_RULES_PATH

    checked = load_rules(DEFAULT_RULES_PATH)  # by path: every pattern compiled and checked
    assert checked == load_rules()
    stored = json.loads(DEFAULT_INDEX_PATH.read_text(encoding="utf-8"))
    built = build_index(checked)
    assert {k: stored.get(k) for k in ("lead", "first", "follow", "next")} == \
        {k: built[k] for k in ("lead", "first", "follow", "next")}, \
        "stale: run imner build context-index"


def test_screens_match_where_one_of_their_phrases_does():
    """An entry's screen (the literal phrases and the patterns as tries) matches exactly where one of them does,
    at every position of a text full of near misses."""
    import re

    from imner.context.matcher import _literal_trie, _pattern_trie, _top_items

    rules = load_rules()
    pats = [r.pattern for r in rules if r.pattern is not None]
    assert sum(_top_items(p) is not None for p in pats) >= 40
    for p in pats:
        items = _top_items(p)
        assert items is None or "".join(items) == p
    text = ("He was not seen. She was ruled out? Were also negative, was removed; was partly resolved and "
            "had been excluded. No evidence of fever, no sign of rash, no-one, not consistent with TB, "
            "which was suggested but declined. Non-tender, HIV-1 negative, in his mother, of the donor site.")
    by_word: dict[str, list] = {}
    for r in rules:
        if r.pattern is None:
            by_word.setdefault(r.literal.split()[0].lower(), []).append(r)
    for word, group in by_word.items():
        trie = re.compile(_literal_trie(group), re.IGNORECASE)
        alts = re.compile("|".join(r.regex() for r in group), re.IGNORECASE)
        for pos in range(len(text)):
            assert (trie.match(text, pos) is None) == (alts.match(text, pos) is None), (word, text[pos:pos + 20])
    screen = re.compile(_pattern_trie(pats), re.IGNORECASE)
    each = [re.compile(p, re.IGNORECASE) for p in pats]
    for pos in range(len(text)):
        assert (screen.match(text, pos) is None) == all(rx.match(text, pos) is None for rx in each), text[pos:]


def test_digit_led_pattern_is_tried_inside_tokens(tmp_path):
    """A pattern led by a digit is indexed (not searched over the text) and still found inside a token."""
    p = write(tmp_path, [{"literal": "N-week", "direction": "pseudo", "pattern": r"\b\d+\s*-?\s*weeks?\b"},
                         {"literal": "no", "category": "NEGATED_EXISTENCE", "direction": "forward"}])
    ann = ContextAnnotator(p)
    text = "A 3-week fever, HIV-2 week and 10 weeks ago no rash."
    found = {text[c.start:c.end] for c in ann.cues(text)}
    assert {"3-week", "2 week", "10 weeks", "no"} <= found
    assert not ann._matcher.pattern_rules  # nothing left to search over the whole text


def test_section_headers_as_a_whole_text_search_finds_them():
    """Headers are tried only at line starts and after '. '/'; ', with a screen first: the same matches as the
    header regex searched over the text."""
    import re

    ann = ContextAnnotator()
    sz = ann.sectionizer
    text = ("HPI: cough. Past Medical History: lupus; Family history: RA.\n  - Medications: none\n"
            "1. Plan: start\nSocial-history\nAssessment and plan:\nno header here: x. Allergies : none")
    rx = re.compile(sz._source, re.IGNORECASE | re.MULTILINE)
    assert [m.span() for m in sz._headers(text)] == [m.span() for m in rx.finditer(text)]
    assert len(ann.sections(text)) >= 5


@pytest.mark.parametrize("text, mentions, expected", [
    # sentences written for this test; each value: negated, uncertain, hypothetical, historical, experiencer
    ("No fever, chills or night sweats were reported, but a cough was noted.",
     {"fever": "SIGN_SYMPTOM", "night sweats": "SIGN_SYMPTOM", "cough": "SIGN_SYMPTOM"},
     {"fever": (True, False, False, False, "patient"), "night sweats": (True, False, False, False, "patient"),
      "cough": (False, False, False, False, "patient")}),
    ("Tuberculosis was ruled out; possible sarcoidosis. Her mother had lupus.",
     {"Tuberculosis": "INFECTIOUS_DISEASE", "sarcoidosis": "IMMUNE_DISEASE", "lupus": "IMMUNE_DISEASE"},
     {"Tuberculosis": (True, False, False, False, "patient"), "sarcoidosis": (False, True, False, False, "patient"),
      "lupus": (False, False, False, False, "family")}),
    ("PAST MEDICAL HISTORY: hepatitis B.\nPlan: start methotrexate if the rash returns.",
     {"hepatitis B": "INFECTIOUS_DISEASE", "methotrexate": "MEDICATION", "rash": "SIGN_SYMPTOM"},
     {"hepatitis B": (False, False, False, True, "patient"), "methotrexate": (False, False, True, False, "patient"),
      "rash": (False, False, True, False, "patient")}),
])
def test_assertion_outputs_stay_as_they_were(ann, text, mentions, expected):
    """A few sentences with every attr, so that a speed change that alters an output fails here (the full
    check: `python benchmarks/assertion_profile.py dump FILE` before and after, then `cmp`)."""
    out = ann(make_doc(text, mentions))
    got = {s.text_in(text): tuple(s.attrs[k] for k in ("negated", "uncertain", "hypothetical", "historical",
                                                        "experiencer")) for s in out.spans}
    assert got == expected


# ------------------------------------------------------------------ issue 16: scope fixes (sentences written here)

def test_cue_inside_an_entity_it_does_not_modify_stays_in_that_entity(ann):
    # "could not" names the finding "could not walk"; it does not negate what follows the entity
    assert negated(ann, "On review his legs could not walk, tremor of the hands was marked.", "could not walk",
                   "tremor") == {"could not walk": False, "tremor": False}
    # a cue that opens the entity still reaches past it
    assert negated(ann, "He takes no regular medication or inhaler.", "no regular medication", "inhaler",
                   label="MEDICATION") == {"no regular medication": True, "inhaler": True}


def test_a_new_clause_with_its_subject_ends_a_backward_negation(ann):
    assert negated(ann, "She reported palpitations before the syncope and she denied chest pain.",
                   "palpitations", "syncope", "chest pain") == \
        {"palpitations": False, "syncope": False, "chest pain": True}


def test_declined_as_fell_is_not_a_refusal(ann):
    assert negated(ann, "Visual acuity declined to 6/60 with marked photophobia.", "photophobia") == \
        {"photophobia": False}
    assert negated(ann, "He declined the proposed splenectomy.", "splenectomy", label="THERAPEUTIC_PROCEDURE") == \
        {"splenectomy": True}


def test_source_agent_and_change_phrases_end_the_negation(ann):
    assert negated(ann, "There was no oozing from the central line.", "oozing", "central line",
                   label="THERAPEUTIC_PROCEDURE") == {"oozing": True, "central line": False}
    assert negated(ann, "The hernia could not be reduced by gentle manual pressure.", "manual pressure",
                   label="THERAPEUTIC_PROCEDURE") == {"manual pressure": False}
    assert negated(ann, "She has had no further worsening of her psoriasis.", "psoriasis",
                   label="IMMUNE_DISEASE") == {"psoriasis": False}
    assert negated(ann, "Sequencing found no variants associated with Alport syndrome.", "Alport syndrome",
                   label="OTHER_DISEASE") == {"Alport syndrome": False}


def test_a_procedure_right_after_no_was_not_done(ann):
    assert negated(ann, "No biopsy was taken at that time.", "biopsy", label="DIAGNOSTIC_PROCEDURE") == \
        {"biopsy": True}
    # further away, the test is where a finding was looked for
    assert negated(ann, "No mass was seen on the abdominal CT.", "mass", "abdominal CT",
                   label="DIAGNOSTIC_PROCEDURE") == {"mass": True, "abdominal CT": False}


def test_stopped_and_switched_treatments(ann):
    med = "MEDICATION"
    assert negated(ann, "The methotrexate was initially stopped after the rash.", "methotrexate", label=med) == \
        {"methotrexate": True}
    assert negated(ann, "Vasopressors were weaned off overnight.", "Vasopressors", label=med) == {"Vasopressors": True}
    assert negated(ann, "Dialysis was terminated after two sessions.", "Dialysis", label="THERAPEUTIC_PROCEDURE") == \
        {"Dialysis": True}
    # the drug switched from is stopped, the one switched to is given
    assert negated(ann, "She was switched from azathioprine to mycophenolate.", "azathioprine", "mycophenolate",
                   label=med) == {"azathioprine": True, "mycophenolate": False}
    # a dose or route change is not a stop
    assert negated(ann, "The heparin dose was changed to 800 units per hour.", "heparin", label=med) == \
        {"heparin": False}


def test_procedures_set_aside_or_prevented(ann):
    tp = "THERAPEUTIC_PROCEDURE"
    assert negated(ann, "Lung biopsy was not considered because of her bleeding risk.", "Lung biopsy",
                   label="DIAGNOSTIC_PROCEDURE") == {"Lung biopsy": True}
    assert negated(ann, "Dense adhesions prevented complete resection of the cyst.", "complete resection",
                   label=tp) == {"complete resection": True}
    assert negated(ann, "Cardioversion was not clinically indicated.", "Cardioversion", label=tp) == \
        {"Cardioversion": True}
    assert negated(ann, "She failed to repeat the echocardiogram.", "repeat the echocardiogram",
                   label="DIAGNOSTIC_PROCEDURE") == {"repeat the echocardiogram": True}
    # a clause of reason after ", as" is outside the backward scope
    assert negated(ann, "The stone was extracted whole with a basket, as lithotripsy was not possible.",
                   "basket", "lithotripsy", label=tp) == {"basket": False, "lithotripsy": True}


def test_conditions_that_went_away(ann):
    assert negated(ann, "Her arthralgia then subsided over two weeks.", "arthralgia") == {"arthralgia": True}
    assert negated(ann, "Treatment led to normalization of the fever curve.", "fever curve") == {"fever curve": True}


def test_not_of_a_modifier_or_of_a_correction_is_not_a_negation(ann):
    assert negated(ann, "She had recurrent, but not fatal, bouts of hypoglycaemia.", "hypoglycaemia") == \
        {"hypoglycaemia": False}
    assert negated(ann, "Despite fluids it was not possible to correct the hyponatraemia.", "hyponatraemia") == \
        {"hyponatraemia": False}
    assert negated(ann, "His hypokalaemia could not be corrected orally.", "hypokalaemia") == {"hypokalaemia": False}
    # "relieved" reaches back only to the finding right before it
    assert negated(ann, "He mobilised early with headache relieved by rest.", "mobilised", "headache") == \
        {"mobilised": False, "headache": True}


def test_the_comma_of_a_leading_clause_ends_its_negation(ann):
    assert negated(ann, "As she declined further chemotherapy, nodal recurrence was found in May.", "chemotherapy",
                   "nodal recurrence") == {"chemotherapy": True, "nodal recurrence": False}
    assert negated(ann, "Although there was no fever, a dry cough persisted.", "fever", "dry cough") == \
        {"fever": True, "dry cough": False}
    # a sentence that does not open with such a clause keeps its list in scope
    assert negated(ann, "No fever, rash, or joint pain.", "fever", "rash", "joint pain") == \
        {"fever": True, "rash": True, "joint pain": True}


def test_either_way_and_adjective_negative(ann):
    tp = "THERAPEUTIC_PROCEDURE"
    assert negated(ann, "Nephrectomy with or without adrenalectomy is planned.", "adrenalectomy", label=tp) == \
        {"adrenalectomy": False}
    # "negative" as an adjective reaches the phrase it opens, not one further on
    assert negated(ann, "A negative quantiferon test is required before starting adalimumab.", "adalimumab",
                   label="MEDICATION") == {"adalimumab": False}
    assert negated(ann, "Patients with septic arthritis will also be excluded.", "septic arthritis",
                   label="INFECTIOUS_DISEASE") == {"septic arthritis": False}


@pytest.mark.parametrize("pattern, follow", [
    (r"\bwas\s+not\b", {"was": set("nN")}),
    (r"(?<!\w)(?:in|of)\s+(?:his|the)\s+mother", {"in": set("hHtT"), "of": set("hHtT")}),
    (r"\bnot\s*,?\s*(?:seen|ruled)", {"not": set("sSrR,ſ")}),
    (r"\bwas\b", {}),                          # may end right after the word: nothing to check
    (r"\bwas\s+(?:\w+ly\s+)?resolved", {}),    # any word may follow: not worked out
    (r"\bin\s+\d{4}", {}),                     # \d is any Unicode digit: not worked out
    (r"\bfoo\s+x|\bbar\s*-\s*y", {"foo": set("xX"), "bar": set("-")}),
])
def test_follow_chars(pattern, follow):
    from imner.context.lead import follow_chars
    assert {w: set(c) for w, c in follow_chars(pattern).items()} == follow


def test_the_next_character_check_finds_every_cue_the_regexes_find(monkeypatch):
    """Skipping a token where the character after it starts none of its phrases or patterns (``follow``) finds
    the same cues as trying every token, whatever the white space, hyphens and punctuation after the words."""
    from imner.context import matcher as matcher_mod
    from imner.text import sentences_with_tokens

    base = ("No fever.  She was not  seen in\tcase of rash; in-case of pain, of his mother had lupus. "
            "History of TB; history\nof asthma at risk for sepsis, to rule out lupus at  risk of falls. "
            "It was ruled out, which was not performed.\nThe patient had no fever and had been well. "
            "Was suggested but declined. In 2005 she had been treated. To - rule out TB. at-risk for. "
            "Not seen. No- fever. in  the donor, of the donor. Had  no rash, that was excluded.")
    texts = [base, base.upper(), base.lower(), base.replace(" ", "  "), base.replace(" ", "\n")]

    def all_cues(m):
        return [[(c.start, c.end, c.rule.literal) for (_, _), toks in sentences_with_tokens(t)
                 for c in m.cues(t, toks)] for t in texts]

    rules = load_rules()
    with_check = all_cues(_Matcher(rules))
    monkeypatch.setattr(matcher_mod, "_follow", lambda *a: None)
    assert all_cues(_Matcher(rules)) == with_check
    assert sum(map(len, with_check)) >= 60


@pytest.mark.parametrize("pattern, nxt", [
    (r"\bwas\s+not\b", {"was": ["=not"]}),
    (r"\bwas\b", {}),                                     # may end right after the word: nothing to check
    (r"\bwas\s+(?:\w+ly\s+)?resolved", {"was": ["$ly", "^resolved"]}),  # an "-ly" word, or one that starts so
    (r"(?<!\w)(?:was|were)\s+(?:also\s+)?not(?!\w)", {"was": ["=also", "=not"], "were": ["=also", "=not"]}),
    (r"\bnot\s*,?\s*(?:seen|ruled)", {}),                  # a comma may come between: not worked out
    (r"\bin\s+\d{4}", {}),                                 # a digit class: not worked out
    (r"\bfoo\s+x|\bbar\s*-\s*y", {"foo": ["^x"], "bar": ["^y"]}),
    (r"\bwas\s+\w+\s+not", {}),                             # any word may follow
])
def test_next_words(pattern, nxt):
    from imner.context.lead import next_words
    assert next_words(pattern) == nxt


def test_the_next_word_check_finds_every_cue_the_regexes_find(monkeypatch):
    """Skipping a token where the word after it is none that its phrases or patterns allow (``next``), and
    trying only those that allow it, finds the same cues in the same order as trying them all at every token,
    whatever the case, white space, hyphens, adverbs and punctuation after the words."""
    from imner.context import matcher as matcher_mod
    from imner.text import sentences_with_tokens

    rules = load_rules()
    phrases = ". ".join(r.literal for r in rules)  # every literal phrase, so every second word
    base = ("It was not seen. The rash was completely resolved, which was also negative. They were all "
            "negative for TB. Surgery was suggested, but she declined. Lupus was thoroughly ruled out; it was "
            "promptly discontinued. Steroids were then tapered off. was - not   seen, was\nnot. WAS NOT. "
            "It was partially resolved and was subsequently stopped. In the mother, of his father. Was notable. "
            "was café. was_not. was-not. It was nearly normalised. The fever had been cleared. " + phrases)
    texts = [base, base.upper(), base.lower(), base.replace(" ", "  "), base.replace(" ", "\n"),
             base.replace(" ", "-")]

    def all_cues(m):
        return [[(c.start, c.end, c.rule.literal, c.rule.direction) for (_, _), toks in sentences_with_tokens(t)
                 for c in m.cues(t, toks)] for t in texts]

    with_check = all_cues(_Matcher(rules))
    monkeypatch.setattr(matcher_mod, "_next", lambda *a: None)
    assert all_cues(_Matcher(rules)) == with_check
    assert sum(map(len, with_check)) >= 1000


def test_an_entity_that_is_a_termination_word_still_ends_the_scope():
    # event verbs annotated as entities of their own (MACCROBAT's Clinical_event): "presented" still ends "no known"
    ann = ContextAnnotator(skip_labels=())
    text = "A woman with no known cardiac disease presented with dyspnoea."
    out = flags(ann, text, {"cardiac disease": "OTHER_DISEASE", "presented": "EVENT", "dyspnoea": "SIGN_SYMPTOM"})
    assert {m: f["negated"] for m, f in out.items()} == \
        {"cardiac disease": True, "presented": False, "dyspnoea": False}
    # a phrase that goes on past the entity still negates the entity itself
    assert negated(ContextAnnotator(), "He is without contraindications to anticoagulation.", "contraindications",
                   "anticoagulation", label="THERAPEUTIC_PROCEDURE") == \
        {"contraindications": True, "anticoagulation": False}
