"""Linear-chain CRF inference in NumPy: Viterbi, the log partition function and marginals (no torch).

The same model and conventions as :mod:`imner.taggers.bilstm.torch_crf`: the score of a tag sequence ``y`` is
``start[y_0] + sum_i E[i, y_i] + sum_i trans[y_{i-1}, y_i] + end[y_last]``; ``transitions`` ``(T, T)``
[from, to] and ``start`` ``(T,)`` are the *effective* scores, i.e. the learnt ones with the BIO penalties
(:func:`imner.taggers.bilstm.torch_crf.bio_penalties`) already added, as :meth:`CRF._scores` adds them.
``emissions`` is ``(B, L, T)`` and ``mask`` ``(B, L)`` booleans, True on each row's real positions (a
non-empty prefix).

:func:`viterbi` does the same float32 operations in the same order as ``torch_crf.CRF.decode`` (on
float32 inputs), so on equal emissions it returns the same paths, ties included (first index wins).
"""

from __future__ import annotations

import numpy as np


def viterbi(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray,
            mask: np.ndarray) -> list[list[int]]:
    """The best tag index sequence of each row (its length: the row's number of real positions)."""
    emissions = np.asarray(emissions)
    mask = np.asarray(mask, bool)
    if emissions.ndim != 3 or mask.shape != emissions.shape[:2]:
        raise ValueError(f"viterbi: emissions must be (B, L, T) and mask (B, L); got {emissions.shape} and "
                         f"{mask.shape}")
    if emissions.shape[0] == 0:
        return []
    score = start + emissions[:, 0]
    history = []
    for i in range(1, emissions.shape[1]):
        cand = score[:, :, None] + transitions[None]  # (B, from, to)
        idx = cand.argmax(axis=1)
        best = np.take_along_axis(cand, idx[:, None, :], axis=1)[:, 0]
        history.append(idx)
        score = np.where(mask[:, i, None], best + emissions[:, i], score)
    score = score + end
    lengths = mask.sum(1)
    last = score.argmax(1)
    out = []
    for b, n in enumerate(lengths.tolist()):
        path = [int(last[b])]
        for i in range(n - 1, 0, -1):
            path.append(int(history[i - 1][b, path[-1]]))
        out.append(path[::-1])
    return out


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def _alpha_beta(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray,
                mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward log scores ``(B, L, T)`` (past a row's end: its last value carried on)."""
    b, n, t = emissions.shape
    alpha = np.empty((b, n, t), emissions.dtype)
    beta = np.empty((b, n, t), emissions.dtype)
    alpha[:, 0] = start + emissions[:, 0]
    for i in range(1, n):
        nxt = _logsumexp(alpha[:, i - 1, :, None] + transitions[None] + emissions[:, i, None, :], axis=1)
        alpha[:, i] = np.where(mask[:, i, None], nxt, alpha[:, i - 1])
    beta[:, n - 1] = end
    for i in range(n - 2, -1, -1):
        nxt = _logsumexp(transitions[None] + (emissions[:, i + 1] + beta[:, i + 1])[:, None, :], axis=2)
        beta[:, i] = np.where(mask[:, i + 1, None], nxt, beta[:, i + 1])
    return alpha, beta


def log_partition(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray,
                  mask: np.ndarray) -> np.ndarray:
    """``log`` of the summed exp-scores of all paths of each row, ``(B,)``."""
    alpha, _ = _alpha_beta(np.asarray(emissions, np.float64), transitions, start, end, np.asarray(mask, bool))
    return _logsumexp(alpha[:, -1] + end, axis=1)


def marginals(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray,
              mask: np.ndarray) -> np.ndarray:
    """``P(y_i = t)`` for every position and tag, ``(B, L, T)`` float64 (zeros at padding), by the
    forward-backward algorithm in float64 (``torch_crf.CRF.marginals`` gets them as a gradient in float32,
    so on equal emissions the two agree to about 1e-6)."""
    emissions = np.asarray(emissions, np.float64)
    mask = np.asarray(mask, bool)
    if emissions.shape[0] == 0:
        return np.zeros(emissions.shape)
    transitions, start, end = (np.asarray(a, np.float64) for a in (transitions, start, end))
    alpha, beta = _alpha_beta(emissions, transitions, start, end, mask)
    logz = _logsumexp(alpha[:, -1] + end, axis=1)
    return np.exp(alpha + beta - logz[:, None, None]) * mask[:, :, None]


__all__ = ["log_partition", "marginals", "viterbi"]
