"""Per-split counts of a corpus: documents, tokens (:func:`imner.text.tokenize`), entities per label,
plus the source's own counts where it states them (e.g. its IOB version's tokens)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from imner.corpora import get, load, load_notes
from imner.text import iter_tokens
from imner.types import Document


def _by_count(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def docs_stats(docs: list[Document], *, tokens: bool = True) -> dict[str, Any]:
    """Documents, tokens (None unless ``tokens``), entities and entities per label (by count) of ``docs``."""
    per_label: Counter[str] = Counter(s.label for d in docs for s in d.spans)
    return {
        "documents": len(docs),
        "tokens": sum(1 for d in docs for _ in iter_tokens(d.text)) if tokens else None,
        "entities": sum(per_label.values()),
        "entities_per_label": _by_count(per_label),
    }


def corpus_stats(name: str, *, tokens: bool = True) -> dict[str, Any]:
    """Counts for every split of corpus ``name`` and their total.

    Returns ``{"corpus", "labels", "splits": {split: {documents, tokens, entities, entities_per_label,
    source?}}, "total": {...}, "notes": [...]}``. ``source`` holds the counts the source itself gives
    (when the corpus defines ``source_counts``); ``notes`` what the loader handled specially.
    ``tokens=False`` skips tokenizing (``tokens`` is then None).
    """
    corpus = get(name)
    root = corpus.root()
    splits: dict[str, dict[str, Any]] = {}
    for split in corpus.splits:
        st = docs_stats(load(name, split), tokens=tokens)
        if corpus.source_counts is not None:
            st["source"] = corpus.source_counts(root, split)
        splits[split] = st
    total = {
        "documents": sum(s["documents"] for s in splits.values()),
        "tokens": sum(s["tokens"] for s in splits.values()) if tokens else None,
        "entities": sum(s["entities"] for s in splits.values()),
    }
    per_label: Counter[str] = Counter()
    for s in splits.values():
        per_label.update(s["entities_per_label"])
    total["entities_per_label"] = _by_count(per_label)
    return {
        "corpus": name,
        "labels": list(corpus.labels),
        "annotates": sorted(corpus.annotates),
        "splits": splits,
        "total": total,
        "notes": load_notes(name),
    }
