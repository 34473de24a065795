from hypothesis import given, settings
from hypothesis import strategies as st

from imner.text import split_sentences, tokenize


def toks(text):
    return [t.text for t in tokenize(text)]


def test_clinical_tokens_stay_whole():
    text = "Dr. Smith gave 3.5 g/day i.v. (e.g. prednisone); ANA 1:640, anti-dsDNA, HIV-1, T2/FLAIR, 2–3 times."
    assert toks(text) == ["Dr.", "Smith", "gave", "3.5", "g/day", "i.v.", "(", "e.g.", "prednisone", ")", ";",
                          "ANA", "1:640", ",", "anti-dsDNA", ",", "HIV-1", ",", "T2/FLAIR", ",", "2–3", "times", "."]


def test_units_brackets_and_possessives():
    assert toks("CRP [12 mg/L] Crohn's disease 10,000/µL") == [
        "CRP", "[", "12", "mg/L", "]", "Crohn's", "disease", "10,000", "/", "µL"]


def test_sentence_end_period_is_its_own_token():
    assert toks("He was fine.") == ["He", "was", "fine", "."]


def test_sentences_respect_abbreviations_and_lines():
    text = "Seen by Dr. Lee on day 3. Fever resolved.\nNo rash was seen? Yes (Fig. 2)."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Seen by Dr. Lee on day 3.", "Fever resolved.", "No rash was seen?", "Yes (Fig. 2)."]


def test_sentences_do_not_split_before_lowercase():
    text = "Temperature was 38.5 °C. and rising"
    assert len(split_sentences(text)) == 1


def test_offset_argument_shifts_tokens():
    assert [(t.start, t.end) for t in tokenize("ab cd", offset=10)] == [(10, 12), (13, 15)]


def test_crlf_and_empty():
    assert tokenize("") == [] and split_sentences("   \r\n ") == []
    text = "First line.\r\nSecond line"
    assert [text[a:b] for a, b in split_sentences(text)] == ["First line.", "Second line"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_tokens_map_back_exactly_on_any_unicode(text):
    tokens = tokenize(text)
    covered = set()
    prev_end = 0
    for t in tokens:
        assert text[t.start:t.end] == t.text and t.text
        assert t.start >= prev_end
        prev_end = t.end
        covered.update(range(t.start, t.end))
    # every non-space character belongs to exactly one token; tokens hold no whitespace
    for i, ch in enumerate(text):
        assert (i in covered) == (not ch.isspace()), (i, ch)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab. \n?!A1(Dr"), max_size=120))
def test_sentences_are_ordered_trimmed_and_cover_tokens(text):
    sents = split_sentences(text)
    prev = 0
    for a, b in sents:
        assert prev <= a < b <= len(text)
        assert not text[a].isspace() and not text[b - 1].isspace()
        prev = b
    n_tok = sum(len(tokenize(text[a:b])) for a, b in sents)
    assert n_tok == len(tokenize(text))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab. \n?!A1(Dr-/'’é)"), max_size=150))
def test_sentence_tokens_equal_tokenizing_each_sentence(text):
    from imner.text import sentences_with_tokens

    for (a, b), toks in sentences_with_tokens(text):
        assert toks == tokenize(text[a:b], a)
