import pytest

from imner.errors import InputError
from imner.tags import label_set, spans_to_tags, tags_to_spans
from imner.text import tokenize
from imner.types import Span

TEXT = "SLE with MRSA bacteremia and no fever"


def test_round_trip_bio_and_bioes():
    toks = tokenize(TEXT)
    spans = [Span(0, 3, "IMMUNE_DISEASE"), Span(9, 13, "PATHOGEN"), Span(14, 24, "INFECTIOUS_DISEASE"),
             Span(32, 37, "SIGN_SYMPTOM")]
    for scheme in ("BIO", "BIOES"):
        tags, bad = spans_to_tags(toks, spans, scheme)
        assert bad == []
        assert tags_to_spans(toks, tags) == spans


def test_bioes_tags():
    toks = tokenize("no lupus nephritis here")
    tags, _ = spans_to_tags(toks, [Span(3, 18, "IMMUNE_DISEASE")], "BIOES")
    assert tags == ["O", "B-IMMUNE_DISEASE", "E-IMMUNE_DISEASE", "O"]


def test_misaligned_span_reported_not_dropped_silently():
    toks = tokenize("anti-dsDNA antibodies")
    span = Span(5, 10, "DIAGNOSTIC_PROCEDURE")  # "dsDNA" inside one token
    tags, bad = spans_to_tags(toks, [span], "BIO")
    assert bad == [span] and tags == ["O", "O"]
    tags, bad = spans_to_tags(toks, [span], "BIO", align="expand")
    assert bad == [span] and tags == ["B-DIAGNOSTIC_PROCEDURE", "O"]


def test_overlapping_span_reported():
    toks = tokenize("lupus nephritis")
    a, b = Span(0, 15, "IMMUNE_DISEASE"), Span(6, 15, "OTHER_DISEASE")
    tags, bad = spans_to_tags(toks, [a, b])
    assert bad == [b] and tags == ["B-IMMUNE_DISEASE", "I-IMMUNE_DISEASE"]


def test_conlleval_convention_for_stray_inside_tags():
    toks = tokenize("a b c d")
    spans = tags_to_spans(toks, ["I-X", "I-Y", "I-Y", "B-Y"])
    assert [(s.start, s.end, s.label) for s in spans] == [(0, 1, "X"), (2, 5, "Y"), (6, 7, "Y")]


def test_scores_average_over_tokens():
    toks = tokenize("a b")
    (span,) = tags_to_spans(toks, ["B-X", "I-X"], [0.5, 1.0])
    assert span.score == pytest.approx(0.75)


def test_bad_tags_fail_clearly():
    with pytest.raises(InputError, match="malformed tag"):
        tags_to_spans(tokenize("a"), ["Q-X"])
    with pytest.raises(InputError, match="1 tokens but 2 tags"):
        tags_to_spans(tokenize("a"), ["O", "O"])


def test_label_set():
    assert label_set(["X"], "BIOES") == ["O", "B-X", "I-X", "E-X", "S-X"]
