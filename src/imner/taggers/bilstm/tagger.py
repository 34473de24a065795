"""BiLSTM-CNN-CRF tagger (``bilstm.v1``): the "MedicalNER" family (Lample et al. 2016; Ma & Hovy 2016).

Needs torch (the ``train`` extra). Per token: a word embedding (pretrained word2vec vectors from
:mod:`imner.embeddings`, fine-tuned or frozen, or learnt from scratch), a character CNN (embedding 30,
50 filters of width 3, max-pooled over the word), a casing class embedding and optionally the BIO tag a
dictionary tagger gives the token (lexicon feature); then a bidirectional LSTM (``hidden_size`` units per
direction, 100 by default: 200 features per token, as in Lample et al.), a linear layer to tag scores and
a linear-chain CRF (:mod:`imner.taggers.bilstm.torch_crf`) with BIO constraints.

**Unit of tagging.** Sentences from :func:`imner.text.sentences_with_tokens`, so documents of any length
are tagged whole; nothing is truncated. (Only the character CNN sees at most ``max_word_chars``
characters of a token: its first and last ``max_word_chars // 2``; the token itself is tagged whole.)
Spans are BIO-encoded with :func:`imner.tags.spans_to_tags` (``align="expand"``); spans widened to token
edges, spans not encodable (overlapping another) and spans crossing a sentence boundary (their tail
starts the next sentence as ``B-``) are counted in :attr:`BiLSTMTagger.training_stats` and logged.

**Partial labels.** As in ``transformer.v1``: a document's ``meta["annotates"]`` lists the classes it
annotates (absent: all the model's labels). A token left ``O`` in such a document may take ``O`` or any
``B``/``I`` tag of a class the document does not annotate, and the CRF is trained on the marginal
likelihood of all paths through that lattice of allowed tags (a partial/fuzzy CRF). Tokens under a span
with the attribute ``silver_flag`` may take every tag. Documents annotating everything get the usual
CRF likelihood.

**Training.** Adam (or SGD with momentum; the word embedding matrix gets sparse updates: SparseAdam or
SGD), gradient-norm clipping of the other parameters, dropout 0.5, word dropout (a known
word is replaced by the unknown word with probability ``word_dropout``, so that the unknown vector is
learnt), shuffled sentence batches, a fixed seed, ``torch.set_num_threads(threads)`` (1 by default).
After each epoch the model is scored on ``dev`` (strict micro F1, :func:`imner.evaluate.evaluate`; in
partial dev documents only annotated classes count); the best epoch's weights are kept and training
stops after ``patience`` epochs without improvement. :attr:`BiLSTMTagger.history` has the per-epoch loss,
dev scores and speed.

Span scores are the mean CRF marginal probability of the predicted tag over the span's tokens.

**Fine-tuning.** With :attr:`BiLSTMTagger.init_weights` set (:func:`imner.taggers.bilstm.warmstart.warm_started`,
``[model] init`` of ``imner train``) :meth:`fit` starts from a trained model's weights, labels and vocabularies
(extended by the training words and characters it lacks) instead of from random weights.

Saved layout: ``config.json`` (tagger name, labels, hyper-parameters), ``model.pt`` (state dict),
``vocab.json`` (words, characters, lexicon tags), ``bilstm_history.json`` (statistics, per-epoch history,
the embeddings' manifest) and ``lexicon/`` (the dictionary tagger) with lexicon features. The
pretrained embeddings are part of the state dict: a saved model does not need the embeddings directory.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from imner.configkit import checked_params, init_config, read_saved_config
from imner.errors import ConfigError, InputError, ModelError, ModelNotFoundError
from imner.tags import OUTSIDE, label_set, tags_to_spans
from imner.taggers.bilstm.features import CASES, PAD, UNK, casing, encode_tokens, pad_batch
from imner.taggers._neural import (NeuralTagger, allowed_tag_matrix, check_float, check_int, dev_scores,
                                   read_history, require_torch, write_history)
from imner.taggers._neural import annotated_labels, is_silver  # noqa: F401  (kept importable from here)
from imner.taggers.base import Tagger, create, load_tagger
from imner.text import Token, sentences_with_tokens
from imner.types import Document, Span

log = logging.getLogger(__name__)

MODEL_FILE = "model.pt"
VOCAB_FILE = "vocab.json"
HISTORY_FILE = "bilstm_history.json"
LEXICON_DIR = "lexicon"
OPTIMIZERS = ("adam", "sgd")


def _torch() -> Any:
    return require_torch("the BiLSTM tagger needs torch: pip install 'imner[train]'")


# ---------------------------------------------------------------------------------------------- targets

def allowed_tags(doc: Document, tokens: Sequence[Token], tags: Sequence[str], stats: Counter) -> np.ndarray:
    """``(n_tokens, n_tags)`` booleans: the tags each token may take in training (see the module doc).

    Tokens under a ``silver_flag`` span allow every tag: the CRF needs a path through every position."""
    return allowed_tag_matrix(doc, tokens, tags, stats, silver_allows_all=True, unit="tokens")


# ---------------------------------------------------------------------------------------------- network

def _build_net(cfg: "BiLSTMTagger", n_words: int, n_chars: int, n_lex: int, tags: Sequence[str]) -> Any:
    torch = _torch()
    from torch import nn

    from imner.taggers.bilstm.torch_crf import CRF

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word_emb = nn.Embedding(n_words, cfg.word_dim, padding_idx=PAD, sparse=True)
            self.char_emb = nn.Embedding(n_chars, cfg.char_dim, padding_idx=PAD)
            self.char_cnn = nn.Conv1d(cfg.char_dim, cfg.char_filters, cfg.char_width, padding=cfg.char_width // 2)
            in_dim = cfg.word_dim + cfg.char_filters
            self.case_emb = nn.Embedding(len(CASES), cfg.case_dim, padding_idx=PAD) if cfg.case_dim else None
            in_dim += cfg.case_dim
            self.lex_emb = nn.Embedding(n_lex, cfg.lexicon_dim, padding_idx=PAD) if cfg.lexicon_features else None
            in_dim += cfg.lexicon_dim if cfg.lexicon_features else 0
            self.dropout = nn.Dropout(cfg.dropout)
            self.lstm = nn.LSTM(in_dim, cfg.hidden_size, batch_first=True, bidirectional=True)
            self.out = nn.Linear(2 * cfg.hidden_size, len(tags))
            self.crf = CRF(tags)

        def emissions(self, words: Any, chars: Any, case: Any, lex: Any, mask: Any) -> Any:
            b, n, c = chars.shape
            ch = self.dropout(self.char_emb(chars.view(b * n, c))).transpose(1, 2)  # (b*n, dim, c)
            conv = self.char_cnn(ch).masked_fill((chars.view(b * n, 1, c) == PAD), -1e4)
            pooled = conv.max(dim=2).values.view(b, n, -1)
            pooled = torch.where(mask.unsqueeze(2), pooled, torch.zeros_like(pooled))
            parts = [self.word_emb(words), pooled]
            if self.case_emb is not None:
                parts.append(self.case_emb(case))
            if self.lex_emb is not None:
                parts.append(self.lex_emb(lex))
            x = self.dropout(torch.cat(parts, dim=2))
            lengths = mask.sum(1).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            h, _ = self.lstm(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=n)
            return self.out(self.dropout(h))

    return Net()


@dataclass
class _Sentence:
    """One sentence, encoded: token ids and (training) allowed tags."""

    tokens: list[Token]
    words: np.ndarray          # (n,) int64
    chars: list[np.ndarray]    # n arrays of char ids
    case: np.ndarray           # (n,) int64
    lex: np.ndarray            # (n,) int64
    allowed: np.ndarray | None  # (n, T) bool


# ---------------------------------------------------------------------------------------------- tagger

_check_int = partial(check_int, "bilstm")
_check_float = partial(check_float, "bilstm")


class BiLSTMTagger(NeuralTagger):
    """BiLSTM-CNN-CRF with optional pretrained word embeddings and lexicon features.

    All constructor parameters are plain TOML values (``[model.params]`` of ``imner train``).
    ``embeddings``: an embeddings directory (:class:`imner.embeddings.WordEmbeddings`; relative paths from
    the working directory), read by :meth:`fit` only; None: word vectors learnt from scratch with
    ``word_dim``. ``freeze_embeddings``: keep the whole word embedding matrix fixed. ``min_word_count``:
    training words outside the pretrained vocabulary get their own vector when seen this often.
    ``labels``: classes to learn (default: every span label and ``annotates`` entry of the training data).
    ``hidden_size``: LSTM units per direction. ``patience``: epochs without a better dev F1 before stopping.
    ``threads``: ``torch.set_num_threads`` in fit/predict (None: torch's default)."""

    name = "bilstm.v1"
    _network_attr = "_net"
    _import_torch = staticmethod(_torch)

    def __init__(self, embeddings: str | None = None, freeze_embeddings: bool = False, word_dim: int = 100,
                 min_word_count: int = 2, word_dropout: float = 0.05, char_dim: int = 30, char_filters: int = 50,
                 char_width: int = 3, max_word_chars: int = 50, case_dim: int = 10, lexicon_features: bool = False,
                 lexicon_tagger: Mapping[str, Any] | Tagger | None = None, lexicon_dim: int = 10,
                 hidden_size: int = 100, dropout: float = 0.5, optimizer: str = "adam", lr: float = 0.001,
                 momentum: float = 0.9, clip: float = 5.0, epochs: int = 20, batch_size: int = 16,
                 patience: int = 3, predict_batch_size: int = 64, seed: int = 0, threads: int | None = 1,
                 labels: Sequence[str] = (), progress: bool = True) -> None:
        if embeddings is not None and not isinstance(embeddings, str):
            raise ConfigError(f"bilstm embeddings must be a directory path (string), got {embeddings!r}")
        if optimizer not in OPTIMIZERS:
            raise ConfigError(f"bilstm optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
        if lexicon_tagger is not None and not isinstance(lexicon_tagger, (Mapping, Tagger)):
            raise ConfigError("bilstm lexicon_tagger must be a config table for dictionary.v1 or a Tagger, "
                              f"got {type(lexicon_tagger).__name__}")
        if isinstance(labels, str):
            raise ConfigError(f"bilstm labels must be a list of label names, got {labels!r}")
        self.embeddings = embeddings
        self.freeze_embeddings = bool(freeze_embeddings)
        self.word_dim = _check_int("word_dim", word_dim, 1)
        self.min_word_count = _check_int("min_word_count", min_word_count, 1)
        self.word_dropout = _check_float("word_dropout", word_dropout, 0.0, 1.0)
        self.char_dim = _check_int("char_dim", char_dim, 1)
        self.char_filters = _check_int("char_filters", char_filters, 1)
        self.char_width = _check_int("char_width", char_width, 1)
        if self.char_width % 2 == 0:
            raise ConfigError(f"bilstm char_width must be odd (the CNN keeps one output per character), got {char_width}")
        self.max_word_chars = _check_int("max_word_chars", max_word_chars, 2)
        self.case_dim = _check_int("case_dim", case_dim, 0)
        self.lexicon_features = bool(lexicon_features)
        self.lexicon_tagger_config: dict[str, Any] | None = (
            dict(lexicon_tagger) if isinstance(lexicon_tagger, Mapping) else None)
        self._lexicon: Tagger | None = lexicon_tagger if isinstance(lexicon_tagger, Tagger) else None
        self.lexicon_dim = _check_int("lexicon_dim", lexicon_dim, 1)
        self.hidden_size = _check_int("hidden_size", hidden_size, 1)
        self.dropout = _check_float("dropout", dropout, 0.0, 0.95)
        self.optimizer, self.lr = optimizer, _check_float("lr", lr, 0.0)
        self.momentum = _check_float("momentum", momentum, 0.0, 1.0)
        self.clip = _check_float("clip", clip, 0.0)
        self.epochs = _check_int("epochs", epochs, 1)
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.patience = _check_int("patience", patience, 1)
        self.predict_batch_size = _check_int("predict_batch_size", predict_batch_size, 1)
        self.seed = _check_int("seed", seed, 0)
        self.threads = None if threads is None else _check_int("threads", threads, 1)
        self.progress = bool(progress)
        self.labels = tuple(labels)
        self._net: Any = None
        self._words: dict[str, int] = {}
        self._chars: dict[str, int] = {}
        self._lex_tags: dict[str, int] = {}
        #: counts from the last :meth:`fit` (documents, sentences, tokens, realigned spans, ...)
        self.training_stats: dict[str, Any] = {}
        #: one entry per epoch of the last :meth:`fit`: loss, dev scores, seconds, tokens/s
        self.history: list[dict[str, Any]] = []
        #: weights :meth:`fit` starts from (:func:`imner.taggers.bilstm.warmstart.warm_started`); None: scratch
        self.init_weights: Any = None

    # ------------------------------------------------------------------ config and persistence

    def config(self) -> dict[str, Any]:
        return {**init_config(self, exclude=("labels", "lexicon_tagger")), "lexicon_tagger": self.lexicon_tagger_config}

    def save(self, directory: str | Path) -> Path:
        if not self.trained:
            raise InputError("this BiLSTM tagger is not trained; call fit() before save()")
        torch = _torch()
        directory = super().save(directory)
        torch.save(self._net.state_dict(), directory / MODEL_FILE)
        vocab = {"words": list(self._words), "chars": list(self._chars), "lexicon_tags": list(self._lex_tags)}
        (directory / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False) + "\n", encoding="utf-8")
        write_history(directory / HISTORY_FILE, self.training_stats, self.history, default=str)
        if self.lexicon_features:
            self._lexicon_tagger().save(directory / LEXICON_DIR)
        return directory

    @classmethod
    def load(cls, directory: str | Path, **overrides: Any) -> "BiLSTMTagger":
        torch = _torch()
        directory = Path(directory)
        path, cfg = read_saved_config(directory)
        labels = cfg.pop("labels", ())
        cfg.pop("lexicon_tagger", None)
        lexicon = load_tagger(directory / LEXICON_DIR) if cfg.get("lexicon_features") else None
        cfg.update(overrides)
        tagger = cls(**checked_params(cls, cfg, str(path)), labels=labels, lexicon_tagger=lexicon)
        for name in (MODEL_FILE, VOCAB_FILE):
            if not (directory / name).is_file():
                raise ModelNotFoundError(f"{directory / name} is missing: a bilstm.v1 model directory holds "
                                         f"config.json, {MODEL_FILE} and {VOCAB_FILE}")
        vocab = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
        tagger._words = {w: i for i, w in enumerate(vocab["words"])}
        tagger._chars = {c: i for i, c in enumerate(vocab["chars"])}
        tagger._lex_tags = {t: i for i, t in enumerate(vocab["lexicon_tags"])}
        net = _build_net(tagger, len(tagger._words), len(tagger._chars), len(tagger._lex_tags), tagger.tags)
        net.load_state_dict(torch.load(directory / MODEL_FILE, map_location="cpu", weights_only=True))
        net.eval()
        tagger._net = net
        history = read_history(directory / HISTORY_FILE)
        if history is not None:
            tagger.training_stats, tagger.history = history
        return tagger

    def _lexicon_tagger(self) -> Tagger:
        if self._lexicon is None:
            self._lexicon = create("dictionary.v1", **(self.lexicon_tagger_config or {}))
        return self._lexicon

    # ------------------------------------------------------------------ encoding

    def _sentences(self, docs: Sequence[Document], stats: Counter | None = None) -> list[list[_Sentence]]:
        """Per document, its encoded sentences (with allowed tags when ``stats`` is given: training)."""
        lex_spans = self._lexicon_tagger().predict(docs) if self.lexicon_features else None
        tags = self.tags
        out: list[list[_Sentence]] = []
        for k, doc in enumerate(docs):
            sents = [toks for _, toks in sentences_with_tokens(doc.text) if toks]
            tokens = [t for toks in sents for t in toks]
            allowed = allowed_tags(doc, tokens, tags, stats) if stats is not None else None
            words, chars, case, lex = encode_tokens(tokens, self._words, self._chars, self.max_word_chars,
                                                    lex_spans[k] if lex_spans is not None else None, self._lex_tags)
            doc_sents, pos = [], 0
            for toks in sents:
                n = len(toks)
                a = None
                if allowed is not None:
                    a = allowed[pos:pos + n].copy()
                    first = np.flatnonzero(a[0])
                    if len(first) == 1 and tags[first[0]].startswith("I-"):
                        stats["spans_crossing_sentences"] += 1  # type: ignore[index]
                        a[0] = False
                        a[0, tags.index("B-" + tags[first[0]][2:])] = True
                doc_sents.append(_Sentence(toks, words[pos:pos + n], chars[pos:pos + n], case[pos:pos + n],
                                           lex[pos:pos + n], a))
                pos += n
            out.append(doc_sents)
        return out

    def _batch(self, sents: Sequence[_Sentence], rng: np.random.Generator | None = None) -> dict[str, Any]:
        torch = _torch()
        words = [s.words for s in sents]
        if rng is not None and self.word_dropout > 0:
            words = [np.where(rng.random(len(w)) < self.word_dropout, UNK, w) for w in words]
        arrays = pad_batch(words, [s.chars for s in sents], [s.case for s in sents], [s.lex for s in sents])
        b, n = arrays["words"].shape
        allowed = np.ones((b, n, len(self.labels) * 2 + 1), bool)
        for r, s in enumerate(sents):
            if s.allowed is not None:
                allowed[r, :len(s.tokens)] = s.allowed
        return {**{k: torch.from_numpy(v) for k, v in arrays.items()}, "allowed": torch.from_numpy(allowed)}

    # ------------------------------------------------------------------ prediction

    def predict(self, docs: Sequence[Document]) -> list[list[Span]]:
        if not self.trained:
            raise InputError("this BiLSTM tagger is not trained; call fit() or load a saved model first")
        torch = _torch()
        self._set_threads()
        docs = list(docs)
        encoded = self._sentences(docs)
        flat = [(d, s) for d, sents in enumerate(encoded) for s in sents]
        order = sorted(range(len(flat)), key=lambda i: len(flat[i][1].tokens))
        out: list[list[Span]] = [[] for _ in docs]
        tags = self.tags
        net = self._net
        was_training = net.training
        net.eval()
        with torch.no_grad():
            for b in range(0, len(order), self.predict_batch_size):
                chunk = [flat[i] for i in order[b:b + self.predict_batch_size]]
                batch = self._batch([s for _, s in chunk])
                em = net.emissions(batch["words"], batch["chars"], batch["case"], batch["lex"], batch["mask"])
                paths = net.crf.decode(em, batch["mask"])
                marg = None
                for r, ((d, sent), path) in enumerate(zip(chunk, paths)):
                    if all(p == 0 for p in path):
                        continue
                    if marg is None:
                        marg = net.crf.marginals(em, batch["mask"]).numpy()
                    scores = [float(marg[r, i, p]) for i, p in enumerate(path)]
                    out[d].extend(tags_to_spans(sent.tokens, [tags[p] for p in path], scores))
        net.train(was_training)
        return [sorted(spans, key=lambda s: (s.start, s.end, s.label)) for spans in out]

    # ------------------------------------------------------------------ training

    def _build_vocab(self, docs: Sequence[Document]) -> tuple[np.ndarray | None, dict[str, Any]]:
        """Word, character and lexicon-tag vocabularies; the initial word matrix (None: random)."""
        from imner.embeddings import WordEmbeddings, normalize_word
        from imner.text import tokenize

        counts: Counter = Counter()
        chars: Counter = Counter()
        for d in docs:
            for t in tokenize(d.text):
                counts[normalize_word(t.text)] += 1
                chars.update(t.text)
        words = ["<pad>", "<unk>"]
        info: dict[str, Any] = {}
        matrix = None
        if self.embeddings is not None:
            emb = WordEmbeddings.load(self.embeddings)
            self.word_dim = emb.dim
            words += [w for w in emb.words if w not in ("<pad>", "<unk>")]
            known = set(words)
            extra = sorted(w for w, n in counts.items() if n >= self.min_word_count and w not in known)
            words += extra
            rng = np.random.default_rng(self.seed)
            vecs = emb.vectors.astype(np.float32)
            std = float(vecs.std())
            matrix = rng.normal(0.0, std, (len(words), emb.dim)).astype(np.float32)
            matrix[PAD] = 0.0
            for i, w in enumerate(words[2:len(words) - len(extra)], 2):
                matrix[i] = vecs[emb.index[w]]
            total = sum(counts.values())
            info = {"embeddings": self.embeddings, "pretrained_words": len(words) - 2 - len(extra),
                    "training_words_added": len(extra),
                    "training_token_coverage": round(sum(n for w, n in counts.items() if w in emb) / max(total, 1), 4),
                    "embeddings_manifest": {k: emb.manifest.get(k) for k in
                                            ("algorithm", "dim", "epochs", "vocabulary", "corpus_tokens", "date",
                                             "git_commit", "excluded")}}
        else:
            words += sorted(w for w, n in counts.items() if n >= self.min_word_count)
        self._words = {w: i for i, w in enumerate(words)}
        self._chars = {c: i for i, c in enumerate(["<pad>", "<unk>"] + sorted(chars))}
        lex_tags = ["<pad>", "<unk>", OUTSIDE]
        if self.lexicon_features:
            lex_labels = getattr(self._lexicon_tagger(), "labels", ()) or self.labels
            lex_tags += [t for t in label_set(lex_labels, "BIO") if t != OUTSIDE]
        self._lex_tags = {t: i for i, t in enumerate(lex_tags)}
        info.update(vocabulary=len(words), characters=len(self._chars))
        return matrix, info

    def _vocab_from_init(self, docs: Sequence[Document]) -> dict[str, Any]:
        """Fine-tuning: the init model's vocabularies, plus the training words seen ``min_word_count`` times and
        the training characters it does not have."""
        from imner.embeddings import normalize_word
        from imner.text import tokenize

        init = self.init_weights
        counts: Counter = Counter()
        chars: set[str] = set()
        for d in docs:
            for t in tokenize(d.text):
                counts[normalize_word(t.text)] += 1
                chars.update(t.text)
        known = set(init.words)
        extra = sorted(w for w, n in counts.items() if n >= self.min_word_count and w not in known)
        known_chars = set(init.chars)
        new_chars = sorted(c for c in chars if c not in known_chars)
        self._words = {w: i for i, w in enumerate(list(init.words) + extra)}
        self._chars = {c: i for i, c in enumerate(list(init.chars) + new_chars)}
        self._lex_tags = {t: i for i, t in enumerate(init.lex_tags)}
        total = sum(counts.values())
        return {"init": str(init.source), "init_words": len(init.words), "training_words_added": len(extra),
                "training_characters_added": len(new_chars),
                "training_token_coverage": round(sum(n for w, n in counts.items() if w in known) / max(total, 1), 4),
                "vocabulary": len(self._words), "characters": len(self._chars)}

    def _load_init(self, net: Any) -> None:
        """The init model's weights into ``net``; embedding rows for words/characters it lacks start random."""
        torch = _torch()
        rng = np.random.default_rng(self.seed)
        state = {}
        for key, value in self.init_weights.state.items():
            value = np.asarray(value, np.float32)
            target = net.state_dict()[key]
            if key in ("word_emb.weight", "char_emb.weight") and value.shape[0] < target.shape[0]:
                rows = rng.normal(0.0, float(value.std()), (target.shape[0] - value.shape[0], value.shape[1]))
                value = np.concatenate([value, rows.astype(np.float32)])
            if tuple(value.shape) != tuple(target.shape):
                raise ModelError(f"{self.init_weights.source}: weights {key} of shape {value.shape} do not fit the "
                                 f"network's {tuple(target.shape)}")
            state[key] = torch.from_numpy(value)
        net.load_state_dict(state)

    def fit(self, train: Iterable[Document], dev: Iterable[Document] | None = None) -> "BiLSTMTagger":
        torch = _torch()
        from tqdm.auto import tqdm

        if self.init_weights is not None:
            self.labels = tuple(self.init_weights.labels)
        train, dev = self._start_fit(train, dev)
        if self.init_weights is not None:
            vocab_info = self._vocab_from_init(train)
            net = _build_net(self, len(self._words), len(self._chars), len(self._lex_tags), self.tags)
            self._load_init(net)
        else:
            matrix, vocab_info = self._build_vocab(train)
            net = _build_net(self, len(self._words), len(self._chars), len(self._lex_tags), self.tags)
            if matrix is not None:
                net.word_emb.weight.data.copy_(torch.from_numpy(matrix))
        if self.freeze_embeddings:
            net.word_emb.weight.requires_grad_(False)
        self._net = net
        stats: Counter = Counter()
        t0 = time.perf_counter()
        sents = [s for doc in self._sentences(train, stats) for s in doc]
        prep_s = time.perf_counter() - t0
        n_tokens = sum(len(s.tokens) for s in sents)
        if stats["spans_widened_to_tokens"] or stats["spans_not_encoded_overlap"] or stats["spans_crossing_sentences"]:
            log.warning("BiLSTM: of %d training spans, %d widened to token edges, %d overlapping spans not encoded, "
                        "%d crossing a sentence boundary", stats["spans"], stats["spans_widened_to_tokens"],
                        stats["spans_not_encoded_overlap"], stats["spans_crossing_sentences"])
        # the word embedding matrix (tens of thousands of rows) gets sparse gradients: only the rows of a
        # batch's words are updated (SparseAdam / SGD), which keeps a step cheap; clipping covers the rest
        params = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith("word_emb.")]
        emb_params = [net.word_emb.weight] if net.word_emb.weight.requires_grad else []
        if self.optimizer == "adam":
            opts = [torch.optim.Adam(params, lr=self.lr)]
            if emb_params:
                opts.append(torch.optim.SparseAdam(emb_params, lr=self.lr))
        else:
            opts = [torch.optim.SGD(params + emb_params, lr=self.lr, momentum=self.momentum)]
        rng = np.random.default_rng(self.seed)
        best_f1, best_state, since_best = -1.0, None, 0
        self.history = []
        log.info("training %s on %d sentences (%d tokens, %d documents), labels %s", self.name, len(sents),
                 n_tokens, len(train), ", ".join(self.labels))
        for epoch in range(1, self.epochs + 1):
            net.train()
            t1 = time.perf_counter()
            order = rng.permutation(len(sents))
            losses = []
            bar = tqdm(range(0, len(order), self.batch_size), desc=f"epoch {epoch}/{self.epochs}",
                       disable=not self.progress, unit="batch", leave=False)
            for b in bar:
                batch = self._batch([sents[i] for i in order[b:b + self.batch_size]], rng)
                em = net.emissions(batch["words"], batch["chars"], batch["case"], batch["lex"], batch["mask"])
                loss = net.crf.nll(em, batch["mask"], batch["allowed"]).mean()
                for opt in opts:
                    opt.zero_grad(set_to_none=True)
                loss.backward()
                if self.clip > 0:
                    torch.nn.utils.clip_grad_norm_(params, self.clip)
                for opt in opts:
                    opt.step()
                losses.append(float(loss.detach()))
                if len(losses) % 20 == 0:
                    bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
            bar.close()
            train_s = time.perf_counter() - t1
            entry: dict[str, Any] = {"epoch": epoch, "loss": float(np.mean(losses)), "train_seconds": round(train_s, 2),
                                     "train_tokens_per_second": round(n_tokens / train_s)}
            if dev:
                t2 = time.perf_counter()
                scores = dev_scores(dev, self.predict(dev))
                entry.update(dev=scores, dev_seconds=round(time.perf_counter() - t2, 2))
                if scores["f1"] > best_f1:
                    best_f1, since_best = scores["f1"], 0
                    best_state = copy.deepcopy(net.state_dict())
                else:
                    since_best += 1
                log.info("epoch %d: loss %.4f, dev strict F1 %.4f (%.0f s)", epoch, entry["loss"], scores["f1"],
                         train_s)
            else:
                log.info("epoch %d: loss %.4f (%.0f s)", epoch, entry["loss"], train_s)
            self.history.append(entry)
            if dev and since_best >= self.patience:
                log.info("no dev improvement for %d epochs: stopping", self.patience)
                break
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        scored = [e for e in self.history if "dev" in e]
        best = max(scored, key=lambda e: e["dev"]["f1"])["epoch"] if scored else None
        for e in self.history:
            e["best"] = e["epoch"] == best if best is not None else e["epoch"] == len(self.history)
        self.training_stats = {"documents": len(train), "sentences": len(sents), "tokens": n_tokens, **dict(stats),
                               **vocab_info, "prepare_seconds": round(prep_s, 2), "epochs_run": len(self.history),
                               "best_epoch": best, "labels": list(self.labels), "history": self.history}
        return self


__all__ = ["BiLSTMTagger", "allowed_tags", "casing", "dev_scores"]
