"""Helpers shared by the torch taggers (``bilstm.v1`` and ``transformer.v1``).

Partial labels, silver spans and dev scoring (see the two taggers' module docs), the training-tag lattice
both build from gold spans, config checks, and a small base class with what both taggers do alike
(BIO tags, label discovery, thread setting, the saved history file). Nothing here touches what a saved
model holds: file names and layouts stay in the tagger modules.
"""

from __future__ import annotations

import importlib
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Sequence

import numpy as np

from imner import configkit
from imner.errors import ConfigError, InputError
from imner.tags import OUTSIDE, label_set, spans_to_tags
from imner.taggers.base import Tagger
from imner.types import Document, Span


def require_torch(message: str, *extra_modules: str) -> Any:
    """``torch`` (after importing ``extra_modules`` too); :class:`ConfigError` with ``message`` when missing."""
    try:
        import torch

        for name in extra_modules:
            importlib.import_module(name)
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ConfigError(message) from e
    return torch


# ---------------------------------------------------------------------------------------------- targets

def is_silver(span: Span) -> bool:
    """A span flagged ``silver_flag``: its class is unknown, so it teaches nothing and is not scored."""
    return "silver_flag" in span.attrs


def annotated_labels(doc: Document, labels: Sequence[str]) -> set[str]:
    """The classes ``doc`` annotates: ``meta["annotates"]`` or, when absent, all ``labels``."""
    annotates = doc.meta.get("annotates")
    if annotates is None:
        return set(labels)
    if isinstance(annotates, str) or not isinstance(annotates, Iterable):
        raise InputError(f"meta 'annotates' must be a list of labels, got {annotates!r}", source=doc.id)
    return {str(a) for a in annotates}


def allowed_tag_matrix(doc: Document, tokens: Sequence[Any], tags: Sequence[str], stats: Counter, *,
                       silver_allows_all: bool, unit: str) -> np.ndarray:
    """``(n_tokens, n_tags)`` booleans: the tags each token may take in training.

    A token inside a gold span allows exactly its BIO tag; an ``O`` token allows ``O`` and, in a document
    whose ``meta["annotates"]`` leaves classes out, ``B``/``I`` of each class left out. Tokens under a
    ``silver_flag`` span allow every tag when ``silver_allows_all`` (a CRF needs at least one tag per
    position for a path to exist) and no tag otherwise (a per-token loss leaves the position out).
    ``unit`` ("tokens" or "words") names the counters ``spans_widened_to_<unit>`` and ``silver_<unit>``
    in ``stats``; ``spans``, ``spans_not_encoded_overlap``, ``partial_docs`` and ``silver_spans`` are
    counted too."""
    index = {t: i for i, t in enumerate(tags)}
    labels = [t[2:] for t in tags if t.startswith("B-")]
    gold = [s for s in doc.spans if not is_silver(s)]
    for s in gold:
        if f"B-{s.label}" not in index:
            raise InputError(f"span [{s.start}, {s.end}) has label {s.label!r}, which the model does not learn; "
                             f"labels: {', '.join(labels)}", source=doc.id)
    word_tags, misaligned = spans_to_tags(tokens, gold, "BIO", align="expand")
    starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
    for s in misaligned:
        if s.start in starts and s.end in ends:
            stats["spans_not_encoded_overlap"] += 1
        else:
            stats[f"spans_widened_to_{unit}"] += 1
    stats["spans"] += len(gold)
    missing = [lab for lab in labels if lab not in annotated_labels(doc, labels)]
    o_set = [index[OUTSIDE]] + [index[f"{p}-{lab}"] for lab in missing for p in "BI"]
    if missing:
        stats["partial_docs"] += 1
    allowed = np.zeros((len(tokens), len(tags)), bool)
    for i, tag in enumerate(word_tags):
        if tag == OUTSIDE:
            allowed[i, o_set] = True
        else:
            allowed[i, index[tag]] = True
    silver = [s for s in doc.spans if is_silver(s)]
    if silver:
        tstart = np.array([t.start for t in tokens], np.int64)
        tend = np.array([t.end for t in tokens], np.int64)
        for s in silver:
            hit = (tstart < s.end) & (tend > s.start)
            allowed[hit] = silver_allows_all
            stats["silver_spans"] += 1
            stats[f"silver_{unit}"] += int(hit.sum())
    return allowed


def dev_scores(gold: Sequence[Document], pred: Sequence[Sequence[Span]]) -> dict[str, Any]:
    """Strict micro P/R/F1 (and macro F1) of ``pred`` on ``gold`` with :func:`imner.evaluate.evaluate`.

    In a document with ``meta["annotates"]`` only predictions of annotated classes count; gold spans
    flagged ``silver_flag`` are left out."""
    from imner.evaluate import evaluate

    gold_docs, pred_docs = [], []
    for doc, spans in zip(gold, pred, strict=True):
        annotates = doc.meta.get("annotates")
        gold_docs.append(doc.with_spans(s for s in doc.spans if not is_silver(s)))
        pred_docs.append(doc.with_spans(s for s in spans if annotates is None or s.label in annotates))
    report = evaluate(gold_docs, pred_docs, bootstrap=0)
    return {**report.micro["strict"].to_dict(), "macro_f1": report.macro["strict"].f1}


# ---------------------------------------------------------------------------------------------- config checks

def check_int(family: str, key: str, value: Any, low: int) -> int:
    """``value`` when it is an integer (not a bool) >= ``low``; else :class:`ConfigError` naming ``family key``."""
    return configkit.check_int(value, f"{family} {key}", low)


def check_float(family: str, key: str, value: Any, low: float, high: float | None = None) -> float:
    """``float(value)`` when it is a number (not a bool) from ``low`` to ``high`` (None: no upper bound)."""
    return configkit.check_number(value, f"{family} {key}", low, high)


# ---------------------------------------------------------------------------------------------- history file

def write_history(path: Path, stats: dict[str, Any], history: list[dict[str, Any]],
                  default: Callable[[Any], Any] | None = None) -> None:
    """Write ``{"stats": ..., "history": ...}`` as indented JSON (``default`` as for :func:`json.dumps`)."""
    path.write_text(json.dumps({"stats": stats, "history": history}, indent=2, default=default) + "\n",
                    encoding="utf-8")


def read_history(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """``(stats, history)`` from a file :func:`write_history` wrote; None when there is no such file."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("stats", {}), data.get("history", [])


# ---------------------------------------------------------------------------------------------- base class

class NeuralTagger(Tagger):
    """What the torch taggers share: BIO tags of :attr:`labels`, ``trained`` once the network (the
    attribute named by ``_network_attr``) exists, ``torch.set_num_threads(self.threads)``, and the start of
    ``fit`` (seeding, label discovery). Subclasses set ``_network_attr`` and ``_import_torch``."""

    #: the attribute holding the torch module once trained or loaded
    _network_attr: ClassVar[str]
    #: returns torch (raising the subclass's own ConfigError when it is missing)
    _import_torch: ClassVar[Callable[[], Any]]
    threads: int | None
    seed: int

    @property
    def tags(self) -> list[str]:
        return label_set(self.labels, "BIO")

    @property
    def trained(self) -> bool:
        return getattr(self, self._network_attr) is not None

    def _set_threads(self) -> None:
        if self.threads is not None:
            type(self)._import_torch().set_num_threads(self.threads)

    def _start_fit(self, train: Iterable[Document],
                   dev: Iterable[Document] | None) -> tuple[list[Document], list[Document]]:
        """The start of :meth:`fit`: the documents as lists (no dev: empty), threads set, python, numpy and
        torch seeded with ``self.seed`` and :attr:`labels` chosen (:meth:`_label_set`)."""
        train = list(train)
        dev = list(dev) if dev is not None else []
        if not train:
            raise InputError("no training documents")
        self._set_threads()
        random.seed(self.seed)
        np.random.seed(self.seed)
        type(self)._import_torch().manual_seed(self.seed)
        self.labels = self._label_set(train)
        return train, dev

    def _label_set(self, docs: Sequence[Document]) -> tuple[str, ...]:
        """The constructor's labels or, when none were given, every gold span label and ``annotates`` entry."""
        if self.labels:
            return self.labels
        labels: set[str] = set()
        for d in docs:
            labels.update(s.label for s in d.spans if not is_silver(s))
            if d.meta.get("annotates") is not None:
                labels.update(annotated_labels(d, ()))
        if not labels:
            raise InputError("the training documents have no spans and no meta 'annotates': nothing to learn")
        return tuple(sorted(labels))


__all__ = ["NeuralTagger", "allowed_tag_matrix", "annotated_labels", "check_float", "check_int", "dev_scores",
           "is_silver", "read_history", "require_torch", "write_history"]
