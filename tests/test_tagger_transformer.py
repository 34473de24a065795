"""transformer.v1 (torch), its ONNX export and onnx.v1, with a tiny random BERT built in tmp_path.

The windowing, decoding and partial-label tests need only numpy/tokenizers (+ torch for the loss);
everything runs offline in a few seconds.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from imner.errors import ConfigError, InputError
from imner.tags import label_set
from imner.taggers.transformer import windows as W
from imner.taggers.base import load_tagger
from imner.text import tokenize
from imner.types import Document, Span

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("onnxruntime")

from imner.taggers.transformer.tagger import TransformerTagger, dev_scores, partial_nll, word_targets  # noqa: E402

from _tiny_bert import make_tiny_bert  # noqa: E402  (tests/ is on sys.path)

TEXT = "Patient with lupus nephritis and fever. Treated with methotrexate 15 mg/week."


def _doc(i: int, text: str = TEXT, **meta) -> Document:
    spans = []
    for mention, label in (("lupus nephritis", "IMMUNE_DISEASE"), ("fever", "SIGN_SYMPTOM"),
                           ("methotrexate", "MEDICATION")):
        k = text.lower().find(mention)
        if k >= 0:
            spans.append(Span(k, k + len(mention), label))
    return Document(f"d{i}", text, tuple(spans), meta)


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT (hidden 32, 2 layers) with a character-level WordPiece vocabulary."""
    return make_tiny_bert(tmp_path_factory.mktemp("tiny_bert"), ["patient", "with", "and", "fever", "lupus"])


@pytest.fixture(scope="module")
def trained(tiny_ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[TransformerTagger, Path]:
    docs = [_doc(0), _doc(1, "Fever and lupus with patient."), _doc(2, "methotrexate and fever αβ \u00ad x.")]
    tagger = TransformerTagger(model_path=str(tiny_ckpt), epochs=1, batch_size=2, lr=5e-3, threads=1, seed=1,
                               progress=False)
    tagger.fit(docs, dev=docs[:1])
    out = tagger.save(tmp_path_factory.mktemp("model") / "m")
    return tagger, out


def _keys(pred: list[list[Span]]) -> list[list[tuple[int, int, str]]]:
    return [[s.key for s in spans] for spans in pred]


# ---------------------------------------------------------------------------------------------- training

def test_fit_two_steps_history_and_stats(trained: tuple[TransformerTagger, Path]) -> None:
    tagger, _ = trained
    assert tagger.labels == ("IMMUNE_DISEASE", "MEDICATION", "SIGN_SYMPTOM")
    assert tagger.training_stats["steps"] == 2          # 3 windows, batch 2
    assert tagger.training_stats["windows"] == 3
    assert tagger.training_stats["spans"] == 6
    assert tagger.training_stats["best_epoch"] == 1
    assert [e["epoch"] for e in tagger.history] == [1]
    assert "f1" in tagger.history[0]["dev"] and np.isfinite(tagger.history[0]["loss"])


def test_predict_save_load_roundtrip(trained: tuple[TransformerTagger, Path]) -> None:
    tagger, out = trained
    docs = [_doc(0), Document("e", ""), Document("long", " ".join([TEXT] * 30))]
    pred = tagger.predict(docs)
    assert pred[1] == []
    for doc, spans in zip(docs, pred):
        for s in spans:
            assert 0 <= s.start < s.end <= len(doc.text) and s.label in tagger.labels and 0 < s.score <= 1
            assert doc.text[s.start:s.end].strip() == doc.text[s.start:s.end]
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["tagger"] == "transformer.v1" and cfg["labels"] == list(tagger.labels) and cfg["window"] == 256
    assert (out / "hf" / "config.json").is_file() and (out / "hf" / "tokenizer.json").is_file()
    loaded = load_tagger(out)
    assert isinstance(loaded, TransformerTagger)
    again = loaded.predict(docs)
    assert _keys(again) == _keys(pred)
    assert loaded.history == tagger.history


def test_unknown_label_with_fixed_labels_is_an_error(tiny_ckpt: Path) -> None:
    tagger = TransformerTagger(model_path=str(tiny_ckpt), labels=["MEDICATION"], epochs=1, progress=False)
    with pytest.raises(InputError, match="IMMUNE_DISEASE"):
        tagger.fit([_doc(0)])


def test_window_longer_than_model_positions_is_an_error(tiny_ckpt: Path) -> None:
    tagger = TransformerTagger(model_path=str(tiny_ckpt), window=600, epochs=1, progress=False)
    with pytest.raises(ConfigError, match="512 positions"):
        tagger.fit([_doc(0)])


def test_bad_params_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="stride"):
        TransformerTagger(window=16, stride=14)
    with pytest.raises(ConfigError, match="lr"):
        TransformerTagger(lr="fast")
    with pytest.raises(InputError, match="not trained"):
        TransformerTagger().predict([_doc(0)])


# ---------------------------------------------------------------------------------------------- ONNX

def test_onnx_export_matches_torch(trained: tuple[TransformerTagger, Path], tmp_path: Path) -> None:
    from imner.taggers.transformer.export import export_onnx
    from imner.taggers.transformer.onnx import OnnxTagger

    tagger, model_dir = trained
    out = export_onnx(model_dir, tmp_path / "onnx", quantize=True, keep_fp32=True)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["tagger"] == "onnx.v1" and cfg["model_file"] == "model.int8.onnx"
    assert {"model.onnx", "model.int8.onnx", "tokenizer.json"} <= {p.name for p in out.iterdir()}

    docs = [_doc(0), _doc(1, "Fever and lupus with patient."), Document("long", " ".join([TEXT] * 30))]
    fp32 = OnnxTagger(out, model_file="model.onnx", threads=1)
    # logits agree on a padded batch of two lengths (dynamic batch and sequence axes)
    ids = np.array([[2, 40, 41, 42, 3], [2, 43, 3, 0, 0]], np.int64)
    mask = (np.arange(5)[None, :] < np.array([[5], [3]])).astype(np.int64)
    a, b = fp32._run_batch(ids, mask), tagger._run_batch(ids, mask)
    assert np.abs(a[0] - b[0]).max() < 1e-4 and np.abs(a[1, :3] - b[1, :3]).max() < 1e-4
    torch_pred = tagger.predict(docs)
    assert sum(map(len, torch_pred)) > 0         # the comparison below is not between empty lists
    assert _keys(fp32.predict(docs)) == _keys(torch_pred)

    int8 = load_tagger(out)
    assert isinstance(int8, OnnxTagger) and int8.model_file == "model.int8.onnx" and int8.threads == 2
    for doc, spans in zip(docs, int8.predict(docs)):
        assert all(0 <= s.start < s.end <= len(doc.text) and s.label in tagger.labels for s in spans)
    copy = int8.save(tmp_path / "copy")
    assert _keys(load_tagger(copy).predict(docs)) == _keys(int8.predict(docs))
    with pytest.raises(ConfigError, match="cannot be trained"):
        int8.fit(docs)


def test_onnx_tagger_missing_dir_is_clear(tmp_path: Path) -> None:
    from imner.errors import ModelNotFoundError
    from imner.taggers.transformer.onnx import OnnxTagger

    with pytest.raises(ModelNotFoundError, match="export_onnx"):
        OnnxTagger(tmp_path)


# ---------------------------------------------------------------------------------------------- windows

def test_plan_and_assign_most_central() -> None:
    plan = W.plan_windows(20, window=10, stride=4, n_special=2)
    assert plan == [(0, 8), (4, 12), (8, 16), (12, 20)]
    assert W.plan_windows(22, 10, 4, 2) == [(0, 8), (4, 12), (8, 16), (12, 20), (16, 22)]
    assert W.plan_windows(5, 10, 4, 2) == [(0, 5)] and W.plan_windows(0, 10, 4, 2) == []
    first = np.arange(20)
    owner = W.assign_words(first, plan)
    assert owner.tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3]
    for n in (255, 1001, 1002):
        covered = W.plan_windows(n, 256, 128, 2)
        assert covered[0][0] == 0 and covered[-1][1] == n and all(0 < e - s <= 254 for s, e in covered)
        assert all(a[1] - b[0] == 128 for a, b in zip(covered, covered[1:]))


def test_long_document_every_word_predicted_with_exact_offsets(tiny_ckpt: Path) -> None:
    """A fake model tags subword ids of 'fever' as B-X: over windows of 8 subwords every occurrence
    (and nothing else) comes back, with exact offsets, and every window position is used."""
    from tokenizers import Tokenizer

    tok = W.prepare_tokenizer(Tokenizer.from_file(str(tiny_ckpt / "tokenizer.json")))
    specials = W.SpecialTokens.from_tokenizer(tok)
    assert specials.prefix == (2,) and specials.suffix == (3,) and specials.unk_id == 1
    fever = tok.token_to_id("fever")
    text = " ".join(["Fever, lupus-like αβ \u00ad rash with fever."] * 12)
    decoder = W.Decoder(["X"])
    seen = []

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        seen.append(ids.shape)
        logits = np.zeros(ids.shape + (3,), np.float32)
        logits[..., 0] = 1.0
        logits[ids == fever, 1] = 5.0
        return logits

    spans = W.predict_spans([text, "", "fever"], tok, specials, window=8, stride=2, decoder=decoder, run_batch=run,
                            batch_size=4)
    starts = [i for i in range(len(text)) if text.lower().startswith("fever", i)]
    assert [s.key for s in spans[0]] == [(i, i + 5, "X") for i in starts]
    assert spans[1] == [] and [s.key for s in spans[2]] == [(0, 5, "X")]
    assert max(shape[1] for shape in seen) == 8 and sum(shape[0] for shape in seen) > 10

    enc = W.encode_documents(tok, [text], specials)[0]
    assert len(enc.first) == len(tokenize(text))
    assert np.all(np.diff(enc.first) > 0)           # every word has its own first subword, soft hyphen included
    items = W.make_windows([enc], 8, 2, specials)
    owned = np.concatenate([it.words[it.owned] for it in items])
    assert sorted(owned.tolist()) == list(range(len(enc.first)))   # each word owned by exactly one window


def test_transformer_tagger_small_window_covers_long_document(trained: tuple[TransformerTagger, Path],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    tagger, out = trained
    small = TransformerTagger.load(out, window=10, stride=3)
    b_med = small.tags.index("B-MEDICATION")

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        logits = np.zeros(ids.shape + (len(small.tags),), np.float32)
        logits[..., b_med] = 3.0
        return logits

    monkeypatch.setattr(small, "_run_batch", run)
    doc = Document("long", " ".join([TEXT] * 5))
    assert [s.key for s in small.predict([doc])[0]] == [(t.start, t.end, "MEDICATION") for t in tokenize(doc.text)]


# ---------------------------------------------------------------------------------------------- decoding

def test_constrained_viterbi_forbids_i_after_o_and_other_label() -> None:
    tags = label_set(["A", "B"])     # O B-A I-A B-B I-B
    start, trans = W.allowed_transitions(tags)
    assert start.tolist() == [True, True, False, True, False]
    assert not trans[0, 2] and not trans[3, 2] and trans[1, 2] and trans[2, 2] and not trans[1, 4]

    def lp(rows: list[list[float]]) -> np.ndarray:
        return W.log_softmax(np.log(np.asarray(rows, np.float64) + 1e-9))

    # argmax would be I-A at the start: decoding must start differently
    path = W.viterbi(lp([[0.3, 0.25, 0.45, 0, 0], [0.1, 0.1, 0.8, 0, 0]]), start, trans)
    assert [tags[i] for i in path] == ["B-A", "I-A"]
    # O then I-A (argmax) is forbidden; O then B-A or B-A then I-A wins by total score
    path = W.viterbi(lp([[0.6, 0.4, 0, 0, 0], [0.1, 0.3, 0.6, 0, 0]]), start, trans)
    assert [tags[i] for i in path] == ["B-A", "I-A"]
    path = W.viterbi(lp([[0.9, 0.1, 0, 0, 0], [0.4, 0.35, 0.25, 0, 0]]), start, trans)
    assert [tags[i] for i in path] == ["O", "O"]
    # I-B after B-A is forbidden
    path = W.viterbi(lp([[0.05, 0.9, 0, 0.05, 0], [0.1, 0.0, 0.1, 0.1, 0.7]]), start, trans)
    assert tags[path[1]] != "I-B" or tags[path[0]] in ("B-B", "I-B")
    # valid argmax sequences are returned unchanged
    rows = [[0.1, 0.8, 0.1, 0, 0], [0.1, 0, 0.8, 0.1, 0], [0.1, 0, 0, 0.8, 0.1], [0.7, 0, 0, 0.1, 0.2]]
    assert [tags[i] for i in W.viterbi(lp(rows), start, trans)] == ["B-A", "I-A", "B-B", "O"]
    assert W.viterbi(np.zeros((0, 5)), start, trans).tolist() == []


def test_decoder_spans_and_scores() -> None:
    text = "lupus nephritis and fever"
    toks = tokenize(text)
    dec = W.Decoder(["D"])
    probs = np.array([[0.1, 0.8, 0.1], [0.3, 0.1, 0.6], [0.9, 0.05, 0.05], [0.1, 0.3, 0.6]])
    spans = dec.decode(toks, np.log(probs))
    assert [s.key for s in spans] == [(0, 15, "D"), (20, 25, "D")]
    assert spans[0].score == pytest.approx(0.7) and spans[1].score == pytest.approx(0.3)  # I after O: B wins


# ---------------------------------------------------------------------------------------------- partial labels

def test_word_targets_partial_and_silver() -> None:
    text = "Fever from Candida in a lupus patient"
    tags = label_set(["DIS", "PATHOGEN", "SYMPTOM"])    # O B-DIS I-DIS B-PATHOGEN I-PATHOGEN B-SYMPTOM I-SYMPTOM
    toks = tokenize(text)
    doc = Document("p", text, (Span(0, 5, "SYMPTOM"), Span(24, 29, "X", attrs={"silver_flag": "unknown"})),
                   {"annotates": ["SYMPTOM", "DIS"]})
    stats: Counter = Counter()
    allowed = word_targets(doc, toks, tags, stats)
    assert allowed[0].tolist() == [False, False, False, False, False, True, False]            # gold B-SYMPTOM
    assert allowed[2].tolist() == [True, False, False, True, True, False, False]              # O or PATHOGEN
    assert not allowed[5].any()                                                               # silver: no loss
    assert stats["partial_docs"] == 1 and stats["silver_spans"] == 1 and stats["silver_words"] == 1
    full = word_targets(doc.with_meta(annotates=None), toks, tags)
    assert full[2].tolist() == [True] + [False] * 6


def test_partial_nll_is_marginal_likelihood() -> None:
    logits = torch.tensor([[[1.0, 2.0, 0.5], [0.0, 0.0, 3.0], [5.0, 1.0, 1.0]]])
    allowed = torch.tensor([[[True, False, True], [False, False, True], [False, False, False]]])
    p = torch.softmax(logits, -1)[0]
    expected = -(torch.log(p[0, 0] + p[0, 2]) + torch.log(p[1, 2])) / 2
    assert partial_nll(logits, allowed).item() == pytest.approx(expected.item(), rel=1e-6)
    one_hot = allowed.clone()
    one_hot[0, 0] = torch.tensor([False, True, False])
    ce = torch.nn.functional.cross_entropy(logits[0, :2], torch.tensor([1, 2]))
    assert partial_nll(logits, one_hot).item() == pytest.approx(ce.item(), rel=1e-6)
    assert partial_nll(logits, torch.zeros_like(allowed)).item() == 0.0


def test_dev_scores_ignore_unannotated_classes() -> None:
    doc = _doc(0, annotates=["MEDICATION"])
    med = [s for s in doc.spans if s.label == "MEDICATION"]
    pred = [[*med, Span(0, 7, "SIGN_SYMPTOM")]]
    only_med = doc.with_spans(med)
    assert dev_scores([only_med], pred)["f1"] == pytest.approx(1.0)
