"""Stage ``fuzzy``: character 3-gram TF-IDF nearest neighbour among the disease terms (numpy only).

A last resort for disease spans that no other stage (nor the corpus synonyms) maps: the mention's padded
character 3-grams, TF-IDF weighted (smooth idf, unit length), are compared by cosine with those of every
lexicon key naming exactly one DO concept (4+ characters, not an abbreviation) and every corpus-synonym key; the nearest key's concept is taken when
the similarity reaches ``threshold`` (chosen by cross-validation over the NCBI-disease/BC5CDR train splits,
``benchmarks/normalization.py --cv``) and no other concept ties with it. Abbreviation-like mentions and
mentions under 5 letters are never matched this way.

The index (about 40k keys) is built on first need, once per lexicon and table, in about 0.3 s.
"""

from __future__ import annotations

import threading
from typing import Mapping

import numpy as np

from imner.lexicon import Lexicon
from imner.lexicon.normalize import is_abbreviation
from imner.schema import DISEASE_LABELS

__all__ = ["DEFAULT_THRESHOLD", "FuzzyIndex", "disease_keys", "eligible"]

#: cosine similarity a nearest neighbour must reach (chosen by cross-validation over the train splits)
DEFAULT_THRESHOLD = 0.75


def _codes(text: str) -> np.ndarray:
    """Code points of ``text`` as int64."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


def _gram_codes(cp: np.ndarray) -> np.ndarray:
    """One int64 per 3-gram of a code-point array (21 bits per character)."""
    return (cp[:-2] << 42) | (cp[1:-1] << 21) | cp[2:]


class FuzzyIndex:
    """TF-IDF 3-gram index over ``keys`` (key -> concept id); :meth:`nearest` answers queries."""

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._keys = sorted(keys)
        self._ids = [keys[k] for k in self._keys]
        n_docs = len(self._keys)
        self._n = n_docs
        if not n_docs:
            self._grams = np.zeros(0, dtype=np.int64)
            return
        # all keys padded and joined by newlines; 3-grams that hold a newline cross two keys and are dropped
        cp = _codes("\n".join(f" {k} " for k in self._keys))
        grams = _gram_codes(cp)
        nl = cp == 10
        ok = ~(nl[:-2] | nl[1:-1] | nl[2:])
        row_at = np.cumsum(nl)[:-2]
        grams, rows = grams[ok], row_at[ok]
        self._grams, cols = np.unique(grams, return_inverse=True)
        n_vocab = len(self._grams)
        pair, tf = np.unique(rows * n_vocab + cols, return_counts=True)
        rows, cols = pair // n_vocab, pair % n_vocab
        df = np.bincount(cols, minlength=n_vocab).astype(np.float64)
        self._idf = np.log((1 + n_docs) / (1 + df)) + 1.0
        w = (1.0 + np.log(tf)) * self._idf[cols]
        w = w / np.sqrt(np.bincount(rows, weights=w * w, minlength=n_docs))[rows]
        order = np.argsort(cols)
        self._post_rows = rows[order].astype(np.int32)
        self._post_w = w[order].astype(np.float32)
        self._post_start = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=n_vocab))])

    def __len__(self) -> int:
        return self._n

    def nearest(self, key: str) -> tuple[list[str], float]:
        """The concept ids of the nearest keys (several when different concepts tie) and the cosine."""
        if not self._n or not key:
            return [], 0.0
        grams, tf = np.unique(_gram_codes(_codes(f" {key} ")), return_counts=True)
        pos = np.minimum(np.searchsorted(self._grams, grams), len(self._grams) - 1)
        seen = self._grams[pos] == grams
        # the query's norm counts its unseen 3-grams too (with the largest idf)
        idf = np.where(seen, self._idf[pos], self._idf.max())
        qw = (1.0 + np.log(tf)) * idf
        qw = qw / np.sqrt(float(qw @ qw))
        cols, qw = pos[seen], qw[seen]
        if not len(cols):
            return [], 0.0
        parts_r = [self._post_rows[self._post_start[c]:self._post_start[c + 1]] for c in cols]
        parts_w = [self._post_w[self._post_start[c]:self._post_start[c + 1]] * w for c, w in zip(cols, qw)]
        scores = np.bincount(np.concatenate(parts_r), weights=np.concatenate(parts_w), minlength=self._n)
        best = float(scores.max())
        if best <= 0:
            return [], 0.0
        top = np.flatnonzero(scores >= best - 1e-6)
        return sorted({self._ids[i] for i in top}), best


def disease_keys(lexicon: Lexicon, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Key -> DOID for every lexicon key (4+ characters, not a case-sensitive abbreviation) whose disease
    concepts are one DO concept, plus the keys of ``extra`` (the corpus synonyms) written without capitals
    (abbreviations are left out)."""
    out: dict[str, str] = {}
    abbreviations = lexicon.abbreviations
    for k in lexicon.keys():
        if len(k) < 4 or k in abbreviations:
            continue
        ids = {i for i, lab in map(lexicon.id_label_at, lexicon.rows_for_key(k))
               if lab in DISEASE_LABELS and i.startswith("DOID:")}
        if len(ids) == 1:
            out[k] = ids.pop()
    for k, d in (extra or {}).items():
        if k not in out and k.islower():
            out[k] = d
    return out


_LOCK = threading.Lock()


def eligible(surface: str) -> bool:
    """Whether a mention may be matched fuzzily (5+ letters, not abbreviation-like)."""
    s = surface.strip()
    return sum(ch.isalpha() for ch in s) >= 5 and not is_abbreviation(s)


def build_once(holder: dict, lexicon: Lexicon, extra: Mapping[str, str] | None) -> FuzzyIndex:
    """The index kept in ``holder["index"]``, built on first call (thread-safe)."""
    with _LOCK:
        idx = holder.get("index")
        if idx is None:
            idx = holder["index"] = FuzzyIndex(disease_keys(lexicon, extra))
        return idx

