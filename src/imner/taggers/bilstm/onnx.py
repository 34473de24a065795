"""Run an exported BiLSTM-CNN-CRF (``bilstm-onnx.v1``) with onnxruntime and NumPy: no torch.

A model directory (written by :func:`imner.taggers.bilstm.export.export_bilstm_onnx` from a trained
``bilstm.v1`` model) holds ``config.json``, the ONNX network up to the emission scores (``model.onnx``
and/or ``model.int8.onnx``), the CRF scores (``crf.npz``), the vocabularies (``vocab.json``) and, with
lexicon features, the dictionary tagger (``lexicon/``).

Prediction is ``bilstm.v1``'s: sentences from :func:`imner.text.sentences_with_tokens`, tokens encoded by
the same code (:mod:`imner.taggers.bilstm.features`), the same emissions (float export: equal to about
1e-6), then Viterbi decoding (:func:`imner.taggers.bilstm.numpy_crf.viterbi`, the same float32 operations as
``torch_crf.CRF.decode``), so the float export predicts ``bilstm.v1``'s spans. A span's score is, as in
``bilstm.v1``, the mean CRF marginal probability of the predicted tag over its tokens (forward-backward in
NumPy, float64; the torch tagger gets them in float32, and the emissions differ by ~1e-6, so scores
agree to within about 1e-3: 5e-4 at most on imd-cases, benchmarks/results/bilstm_onnx.md).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from imner.configkit import check_int
from imner.errors import ConfigError, ModelError, ModelNotFoundError
from imner.tags import label_set, tags_to_spans
from imner.taggers.bilstm.features import CASING, SENTENCES, WORD_NORMALIZATION, encode_tokens, pad_batch
from imner.taggers._exported import ExportedTagger, check_positive
from imner.taggers.base import Tagger, load_tagger, read_config
from imner.taggers.bilstm.numpy_crf import marginals, viterbi
from imner.text import sentences_with_tokens
from imner.types import Document, Span

_FILES = ("model_file", "crf_file", "vocab_file")


#: the most tokens the network sees at once: a longer "sentence" (a line of text without sentence ends, a table
#: flattened into one line) is cut into windows of at most this many tokens (see :func:`sentence_windows`); the
#: longest sentence of MACCROBAT and 300 PMC-Patients reports has 168 tokens
MAX_SENTENCE_TOKENS = 256
#: a window ends after the last ``,`` ``;`` or ``:`` among its last this many tokens, when there is one
_CUT_SEARCH = 64


def sentence_windows(tokens: list, limit: int = MAX_SENTENCE_TOKENS) -> list[list]:
    """``tokens`` (one sentence) as consecutive windows of at most ``limit`` tokens that together hold every
    token once, in order: the sentence itself when it is short enough. A window is cut after a comma, semicolon or
    colon near its end where there is one (a mention seldom spans one), else at ``limit``."""
    if len(tokens) <= limit:
        return [tokens]
    out, start, n = [], 0, len(tokens)
    while n - start > limit:
        end = start + limit
        for j in range(end - 1, max(start, end - _CUT_SEARCH) - 1, -1):
            if tokens[j].text in (",", ";", ":"):
                end = j + 1
                break
        out.append(tokens[start:end])
        start = end
    out.append(tokens[start:])
    return out


def _read_vocab(path: Path) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Word, character and lexicon-tag ids of a ``vocab.json``, through the start-up cache (:mod:`imner.cache`,
    keyed by the file's sha256): parsing the JSON and building the dicts is ~25 ms of a one-line run."""
    import hashlib

    from imner import cache

    raw = path.read_bytes()
    key = cache.cache_key("vocab", hashlib.sha256(raw).hexdigest())
    hit = cache.load(key)
    if isinstance(hit, tuple) and len(hit) == 3 and all(isinstance(t, dict) for t in hit):
        return hit
    try:
        vocab = json.loads(raw.decode("utf-8"))
        tables = ({w: i for i, w in enumerate(vocab["words"])}, {c: i for i, c in enumerate(vocab["chars"])},
                  {t: i for i, t in enumerate(vocab["lexicon_tags"])})
    except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ModelError(f"{path} is damaged or not a vocabulary file ({type(exc).__name__}: "
                         f"{str(exc)[:120]}); it must be a JSON object with words, chars and lexicon_tags "
                         "lists; export the model again") from None
    cache.store(key, tables)
    return tables


class BiLSTMOnnxTagger(ExportedTagger):
    """A ``bilstm.v1`` model exported to ONNX.

    ``model_dir``: an exported model directory; ``threads``: onnxruntime intra-op threads (default 2);
    ``batch_size``: sentences per run (sorted by length, so a batch pads little); ``model_file``: which
    ONNX file of the directory to run (default: the one its config names, the int8 model after a
    quantized export).

    ``lexicon_backoff`` (labels; default none, the shipped default's config sets it): the Disease Ontology /
    NCBI Taxonomy knowledge decides at tagging time where the network found nothing. A lexicon match (the
    model's own dictionary tagger, already run for the lexicon features) of one of these labels that overlaps
    no predicted span is added (``attrs["source"] = "lexicon"``): "brucellosis" or "tuberculosis" written plainly
    is an infectious disease whatever the network learned. With ``lexicon_widen`` (default false) such a match
    that covers the predicted spans it overlaps, and is longer, replaces them ("urinary tract" ANATOMY +
    "infection" -> "urinary tract infection"; ``attrs["source"] = "lexicon"``). ``lexicon_retype`` (default
    false): a predicted OTHER_DISEASE or SIGN_SYMPTOM span with exactly the extent of a lexicon IMMUNE_DISEASE /
    INFECTIOUS_DISEASE match takes the lexicon's class (the DO hierarchy, step 2 of the guideline's order;
    ``attrs["retyped_by"] = "lexicon"``)."""

    name = "bilstm-onnx.v1"
    made_by = "train bilstm.v1 and export it with imner.taggers.bilstm.export.export_bilstm_onnx"

    def __init__(self, model_dir: str | Path, threads: int = 2, batch_size: int = 64,
                 model_file: str | None = None, lexicon_backoff: Sequence[str] | None = None,
                 lexicon_retype: bool | None = None, lexicon_widen: bool | None = None) -> None:
        self.threads = check_positive("bilstm-onnx", "threads", threads)
        self.batch_size = check_positive("bilstm-onnx", "batch_size", batch_size)
        self.model_dir = Path(model_dir)
        cfg_path, cfg = read_config(self.model_dir, f"{self.model_dir} is not a bilstm-onnx.v1 model directory (no "
                                    "config.json); export a trained bilstm.v1 model with "
                                    "imner.taggers.bilstm.export.export_bilstm_onnx")
        for key in ("labels", "tags", "preprocessing", *_FILES):
            if key not in cfg:
                raise ConfigError(f"{cfg_path}: missing the {key!r} key (written by export_bilstm_onnx)")
        self.labels = tuple(cfg["labels"])
        self.tags = label_set(self.labels, "BIO")
        if list(cfg["tags"]) != self.tags:
            raise ConfigError(f"{cfg_path}: tags {cfg['tags']} are not the BIO tags of the labels, {self.tags}")
        self._check_preprocessing(cfg_path, cfg["preprocessing"])
        self.max_word_chars = int(cfg["preprocessing"]["max_word_chars"])
        self.model_file = model_file or cfg["model_file"]
        self._cfg = {k: v for k, v in cfg.items() if k not in ("tagger", "labels")}
        self._cfg["model_file"] = self.model_file
        backoff = cfg.get("lexicon_backoff", []) if lexicon_backoff is None else lexicon_backoff
        if not isinstance(backoff, (list, tuple)) or not all(isinstance(x, str) and x in self.labels for x in backoff):
            raise ConfigError(f"bilstm-onnx lexicon_backoff must be a list of the model's labels "
                              f"({', '.join(self.labels)}), got {backoff!r}")
        self.lexicon_backoff = tuple(backoff)
        retype = cfg.get("lexicon_retype", False) if lexicon_retype is None else lexicon_retype
        widen = cfg.get("lexicon_widen", False) if lexicon_widen is None else lexicon_widen
        for key, value in (("lexicon_retype", retype), ("lexicon_widen", widen)):
            if not isinstance(value, bool):
                raise ConfigError(f"bilstm-onnx {key} must be true or false, got {value!r}")
        self.lexicon_retype = retype
        self.lexicon_widen = widen
        pool = cfg.get("pool_documents", False)
        if not isinstance(pool, bool):
            raise ConfigError(f"{cfg_path}: pool_documents must be true or false, got {pool!r}")
        #: whether the sentences of several documents may share a run (see :meth:`predict`)
        self.pool_documents = pool
        # written only when set, so a model directory without them reads back unchanged
        for key, value in (("lexicon_backoff", list(self.lexicon_backoff)), ("lexicon_retype", self.lexicon_retype),
                           ("lexicon_widen", self.lexicon_widen)):
            if value:
                self._cfg[key] = value
            else:
                self._cfg.pop(key, None)
        for key in ("crf_file", "vocab_file"):
            if not (self.model_dir / cfg[key]).is_file():
                raise ModelNotFoundError(f"{self.model_dir / cfg[key]} is missing: a bilstm-onnx.v1 model directory "
                                         f"holds config.json, the ONNX model, {cfg['crf_file']} and {cfg['vocab_file']}")
        crf_path = self.model_dir / cfg["crf_file"]
        try:
            with np.load(crf_path, allow_pickle=False) as crf:
                self._transitions, self._start, self._end = (crf[k].astype(np.float32)
                                                             for k in ("transitions", "start", "end"))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelError(f"{crf_path} is damaged or not a CRF score file ({type(exc).__name__}: "
                             f"{str(exc)[:120]}); export the model again") from None
        n = len(self.tags)
        if self._transitions.shape != (n, n) or self._start.shape != (n,) or self._end.shape != (n,):
            raise ConfigError(f"{self.model_dir / cfg['crf_file']}: CRF scores of shapes {self._transitions.shape}, "
                              f"{self._start.shape}, {self._end.shape} do not fit {n} tags")
        self._words, self._chars, self._lex_tags = _read_vocab(self.model_dir / cfg["vocab_file"])
        lexicon_dir = cfg.get("lexicon_dir")
        self._lexicon: Tagger | None = load_tagger(self.model_dir / lexicon_dir) if lexicon_dir else None
        self._session = self._load_session()
        self._inputs = [i.name for i in self._session.get_inputs()]
        unknown = set(self._inputs) - {"words", "chars", "case", "lex"}
        if unknown or not {"words", "chars"} <= set(self._inputs):
            raise ConfigError(f"{self.model_dir / self.model_file}: model inputs {self._inputs}; expected words, "
                              "chars and optionally case and lex")
        if "lex" in self._inputs and self._lexicon is None:
            raise ConfigError(f"{cfg_path}: the model takes lexicon features but lexicon_dir is not set")

    @staticmethod
    def _check_preprocessing(cfg_path: Path, pre: Any) -> None:
        expected = {"sentences": SENTENCES, "word_normalization": WORD_NORMALIZATION, "casing": CASING}
        if not isinstance(pre, dict):
            raise ConfigError(f"{cfg_path}: 'preprocessing' must be an object, got {pre!r}")
        for key, value in expected.items():
            if pre.get(key) != value:
                raise ConfigError(f"{cfg_path}: preprocessing {key} {pre.get(key)!r} is not supported; this version "
                                  f"of imner runs {value!r}")
        mwc = pre.get("max_word_chars")
        check_int(mwc, f"{cfg_path}: preprocessing max_word_chars", 2)

    # ------------------------------------------------------------------ persistence

    def config(self) -> dict[str, Any]:
        return dict(self._cfg)

    def model_files(self) -> list[str]:
        return [self._cfg[key] for key in _FILES]

    def model_dirs(self) -> list[str]:
        return [self._cfg["lexicon_dir"]] if self._cfg.get("lexicon_dir") else []

    # ------------------------------------------------------------------ inference

    def emissions(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Emission scores ``(B, L, T)`` (float32) of a batch from :func:`pad_batch`."""
        return self._session.run(None, {k: batch[k] for k in self._inputs})[0]

    def predict(self, docs: Sequence[Document]) -> list[list[Span]]:
        """Spans of each document; a document's spans depend on the document only, never on the other documents
        of the call. Sentences are sorted by length and run ``batch_size`` at a time. A model whose graph
        quantizes activations dynamically (``quantize_dynamic``'s int8 LSTM and MatMul) scales each run by that
        run's range, so only one document's sentences share a run (before this, 7 of 1,527 spans changed between
        ``imner extract --batch-size 1`` and ``16`` on 20 MACCROBAT texts). Float computation alone does not cure
        it: int8 weights dequantized to float LSTM/MatMul, with sentences of 16 documents pooled, still changed 4
        of 1,739 spans (rounding of differently blocked GEMMs at near-ties). Pooling costs ~35% less CPU; config
        ``"pool_documents": true`` turns it on for a model where that matters more than invariance."""
        docs = list(docs)
        lex_spans = self._lexicon.predict(docs) if self._lexicon is not None else None
        rows = []  # (document index, tokens, word ids, char ids, casing ids, lexicon ids) per sentence
        for k, doc in enumerate(docs):
            sents = [w for _, toks in sentences_with_tokens(doc.text) if toks for w in sentence_windows(toks)]
            tokens = [t for toks in sents for t in toks]
            words, chars, case, lex = encode_tokens(tokens, self._words, self._chars, self.max_word_chars,
                                                    lex_spans[k] if lex_spans is not None else None, self._lex_tags)
            pos = 0
            for toks in sents:
                n = len(toks)
                rows.append((k, toks, words[pos:pos + n], chars[pos:pos + n], case[pos:pos + n], lex[pos:pos + n]))
                pos += n
        out: list[list[Span]] = [[] for _ in docs]
        if self.pool_documents:
            self._predict_rows(rows, out)
        else:
            by_doc: list[list[tuple]] = [[] for _ in docs]
            for row in rows:
                by_doc[row[0]].append(row)
            for doc_rows in by_doc:
                self._predict_rows(doc_rows, out)
        result = []
        for k, spans in enumerate(out):
            spans.sort(key=lambda s: (s.start, s.end, s.label))
            if lex_spans is not None and (self.lexicon_backoff or self.lexicon_retype or self.lexicon_widen):
                spans = self._with_lexicon(spans, lex_spans[k])
            result.append(spans)
        return result

    def _predict_rows(self, rows: list[tuple], out: list[list[Span]]) -> None:
        order = sorted(range(len(rows)), key=lambda i: len(rows[i][1]))
        for b in range(0, len(order), self.batch_size):
            chunk = [rows[i] for i in order[b:b + self.batch_size]]
            batch = pad_batch(*([row[j] for row in chunk] for j in (2, 3, 4, 5)))
            em = self.emissions(batch)
            paths = viterbi(em, self._transitions, self._start, self._end, batch["mask"])
            marg = None
            for r, (row, path) in enumerate(zip(chunk, paths)):
                if all(p == 0 for p in path):
                    continue
                if marg is None:
                    marg = marginals(em, self._transitions, self._start, self._end, batch["mask"])
                scores = marg[r, np.arange(len(path)), path].tolist()  # the marginal of each chosen tag
                out[row[0]].extend(tags_to_spans(row[1], [self.tags[p] for p in path], scores))

    def _with_lexicon(self, spans: list[Span], lexical: Sequence[Span]) -> list[Span]:
        """``lexicon_backoff`` and ``lexicon_retype`` (see the class doc)."""
        if self.lexicon_retype:
            by_extent = {(s.start, s.end): s.label for s in lexical
                         if s.label in ("IMMUNE_DISEASE", "INFECTIOUS_DISEASE")}
            spans = [s.evolve(label=by_extent[(s.start, s.end)], attrs={**s.attrs, "retyped_by": "lexicon"})
                     if s.label in ("OTHER_DISEASE", "SIGN_SYMPTOM") and (s.start, s.end) in by_extent else s
                     for s in spans]
        if self.lexicon_backoff:
            added = []
            replaced: set[int] = set()
            for s in lexical:
                if s.label not in self.lexicon_backoff:
                    continue
                hit = [i for i, o in enumerate(spans) if o.start < s.end and s.start < o.end]
                if not hit:
                    added.append(Span(s.start, s.end, s.label, s.score, {"source": "lexicon"}))
                elif self.lexicon_widen and all(s.start <= spans[i].start and spans[i].end <= s.end
                                                and spans[i].end - spans[i].start < s.end - s.start for i in hit):
                    replaced.update(hit)
                    added.append(Span(s.start, s.end, s.label, s.score, {"source": "lexicon"}))
            if added:
                spans = sorted([*(o for i, o in enumerate(spans) if i not in replaced), *added],
                               key=lambda x: (x.start, x.end, x.label))
        return spans


__all__ = ["BiLSTMOnnxTagger"]
