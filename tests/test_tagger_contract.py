"""The contract every tagger family keeps (imner.taggers.base), checked on tiny documents.

To cover a new family, append ``(name, factory)`` to :data:`FACTORIES`; ``factory(train, workdir)`` returns a tagger
fitted on ``train`` (the documents of ``tests/fixtures/contract/train.jsonl``), using ``workdir`` (an empty
temporary folder) for anything it has to write. Families whose optional dependencies are missing should
``pytest.skip`` inside the factory. Each family is trained once per test module (the fixture is module-scoped),
so the tests must not change the tagger they are given.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import pytest

from imner.io.jsonl import read_jsonl
from imner.lexicon import Concept, builder_from_records
from imner.taggers import Tagger, load_tagger
from imner.types import Document, Span

FIXTURES = Path(__file__).parent / "fixtures" / "contract"
TRAIN: list[Document] = list(read_jsonl(FIXTURES / "train.jsonl"))
PREDICT: list[Document] = list(read_jsonl(FIXTURES / "predict.jsonl"))


def _snapshot(docs: list[Document]) -> list[tuple]:
    """Everything a tagger could change in place: ids, texts, spans, and (deep-copied, since their values may be
    lists or dicts inside the read-only mappings) the documents' meta and the spans' attrs."""
    return [(d.id, d.text, d.spans, copy.deepcopy(dict(d.meta)), [copy.deepcopy(dict(s.attrs)) for s in d.spans])
            for d in docs]


def _with_nested_values(docs: list[Document]) -> list[Document]:
    """The documents with mutable values in their meta and span attrs (lists, dicts), which a tagger could alter."""
    return [Document(d.id, d.text, tuple(s.evolve(attrs={**s.attrs, "codes": ["X:1"], "extra": {"k": [1]}})
                                         for s in d.spans),
                     {**d.meta, "sources": ["fixture"], "notes": {"seen": []}})
            for d in docs]


def dictionary_factory(train: list[Document], workdir: Path) -> Tagger:
    """A dictionary tagger over a gazetteer made of the training mentions (one IMNER: concept per surface)."""
    from imner.taggers.dictionary import DictionaryTagger

    concepts: dict[str, Concept] = {}
    for doc in train:
        for s in doc.spans:
            surface = s.text_in(doc.text)
            cid = f"IMNER:{s.label.lower()}_{len(concepts)}"
            concepts.setdefault(f"{surface.lower()}|{s.label}", Concept(cid, surface, s.label, "imner"))
    path = builder_from_records(concepts.values()).write(workdir / "gazetteer.json.gz")
    labels = sorted({c.label for c in concepts.values()})
    return DictionaryTagger(lexicon=path, labels=labels, stoplist=None).fit(train)


def crf_factory(train: list[Document], workdir: Path) -> Tagger:
    """A CRF (crf.v1) trained for a few iterations on the training documents."""
    pytest.importorskip("pycrfsuite")
    from imner.taggers.crf.tagger import CRFTagger

    return CRFTagger(max_iterations=50).fit(train)


#: (name, factory) pairs; other tagger families append theirs
FACTORIES: list[tuple[str, Callable[[list[Document], Path], Tagger]]] = [
    ("dictionary.v1", dictionary_factory),
    ("crf.v1", crf_factory),
]


def transformer_factory(train: list[Document], workdir: Path) -> Tagger:
    """transformer.v1 on a tiny random BERT (tests/_tiny_bert.py), overfitted for a few dozen steps."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from _tiny_bert import make_tiny_bert

    from imner.text import tokenize
    from imner.taggers.transformer.tagger import TransformerTagger

    words = [t.text for d in train for t in tokenize(d.text)]
    ckpt = make_tiny_bert(workdir / "tiny_bert", words)
    return TransformerTagger(model_path=str(ckpt), epochs=40, batch_size=4, lr=1e-2, warmup_ratio=0.0, threads=1,
                             progress=False).fit(train)


def onnx_factory(train: list[Document], workdir: Path) -> Tagger:
    """onnx.v1: the tiny transformer above exported to ONNX (float, so it predicts what torch predicts)."""
    pytest.importorskip("onnx")
    from imner.taggers.transformer.export import export_onnx
    from imner.taggers.transformer.onnx import OnnxTagger

    model = transformer_factory(train, workdir).save(workdir / "torch")
    return OnnxTagger(export_onnx(model, workdir / "onnx", quantize=False), threads=1)


FACTORIES += [("transformer.v1", transformer_factory), ("onnx.v1", onnx_factory)]


def bilstm_onnx_factory(train: list[Document], workdir: Path) -> Tagger:
    """bilstm-onnx.v1: a tiny bilstm.v1 (trained with torch) exported to ONNX (float: it predicts torch's spans)."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from imner.taggers.bilstm.tagger import BiLSTMTagger
    from imner.taggers.bilstm.export import export_bilstm_onnx
    from imner.taggers.bilstm.onnx import BiLSTMOnnxTagger

    model = BiLSTMTagger(word_dim=16, char_dim=8, char_filters=8, case_dim=4, hidden_size=16, dropout=0.0,
                         word_dropout=0.0, lr=0.02, batch_size=4, epochs=20, min_word_count=1, threads=1,
                         progress=False).fit(train).save(workdir / "torch")
    return BiLSTMOnnxTagger(export_bilstm_onnx(model, workdir / "onnx"), threads=1)


FACTORIES += [("bilstm-onnx.v1", bilstm_onnx_factory)]


@pytest.fixture(scope="module", params=FACTORIES, ids=[name for name, _ in FACTORIES])
def fitted(request, tmp_path_factory: pytest.TempPathFactory) -> tuple[Tagger, list[Document], list[tuple]]:
    """(tagger, the documents it was fitted on, their snapshot before fitting): one fit per family per module."""
    _, factory = request.param
    work = tmp_path_factory.mktemp("work")
    train = _with_nested_values(list(read_jsonl(FIXTURES / "train.jsonl")))
    before = _snapshot(train)
    return factory(train, work), train, before


@pytest.fixture
def tagger(fitted) -> Tagger:
    return fitted[0]


def test_one_list_of_spans_per_document(tagger: Tagger) -> None:
    preds = tagger.predict(PREDICT)
    assert isinstance(preds, list) and len(preds) == len(PREDICT)
    for spans in preds:
        assert isinstance(spans, list)
        assert all(isinstance(s, Span) for s in spans)
    assert tagger.predict([]) == []


def test_spans_sorted_within_text_non_overlapping(tagger: Tagger) -> None:
    for doc, spans in zip(PREDICT, tagger.predict(PREDICT)):
        assert spans == sorted(spans, key=lambda s: (s.start, s.end))
        for s in spans:
            assert 0 <= s.start < s.end <= len(doc.text)
            assert doc.text[s.start:s.end].strip() == doc.text[s.start:s.end], "spans are trimmed"
        for a, b in zip(spans, spans[1:]):
            assert a.end <= b.start, f"{doc.id}: {a} overlaps {b}"


def test_labels_within_tagger_labels(tagger: Tagger) -> None:
    assert tagger.labels
    for spans in tagger.predict(PREDICT):
        assert {s.label for s in spans} <= set(tagger.labels)


def test_finds_what_it_was_taught(tagger: Tagger) -> None:
    """On its own training documents (12 mentions) every family finds most mentions with the right boundaries and
    label (all of them today); a family that tags nothing, or the wrong things, fails."""
    from imner.evaluate import evaluate

    preds = tagger.predict(TRAIN)
    strict = evaluate(TRAIN, [d.with_spans(p) for d, p in zip(TRAIN, preds)], bootstrap=0).micro["strict"]
    assert strict.recall >= 0.75 and strict.precision >= 0.75, strict


def _assert_predict_leaves_inputs_alone(tagger: Tagger, docs: list[Document]) -> None:
    before = _snapshot(docs)
    tagger.predict(docs)
    assert _snapshot(docs) == before, "predict() changed its input documents"


def test_inputs_unchanged(fitted) -> None:
    tagger, train, before_fit = fitted
    assert _snapshot(train) == before_fit, "fit() changed its training documents"
    _assert_predict_leaves_inputs_alone(tagger, _with_nested_values(TRAIN + PREDICT))


class _MutatingTagger(Tagger):
    """A tagger that breaks the contract, to show that the check above catches it."""

    name = "mutating.test"
    labels = ("X",)

    def predict(self, docs):
        for d in docs:
            d.meta["sources"].append("X")
            for s in d.spans:
                s.attrs["codes"].clear()
        return [[] for _ in docs]


def test_inputs_check_catches_a_tagger_that_changes_them() -> None:
    with pytest.raises(AssertionError, match="changed its input"):
        _assert_predict_leaves_inputs_alone(_MutatingTagger(), _with_nested_values(TRAIN))


def test_empty_document_gives_no_spans(tagger: Tagger) -> None:
    assert tagger.predict([Document("empty", "")]) == [[]]
    assert tagger.predict([Document("blank", " \n\t ")]) == [[]]


def test_save_load_round_trip(tagger: Tagger, tmp_path: Path) -> None:
    saved = tagger.save(tmp_path / "model")
    assert (saved / "config.json").is_file()
    loaded = load_tagger(saved)
    assert type(loaded) is type(tagger)
    assert tuple(loaded.labels) == tuple(tagger.labels)
    expected = tagger.predict(PREDICT)
    got = loaded.predict(PREDICT)
    assert [[(s.start, s.end, s.label) for s in spans] for spans in got] == \
        [[(s.start, s.end, s.label) for s in spans] for spans in expected]
