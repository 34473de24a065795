"""A linear-chain CRF tagger (CRFsuite through python-crfsuite, the ``crf`` extra).

Sentences from :func:`imner.text.sentences_with_tokens` are the unit of tagging, so documents of any
length are tagged whole (nothing is truncated). Spans are BIO-encoded with the shared codec
(:func:`imner.tags.spans_to_tags`, ``align="expand"``); every span that had to be widened to token
edges, could not be encoded (overlapping another span) or crosses a sentence boundary is counted in
:attr:`CRFTagger.training_stats` and logged, never dropped silently.

**Partial annotation.** A CRF learns every token it sees: a token left ``O`` is a negative example for
every class. It therefore trains only on *fully annotated* documents. A document whose
``meta["annotates"]`` lists fewer labels than the model learns (the union of all span labels and all
``annotates`` lists in the training data) is partial: with ``partial_docs="drop"`` (default) it is left
out and counted, with ``partial_docs="error"`` training stops with an :class:`~imner.errors.InputError`.
Documents without ``annotates`` are taken as fully annotated. Map or filter labels *before* training
(``imner train``'s ``label_map`` / ``keep_labels``) to combine corpora that annotate different classes.

**Lexicon features** (``lexicon_features=True``): a dictionary tagger (``dictionary.v1`` with the
``lexicon_tagger`` config, or a given :class:`~imner.taggers.base.Tagger`) runs first and its BIO tag
for each token becomes a feature. The dictionary tagger is saved beside the CRF (``lexicon/``) so the
model predicts with the same lexicon it learned with.

**Compounds** (``split_compounds=True``): tokens are further split at internal hyphens and slashes
(``DMD/BMD``, ``ALPS-associated``) so that entities inside them can be tagged exactly. Off by default:
on NCBI-disease it made 99 more training spans token-aligned but lowered strict F1 slightly (test 0.796
-> 0.788, one run each).

Span scores are the mean CRF marginal probability of the predicted tag over the span's tokens.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from imner.configkit import check_int, checked_params, init_config, read_saved_config
from imner.errors import ConfigError, InputError
from imner.tags import OUTSIDE, spans_to_tags, tags_to_spans
from imner.taggers.base import Tagger, available, create, load_tagger
from imner.taggers.crf.features import sentence_features
from imner.text import Token, sentences_with_tokens
from imner.types import Document, Span

log = logging.getLogger(__name__)

MODEL_FILE = "model.crfsuite"
LEXICON_DIR = "lexicon"
LEXICON_TAGGER = "dictionary.v1"
PARTIAL_POLICIES = ("drop", "error")
_COMPOUND_PIECE = re.compile(r"[^-/]+|[-/]")


def split_compounds(tokens: Sequence[Token]) -> list[Token]:
    """Tokens with internal hyphens and slashes split off (``ALPS-associated`` -> ``ALPS``, ``-``,
    ``associated``), so entities inside such compounds (NCBI-disease: ``DMD/BMD``) can be tagged exactly."""
    out: list[Token] = []
    for tok in tokens:
        if len(tok.text) > 1 and ("-" in tok.text or "/" in tok.text):
            out.extend(Token(tok.start + m.start(), tok.start + m.end(), m.group())
                       for m in _COMPOUND_PIECE.finditer(tok.text))
        else:
            out.append(tok)
    return out


def _pycrfsuite() -> Any:
    try:
        import pycrfsuite
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ConfigError("the CRF tagger needs python-crfsuite: pip install 'imner[crf]'") from e
    return pycrfsuite


class CRFTagger(Tagger):
    """Linear-chain CRF over :mod:`imner.taggers.crf.features`, trained with L-BFGS (L1 ``c1`` + L2 ``c2``).

    ``fit`` trains on fully annotated documents only (see the module docstring); ``dev`` is not used
    (CRFsuite's L-BFGS has no early stopping); evaluate on it with :mod:`imner.evaluate`.
    """

    name = "crf.v1"

    def __init__(self, c1: float = 0.1, c2: float = 0.1, max_iterations: int = 100, window: int = 2,
                 feature_minfreq: float = 0.0, all_possible_transitions: bool = True,
                 lexicon_features: bool = False, lexicon_tagger: Mapping[str, Any] | Tagger | None = None,
                 partial_docs: str = "drop", split_compounds: bool = False, labels: Sequence[str] = ()) -> None:
        for key, value in (("c1", c1), ("c2", c2), ("feature_minfreq", feature_minfreq)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"CRF {key} must be a number >= 0, got {value!r}")
        check_int(max_iterations, "CRF max_iterations")
        check_int(window, "CRF window", 0, 5)
        if partial_docs not in PARTIAL_POLICIES:
            raise ConfigError(f"CRF partial_docs must be one of {', '.join(PARTIAL_POLICIES)}, got {partial_docs!r}")
        if lexicon_tagger is not None and not isinstance(lexicon_tagger, (Mapping, Tagger)):
            raise ConfigError("CRF lexicon_tagger must be a config table for dictionary.v1 or a Tagger, "
                              f"got {type(lexicon_tagger).__name__}")
        self.c1, self.c2, self.max_iterations = float(c1), float(c2), max_iterations
        self.window, self.feature_minfreq = window, float(feature_minfreq)
        self.all_possible_transitions = bool(all_possible_transitions)
        self.lexicon_features = bool(lexicon_features)
        self.lexicon_tagger_config: dict[str, Any] | None = (
            dict(lexicon_tagger) if isinstance(lexicon_tagger, Mapping) else None)
        self._lexicon: Tagger | None = lexicon_tagger if isinstance(lexicon_tagger, Tagger) else None
        if self.lexicon_features and self._lexicon is None and LEXICON_TAGGER not in available():
            raise ConfigError(f"lexicon_features = true needs the {LEXICON_TAGGER} tagger, which cannot be imported "
                              "here; set lexicon_features = false or install the extra that brings it")
        self.partial_docs = partial_docs
        self.split_compounds = bool(split_compounds)
        self.labels = tuple(labels)
        self._model_bytes: bytes | None = None
        self._tagger: Any = None
        #: counts from the last :meth:`fit` (documents, sentences, tokens, realigned spans, ...)
        self.training_stats: dict[str, Any] = {}

    # ------------------------------------------------------------------ config and persistence

    def config(self) -> dict[str, Any]:
        return {**init_config(self, exclude=("labels", "lexicon_tagger")), "lexicon_tagger": self.lexicon_tagger_config}

    def save(self, directory: str | Path) -> Path:
        if self._model_bytes is None:
            raise InputError("this CRF tagger is not trained; call fit() before save()")
        directory = super().save(directory)
        (directory / MODEL_FILE).write_bytes(self._model_bytes)
        if self.lexicon_features:
            self._lexicon_tagger().save(directory / LEXICON_DIR)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "CRFTagger":
        directory = Path(directory)
        path, cfg = read_saved_config(directory)
        labels = cfg.pop("labels", ())
        cfg.pop("lexicon_tagger", None)
        lexicon = load_tagger(directory / LEXICON_DIR) if cfg.get("lexicon_features") else None
        tagger = cls(**checked_params(cls, cfg, str(path)), labels=labels, lexicon_tagger=lexicon)
        model = directory / MODEL_FILE
        if not model.is_file():
            raise ConfigError(f"{model} is missing: a crf.v1 model directory holds config.json and {MODEL_FILE}")
        tagger._set_model(model.read_bytes())
        return tagger

    def _set_model(self, data: bytes) -> None:
        tagger = _pycrfsuite().Tagger()
        tagger.open_inmemory(data)
        self._model_bytes, self._tagger = data, tagger

    def _lexicon_tagger(self) -> Tagger:
        if self._lexicon is None:
            self._lexicon = create(LEXICON_TAGGER, **(self.lexicon_tagger_config or {}))
        return self._lexicon

    # ------------------------------------------------------------------ featurization

    def _sequences(self, docs: Sequence[Document]) -> Iterable[tuple[Document, list[Token], list[list[Token]],
                                                                     list[str] | None]]:
        """Per document: all tokens, tokens per sentence, and lexicon tags over all tokens (or None)."""
        lex_spans: list[list[Span]] | None = None
        if self.lexicon_features:
            lex_spans = self._lexicon_tagger().predict(docs)
        for k, doc in enumerate(docs):
            sents = [toks for _, toks in sentences_with_tokens(doc.text) if toks]
            if self.split_compounds:
                sents = [split_compounds(toks) for toks in sents]
            tokens = [t for toks in sents for t in toks]
            lex_tags = None
            if lex_spans is not None:
                lex_tags, _ = spans_to_tags(tokens, lex_spans[k], "BIO", align="expand")
            yield doc, tokens, sents, lex_tags

    def _features(self, sents: list[list[Token]], lex_tags: list[str] | None) -> list[list[list[str]]]:
        out, pos = [], 0
        for toks in sents:
            lex = lex_tags[pos:pos + len(toks)] if lex_tags is not None else None
            out.append(sentence_features(toks, self.window, lex))
            pos += len(toks)
        return out

    # ------------------------------------------------------------------ training

    def _select_documents(self, docs: list[Document]) -> tuple[list[Document], list[str], list[str]]:
        """Fully annotated documents, the label set, and the ids of partial documents left out."""
        labels: set[str] = {s.label for d in docs for s in d.spans}
        for d in docs:
            annotates = d.meta.get("annotates")
            if annotates is not None:
                if isinstance(annotates, str) or not isinstance(annotates, Iterable):
                    raise InputError(f"meta 'annotates' must be a list of labels, got {annotates!r}", source=d.id)
                labels.update(annotates)
        keep, partial = [], []
        for d in docs:
            annotates = d.meta.get("annotates")
            if annotates is not None and not labels <= set(annotates):
                partial.append(d.id)
            else:
                keep.append(d)
        if partial:
            msg = (f"{len(partial)} of {len(docs)} training documents annotate only some of the labels "
                   f"{sorted(labels)} (e.g. {partial[0]!r}: {sorted(next(d for d in docs if d.id == partial[0]).meta['annotates'])}); "
                   "a CRF learns every unlabelled token as O, so it needs fully annotated documents. "
                   "Map labels to a common set (label_map / keep_labels) or train on one corpus")
            if self.partial_docs == "error":
                raise InputError(msg)
            log.warning("%s; leaving those documents out (partial_docs='drop')", msg)
        return keep, sorted(labels), partial

    def _encode(self, doc: Document, tokens: list[Token], sents: list[list[Token]],
                stats: Counter) -> list[list[str]]:
        """BIO tags per sentence, with every span that could not be encoded exactly counted in ``stats``."""
        tags, misaligned = spans_to_tags(tokens, doc.spans, "BIO", align="expand")
        stats["spans"] += len(doc.spans)
        stats["discontinuous_spans_encoded_as_range"] += sum(1 for s in doc.spans if s.fragments)
        starts = {t.start for t in tokens}
        ends = {t.end for t in tokens}
        encoded = {s.key for s in tags_to_spans(tokens, tags)}
        for span in misaligned:
            covered = [t for t in tokens if t.start < span.end and span.start < t.end]
            widened = (covered[0].start, covered[-1].end, span.label) if covered else None
            if widened is not None and widened in encoded:
                if span.start not in starts or span.end not in ends:
                    stats["realigned_spans"] += 1
                    self._example(stats, "realigned", doc, span)
            else:
                stats["not_encoded_spans"] += 1
                self._example(stats, "not_encoded", doc, span)
        out, pos = [], 0
        for toks in sents:
            sent_tags = tags[pos:pos + len(toks)]
            if sent_tags and sent_tags[0].startswith("I-"):
                stats["cross_sentence_spans"] += 1
                self._example(stats, "cross_sentence", doc, None, toks[0].start)
                sent_tags[0] = "B-" + sent_tags[0][2:]
            out.append(sent_tags)
            pos += len(toks)
        return out

    def _example(self, stats: Counter, kind: str, doc: Document, span: Span | None, offset: int = 0) -> None:
        examples = self._examples.setdefault(kind, [])
        if len(examples) < 3:
            if span is not None:
                examples.append(f"{doc.id} [{span.start}, {span.end}) {span.label} {span.text_in(doc.text)!r}")
            else:
                examples.append(f"{doc.id} offset {offset}")

    def fit(self, train: Iterable[Document], dev: Iterable[Document] | None = None) -> "CRFTagger":
        pycrfsuite = _pycrfsuite()
        docs, labels, partial = self._select_documents(list(train))
        if not docs:
            raise InputError("no fully annotated training documents left to train the CRF on")
        if not any(d.spans for d in docs):
            raise InputError(f"the {len(docs)} training documents hold no entity spans; nothing to learn")

        class _Trainer(pycrfsuite.Trainer):  # type: ignore[misc,name-defined]
            """Logs every 10th L-BFGS iteration (CRFsuite's own hooks fire only with verbose printing)."""

            def message(self, message: str) -> None:
                if self.logparser.feed(message) != "iteration":
                    return
                info = self.logparser.last_iteration or {}
                num = info.get("num") or 0
                if num % 10 == 0:
                    log.info("CRF iteration %d: loss %.1f, %d active features", num,
                             info.get("loss") or float("nan"), info.get("active_features") or 0)

        t0 = time.perf_counter()
        trainer = _Trainer(verbose=False)
        stats: Counter = Counter()
        self._examples: dict[str, list[str]] = {}
        for doc, tokens, sents, lex_tags in self._sequences(docs):
            for xseq, yseq in zip(self._features(sents, lex_tags), self._encode(doc, tokens, sents, stats)):
                trainer.append(xseq, yseq)
                stats["sentences"] += 1
                stats["tokens"] += len(yseq)
        featurize_s = time.perf_counter() - t0
        trainer.set_params({
            "c1": self.c1, "c2": self.c2, "max_iterations": self.max_iterations,
            "feature.minfreq": self.feature_minfreq,
            "feature.possible_transitions": self.all_possible_transitions,
        })
        log.info("CRF: training on %d documents, %d sentences, %d tokens, labels %s",
                 len(docs), stats["sentences"], stats["tokens"], ", ".join(labels))
        with tempfile.TemporaryDirectory(prefix="imner-crf-") as tmp:
            path = Path(tmp) / MODEL_FILE
            trainer.train(str(path))
            self._set_model(path.read_bytes())
        self.labels = tuple(labels)
        self.training_stats = {
            "documents": len(docs), "partial_documents_dropped": len(partial),
            "sentences": stats["sentences"], "tokens": stats["tokens"], "spans": stats["spans"],
            "realigned_spans": stats["realigned_spans"], "not_encoded_spans": stats["not_encoded_spans"],
            "cross_sentence_spans": stats["cross_sentence_spans"],
            "discontinuous_spans_encoded_as_range": stats["discontinuous_spans_encoded_as_range"],
            "examples": dict(self._examples),
            "featurize_seconds": round(featurize_s, 3),
            "train_seconds": round(time.perf_counter() - t0 - featurize_s, 3),
            "iterations": (trainer.logparser.last_iteration or {}).get("num"),
        }
        problems = {k: stats[k] for k in ("realigned_spans", "not_encoded_spans", "cross_sentence_spans") if stats[k]}
        if problems:
            log.warning("CRF: of %d training spans, %s (examples: %s)", stats["spans"],
                        ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in problems.items()),
                        "; ".join(e for ex in self._examples.values() for e in ex[:1]))
        else:
            log.info("CRF: all %d training spans aligned to token edges", stats["spans"])
        return self

    # ------------------------------------------------------------------ prediction

    def predict(self, docs: Sequence[Document]) -> list[list[Span]]:
        if self._tagger is None:
            raise InputError("this CRF tagger is not trained; call fit() or load a saved model first")
        docs = list(docs)
        out: list[list[Span]] = []
        tagger = self._tagger
        for _doc, _tokens, sents, lex_tags in self._sequences(docs):
            spans: list[Span] = []
            for toks, xseq in zip(sents, self._features(sents, lex_tags)):
                tagger.set(xseq)
                yseq = tagger.tag()
                if all(y == OUTSIDE for y in yseq):
                    continue
                scores = [tagger.marginal(y, i) for i, y in enumerate(yseq)]
                spans.extend(tags_to_spans(toks, yseq, scores))
            out.append(sorted(spans, key=lambda s: (s.start, s.end, s.label)))
        return out
