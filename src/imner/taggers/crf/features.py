"""Token features for the CRF tagger: pure functions from tokens to CRFsuite attribute strings.

Each token gets its own orthographic features (lower-cased word, prefixes and suffixes of 2-4
characters, word shape and short shape, upper/title/digit/hyphen flags, a length bucket), the lower-cased
word and short shape of its neighbours within ``window`` tokens, and optionally the tag a lexicon tagger
gave it (``lex=B-IMMUNE_DISEASE``, and the label-free ``lexb=B``) for itself and its direct neighbours.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from imner.text import Token


@lru_cache(maxsize=200_000)
def word_shape(word: str) -> str:
    """``Xx`` shape with runs longer than 4 cut to 4: ``IL-6`` -> ``XX-d``, ``methotrexate`` -> ``xxxx``."""
    out: list[str] = []
    prev, run = "", 0
    for ch in word:
        if ch.isdigit():
            c = "d"
        elif ch.isalpha():
            c = "X" if ch.isupper() else "x"
        else:
            c = ch
        run = run + 1 if c == prev else 1
        prev = c
        if run <= 4:
            out.append(c)
    return "".join(out)


@lru_cache(maxsize=200_000)
def short_shape(word: str) -> str:
    """Shape with every run collapsed to one character: ``IL-6`` -> ``X-d``, ``Crohn's`` -> ``Xx'x``."""
    shape = word_shape(word)
    return "".join(c for i, c in enumerate(shape) if i == 0 or c != shape[i - 1])


def length_bucket(n: int) -> str:
    if n <= 2:
        return str(n)
    if n <= 4:
        return "3-4"
    if n <= 7:
        return "5-7"
    if n <= 11:
        return "8-11"
    return "12+"


@lru_cache(maxsize=200_000)
def _own_features(word: str) -> tuple[str, ...]:
    low = word.lower()
    feats = [
        "bias",
        f"w={low}",
        f"shape={word_shape(word)}",
        f"sshape={short_shape(word)}",
        f"len={length_bucket(len(word))}",
    ]
    for k in (2, 3, 4):
        if len(low) > k:
            feats.append(f"p{k}={low[:k]}")
            feats.append(f"s{k}={low[-k:]}")
    if word.isupper():
        feats.append("upper")
    if word.istitle():
        feats.append("title")
    if word.isdigit():
        feats.append("digit")
    elif any(c.isdigit() for c in word):
        feats.append("has_digit")
    if "-" in word:
        feats.append("hyphen")
    if not any(c.isalnum() for c in word):
        feats.append("punct")
    return tuple(feats)


def sentence_features(tokens: Sequence[Token], window: int = 2,
                      lexicon_tags: Sequence[str] | None = None) -> list[list[str]]:
    """CRFsuite attributes for each token of one sentence.

    ``lexicon_tags`` (one BIO tag per token, ``O`` outside lexicon matches) adds lexicon features.
    """
    words = [t.text for t in tokens]
    lows = [w.lower() for w in words]
    shapes = [short_shape(w) for w in words]
    n = len(tokens)
    out: list[list[str]] = []
    for i, word in enumerate(words):
        feats = list(_own_features(word))
        if i == 0:
            feats.append("BOS")
        if i == n - 1:
            feats.append("EOS")
        for d in range(1, window + 1):
            for j, side in ((i - d, "-"), (i + d, "+")):
                if 0 <= j < n:
                    feats.append(f"{side}{d}:w={lows[j]}")
                    feats.append(f"{side}{d}:sshape={shapes[j]}")
                else:
                    feats.append(f"{side}{d}:pad")
        if i > 0:
            feats.append(f"-1:w|w={lows[i - 1]}|{lows[i]}")
        if lexicon_tags is not None:
            for d in (-1, 0, 1):
                j = i + d
                tag = lexicon_tags[j] if 0 <= j < n else "PAD"
                prefix = "" if d == 0 else f"{d:+d}:"
                feats.append(f"{prefix}lex={tag}")
                feats.append(f"{prefix}lexb={tag[0] if tag != 'PAD' else 'PAD'}")
        out.append(feats)
    return out
