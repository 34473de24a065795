"""BiLSTM-CNN-CRF tagger (bilstm.v1), its CRF layer and the word-embedding format, on tiny hand-made data."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from imner.embeddings import WordEmbeddings, normalize_word, sentences_for_embeddings  # noqa: E402
from imner.errors import ConfigError, InputError, ModelNotFoundError  # noqa: E402
from imner.tags import label_set  # noqa: E402
from imner.taggers import base  # noqa: E402
from imner.taggers.base import Tagger, create, load_tagger, register  # noqa: E402
from imner.taggers.bilstm.tagger import BiLSTMTagger, allowed_tags, casing  # noqa: E402
from imner.taggers.bilstm.torch_crf import CRF, FORBIDDEN, bio_penalties  # noqa: E402
from imner.text import tokenize  # noqa: E402
from imner.types import Document, Span, span_from_dict  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "bilstm"
TAGS = label_set(["A", "B"], "BIO")  # O, B-A, I-A, B-B, I-B


def read_docs() -> list[Document]:
    path = FIXTURES / "tiny_docs.jsonl"
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        spans = [span_from_dict({k: v for k, v in s.items() if k != "text"}) for s in rec["spans"]]
        doc = Document(rec["id"], rec["text"], spans)
        for s in rec["spans"]:
            doc.check_mention(Span(s["start"], s["end"], s["label"]), s["text"], source=str(path))
        docs.append(doc)
    return docs


SMALL = dict(word_dim=16, char_dim=8, char_filters=8, case_dim=4, hidden_size=16, dropout=0.1, word_dropout=0.0,
             lr=0.02, batch_size=4, progress=False, min_word_count=1)


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    return read_docs()


@pytest.fixture(scope="module")
def trained(docs) -> BiLSTMTagger:
    return BiLSTMTagger(**SMALL, epochs=30, patience=30).fit(docs, docs)


# ---------------------------------------------------------------------------------------------- CRF layer

def _crf_and_inputs(seed: int = 0, lengths=(4, 2, 3)):
    g = torch.Generator().manual_seed(seed)
    crf = CRF(TAGS)
    with torch.no_grad():
        crf.transitions.copy_(torch.randn(5, 5, generator=g))
        crf.start.copy_(torch.randn(5, generator=g))
        crf.end.copy_(torch.randn(5, generator=g))
    em = torch.randn(len(lengths), max(lengths), 5, generator=g)
    mask = torch.zeros(len(lengths), max(lengths), dtype=torch.bool)
    for b, n in enumerate(lengths):
        mask[b, :n] = True
    return crf, em, mask, lengths


def _brute_scores(crf, em, b, n, allowed=None):
    """(path, score) of every tag sequence of length n for row b (within ``allowed`` when given)."""
    with torch.no_grad():
        trans = (crf.transitions + crf.trans_penalty).numpy()
        start = (crf.start + crf.start_penalty).numpy()
        end = crf.end.detach().numpy()
    em = em.detach().numpy()
    out = []
    for path in itertools.product(range(len(TAGS)), repeat=n):
        if allowed is not None and not all(allowed[b, i, t] for i, t in enumerate(path)):
            continue
        s = start[path[0]] + end[path[-1]] + sum(em[b, i, t] for i, t in enumerate(path))
        s = s + sum(trans[a, c] for a, c in zip(path, path[1:]))
        out.append((path, float(s)))
    return out


def _logsumexp(xs):
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


def test_bio_penalties_forbid_ill_formed_transitions():
    trans, start = bio_penalties(TAGS)
    idx = {t: i for i, t in enumerate(TAGS)}
    assert trans[idx["O"], idx["I-A"]] == FORBIDDEN
    assert trans[idx["B-B"], idx["I-A"]] == FORBIDDEN and trans[idx["I-B"], idx["I-A"]] == FORBIDDEN
    assert trans[idx["B-A"], idx["I-A"]] == 0 and trans[idx["I-A"], idx["I-A"]] == 0
    assert trans[idx["I-A"], idx["B-B"]] == 0 and trans[idx["I-A"], idx["O"]] == 0
    assert start[idx["I-A"]] == FORBIDDEN and start[idx["B-A"]] == 0 and start[idx["O"]] == 0


def test_forward_equals_brute_force_logsumexp():
    crf, em, mask, lengths = _crf_and_inputs()
    with torch.no_grad():
        logz = crf.log_partition(em, mask)
    for b, n in enumerate(lengths):
        expected = _logsumexp([s for _, s in _brute_scores(crf, em, b, n)])
        assert logz[b].item() == pytest.approx(expected, abs=1e-4)


def test_partial_forward_equals_brute_force_over_allowed_lattice():
    crf, em, mask, lengths = _crf_and_inputs(seed=1)
    g = torch.Generator().manual_seed(3)
    allowed = torch.rand(em.shape, generator=g) < 0.5
    allowed[..., 0] = True  # every position keeps at least O
    with torch.no_grad():
        logz = crf.log_partition(em, mask, allowed)
    for b, n in enumerate(lengths):
        # forbidden transitions carry a finite penalty, so the brute force keeps those paths too (they add ~0)
        expected = _logsumexp([s for _, s in _brute_scores(crf, em, b, n, allowed)])
        assert logz[b].item() == pytest.approx(expected, abs=1e-4)


def test_path_score_matches_brute_force():
    crf, em, mask, lengths = _crf_and_inputs(seed=2)
    paths = torch.tensor([[1, 2, 0, 3], [3, 4, 0, 0], [0, 1, 2, 0]])
    with torch.no_grad():
        scores = crf.path_score(em, mask, paths)
    for b, n in enumerate(lengths):
        brute = dict(_brute_scores(crf, em, b, n))
        assert scores[b].item() == pytest.approx(brute[tuple(paths[b, :n].tolist())], abs=1e-4)


def test_viterbi_is_the_brute_force_argmax_and_well_formed():
    for seed in range(3):
        crf, em, mask, lengths = _crf_and_inputs(seed=seed)
        with torch.no_grad():
            decoded = crf.decode(em, mask)
        for b, n in enumerate(lengths):
            best_path, _ = max(_brute_scores(crf, em, b, n), key=lambda x: x[1])
            assert tuple(decoded[b]) == best_path
            tags = [TAGS[i] for i in decoded[b]]
            for prev, cur in zip(["O"] + tags, tags):
                if cur.startswith("I-"):
                    assert prev[2:] == cur[2:] and prev != "O"


def test_marginals_match_brute_force():
    crf, em, mask, lengths = _crf_and_inputs(seed=4)
    marg = crf.marginals(em, mask)
    for b, n in enumerate(lengths):
        scored = _brute_scores(crf, em, b, n)
        logz = _logsumexp([s for _, s in scored])
        expected = np.zeros((n, len(TAGS)))
        for path, s in scored:
            for i, t in enumerate(path):
                expected[i, t] += math.exp(s - logz)
        np.testing.assert_allclose(marg[b, :n].numpy(), expected, atol=1e-5)
        assert torch.all(marg[b, n:] == 0)


def test_partial_likelihood_is_at_least_the_full_likelihood():
    crf, em, mask, _ = _crf_and_inputs(seed=5)
    gold = torch.tensor([[1, 2, 0, 3], [0, 3, 0, 0], [3, 4, 0, 0]])
    full = torch.nn.functional.one_hot(gold, len(TAGS)).bool()
    partial = full.clone()
    partial[:, :, 0] |= full[:, :, 0]
    partial[gold == 0] = torch.tensor([True, True, True, False, False])  # O tokens may also be A
    with torch.no_grad():
        nll_full = crf.nll(em, mask, full)
        nll_partial = crf.nll(em, mask, partial)
        # one allowed tag per position: the usual CRF likelihood
        assert torch.allclose(nll_full, crf.log_partition(em, mask) - crf.path_score(em, mask, gold), atol=1e-4)
    assert torch.all(nll_partial <= nll_full + 1e-6)
    assert torch.all(nll_partial < nll_full)
    assert torch.all(nll_partial >= -1e-5)


# ---------------------------------------------------------------------------------------------- targets

def test_allowed_tags_partial_and_silver_documents():
    tags = label_set(["DISEASE", "DRUG"], "BIO")
    text = "Lupus was treated with prednisone and rifampin."
    toks = tokenize(text)
    doc = Document("p", text, [Span(23, 33, "DRUG"), Span(38, 46, "DRUG", attrs={"silver_flag": "unsure"})],
                   {"annotates": ["DRUG"]})
    stats: Counter = Counter()
    allowed = allowed_tags(doc, toks, tags, stats)
    idx = {t: i for i, t in enumerate(tags)}
    # "Lupus" is O in a document that does not annotate DISEASE: O, B-DISEASE and I-DISEASE allowed, not DRUG
    assert set(np.flatnonzero(allowed[0])) == {idx["O"], idx["B-DISEASE"], idx["I-DISEASE"]}
    assert set(np.flatnonzero(allowed[4])) == {idx["B-DRUG"]}          # prednisone: gold
    assert allowed[6].all()                                            # rifampin: silver, anything
    assert stats["partial_docs"] == 1 and stats["silver_tokens"] == 1
    full = allowed_tags(doc.with_meta(annotates=["DRUG", "DISEASE"]), toks, tags, Counter())
    assert set(np.flatnonzero(full[0])) == {idx["O"]}


def test_unknown_label_with_fixed_labels_is_an_input_error(docs):
    with pytest.raises(InputError, match="does not learn"):
        BiLSTMTagger(**SMALL, epochs=1, labels=["DISEASE"]).fit(docs)


def test_casing_classes():
    assert [casing(w) for w in ("123", "12a", "fever", "HIV", "Lupus", "dsDNA", "IL6", "(")] == [1, 2, 3, 4, 5, 6, 7, 8]


# ---------------------------------------------------------------------------------------------- tagger

def test_config_errors():
    with pytest.raises(ConfigError, match="optimizer"):
        BiLSTMTagger(optimizer="rmsprop")
    with pytest.raises(ConfigError, match="dropout"):
        BiLSTMTagger(dropout=1.5)
    with pytest.raises(ConfigError, match="char_width"):
        BiLSTMTagger(char_width=4)
    with pytest.raises(InputError, match="not trained"):
        BiLSTMTagger().predict([Document("x", "text")])


def test_registry_creates_the_tagger():
    assert isinstance(create("bilstm.v1", epochs=1), BiLSTMTagger)


def test_two_epochs_fit_and_predict_valid_spans(docs):
    tagger = BiLSTMTagger(**SMALL, epochs=2).fit(docs, docs[:2])
    assert [e["epoch"] for e in tagger.history] == [1, 2] and "dev" in tagger.history[0]
    assert tagger.labels == ("DISEASE", "DRUG")
    assert tagger.training_stats["sentences"] == 11 and tagger.training_stats["spans"] == 19
    pred = tagger.predict(docs)
    assert len(pred) == len(docs)
    for doc, spans in zip(docs, pred):
        for s in spans:
            assert 0 <= s.start < s.end <= len(doc.text) and s.label in tagger.labels and 0 < s.score <= 1


def test_learns_the_training_data(trained, docs):
    pred = trained.predict(docs)
    gold = {(d.id, s.key) for d in docs for s in d.spans}
    found = {(d.id, s.key) for d, spans in zip(docs, pred) for s in spans}
    assert len(gold & found) / len(gold) >= 0.9
    assert trained.training_stats["best_epoch"] is not None
    assert sum(e["best"] for e in trained.history) == 1


def test_long_document_is_tagged_whole(trained, docs):
    text = " ".join(d.text for d in docs) * 5
    doc = Document("long", text)
    spans = trained.predict([doc])[0]
    assert max(s.end for s in spans) > len(text) - 200  # the end of the text is tagged too


def test_save_load_identical_predictions(trained, docs, tmp_path):
    trained.save(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} >= {"config.json", "model.pt", "vocab.json"}
    loaded = load_tagger(tmp_path / "m")
    assert isinstance(loaded, BiLSTMTagger) and loaded.labels == trained.labels
    a, b = trained.predict(docs), loaded.predict(docs)
    assert [[(s.key, round(s.score, 6)) for s in x] for x in a] == [[(s.key, round(s.score, 6)) for s in x] for x in b]
    assert loaded.history == json.loads(json.dumps(trained.history))


def test_load_missing_weights_is_clear(trained, tmp_path):
    trained.save(tmp_path / "m")
    (tmp_path / "m" / "model.pt").unlink()
    with pytest.raises(ModelNotFoundError, match="model.pt"):
        load_tagger(tmp_path / "m")


def test_partial_documents_train(docs):
    # the DISEASE spans of half the documents are removed and the documents say they annotate DRUG only
    partial = [d.with_spans([s for s in d.spans if s.label == "DRUG"]).with_meta(annotates=["DRUG"])
               if i % 2 else d for i, d in enumerate(docs)]
    tagger = BiLSTMTagger(**SMALL, epochs=2).fit(partial)
    assert tagger.training_stats["partial_docs"] == 3
    assert tagger.labels == ("DISEASE", "DRUG")


# ---------------------------------------------------------------------------------------------- embeddings

def test_embeddings_round_trip_and_pretrained_init(docs, tmp_path):
    words = ["lupus", "prednisone", "pneumonia", "0-year-old"]
    vecs = np.arange(len(words) * 16, dtype=np.float32).reshape(len(words), 16) / 100
    WordEmbeddings(words, vecs.astype(np.float16), {"corpus_tokens": 9}).save(tmp_path / "emb")
    emb = WordEmbeddings.load(tmp_path / "emb")
    assert emb.words == words and emb.vectors.dtype == np.float16 and emb.manifest["corpus_tokens"] == 9
    assert normalize_word("34-Year-Old") == "00-year-old"
    assert next(sentences_for_embeddings("IL-6 rose. Then fell.")) == ["il-0", "rose", "."]
    cfg = {k: v for k, v in SMALL.items() if k != "word_dim"}
    tagger = BiLSTMTagger(**cfg, embeddings=str(tmp_path / "emb"), freeze_embeddings=True, epochs=1).fit(docs)
    weight = tagger._net.word_emb.weight.detach().numpy()
    for w in words:
        np.testing.assert_allclose(weight[tagger._words[w]], emb.vectors[emb.index[w]].astype(np.float32))
    assert tagger.word_dim == 16 and tagger.training_stats["pretrained_words"] == 4
    with pytest.raises(ModelNotFoundError, match="train_embeddings"):
        BiLSTMTagger(**cfg, embeddings=str(tmp_path / "nowhere"), epochs=1).fit(docs)


def test_word2vec_training_small():
    pytest.importorskip("gensim")
    from imner.embeddings import train_word2vec

    sents = [["fever", "and", "rash"], ["fever", "and", "cough"]] * 20
    emb = train_word2vec(sents, dim=8, epochs=2, min_count=2)
    assert set(emb.words) == {"fever", "and", "rash", "cough"} and emb.dim == 8
    assert emb.vectors.dtype == np.float16 and emb.manifest["vocabulary"] == 4


# ---------------------------------------------------------------------------------------------- lexicon feature

class StubLexicon(Tagger):
    """Tags every occurrence of a few fixed words as DISEASE (a stand-in for dictionary.v1)."""

    name = "stub-lexicon.v1"
    labels = ("DISEASE",)
    WORDS = ("pneumonia", "tuberculosis", "lupus")

    def predict(self, docs):
        out = []
        for d in docs:
            out.append([Span(t.start, t.end, "DISEASE") for t in tokenize(d.text) if t.text.lower() in self.WORDS])
        return out


def test_lexicon_feature_is_used_saved_and_loaded(docs, tmp_path):
    register("stub-lexicon.v1", f"{__name__}:StubLexicon")
    try:
        tagger = BiLSTMTagger(**SMALL, epochs=2, lexicon_features=True, lexicon_tagger=StubLexicon()).fit(docs)
        assert tagger._lex_tags == {"<pad>": 0, "<unk>": 1, "O": 2, "B-DISEASE": 3, "I-DISEASE": 4}
        sent = tagger._sentences(docs[1:2])[0][0]  # "The patient had tuberculosis and received rifampin."
        assert sent.lex.tolist() == [2, 2, 2, 3, 2, 2, 2, 2]
        tagger.save(tmp_path / "m")
        assert (tmp_path / "m" / "lexicon" / "config.json").is_file()
        loaded = load_tagger(tmp_path / "m")
        assert isinstance(loaded._lexicon_tagger(), StubLexicon)
        assert [[s.key for s in x] for x in loaded.predict(docs)] == [[s.key for s in x] for x in tagger.predict(docs)]
    finally:
        base._REGISTRY.pop("stub-lexicon.v1", None)
