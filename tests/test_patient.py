"""imner.patient: age, age group and sex of the described patient, with evidence offsets."""

import pytest

from imner.patient import AGE_GROUPS, age_group, extract_patient, parse_age
from imner.types import Document


@pytest.mark.parametrize("text, years, approx", [
    ("28-year-old", 28.0, False),
    ("a 3-month-old infant", 0.25, False),
    ("36- year- old", 36.0, False),
    ("33 - year old", 33.0, False),
    ("50-year old", 50.0, False),
    ("36-yr-old", 36.0, False),
    ("4 and a half years old", 4.5, False),
    ("65 years of age", 65.0, False),
    ("13 months of age", 13 / 12, False),
    ("aged 45", 45.0, False),
    ("at the age of 19 years", 19.0, False),
    ("Age 16", 16.0, False),
    ("a 28 y/o woman", 28.0, False),
    ("a twenty-eight-year-old man", 28.0, False),
    ("a 14-day-old boy", 14 / 365.25, False),
    ("in his 60s", 65.0, True),
    ("in her sixties", 65.0, True),
    ("early 70s", 72.0, True),
    ("late 40s", 48.0, True),
    ("mid-teens", 15.0, True),
    ("a newborn", 0.0, True),
    ("a neonate", 0.0, True),
])
def test_parse_age(text, years, approx):
    value, approximate = parse_age(text)
    assert value == pytest.approx(years)
    assert approximate is approx


@pytest.mark.parametrize("text", ["young", "a child", "20 years", "fever for 3 days", "the 1960s", "",
                                  "young and old", "the band old-timers"])
def test_parse_age_none(text):
    assert parse_age(text) is None


def test_age_groups():
    assert [age_group(a) for a in (0.0, 0.1, 0.5, 5, 12, 17.9, 18, 64.9, 65, 90)] == [
        "neonate", "infant", "infant", "child", "adolescent", "adolescent", "adult", "adult", "older adult",
        "older adult"]
    assert age_group(None) is None
    assert [g for g, _ in AGE_GROUPS][-1] == "older adult"


def test_case_report_opening_with_evidence():
    text = "A 28-year-old previously healthy man presented with palpitations."
    p = extract_patient(Document("d", text))
    assert p["age"] == 28.0 and p["age_approximate"] is False and p["age_group"] == "adult"
    assert p["age_evidence"] == {"start": 2, "end": 13, "text": "28-year-old"}
    assert p["sex"] == "male" and p["sex_source"] == "term"
    assert p["sex_evidence"] == {"start": 33, "end": 36, "text": "man"}
    assert text[p["sex_evidence"]["start"]:p["sex_evidence"]["end"]] == "man"


def test_relatives_and_earlier_events_are_skipped():
    text = ("Her 30-year-old mother had lupus. At the age of 10 she was diagnosed with JIA. "
            "The patient, a woman, is now 25 years old.")
    p = extract_patient(text)
    assert p["age"] == 25.0 and p["age_evidence"]["text"] == "25 years old"
    assert p["sex"] == "female" and p["sex_evidence"]["text"] == "woman"
    # only an event age: used as a last resort
    assert extract_patient("Since age 5 she has had recurrent infections.")["age"] == 5.0


def test_sex_term_near_the_age_wins():
    text = "His father died of a stroke. A 5-year-old girl was admitted. She had a rash."
    p = extract_patient(text)
    assert (p["age"], p["sex"], p["age_group"]) == (5.0, "female", "child")


def test_sex_terms_and_pronoun_fallback():
    assert extract_patient("The patient, a 30-year-old primigravida, had fever.")["sex"] == "female"
    assert extract_patient("Mr. Smith, 70, presented with chest pain.")["sex"] == "male"
    p = extract_patient("The patient presented with fever. He had a cough. His CRP was high.")
    assert (p["sex"], p["sex_source"], p["sex_evidence"]["text"]) == ("male", "pronoun", "He")
    p = extract_patient("The patient had fever. He denied cough; she said so.")  # 1 vs 1: undecided
    assert p["sex"] is None and p["sex_evidence"] is None
    assert extract_patient("MS was diagnosed; MR was moderate.")["sex"] is None  # multiple sclerosis, mitral regurg.


def test_newborn_and_age_group_words():
    p = extract_patient("A male newborn was delivered at 38 weeks.")
    assert (p["age"], p["age_group"], p["age_approximate"], p["sex"]) == (0.0, "neonate", True, "male")
    p = extract_patient("An elderly woman was admitted with sepsis.")
    assert (p["age"], p["age_group"], p["sex"]) == (None, "older adult", "female")
    assert p["age_group_evidence"]["text"] == "elderly"
    p = extract_patient("The affected individual, a male, was the fourth child.")
    assert p["age_group"] is None


def test_nothing_found():
    p = extract_patient(Document("x", "Fever and cough resolved."))
    assert all(v is None for v in p.values())


@pytest.mark.data
def test_maccrobat_first_age_and_sex():
    """Age and sex agree with the first gold Age/Sex span on most MACCROBAT documents."""
    from imner.config import data_dir
    maccrobat = data_dir() / "maccrobat" / "MACCROBAT2020"
    if not maccrobat.is_dir():
        pytest.skip("MACCROBAT2020 not under IMNER_DATA")
    from imner.io.brat import read_brat

    n_age = ok_age = n_sex = ok_sex = 0
    for doc in read_brat(maccrobat):
        p = extract_patient(doc)
        ages = sorted((s for s in doc.spans if s.label == "Age"), key=lambda s: s.start)
        gold = parse_age(ages[0].text_in(doc.text)) if ages else None
        if gold is not None:
            n_age += 1
            ok_age += p["age"] is not None and abs(p["age"] - gold[0]) < 0.01
        sexes = sorted((s for s in doc.spans if s.label == "Sex"), key=lambda s: s.start)
        if sexes:
            n_sex += 1
            g = sexes[0].text_in(doc.text).lower()
            ok_sex += p["sex"] == ("male" if g in ("man", "boy", "male") else "female")
    assert n_age > 150 and ok_age / n_age > 0.95
    assert n_sex > 150 and ok_sex / n_sex > 0.95
