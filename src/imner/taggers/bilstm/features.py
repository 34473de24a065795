"""Token features of the BiLSTM-CNN-CRF taggers, in NumPy only (no torch).

Shared by ``bilstm.v1`` (:mod:`imner.taggers.bilstm.tagger`, torch) and ``bilstm-onnx.v1``
(:mod:`imner.taggers.bilstm.onnx`, onnxruntime), so that both encode a token the same way:

* word id: the token through :func:`imner.embeddings.normalize_word` (lower case, digits -> ``0``),
  :data:`UNK` when not in the vocabulary;
* character ids: the token's characters (its first and last ``max_word_chars // 2`` when longer than
  ``max_word_chars``), :data:`UNK` for unknown characters;
* casing class: :func:`casing` (an index into :data:`CASES`);
* lexicon id: the BIO tag a dictionary tagger gives the token (:func:`imner.tags.spans_to_tags`,
  ``align="expand"``), 0 without lexicon features.

Index 0 (:data:`PAD`) is padding in every vocabulary; :func:`pad_batch` pads a batch of sentences.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from imner.embeddings import normalize_word
from imner.tags import spans_to_tags
from imner.text import Token
from imner.types import Span

PAD, UNK = 0, 1

#: casing classes (0 is padding)
CASES = ("<pad>", "numeric", "mainly_numeric", "lower", "upper", "initial_upper", "mixed", "has_digit", "other")

#: the names under which a saved model records its preprocessing (checked by the ONNX tagger)
WORD_NORMALIZATION = "lower+digits0"
CASING = "casing.v1"
SENTENCES = "imner.text.sentences_with_tokens"


def casing(word: str) -> int:
    """The casing class of a token (index into :data:`CASES`)."""
    digits = sum(c.isdigit() for c in word)
    if word.isdigit():
        return 1
    if digits / len(word) > 0.5:
        return 2
    if digits and any(c.isalpha() for c in word):
        return 7
    if word.islower():
        return 3
    if word.isupper():
        return 4
    if word[0].isupper() and (len(word) == 1 or word[1:].islower()):
        return 5
    if any(c.isalpha() for c in word):
        return 6
    return 8


def encode_tokens(tokens: Sequence[Token], words: Mapping[str, int], chars: Mapping[str, int],
                  max_word_chars: int, lex_spans: Sequence[Span] | None = None,
                  lex_tags: Mapping[str, int] | None = None) -> tuple[np.ndarray, list[np.ndarray], np.ndarray,
                                                                        np.ndarray]:
    """``(word ids (n,), character ids (n arrays), casing ids (n,), lexicon ids (n,))`` of ``tokens``.

    ``lex_spans``: the dictionary tagger's spans in the tokens' text (None: no lexicon feature, ids 0);
    ``lex_tags`` maps their BIO tags to ids (unknown tags: :data:`UNK`)."""
    lex = np.zeros(len(tokens), np.int64)
    if lex_spans is not None:
        if lex_tags is None:
            raise ValueError("encode_tokens: lex_spans given without lex_tags")
        tags, _ = spans_to_tags(tokens, lex_spans, "BIO", align="expand")
        lex = np.array([lex_tags.get(t, UNK) for t in tags], np.int64)
    word_ids = np.array([words.get(normalize_word(t.text), UNK) for t in tokens], np.int64)
    case = np.array([casing(t.text) for t in tokens], np.int64)
    half = max_word_chars // 2
    char_ids = []
    for t in tokens:
        text = t.text if len(t.text) <= max_word_chars else t.text[:half] + t.text[-half:]
        char_ids.append(np.array([chars.get(c, UNK) for c in text], np.int64))
    return word_ids, char_ids, case, lex


def pad_batch(words: Sequence[np.ndarray], chars: Sequence[Sequence[np.ndarray]], case: Sequence[np.ndarray],
              lex: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Padded ``int64`` arrays ``words``, ``case``, ``lex`` ``(B, N)`` and ``chars`` ``(B, N, C)`` plus the
    boolean ``mask`` ``(B, N)`` of a batch of sentences (one entry per sentence in each argument)."""
    b = len(words)
    n = max(len(w) for w in words)
    c = max(len(ch) for sent in chars for ch in sent)
    out = {"words": np.zeros((b, n), np.int64), "chars": np.zeros((b, n, c), np.int64),
           "case": np.zeros((b, n), np.int64), "lex": np.zeros((b, n), np.int64), "mask": np.zeros((b, n), bool)}
    for r in range(b):
        m = len(words[r])
        out["words"][r, :m], out["case"][r, :m], out["lex"][r, :m] = words[r], case[r], lex[r]
        out["mask"][r, :m] = True
        for i, ch in enumerate(chars[r]):
            out["chars"][r, i, :len(ch)] = ch
    return out


__all__ = ["CASES", "CASING", "PAD", "SENTENCES", "UNK", "WORD_NORMALIZATION", "casing", "encode_tokens",
           "pad_batch"]
