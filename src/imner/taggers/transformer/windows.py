"""Subword encoding, overlapping windows and constrained BIO decoding shared by the transformer taggers.

numpy and :mod:`tokenizers` only (no torch): :mod:`imner.taggers.transformer.tagger` (training, torch) and
:mod:`imner.taggers.transformer.onnx` (inference, onnxruntime) both go through these functions, so a model
predicts the same spans whichever runtime executes it.

Unit of tagging: the **whole document**. Words are :func:`imner.text.tokenize` tokens of the full
text; their subwords are cut into overlapping windows of at most ``window`` positions (special
tokens included), consecutive windows sharing ``stride`` subwords. Context therefore crosses sentence
boundaries (a case report names a disease in one sentence and qualifies it in the next, and the
sentence splitter is rule-based and imperfect), windows are full so batches carry little padding,
and nothing is ever truncated: every word is predicted from the window in which its first subword is
most central (farthest from either window edge). Word-level log-probabilities from those windows are
decoded over the whole document with a Viterbi search that forbids ``I-X`` unless it follows ``B-X``
or ``I-X`` (constrained BIO decoding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from imner.configkit import check_int
from imner.errors import ConfigError
from imner.tags import OUTSIDE, label_set, tags_to_spans
from imner.text import Token, tokenize
from imner.types import Span

#: defaults for the window plan (subword positions, special tokens included / shared between windows)
DEFAULT_WINDOW = 256
DEFAULT_STRIDE = 64


def check_window(window: Any, stride: Any, n_special: int = 2) -> tuple[int, int]:
    """Validate a window plan and return it as ints; a :class:`ConfigError` says what is allowed."""
    for key, value in (("window", window), ("stride", stride)):
        check_int(value, key, low=None)
    if window - n_special < 2:
        raise ConfigError(f"window must be at least {n_special + 2} subwords (it includes {n_special} special "
                          f"tokens), got {window}")
    if not 0 <= stride < window - n_special:
        raise ConfigError(f"stride (subwords shared by consecutive windows) must be from 0 to "
                          f"{window - n_special - 1} for window={window}, got {stride}")
    return int(window), int(stride)


# ---------------------------------------------------------------------------------------------- encoding

@dataclass(frozen=True, slots=True)
class SpecialTokens:
    """Token ids the model expects around a window, the unknown token and the padding token."""

    prefix: tuple[int, ...]
    suffix: tuple[int, ...]
    unk_id: int
    pad_id: int

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, pad_id: int | None = None) -> "SpecialTokens":
        """Read them off a :class:`tokenizers.Tokenizer` by encoding a one-word input with special tokens."""
        enc = tokenizer.encode(["a"], is_pretokenized=True, add_special_tokens=True)
        ids, wids = enc.ids, enc.word_ids
        first = next(i for i, w in enumerate(wids) if w is not None)
        last = max(i for i, w in enumerate(wids) if w is not None)
        unk = None
        model = getattr(tokenizer, "model", None)
        unk_token = getattr(model, "unk_token", None)
        if unk_token is not None:
            unk = tokenizer.token_to_id(unk_token)
        if unk is None:
            unk = tokenizer.token_to_id("[UNK]")
        if unk is None:
            unk = tokenizer.token_to_id("<unk>")
        if unk is None:
            raise ConfigError("the tokenizer has no unknown token ([UNK] or <unk>)")
        if pad_id is None:
            candidates = [tokenizer.padding["pad_id"] if tokenizer.padding else None,
                          tokenizer.token_to_id("[PAD]"), tokenizer.token_to_id("<pad>"), 0]
            pad_id = next(c for c in candidates if c is not None)
        return cls(tuple(ids[:first]), tuple(ids[last + 1:]), int(unk), int(pad_id))

    def to_dict(self) -> dict[str, Any]:
        return {"prefix": list(self.prefix), "suffix": list(self.suffix), "unk_id": self.unk_id,
                "pad_id": self.pad_id}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SpecialTokens":
        return cls(tuple(d["prefix"]), tuple(d["suffix"]), int(d["unk_id"]), int(d["pad_id"]))

    @property
    def count(self) -> int:
        return len(self.prefix) + len(self.suffix)


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Switch off the tokenizer's own truncation and padding (windows do both): returns it."""
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


@dataclass(slots=True)
class Encoded:
    """A document's words and subwords: ``ids[k]`` is the k-th subword, ``first[i]`` the index of the
    first subword of word ``i`` (every word has at least one: a word the tokenizer drops entirely,
    e.g. a lone control character, is given the unknown token)."""

    tokens: list[Token]
    ids: np.ndarray    # (n_subwords,) int64
    first: np.ndarray  # (n_words,) int64


def encode_documents(tokenizer: Any, texts: Sequence[str], specials: SpecialTokens) -> list[Encoded]:
    """Word-tokenize each text with :func:`imner.text.tokenize` and map the words to subwords."""
    words = [tokenize(t) for t in texts]
    batch = tokenizer.encode_batch([[w.text for w in ws] for ws in words if ws], is_pretokenized=True,
                                   add_special_tokens=False)
    out: list[Encoded] = []
    it = iter(batch)
    for ws in words:
        if not ws:
            out.append(Encoded(ws, np.zeros(0, np.int64), np.zeros(0, np.int64)))
            continue
        enc = next(it)
        out.append(_align(ws, enc.ids, enc.word_ids, specials.unk_id))
    return out


def _align(words: list[Token], ids: Sequence[int], word_ids: Sequence[int | None], unk_id: int) -> Encoded:
    n = len(words)
    wid = np.fromiter((-1 if w is None else w for w in word_ids), np.int64, len(word_ids))
    arr = np.asarray(ids, np.int64)
    keep = wid >= 0
    arr, wid = arr[keep], wid[keep]
    present = np.zeros(n, bool)
    present[wid] = True
    if not present.all():  # words with no subword at all get the unknown token
        missing = np.flatnonzero(~present)
        arr = np.concatenate([arr, np.full(len(missing), unk_id, np.int64)])
        wid = np.concatenate([wid, missing])
        order = np.argsort(wid, kind="stable")
        arr, wid = arr[order], wid[order]
    first = np.searchsorted(wid, np.arange(n), side="left").astype(np.int64)
    return Encoded(words, arr, first)


# ---------------------------------------------------------------------------------------------- windows

def plan_windows(n_subwords: int, window: int, stride: int, n_special: int) -> list[tuple[int, int]]:
    """Half-open subword ranges covering ``[0, n_subwords)``: each at most ``window - n_special`` long,
    consecutive ones overlapping by exactly ``stride``; the last one ends at ``n_subwords`` and may be
    shorter (a shorter window costs less than one shifted back over already covered subwords)."""
    size = window - n_special
    if n_subwords <= size:
        return [(0, n_subwords)] if n_subwords else []
    step = size - stride
    plan = []
    start = 0
    while start + size < n_subwords:
        plan.append((start, start + size))
        start += step
    plan.append((start, n_subwords))
    return plan


def assign_words(first: np.ndarray, windows: Sequence[tuple[int, int]]) -> np.ndarray:
    """For each word (by its first subword), the index of the window where it is most central."""
    if len(first) == 0:
        return np.zeros(0, np.int64)
    starts = np.array([s for s, _ in windows], np.int64)
    ends = np.array([e for _, e in windows], np.int64)
    pos = first[:, None]
    inside = (pos >= starts[None, :]) & (pos < ends[None, :])
    margin = np.minimum(pos - starts[None, :], ends[None, :] - 1 - pos)
    margin = np.where(inside, margin, -1)
    best = margin.argmax(axis=1)
    if not inside[np.arange(len(first)), best].all():  # pragma: no cover - plan_windows covers everything
        raise AssertionError("a word falls outside every window")
    return best.astype(np.int64)


@dataclass(slots=True)
class WindowItem:
    """One model input: a window of document ``doc`` with its ids (special tokens included) and, for
    each word whose first subword lies in it, the word index and its position in ``ids``."""

    doc: int
    ids: np.ndarray        # (length,) int64
    words: np.ndarray      # (k,) word indices
    positions: np.ndarray  # (k,) positions in ids
    owned: np.ndarray      # (k,) bool: the word is predicted from this window


def make_windows(encoded: Sequence[Encoded], window: int, stride: int,
                 specials: SpecialTokens) -> list[WindowItem]:
    """All windows of all documents, in document order."""
    items: list[WindowItem] = []
    pre = np.asarray(specials.prefix, np.int64)
    suf = np.asarray(specials.suffix, np.int64)
    for d, enc in enumerate(encoded):
        plan = plan_windows(len(enc.ids), window, stride, specials.count)
        owner = assign_words(enc.first, plan)
        for w, (s, e) in enumerate(plan):
            lo, hi = np.searchsorted(enc.first, [s, e], side="left")
            words = np.arange(lo, hi, dtype=np.int64)
            items.append(WindowItem(d, np.concatenate([pre, enc.ids[s:e], suf]), words,
                                    enc.first[lo:hi] - s + len(pre), owner[lo:hi] == w))
    return items


def batches(items: Sequence[WindowItem], batch_size: int, pad_id: int,
            sort: bool = True) -> Iterable[tuple[list[int], np.ndarray, np.ndarray]]:
    """``(item indices, input_ids, attention_mask)`` batches, windows sorted by length (longest first)
    when ``sort`` so each batch pads little."""
    order = sorted(range(len(items)), key=lambda i: -len(items[i].ids)) if sort else list(range(len(items)))
    for b in range(0, len(order), batch_size):
        idx = order[b:b + batch_size]
        width = max(len(items[i].ids) for i in idx)
        ids = np.full((len(idx), width), pad_id, np.int64)
        mask = np.zeros((len(idx), width), np.int64)
        for r, i in enumerate(idx):
            n = len(items[i].ids)
            ids[r, :n] = items[i].ids
            mask[r, :n] = 1
        yield idx, ids, mask


def gather_word_scores(encoded: Sequence[Encoded], items: Sequence[WindowItem],
                       window_logprobs: dict[int, np.ndarray], n_tags: int) -> list[np.ndarray]:
    """Per document, a ``(n_words, n_tags)`` array of log-probabilities taken from each word's own window.

    ``window_logprobs[i]`` holds item ``i``'s ``(length, n_tags)`` log-probabilities."""
    out = [np.zeros((len(e.first), n_tags), np.float32) for e in encoded]
    for i, item in enumerate(items):
        lp = window_logprobs[i]
        sel = item.owned
        out[item.doc][item.words[sel]] = lp[item.positions[sel]]
    return out


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    z = x - m
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# ---------------------------------------------------------------------------------------------- decoding

def allowed_transitions(tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(start_ok[T], trans_ok[T, T])`` for BIO: ``I-X`` may only follow ``B-X`` or ``I-X``, and never start."""
    n = len(tags)
    start = np.ones(n, bool)
    trans = np.ones((n, n), bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            label = tag[2:]
            start[j] = False
            for i, prev in enumerate(tags):
                trans[i, j] = prev in (f"B-{label}", f"I-{label}")
    return start, trans


def viterbi(logprobs: np.ndarray, start_ok: np.ndarray, trans_ok: np.ndarray) -> np.ndarray:
    """The best tag sequence (indices) under the constraints; ``logprobs`` is ``(n, T)``."""
    n, t = logprobs.shape
    if n == 0:
        return np.zeros(0, np.int64)
    neg = np.float64(-1e30)
    trans = np.where(trans_ok, 0.0, neg)
    score = np.where(start_ok, logprobs[0].astype(np.float64), neg)
    back = np.zeros((n, t), np.int64)
    lp = logprobs.astype(np.float64)
    for k in range(1, n):
        cand = score[:, None] + trans  # (prev, cur)
        back[k] = cand.argmax(axis=0)
        score = cand[back[k], np.arange(t)] + lp[k]
    path = np.zeros(n, np.int64)
    path[-1] = int(score.argmax())
    for k in range(n - 1, 0, -1):
        path[k - 1] = back[k, path[k]]
    return path


class Decoder:
    """Constrained BIO decoding of word log-probabilities into spans with scores."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = tuple(labels)
        self.tags = label_set(self.labels, "BIO")
        self.start_ok, self.trans_ok = allowed_transitions(self.tags)

    def decode(self, tokens: Sequence[Token], logprobs: np.ndarray) -> list[Span]:
        """Spans for one document; a span's score is the mean probability of its tokens' chosen tags."""
        if len(tokens) == 0:
            return []
        path = viterbi(logprobs, self.start_ok, self.trans_ok)
        probs = np.exp(logprobs[np.arange(len(path)), path])
        tags = [self.tags[i] for i in path]
        return tags_to_spans(tokens, tags, probs.tolist())



# ---------------------------------------------------------------------------------------------- prediction

def predict_spans(texts: Sequence[str], tokenizer: Any, specials: SpecialTokens, window: int, stride: int,
                  decoder: Decoder, run_batch: Any, batch_size: int, doc_chunk: int = 256) -> list[list[Span]]:
    """Spans for each text. ``run_batch(input_ids, attention_mask) -> logits`` (``(B, L, T)`` array) is the
    only runtime-specific part; documents are processed ``doc_chunk`` at a time, their windows sorted by
    length and run ``batch_size`` at a time."""
    n_tags = len(decoder.tags)
    out: list[list[Span]] = []
    for c in range(0, len(texts), doc_chunk):
        encoded = encode_documents(tokenizer, texts[c:c + doc_chunk], specials)
        items = make_windows(encoded, window, stride, specials)
        lps: dict[int, np.ndarray] = {}
        for idx, ids, mask in batches(items, batch_size, specials.pad_id):
            logits = np.asarray(run_batch(ids, mask), dtype=np.float32)
            if logits.shape[-1] != n_tags:
                raise ConfigError(f"the model outputs {logits.shape[-1]} tags per position but its labels give "
                                  f"{n_tags} ({', '.join(decoder.tags)})")
            lp = log_softmax(logits)
            for r, i in enumerate(idx):
                lps[i] = lp[r, :len(items[i].ids)]
        scores = gather_word_scores(encoded, items, lps, n_tags)
        out.extend(decoder.decode(e.tokens, s) for e, s in zip(encoded, scores))
    return out


__all__ = [
    "DEFAULT_WINDOW", "DEFAULT_STRIDE", "OUTSIDE", "SpecialTokens", "Encoded", "WindowItem", "Decoder",
    "check_window", "prepare_tokenizer", "encode_documents", "plan_windows", "assign_words", "make_windows",
    "batches", "gather_word_scores", "log_softmax", "allowed_transitions", "viterbi", "predict_spans",
]
