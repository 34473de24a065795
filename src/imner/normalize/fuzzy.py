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


#: characters of the 3-grams (normalized keys are lower case); any other character is one symbol, the key
#: separator another: 39 symbols, so a 3-gram id fits in 16 bits (39 ** 3 = 59,319) and sorts by radix
_ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789"
_OTHER, _SEP = len(_ALPHABET), len(_ALPHABET) + 1
_K = len(_ALPHABET) + 2
_N_GRAMS = _K ** 3
_TABLE = np.full(128, _OTHER, dtype=np.int32)
for _i, _ch in enumerate(_ALPHABET):
    _TABLE[ord(_ch)] = _i
_TABLE[10] = _SEP


def _symbols(text: str) -> np.ndarray:
    """One symbol id per character of ``text`` (see :data:`_ALPHABET`)."""
    cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return np.where(cp < 128, _TABLE[np.minimum(cp, 127)], _OTHER)


def _gram_ids(sym: np.ndarray) -> np.ndarray:
    return ((sym[:-2] * _K + sym[1:-1]) * _K + sym[2:]).astype(np.uint16)


class FuzzyIndex:
    """TF-IDF 3-gram index over ``keys`` (key -> concept id); :meth:`nearest` answers queries."""

    #: the array attributes :meth:`state` holds
    _ARRAYS = ("_idf", "_post_rows", "_post_w", "_post_start", "_df")

    def state(self) -> dict:
        """The built index as marshal-able values (lists, str, float, bytes), for the start-up cache."""
        return {"keys": self._keys, "ids": self._ids, "max_idf": self._max_idf,
                **{name: (getattr(self, name).dtype.str, getattr(self, name).tobytes()) for name in self._ARRAYS}}

    @classmethod
    def from_state(cls, state: dict) -> "FuzzyIndex":
        """The index :meth:`state` describes (its arrays read-only views of the stored bytes)."""
        idx = cls.__new__(cls)
        idx._keys, idx._ids, idx._max_idf = state["keys"], state["ids"], state["max_idf"]
        idx._n = len(idx._keys)
        for name in cls._ARRAYS:
            dtype, raw = state[name]
            setattr(idx, name, np.frombuffer(raw, dtype=np.dtype(dtype)))
        return idx

    def __init__(self, keys: Mapping[str, str]) -> None:
        self._keys = sorted(keys)
        self._ids = [keys[k] for k in self._keys]
        n_docs = len(self._keys)
        self._n = n_docs
        # all keys padded and joined by newlines; 3-grams that hold a newline cross two keys and are dropped
        sym = _symbols("\n".join(f" {k} " for k in self._keys))
        sep = sym == _SEP
        ok = ~(sep[:-2] | sep[1:-1] | sep[2:])
        cols = _gram_ids(sym)[ok]
        rows = np.cumsum(sep, dtype=np.int32)[:-2][ok]
        # postings by 3-gram (a stable radix sort keeps each posting list in key order); repeats of a 3-gram
        # in one key are adjacent: one posting with its count
        order = np.argsort(cols, kind="stable")
        cols, rows = cols[order], rows[order]
        first = np.ones(len(cols), dtype=bool)
        first[1:] = (cols[1:] != cols[:-1]) | (rows[1:] != rows[:-1])
        starts = np.flatnonzero(first)
        tf = np.diff(np.append(starts, len(cols)))
        cols, rows = cols[starts].astype(np.int64), rows[starts]
        df = np.bincount(cols, minlength=_N_GRAMS).astype(np.float64)
        self._idf = np.log((1 + n_docs) / (1 + df)) + 1.0
        self._max_idf = float(np.log(1 + n_docs) + 1.0)
        w = (1.0 + np.log(tf)) * self._idf[cols]
        w = w / np.sqrt(np.bincount(rows, weights=w * w, minlength=n_docs))[rows]
        self._post_rows = rows
        self._post_w = w.astype(np.float32)
        self._post_start = np.concatenate([[0], np.cumsum(df.astype(np.int64))])
        self._df = df

    def __len__(self) -> int:
        return self._n

    def nearest(self, key: str) -> tuple[list[str], float]:
        """The concept ids of the nearest keys (several when different concepts tie) and the cosine."""
        if not self._n or not key:
            return [], 0.0
        grams, tf = np.unique(_gram_ids(_symbols(f" {key} ")), return_counts=True)
        seen = self._df[grams] > 0
        # the query's norm counts its unseen 3-grams too (with the largest idf)
        idf = np.where(seen, self._idf[grams], self._max_idf)
        qw = (1.0 + np.log(tf)) * idf
        qw = qw / np.sqrt(float(qw @ qw))
        cols, qw = grams[seen], qw[seen]
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
    """The index kept in ``holder["index"]``, built on first call (thread-safe). For a lexicon file the built index
    is kept in the start-up cache (:mod:`imner.cache`, keyed by the file's sha256 and the ``extra`` table), so a new
    process loads it instead of building it again."""
    with _LOCK:
        idx = holder.get("index")
        if idx is None:
            idx = holder["index"] = _cached_index(lexicon, extra)
        return idx


def _cached_index(lexicon: Lexicon, extra: Mapping[str, str] | None) -> FuzzyIndex:
    import hashlib

    import imner.cache as cache

    key = None
    if lexicon.path is not None and lexicon.sha256:
        extra_sha = hashlib.sha256(repr(sorted((extra or {}).items())).encode("utf-8")).hexdigest()
        key = cache.cache_key("fuzzy", lexicon.sha256, extra_sha,
                              cache.source_hash("imner.normalize.fuzzy", "imner.lexicon.normalize", "imner.schema"))
        hit = cache.load(key)
        if isinstance(hit, dict):
            try:
                return FuzzyIndex.from_state(hit)
            except (KeyError, TypeError, ValueError):
                pass
    idx = FuzzyIndex(disease_keys(lexicon, extra))
    if key is not None:
        cache.store(key, idx.state())
    return idx

