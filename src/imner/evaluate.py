"""Span-level evaluation of entity predictions against gold annotations.

Spans are compared within a document (documents are paired by ``id``). A span's *boundaries* are its
pieces: ``((start, end),)`` for a continuous mention, its ``fragments`` for a discontinuous one. Two spans
*overlap* when their pieces share at least one character.

Criteria (as in nervaluate, and scored as it scores them; all use **one-to-one** matching, so a gold span is
matched by at most one prediction and a prediction matches at most one gold span):

``strict``
    same boundaries and same label.
``exact``
    same boundaries; the label is ignored.
``partial``
    the spans overlap; the label is ignored. A match with the same boundaries is a full true positive, one that
    only overlaps a **partial** match worth half (nervaluate's ``partial``: ``(COR + 0.5 PAR) / ACT``).
``type``
    the spans overlap and have the same label (nervaluate's ``ent_type``).

A test checks these numbers against the ``nervaluate`` package wherever its greedy matching and this one agree.

Matching, per document and per criterion: every (gold, predicted) pair that satisfies the criterion is a
candidate; candidates are taken greedily in this order — same boundaries first, then same label, then
larger overlap (in characters), then earlier gold span, then earlier predicted span — skipping a pair
when either span is already matched. For ``strict`` and ``exact`` this is simply a one-to-one pairing of
identical boundaries (a duplicated prediction is one TP and one FP). For ``partial`` and ``type`` greedy
matching is deterministic and pairs each gold span with the prediction it overlaps most, but it is not a
maximum matching: in a chain of crossing overlaps (gold A, B; prediction P overlapping A most and B, Q
overlapping only A) a different pairing could match one pair more.

Counts: a matched pair is a true positive (TP) — or, under ``partial``, a partial match (PAR) when the
boundaries differ — an unmatched gold span a false negative (FN), an unmatched prediction a false positive (FP).
With ``credit = TP + PAR / 2``: ``precision = credit / (TP + PAR + FP)``, ``recall = credit / (TP + PAR + FN)``,
``F1 = 2PR / (P + R)``; every ratio with a zero denominator is 0.0 (so empty gold *and* empty predictions give
0, not 1). PAR is 0 under the other three criteria.

Errors: :attr:`Report.missed` and :attr:`Report.spurious` keep, per criterion, the unmatched gold spans and the
unmatched predictions themselves (document id, span, covered text), for error analysis;
:meth:`Report.errors` lists them as rows.

Per-label rows: TP and FN go to the label of the **gold** span, FP to the label of the **predicted** span
(the nervaluate convention). For ``strict`` and ``type`` a matched pair has one label, so these are the
usual per-label scores. For the label-blind ``exact`` and ``partial``, a prediction with the wrong label
but matching boundaries counts as a TP of the gold span's label and as nothing for its own label: the
per-label ``exact``/``partial`` rows answer "were the mentions of this label found, whatever label the
tagger gave them". With this convention, micro counts are always the sums of the per-label counts.

Averages: **micro** scores come from the summed counts; **macro** precision, recall and F1 are the
unweighted means of the per-label precision, recall and F1 (as in scikit-learn/seqeval) over the labels
that have at least one count (TP + FP + FN > 0) under that criterion. For ``strict`` and ``type`` these
are exactly the labels present in gold or predictions. A label asked for with ``labels=`` that occurs in
neither is still reported (all zeros) but left out of the macro mean.

Confidence intervals: ``ci95[criterion]`` is a 95% percentile-bootstrap interval of micro F1, resampling
documents with replacement (``bootstrap`` resamples, NumPy generator seeded with ``seed``; the same
resamples serve all four criteria). ``None`` when ``bootstrap=0`` or there are no documents.

Labels: ``label_map`` renames labels in gold and predictions before anything else (labels not in the map
keep their name), e.g. ``{"IMMUNE_DISEASE": "Disease", "INFECTIOUS_DISEASE": "Disease", "OTHER_DISEASE":
"Disease"}`` to score a 12-class tagger on NCBI-disease's single "Disease" class. ``labels`` (names after
mapping) then restricts evaluation to those labels: spans with any other label are removed from gold and
predictions before matching (this matters for the label-blind criteria).

Documents: every predicted document must have a gold document with the same id (otherwise
:class:`~imner.errors.InputError` listing the ids); a gold document without predictions counts as
predicting nothing and is listed in :attr:`Report.missing_pred`. When both texts are non-empty they must
be identical, since offsets would otherwise not be comparable.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from imner.errors import InputError
from imner.schema import LABEL_NAMES
from imner.types import Document, Span

CRITERIA: tuple[str, ...] = ("strict", "exact", "partial", "type")
_TP, _FP, _FN, _PAR = 0, 1, 2, 3


def _ratio(num: float, den: float) -> float:
    return float(num) / den if den else 0.0


def _f1(tp: float, fp: float, fn: float, par: float = 0) -> float:
    """F1 = 2PR / (P + R) with half credit for partial matches: 2 (TP + PAR/2) / (2 TP + 2 PAR + FP + FN)."""
    den = 2 * tp + 2 * par + fp + fn
    return (2.0 * tp + par) / den if den else 0.0


@dataclass(frozen=True, slots=True)
class Counts:
    """True positives, false positives, false negatives and (``partial`` only) half-credit partial matches,
    with the scores they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    partial: int = 0

    @property
    def support(self) -> int:
        """Number of gold spans (TP + PAR + FN)."""
        return self.tp + self.partial + self.fn

    @property
    def precision(self) -> float:
        return _ratio(self.tp + 0.5 * self.partial, self.tp + self.partial + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp + 0.5 * self.partial, self.tp + self.partial + self.fn)

    @property
    def f1(self) -> float:
        return _f1(self.tp, self.fp, self.fn, self.partial)

    def to_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "partial": self.partial, "precision": self.precision,
                "recall": self.recall, "f1": self.f1, "support": self.support}


@dataclass(frozen=True, slots=True)
class Average:
    """Macro average: unweighted means over ``n_labels`` labels; ``support`` is their total gold count."""

    precision: float
    recall: float
    f1: float
    support: int
    n_labels: int

    def to_dict(self) -> dict[str, Any]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "support": self.support,
                "n_labels": self.n_labels}


@dataclass(frozen=True, slots=True)
class SpanError:
    """A gold span left unmatched (missed) or a prediction that matched nothing (spurious)."""

    doc_id: str
    span: Span
    text: str

    def to_dict(self, kind: str) -> dict[str, Any]:
        return {"kind": kind, "doc_id": self.doc_id, "start": self.span.start, "end": self.span.end,
                "label": self.span.label, "text": self.text}


@dataclass(frozen=True)
class Report:
    """The result of :func:`evaluate`; mappings are keyed by criterion (see :data:`CRITERIA`)."""

    labels: tuple[str, ...]
    per_label: Mapping[str, Mapping[str, Counts]]
    micro: Mapping[str, Counts]
    macro: Mapping[str, Average]
    ci95: Mapping[str, tuple[float, float] | None]
    n_docs: int
    bootstrap: int = 0
    seed: int = 0
    missing_pred: tuple[str, ...] = ()
    label_map: Mapping[str, str] | None = field(default=None)
    #: per criterion, the gold spans no prediction matched
    missed: Mapping[str, tuple[SpanError, ...]] = field(default_factory=dict, repr=False)
    #: per criterion, the predictions that matched no gold span
    spurious: Mapping[str, tuple[SpanError, ...]] = field(default_factory=dict, repr=False)

    def errors(self, criterion: str = "strict") -> list[dict[str, Any]]:
        """The missed gold spans and the spurious predictions of one criterion, as rows
        (``kind``, ``doc_id``, ``start``, ``end``, ``label``, ``text``), missed first, in document order."""
        _check_criterion(criterion)
        return ([e.to_dict("missed") for e in self.missed.get(criterion, ())]
                + [e.to_dict("spurious") for e in self.spurious.get(criterion, ())])

    def f1(self, criterion: str = "strict", average: str = "micro") -> float:
        """Micro or macro F1 of one criterion."""
        _check_criterion(criterion)
        if average == "micro":
            return self.micro[criterion].f1
        if average == "macro":
            return self.macro[criterion].f1
        raise ValueError(f"average must be 'micro' or 'macro', got {average!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "criteria": list(CRITERIA),
            "labels": list(self.labels),
            "n_docs": self.n_docs,
            "missing_pred": list(self.missing_pred),
            "label_map": dict(self.label_map) if self.label_map else None,
            "bootstrap": {"resamples": self.bootstrap, "seed": self.seed, "unit": "document",
                          "statistic": "micro f1"},
            **{c: {"per_label": {lab: self.per_label[c][lab].to_dict() for lab in self.labels},
                   "micro": self.micro[c].to_dict(),
                   "macro": self.macro[c].to_dict(),
                   "ci95": list(self.ci95[c]) if self.ci95[c] is not None else None}
               for c in CRITERIA},
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def format_table(self) -> str:
        """A plain-text table (scores in %): strict P/R/F1/support, then exact, partial and type F1."""
        name_w = max([len(lab) for lab in self.labels] + [len("label")])
        head1 = f"{'':<{name_w}}  {'strict':^28}  {'exact':>7}  {'partial':>7}  {'type':>7}"
        head2 = (f"{'label':<{name_w}}  {'P':>6} {'R':>6} {'F1':>6} {'support':>7}  {'F1':>7}  {'F1':>7}  "
                 f"{'F1':>7}")
        lines = [head1, head2, "-" * len(head2)]

        def row(name: str, p: float, r: float, f: float, support: int, others: list[float]) -> str:
            rest = "  ".join(f"{100 * x:>7.1f}" for x in others)
            return (f"{name:<{name_w}}  {100 * p:>6.1f} {100 * r:>6.1f} {100 * f:>6.1f} {support:>7d}  {rest}")

        for lab in self.labels:
            s = self.per_label["strict"][lab]
            lines.append(row(lab, s.precision, s.recall, s.f1, s.support,
                             [self.per_label[c][lab].f1 for c in CRITERIA[1:]]))
        lines.append("-" * len(head2))
        m = self.micro["strict"]
        lines.append(row("micro", m.precision, m.recall, m.f1, m.support, [self.micro[c].f1 for c in CRITERIA[1:]]))
        a = self.macro["strict"]
        lines.append(row("macro", a.precision, a.recall, a.f1, a.support, [self.macro[c].f1 for c in CRITERIA[1:]]))
        if any(self.ci95[c] is not None for c in CRITERIA):
            cis = ", ".join(f"{c} [{100 * lo:.1f}, {100 * hi:.1f}]" for c in CRITERIA
                            if (ci := self.ci95[c]) is not None for lo, hi in [ci])
            lines.append(f"micro F1 95% CI ({self.bootstrap} bootstrap resamples of {self.n_docs} documents, "
                         f"seed {self.seed}): {cis}")
        lines.append(f"{self.n_docs} documents")
        if self.missing_pred:
            shown = ", ".join(self.missing_pred[:5]) + (" ..." if len(self.missing_pred) > 5 else "")
            lines.append(f"note: {len(self.missing_pred)} gold document(s) had no predictions (scored as "
                         f"predicting nothing): {shown}")
        return "\n".join(lines)


def _check_criterion(criterion: str) -> None:
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; allowed: {', '.join(CRITERIA)}")


# --- matching -----------------------------------------------------------------------------------------

def _pieces(s: Span) -> tuple[tuple[int, int], ...]:
    return s.fragments or ((s.start, s.end),)


def _overlap(a: Span, b: Span) -> int:
    if a.fragments is None and b.fragments is None:
        return max(0, min(a.end, b.end) - max(a.start, b.start))
    return sum(max(0, min(x1, y1) - max(x0, y0)) for x0, x1 in _pieces(a) for y0, y1 in _pieces(b))


def _candidates(gold: Sequence[Span], pred: Sequence[Span]) -> list[tuple[int, int, int, bool, bool]]:
    """All overlapping (gold index, pred index, overlap, same boundaries, same label) pairs."""
    if not gold or not pred:
        return []
    order = sorted(range(len(pred)), key=lambda j: pred[j].start)
    starts = [pred[j].start for j in order]
    maxlen = max(p.end - p.start for p in pred)
    out = []
    for i, g in enumerate(gold):
        # a prediction overlapping g starts before g.end and (being at most maxlen long) after g.start - maxlen
        for k in range(bisect_right(starts, g.start - maxlen), bisect_left(starts, g.end)):
            j = order[k]
            p = pred[j]
            ov = _overlap(g, p)
            if ov > 0:
                out.append((i, j, ov, _pieces(g) == _pieces(p), g.label == p.label))
    return out


_ACCEPT = {
    "strict": lambda same_b, same_l: same_b and same_l,
    "exact": lambda same_b, same_l: same_b,
    "partial": lambda same_b, same_l: True,
    "type": lambda same_b, same_l: same_l,
}


def _match(cands: list[tuple[int, int, int, bool, bool]], criterion: str) -> list[tuple[int, int]]:
    """Greedy one-to-one matching (see the module docstring for the order)."""
    accept = _ACCEPT[criterion]
    chosen = sorted((c for c in cands if accept(c[3], c[4])), key=lambda c: (not c[3], not c[4], -c[2], c[0], c[1]))
    used_g: set[int] = set()
    used_p: set[int] = set()
    pairs = []
    for i, j, *_ in chosen:
        if i not in used_g and j not in used_p:
            used_g.add(i)
            used_p.add(j)
            pairs.append((i, j))
    return pairs


def _sorted_spans(spans: Iterable[Span]) -> list[Span]:
    return sorted(spans, key=lambda s: (s.start, s.end, s.label))


def _score_doc(gold: Sequence[Span], pred: Sequence[Span],
               unmatched: dict[str, tuple[list[int], list[int]]] | None = None) -> dict[str, Counter]:
    """Per criterion, a Counter keyed by (label, kind) with kind in {_TP, _FP, _FN, _PAR}; the indices of the
    unmatched gold spans and predictions go to ``unmatched[criterion]`` when given."""
    cands = _candidates(gold, pred)
    out: dict[str, Counter] = {}
    for crit in CRITERIA:
        pairs = _match(cands, crit)
        counts: Counter = Counter()
        matched_g = {i: j for i, j in pairs}
        matched_p = {j for _, j in pairs}
        missed = []
        for i, g in enumerate(gold):
            if i not in matched_g:
                counts[(g.label, _FN)] += 1
                missed.append(i)
            elif crit == "partial" and _pieces(g) != _pieces(pred[matched_g[i]]):
                counts[(g.label, _PAR)] += 1
            else:
                counts[(g.label, _TP)] += 1
        spurious = [j for j in range(len(pred)) if j not in matched_p]
        for j in spurious:
            counts[(pred[j].label, _FP)] += 1
        out[crit] = counts
        if unmatched is not None:
            unmatched[crit] = (missed, spurious)
    return out


def span_f1(gold_spans: Iterable[Span], pred_spans: Iterable[Span], criterion: str = "strict") -> float:
    """Micro F1 of one bag of predicted spans against one bag of gold spans (one document's worth)."""
    _check_criterion(criterion)
    counts = _score_doc(_sorted_spans(gold_spans), _sorted_spans(pred_spans))[criterion]
    tp, fp, fn, par = (sum(v for (_, k), v in counts.items() if k == kind) for kind in (_TP, _FP, _FN, _PAR))
    return _f1(tp, fp, fn, par)


# --- evaluation ----------------------------------------------------------------------------------------

def _prepare(spans: Iterable[Span], label_map: Mapping[str, str] | None, keep: set[str] | None) -> list[Span]:
    out = []
    for s in spans:
        if label_map and s.label in label_map:
            s = s.evolve(label=label_map[s.label])
        if keep is None or s.label in keep:
            out.append(s)
    return _sorted_spans(out)


def _index(docs: Sequence[Document], what: str) -> dict[str, Document]:
    by_id: dict[str, Document] = {}
    dups = []
    for d in docs:
        if d.id in by_id:
            dups.append(d.id)
        by_id[d.id] = d
    if dups:
        raise InputError(f"{what} documents have duplicate ids: {', '.join(sorted(set(dups))[:10])}"
                         "; each document id must occur once")
    return by_id


def _label_order(found: Iterable[str]) -> tuple[str, ...]:
    found = set(found)
    schema = [lab for lab in LABEL_NAMES if lab in found]
    return tuple(schema + sorted(found - set(schema)))


def _bootstrap_ci(per_doc: np.ndarray, resamples: int, seed: int) -> dict[str, tuple[float, float] | None]:
    """Percentile-bootstrap 95% intervals of micro F1; ``per_doc`` is (docs, criteria, [tp, fp, fn, par])."""
    n = per_doc.shape[0]
    if resamples <= 0 or n == 0:
        return {c: None for c in CRITERIA}
    rng = np.random.default_rng(seed)
    flat = per_doc.reshape(n, -1).astype(np.float64)
    sums = np.empty((resamples, flat.shape[1]))
    batch = max(1, min(resamples, 2_000_000 // max(n, 1)))  # bound the (batch x docs) weight matrix
    for b0 in range(0, resamples, batch):
        b = min(batch, resamples - b0)
        idx = rng.integers(0, n, size=(b, n))
        weights = np.bincount((idx + (np.arange(b) * n)[:, None]).ravel(), minlength=b * n).reshape(b, n)
        sums[b0:b0 + b] = weights @ flat
    sums = sums.reshape(resamples, len(CRITERIA), 4)
    tp, fp, fn, par = sums[..., _TP], sums[..., _FP], sums[..., _FN], sums[..., _PAR]
    den = 2 * tp + 2 * par + fp + fn
    f1 = np.divide(2 * tp + par, den, out=np.zeros_like(den), where=den > 0)
    lo, hi = np.percentile(f1, [2.5, 97.5], axis=0)
    return {c: (float(lo[k]), float(hi[k])) for k, c in enumerate(CRITERIA)}


def evaluate(gold: Sequence[Document], pred: Sequence[Document], *, labels: Sequence[str] | None = None,
             label_map: Mapping[str, str] | None = None, bootstrap: int = 1000, seed: int = 0) -> Report:
    """Score ``pred`` against ``gold`` under the four criteria (see the module docstring)."""
    if bootstrap < 0:
        raise ValueError(f"bootstrap must be >= 0, got {bootstrap}")
    gold_by_id = _index(gold, "gold")
    pred_by_id = _index(pred, "predicted")
    extra = [i for i in pred_by_id if i not in gold_by_id]
    if extra:
        shown = ", ".join(map(repr, extra[:10])) + (f" and {len(extra) - 10} more" if len(extra) > 10 else "")
        raise InputError(f"{len(extra)} predicted document id(s) not in the gold documents: {shown}; "
                         "predictions must use the gold documents' ids")
    keep = set(labels) if labels is not None else None
    totals = {c: Counter() for c in CRITERIA}
    per_doc = np.zeros((len(gold_by_id), len(CRITERIA), 4), dtype=np.int64)
    missing = []
    missed: dict[str, list[SpanError]] = {c: [] for c in CRITERIA}
    spurious: dict[str, list[SpanError]] = {c: [] for c in CRITERIA}
    for n, (doc_id, g) in enumerate(gold_by_id.items()):
        p = pred_by_id.get(doc_id)
        if p is None:
            missing.append(doc_id)
        elif p.text and g.text and p.text != g.text:
            k = next((k for k, (a, b) in enumerate(zip(g.text, p.text)) if a != b), min(len(g.text), len(p.text)))
            raise InputError(f"the predicted document's text differs from the gold text at character {k} "
                             f"(gold {g.text[k:k + 20]!r}, predicted {p.text[k:k + 20]!r}); offsets are only "
                             "comparable over the same text", source=doc_id, offset=k)
        gs = _prepare(g.spans, label_map, keep)
        ps = _prepare(p.spans if p is not None else (), label_map, keep)
        unmatched: dict[str, tuple[list[int], list[int]]] = {}
        doc_counts = _score_doc(gs, ps, unmatched)
        text = g.text or (p.text if p is not None else "")
        for crit, (mi, sj) in unmatched.items():
            missed[crit].extend(SpanError(doc_id, gs[i], gs[i].text_in(text) if text else "") for i in mi)
            spurious[crit].extend(SpanError(doc_id, ps[j], ps[j].text_in(text) if text else "") for j in sj)
        for c_idx, crit in enumerate(CRITERIA):
            totals[crit].update(doc_counts[crit])
            for (_, kind), v in doc_counts[crit].items():
                per_doc[n, c_idx, kind] += v
    found = {lab for crit in CRITERIA for (lab, _) in totals[crit]}
    order = tuple(labels) if labels is not None else _label_order(found)
    per_label = {c: {lab: Counts(totals[c][(lab, _TP)], totals[c][(lab, _FP)], totals[c][(lab, _FN)],
                                 totals[c][(lab, _PAR)])
                     for lab in order} for c in CRITERIA}
    micro = {c: Counts(*(int(per_doc[:, k, i].sum()) for i in (_TP, _FP, _FN, _PAR)))
             for k, c in enumerate(CRITERIA)}
    macro = {}
    for c in CRITERIA:
        rows = [r for r in per_label[c].values() if r.tp + r.partial + r.fp + r.fn > 0]
        macro[c] = Average(float(np.mean([r.precision for r in rows])) if rows else 0.0,
                           float(np.mean([r.recall for r in rows])) if rows else 0.0,
                           float(np.mean([r.f1 for r in rows])) if rows else 0.0,
                           sum(r.support for r in per_label[c].values()), len(rows))
    return Report(labels=order, per_label=per_label, micro=micro, macro=macro,
                  ci95=_bootstrap_ci(per_doc, bootstrap, seed), n_docs=len(gold_by_id), bootstrap=bootstrap,
                  seed=seed, missing_pred=tuple(missing), label_map=dict(label_map) if label_map else None,
                  missed={c: tuple(v) for c, v in missed.items()}, spurious={c: tuple(v) for c, v in spurious.items()})
