"""Adapter for GLiNER checkpoints on disk (gliner.v1).

``GlinerTagger(model_dir, labels=..., threshold=0.5)`` runs a GLiNER model the user already has (imner
downloads nothing). The ``gliner`` package is an optional extra (``pip install 'imner[gliner]'``),
imported only when the model is first used; gliner 0.2.x pins ``transformers<5.17``, so install it
in an environment of its own if the ``train`` extra's transformers is newer.

* **Labels** are asked for as natural-language prompts: schema names map to phrases such as
  ``"immune-mediated disease"`` (:data:`PROMPTS`); a mapping ``{label: prompt}`` overrides them.
* **Windows**: GLiNER reads at most ``max_len`` (384) words and silently drops the rest, so documents are
  sent in windows of whole sentences of at most ``max_words`` GLiNER words (counted with GLiNER's own
  splitter, :data:`WORD_RE`), consecutive windows sharing ``overlap`` sentences of context. A sentence
  longer than ``max_words`` is cut into word windows overlapping by ``overlap_words`` words. Nothing is
  cut off: every word lies in some window.
* **Offsets**: predicted character offsets are relative to the window text and are shifted back to the
  document exactly; each prediction's ``text`` (when given) is checked against the document.
  Predictions from overlapping windows are merged: identical spans keep the highest score, then
  overlapping spans are resolved greedily by score (flat NER).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from imner.configkit import check_int
from imner.errors import ConfigError, ModelNotFoundError, OffsetMismatchError
from imner.schema import LABEL_NAMES
from imner.taggers.base import Tagger
from imner.text import split_sentences
from imner.types import Document, Span

#: GLiNER's default word splitter (``WhitespaceTokenSplitter``): windows are sized in these words
WORD_RE = re.compile(r"\w+(?:[-_]\w+)*|\S")

#: natural-language prompts of the schema labels
PROMPTS: dict[str, str] = {
    "IMMUNE_DISEASE": "immune-mediated disease",
    "INFECTIOUS_DISEASE": "infectious disease",
    "OTHER_DISEASE": "other disease",
    "PATHOGEN": "pathogen",
    "SIGN_SYMPTOM": "sign or symptom",
    "ANATOMY": "anatomical structure",
    "DIAGNOSTIC_PROCEDURE": "diagnostic procedure",
    "LAB_VALUE": "lab value",
    "MEDICATION": "medication",
    "THERAPEUTIC_PROCEDURE": "therapeutic procedure",
    "SEVERITY": "severity",
    "TEMPORAL": "time expression",
}


def prompt_for(label: str) -> str:
    """The prompt of a label: :data:`PROMPTS`, else the name in lower case with spaces."""
    return PROMPTS.get(label, label.replace("_", " ").lower())


def plan_windows(text: str, max_words: int, overlap: int = 1, overlap_words: int = 32) -> list[tuple[int, int]]:
    """Half-open character ranges of ``text`` to send to the model, each at most ``max_words`` words.

    Whole sentences are grouped greedily; each window after the first also holds, as left context, up to
    ``overlap`` sentences already sent (as many as fit with its first new sentence). A sentence longer than
    ``max_words`` becomes word windows of ``max_words`` words overlapping by ``overlap_words``. Every word
    of ``text`` lies in at least one window.
    """
    if max_words < 2:
        raise ConfigError(f"max_words must be at least 2, got {max_words}")
    if not 0 <= overlap_words < max_words:
        raise ConfigError(f"overlap_words must be from 0 to max_words - 1 ({max_words - 1}), got {overlap_words}")
    # units: sentences (start, end, words), or, for an over-long sentence, its word windows (words = -1)
    units: list[tuple[int, int, int]] = []
    pieces: dict[int, list[tuple[int, int]]] = {}
    for s, e in split_sentences(text):
        words = [(m.start(), m.end()) for m in WORD_RE.finditer(text, s, e)]
        if len(words) <= max_words:
            units.append((s, e, len(words)))
        else:
            step = max_words - overlap_words
            starts = list(range(0, len(words) - max_words, step)) + [len(words) - max_words]
            pieces[len(units)] = [(words[i][0], words[i + max_words - 1][1]) for i in starts]
            units.append((s, e, -1))
    windows: list[tuple[int, int]] = []
    n = 0  # the first sentence no window has covered yet
    while n < len(units):
        if units[n][2] < 0:
            windows.extend(pieces[n])
            n += 1
            continue
        first, count = n, 0
        for _ in range(overlap):  # left context: sentences already covered, while the new one still fits
            p = first - 1
            if p < 0 or units[p][2] < 0 or count + units[p][2] + units[n][2] > max_words:
                break
            first, count = p, count + units[p][2]
        j = n
        while j < len(units) and units[j][2] >= 0 and count + units[j][2] <= max_words:
            count += units[j][2]
            j += 1
        windows.append((units[first][0], units[j - 1][1]))
        n = j
    return windows


def merge_predictions(spans: Sequence[Span]) -> list[Span]:
    """Identical spans keep their best score; overlapping ones are resolved greedily by score (longer first
    on ties)."""
    best: dict[tuple[int, int, str], Span] = {}
    for s in spans:
        k = (s.start, s.end, s.label)
        if k not in best or (s.score or 0.0) > (best[k].score or 0.0):
            best[k] = s
    kept: list[Span] = []
    for s in sorted(best.values(), key=lambda x: (-(x.score or 0.0), -(x.end - x.start), x.start)):
        if not any(s.overlaps(k) for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda x: (x.start, x.end))


def _import_gliner() -> Any:
    try:
        import gliner
    except ImportError as e:
        raise ConfigError("gliner.v1 needs the 'gliner' package, an optional extra: pip install 'imner[gliner]' "
                          "(gliner 0.2.x pins transformers<5.17: use a separate environment if the 'train' "
                          f"extra's transformers is newer) ({e})") from e
    return gliner


class GlinerTagger(Tagger):
    """A GLiNER checkpoint directory as an imner tagger (see the module docstring)."""

    name = "gliner.v1"
    labels_key = "prompts"

    def __init__(self, model_dir: str | Path, labels: Sequence[str] | Mapping[str, str] = LABEL_NAMES, *,
                 threshold: float = 0.5, max_words: int = 300, overlap: int = 1, overlap_words: int = 32,
                 batch_size: int = 8, flat_ner: bool = True) -> None:
        if isinstance(labels, Mapping):
            self.prompts = {str(k): str(v) for k, v in labels.items()}
        else:
            self.prompts = {str(k): prompt_for(str(k)) for k in labels}
        if not self.prompts:
            raise ConfigError("gliner.v1 needs at least one label")
        if len(set(self.prompts.values())) != len(self.prompts):
            raise ConfigError(f"two labels share a prompt: {self.prompts}")
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"threshold must be between 0 and 1, got {threshold}")
        check_int(overlap, "overlap (sentences shared by consecutive windows)", 0)
        plan_windows("", max_words, overlap, overlap_words)  # validates the window sizes
        self.model_dir = str(model_dir)
        self.labels = tuple(self.prompts)
        self.threshold = float(threshold)
        self.max_words = max_words
        self.overlap = overlap
        self.overlap_words = overlap_words
        self.batch_size = batch_size
        self.flat_ner = flat_ner
        self._model: Any = None

    def config(self) -> dict[str, Any]:
        return {"model_dir": self.model_dir, "prompts": self.prompts, "threshold": self.threshold,
                "max_words": self.max_words, "overlap": self.overlap, "overlap_words": self.overlap_words,
                "batch_size": self.batch_size, "flat_ner": self.flat_ner}

    @property
    def model(self) -> Any:
        if self._model is None:
            gliner = _import_gliner()
            if not Path(self.model_dir).is_dir():
                raise ModelNotFoundError(f"{self.model_dir} is not a directory; gliner.v1 loads a GLiNER checkpoint "
                                         "saved on disk (model.save_pretrained(DIR)); imner downloads nothing")
            self._model = gliner.GLiNER.from_pretrained(self.model_dir, local_files_only=True)
        return self._model

    def _run(self, texts: list[str]) -> list[list[dict[str, Any]]]:
        prompts = list(self.prompts.values())
        model = self.model
        kw = {"flat_ner": self.flat_ner, "threshold": self.threshold}
        if hasattr(model, "batch_predict_entities"):
            out: list[list[dict[str, Any]]] = []
            for b in range(0, len(texts), self.batch_size):
                out.extend(model.batch_predict_entities(texts[b:b + self.batch_size], prompts, **kw))
            return out
        return [model.predict_entities(t, prompts, **kw) for t in texts]

    def predict(self, docs: Sequence[Document]) -> list[list[Span]]:
        by_prompt = {v: k for k, v in self.prompts.items()}
        jobs: list[tuple[int, int, int]] = []  # (doc, window start, window end)
        for d, doc in enumerate(docs):
            jobs.extend((d, a, b) for a, b in plan_windows(doc.text, self.max_words, self.overlap,
                                                           self.overlap_words))
        preds = self._run([docs[d].text[a:b] for d, a, b in jobs]) if jobs else []
        found: list[list[Span]] = [[] for _ in docs]
        for (d, a, b), ents in zip(jobs, preds, strict=True):
            text = docs[d].text
            for ent in ents:
                label = by_prompt.get(ent["label"])
                if label is None:
                    raise ConfigError(f"GLiNER answered label {ent['label']!r}, which is none of the prompts "
                                      f"{list(by_prompt)}")
                start, end = a + int(ent["start"]), a + int(ent["end"])
                if not (a <= start < end <= b):
                    raise OffsetMismatchError(expected=str(ent.get("text", "")), found=text[start:end] if
                                              0 <= start < end <= len(text) else "", start=start, end=end,
                                              source=docs[d].id)
                if "text" in ent and text[start:end] != ent["text"]:
                    raise OffsetMismatchError(expected=ent["text"], found=text[start:end], start=start, end=end,
                                              source=docs[d].id)
                found[d].append(Span(start, end, label, round(float(ent.get("score", 1.0)), 4),
                                     {"source": "gliner"}))
        return [merge_predictions(s) for s in found]


__all__ = ["GlinerTagger", "PROMPTS", "WORD_RE", "prompt_for", "plan_windows", "merge_predictions"]
