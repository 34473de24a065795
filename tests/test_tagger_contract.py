"""The contract every tagger family keeps (imner.taggers.base), checked on tiny documents.

To cover a new family, append ``(name, factory)`` to :data:`FACTORIES`; ``factory(train, workdir)`` returns a tagger
fitted on ``train`` (the documents of ``tests/fixtures/contract/train.jsonl``), using ``workdir`` (an empty
temporary folder) for anything it has to write. Families whose optional dependencies are missing should
``pytest.skip`` inside the factory.
"""

from __future__ import annotations

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
    return [(d.id, d.text, d.spans, dict(d.meta), [dict(s.attrs) for s in d.spans]) for d in docs]


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


@pytest.fixture(params=FACTORIES, ids=[name for name, _ in FACTORIES])
def tagger(request, tmp_path: Path) -> Tagger:
    _, factory = request.param
    work = tmp_path / "work"
    work.mkdir()
    return factory(list(read_jsonl(FIXTURES / "train.jsonl")), work)


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


def test_finds_something_it_was_taught(tagger: Tagger) -> None:
    train_preds = tagger.predict(TRAIN)
    assert sum(map(len, train_preds)) > 0


def test_inputs_unchanged(tagger: Tagger) -> None:
    docs = TRAIN + PREDICT
    before = _snapshot(docs)
    tagger.predict(docs)
    assert _snapshot(docs) == before
    assert _snapshot(docs) == _snapshot(list(read_jsonl(FIXTURES / "train.jsonl")) +
                                        list(read_jsonl(FIXTURES / "predict.jsonl")))


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
