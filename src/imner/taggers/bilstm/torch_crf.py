"""A compact linear-chain CRF layer in PyTorch with BIO constraints and partial-label likelihood.

Scores of a tag sequence ``y`` for emissions ``E`` (``(batch, length, tags)``)::

    score(y) = start[y_0] + sum_i E[i, y_i] + sum_i trans[y_{i-1}, y_i] + end[y_last]

**BIO constraints.** With ``tags`` given in BIO form, transitions ``O -> I-X``, ``B-X/I-X -> I-Y`` (``Y != X``)
and starting with ``I-X`` get a fixed penalty of :data:`FORBIDDEN` (-10,000) on top of the learnt
scores, so Viterbi never outputs an ill-formed sequence and the partition function puts no mass on one.
A finite penalty (not ``-inf``) keeps every quantity finite, so gradients never become NaN.

**Partial labels.** :meth:`CRF.nll` takes ``allowed`` (``(batch, length, tags)`` booleans): the tags each
position may take. The loss is ``log Z - log Z_allowed``, where ``Z_allowed`` sums over the paths that stay
inside the allowed lattice (the "partial"/"fuzzy" CRF of Tsuboi et al. 2008 and Shang et al. 2018). With
one allowed tag per position it is the usual CRF negative log-likelihood.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

#: additive score of a forbidden transition or tag
FORBIDDEN = -1e4


def bio_penalties(tags: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(transition penalty (T, T) [from, to], start penalty (T,))`` for BIO ``tags``: 0 where allowed,
    :data:`FORBIDDEN` where the transition / first tag would make an ill-formed BIO sequence."""
    n = len(tags)
    trans = torch.zeros(n, n)
    start = torch.zeros(n)
    for j, to in enumerate(tags):
        if not to.startswith("I-"):
            continue
        label = to[2:]
        start[j] = FORBIDDEN
        for i, frm in enumerate(tags):
            if frm == "O" or frm[2:] != label:
                trans[i, j] = FORBIDDEN
    return trans, start


class CRF(nn.Module):
    """Linear-chain CRF over ``len(tags)`` tags (``constrain=True``: BIO constraints, see the module doc).

    Every method takes ``emissions`` ``(B, L, T)`` and ``mask`` ``(B, L)`` (bool, True on real positions,
    which must be a prefix of each row with at least one position)."""

    def __init__(self, tags: Sequence[str], constrain: bool = True) -> None:
        super().__init__()
        self.tags = list(tags)
        n = len(self.tags)
        self.transitions = nn.Parameter(torch.zeros(n, n))
        self.start = nn.Parameter(torch.zeros(n))
        self.end = nn.Parameter(torch.zeros(n))
        if constrain:
            trans_pen, start_pen = bio_penalties(self.tags)
        else:
            trans_pen, start_pen = torch.zeros(n, n), torch.zeros(n)
        self.register_buffer("trans_penalty", trans_pen, persistent=False)
        self.register_buffer("start_penalty", start_pen, persistent=False)

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.transitions + self.trans_penalty, self.start + self.start_penalty

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor,
                      allowed: torch.Tensor | None = None) -> torch.Tensor:
        """``log`` of the summed exp-scores of all paths (within ``allowed`` when given), shape ``(B,)``."""
        if allowed is not None:
            emissions = emissions + (~allowed).to(emissions.dtype) * FORBIDDEN
        trans, start = self._scores()
        alpha = start + emissions[:, 0]
        for i in range(1, emissions.shape[1]):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans.unsqueeze(0) + emissions[:, i].unsqueeze(1), dim=1)
            alpha = torch.where(mask[:, i].unsqueeze(1), nxt, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def nll(self, emissions: torch.Tensor, mask: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the allowed lattice per sequence, ``(B,)`` (>= 0)."""
        return self.log_partition(emissions, mask) - self.log_partition(emissions, mask, allowed)

    def path_score(self, emissions: torch.Tensor, mask: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
        """Score of the tag sequences ``tags`` ``(B, L)`` (long), ``(B,)``."""
        trans, start = self._scores()
        maskf = mask.to(emissions.dtype)
        em = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)
        score = start[tags[:, 0]] + (em * maskf).sum(1)
        score = score + (trans[tags[:, :-1], tags[:, 1:]] * maskf[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)
        return score + self.end[last]

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """Viterbi: the best tag index sequence of each row (length = its number of real positions)."""
        trans, start = self._scores()
        score = start + emissions[:, 0]
        history = []
        for i in range(1, emissions.shape[1]):
            best, idx = (score.unsqueeze(2) + trans.unsqueeze(0)).max(dim=1)
            history.append(idx)
            score = torch.where(mask[:, i].unsqueeze(1), best + emissions[:, i], score)
        score = score + self.end
        lengths = mask.sum(1).tolist()
        last = score.argmax(1).tolist()
        hist = [h.tolist() for h in history]
        out = []
        for b, n in enumerate(lengths):
            path = [last[b]]
            for i in range(n - 1, 0, -1):
                path.append(hist[i - 1][b][path[-1]])
            out.append(path[::-1])
        return out

    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``P(y_i = t)`` for every position and tag, ``(B, L, T)`` (zeros at padding): the gradient of
        the log partition function with respect to the emissions."""
        with torch.enable_grad():
            em = emissions.detach().clone().requires_grad_(True)
            logz = self.log_partition(em, mask)
            (grad,) = torch.autograd.grad(logz.sum(), em)
        return grad * mask.unsqueeze(2).to(grad.dtype)


__all__ = ["CRF", "FORBIDDEN", "bio_penalties"]
