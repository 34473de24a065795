from hypothesis import given, settings
from hypothesis import strategies as st

from imner.text import sentences_with_tokens, split_sentences, tokenize


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


# ---------------------------------------------------------------- hard-wrapped text (issue 14 §6)

def _fold(text: str, width: int) -> str:
    """What ``fold -s -w width`` does: break each line at the last space that keeps it within ``width``."""
    import textwrap

    return "\n".join(textwrap.fill(line, width, break_long_words=False) for line in text.split("\n"))


def test_hard_wrapped_text_gives_the_unwrapped_sentences():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "examples" / "case_report.txt").read_text(encoding="utf-8")
    wrapped = _fold(text, 60)
    assert wrapped != text and max(len(ln) for ln in wrapped.splitlines()) <= 60
    flat = [" ".join(text[s:e].split()) for s, e in split_sentences(text)]
    folded = [" ".join(wrapped[s:e].split()) for s, e in split_sentences(wrapped)]
    assert folded == flat
    # tokens are the same words, with offsets into the wrapped text
    toks = [t for _, ts in sentences_with_tokens(wrapped) for t in ts]
    assert [t.text for t in toks] == [t.text for _, ts in sentences_with_tokens(text) for t in ts]
    assert all(wrapped[t.start:t.end] == t.text for t in toks)


def test_line_breaks_that_are_not_wraps_still_end_sentences():
    # a list of short lines, a heading, a numbered list and a blank line stay sentence ends
    note = "Medications\naspirin\nmetformin\n\nPlan\n1. start prednisone\n2. recheck creatinine"
    assert [note[s:e] for s, e in split_sentences(note)] == [
        "Medications", "aspirin", "metformin", "Plan", "1. start prednisone", "2. recheck creatinine"]
    # one paragraph per line (no wrap) keeps its line breaks as ends
    para = ("The patient was admitted with fever and a productive cough of three days and crackles were heard "
            "over the right lower lobe\nblood cultures were drawn")
    assert len(split_sentences(para)) == 2


def test_wrapped_list_items_keep_their_bullets_apart():
    text = _fold("The patient was admitted with fever and a cough that had lasted three days and had worsened over "
                 "the last night despite antipyretics.\n- ceftriaxone was started\n- azithromycin was added", 40)
    assert text.count("\n") >= 4
    sents = [" ".join(text[s:e].split()) for s, e in split_sentences(text)]
    assert sents[0].endswith("despite antipyretics.") and sents[0].startswith("The patient")
    assert sents[1:] == ["- ceftriaxone was started", "- azithromycin was added"]
