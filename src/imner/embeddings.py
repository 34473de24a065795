"""Word embeddings for the neural taggers: a compact on-disk format and word2vec training (gensim).

An embedding directory holds

* ``vectors.npy``: a ``(vocabulary, dim)`` float16 matrix (NumPy ``.npy``);
* ``vocab.txt``: one word per line, in matrix row order (UTF-8);
* ``manifest.json``: how it was made (sources, token counts, parameters, date, git commit).

Words are :func:`imner.text.tokenize` tokens passed through :func:`normalize_word` (lower case, every
digit replaced by ``0``), both when the embeddings are trained and when a tagger looks a word up, so the
two always agree. Training needs the ``train`` extra (``gensim``); reading needs NumPy only.

Make vectors with :func:`train_word2vec` and :meth:`WordEmbeddings.save`. The project's own vectors (biomedical text
of the shared corpora, test splits left out) are built in a checkout by its dev package
(``python -m imner_dev.train_embeddings``, docs/bilstm.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from imner.errors import ConfigError, ModelNotFoundError

VECTORS_FILE = "vectors.npy"
VOCAB_FILE = "vocab.txt"
MANIFEST_FILE = "manifest.json"
_DIGIT = re.compile(r"\d")


def normalize_word(word: str) -> str:
    """The form under which a token is looked up: lower case, digits mapped to ``0`` (``IL-6`` -> ``il-0``)."""
    return _DIGIT.sub("0", word.lower())


def sentences_for_embeddings(text: str) -> Iterator[list[str]]:
    """Normalized tokens of each sentence of ``text`` (:func:`imner.text.sentences_with_tokens`)."""
    from imner.text import sentences_with_tokens

    for _, toks in sentences_with_tokens(text):
        if toks:
            yield [normalize_word(t.text) for t in toks]


@dataclass
class WordEmbeddings:
    """A vocabulary and its vectors (row ``i`` of ``vectors`` belongs to ``words[i]``)."""

    words: list[str]
    vectors: np.ndarray
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise ConfigError(f"embeddings: {len(self.words)} words but a vectors matrix of shape "
                              f"{self.vectors.shape}")
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ConfigError("embeddings: the vocabulary has duplicate words")

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def vector(self, word: str) -> np.ndarray | None:
        """The vector of an already normalized word, or None."""
        i = self.index.get(word)
        return None if i is None else self.vectors[i]

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for w in self.words:
            if not w or "\n" in w or "\r" in w:
                raise ConfigError(f"embeddings: word {w!r} cannot be written one per line")
        np.save(directory / VECTORS_FILE, self.vectors.astype(np.float16))
        (directory / VOCAB_FILE).write_text("\n".join(self.words) + "\n", encoding="utf-8")
        (directory / MANIFEST_FILE).write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "WordEmbeddings":
        directory = Path(directory)
        vec, voc = directory / VECTORS_FILE, directory / VOCAB_FILE
        if not vec.is_file() or not voc.is_file():
            raise ModelNotFoundError(
                f"{directory} is not an embeddings directory (needs {VECTORS_FILE} and {VOCAB_FILE}); make one with "
                "imner.embeddings.train_word2vec(sentences).save(DIR) (in an imner checkout: "
                "python -m imner_dev.train_embeddings)")
        words = voc.read_text(encoding="utf-8").split("\n")
        if words and words[-1] == "":
            words.pop()
        vectors = np.load(vec, allow_pickle=False)
        manifest_path = directory / MANIFEST_FILE
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
        try:
            return cls(words, vectors, manifest)
        except ConfigError as e:
            raise ConfigError(f"{directory}: {e}") from e

    def most_similar(self, word: str, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` nearest words by cosine similarity (for inspection)."""
        v = self.vector(normalize_word(word))
        if v is None:
            return []
        m = self.vectors.astype(np.float32)
        m = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-8)
        sims = m @ (v.astype(np.float32) / max(float(np.linalg.norm(v)), 1e-8))
        order = [int(i) for i in np.argsort(-sims) if self.words[i] != normalize_word(word)][:k]
        return [(self.words[i], float(sims[i])) for i in order]


def train_word2vec(sentences: Sequence[Sequence[str]], *, dim: int = 100, window: int = 5, min_count: int = 2,
                   epochs: int = 5, sg: bool = True, negative: int = 5, seed: int = 0, workers: int = 1,
                   manifest: dict[str, Any] | None = None) -> WordEmbeddings:
    """word2vec (skip-gram with negative sampling when ``sg``, else CBOW) with gensim over normalized
    token lists; words sorted by decreasing frequency."""
    try:
        from gensim.models import Word2Vec
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ConfigError("training embeddings needs gensim: pip install 'imner[train]'") from e
    model = Word2Vec(sentences=list(sentences), vector_size=dim, window=window, min_count=min_count,
                     sg=int(bool(sg)), negative=negative, epochs=epochs, seed=seed, workers=workers)
    words = list(model.wv.index_to_key)
    vectors = np.asarray(model.wv.vectors, dtype=np.float32)
    info = {"algorithm": "word2vec skip-gram, negative sampling" if sg else "word2vec CBOW, negative sampling",
            "gensim": _version("gensim"), "dim": dim, "window": window, "min_count": min_count, "epochs": epochs,
            "negative": negative, "seed": seed, "workers": workers, "vocabulary": len(words),
            "normalization": "imner.text tokens, lower case, digits -> 0"}
    return WordEmbeddings(words, vectors.astype(np.float16), {**info, **(manifest or {})})


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def count_tokens(sentences: Iterable[Sequence[str]]) -> int:
    return sum(len(s) for s in sentences)


__all__ = ["WordEmbeddings", "normalize_word", "sentences_for_embeddings", "train_word2vec", "count_tokens"]
