"""dictionary.v1 on a tiny hand-made lexicon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imner.errors import ConfigError, LabelError
from imner.lexicon import Concept, Lexicon, builder_from_records, default_index_path
from imner.taggers import create, load_tagger
from imner.lexicon.normalize import singular
from imner.taggers.dictionary import DictionaryTagger
from imner.types import Document

CONCEPTS = [
    Concept("DOID:9074", "systemic lupus erythematosus", "IMMUNE_DISEASE", "DO", "immune", "autoimmune"),
    Concept("DOID:8778", "Crohn's disease", "IMMUNE_DISEASE", "DO", "immune", "other-immune"),
    Concept("DOID:12842", "Guillain-Barre syndrome", "IMMUNE_DISEASE", "DO", "immune", "autoimmune"),
    Concept("DOID:7148", "rheumatoid arthritis", "IMMUNE_DISEASE", "DO", "immune", "autoimmune"),
    Concept("DOID:820", "myocarditis", "OTHER_DISEASE", "DO", "other", None),
    Concept("DOID:8567", "Hodgkin lymphoma", "OTHER_DISEASE", "DO", "other", "neoplasm"),
    Concept("DOID:526", "human immunodeficiency virus infectious disease", "INFECTIOUS_DISEASE", "DO",
            "infectious", "viral"),
    Concept("HP:0025615", "Abscess", "INFECTIOUS_DISEASE", "HPO", "infectious", "unspecified"),
    Concept("NCBITaxon:11676", "Human immunodeficiency virus 1", "PATHOGEN", "NCBITaxon", kind="virus"),
    Concept("NCBITaxon:1280", "Staphylococcus aureus", "PATHOGEN", "NCBITaxon", kind="bacterium"),
    Concept("HP:0001945", "Fever", "SIGN_SYMPTOM", "HPO"),
    Concept("HP:0001250", "Seizure", "SIGN_SYMPTOM", "HPO"),
    Concept("HP:0002725", "Systemic lupus erythematosus", "SIGN_SYMPTOM", "HPO"),
    Concept("HP:0000001", "ab", "SIGN_SYMPTOM", "HPO"),
    Concept("DRUGBANK:DB00563", "Methotrexate", "MEDICATION", "DrugBank"),
    Concept("DRUGBANK:DB00028", "Human immunoglobulin G", "MEDICATION", "DrugBank"),
    Concept("DRUGBANK:DB09145", "Water", "MEDICATION", "DrugBank"),
    Concept("HP:0012828", "Severe", "SEVERITY", "HPO"),
]
TERMS = [("SLE", "DOID:9074"), ("lupus", "DOID:9074"), ("MTX", "DRUGBANK:DB00563"), ("IVIg", "DRUGBANK:DB00028"),
         ("S. aureus", "NCBITaxon:1280"), ("HIV", "DOID:526")]
CURATED = [("HIV", "NCBITaxon:11676"), ("RA", "DOID:7148")]


@pytest.fixture(scope="module")
def lexicon_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lex") / "tiny.json.gz"
    return builder_from_records(CONCEPTS, TERMS, CURATED).write(path)


@pytest.fixture(scope="module")
def tagger(lexicon_path: Path) -> DictionaryTagger:
    return DictionaryTagger(lexicon=lexicon_path)


def tag(t: DictionaryTagger, text: str) -> list[tuple[str, str]]:
    return [(text[s.start:s.end], s.label) for s in t.predict([Document("d", text)])[0]]


def test_longest_match_and_attrs(tagger: DictionaryTagger) -> None:
    text = "A woman with systemic lupus erythematosus (SLE) got methotrexate for fever."
    spans = tagger.predict([Document("d", text)])[0]
    assert [(text[s.start:s.end], s.label) for s in spans] == [
        ("systemic lupus erythematosus", "IMMUNE_DISEASE"), ("SLE", "IMMUNE_DISEASE"),
        ("methotrexate", "MEDICATION"), ("fever", "SIGN_SYMPTOM")]
    first = spans[0]
    assert first.score == 1.0
    assert first.attrs["concept_id"] == "DOID:9074" and first.attrs["source"] == "lexicon"
    assert "alt_concept_ids" not in first.attrs  # the HPO concept has another label


def test_case_sensitive_abbreviations(tagger: DictionaryTagger) -> None:
    assert tag(tagger, "RA and SLE") == [("RA", "IMMUNE_DISEASE"), ("SLE", "IMMUNE_DISEASE")]
    assert tag(tagger, "the sle of ra, Ra, Sle") == []
    assert tag(tagger, "IVIG or IVIg, not ivig") == [("IVIG", "MEDICATION"), ("IVIg", "MEDICATION")]
    assert tag(tagger, "Lupus, LUPUS, lupus") == [("Lupus", "IMMUNE_DISEASE"), ("LUPUS", "IMMUNE_DISEASE"),
                                                  ("lupus", "IMMUNE_DISEASE")]


def test_normalization_variants(tagger: DictionaryTagger) -> None:
    text = "Crohn’s disease, Crohn disease, CROHN'S DISEASE, Guillain–Barré syndrome, guillain barre syndrome"
    got = tag(tagger, text)
    assert [s for s, _ in got] == ["Crohn’s disease", "Crohn disease", "CROHN'S DISEASE", "Guillain–Barré syndrome",
                                   "guillain barre syndrome"]
    assert tag(tagger, "S. aureus grew") == [("S. aureus", "PATHOGEN")]


def test_token_boundaries_and_hyphens(tagger: DictionaryTagger) -> None:
    assert tag(tagger, "non-Hodgkin lymphoma") == []  # never starts inside a token
    assert tag(tagger, "Hodgkin lymphoma") == [("Hodgkin lymphoma", "OTHER_DISEASE")]
    assert tag(tagger, "SLE-associated myocarditis") == [("SLE", "IMMUNE_DISEASE"), ("myocarditis", "OTHER_DISEASE")]
    assert tag(tagger, "HIV-positive") == [("HIV", "PATHOGEN")]
    assert tag(tagger, "SLE-like") == []  # "like" is not an allowed suffix
    assert tag(tagger, "anti-HIV antibodies") == []
    assert tag(tagger, "feverish") == []


def test_no_match_across_line_breaks(tagger: DictionaryTagger) -> None:
    assert tag(tagger, "systemic lupus\nerythematosus") == [("lupus", "IMMUNE_DISEASE")]


def test_plurals(tagger: DictionaryTagger, lexicon_path: Path) -> None:
    assert tag(tagger, "seizures and abscesses") == [("seizures", "SIGN_SYMPTOM"), ("abscesses", "INFECTIOUS_DISEASE")]
    assert tag(tagger, "RAs") == []  # abbreviations take no plural
    assert tag(DictionaryTagger(lexicon=lexicon_path, plurals=False), "seizures") == []
    assert [singular(w, latin=False) for w in ("seizures", "abscesses", "arteries", "diagnosis", "virus", "ras",
                                              "stenoses", "influenzae", "bacilli")] == [
        "seizure", "abscess", "artery", "diagnosis", "virus", "ras", "stenosis", "influenzae", "bacilli"]


def test_mechanism_modifiers(tagger: DictionaryTagger, lexicon_path: Path) -> None:
    text = "viral myocarditis; autoimmune myocarditis; acute myocarditis"
    spans = tagger.predict([Document("d", text)])[0]
    assert [(text[s.start:s.end], s.label) for s in spans] == [
        ("viral myocarditis", "INFECTIOUS_DISEASE"), ("autoimmune myocarditis", "IMMUNE_DISEASE"),
        ("myocarditis", "OTHER_DISEASE")]
    assert spans[0].attrs["rule"] == "mechanism_modifier" and spans[0].attrs["concept_id"] == "DOID:820"
    off = DictionaryTagger(lexicon=lexicon_path, mechanism_modifiers=False)
    assert tag(off, "viral myocarditis") == [("myocarditis", "OTHER_DISEASE")]
    only_other = DictionaryTagger(lexicon=lexicon_path, labels=["OTHER_DISEASE"])
    assert tag(only_other, "viral myocarditis") == [("myocarditis", "OTHER_DISEASE")]


def test_label_priority_and_filter(tagger: DictionaryTagger, lexicon_path: Path) -> None:
    assert tag(tagger, "HIV") == [("HIV", "PATHOGEN")]  # curated row first
    diseases = DictionaryTagger(lexicon=lexicon_path, labels=["INFECTIOUS_DISEASE"])
    assert tag(diseases, "HIV and fever") == [("HIV", "INFECTIOUS_DISEASE")]
    assert diseases.labels == ("INFECTIOUS_DISEASE",)
    signs = DictionaryTagger(lexicon=lexicon_path, labels=["SIGN_SYMPTOM"])
    spans = signs.predict([Document("d", "systemic lupus erythematosus")])[0]
    assert [(s.label, s.attrs["concept_id"]) for s in spans] == [("SIGN_SYMPTOM", "HP:0002725")]


def test_alt_concept_ids(lexicon_path: Path, tmp_path: Path) -> None:
    concepts = [Concept("DOID:1", "lupus", "IMMUNE_DISEASE", "DO"), Concept("DOID:2", "Lupus", "IMMUNE_DISEASE", "DO")]
    path = builder_from_records(concepts).write(tmp_path / "two.json.gz")
    span = DictionaryTagger(lexicon=path).predict([Document("d", "lupus")])[0][0]
    assert span.attrs["concept_id"] == "DOID:1" and span.attrs["alt_concept_ids"] == ["DOID:2"]


def test_stoplist_and_min_length(lexicon_path: Path, tmp_path: Path) -> None:
    text = "water, ab, RA, fever"
    assert tag(DictionaryTagger(lexicon=lexicon_path), text) == [("RA", "IMMUNE_DISEASE"), ("fever", "SIGN_SYMPTOM")]
    no_stop = DictionaryTagger(lexicon=lexicon_path, stoplist=None, min_term_length=1)
    assert tag(no_stop, text) == [("water", "MEDICATION"), ("ab", "SIGN_SYMPTOM"), ("RA", "IMMUNE_DISEASE"),
                                  ("fever", "SIGN_SYMPTOM")]
    stop = tmp_path / "stop.txt"
    stop.write_text("# mine\nFever\n")
    custom = DictionaryTagger(lexicon=lexicon_path, stoplist=stop)
    assert tag(custom, text) == [("water", "MEDICATION"), ("RA", "IMMUNE_DISEASE")]
    with pytest.raises(ConfigError, match="stop-list"):
        DictionaryTagger(lexicon=lexicon_path, stoplist=tmp_path / "missing.txt").predict([Document("d", "x")])


def test_bad_config(lexicon_path: Path) -> None:
    with pytest.raises(LabelError, match="DISEASE"):
        DictionaryTagger(lexicon=lexicon_path, labels=["DISEASE"])
    with pytest.raises(ConfigError, match="labels"):
        DictionaryTagger(lexicon=lexicon_path, labels=[])
    with pytest.raises(ConfigError, match="min_term_length"):
        DictionaryTagger(lexicon=lexicon_path, min_term_length=0)


def test_save_load_copies_the_lexicon(lexicon_path: Path, tmp_path: Path) -> None:
    stop = tmp_path / "stop.txt"
    stop.write_text("fever\n")
    t = create("dictionary.v1", lexicon=str(lexicon_path), labels=["IMMUNE_DISEASE", "SIGN_SYMPTOM"],
               stoplist=str(stop), min_term_length=4)
    text = "SLE with fever and seizures"
    expected = tag(t, text)
    model = t.save(tmp_path / "model")
    cfg = json.loads((model / "config.json").read_text())
    assert cfg["tagger"] == "dictionary.v1" and cfg["lexicon"] == "lexicon.json.gz" and cfg["stoplist"] == "stoplist.txt"
    assert cfg["labels"] == ["IMMUNE_DISEASE", "SIGN_SYMPTOM"] and cfg["min_term_length"] == 4
    assert (model / "lexicon.json.gz").read_bytes() == lexicon_path.read_bytes()
    moved = tmp_path / "moved"
    model.rename(moved)
    loaded = load_tagger(moved)
    assert isinstance(loaded, DictionaryTagger) and loaded.labels == ("IMMUNE_DISEASE", "SIGN_SYMPTOM")
    assert tag(loaded, text) == expected
    # a different lexicon under the saved name: predictions may differ, say so
    other = builder_from_records(CONCEPTS[:2]).write(moved / "lexicon.json.gz")
    with pytest.warns(UserWarning, match="sha256"):
        load_tagger(other.parent).predict([Document("d", text)])


def test_in_memory_lexicon_cannot_be_saved(tmp_path: Path) -> None:
    t = DictionaryTagger(lexicon=Lexicon.from_builder(builder_from_records(CONCEPTS)))
    assert tag(t, "fever") == [("fever", "SIGN_SYMPTOM")]
    with pytest.raises(ConfigError, match="in-memory"):
        t.save(tmp_path / "m")


@pytest.mark.skipif(not default_index_path().is_file(), reason="packaged lexicon index not built")
def test_packaged_lexicon_smoke() -> None:
    t = DictionaryTagger()
    text = ("A 30-year-old woman with SLE-associated viral myocarditis, MRSA bacteremia and fever was given "
            "methotrexate; water was withheld.")
    got = tag(t, text)
    assert ("SLE", "IMMUNE_DISEASE") in got
    assert ("viral myocarditis", "INFECTIOUS_DISEASE") in got
    assert ("MRSA", "PATHOGEN") in got
    assert ("fever", "SIGN_SYMPTOM") in got
    assert ("methotrexate", "MEDICATION") in got
    assert all(s != "water" for s, _ in got)
