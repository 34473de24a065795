"""gliner.v1 against a fake ``gliner`` module (injected in sys.modules): windows, offsets, merging."""

import re
import sys
import types

import pytest

from imner.errors import ConfigError, OffsetMismatchError
from imner.taggers import load_tagger
from imner.taggers.gliner import WORD_RE, GlinerTagger, merge_predictions, plan_windows
from imner.types import Document, Span

TRIGGERS = {"lupus nephritis": "immune-mediated disease", "fever": "sign or symptom",
            "Staphylococcus aureus": "pathogen"}
LABEL_OF = {"lupus nephritis": "IMMUNE_DISEASE", "fever": "SIGN_SYMPTOM", "Staphylococcus aureus": "PATHOGEN"}


class FakeModel:
    """Finds the trigger strings in each text; records texts and refuses any over max_len words."""

    max_len = 384

    def __init__(self):
        self.texts = []

    def batch_predict_entities(self, texts, labels, flat_ner=True, threshold=0.5):
        out = []
        for text in texts:
            assert len(WORD_RE.findall(text)) <= self.max_len, "GLiNER would truncate this window"
            self.texts.append(text)
            ents = []
            for trig, label in TRIGGERS.items():
                if label not in labels:
                    continue
                pos = text.find(trig)
                while pos != -1:
                    # a score that depends on the window, so merging has to pick one
                    ents.append({"start": pos, "end": pos + len(trig), "text": trig, "label": label,
                                 "score": 0.9 - 0.001 * len(self.texts)})
                    pos = text.find(trig, pos + 1)
            out.append(ents)
        return out


@pytest.fixture
def fake_gliner(monkeypatch):
    model = FakeModel()
    loaded = []

    class GLiNER:
        @staticmethod
        def from_pretrained(path, local_files_only=False):
            loaded.append((path, local_files_only))
            return model

    mod = types.ModuleType("gliner")
    mod.GLiNER = GLiNER
    monkeypatch.setitem(sys.modules, "gliner", mod)
    return model, loaded


def _doc(n_sentences: int) -> Document:
    parts = []
    for i in range(n_sentences):
        if i % 3 == 0:
            parts.append(f"On day {i} she had fever and lupus nephritis was confirmed.")
        else:
            parts.append(f"Sentence number {i} mentions nothing of interest here at all.")
    return Document("long", "  ".join(parts) + "\nCultures grew Staphylococcus aureus.")


def test_windows_cover_every_word_and_respect_the_limit():
    doc = _doc(30)
    wins = plan_windows(doc.text, max_words=40, overlap=1)
    assert len(wins) > 5
    words = [(m.start(), m.end()) for m in WORD_RE.finditer(doc.text)]
    for a, b in words:
        assert any(s <= a and b <= e for s, e in wins), doc.text[a:b]
    for s, e in wins:
        assert len(WORD_RE.findall(doc.text[s:e])) <= 40
    # consecutive windows share a sentence of context
    assert all(wins[i + 1][0] < wins[i][1] for i in range(len(wins) - 1))
    # no overlap asked: windows are disjoint
    plain = plan_windows(doc.text, max_words=40, overlap=0)
    assert all(plain[i][1] <= plain[i + 1][0] for i in range(len(plain) - 1))


def test_over_long_sentence_is_cut_into_overlapping_word_windows():
    text = "Intro sentence here. Then " + " ".join(f"w{i}" for i in range(100)) + " end"
    wins = plan_windows(text, max_words=30, overlap_words=5)
    long_wins = [w for w in wins if w[0] > 0]
    assert len(long_wins) >= 4
    shared = [len(WORD_RE.findall(text[b[0]:a[1]])) for a, b in zip(long_wins, long_wins[1:])]
    assert shared[:-1] == [5] * (len(shared) - 1) and shared[-1] >= 5  # the last window ends at the end
    assert wins[-1][1] == len(text)
    with pytest.raises(ConfigError):
        plan_windows(text, max_words=30, overlap_words=30)


def test_predict_maps_offsets_back_and_merges_overlaps(fake_gliner, tmp_path):
    model, loaded = fake_gliner
    doc = _doc(30)
    tagger = GlinerTagger(tmp_path, labels=["IMMUNE_DISEASE", "SIGN_SYMPTOM", "PATHOGEN"], max_words=40)
    (spans,) = tagger.predict([doc])
    assert loaded == [(str(tmp_path), True)]
    assert len(model.texts) > 5  # windowed
    got = [(doc.text[s.start:s.end], s.label) for s in spans]
    expected = sorted((m.start(), trig, LABEL_OF[trig]) for trig in LABEL_OF
                      for m in re.finditer(re.escape(trig), doc.text))
    seen = sum(t.count(trig) for t in model.texts for trig in TRIGGERS)
    assert seen > len(spans)  # overlapping windows saw some mentions twice...
    assert got == [(t, lab) for _, t, lab in expected]  # ...yet each mention comes out once, at its own offsets
    assert spans[-1].label == "PATHOGEN" and spans[-1].end == doc.text.rindex("aureus") + len("aureus")
    assert all(s.attrs["source"] == "gliner" for s in spans)
    # save/load keeps prompts and settings
    tagger.save(tmp_path / "m")
    back = load_tagger(tmp_path / "m")
    assert isinstance(back, GlinerTagger) and back.prompts == tagger.prompts and back.max_words == 40


def test_custom_prompts_and_wrong_offsets(fake_gliner, tmp_path):
    model, _ = fake_gliner
    doc = Document("d", "He had fever.")
    tagger = GlinerTagger(tmp_path, labels={"SYMPTOM": "sign or symptom"})
    assert [(s.start, s.end, s.label) for s in tagger.predict([doc])[0]] == [(7, 12, "SYMPTOM")]

    def bad(texts, labels, **kw):
        return [[{"start": 0, "end": 5, "text": "fever", "label": "sign or symptom", "score": 0.9}] for _ in texts]

    model.batch_predict_entities = bad
    with pytest.raises(OffsetMismatchError, match="fever"):
        tagger.predict([doc])


def test_merge_keeps_best_of_overlapping():
    spans = [Span(0, 10, "A", 0.6), Span(0, 10, "A", 0.8), Span(5, 12, "B", 0.7), Span(20, 25, "A", 0.5)]
    assert [(s.start, s.end, s.label, s.score) for s in merge_predictions(spans)] == [
        (0, 10, "A", 0.8), (20, 25, "A", 0.5)]


def test_missing_package_says_which_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "gliner", None)  # import gliner -> ImportError
    tagger = GlinerTagger(tmp_path)
    with pytest.raises(ConfigError, match=r"imner\[gliner\]"):
        tagger.predict([Document("d", "Some text.")])
    with pytest.raises(ConfigError):
        GlinerTagger(tmp_path, labels={"A": "x", "B": "x"})
