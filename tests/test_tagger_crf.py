"""CRF tagger (crf.v1): fit / predict / save / load on tiny hand-made documents."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

pytest.importorskip("pycrfsuite")

from imner.errors import ConfigError, InputError  # noqa: E402
from imner.taggers import base  # noqa: E402
from imner.taggers.base import Tagger, load_tagger  # noqa: E402
from imner.taggers.crf.tagger import CRFTagger, split_compounds  # noqa: E402
from imner.taggers.crf.features import sentence_features, short_shape, word_shape  # noqa: E402
from imner.text import tokenize  # noqa: E402
from imner.types import Document, Span, span_from_dict  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "crf"


def read_docs(path: Path = FIXTURES / "tiny_docs.jsonl") -> list[Document]:
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        spans = [span_from_dict({k: v for k, v in s.items() if k != "text"}) for s in rec["spans"]]
        doc = Document(rec["id"], rec["text"], spans)
        for span, s in zip(sorted(spans, key=lambda x: (x.start, x.end, x.label)),
                           sorted(rec["spans"], key=lambda x: (x["start"], x["end"], x["label"]))):
            doc.check_mention(span, s["text"], source=str(path))
        docs.append(doc)
    return docs


def doc_with(doc_id: str, text: str, mentions: list[tuple[str, str]], **meta) -> Document:
    spans, pos = [], 0
    for mention, label in mentions:
        start = text.index(mention, pos)
        spans.append(Span(start, start + len(mention), label))
        pos = start + 1
    return Document(doc_id, text, spans, meta)


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    return read_docs()


@pytest.fixture(scope="module")
def trained(docs) -> CRFTagger:
    return CRFTagger(max_iterations=60).fit(docs)


def keys(spans):
    return {s.key for s in spans}


def test_fit_predict_recovers_training_spans(docs, trained):
    pred = trained.predict(docs)
    assert len(pred) == len(docs)
    for doc, spans in zip(docs, pred):
        assert keys(spans) == keys(doc.spans), doc.id
        assert spans == sorted(spans, key=lambda s: (s.start, s.end, s.label))
        for s in spans:
            assert 0.0 < s.score <= 1.0
    assert trained.labels == ("DISEASE", "DRUG")
    stats = trained.training_stats
    assert stats["documents"] == 6 and stats["spans"] == 18
    assert stats["realigned_spans"] == stats["not_encoded_spans"] == stats["cross_sentence_spans"] == 0


def test_predict_leaves_input_untouched_and_generalizes(docs, trained):
    new = Document("n1", "The woman received methotrexate. Pneumonia was seen.", (Span(0, 3, "X"),))
    before = (new.text, new.spans)
    pred = trained.predict([new])[0]
    assert (new.text, new.spans) == before
    assert {(new.text[s.start:s.end], s.label) for s in pred} == {("methotrexate", "DRUG"), ("Pneumonia", "DISEASE")}


def test_empty_and_whitespace_documents(trained):
    assert trained.predict([Document("e", ""), Document("w", "  \n ")]) == [[], []]
    assert trained.predict([]) == []


def test_long_document_is_tagged_to_the_end(trained):
    filler = "The patient was seen again in clinic. " * 400
    text = filler + "He was given prednisone."
    spans = trained.predict([Document("long", text)])[0]
    assert len(text) > 15_000
    assert any(text[s.start:s.end] == "prednisone" and s.start > len(filler) for s in spans)


def test_save_load_round_trip(tmp_path, docs, trained):
    trained.save(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["tagger"] == "crf.v1" and cfg["labels"] == ["DISEASE", "DRUG"] and cfg["max_iterations"] == 60
    assert (tmp_path / "m" / "model.crfsuite").stat().st_size > 0
    loaded = load_tagger(tmp_path / "m")
    assert isinstance(loaded, CRFTagger) and loaded.labels == trained.labels
    a, b = trained.predict(docs), loaded.predict(docs)
    assert [[(s.key, round(s.score, 9)) for s in x] for x in a] == [[(s.key, round(s.score, 9)) for s in x] for x in b]


def test_load_without_model_file_is_a_clear_error(tmp_path, trained):
    trained.save(tmp_path / "m")
    (tmp_path / "m" / "model.crfsuite").unlink()
    with pytest.raises(ConfigError, match="model.crfsuite"):
        load_tagger(tmp_path / "m")


def test_untrained_tagger_errors(tmp_path):
    with pytest.raises(InputError, match="not trained"):
        CRFTagger().predict([Document("a", "text")])
    with pytest.raises(InputError, match="not trained"):
        CRFTagger().save(tmp_path)


@pytest.mark.parametrize("kwargs", [{"c1": -1}, {"c2": "x"}, {"max_iterations": 0}, {"window": 9},
                                    {"partial_docs": "ignore"}, {"lexicon_tagger": 3}])
def test_bad_config(kwargs):
    with pytest.raises(ConfigError):
        CRFTagger(**kwargs)


def test_misaligned_overlapping_and_cross_sentence_spans_are_counted(docs, caplog):
    odd = [
        doc_with("mis", "Anti-dsDNA antibodies suggested lupus.", [("dsDNA antibodies", "DISEASE")]),
        Document("ovl", "She had lupus nephritis.", (Span(8, 23, "DISEASE"), Span(14, 23, "DRUG"))),
        doc_with("x", "He had Crohn\ndisease today.", [("Crohn\ndisease", "DISEASE")]),
    ]
    with caplog.at_level(logging.WARNING, logger="imner.taggers.crf.tagger"):
        t = CRFTagger(max_iterations=5).fit(docs + odd)
    stats = t.training_stats
    assert stats["realigned_spans"] == 1
    assert stats["not_encoded_spans"] == 1
    assert stats["cross_sentence_spans"] == 1
    assert any("mis [5, 21)" in e for e in stats["examples"]["realigned"])
    text = caplog.text
    assert "1 realigned spans" in text and "1 not encoded spans" in text and "1 cross sentence spans" in text


def test_split_compounds_aligns_spans_inside_hyphenated_tokens(docs):
    odd = [doc_with("mis", "Anti-dsDNA antibodies and DMD/BMD.", [("dsDNA antibodies", "DISEASE"), ("BMD", "DISEASE")])]
    plain = CRFTagger(max_iterations=5).fit(docs + odd)
    split = CRFTagger(max_iterations=30, split_compounds=True).fit(docs + odd)
    assert plain.training_stats["realigned_spans"] == 2
    assert split.training_stats["realigned_spans"] == 0
    assert split.config()["split_compounds"] is True and plain.config()["split_compounds"] is False
    pieces = split_compounds(tokenize("Anti-dsDNA DMD/BMD 3.5"))
    assert [(t.start, t.end, t.text) for t in pieces] == [
        (0, 4, "Anti"), (4, 5, "-"), (5, 10, "dsDNA"), (11, 14, "DMD"), (14, 15, "/"), (15, 18, "BMD"),
        (19, 22, "3.5")]


def test_partially_annotated_documents(docs, caplog):
    partial = doc_with("p1", "Rifampin was given.", [("Rifampin", "DRUG")], annotates=["DRUG"])
    full = doc_with("f1", "Prednisone for lupus.", [("Prednisone", "DRUG"), ("lupus", "DISEASE")],
                    annotates=["DRUG", "DISEASE"])
    with caplog.at_level(logging.WARNING, logger="imner.taggers.crf.tagger"):
        t = CRFTagger(max_iterations=5).fit(docs + [partial, full])
    assert t.training_stats["partial_documents_dropped"] == 1
    assert t.training_stats["documents"] == len(docs) + 1
    assert "'p1'" in caplog.text
    with pytest.raises(InputError, match="fully annotated"):
        CRFTagger(max_iterations=5, partial_docs="error").fit(docs + [partial])


def test_training_needs_spans():
    with pytest.raises(InputError, match="no entity spans"):
        CRFTagger(max_iterations=5).fit([Document("a", "Nothing here.")])


def test_shapes_and_features():
    assert word_shape("IL-6") == "XX-d"
    assert word_shape("methotrexate") == "xxxx"
    assert short_shape("Crohn's") == "Xx'x"
    toks = tokenize("Anti-dsDNA high")
    feats = sentence_features(toks, window=2, lexicon_tags=["B-X", "O"])
    first = set(feats[0])
    assert {"w=anti-dsdna", "hyphen", "BOS", "p3=ant", "s3=dna", "+1:w=high", "-1:pad", "lex=B-X",
            "lexb=B", "+1:lex=O"} <= first
    assert "title" not in first and "upper" not in first
    assert "EOS" in feats[1] and "-1:lex=B-X" in feats[1]
    crohn, disease = sentence_features(tokenize("Crohn disease"))
    assert "title" in crohn and "title" not in disease and "-1:w|w=crohn|disease" in disease


# ---------------------------------------------------------------------------------------- lexicon features

class FakeLexicon(Tagger):
    """A word-list tagger standing in for the dictionary tagger."""

    name = "fakelex.test"

    def __init__(self, words: dict[str, str] | None = None) -> None:
        self.words = dict(words or {})
        self.labels = tuple(sorted(set(self.words.values())))
        self.calls = 0

    def config(self):
        return {"words": self.words}

    def predict(self, docs):
        self.calls += 1
        out = []
        for d in docs:
            spans = [Span(m.start(), m.end(), self.words[m.group().lower()])
                     for w in self.words for m in re.finditer(rf"\b{re.escape(w)}\b", d.text, re.I)]
            out.append(sorted(spans, key=lambda s: (s.start, s.end, s.label)))
        return out


def test_lexicon_features_with_a_given_tagger(tmp_path, docs, monkeypatch):
    monkeypatch.setitem(base._REGISTRY, FakeLexicon.name, f"{__name__}:FakeLexicon")
    lex = FakeLexicon({"zoster": "DISEASE", "prednisone": "DRUG"})
    t = CRFTagger(max_iterations=60, lexicon_features=True, lexicon_tagger=lex).fit(docs)
    assert lex.calls == 1
    # "zoster" never occurs in training; only the lexicon feature can tag it, as "prednisone" is tagged
    pred = t.predict([Document("z", "He had zoster.")])[0]
    assert lex.calls == 2
    t.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "lexicon" / "config.json").read_text())["tagger"] == "fakelex.test"
    loaded = load_tagger(tmp_path / "m")
    assert isinstance(loaded._lexicon, FakeLexicon)
    assert [s.key for s in loaded.predict([Document("z", "He had zoster.")])[0]] == [s.key for s in pred]


def test_lexicon_features_need_an_importable_dictionary_tagger(monkeypatch):
    monkeypatch.setitem(base._REGISTRY, "dictionary.v1", "imner.no_such_module:DictionaryTagger")
    with pytest.raises(ConfigError, match="lexicon_features = true needs the dictionary.v1 tagger"):
        CRFTagger(lexicon_features=True)


def test_lexicon_features_with_the_dictionary_tagger(docs):
    pytest.importorskip("imner.taggers.dictionary")
    try:
        t = CRFTagger(max_iterations=10, lexicon_features=True).fit(docs)
    except ImportError as e:  # lexicon resources not built here
        pytest.skip(f"dictionary tagger unavailable: {e}")
    assert len(t.predict(docs)) == len(docs)
